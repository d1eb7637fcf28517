"""Wall-clock steps (NTP stepping the clock forward or back): no negative durations, no phantom outages,
no stalled schedule.

Durations come from the monotonic clock and outages from counts of consecutive results, so the
pipeline is tested with injected clocks that step; the scheduler (APScheduler 3, which schedules
by wall-clock time) is tested in an in-process daemon whose wall clock, and APScheduler's, step.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.check import CheckOutcome, Fetcher
from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.models import ErrorKind, Extraction, ExtractKind, FixedClock, Item, Page, PageKind, ProbeResult, Result
from monitor.sim import SimPortal
from monitor.store import Store
from monitor.track import PageRuntime, Tracker, outage

HOUR = 3600.0
STEPS = [HOUR, -HOUR, -30.0, 86400.0]


# ---- fetch: durations are monotonic ------------------------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
def test_a_check_spanning_a_clock_step_has_its_monotonic_duration(step: float) -> None:
    clock = FixedClock(t=1_800_000_000.0, mono=50.0)

    def handler(request: httpx.Request) -> httpx.Response:
        clock.t += step  # the wall clock steps mid-check
        clock.mono += 0.25
        return httpx.Response(200, content=b"<html>ok</html>")

    async def fetch() -> ProbeResult:
        async with Fetcher(clock=clock, transport=httpx.MockTransport(handler)) as fetcher:
            return await fetcher.fetch(Page("s", "p", "http://portal.example/", timeout_s=2.0))

    result = asyncio.run(fetch())
    assert result.started_at == 1_800_000_000.0
    assert result.duration_s == pytest.approx(0.25)
    assert all(seconds >= 0 for seconds in result.phases.values())


# ---- outage confirmation: counts, not times ------------------------------------------------------------

results = st.lists(st.sampled_from([Result.UP, Result.DOWN, Result.BLOCKED, Result.ERROR]), max_size=40)
steps = st.lists(st.sampled_from([0.0, 0.0, 0.0, HOUR, -HOUR, -86400.0, 7 * 86400.0]), min_size=40, max_size=40)


def replay(sequence: list[Result], times: list[float], threshold: int) -> list[outage.Event]:
    health, events = outage.Health(), []
    for result, ts in zip(sequence, times, strict=False):
        health, new = outage.step(health, result, ts, "timeout", threshold)
        events += new
    return events


@given(results, steps, st.integers(min_value=1, max_value=4))
def test_clock_steps_neither_create_nor_hide_outages_nor_make_them_negative(
    sequence: list[Result], jumps: list[float], threshold: int
) -> None:
    steady = [1e9 + 60.0 * n for n in range(len(sequence))]
    stepped, offset = [], 0.0
    for ts, jump in zip(steady, jumps, strict=False):
        offset += jump
        stepped.append(ts + offset)
    expected = [type(e) for e in replay(sequence, steady, threshold)]
    events = replay(sequence, stepped, threshold)
    assert [type(e) for e in events] == expected
    assert all(e.ended >= e.started for e in events if isinstance(e, outage.OutageEnd))


# ---- tracker: what is stored after a step ---------------------------------------------------------------

PAGE = Page("bureau", "news", "http://bureau.example/news/", PageKind.COLUMN, failure_threshold=2)
ITEMS = (Item("甲", "http://bureau.example/news/1.html", date(2026, 11, 1)),)


def outcome(ts: float, result: Result, unchanged: bool = False) -> CheckOutcome:
    kind = ErrorKind.TIMEOUT if result is Result.DOWN else None
    probe = ProbeResult(url=PAGE.url, started_at=ts, result=result, error_kind=kind, duration_s=0.2)
    extraction = Extraction(ExtractKind.LIST, "utf-8", ITEMS, date(2026, 11, 1)) if not unchanged else None
    if result is not Result.UP:
        extraction = None
    return CheckOutcome(PAGE, probe, result, kind, None, 42, unchanged, extraction)


@pytest.mark.parametrize("step", [-HOUR, HOUR])
def test_stored_history_has_no_negative_spans_after_a_step(tmp_path: Path, step: float) -> None:
    """Checks, outages and item sightings recorded across a step keep end >= start."""
    store = Store.open(tmp_path / "m.db")
    page_id = store.sync_pages([("bureau", "某某局", "http://bureau.example/")], [PAGE], 0.0)[PAGE.key]
    store.writer.start()
    tracker = Tracker(store, run_id=None)
    rt = PageRuntime(PAGE, page_id)
    t = 1_800_000_000.0
    script = [(0, Result.UP, False), (60, Result.UP, True), (120, Result.DOWN, False)]
    script += [(180 + step, Result.DOWN, False), (240 + step, Result.UP, False), (300 + step, Result.UP, True)]
    for at, result, unchanged in script:
        tracker.record(rt, outcome(t + at, result, unchanged), t + at)
    restarted = PageRuntime(PAGE, page_id)  # a restart, with the clock now two hours behind
    tracker.record(restarted, outcome(t - 2 * HOUR, Result.UP), t - 2 * HOUR)
    assert store.writer.flush(5)
    assert store.query("SELECT count(*) FROM checks WHERE duration_ms < 0")[0][0] == 0
    assert [tuple(r) for r in store.query("SELECT count(*), sum(ended < started) FROM outages")] == [(1, 0)]
    assert store.query("SELECT count(*) FROM items WHERE last_seen < first_seen")[0][0] == 0
    store.close()


# ---- the scheduler: a step back must not stall every job ---------------------------------------------------


class SteppingClock:
    """The real clock, with a wall-clock offset a test can step."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic()


def stepping_datetime(clock: SteppingClock) -> type[datetime]:
    class SteppedDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            return datetime.fromtimestamp(clock.now(), tz)

    return SteppedDatetime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SteppingClock:
    """Steps the daemon's clock and APScheduler's view of the time together, as NTP would."""
    stepping = SteppingClock()
    stepped = stepping_datetime(stepping)
    for module in (
        "apscheduler.schedulers.base",
        "apscheduler.executors.base",
        "apscheduler.triggers.interval",
        "monitor.daemon._core",
    ):
        monkeypatch.setattr(f"{module}.datetime", stepped)
    return stepping


def daemon_config(tmp_path: Path, sim: SimPortal) -> Any:
    document = {
        "storage": {"path": str(tmp_path / "m.db")},
        "metrics": {"listen": "127.0.0.1:0"},
        "defaults": {"interval": "1s", "timeout": "2s", "retry_delay": "1s", "jitter": 0},
        "sites": [
            {
                "name": "sim",
                "title": "模拟",
                "base_url": sim.base_url,
                "discover": False,
                "pages": [{"name": "home", "url": "/", "kind": "homepage"}],
            }
        ],
    }
    return parse_config(document, source=tmp_path / "config.yaml")


@contextlib.contextmanager
def running(daemon: Daemon) -> Iterator[Callable[[float], None]]:
    """Run the daemon's loop in this thread; the yielded `run_for(seconds)` advances it."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(daemon.run())

    def run_for(seconds: float) -> None:
        loop.run_until_complete(asyncio.sleep(seconds))

    try:
        yield run_for
    finally:
        daemon.request_stop()
        loop.run_until_complete(task)
        loop.close()


@pytest.mark.slow
@pytest.mark.parametrize("step", [-HOUR, HOUR])
def test_checks_keep_their_cadence_after_the_wall_clock_steps(
    tmp_path: Path, clock: SteppingClock, step: float, record_property: Any
) -> None:
    with SimPortal() as sim:
        config = daemon_config(tmp_path, sim)
        store = Store.open(config.db_path)
        daemon = Daemon(config, store=store, fetcher=Fetcher(clock=clock), clock=clock)
        with running(daemon) as run_for:
            deadline = time.monotonic() + 10.0  # the first check, however slow the start on a loaded machine
            while store.count("checks") < 1 and time.monotonic() < deadline:
                run_for(0.1)
            before = store.count("checks")
            clock.offset += step
            stepped = time.monotonic()
            run_for(3.0)
            after = store.count("checks") - before
    durations = [r[0] for r in store.query("SELECT duration_ms FROM checks")]
    outages = store.count("outages")
    store.close()
    record_property(f"checks_in_3s_after_a_{step:+.0f}s_step", after)
    assert before >= 1 and after >= 2, f"{after} checks in the 3 s after the step (at {stepped})"
    assert min(durations) >= 0 and outages == 0
