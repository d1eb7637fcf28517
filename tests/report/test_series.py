"""The homepage's days for the HTML report's charts: latency quantiles from raw checks, each day's
checks found by bisection; equal to the plain definition (every check tested against each day)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from monitor.models import RESULT_CODES, Result
from monitor.report import parse_period
from monitor.report._series import day_points, quantile
from monitor.rules import Stats
from monitor.sim import HistorySpec, generate
from monitor.store import Store
from tests.support.daemon_harness import db_rows

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai


def test_day_points_are_each_days_quantiles(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "monitor.db")
    made = generate(store, HistorySpec(start=START, days=4, columns=1, chunk_s=86400.0))
    store.close()
    homepage = made.page_ids[("demo", "homepage")]
    period = parse_period(tz_name="Asia/Shanghai", now=START + 5 * 86400, date_from="2017-12-31", date_to="2018-01-05")
    days = period.days()
    rows = db_rows(
        tmp_path / "monitor.db",
        "SELECT ts_ms, duration_ms FROM checks WHERE page_id = ? AND result = ?",
        (homepage, RESULT_CODES[Result.UP]),
    )
    store = Store.open(tmp_path / "monitor.db", readonly=True)
    points = day_points(store.history(), homepage, days, [Stats()] * len(days))
    store.close()
    with_checks = 0
    for day, point in zip(days, points, strict=True):
        values = sorted(d for ts, d in rows if day.start_ms <= ts < day.end_ms)
        with_checks += bool(values)
        assert point.median_ms == (quantile(values, Fraction(1, 2)) if values else None)
        assert point.p95_ms == (quantile(values, Fraction(95, 100)) if values else None)
    assert with_checks == 4  # the days before and after the history have none
