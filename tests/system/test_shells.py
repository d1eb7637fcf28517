"""Shell homepages followed like a browser, and tabbed yearless homepages, against the simulated
portal over real loopback HTTP: the real fetcher and `run_check`, then the real daemon."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.check import CheckOutcome, Fetcher, Previous, run_check
from monitor.models import ExtractKind, FixedClock, Page, PageKind, Result
from monitor.sim import COLUMNS, SimPage, SimPortal
from tests.support.daemon_harness import RunningDaemon, db_rows, sim_config

NOW = 1_790_000_000.0  # 2026-09-21 22:13 in Beijing
TODAY = date(2026, 9, 21)
HOME_COLUMNS = [spec for spec in COLUMNS if spec.on_homepage]


@pytest.fixture()
def sim() -> Iterator[SimPortal]:
    with SimPortal(clock=FixedClock(t=NOW)) as portal:
        yield portal


def check(
    sim: SimPortal, path: str, kind: PageKind = PageKind.HOMEPAGE, previous: Previous | None = None
) -> CheckOutcome:
    page = Page("sim", "home", sim.url(path), kind)

    async def run() -> CheckOutcome:
        async with Fetcher() as fetcher:
            return await run_check(fetcher, page, previous or Previous(), TODAY)

    return asyncio.run(run())


def newest_on_homepage(sim: SimPortal) -> date:
    return max(sim.site.items(spec.slug)[0].day for spec in HOME_COLUMNS)


def test_a_tabbed_homepage_with_yearless_dates_is_read_pane_by_pane(sim: SimPortal) -> None:
    outcome = check(sim, "/tabs/")
    x = outcome.extraction
    assert outcome.result is Result.UP and x is not None and x.kind is ExtractKind.HOMEPAGE
    assert [(block.heading, block.items) for block in x.blocks] == [(spec.name, 6) for spec in HOME_COLUMNS]
    shown = [item.day for spec in HOME_COLUMNS for item in sim.site.items(spec.slug)[:6]]
    assert [item.date for item in x.items] == shown  # the years of MM-DD, hidden panes included
    assert x.newest_date == newest_on_homepage(sim)


def test_a_redirect_shell_is_followed_and_counted_as_a_redirect(sim: SimPortal) -> None:
    outcome = check(sim, "/shell/")
    x = outcome.extraction
    assert x is not None and (x.kind, len(x.items)) == (ExtractKind.HOMEPAGE, 6 * len(HOME_COLUMNS))
    assert outcome.probe.redirects == 1 and outcome.probe.final_url == sim.url("/tabs/")
    assert x.newest_date == newest_on_homepage(sim)
    assert outcome.probe.etag is None  # the next check fetches the shell again, never a 304 of it
    assert outcome.probe.url == sim.url("/shell/")


def test_a_meta_refresh_to_a_script_shell_takes_two_hops(sim: SimPortal) -> None:
    outcome = check(sim, "/refresh/")
    assert outcome.probe.redirects == 2 and outcome.extraction is not None
    assert outcome.extraction.kind is ExtractKind.HOMEPAGE


def test_a_framesets_main_frame_is_the_pages_content(sim: SimPortal) -> None:
    outcome = check(sim, "/frames/")
    x = outcome.extraction
    assert x is not None and x.kind is ExtractKind.HOMEPAGE and outcome.probe.redirects == 1
    assert outcome.probe.final_url == sim.url("/")
    assert x.newest_date == newest_on_homepage(sim)


def test_a_shell_leading_off_the_site_is_not_followed(sim: SimPortal) -> None:
    outcome = check(sim, "/away/")
    x = outcome.extraction
    assert outcome.result is Result.UP and outcome.probe.redirects == 0
    assert x is not None and (x.kind, x.next_url) == (ExtractKind.SHELL, "http://elsewhere.invalid/portal/")
    assert not x.kind.readable


def test_the_expected_text_is_looked_for_where_the_shell_leads(sim: SimPortal) -> None:
    page = Page("sim", "home", sim.url("/shell/"), PageKind.HOMEPAGE, expect=HOME_COLUMNS[0].name)

    async def run() -> CheckOutcome:
        async with Fetcher() as fetcher:
            return await run_check(fetcher, page, Previous(), TODAY)

    outcome = asyncio.run(run())
    assert outcome.result is Result.UP and outcome.extraction is not None
    assert outcome.extraction.kind is ExtractKind.HOMEPAGE


def page_sample(daemon: RunningDaemon, name: str) -> float | None:
    """The value of a sample of `name` for the shell-home page, whatever its other labels."""
    found = [
        value
        for (sample, labels), value in daemon.samples().items()
        if sample == name and ("page", "shell-home") in labels
    ]
    return found[0] if found else None


def test_the_daemon_judges_a_shell_homepage_by_the_page_it_leads_to(tmp_path: Path) -> None:
    # The sim on the real clock, as the daemon is: the tabbed homepage's MM-DD dates are this year's.
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=[SimPage("shell-home", sim.url("/shell/"), "homepage")])
        labels = {"site": "sim", "page": "shell-home", "kind": "homepage"}
        with RunningDaemon(config) as daemon:
            daemon.wait_for(lambda: daemon.value("portal_probe_redirects", **labels) == 1, what="a followed shell")
            newest = daemon.wait_for(lambda: page_sample(daemon, "portal_column_newest_item_timestamp_seconds"))
            unreadable = daemon.value("portal_page_unreadable", **labels)
            newest_day = max(sim.site.items(spec.slug)[0].day for spec in HOME_COLUMNS)
            code, _ = daemon.terminate()  # a clean stop writes the page's state before exiting
        assert code == 0, daemon.log()
        assert unreadable == 0
        assert datetime.fromtimestamp(newest, ZoneInfo("Asia/Shanghai")).date() == newest_day
        kinds = db_rows(tmp_path / "monitor.db", "SELECT extract_kind FROM page_state")
        assert kinds == [("homepage",)]


def test_an_unchanged_page_behind_a_shell_is_not_read_again(sim: SimPortal) -> None:
    first = check(sim, "/shell/")
    previous = Previous(first.probe.etag, first.probe.last_modified, first.content_hash)
    again = check(sim, "/shell/", previous=previous)
    assert again.result is Result.UP and again.unchanged and again.extraction is None
    assert again.probe.redirects == 1 and again.content_hash == first.content_hash
