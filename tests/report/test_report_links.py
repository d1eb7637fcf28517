"""The report's link section (链接可用性) and status's homepage line, from passes stored in a real
SQLite file: broken links per day (average, maximum), the last sweep by class and type, links
fixed in the period, in every format, the zh sentence; nothing for a site never checked."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.report import build_report, render, render_status, site_statuses, status_json
from monitor.report._build import parse_period
from monitor.store import LinkPassRecorded, LinkResultRow, Store, WriterSettings
from tests.report.test_report import HOME, SITES, TZ, D

DAY = 86400.0
BASE = "http://bureau.example"


def result(path: str, link_class: str, at: float, rtype: str = "page") -> LinkResultRow:
    return LinkResultRow(BASE + path, "internal", rtype, link_class, link_class, 404, None, "HTTP 404", at, 0.1, 0, at,
                         at if link_class == "broken" else None, 1)  # fmt: skip


def homepage_pass(at: float, broken: list[str], ok: tuple[str, ...] = ("/a", "/b")) -> LinkPassRecorded:
    found = [result(p, "broken", at) for p in broken] + [result(p, "ok", at) for p in ok]
    rows = tuple(sorted(found, key=lambda r: r.url))
    return LinkPassRecorded("bureau", "homepage", at, at + 30, True, False, 1, rows)


SWEPT = (
    result("/x", "broken", D + DAY),
    result("/f.pdf", "broken", D + DAY, "attachment"),
    result("/i.png", "broken", D + DAY, "image"),
    result("/s", "suspect", D + DAY),
    result("/ok", "ok", D + DAY),
)
"""A sweep that started on 01-03 and is recorded after the 01-04 homepage pass: its older view of
/x (broken) must not replace the newer one (ok)."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "monitor.db", writer_settings=WriterSettings(linger_s=0.0))
    s.sync_pages(SITES, [HOME], 0.0)
    s.writer.start()
    s.submit(
        [
            homepage_pass(D + 7200, ["/x", "/y"]),  # 2018-01-02: 2 broken
            homepage_pass(D + DAY + 7200, ["/x", "/y", "/z"]),  # 01-03: 3
            homepage_pass(D + DAY + 9000, ["/x"]),  # 01-03, later: the day's last pass says 1
            homepage_pass(D + 2 * DAY + 7200, [], ("/a", "/b", "/x")),  # 01-04: 0 (/x fixed; /y, /z gone)
            LinkPassRecorded("bureau", "sweep", D + DAY, D + DAY + 600, True, False, 40, SWEPT),
        ]
    )
    assert s.writer.drain(30)
    yield s
    s.close()


def report(store: Store, first: str = "2018-01-02", last: str = "2018-01-04") -> object:
    period = parse_period(tz_name=TZ, now=D + 10 * DAY, date_from=first, date_to=last)
    return build_report(store, period, now=D + 10 * DAY, configured=[HOME])


def test_homepage_per_day_average_and_maximum_last_sweep_and_fixed(store: Store) -> None:
    (site,) = report(store).sites  # type: ignore[attr-defined]
    links = site.links
    assert links.days_with_pass == 3 and float(links.homepage_broken_avg) == 1.0  # (2 + 1 + 0) / 3
    assert (links.homepage_broken_max, str(links.max_day)) == (2, "2018-01-02")
    assert links.sweep.by_class == {"broken": 3, "suspect": 1, "ok": 1}
    assert links.sweep.broken_by_type == {"page": 1, "attachment": 1, "image": 1}
    assert links.fixed == 3  # /x repaired, /y and /z taken off the homepage


def test_every_format_has_the_link_section(store: Store) -> None:
    built = report(store)
    assert "Link availability (链接可用性)" in render(built, "table")  # type: ignore[arg-type]
    assert "| homepage broken links per day (average) | 1.0 |" in render(built, "markdown")  # type: ignore[arg-type]
    data = json.loads(render(built, "json"))  # type: ignore[arg-type]
    assert data["sites"][0]["links"]["homepage_broken_per_day_max"] == 2
    assert data["sites"][0]["links"]["last_sweep"]["broken_by_type"]["attachment"] == 1
    rows = list(csv.DictReader(io.StringIO(render(built, "csv", bom=False))))  # type: ignore[arg-type]
    assert (rows[0]["links_homepage_broken_avg"], rows[0]["links_sweep_broken"], rows[0]["links_fixed"]) == (
        "1.0",
        "3",
        "3",
    )
    zh = render(built, "zh")  # type: ignore[arg-type]
    assert "首页不可用链接平均每日1.0条、最多2条" in zh
    sweep = "最近一次全站链接检查（1月3日）共检查链接5条，确定不可用3条（附件1条、图片1条、页面1条），疑似不可用1条"
    assert sweep in zh
    assert "期间已修复不可用链接3条。" in zh  # the integrity sentence follows (issue 13)


def test_a_site_never_link_checked_has_no_section(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "empty.db")
    s.sync_pages(SITES, [HOME], 0.0)
    built = report(s)
    assert built.sites[0].links is None  # type: ignore[attr-defined]
    assert "链接" not in render(built, "zh") and "Link availability" not in render(built, "table")  # type: ignore[arg-type]
    assert json.loads(render(built, "json"))["sites"][0]["links"] is None  # type: ignore[arg-type]


def test_status_shows_the_latest_homepage_pass(store: Store) -> None:
    config = parse_config(
        {"timezone": TZ, "sites": [{"name": "bureau", "title": "某某局", "base_url": BASE + "/",
                                    "pages": [{"name": "home", "url": "/", "kind": "homepage"}]}]}
    )  # fmt: skip
    today = site_statuses(config, store, D + 2 * DAY + 8000)
    assert "  homepage links today: 0 broken of 3 (soft-404 0, suspect 0, blocked 0)" in render_status(today)
    later = site_statuses(config, store, D + 5 * DAY)
    assert "homepage links on 2018-01-04 (no pass today yet): 0 broken of 3" in render_status(later)
    assert status_json(later)[0]["homepage_links"] == {
        "date": "2018-01-04", "today": False, "links": 3, "ok": 3, "broken": 0, "soft_404": 0, "suspect": 0,
        "blocked": 0, "excluded": 0,
    }  # fmt: skip
    assert status_json(later)[0]["homepage_links_failure"] is None


def test_status_says_why_the_latest_homepage_pass_was_not_completed(store: Store) -> None:
    """The reason a pass failed is stored evidence (migration 0010), not only a log line: status
    keeps the last complete pass's counts and says why nothing newer counts."""
    failure = "the homepage could not be read (HTTP 503): an availability failure"
    failed = LinkPassRecorded("bureau", "homepage", D + 3 * DAY, D + 3 * DAY + 5, False, False, 0, failure=failure)
    store.submit([failed])
    assert store.writer.flush()
    config = parse_config(
        {"timezone": TZ, "sites": [{"name": "bureau", "title": "某某局", "base_url": BASE + "/",
                                    "pages": [{"name": "home", "url": "/", "kind": "homepage"}]}]}
    )  # fmt: skip
    statuses = site_statuses(config, store, D + 3 * DAY + 60)
    text = render_status(statuses)
    assert "homepage links on 2018-01-04 (no pass today yet): 0 broken of 3" in text
    assert f"  homepage links: the last pass was not completed: {failure}" in text
    assert status_json(statuses)[0]["homepage_links_failure"] == failure
    assert store.links().last_pass("bureau", "homepage").failure == failure  # type: ignore[union-attr]
