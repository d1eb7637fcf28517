"""A site sweep in a child process (`monitor.links._sweepworker`), recorded by the daemon.

The daemon's memory: a sweep's objects live and die in the child, whose pages the kernel takes
back when it exits; the daemon holds one batch of rows at a time (read from the pipe only after
the previous batch is written) and gives the free pages those batches leave back to the system
(`release_free_heap`) when the sweep ends. The daemon's politeness: every request the child makes
is a link check of the daemon's own `HostBudget` (monitor.check's, the one its page checks and
homepage passes share: page checks go first, link checks never hold a host's last slot and wait
out spacing and back-off holding none), so a host still sees one budget. The pass is closed as
`run_pass` closes one (`close_pass`): a homepage the child could not read leaves it not completed,
a page it could not read for a passing reason leaves it partial (nothing marked removed). The
child started is `python -m monitor.links._sweepmain` (not forked: the daemon has threads); a stop
kills it, leaving the pass recorded as incomplete.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from monitor.check import HostBudget
from monitor.heap import release_free_heap
from monitor.links._checker import LinkCache
from monitor.links._crawl import Sweep
from monitor.links._passes import BATCH_WRITE_WAIT_S, PassOutcome, PassPlan, close_pass
from monitor.links._sweepworker import outcome_from_json, outcome_to_json, plan_to_json, row_from_json
from monitor.links._types import LinkClass
from monitor.models import Clock
from monitor.store import LinkPassStarted, LinkResultsWritten, Store, WriteOp

logger = logging.getLogger(__name__)

LINE_LIMIT = 64 * 1024 * 1024
"""The longest line read from the child (a batch of rows; far above what a batch can weigh)."""


class SweepChildError(RuntimeError):
    """The child failed, died or said something that is not the protocol: the pass failed."""


class _Lender:
    """Lends the daemon's budget to the child: a link-check slot (`HostBudget.slot`) held from
    grant to release, per request."""

    def __init__(self, budget: HostBudget, send: Callable[[dict[str, Any]], None]) -> None:
        self._budget = budget
        self._send = send
        self._released: dict[int, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def acquire(self, ident: int, host: str) -> None:
        released = self._released[ident] = asyncio.Event()
        task = asyncio.create_task(self._hold(ident, host, released))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def release(self, ident: int) -> None:
        released = self._released.pop(ident, None)
        if released is not None:
            released.set()

    async def _hold(self, ident: int, host: str, released: asyncio.Event) -> None:
        async with self._budget.slot(host):
            with contextlib.suppress(OSError, RuntimeError):  # the child is gone: nobody to tell
                self._send({"grant": ident})
            await released.wait()

    async def aclose(self) -> None:
        """Give back every slot still lent (the child ended or was stopped)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def sweep_in_child(
    plan: PassPlan,
    *,
    budget: HostBudget,
    cache: LinkCache,
    store: Store,
    clock: Clock,
    submit: Callable[[Iterable[WriteOp]], None],
) -> PassOutcome:
    """Run `plan` in a child process under `budget` and record it as `run_pass` does; the child
    starts from `cache`'s external results and adds the ones it checked."""
    started = clock.now()
    submit([LinkPassStarted(plan.site, plan.kind, started)])
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.links._sweepmain",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=LINE_LIMIT,
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(_request(plan, store, clock, cache))
    lender = _Lender(budget, _writer_of(child.stdin))
    try:
        found, totals = await _converse(child.stdout, lender, budget, cache, plan, started, store, submit)
    finally:
        await lender.aclose()
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        await child.wait()
    outcome = close_pass(plan, started, found.finished_at, found, totals, submit)
    release_free_heap()
    return outcome


def _request(plan: PassPlan, store: Store, clock: Clock, cache: LinkCache) -> bytes:
    """The first line: the plan, where the site's state is read, and the offset that maps the
    child's wall clock onto the daemon's (a test's fixed clock stays the time stored)."""
    now = clock.now()
    known = [[url, at, outcome_to_json(outcome)] for url, at, outcome in cache.fresh(now)]
    request = {"plan": plan_to_json(plan), "db": str(store.path), "clock_offset_s": now - time.time(), "cache": known}
    return json.dumps(request, ensure_ascii=False).encode() + b"\n"


def _writer_of(stdin: asyncio.StreamWriter) -> Callable[[dict[str, Any]], None]:
    def send(message: dict[str, Any]) -> None:
        if stdin.is_closing():
            raise RuntimeError("the sweep child's input is closed")
        stdin.write(json.dumps(message).encode() + b"\n")

    return send


async def _converse(
    lines: asyncio.StreamReader,
    lender: _Lender,
    budget: HostBudget,
    cache: LinkCache,
    plan: PassPlan,
    started: float,
    store: Store,
    submit: Callable[[Iterable[WriteOp]], None],
) -> tuple[Sweep, dict[str, int]]:
    """Answer the child's budget requests and write its rows until it is done."""
    totals = {c.value: 0 for c in LinkClass}
    while line := await lines.readline():
        try:
            message = json.loads(line)
            if "acquire" in message:
                ident, host = message["acquire"]
                lender.acquire(int(ident), str(host))
            elif "release" in message:
                lender.release(int(message["release"]))
            elif "back_off" in message:
                host, seconds = message["back_off"]
                budget.back_off(str(host), float(seconds))
            elif "cached" in message:
                for url, checked_at, outcome in message["cached"]:
                    cache.put(str(url), float(checked_at), outcome_from_json(outcome))
            elif "rows" in message:
                rows = tuple(row_from_json(row) for row in message["rows"])
                for row in rows:
                    totals[row.link_class] = totals.get(row.link_class, 0) + 1
                submit([LinkResultsWritten(plan.site, plan.kind, started, rows)])
                if store.writer.alive:  # the next batch stays in the pipe until this one is written
                    await asyncio.to_thread(store.writer.flush, BATCH_WRITE_WAIT_S)
            elif "done" in message:
                return _sweep_of(plan, started, message["done"]), totals
            elif "error" in message:
                raise SweepChildError(f"sweep child failed: {message['error']}")
        except (KeyError, TypeError, ValueError) as exc:
            raise SweepChildError(f"sweep child said something unexpected: {type(exc).__name__}") from None
    raise SweepChildError("sweep child ended without finishing the sweep")


def _sweep_of(plan: PassPlan, started: float, done: dict[str, Any]) -> Sweep:
    """The crawl as the child summed it up (its results stay in the child: none here): what
    `close_pass` needs to tell a complete pass from one whose homepage or pages went unread."""
    unread = {str(url): str(reason) for url, reason in dict(done["unread_starts"]).items()}
    return Sweep(
        plan.start_urls,
        started,
        float(done["ended"]),
        pages_read=int(done["pages_read"]),
        page_budget_hit=bool(done["budget_hit"]),
        unread_starts=unread,
        unread_pages=int(done["unread_pages"]),
    )
