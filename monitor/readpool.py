"""Reading page bodies (decode, content checks, extraction) in worker processes, within a budget.

A page's parse is lexbor's C parser plus pure Python, and both hold the GIL: in a thread it would
still starve the event loop, and a hostile page (tens of thousands of nested elements, at the
5 MiB body cap) can keep either busy for minutes. So the daemon reads bodies in a few long-lived
child processes (`python -m monitor.readpool`, started on first use; not forked: the daemon has
threads), one body at a time each. A body not read within the budget has its worker killed (the
next read starts a fresh one) and the check is recorded `up` with error_kind `too_complex`: the
page did load, so availability is fine and only its content is unknown (see docs/metrics.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import pickle
import signal
import subprocess
import sys
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import IO, Any

from monitor.check import CheckOutcome, Previous, judge_body
from monitor.models import LISTED_KINDS, ErrorKind, Extraction, ExtractKind, Page, ProbeResult, Result
from monitor.store import content_hash

WORKERS = 2
"""Worker processes: bodies read at once. More would only share the same cores."""

READ_BUDGET_S = 10.0
"""Wall time one body may take to read; a normal page takes milliseconds, a hostile one forever."""

TOO_COMPLEX_REMEMBERED = 256
"""Bodies (by content hash) remembered as too complex: the same bytes are not read again."""

START_TIMEOUT_S = 60.0
"""How long a new worker may take to import the extractor before the read is given up."""

_READY = "ready"


class WorkerError(RuntimeError):
    """A worker died or failed on a body: the monitor's own failure (an `error` result)."""


class _Worker:
    """One child process reading bodies sent over its stdin, answering on its stdout (pickles)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        """Start the child if it is not running and wait until it has imported the extractor."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            process = subprocess.Popen(
                [sys.executable, "-m", "monitor.readpool"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            self._process = process
        if _receive(process.stdout) != _READY:
            self.kill()
            raise WorkerError("read worker did not start")

    def call(self, request: tuple[Any, ...]) -> Any:
        """Send one request and wait for its answer (blocking: runs on the pool's threads)."""
        process = self._process
        if process is None or process.stdin is None:
            raise WorkerError("read worker not started")
        try:
            pickle.dump(request, process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            process.stdin.flush()
            status, value = _receive(process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise WorkerError(f"read worker died: {type(exc).__name__}") from None
        if status != "ok":
            raise WorkerError(f"read worker failed: {value}")
        return value

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

    async def judge(self, page: Page, probe: ProbeResult, previous: Previous, today: date) -> CheckOutcome:
        """`monitor.check.judge_body` in a worker; a body not read within the budget is `too_complex`,
        and so is the same body again, at once (a hostile page costs one budget, not one per check)."""
        digest = content_hash(probe.body)
        if digest in self._too_complex:
            return too_complex(page, probe, self.budget_s)
        async with self._free:
            worker = self._idle.pop()
            try:
                outcome = await self._read(worker, (page, probe, previous, today))
            finally:
                self._idle.append(worker)
        if outcome.error_kind is ErrorKind.TOO_COMPLEX:
            self._too_complex[digest] = None
            while len(self._too_complex) > TOO_COMPLEX_REMEMBERED:
                self._too_complex.popitem(last=False)
        return outcome

    async def _read(self, worker: _Worker, request: tuple[Page, ProbeResult, Previous, date]) -> CheckOutcome:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(self._threads, worker.ensure_started), START_TIMEOUT_S)
            call = loop.run_in_executor(self._threads, worker.call, request)
            outcome: CheckOutcome = await asyncio.wait_for(call, self.budget_s)
        except TimeoutError:
            worker.kill()
            return too_complex(request[0], request[1], self.budget_s)
        except BaseException:
            worker.kill()  # cancelled (shutdown) or the worker died: never leave a read running
            raise
        return outcome

    def close(self) -> None:
        """Stop every worker (reads in flight end with an error); the pool stays usable."""
        for worker in self._workers:
            worker.kill()
        self._threads.shutdown(wait=False, cancel_futures=True)


def too_complex(page: Page, probe: ProbeResult, budget_s: float) -> CheckOutcome:
    """The verdict on a body that could not be read in time: `up` (the page did load), content unknown."""
    extraction = Extraction(ExtractKind.UNKNOWN, "") if page.kind in LISTED_KINDS else None
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


def _receive(stream: IO[bytes] | None) -> Any:
    if stream is None:
        raise EOFError
    return pickle.load(stream)  # our own child process


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The worker's loop: read (page, probe, previous, today), answer ("ok", outcome) or ("error", why)."""
    pickle.dump(_READY, replies)
    replies.flush()
    while True:
        try:
            request = pickle.load(requests)  # from our parent
        except EOFError:
            return
        try:
            reply: tuple[str, object] = ("ok", judge_body(*request))
        except Exception as exc:  # reported to the parent: an error result
            reply = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


def main() -> None:
    """Entry point of a worker: Ctrl-C is the parent's to handle; stdout carries only replies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = sys.stdout.buffer
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
