"""Migration 0009 (issue 16): each daily rollup keeps its day's latency median and p95, and whole
local months have a monthly row. Reports read them instead of a year of raw checks and 365 daily
rows a page; their figures equal the old computation (raw latencies, day-by-day totals), and a
day whose raw checks retention pruned keeps its latency figures."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from monitor.models import RESULT_CODES, Result
from monitor.report import build_report, parse_period
from monitor.rules import STAT_FIELDS, Stats, total
from monitor.sim import HistorySpec, generate
from monitor.store import Prune, Store
from monitor.store._rollup import backfill_months, backfill_quantiles, nearest_rank
from monitor.store._writer import WriterSettings
from tests.support.daemon_harness import db_rows

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
FAST = WriterSettings(linger_s=0.0, batch_max=5000)
TZ = "Asia/Shanghai"


def quantile(ordered: list[int], q: Fraction) -> int:
    """The nearest-rank definition, plainly: the smallest value with at least q of the values at
    or below it (the report's charts use it: monitor/report/_series.py)."""
    return min(v for v in ordered if Fraction(sum(1 for x in ordered if x <= v), len(ordered)) >= q)


@given(values=st.lists(st.integers(0, 1000), min_size=1, max_size=200))
def test_the_rollups_nearest_rank_is_the_definition(values: list[int]) -> None:
    ordered = sorted(values)
    assert nearest_rank(ordered, 1, 2) == quantile(ordered, Fraction(1, 2))
    assert nearest_rank(ordered, 95, 100) == quantile(ordered, Fraction(95, 100))


def _history(path: Path, days: float) -> tuple[Store, int]:
    store = Store.open(path, writer_settings=FAST)
    made = generate(store, HistorySpec(start=START, days=days, columns=2, chunk_s=86400.0, seed=7))
    return store, made.page_ids[("demo", "homepage")]


def _raw_quantiles(path: Path, page_id: int, start: int, end: int) -> tuple[int | None, int | None]:
    rows = db_rows(
        path,
        "SELECT duration_ms FROM checks WHERE page_id = ? AND ts_ms >= ? AND ts_ms < ? AND result = ?",
        (page_id, start, end, RESULT_CODES[Result.UP]),
    )
    values = sorted(r[0] for r in rows)
    if not values:
        return None, None
    return quantile(values, Fraction(1, 2)), quantile(values, Fraction(95, 100))


def test_each_daily_row_keeps_the_quantiles_of_its_raw_checks(tmp_path: Path) -> None:
    store, homepage = _history(tmp_path / "m.db", 5)
    store.close()
    rows = db_rows(
        tmp_path / "m.db",
        "SELECT page_id, start_ms, end_ms, latency_p50_ms, latency_p95_ms FROM rollup_daily ORDER BY page_id, day",
    )
    assert len(rows) >= 16  # 4 final days of 4 pages
    for page_id, start, end, p50, p95 in rows:
        assert (p50, p95) == _raw_quantiles(tmp_path / "m.db", page_id, start, end)
    assert any(r[0] == homepage and r[3] is not None for r in rows)


def test_a_pruned_days_chart_keeps_its_latency(tmp_path: Path) -> None:
    """Before 0009 a day whose raw checks retention deleted had no median or p95 (a gap in the
    chart); now the report shows the figures the day had when it was rolled up."""
    store, homepage = _history(tmp_path / "m.db", 6)
    now = START + 7 * 86400
    period = parse_period(tz_name=TZ, now=now, date_from="2018-01-01", date_to="2018-01-06")
    before = build_report(store, period, now=now).sites[0].days
    store.run_task(Prune(now, 2 * 86400.0))
    assert (
        db_rows(tmp_path / "m.db", "SELECT min(ts_ms) FROM checks WHERE page_id = ?", (homepage,))[0][0]
        > (START + 3 * 86400) * 1000
    )
    after = build_report(store, period, now=now).sites[0].days
    store.close()
    assert [p.median_ms for p in before[:3]] == [p.median_ms for p in after[:3]]
    assert all(p.median_ms is not None and p.p95_ms is not None for p in after[:3])
    assert after == before


def test_the_migration_backfills_days_with_raw_checks_and_whole_months(tmp_path: Path) -> None:
    store, homepage = _history(tmp_path / "m.db", 65)  # January, February and a few March days
    store.run_task(Prune(START + 65 * 86400, 40 * 86400.0))  # January's raw checks are gone
    store.close()
    conn = sqlite3.connect(tmp_path / "m.db")
    kept = conn.execute("SELECT page_id, day, latency_p50_ms, latency_p95_ms FROM rollup_daily").fetchall()
    months = conn.execute("SELECT * FROM rollup_monthly ORDER BY page_id, month").fetchall()
    assert {m[1] for m in months} == {"2018-01", "2018-02"}
    conn.execute("UPDATE rollup_daily SET latency_p50_ms = NULL, latency_p95_ms = NULL")
    conn.execute("DELETE FROM rollup_monthly")
    filled = backfill_quantiles(conn)
    assert backfill_months(conn) == len(months)
    again = conn.execute("SELECT page_id, day, latency_p50_ms, latency_p95_ms FROM rollup_daily").fetchall()
    assert conn.execute("SELECT * FROM rollup_monthly ORDER BY page_id, month").fetchall() == months
    conn.close()
    january = [r for r in kept if r[1] < "2018-01-20"]
    assert all(r[2] is not None for r in january if r[0] == homepage)  # rolled up while raw was there
    assert [r for r in again if r[1] >= "2018-01-28"] == [r for r in kept if r[1] >= "2018-01-28"]
    assert all(r[2] is None for r in again if r[1] < "2018-01-20")  # pruned before 0009: unknown
    assert 0 < filled < len(kept)


def test_a_monthly_row_is_the_total_of_its_days(tmp_path: Path) -> None:
    store, _ = _history(tmp_path / "m.db", 65)
    store.close()
    columns = ", ".join(STAT_FIELDS)
    for page_id, month, start, end, *values in db_rows(
        tmp_path / "m.db", f"SELECT page_id, month, start_ms, end_ms, {columns} FROM rollup_monthly"
    ):
        days = db_rows(
            tmp_path / "m.db",
            f"SELECT {columns} FROM rollup_daily WHERE page_id = ? AND substr(day, 1, 7) = ?",
            (page_id, month),
        )
        summed = total(Stats(*d) for d in days)
        unknown = end - start - summed.observed_ms  # days without a row are unknown time too
        assert Stats(*values) == replace(summed, unknown_ms=unknown)
        assert summed.observed_ms > 0


def test_reports_over_whole_months_agree_with_raw_checks(tmp_path: Path) -> None:
    """Periods covering whole months (read from monthly rows), partial months (daily rows) and
    unfinished days (hourly and raw): every figure equals the raw-only report's."""
    store, _ = _history(tmp_path / "m.db", 70)
    now = START + 70 * 86400 + 5000
    for first, last in (("2018-01-01", "2018-02-28"), ("2017-12-20", "2018-03-15"), ("2018-01-10", "2018-03-31")):
        period = parse_period(tz_name=TZ, now=now, date_from=first, date_to=last)
        rolled = build_report(store, period, now=now)
        raw = build_report(store, period, now=now, rollups=False)
        assert rolled.source == "rollups" and raw.source == "raw"
        assert rolled.sites == raw.sites
    store.close()
    conn = sqlite3.connect(tmp_path / "m.db")
    conn.execute("UPDATE rollup_monthly SET up_ms = up_ms - 1000 WHERE month = '2018-02'")
    conn.commit()
    conn.close()
    store = Store.open(tmp_path / "m.db", readonly=True)
    period = parse_period(tz_name=TZ, now=now, date_from="2018-02-01", date_to="2018-02-28")
    homepage = build_report(store, period, now=now).sites[0].homepage
    raw_homepage = build_report(store, period, now=now, rollups=False).sites[0].homepage
    store.close()
    assert homepage is not None and raw_homepage is not None
    assert homepage.stats.up_ms == raw_homepage.stats.up_ms - 1000  # February was read from its monthly row
