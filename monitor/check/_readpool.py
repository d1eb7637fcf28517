"""Reading page bodies (decode, content checks, extraction) in worker processes, within a budget.

A page's parse is lexbor's C parser plus pure Python, and both hold the GIL: in a thread it would
still starve the event loop, and a hostile page (tens of thousands of nested elements, at the
5 MiB body cap) can keep either busy for minutes. So the daemon reads bodies in a few long-lived
child processes (`python -m monitor.check._readmain`, started with the daemon; not forked: it has
threads), one body at a time each. A body not read within the budget has its worker killed (the
next read starts a fresh one) and the check is recorded `up` with error_kind `too_complex`: the
page did load, so availability is fine and only its content is unknown (see docs/metrics.md).
The same bytes are then not read again (remembered by content hash).

The pipe carries one JSON line (the page's read settings and the body's length) plus the raw
body to the worker, and one JSON line back: the daemon never unpickles or evaluates anything a
process that parsed a hostile page produced; it only reads JSON strings, numbers and dates.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from monitor.check._hashing import content_hash
from monitor.check._pipeline import CheckOutcome, Previous, Reading, outcome_of
from monitor.check._readworker import READY, receive, send
from monitor.integrity import inspection_from_json
from monitor.models import (
    LISTED_KINDS,
    ErrorKind,
    Extraction,
    ExtractKind,
    Page,
    ProbeResult,
    Result,
)

WORKERS = 2
"""Worker processes: bodies read at once. More would only share the same cores."""

READ_BUDGET_S = 10.0
"""Wall time one body may take to read; a normal page takes milliseconds, a hostile one forever."""

TOO_COMPLEX_REMEMBERED = 256
"""Bodies (by content hash) remembered as too complex: the same bytes are not read again."""

START_TIMEOUT_S = 60.0
"""How long a new worker may take to import the extractor before the read is given up."""


class WorkerError(RuntimeError):
    """A worker died or failed on a body: the monitor's own failure (an `error` result)."""


class WorkerDied(WorkerError):
    """The worker went away in the middle of a body: killed for memory (the unit's MemoryMax picks
    workers first) or crashed in the parser. The body is treated as too complex to read."""


class _Worker:
    """One child process reading bodies sent over its stdin, answering on its stdout (JSON lines)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        """Start the child if it is not running and wait until it has imported the extractor
        (the background warm-up and a first read may both ask: one starts it, the other waits)."""
        with self._lock:
            process = self._process
            spawn = process is None or process.poll() is not None
            if process is None or spawn:
                process = self._process = subprocess.Popen(
                    [sys.executable, "-m", "monitor.check._readmain"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
                self._ready = threading.Event()
            ready = self._ready
        if spawn:
            try:
                started = receive(process.stdout) == READY
            except (OSError, EOFError, ValueError):
                started = False
            ready.set()
        else:
            started = ready.wait(START_TIMEOUT_S)
        if not started or process.poll() is not None:
            self.kill()
            raise WorkerError("read worker did not start")

    def call(self, settings: dict[str, Any], body: bytes) -> Reading:
        """Send one body and wait for its reading (blocking: runs on the pool's threads)."""
        process = self._process
        if process is None or process.stdin is None:
            raise WorkerError("read worker not started")
        try:
            send(process.stdin, {**settings, "length": len(body)}, body)
            answer = receive(process.stdout)
        except (OSError, EOFError, ValueError) as exc:
            raise WorkerDied(f"read worker died: {type(exc).__name__}") from None
        if "error" in answer:
            raise WorkerError(f"read worker failed: {answer['error']}")
        try:
            return reading_from_json(answer)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise WorkerError(f"read worker answered nonsense: {type(exc).__name__}") from None

    def kill(self) -> None:
        """Stop the child at once (a body past its budget, or shutdown); the next read starts anew.

        Reaping it waits for the kernel to free the child's memory (hundreds of MB after a huge
        parse): a short-lived thread does that, not the caller's event loop."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.kill()
        threading.Thread(target=_reap, args=(process,), name="read-reaper", daemon=True).start()


def _quietly(start: Callable[[], None]) -> None:
    """Run `start`, dropping its error: the first read starts the worker again and reports it."""
    with contextlib.suppress(Exception):
        start()


def _reap(process: subprocess.Popen[bytes]) -> None:
    process.wait()
    for stream in (process.stdin, process.stdout):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()


class ReadPool:
    """A fixed set of read workers; `judge` is `monitor.check.Judge` for the daemon's checks."""

    def __init__(self, workers: int = WORKERS, budget_s: float = READ_BUDGET_S) -> None:
        self.budget_s = budget_s
        self._workers = [_Worker() for _ in range(workers)]
        self._idle = list(self._workers)
        self._free = asyncio.Semaphore(workers)
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read")
        self._too_complex: OrderedDict[int, None] = OrderedDict()

    async def start(self, timeout_s: float = START_TIMEOUT_S) -> bool:
        """Start every worker and wait, at most `timeout_s`, until each has imported the extractor:
        the daemon's first checks must not wait for a worker (with a 1 s interval a first check that
        did would make the next visit be skipped). False when some did not start in time; a read then
        starts its worker again (and reports the error if it still fails)."""
        loop = asyncio.get_running_loop()
        starts = [loop.run_in_executor(self._threads, _quietly, worker.ensure_started) for worker in self._workers]
        done, _ = await asyncio.wait(starts, timeout=timeout_s)
        return len(done) == len(starts)

    async def judge(
        self, page: Page, probe: ProbeResult, previous: Previous, today: date, *, inspect: str | None = None
    ) -> CheckOutcome:
        """`monitor.check.judge_body` in a worker; a body not read within the budget is `too_complex`,
        and so is the same body again, at once (a hostile page costs one budget, not one per check).
        `inspect`: also inspect the page's integrity in the worker, with that word list ("" for the
        shipped one), within the same budget; None (the default): do not."""
        digest = content_hash(probe.body)
        if digest in self._too_complex:
            return too_complex(page, probe, self.budget_s)
        async with self._free:
            worker = self._idle.pop()
            try:
                outcome = await self._read(worker, page, probe, today, digest, inspect)
            finally:
                self._idle.append(worker)
        if outcome.error_kind is ErrorKind.TOO_COMPLEX:
            self._too_complex[digest] = None
            while len(self._too_complex) > TOO_COMPLEX_REMEMBERED:
                self._too_complex.popitem(last=False)
        return outcome

    async def _read(
        self, worker: _Worker, page: Page, probe: ProbeResult, today: date, digest: int, inspect: str | None
    ) -> CheckOutcome:
        loop = asyncio.get_running_loop()
        try:
            start = loop.run_in_executor(self._threads, worker.ensure_started)
            try:
                await asyncio.wait_for(start, START_TIMEOUT_S)
            except TimeoutError:
                raise WorkerError("read worker did not start in time") from None
            settings = {**read_settings(page, probe, today), "inspect": inspect}
            call = loop.run_in_executor(self._threads, worker.call, settings, probe.body)
            try:
                reading = await asyncio.wait_for(call, self.budget_s)
            except (TimeoutError, WorkerDied):
                worker.kill()
                return too_complex(page, probe, self.budget_s)
        except BaseException:
            worker.kill()  # cancelled (shutdown) or the worker failed: never leave a read running
            raise
        return outcome_of(page, probe, digest, reading)

    def close(self) -> None:
        """Stop every worker and the threads that feed them (at shutdown: reads in flight end with an error)."""
        for worker in self._workers:
            worker.kill()
        self._threads.shutdown(wait=False, cancel_futures=True)


def too_complex(page: Page, probe: ProbeResult, budget_s: float) -> CheckOutcome:
    """The verdict on a body that could not be read in time: `up` (the page did load), content unknown."""
    extraction = Extraction(ExtractKind.OTHER, "") if page.kind in LISTED_KINDS else None
    return CheckOutcome(
        page,
        dataclasses.replace(probe, body=b""),
        Result.UP,
        ErrorKind.TOO_COMPLEX,
        f"page too complex to read within {budget_s:g}s",
        None,
        False,
        extraction,
    )


def read_settings(page: Page, probe: ProbeResult, today: date) -> dict[str, Any]:
    """What `read_body` uses of the page and the answer, besides the body (the worker's request)."""
    return {
        "url": page.url,
        "kind": page.kind.value,
        "expect": page.expect,
        "item_selector": page.item_selector,
        "date_selector": page.date_selector,
        "final_url": probe.final_url,
        "content_type": probe.content_type,
        "today": today.isoformat(),
    }


def reading_from_json(answer: dict[str, Any]) -> Reading:
    """The worker's answer as a Reading; anything malformed raises (KeyError, ValueError, TypeError).

    A problem and an extraction may come together: a shell is read even when the expected text is
    missing from it (the check then judges the page it leads to)."""
    problem = answer["problem"]
    found = answer["extraction"]
    encoding = answer["encoding"]
    found_inspection = answer.get("inspection")
    return Reading(
        None if problem is None else (ErrorKind(problem[0]), str(problem[1])),
        None if encoding is None else str(encoding),
        None if found is None else Extraction.from_json(found),
        None if found_inspection is None else inspection_from_json(found_inspection),
    )
