"""The IPv6 line of reports (every format) and of `monitor status`, the zh sentence, and the proof
that IPv6 failures leave the IPv4 figures (uptime, V1) exactly as they were."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.integrity import Ipv6Reading, Ipv6State
from monitor.report import build_report, render, render_status, site_statuses, status_json
from monitor.report._build import Report
from monitor.store import Ipv6CheckRow, Store, WriterSettings
from tests.report.test_report import HOME, SITES, D, day_period, one_day, write

DAY = 86400.0
CONFIG = {
    "timezone": "Asia/Shanghai",
    "sites": [{"name": "bureau", "title": "某某局", "base_url": "http://bureau.example/",
               "pages": [{"name": "home", "url": "/", "kind": "homepage"}]}],
}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "monitor.db", writer_settings=WriterSettings(linger_s=0.0))
    s.sync_pages(SITES, [HOME], 0.0)
    s.writer.start()
    yield s
    s.close()


def readings(store: Store, *states: tuple[float, Ipv6State, bool | None]) -> None:
    site = store.site_ids()["bureau"]
    rows = []
    for ts, state, consistent in states:
        kind = "connect" if state is Ipv6State.DOWN else ""
        reading = Ipv6Reading(HOME.url, ts, state, address="2001:db8::1", error_kind=kind, consistent=consistent)
        rows.append(Ipv6CheckRow(site, reading))
    write(store, rows)  # type: ignore[arg-type]


def report(store: Store) -> Report:
    return build_report(store, day_period("2018-01-02"), now=D + 10 * DAY, configured=[HOME])


def test_every_format_says_the_success_ratio_and_consistency(store: Store) -> None:
    spread = [(D + i * 80.0, Ipv6State.OK, True) for i in range(998)]
    readings(store, *spread, (D + 80000.0, Ipv6State.DOWN, None), (D + 80001.0, Ipv6State.OK, True))
    readings(store, (D + DAY + 10.0, Ipv6State.DOWN, None))  # the next day: outside the period
    built = report(store)
    line = "ipv6: 99.9% of 1000 readings ok; latest ok; same as IPv4"
    assert line in render(built, "table") and line in render(built, "markdown")
    data = json.loads(render(built, "json"))["sites"][0]["ipv6"]
    assert (data["ok"], data["down"], data["state"], data["latest"]["consistent"]) == (999, 1, "ok", True)
    row = next(csv.DictReader(io.StringIO(render(built, "csv", bom=False))))
    assert (row["ipv6_state"], row["ipv6_success_pct"], row["ipv6_consistent"]) == ("ok", "99.900", "1")
    assert "IPv6访问成功率99.9%，与IPv4内容一致。" in render(built, "zh")


def test_no_aaaa_is_said_as_no_ipv6_not_as_down(store: Store) -> None:
    site = store.site_ids()["bureau"]
    write(store, [Ipv6CheckRow(site, Ipv6Reading(HOME.url, D + 3600.0, Ipv6State.NO_IPV6))])  # type: ignore[list-item]
    built = report(store)
    assert "ipv6: no AAAA record for the homepage host (no IPv6)" in render(built, "table")
    assert "首页域名无IPv6解析（AAAA）记录。" in render(built, "zh")
    assert json.loads(render(built, "json"))["sites"][0]["ipv6"]["success_ratio"] is None


def test_a_site_never_read_over_ipv6_has_no_line(store: Store) -> None:
    built = report(store)
    assert "ipv6" not in render(built, "table") and "IPv6" not in render(built, "zh")
    assert json.loads(render(built, "json"))["sites"][0]["ipv6"] is None


def test_status_line_over_the_last_day(store: Store) -> None:
    config = parse_config(CONFIG)
    readings(store, (D + 100.0, Ipv6State.OK, True), (D + 3700.0, Ipv6State.OK, False))
    text = render_status(site_statuses(config, store, D + 7200.0))
    assert "  ipv6: 100.0% of 2 readings ok; latest ok; content differs from IPv4" in text
    assert status_json(site_statuses(config, store, D + 7200.0))[0]["ipv6"]["inconsistent"] == 1
    assert "  ipv6: not read yet" in render_status(site_statuses(config, store, D + 3 * DAY))
    off = parse_config({**CONFIG, "ipv6": {"enabled": False}})
    assert "ipv6" not in render_status(site_statuses(off, store, D + 3 * DAY))


def test_ipv6_failures_leave_uptime_and_v1_unchanged(store: Store) -> None:
    """Regression guard: the IPv6 series is never read as checks. The one-day scenario's figures
    (uptime, down and unknown time, outages, V1) are identical with a day of failed IPv6 readings."""
    one_day(store)
    config = parse_config(CONFIG)
    before, status_before = report(store), status_json(site_statuses(config, store, D + DAY))
    readings(store, *((D + m * 600.0, Ipv6State.DOWN, None) for m in range(144)))
    after, status_after = report(store), status_json(site_statuses(config, store, D + DAY))
    assert after.sites[0].ipv6 is not None and after.sites[0].ipv6.down == 144
    assert dataclasses.replace(after.sites[0], ipv6=None) == before.sites[0]
    assert [s["rules"] for s in status_after] == [s["rules"] for s in status_before]
    assert [s["homepage_v1"] for s in status_after] == [s["homepage_v1"] for s in status_before]


def test_internal_links_share_in_the_line_and_the_zh_sentence(store: Store) -> None:
    site = store.site_ids()["bureau"]
    latest = Ipv6Reading(HOME.url, D + 3600.0, Ipv6State.OK, consistent=True, links_checked=20, links_ok=19)
    write(store, [Ipv6CheckRow(site, latest)])  # type: ignore[list-item]
    built = report(store)
    assert "; 19 of 20 internal links reachable over IPv6" in render(built, "table")
    assert "IPv6访问成功率100.0%，与IPv4内容一致，抽查内部链接20条，IPv6可访问率95.0%。" in render(built, "zh")
    assert json.loads(render(built, "json"))["sites"][0]["ipv6"]["latest"]["links_ok"] == 19
