"""One forked process per shard database (`monitor report --db A --db B ...`): each opens its own
read-only connection to its database, does the part of the work that reads it, and sends the
result back through a pipe. Shards are independent, so N databases take the time of the slowest
one on N cores instead of their sum on one. The parent's connections are never used in a child
(SQLite forbids carrying one across fork); the config the parent loaded is inherited, not parsed
again. Where fork is unavailable, or with one database or one core, the work runs in-process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from monitor.store import Store

T = TypeVar("T")


class ShardError(RuntimeError):
    """A shard's worker failed: its one-line reason."""


def per_database(paths: Sequence[Path], job: Callable[[Store], T], *, workers: int | None = None) -> list[T]:
    """`job(store)` for each database in `paths` (opened read-only), in order; at most `workers`
    (default: the CPUs) processes at once."""
    limit = workers or os.cpu_count() or 1
    if limit <= 1 or len(paths) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [_run(path, job) for path in paths]
    out: list[T] = []
    for first in range(0, len(paths), limit):
        out += _batch(paths[first : first + limit], job)
    return out


def _run(path: Path, job: Callable[[Store], T]) -> T:
    store = Store.open(path, readonly=True)
    try:
        return job(store)
    finally:
        store.close()


def _batch(paths: Sequence[Path], job: Callable[[Store], T]) -> list[T]:
    context = multiprocessing.get_context("fork")
    started = []
    for path in paths:
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(path, job, sending), daemon=True)
        process.start()
        sending.close()
        started.append((process, receiving))
    results: list[Any] = []
    for process, receiving in started:
        try:
            ok, value = receiving.recv()  # before join: a large result fills the pipe
        except EOFError:
            ok, value = False, f"the worker for a shard exited without a result (code {process.exitcode})"
        process.join()
        if not ok:
            raise ShardError(str(value))
        results.append(value)
    return results


def _child(path: Path, job: Callable[[Store], Any], sending: Connection) -> None:
    try:
        sending.send((True, _run(path, job)))
    except Exception as exc:
        sending.send((False, f"{path}: {exc}"))
    finally:
        sending.close()
