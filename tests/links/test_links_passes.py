"""monitor.links passes recorded in SQLite: one result per URL per pass, occurrences of the links
worth fixing, suspects escalated over consecutive passes, broken-since carried, fixes and removals
noticed, retention. Real loopback servers, real SQLite files, a fixed clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from monitor.check import HostBudget
from monitor.config import Config, parse_config
from monitor.links import HOMEPAGE, SWEEP, LinkChecker, PassOutcome, link_settings, pass_plan, run_pass
from monitor.models import FixedClock
from monitor.store import LinkPrune, Store
from tests.links.links_site import LinkSite, Reply, html, serving
from tests.support.sleeps import FakeSleep

DAY = 86400.0


def portal() -> LinkSite:
    return LinkSite(
        {
            "/": Reply(
                body=html(
                    '<a href="/col/news.html">新闻</a><a href="/gone.html">失效链接</a>'
                    '<a href="/flaky.html">时好时坏</a><img src="/img/none.png" alt="图">'
                    '<a href="/moved.html">将被删除的链接</a>',
                    "某某局",
                )
            ),
            "/col/news.html": Reply(body=html('<a href="/gone.html">旧文</a><a href="/">首页</a>', "新闻")),
            "/flaky.html": Reply(503, html("busy")),
            "/moved.html": Reply(404, html("404")),
        }
    )


def config_for(base: str, tmp_path: Path, **links: Any) -> Config:
    return parse_config(
        {
            "storage": {"path": str(tmp_path / "monitor.db")},
            "defaults": {"timeout": "3s", "links": {"spacing": 0, "respect_robots": False, **links}},
            "sites": [
                {
                    "name": "bureau",
                    "title": "某某局",
                    "base_url": base + "/",
                    "pages": [{"name": "home", "url": "/", "kind": "homepage"}],
                }
            ],
        }
    )


class Passes:
    """Runs recorded passes of the one site on a fixed clock, a day apart."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.clock = FixedClock()
        self.store = Store.open(config.db_path)
        self.store.sync_pages([("bureau", "某某局", config.sites[0].base_url)], config.pages(), self.clock.now())
        self.store.writer.start()

    def run(self, kind: str) -> PassOutcome:
        site = self.config.sites[0]
        plan = pass_plan(self.config, site, kind)
        settings = replace(link_settings(self.config, site), retries=0)

        async def main() -> PassOutcome:
            budget = HostBudget(concurrency=2, spacing_s=0.0, clock=self.clock, sleep=FakeSleep(self.clock))
            async with LinkChecker(settings, budget=budget, clock=self.clock) as checker:
                return await run_pass(plan, checker, self.store, self.store.submit)

        outcome = asyncio.run(main())
        assert self.store.writer.flush()
        self.clock.advance(DAY)
        return outcome

    def state(self) -> dict[str, str]:
        base = self.config.sites[0].base_url.rstrip("/")
        return {row.url.replace(base, ""): row.link_class for row in self.store.links().states(include_removed=True)}


def test_homepage_pass_records_one_row_per_url_and_the_fix_list_evidence(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        outcome = passes.run(HOMEPAGE)
    assert outcome.counts()["broken"] == 3  # /gone.html, /img/none.png, /moved.html
    assert passes.state() == {
        "/col/news.html": "ok",
        "/gone.html": "broken",
        "/flaky.html": "suspect",
        "/img/none.png": "broken",
        "/moved.html": "broken",
        "/": "ok",
    }
    queries = passes.store.links()
    (recorded,) = queries.passes("bureau", HOMEPAGE)
    assert (recorded.completed, recorded.links, recorded.counts["broken"], recorded.counts["suspect"]) == (
        True,
        6,
        3,
        1,
    )
    (where,) = queries.occurrences(recorded.id, base + "/gone.html")
    assert (where.parent_url, where.parent_title, where.anchor_text, where.element, where.depth) == (
        base + "/",
        "某某局",
        "失效链接",
        "a",
        1,
    )
    assert queries.occurrences(recorded.id, base + "/col/news.html") == []  # ok links: counted only


def test_sweep_keeps_every_parent_of_a_broken_link_once(tmp_path: Path) -> None:
    with serving(portal()) as base:
        passes = Passes(config_for(base, tmp_path))
        passes.run(SWEEP)
    queries = passes.store.links()
    (sweep,) = queries.passes("bureau", SWEEP)
    parents = {(o.parent_url, o.anchor_text) for o in queries.occurrences(sweep.id, base + "/gone.html")}
    assert parents == {(base + "/", "失效链接"), (base + "/col/news.html", "旧文")}
    rows = passes.store.query("SELECT count(*) FROM link_results WHERE url = ?", (base + "/gone.html",))
    assert rows[0][0] == 1
    assert queries.totals(sweep.id)[("broken", "page", "internal")] == 2


def test_suspect_becomes_broken_after_n_passes_and_broken_since_is_carried(tmp_path: Path) -> None:
    with serving(portal()) as base:
        passes = Passes(config_for(base, tmp_path, suspect_passes=3))
        first = passes.run(HOMEPAGE)
        passes.run(HOMEPAGE)
        assert passes.state()["/flaky.html"] == "suspect"
        passes.run(HOMEPAGE)
    assert passes.state()["/flaky.html"] == "broken"
    rows = {r.url.removeprefix(base): r for r in passes.store.links().states()}
    assert rows["/gone.html"].broken_since == first.recorded.started
    assert rows["/flaky.html"].broken_since == first.recorded.started + 2 * DAY
    assert rows["/gone.html"].first_seen == first.recorded.started
    assert "3 passes in a row" in rows["/flaky.html"].reason


def test_a_repaired_link_and_a_removed_one_count_as_fixed(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        first = passes.run(HOMEPAGE)
        site.routes["/gone.html"] = Reply(body=html("恢复了", "恢复"))
        home = site.routes["/"]
        site.routes["/"] = replace(home, body=home.body.replace(b'<a href="/moved.html">', b"<a>"))
        second = passes.run(HOMEPAGE)
    state = passes.state()
    assert state["/gone.html"] == "ok" and state["/moved.html"] == "removed"
    assert passes.store.links().fixed("bureau", first.recorded.started, second.recorded.ended + 1) == 2
    assert [r.url for r in passes.store.links().states(classes=["broken"])] == [base + "/img/none.png"]


def test_a_pass_cut_short_stays_incomplete(tmp_path: Path) -> None:
    with serving(portal()) as base:
        config = config_for(base, tmp_path)
        passes = Passes(config)
        plan = pass_plan(config, config.sites[0], SWEEP)

        async def cancelled() -> None:
            async with LinkChecker(link_settings(config, config.sites[0]), clock=passes.clock) as checker:
                task = asyncio.ensure_future(run_pass(plan, checker, passes.store, passes.store.submit))
                await asyncio.sleep(0)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        asyncio.run(cancelled())
        assert passes.store.writer.flush()
    last = passes.store.links().last_pass("bureau", SWEEP)
    assert last is not None and not last.completed and last.ended is None
    assert passes.store.links().last_pass("bureau", SWEEP, completed=True) is None


def test_retention_drops_old_passes_but_keeps_the_latest_complete_one(tmp_path: Path) -> None:
    with serving(portal()) as base:
        passes = Passes(config_for(base, tmp_path))
        for _ in range(3):
            passes.run(HOMEPAGE)
        passes.run(SWEEP)
    now = passes.clock.now()
    steps = passes.store.run_task(LinkPrune(now, 1.5 * DAY))
    kinds = [(p.kind, p.started) for p in passes.store.links().passes()]
    assert kinds == [(HOMEPAGE, now - 2 * DAY), (SWEEP, now - DAY)]
    assert len(steps) == 3  # two passes deleted, one step each, then done
    orphans = passes.store.query("SELECT count(*) FROM link_results WHERE pass_id NOT IN (SELECT id FROM link_passes)")
    assert orphans[0][0] == 0


def test_an_unreachable_homepage_is_no_broken_link_and_the_pass_is_not_completed(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path, suspect_passes=1))
        site.routes["/"] = Reply(503, html("维护中"))
        outcome = passes.run(HOMEPAGE)
    assert outcome.failure is not None and "homepage could not be read (HTTP 503" in outcome.failure
    assert outcome.recorded.results == () and outcome.counts()["broken"] == outcome.counts()["suspect"] == 0
    assert passes.state() == {}  # the homepage is not a broken (nor a suspect) link of itself
    (recorded,) = passes.store.links().passes("bureau", HOMEPAGE)
    assert (recorded.completed, recorded.links, recorded.counts["broken"]) == (False, 0, 0)


def test_a_homepage_refusing_connections_leaves_the_links_of_the_last_pass_alone(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        passes.run(HOMEPAGE)
        before = passes.state()
    # The server is gone: connection refused, and every link is unseen, not removed nor fixed.
    outcome = passes.run(HOMEPAGE)
    assert outcome.failure is not None and "cannot connect" in outcome.failure
    assert passes.state() == before
    assert passes.store.links().fixed("bureau", 0.0, passes.clock.now()) == 0


def test_a_sweep_whose_homepage_fails_is_not_completed_and_counts_no_link_of_it(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path, suspect_passes=1))
        site.routes["/"] = Reply(500, html("error"))
        outcome = passes.run(SWEEP)
    assert outcome.failure is not None
    (recorded,) = passes.store.links().passes("bureau", SWEEP)
    assert not recorded.completed and recorded.counts["broken"] == recorded.counts["suspect"] == 0


def test_a_parent_page_failing_mid_sweep_does_not_remove_nor_fix_its_children(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        passes.run(SWEEP)
        assert passes.state()["/gone.html"] == "broken"
        # /col/news.html (the only other parent of /gone.html) now fails, and the homepage
        # no longer links /gone.html: the sweep cannot tell whether the link is still there.
        site.routes["/col/news.html"] = Reply(503, html("busy"))
        home = site.routes["/"]
        site.routes["/"] = Reply(body=home.body.replace(b'<a href="/gone.html">', b'<a href="/col/news.html">'))
        outcome = passes.run(SWEEP)
    assert outcome.failure is None and outcome.sweep.partial
    state = passes.state()
    assert state["/gone.html"] == "broken" and state["/col/news.html"] == "suspect"
    assert passes.store.links().fixed("bureau", 0.0, passes.clock.now()) == 0
