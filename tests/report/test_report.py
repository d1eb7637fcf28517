"""report.py: hand-computed periods — outages across the boundary, a stopped daemon, blips,
blocked checks, long gaps, error checks, no data, time-zone days, a clipped open period."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.models import ErrorKind, Page, PageKind, ProbeResult, Result
from monitor.report._build import Period, ReportError, Selection, build_report, parse_period
from monitor.report._render import pct, render
from monitor.rules import v1, v1_facts
from monitor.store import (
    BlipRow,
    CheckRow,
    Heartbeat,
    OutageClosed,
    OutageOpened,
    RollupTick,
    RunStopped,
    Store,
    WriterSettings,
)

TZ = "Asia/Shanghai"
D = 1_514_822_400  # 2018-01-02 00:00 in Asia/Shanghai (2018-01-01 16:00 UTC)
HOME = Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE, interval_s=600)
SITES = [("bureau", "某某局", "http://bureau.example/")]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "monitor.db", writer_settings=WriterSettings(linger_s=0.0))
    s.sync_pages(SITES, [HOME], 0.0)
    s.writer.start()
    yield s
    s.close()


def check(page_id: int, ts: float, result: Result = Result.UP, attempt: int = 0) -> CheckRow:
    kind = {Result.DOWN: ErrorKind.TIMEOUT, Result.BLOCKED: ErrorKind.BLOCKED}.get(result)
    probe = ProbeResult(HOME.url, ts, result, error_kind=kind, duration_s=0.2)
    return CheckRow(page_id, probe, result, kind, None, attempt)


def write(store: Store, ops: list[object]) -> None:
    store.submit(ops)  # type: ignore[arg-type]
    assert store.writer.drain(30)


def day_period(first: str, last: str | None = None, now: float = D + 10 * 86400) -> Period:
    return parse_period(tz_name=TZ, now=now, date_from=first, date_to=last or first)


def one_day(store: Store) -> int:
    """The 2018-01-02 scenario (times relative to local midnight D, checks every 600 s):

    outage D-1200 .. D+1800 (1800 s inside the day); blip at D+7200 (retry up at D+7230);
    blocked checks at D+10800 and D+11400 (1200 s); no checks D+21000 .. D+22800 (the check at
    D+20400 is followed 3000 s later: unknown); an error check at D+30000 (600 s unknown);
    the daemon stopped D+36000 .. D+39600 (checks recorded without it: 3600 s unknown).
    """
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    run1 = store.start_run(D - 3600, 1, "t", "h")
    ops: list[object] = []
    for ts in range(D - 3600, D + 86400 + 1200, 600):
        if D + 21000 <= ts <= D + 22800:
            continue
        result = Result.UP
        if D - 1200 <= ts < D + 1800:
            result = Result.DOWN
        elif ts in (D + 10800, D + 11400):
            result = Result.BLOCKED
        elif ts in (D + 7200, D + 30000):
            result = Result.DOWN if ts == D + 7200 else Result.ERROR
        ops.append(check(home, ts, result))
    ops += [check(home, D + 7230, Result.UP, attempt=1), BlipRow(home, D + 7200, "timeout")]
    ops += [OutageOpened(home, D - 1200, "timeout", 5, None), OutageClosed(home, D - 1200, D + 1800)]
    ops += [RunStopped(run1, D + 36000, "stopped")]
    write(store, ops)
    run2 = store.start_run(D + 39600, 1, "t", "h")
    write(store, [Heartbeat(run2, D + 86400 + 1200)])
    return home


@pytest.mark.parametrize("rollups", [False, True])
def test_one_day_by_hand(store: Store, rollups: bool) -> None:
    one_day(store)
    now = D + 86400 + 1200
    if rollups:
        store.run_task(RollupTick(now, TZ))
    report = build_report(store, day_period("2018-01-02", now=now), now=now, rollups=rollups)
    assert report.source == ("rollups" if rollups else "raw")
    page = report.sites[0].pages[0]
    s = page.stats
    assert (s.down_ms, s.blocked_ms, s.unknown_ms, s.up_ms) == (1_800_000, 1_200_000, 7_200_000, 76_200_000)
    assert s.observed_ms + s.unknown_ms == 86_400_000
    assert page.uptime_ratio == 76_200 / 78_000
    assert page.coverage_ratio == 79_200 / 86_400
    assert (len(page.outages), page.downtime_ms, page.longest_outage_ms) == (1, 1_800_000, 1_800_000)
    assert page.outages[0].start_ms == D * 1000 and page.outages[0].end_ms == (D + 1800) * 1000
    assert page.mttr_ms == 3_000_000  # the whole outage, which ended inside the day
    assert page.blips == 1
    # 144 on the grid, 4 missing in the gap, plus the blip's retry
    assert (s.checks, s.down, s.blocked, s.error, s.scheduled, s.scheduled_failed) == (141, 4, 2, 1, 139, 4)


def test_day_boundaries_are_local_dates(store: Store) -> None:
    """A check at 23:59 UTC on Jan 1st is 07:59 on Jan 2nd in Asia/Shanghai."""
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    store.start_run(D, 1, "t", "h")
    write(store, [check(home, 1_514_851_140)])  # 2018-01-01T23:59:00Z
    now = D + 5 * 86400
    jan1 = build_report(store, day_period("2018-01-01", now=now), now=now).sites[0]
    jan2 = build_report(store, day_period("2018-01-02", now=now), now=now).sites[0]
    assert jan1.pages[0].stats.checks == 0 and jan2.pages[0].stats.checks == 1
    assert [(w.week_start, w.checks, w.days_under_20) for w in jan2.national_v1] == [(date(2018, 1, 1), 1, 1)]
    # One day of a week, one visit: insufficient data, never a V1 veto however it went.
    assert jan2.national_v1[0].full_days == 1 and jan2.national_v1[0].state.value == "insufficient_data"


def test_no_data_is_never_100_percent(store: Store) -> None:
    now = D + 86400
    page = build_report(store, day_period("2018-01-01", now=now), now=now).sites[0].pages[0]
    assert page.stats.observed_ms == 0 and page.stats.unknown_ms == 86_400_000
    assert page.uptime_ratio is None and page.coverage_ratio == 0.0 and page.outages == ()


def test_future_period_is_clipped_with_an_open_outage(store: Store) -> None:
    """Now is D+50000; the outage opened at D+45000 is still open; the last down check at
    D+49800 vouches for the 200 s up to now."""
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    run = store.start_run(D - 600, 1, "t", "h")
    now = D + 50_000
    ops: list[object] = [
        check(home, ts, Result.DOWN if ts >= D + 45_000 else Result.UP) for ts in range(D - 600, now, 600)
    ]
    ops += [OutageOpened(home, D + 45_000, "timeout", 9, None), Heartbeat(run, now)]
    write(store, ops)
    period = day_period("2018-01-02", "2018-01-05", now=now)
    assert (period.end_ms, period.last) == (now * 1000, date(2018, 1, 5))
    page = build_report(store, period, now=now).sites[0].pages[0]
    assert page.stats.observed_ms + page.stats.unknown_ms == 50_000_000
    assert (page.stats.down_ms, page.stats.up_ms, page.stats.unknown_ms) == (5_000_000, 45_000_000, 0)
    assert page.outages[0].end_ms is None and page.outages[0].duration_ms == 5_000_000
    assert page.mttr_ms is None


def test_gap_rule_uses_the_interval_in_force_then(store: Store) -> None:
    """Interval 600 s until D, 60 s after: a 1000 s gap is fine before D (1000 <= 1500), unknown
    after (1000 > 150)."""
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    store.sync_pages(SITES, [Page("bureau", "home", HOME.url, PageKind.HOMEPAGE, interval_s=60)], D)
    run = store.start_run(D - 86400, 1, "t", "h")
    write(store, [check(home, D - 1000), check(home, D), check(home, D + 1000), Heartbeat(run, D + 1000)])
    now = D + 1000
    report = build_report(store, day_period("2018-01-01", "2018-01-02", now=now), now=now)
    assert report.sites[0].pages[0].stats.up_ms == 1_000_000


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"date_from": "2018-02-01", "date_to": "2018-01-01"}, r"ends \(2018-01-01\) before it starts"),
        ({"date_from": "2018-13-01"}, "--from: expected a date"),
        ({"month": "2018-1x"}, "--month: expected a month"),
        ({"last": "soon"}, "--last: expected a duration"),
        ({"date_to": "2018-01-01"}, "--to needs --from"),
        ({"year": 2018, "month": "2018-01"}, "choose one period"),
        ({"year": 2030}, "starts in the future"),
    ],
)
def test_bad_periods(options: dict[str, object], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_period(tz_name=TZ, now=D, **options)  # type: ignore[arg-type]


def test_month_year_and_last_periods() -> None:
    month = parse_period(tz_name=TZ, now=D + 86400 * 400, month="2018-02")
    assert (month.first, month.last, month.length_ms) == (date(2018, 2, 1), date(2018, 2, 28), 28 * 86_400_000)
    year = parse_period(tz_name="UTC", now=D + 86400 * 400, year=2018)
    assert year.length_ms == 365 * 86_400_000
    last = parse_period(tz_name=TZ, now=D, last="36h")
    assert (last.end_ms - last.start_ms, last.first, last.last) == (129_600_000, date(2017, 12, 31), date(2018, 1, 1))


def test_unknown_site_or_page(store: Store) -> None:
    period = day_period("2018-01-02")
    with pytest.raises(ReportError, match=r"no site named 'nope'.*known: bureau"):
        build_report(store, period, now=D + 864000, selection=Selection(sites=("nope",)))
    with pytest.raises(ReportError, match="no page named 'x'"):
        build_report(store, period, now=D + 864000, selection=Selection(pages=("x",)))
    chosen = build_report(store, period, now=D + 864000, selection=Selection(pages=("bureau/home",)))
    assert [p.name for p in chosen.sites[0].pages] == ["home"]


@pytest.mark.parametrize("rollups", [False, True])
def test_an_outage_across_a_stopped_monitor_counts_only_watched_time(store: Store, rollups: bool) -> None:
    """Down at D (retry at D+30), the daemon stops at D+60 with the outage open, restarts at
    D+3600 and the first check is up: the outage spans 3600 s but only 30 s were watched (the
    retry at D+30 vouches for nothing: the next check is 3570 s later, over 2.5 intervals)."""
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    run1 = store.start_run(D - 3600, 1, "t", "h")
    ops: list[object] = [check(home, ts) for ts in range(D - 3600, D, 600)]
    ops += [check(home, D, Result.DOWN), check(home, D + 30, Result.DOWN, attempt=1)]
    ops += [OutageOpened(home, D, "timeout", 2, None), RunStopped(run1, D + 60, "stopped")]
    write(store, ops)
    run2 = store.start_run(D + 3600, 1, "t", "h")
    now = D + 7200
    ops = [check(home, ts) for ts in range(D + 3600, now, 600)]
    write(store, [*ops, OutageClosed(home, D, D + 3600), Heartbeat(run2, now)])
    if rollups:
        store.run_task(RollupTick(now, TZ))
    report = build_report(store, day_period("2018-01-02", now=now), now=now, rollups=rollups)
    page = report.sites[0].pages[0]
    assert page.stats.down_ms == 30_000
    assert (page.downtime_ms, page.longest_outage_ms, page.mttr_ms) == (30_000, 30_000, 30_000)
    (outage,) = page.outages
    assert (outage.span_ms, outage.partly_unobserved) == (3_600_000, True)
    zh = render(report, "zh")
    assert "累计30秒" in zh and "持续30秒" in zh and "累计1小时" not in zh
    listed = json.loads(render(report, "json"))["sites"][0]["pages"][0]
    assert listed["outage_list"][0]["partly_unobserved"] is True and listed["outages_partly_unobserved"] == 1
    assert (listed["downtime_s"], listed["outage_list"][0]["span_s"]) == (30.0, 3600.0)


def test_an_outage_watched_throughout_is_not_marked(store: Store) -> None:
    one_day(store)
    now = D + 86400 + 1200
    page = build_report(store, day_period("2018-01-02", now=now), now=now).sites[0].pages[0]
    assert [o.partly_unobserved for o in page.outages] == [False]
    assert page.downtime_ms == page.stats.down_ms == 1_800_000


@pytest.mark.parametrize(
    ("ratio", "digits", "shown"),
    [
        (0.57, 3, "57.000%"),  # the float 0.57 is 0.56999...: flooring it gave 56.999%
        (0.57, 2, "57.00%"),
        (57 / 200, 2, "28.50%"),  # 0.285 is 0.28499... as a float: gave 28.49%
        (Fraction(57, 200), 2, "28.50%"),
        (Fraction(999_996, 1_000_000), 3, "99.999%"),  # never 100.000%
        (Fraction(62, 1250), 1, "4.9%"),  # 4.96%: never 5.0% beside a non-veto verdict
        (Fraction(1, 3), 2, "33.33%"),
        (1.0, 3, "100.000%"),
        (0, 1, "0.0%"),
        (None, 2, "—"),
    ],
)
def test_percentages_round_down_exactly(ratio: Fraction | float | None, digits: int, shown: str) -> None:
    assert pct(ratio, digits) == shown


def test_status_rounds_the_v1_ratio_down() -> None:
    """62 failed of 1250 is 4.96%: the verdict is a warning, and the text must not say 5.0%."""
    now = D + 7 * 86400
    checks = [(D + i * 480.0, i < 62) for i in range(1250)]
    verdict = v1(v1_facts(checks, now, ZoneInfo(TZ)))
    assert not verdict.veto and "(4.9%)" in verdict.detail


def test_a_period_without_data_lists_every_configured_page(store: Store) -> None:
    """2010, years before the monitor ran: every configured page, a page never stored
    included, with uptime null and "no data" in every format."""
    column = Page("bureau", "通知公告", "http://bureau.example/tzgg/", PageKind.COLUMN)
    other = Page("second", "home", "http://second.example/", PageKind.HOMEPAGE)
    now = D + 86400
    period = parse_period(tz_name=TZ, now=now, year=2010)
    report = build_report(store, period, now=now, configured=[HOME, column, other])
    assert [(s.name, [p.name for p in s.pages]) for s in report.sites] == [
        ("bureau", ["home", "通知公告"]),
        ("second", ["home"]),
    ]
    for site in report.sites:
        for page in site.pages:
            assert page.uptime_ratio is None and page.no_data and page.stats.unknown_ms == period.length_ms
    data = json.loads(render(report, "json"))
    assert [p["uptime_ratio"] for s in data["sites"] for p in s["pages"]] == [None, None, None]
    assert {p["uptime_pct"] for s in data["sites"] for p in s["pages"]} == {"no data"}
    assert render(report, "table").count("no data") >= 3 + 2
    assert render(report, "markdown").count("no data") >= 3 + 2
    assert render(report, "csv").count(",no data,") == 3
    assert render(report, "zh").count("无监测数据") >= 2
