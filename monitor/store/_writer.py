"""The background database writer: one thread, one connection, batched transactions.

Callers submit write operations and never wait for SQLite; a failing disk or a read-only file
keeps the operations in a bounded backlog that is written when the database is usable again.
Private to `monitor.store`; knows nothing of checks or outages beyond `WriteOp`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

log = logging.getLogger("monitor.store")

Statement = tuple[str, Sequence[Any]]


class WriteOp(Protocol):
    """A unit of writing: the statements it needs, applied inside a batch transaction."""

    def statements(self) -> Iterable[Statement]: ...


class Task(Protocol):
    """A write that must read first (rollups, pruning); its `statements()` are empty.

    `step` runs on the writer's connection inside the batch transaction, does a bounded amount
    of work and returns the task that continues it, queued behind the writes already waiting so
    maintenance never holds checks up for long; None when done.
    """

    def statements(self) -> Iterable[Statement]: ...

    def step(self, conn: sqlite3.Connection) -> Task | None: ...


@dataclass
class WriterStats:
    """Counters the metrics endpoint reads (copied under the writer's lock).

    `checks_written` counts committed operations the store marked as checks (`is_check`): a check
    counted there is in the database file, and survives the process being killed.
    """

    ops_written: int = 0
    checks_written: int = 0
    write_errors: int = 0
    ops_dropped: int = 0
    backlog: int = 0
    batches: int = 0
    batch_seconds: list[float] = field(default_factory=list)
    last_error: str | None = None
    last_success: float | None = None


@dataclass(frozen=True)
class WriterSettings:
    batch_max: int = 2000
    linger_s: float = 0.05
    max_backlog: int = 200_000
    retry_min_s: float = 0.2
    retry_max_s: float = 10.0
    busy_timeout_ms: int = 10_000


ConnectFn = Callable[[], sqlite3.Connection]


def _never(op: WriteOp) -> bool:
    return False


class Writer:
    """Applies submitted operations in batches on its own thread."""

    def __init__(
        self,
        connect: ConnectFn,
        path: Path,
        settings: WriterSettings | None = None,
        is_check: Callable[[WriteOp], bool] = _never,
    ) -> None:
        self._connect = connect
        self._path = path
        self._settings = settings or WriterSettings()
        self._is_check = is_check
        self._overflowing = False
        self._queue: collections.deque[WriteOp] = collections.deque()
        self._cond = threading.Condition()
        self._stats = WriterStats()
        self._submitted = 0
        self._committed = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._inode: int | None = None

    # -- caller side -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
        self._thread.start()

    def submit(self, op: WriteOp) -> None:
        """Queue one operation; never blocks on the database."""
        self.submit_many((op,))

    def submit_many(self, ops: Iterable[WriteOp]) -> None:
        with self._cond:
            for op in ops:
                self._queue.append(op)
                self._submitted += 1
            self._drop_overflow()
            self._stats.backlog = len(self._queue)
            self._cond.notify()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything submitted so far is committed (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            target = self._submitted
            self._cond.notify()
            while self._committed < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.alive:
                    return False
                self._cond.wait(min(remaining, 0.1))
        return True

    def drain(self, timeout_s: float = 60.0) -> bool:
        """Like `flush`, and also wait for the follow-ups of tasks (tests, generated history)."""
        deadline = time.monotonic() + timeout_s
        while self.flush(max(0.0, deadline - time.monotonic())):
            with self._cond:
                if not self._queue:
                    return True
        return False

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Write what is queued (within the timeout), then close the connection."""
        flushed = self.flush(timeout_s)
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread:
            self._thread.join(timeout=max(1.0, timeout_s))
        return flushed

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def healthy(self) -> bool:
        """Alive and not stuck failing (a failing writer keeps the backlog but is not healthy)."""
        with self._cond:
            return self.alive and self._stats.last_error is None

    def stats(self) -> WriterStats:
        """A copy of the counters (batch durations not included: see `take_batch_seconds`)."""
        with self._cond:
            return WriterStats(**{**self._stats.__dict__, "batch_seconds": []})

    def take_batch_seconds(self) -> list[float]:
        """Durations of the batches written since the last call (for a histogram)."""
        with self._cond:
            taken = list(self._stats.batch_seconds)
            self._stats.batch_seconds.clear()
            return taken

    # -- writer thread -----------------------------------------------------------------------

    def _drop_overflow(self) -> None:
        """Keep memory bounded when the database is unusable for long: drop the oldest ops.

        Logged once per episode (not per submit): the count is in the stats and the metrics.
        """
        excess = len(self._queue) - self._settings.max_backlog
        for _ in range(max(0, excess)):
            self._queue.popleft()
            self._committed += 1
            self._stats.ops_dropped += 1
        if excess > 0 and not self._overflowing:
            self._overflowing = True
            log.error(
                "database backlog full (%d operations): dropping the oldest until the database is writable again",
                self._settings.max_backlog,
            )

    def _run(self) -> None:
        delay = self._settings.retry_min_s
        while True:
            batch = self._next_batch()
            if batch is None:
                break
            if self._write(batch):
                delay = self._settings.retry_min_s
                continue
            with self._cond:
                if self._stopping:
                    break
                self._cond.wait(delay)
            delay = min(delay * 2, self._settings.retry_max_s)
        self._close()

    def _next_batch(self) -> list[WriteOp] | None:
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait(0.5)
            if len(self._queue) < self._settings.batch_max and not self._stopping:
                self._cond.wait(self._settings.linger_s)
            return [self._queue[i] for i in range(min(len(self._queue), self._settings.batch_max))]

    def _write(self, batch: list[WriteOp]) -> bool:
        started = time.monotonic()
        try:
            conn = self._connection()
            follow_ups = _apply(conn, batch)
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)
            return False
        with self._cond:
            for _ in batch:
                self._queue.popleft()
            self._committed += len(batch)
            if not self._stopping:  # maintenance resumes at the next start, not during shutdown
                follow_ups = [task for task in follow_ups if not self._superseded(task)]
                self._queue.extend(follow_ups)
                self._submitted += len(follow_ups)
            self._overflowing = False
            stats = self._stats
            if stats.last_error is not None:
                log.warning("database writable again: wrote %d queued operations", len(batch))
            stats.ops_written += len(batch)
            stats.checks_written += sum(1 for op in batch if self._is_check(op))
            stats.batches += 1
            stats.batch_seconds.append(time.monotonic() - started)
            del stats.batch_seconds[:-1000]
            stats.backlog = len(self._queue)
            stats.last_error = None
            stats.last_success = time.time()
            self._cond.notify_all()
        return True

    def _superseded(self, task: Task) -> bool:
        """A task of the same kind was submitted meanwhile: it works from the same watermarks with a
        later clock, so this chain stops there (otherwise a backlog that takes N minutes to roll up
        grows N chains of steps, one per minute's tick)."""
        return any(type(queued) is type(task) for queued in self._queue)

    def _failed(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        with self._cond:
            first = self._stats.last_error != message
            self._stats.write_errors += 1
            self._stats.last_error = message
        if first:
            log.error("database write failed (%s); keeping %d operations to retry", message, len(self._queue))
        self._close()

    def _connection(self) -> sqlite3.Connection:
        """The open connection, reopened when the file was deleted or replaced underneath us."""
        if self._conn is not None and self._file_replaced():
            log.error("database file %s was deleted or replaced; recreating it", self._path)
            self._close()
        if self._conn is None:
            self._conn = self._connect()
            self._conn.execute(f"PRAGMA busy_timeout = {int(self._settings.busy_timeout_ms)}")
            self._inode = _inode(self._path)
        return self._conn

    def _file_replaced(self) -> bool:
        return _inode(self._path) != self._inode

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _apply(conn: sqlite3.Connection, batch: list[WriteOp]) -> list[Task]:
    """Run the batch in one transaction, grouping runs of the same SQL; return tasks' follow-ups."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        follow_ups = _execute(conn, batch)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return follow_ups


def _execute(conn: sqlite3.Connection, batch: list[WriteOp]) -> list[Task]:
    """Statements in submission order; a task runs after the writes queued before it."""
    follow_ups: list[Task] = []
    plain: list[WriteOp] = []
    for op in batch:
        if not hasattr(op, "step"):  # not isinstance(op, Task): that costs microseconds per check
            plain.append(op)
            continue
        _execute_grouped(conn, plain)
        plain = []
        follow_up = _step(conn, cast(Task, op))
        if follow_up is not None:
            follow_ups.append(follow_up)
    _execute_grouped(conn, plain)
    return follow_ups


def _execute_grouped(conn: sqlite3.Connection, ops: list[WriteOp]) -> None:
    for sql, rows in _grouped(ops):
        if len(rows) == 1:
            conn.execute(sql, rows[0])
        else:
            conn.executemany(sql, rows)


def _step(conn: sqlite3.Connection, task: Task) -> Task | None:
    """One step of a task; a failing task is rolled back and dropped, never the checks with it."""
    conn.execute("SAVEPOINT task")
    try:
        follow_up = task.step(conn)
    except Exception:
        log.exception("maintenance task %s failed; dropped (the next one will catch up)", type(task).__name__)
        conn.execute("ROLLBACK TO task")
        follow_up = None
    conn.execute("RELEASE task")
    return follow_up


def run_task(conn: sqlite3.Connection, task: Task) -> list[float]:
    """Run a task to completion on `conn` outside the writer (the CLI), one transaction per step.

    Returns each step's duration in seconds (the longest is what a concurrent writer waited).
    """
    durations: list[float] = []
    current: Task | None = task
    while current is not None:
        started = time.monotonic()
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = current.step(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        durations.append(time.monotonic() - started)
    return durations


def _grouped(batch: list[WriteOp]) -> list[tuple[str, list[Sequence[Any]]]]:
    groups: list[tuple[str, list[Sequence[Any]]]] = []
    for op in batch:
        for sql, params in op.statements():
            if groups and groups[-1][0] == sql:
                groups[-1][1].append(params)
            else:
                groups.append((sql, [params]))
    return groups
