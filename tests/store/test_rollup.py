"""Rollups: the watermark, steps that continue themselves, and reports from rollups agreeing
with raw checks to the millisecond over random history and random periods."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.report import build_report, parse_period
from monitor.rules import HOUR_MS
from monitor.sim import HistorySpec, generate
from monitor.store import _rollup
from monitor.store._rollup import RollupTick, _PageMark, watermark
from monitor.store._store import Store
from monitor.store._writer import WriterSettings

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
FAST = WriterSettings(linger_s=0.0, batch_max=5000)


def test_watermark_is_the_hour_of_the_last_check_or_a_pending_failure() -> None:
    mark = _PageMark(1, 0, 5 * HOUR_MS + 10, None, None, None, None)
    assert watermark(mark, 10 * HOUR_MS) == 5 * HOUR_MS
    assert watermark(replace(mark, pending_failure_ms=3 * HOUR_MS + 1), 10 * HOUR_MS) == 3 * HOUR_MS
    assert watermark(mark, 2 * HOUR_MS + 5) == 2 * HOUR_MS  # never past now
    assert watermark(replace(mark, last_ms=None), 10 * HOUR_MS) is None


def test_a_long_catch_up_runs_in_steps_and_builds_daily_rows(tmp_path: Path, monkeypatch: object) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=FAST)
    spec = HistorySpec(start=START, days=10, columns=2, interval_s=300, rollups=False)
    generate(store, spec)
    setattr_ = monkeypatch.setattr  # type: ignore[attr-defined]
    setattr_(_rollup, "STEP_CHECKS", 2000)
    steps = store.run_task(RollupTick(spec.end + 3600, "Asia/Shanghai"))
    assert len(steps) > 3
    rows = store.query("SELECT count(*), min(day), max(day) FROM rollup_daily WHERE page_id = 1")[0]
    assert tuple(rows) == (9, "2018-01-01", "2018-01-09")  # the 10th is not over yet
    assert store.query("SELECT count(DISTINCT tz) FROM rollup_daily")[0][0] == 1
    store.run_task(RollupTick(spec.end + 3600, "UTC"))  # the time zone changed: days rebuilt
    assert tuple(store.query("SELECT min(day), max(tz) FROM rollup_daily WHERE page_id = 1")[0]) == (
        "2017-12-31",
        "UTC",
    )
    store.close()


def compare(store: Store, tz: str, now: float, first: date, last: date) -> None:
    period = parse_period(tz_name=tz, now=now, date_from=first.isoformat(), date_to=last.isoformat())
    rolled = build_report(store, period, now=now)
    raw = build_report(store, period, now=now, rollups=False)
    assert rolled.source == "rollups" and raw.source == "raw"
    assert rolled.sites == raw.sites
    for site in rolled.sites:
        for page in site.pages:
            assert page.stats.observed_ms + page.stats.unknown_ms == period.length_ms


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    days=st.integers(2, 6),
    interval=st.sampled_from([60.0, 300.0, 600.0, 3600.0]),
    trouble=st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 2), st.integers(0, 2)),
    tz=st.sampled_from(["Asia/Shanghai", "UTC", "Asia/Kathmandu"]),
    report_tz=st.sampled_from([None, "UTC", "Asia/Kathmandu"]),
    periods=st.lists(st.tuples(st.integers(-1, 6), st.integers(0, 3)), min_size=1, max_size=4),
    late=st.integers(0, 3 * 86400),
)
def test_rollups_agree_with_raw_checks(
    seed: int,
    days: int,
    interval: float,
    trouble: tuple[int, int, int, int],
    tz: str,
    report_tz: str | None,
    periods: list[tuple[int, int]],
    late: int,
) -> None:
    outages, blips, blocked, stops = trouble
    spec = HistorySpec(
        start=START + seed,
        days=days,
        columns=1,
        interval_s=interval,
        outages=outages,
        blips=blips,
        blocked_spells=blocked,
        stops=stops,
        crash=seed % 2 == 0,
        error_rate=0.01,
        seed=seed,
        timezone=tz,
        chunk_s=7 * 3600.0,
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "m.db", writer_settings=FAST)
        generate(store, spec)
        now = spec.end + late
        for offset, length in periods:
            first = date(2018, 1, 1) + timedelta(days=min(offset, days - 1))
            compare(store, report_tz or tz, now, first, first + timedelta(days=length))
        store.close()
