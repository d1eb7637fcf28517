"""Rule V1 counts visits: the homepage's schedule keeps its grid during an outage, retries only
confirm outages, and `Retry-After` defers visits without moving the grid (issue 10, A1 and E24).

The daemon runs in-process against the simulated portal (real HTTP, real SQLite); the planning
function is tested with fixed numbers.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.check import CheckOutcome
from monitor.config import Config, parse_config
from monitor.daemon import RETRY_AFTER_CAP_S, next_checks, retry_after_cap
from monitor.metrics import MonitorState
from monitor.models import ErrorKind, FixedClock, Page, PageKind, ProbeResult, Result
from monitor.report import build_report, parse_period, site_statuses
from monitor.rules import VerdictState, v1_facts
from monitor.sim import SimPortal
from monitor.store import RollupTick, Store, WriterSettings
from monitor.track import PageRuntime, Tracker
from tests.support.daemon_harness import db_rows, sim_config, sim_pages
from tests.support.recording import RecordingPipeline
from tests.test_daemon import ShiftedClock, running

HOME = Page("s", "home", "http://portal.example/", PageKind.HOMEPAGE, interval_s=300.0, retry_delay_s=30.0)
T0 = 1_700_000_000.0


def test_a_healthy_check_keeps_the_next_visit_and_plans_no_retry() -> None:
    plan = next_checks(HOME, now=T0, next_visit=T0 + 290, failing=False, retry_after_s=None)
    assert (plan.visit_at, plan.retry_at) == (T0 + 290, None)


def test_a_failing_page_is_retried_before_its_next_visit_but_never_on_top_of_it() -> None:
    # Visit at T0 failed: retry at T0+30; the visit at T0+300 stays where it is.
    assert next_checks(HOME, now=T0, next_visit=T0 + 300, failing=True, retry_after_s=None).retry_at == T0 + 30
    # A retry at T0+270 still ends (15 s timeout) by the visit at T0+300 ...
    assert next_checks(HOME, now=T0 + 240, next_visit=T0 + 300, failing=True, retry_after_s=None).retry_at == T0 + 270
    # ... one at T0+290 would not: the visit, due anyway, does its work; the page is not probed twice.
    plan = next_checks(HOME, now=T0 + 260, next_visit=T0 + 300, failing=True, retry_after_s=None)
    assert (plan.visit_at, plan.retry_at) == (T0 + 300, None)


def test_retry_after_defers_the_next_visit_to_its_own_grid() -> None:
    # Next visit due at T0+100 (grid T0+100+300k). Retry-After 650 s: earliest T0+650 -> the grid
    # point T0+700 (not T0+650, which would shift every later visit by 50 s).
    plan = next_checks(HOME, now=T0, next_visit=T0 + 100, failing=False, retry_after_s=650.0)
    assert plan.visit_at == T0 + 700 and (plan.visit_at - (T0 + 100)) % HOME.interval_s == 0
    # A Retry-After shorter than the wait for the next visit changes nothing.
    assert next_checks(HOME, now=T0, next_visit=T0 + 100, failing=False, retry_after_s=60.0).visit_at == T0 + 100
    # A retry waits for Retry-After too, and is dropped when the (deferred) visit comes first.
    failing = next_checks(HOME, now=T0, next_visit=T0 + 300, failing=True, retry_after_s=120.0)
    assert (failing.visit_at, failing.retry_at) == (T0 + 300, T0 + 120)
    assert next_checks(HOME, now=T0, next_visit=T0 + 300, failing=True, retry_after_s=290.0).retry_at is None


def test_retry_after_is_capped() -> None:
    # A day's Retry-After defers a 5-minute page by at most 4 intervals (20 min) ...
    assert retry_after_cap(HOME) == 1200.0
    plan = next_checks(HOME, now=T0, next_visit=T0 + 100, failing=False, retry_after_s=86400.0)
    assert plan.visit_at == T0 + 1300  # first grid point at or after T0 + 1200
    # ... and an hourly page by at most an hour; nonsense (negative) values defer nothing.
    hourly = Page("s", "col", "http://portal.example/c/", interval_s=3600.0)
    assert retry_after_cap(hourly) == RETRY_AFTER_CAP_S
    assert next_checks(hourly, now=T0, next_visit=T0 + 10, failing=False, retry_after_s=-5.0).visit_at == T0 + 10


# -- the daemon: a homepage outage spanning many intervals ---------------------------------------

INTERVAL_S = 1.0


def test_visits_stay_on_their_grid_through_an_outage_and_only_visits_count(tmp_path: Path) -> None:
    clock = ShiftedClock()
    with SimPortal(clock=clock) as sim:
        config = sim_config(
            tmp_path,
            sim,
            pages=sim_pages(sim, "home"),
            interval="1s",
            defaults={"retry_delay": "0.2s", "timeout": "0.5s"},
        )
        went_down, came_back, last, counted = asyncio.run(outage_scenario(config, sim, clock))
    db = tmp_path / "monitor.db"
    rows = db_rows(db, "SELECT ts_ms / 1000.0, result, attempt FROM checks WHERE ts_ms <= ? ORDER BY ts_ms", [last])
    visits = [(ts, result) for ts, result, attempt in rows if attempt == 0]
    retries = [ts for ts, _, attempt in rows if attempt > 0]
    first = visits[0][0]
    # Every grid point from the first visit to the last has exactly one visit, outage or not.
    assert len(visits) == round((visits[-1][0] - first) / INTERVAL_S) + 1, visits
    assert all(abs((ts - first) - round(ts - first)) < 0.3 for ts, _ in visits), visits
    # The visits inside the fault failed (the old daemon made none there: only retries).
    during = [result for ts, result in visits if went_down + 0.3 < ts < came_back - 0.3]
    assert len(during) >= 4 and set(during) == {1}, (went_down, came_back, visits)
    assert retries, "failures are retried between visits"
    # No page probed twice at once: a retry is never within 0.2 s of a visit.
    assert all(min(abs(r - ts) for ts, _ in visits) >= 0.15 for r in retries), (retries, visits)
    failed = sum(1 for _, result in visits if result == 1)
    assert failed >= len(during)
    assert counted == (len(visits), failed), "the V1 metrics count the stored visits, no retry"


async def outage_scenario(
    config: Path, sim: SimPortal, clock: ShiftedClock
) -> tuple[float, float, int, tuple[int, int]]:
    """Up for ~2 s, down (HTTP 500) for ~6 s, up for ~2 s. Returns the fault window, the start (ms)
    of the last check the metrics had seen, and the metrics' (visits, failed visits) then."""
    async with running(config, clock) as r:
        home = {"site": "sim", "page": "home", "kind": "homepage"}
        await r.until(lambda: (r.value("portal_checks_total", **home, result="up") or 0) >= 2, "two good visits")
        went_down = time.time()
        sim.fault("500", "/")
        await asyncio.sleep(6.0)
        came_back = time.time()
        sim.fault("ok", "/")
        await r.until(lambda: r.value("portal_outage_active", **home) == 0, "outage closed")
        await asyncio.sleep(1.5)
        samples = await asyncio.to_thread(r.samples)
        site = (("site", "sim"),)
        last = samples[("portal_last_check_timestamp_seconds", tuple(sorted(home.items())))]
        checks = samples[("portal_homepage_checks_7d", site)]
        ratio = samples[("portal_homepage_unavailable_ratio_7d", site)]
        # Half the visits failed, but seconds of visits are no evidence: insufficient data, no veto.
        v1 = (("rule", "V1"), ("site", "sim"))
        assert ratio > 0.05 and samples[("portal_compliance_veto", v1)] == 0
        assert samples[("portal_compliance_insufficient_data", v1)] == 1
        assert samples[("portal_homepage_low_visit_day_count_7d", site)] == 7
        await r.until(lambda: r.store.writer.flush(5), "writes flushed")
    return went_down, came_back, round(last * 1000), (int(checks), round(ratio * checks))


# -- a week by hand: the daemon's schedule, the tracker, the store, rollups, report, status, metrics ---

MONDAY = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai, the start of an ISO week
HOUR = 3600.0
WEEK_OUTAGES = [(MONDAY + 2 * 86400 + 8 * HOUR, MONDAY + 2 * 86400 + 20 * HOUR)] + [
    (MONDAY + 4 * 86400 + h * HOUR, MONDAY + 4 * 86400 + h * HOUR + 300) for h in range(10, 16)
]
"""Wednesday 08:00-20:00 down, and Friday six 5-minute outages at 10:00, 11:00, ... 15:00 (flapping)."""


def week_config(tmp_path: Path) -> Config:
    document = {
        "timezone": "Asia/Shanghai",
        "storage": {"path": str(tmp_path / "m.db")},
        "defaults": {"interval": "10m", "retry_delay": "30s", "timeout": "15s", "failure_threshold": 2},
        "sites": [
            {
                "name": "bureau",
                "title": "某某局",
                "base_url": "http://bureau.example/",
                "discover": False,
                "pages": [{"name": "home", "url": "/", "kind": "homepage"}],
            }
        ],
    }
    return parse_config(document, source=tmp_path / "config.yaml")


def week_outcome(page: Page, ts: float) -> CheckOutcome:
    down = any(start <= ts < end for start, end in WEEK_OUTAGES)
    result = Result.DOWN if down else Result.UP
    kind = ErrorKind.TIMEOUT if down else None
    probe = ProbeResult(page.url, ts, result, error_kind=kind, status=None if down else 200, duration_s=0.1)
    return CheckOutcome(page, probe, result, kind, "timed out" if down else None, None if down else 1)


def simulate_week(tracker: RecordingPipeline, rt: PageRuntime) -> tuple[int, int]:
    """Visits every 600 s from MONDAY for 7 days, retries as the daemon plans them; (visits, retries)."""
    page, end = rt.page, MONDAY + 7 * 86400
    next_visit, retry_at, attempt, counts = MONDAY, None, 0, [0, 0]
    while (t := retry_at if retry_at is not None else next_visit) < end:
        attempt = attempt + 1 if retry_at is not None else 0
        tracker.record(rt, week_outcome(page, t), t, attempt=attempt)
        counts[attempt > 0] += 1
        next_visit += page.interval_s if attempt == 0 else 0
        plan = next_checks(page, now=t + 0.1, next_visit=next_visit, failing=rt.health.failing, retry_after_s=None)
        retry_at = plan.retry_at
    return counts[0], counts[1]


def test_a_week_of_outages_gives_the_v1_ratio_computed_by_hand(tmp_path: Path) -> None:
    # By hand: one visit every 600 s = 144 a day, 7 x 144 = 1008 visits in the week.
    # Wednesday 08:00-20:00 down: the visits at 08:00, 08:10, ... 19:50 failed = 12 h / 600 s = 72.
    # Friday's six 5-minute outages each start on a visit (10:00 ... 15:00) and end before the
    # next (xx:10): 6 failed visits. Failed visits 72 + 6 = 78; V1 ratio 78 / 1008 = 7.738% (veto).
    # The retries confirm the outages and are counted nowhere in V1. A check takes 0.1 s, so they
    # come every 30.1 s while failing: 19 after each failed Wednesday visit (the 19th at +571.9 s;
    # a 20th at +602 s would not end, 15 s timeout, before the next visit) = 72 x 19 = 1368, and
    # 10 after each Friday visit (9 failed, the 10th at +301 s is up and closes) = 60: 1428.
    config = week_config(tmp_path)
    store = Store.open(config.db_path, writer_settings=WriterSettings(linger_s=0.0))
    page = config.pages()[0]
    ids = store.sync_pages([("bureau", "某某局", "http://bureau.example/")], [page], MONDAY)
    store.writer.start()
    state = MonitorState(FixedClock(MONDAY))
    state.set_pages([page])
    visits, retries = simulate_week(
        RecordingPipeline(Tracker(store, run_id=None), state), PageRuntime(page, ids[page.key])
    )
    assert (visits, retries) == (1008, 72 * 19 + 6 * 10)
    now = MONDAY + 7 * 86400 - 1  # Sunday 23:59:59
    store.run_task(RollupTick(now, "Asia/Shanghai"))
    assert store.writer.drain(30)
    assert store.count("outages") == 7

    tz = ZoneInfo("Asia/Shanghai")
    metrics_facts = v1_facts(state.snapshot()[1]["bureau"], now, tz)
    status = site_statuses(config, store, now)[0].assessment
    period = parse_period(tz_name="Asia/Shanghai", now=now + 1, date_from="2018-01-01", date_to="2018-01-07")
    weeks = [build_report(store, period, now=now + 1, rollups=r).sites[0].national_v1 for r in (True, False)]
    store.close()
    assert (metrics_facts.checks, metrics_facts.failed) == (1008, 78)
    assert (status.v1_facts.checks, status.v1_facts.failed) == (1008, 78)
    assert [n for _, n in status.v1_facts.per_day] == [144] * 7
    assert status.verdicts[0].veto and status.v1_facts.ratio == pytest.approx(0.07738, abs=1e-5)
    for week in weeks:
        assert [(w.week_start, w.checks, w.failed, w.days_under_20, w.full_days) for w in week] == [
            (date(2018, 1, 1), 1008, 78, 0, 7)
        ]
        assert week[0].state is VerdictState.VETO


def test_retry_after_defers_the_daemons_next_visit_onto_its_grid(tmp_path: Path) -> None:
    clock = ShiftedClock()
    with SimPortal(clock=clock) as sim:
        config = sim_config(
            tmp_path,
            sim,
            pages=sim_pages(sim, "home"),
            interval="1s",
            defaults={"retry_delay": "0.2s", "timeout": "0.5s"},
        )
        asyncio.run(retry_after_scenario(config, sim, clock))
    rows = db_rows(tmp_path / "monitor.db", "SELECT ts_ms / 1000.0, status, attempt FROM checks ORDER BY ts_ms")
    first = rows[0][0]
    answered = [i for i, (_, status, _) in enumerate(rows) if status == 503]
    assert answered, rows
    for i in answered:
        if i + 1 < len(rows):  # "Retry-After: 3" (cap 4 x 1 s): nothing for 3 s, retries included
            assert rows[i + 1][0] - rows[i][0] >= 2.9, rows
    # The deferred visits landed on the grid, and the visits after them stayed there.
    visits = [ts for ts, _, attempt in rows if attempt == 0]
    assert all(abs((ts - first) - round(ts - first)) < 0.3 for ts in visits), visits


async def retry_after_scenario(config: Path, sim: SimPortal, clock: ShiftedClock) -> None:
    """Up, then "503 with Retry-After: 3" for ~5 s, then up again for a few visits."""
    async with running(config, clock) as r:
        home = {"site": "sim", "page": "home", "kind": "homepage"}
        await r.until(lambda: (r.value("portal_checks_total", **home, result="up") or 0) >= 2, "two good visits")
        sim.fault("503:3", "/")
        await r.until(lambda: r.value("portal_checks_total", **home, result="down"), "a 503", timeout_s=10)
        await asyncio.sleep(5.0)
        sim.fault("ok", "/")
        up = r.value("portal_checks_total", **home, result="up") or 0
        await r.until(lambda: (r.value("portal_checks_total", **home, result="up") or 0) >= up + 3, "three visits")
        await r.until(lambda: r.store.writer.flush(5), "writes flushed")
