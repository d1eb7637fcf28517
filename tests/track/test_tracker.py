"""tracker.py: outcomes become store operations and metric updates; runtimes survive restarts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from monitor.check import CheckOutcome, Previous
from monitor.extract import extract
from monitor.metrics import MonitorState
from monitor.models import (
    ErrorKind,
    Extraction,
    ExtractKind,
    FixedClock,
    Item,
    Page,
    PageKind,
    ProbeResult,
    Result,
)
from monitor.store import Store
from monitor.track._tracker import PageRuntime, Tracker, restore_runtime
from tests.support.recording import RecordingPipeline

NEWS = Page("bureau", "news", "http://bureau.example/news/", PageKind.COLUMN, failure_threshold=2)
SITES = [("bureau", "某某局", "http://bureau.example/")]


def items(*numbers: int) -> tuple[Item, ...]:
    return tuple(Item(f"第{n}条", f"http://bureau.example/news/{n}.html", date(2026, 11, n)) for n in numbers)


def outcome(
    ts: float,
    result: Result = Result.UP,
    found: tuple[Item, ...] | None = None,
    digest: int | None = 1,
    unchanged: bool = False,
    kind: ExtractKind = ExtractKind.LIST,
    etag: str | None = None,
) -> CheckOutcome:
    probe = ProbeResult(
        url=NEWS.url,
        started_at=ts,
        result=result,
        status=200 if result is Result.UP else 503,
        etag=etag or f'"{ts}"',
        error_kind=None if result is Result.UP else ErrorKind.HTTP_STATUS,
    )
    extraction = None
    if found is not None:
        newest = max((i.date for i in found if i.date), default=None)
        extraction = Extraction(kind, "utf-8", found, newest)
    error_kind = None if result is Result.UP else ErrorKind.HTTP_STATUS
    return CheckOutcome(
        NEWS,
        probe,
        result,
        error_kind,
        None if result is Result.UP else "HTTP 503",
        digest if result is Result.UP else None,
        unchanged,
        extraction,
    )


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Store, MonitorState, RecordingPipeline, PageRuntime]]:
    store = Store.open(tmp_path / "m.db")
    page_id = store.sync_pages(SITES, [NEWS], 0.0)[NEWS.key]
    store.writer.start()
    state = MonitorState(FixedClock())
    state.set_pages([NEWS])
    yield store, state, RecordingPipeline(Tracker(store, run_id=None), state), PageRuntime(NEWS, page_id)
    store.close()


def new_items_metric(state: MonitorState) -> int:
    return state.snapshot()[0][0].items_new_total


def test_first_read_is_the_baseline_then_new_items_are_counted_once(setup) -> None:  # type: ignore[no-untyped-def]
    store, state, tracker, rt = setup
    assert tracker.record(rt, outcome(10, found=items(3, 2, 1)), 10).new_items == 0
    assert tracker.record(rt, outcome(20, found=items(4, 3, 2, 1), digest=2), 20).new_items == 1
    assert tracker.record(rt, outcome(30, found=items(2, 4, 1, 3), digest=3), 30).new_items == 0  # reordered
    assert new_items_metric(state) == 1
    assert store.writer.flush(5)
    rows = store.query("SELECT url, first_seen, last_seen FROM items ORDER BY url")
    assert [(r[0][-6:], r[1], r[2]) for r in rows] == [
        ("1.html", 10.0, 30.0),
        ("2.html", 10.0, 30.0),
        ("3.html", 10.0, 30.0),
        ("4.html", 20.0, 30.0),
    ]


def test_known_items_survive_a_restart(setup) -> None:  # type: ignore[no-untyped-def]
    store, _, tracker, rt = setup
    tracker.record(rt, outcome(10, found=items(2, 1)), 10)
    assert store.writer.flush(5)
    restarted = restore_runtime(NEWS, rt.page_id, store.page_states().get(rt.page_id), None)
    assert restarted.content.newest == date(2026, 11, 2) and restarted.content.item_count == 2
    assert tracker.record(restarted, outcome(20, found=items(3, 2, 1), digest=2), 20).new_items == 1


def test_unsendable_validators_stored_by_an_older_version_are_dropped_at_restore(setup) -> None:  # type: ignore[no-untyped-def]
    store, _, tracker, rt = setup
    tracker.record(rt, outcome(10, found=items(1), etag='"caf\xe9"'), 10)  # as an older version stored it
    assert store.writer.flush(5)
    assert store.page_states()[rt.page_id].etag == '"caf\xe9"'
    restarted = restore_runtime(NEWS, rt.page_id, store.page_states().get(rt.page_id), None)
    assert restarted.previous == Previous(None, None, 1)


def test_a_json_list_with_half_an_emoji_is_stored(setup) -> None:  # type: ignore[no-untyped-def]
    store, _, tracker, rt = setup
    api = '[{"title": "\\u901a\\u77e5\\ud83d", "url": "/news/1.html", "pubDate": "2026-11-02"}]'
    extraction = extract(api, base_url=NEWS.url, today=date(2026, 12, 1))
    found = outcome(10)
    tracker.record(rt, CheckOutcome(NEWS, found.probe, Result.UP, None, None, 7, False, extraction), 10)
    assert store.writer.flush(5)
    assert store.query("SELECT title, url FROM items")[0][:] == ("通知\ufffd", "http://bureau.example/news/1.html")


def test_unchanged_content_touches_items_and_keeps_validators(setup) -> None:  # type: ignore[no-untyped-def]
    store, _, tracker, rt = setup
    tracker.record(rt, outcome(10, found=items(1)), 10)
    tracker.record(rt, outcome(20, unchanged=True), 20)
    assert rt.previous == Previous('"20"', None, 1)
    assert store.writer.flush(5)
    assert store.query("SELECT last_seen FROM items")[0][0] == 20.0


def test_blank_and_unreadable(setup) -> None:  # type: ignore[no-untyped-def]
    _, _, tracker, rt = setup
    tracker.record(rt, outcome(10, found=()), 10)
    assert (rt.content.readable, rt.content.item_count) == (True, 0)
    tracker.record(rt, outcome(20, found=(), kind=ExtractKind.OTHER, digest=5), 20)
    assert rt.content.readable is False


def test_a_blocked_page_never_read_is_unreadable_but_keeps_known_facts(setup) -> None:  # type: ignore[no-untyped-def]
    _, _, tracker, rt = setup
    blocked = CheckOutcome(
        NEWS,
        ProbeResult(url=NEWS.url, started_at=5, result=Result.BLOCKED, status=412),
        Result.BLOCKED,
        ErrorKind.BLOCKED,
        "anti-bot",
    )
    tracker.record(rt, blocked, 5)
    assert rt.content.readable is False
    tracker.record(rt, outcome(10, found=items(1)), 10)
    tracker.record(rt, blocked, 15)
    assert rt.content.readable is True and rt.content.newest == date(2026, 11, 1)


def test_outages_open_close_and_retries_are_flagged(setup) -> None:  # type: ignore[no-untyped-def]
    store, state, tracker, rt = setup
    tracker.record(rt, outcome(10, found=items(1)), 10)
    assert tracker.record(rt, outcome(20, Result.DOWN), 20).opened is False
    assert tracker.record(rt, outcome(50, Result.DOWN), 50, attempt=1).opened is True
    assert tracker.record(rt, outcome(80, unchanged=True), 80, attempt=2).closed is True
    assert store.writer.flush(5)
    assert [tuple(r) for r in store.query("SELECT started, ended, failed_checks FROM outages")] == [(20.0, 80.0, 2)]
    assert [r[0] for r in store.query("SELECT attempt FROM checks ORDER BY ts_ms")] == [0, 0, 1, 2]
    assert state.snapshot()[0][0].outages_total == 1


def test_page_state_is_written_only_when_a_fact_changes(setup) -> None:  # type: ignore[no-untyped-def]
    store, _, tracker, rt = setup
    tracker.record(rt, outcome(10, found=items(1), etag='"v1"'), 10)
    for ts in (20, 30, 40):
        tracker.record(rt, outcome(ts, unchanged=True, etag='"v1"'), ts)
    assert store.writer.flush(5)
    assert store.writer.stats().ops_written == 4 + 3 + 1 + 1  # checks, touches, the items, one state row
