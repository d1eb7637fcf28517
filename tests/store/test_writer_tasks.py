"""Writer tasks: steps run in order with the writes around them, continue themselves behind the
queue, and a failing task is dropped without losing the checks in its batch."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from monitor.models import Page, PageKind, ProbeResult, Result
from monitor.store._ops import CheckRow
from monitor.store._store import Store
from monitor.store._writer import Statement, WriterSettings

HOME = Page("s", "home", "http://s.example/", PageKind.HOMEPAGE)


@dataclass(frozen=True)
class Counter:
    """Counts its steps in `meta` and continues itself until `left` is 0."""

    left: int

    def statements(self) -> Iterable[Statement]:
        return ()

    def step(self, conn: sqlite3.Connection) -> Counter | None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('steps', '1')"
            " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
        return Counter(self.left - 1) if self.left > 1 else None


@dataclass(frozen=True)
class Broken:
    def statements(self) -> Iterable[Statement]:
        return ()

    def step(self, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('half', 'done')")
        raise RuntimeError("a bug")


def check(page_id: int, ts: float) -> CheckRow:
    return CheckRow(page_id, ProbeResult(HOME.url, ts, Result.UP), Result.UP, None, None, 0)


def test_tasks_continue_and_a_broken_one_is_dropped_alone(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(linger_s=0.0))
    home = store.sync_pages([("s", "S", HOME.url)], [HOME], 0.0)[HOME.key]
    store.writer.start()
    store.submit([check(home, 1.0), Broken(), Counter(3), check(home, 2.0)])
    assert store.writer.drain(10)
    assert store.count("checks") == 2 and store.writer.healthy
    assert [tuple(r) for r in store.query("SELECT key, value FROM meta")] == [("steps", "3")]  # no 'half'
    assert len(store.run_task(Counter(4))) == 4
    assert store.query("SELECT value FROM meta WHERE key = 'steps'")[0][0] == "7"
    store.close()


def test_a_task_chain_stops_where_a_newer_task_of_its_kind_is_queued(tmp_path: Path) -> None:
    """A rollup tick a minute while a long backfill runs must not grow one chain of steps per tick."""
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(linger_s=0.0, batch_max=1))
    store.writer.start()
    store.submit([Counter(3), Counter(3)])  # the second arrives while the first still has work
    assert store.writer.drain(10)
    steps = store.query("SELECT value FROM meta WHERE key = 'steps'")[0][0]
    assert steps == "4"  # the first's one step, then the newer one's three; not 3 + 3
    store.close()
