"""The sweep worker: started as `python -m monitor.links._sweepmain` by `monitor.links._isolated`.

A site sweep holds every URL it found, every place each appears and every result until it ends
(100,000 links: ~80 MB), and the allocators keep most of those pages after it is freed. Run in
this child process, that memory goes back to the system when the child exits: the daemon's RSS
returns to where it was (docs/benchmarks.md).

The pipe carries JSON lines only, both ways (the daemon never unpickles what a process that read
hostile pages produced):

- daemon -> child: first the request (`plan_to_json`, the database path, the daemon's clock
  offset, the daemon's fresh external results: an external URL is checked once a day across
  sites), then `{"grant": id}` each time the daemon's `HostBudget` gives a request its turn.
- child -> daemon: `{"acquire": [id, host]}` / `{"release": id}` around every request and
  `{"back_off": [host, seconds]}` (the politeness stays the daemon's: one budget per host, shared
  with everything else the daemon sends there), then the external results it checked
  (`{"cached": [...]}`, for the daemon's cache), the escalated rows in bounded batches
  (`{"rows": [...]}`, each read only after the previous one is written), and `{"done": {...}}`
  (pages read, budget hit, the start URLs it could not read and the pages it left unread: the
  daemon decides whether the pass completed and whether it was partial) or `{"error": "..."}`.

The child reads the site's stored link state itself (read-only) to escalate suspects, so the
daemon never holds the whole site's state either. Never run by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

from monitor.check import HostBudget
from monitor.links._checker import LinkCache, LinkChecker
from monitor.links._classify import Exclusions, SiteScope
from monitor.links._crawl import Sweep, crawl
from monitor.links._passes import RESULTS_PER_BATCH, PassPlan, batches, result_rows
from monitor.links._types import LinkSettings, Outcome
from monitor.models import ErrorKind
from monitor.store import OCCURRENCES_KEPT, LinkOccurrenceRow, LinkResultRow, Store

Send = Callable[[dict[str, Any]], None]


# -- the wire -----------------------------------------------------------------------------------


def plan_to_json(plan: PassPlan) -> dict[str, Any]:
    """A pass plan as JSON values (its exclusions are its settings' patterns)."""
    settings = dataclasses.asdict(plan.settings)
    settings.update(private_hosts=sorted(plan.settings.private_hosts), exclude=list(plan.settings.exclude))
    return {
        "site": plan.site,
        "kind": plan.kind,
        "start_urls": list(plan.start_urls),
        "hosts": sorted(plan.scope.hosts),
        "settings": settings,
        "max_depth": plan.max_depth,
        "homepage": plan.homepage,
    }


def plan_from_json(found: dict[str, Any]) -> PassPlan:
    """The plan `plan_to_json` wrote."""
    raw = found["settings"]
    settings = LinkSettings(
        **{**raw, "private_hosts": frozenset(raw["private_hosts"]), "exclude": tuple(raw["exclude"])}
    )
    return PassPlan(
        site=str(found["site"]),
        kind=str(found["kind"]),
        start_urls=tuple(str(url) for url in found["start_urls"]),
        scope=SiteScope(frozenset(str(host) for host in found["hosts"])),
        exclusions=Exclusions(settings.exclude),
        settings=settings,
        max_depth=int(found["max_depth"]),
        homepage=str(found["homepage"]),
    )


def row_to_json(row: LinkResultRow) -> list[Any]:
    """One row as a list of its fields, its occurrences as lists too (only the stored ones)."""
    fields = [getattr(row, f.name) for f in dataclasses.fields(LinkResultRow)][:-1]
    return [*fields, [dataclasses.astuple(o) for o in row.occurrences[:OCCURRENCES_KEPT]]]


def row_from_json(found: list[Any]) -> LinkResultRow:
    """The row `row_to_json` wrote; malformed input raises (TypeError, ValueError)."""
    *fields, occurrences = found
    names = [f.name for f in dataclasses.fields(LinkResultRow)][:-1]
    row = LinkResultRow(
        **dict(zip(names, fields, strict=True)), occurrences=tuple(LinkOccurrenceRow(*o) for o in occurrences)
    )
    if not isinstance(row.url, str) or not isinstance(row.link_class, str):
        raise ValueError("a row without a URL or class")
    return row


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    """An external URL's cached outcome as JSON values."""
    found = dataclasses.asdict(outcome)
    found["error_kind"] = outcome.error_kind.value if outcome.error_kind else None
    return found


def outcome_from_json(found: dict[str, Any]) -> Outcome:
    """The outcome `outcome_to_json` wrote; malformed input raises (TypeError, ValueError)."""
    kind = found.get("error_kind")
    return Outcome(**{**found, "error_kind": ErrorKind(kind) if kind else None})


def send_line(stream: IO[bytes]) -> Send:
    """A sender of one JSON line per message on `stream`, flushed at once (grants are waited for)."""

    def send(message: dict[str, Any]) -> None:
        stream.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        stream.flush()

    return send


# -- the child's side of the daemon's budget ----------------------------------------------------


class RemoteBudget(HostBudget):
    """The daemon's `HostBudget`, asked over the pipe: a request starts when the daemon grants it
    a link-check slot (after the page checks, within the link checks' share, its turn waited for
    there) and releases it when done; back-off pauses are the daemon's too. Only `slot` and
    `back_off` are what a `LinkChecker` asks of its budget; this process has no page checks."""

    def __init__(self, send: Send) -> None:
        super().__init__()
        self._send = send
        self._ids = itertools.count(1)
        self._grants: dict[int, asyncio.Future[None]] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        ident = next(self._ids)
        granted = self._grants[ident] = asyncio.get_running_loop().create_future()
        self._send({"acquire": [ident, host]})
        try:
            await granted
            yield
        finally:
            self._grants.pop(ident, None)
            self._send({"release": ident})

    def back_off(self, host: str, seconds: float) -> None:
        self._send({"back_off": [host, seconds]})

    def granted(self, ident: int) -> None:
        """The daemon gave request `ident` its turn (a grant for a request given up is ignored)."""
        waiting = self._grants.get(ident)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)


async def _read_grants(budget: RemoteBudget, main: asyncio.Task[Any]) -> None:
    """Feed the daemon's grants to the budget; the daemon gone (end of input) or a line that is not
    a grant ends the sweep (waiting on would hang it: no grant would come)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            budget.granted(int(json.loads(line)["grant"]))
    except (ValueError, KeyError, TypeError):
        pass
    main.cancel()


# -- the sweep ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _ShiftedClock:
    """The daemon's clock seen from here: wall time moved by the offset the daemon sent (a test's
    fixed clock stays the time stored), monotonic time this process's own."""

    offset_s: float

    def now(self) -> float:
        return time.time() + self.offset_s

    def monotonic(self) -> float:
        return time.monotonic()


async def sweep(request: dict[str, Any], send: Send) -> None:
    """Crawl the requested plan under the daemon's budget, then send its escalated rows in batches."""
    plan, clock = plan_from_json(request["plan"]), _ShiftedClock(float(request["clock_offset_s"]))
    budget, cache = RemoteBudget(send), LinkCache(plan.settings.external_ttl_s)
    known = set()
    for url, checked_at, outcome in request["cache"]:
        cache.put(url, float(checked_at), outcome_from_json(outcome))
        known.add(url)
    grants = asyncio.create_task(_read_grants(budget, asyncio.current_task()))  # type: ignore[arg-type]
    try:
        async with LinkChecker(plan.settings, budget=budget, clock=clock, cache=cache) as checker:
            found = await crawl(
                checker, plan.scope, plan.start_urls, exclusions=plan.exclusions, max_depth=plan.max_depth
            )
    finally:
        grants.cancel()
    checked = [[url, at, outcome_to_json(o)] for url, at, o in cache.fresh(clock.now()) if url not in known]
    for start in range(0, len(checked), RESULTS_PER_BATCH):  # for the daemon's cache: once a day across sites
        send({"cached": checked[start : start + RESULTS_PER_BATCH]})
    _send_rows(plan, found, str(request["db"]), send)
    done = {"pages_read": found.pages_read, "budget_hit": found.page_budget_hit or found.link_budget_hit}
    unread = {"unread_starts": found.unread_starts, "unread_pages": found.unread_pages}
    send({"done": {**done, **unread, "ended": clock.now()}})


def _send_rows(plan: PassPlan, found: Sweep, db: str, send: Send) -> None:
    """Escalate from the site's stored state (read here, read-only) and send the rows in batches."""
    store = Store.open(db, readonly=True)
    try:
        previous = {row.url: row for row in store.links().states([plan.site], include_removed=True)}
    finally:
        store.close()
    for batch in batches(result_rows(found, previous, plan.settings.suspect_passes), RESULTS_PER_BATCH):
        send({"rows": [row_to_json(row) for row in batch]})


def main() -> None:
    """Read the request, sweep, answer; stdout carries the protocol only (prints go to stderr).
    Ctrl-C and SIGTERM are the daemon's to handle (systemd's stop signals the whole unit; the
    daemon kills this process when it stops, and a daemon gone closes our input, which ends us);
    when memory runs out (the unit's MemoryMax), the kernel kills this process before the daemon
    (the pass is recorded as failed)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")
    out = sys.stdout.buffer
    sys.stdout = sys.stderr
    send = send_line(out)
    try:
        request = json.loads(sys.stdin.buffer.readline())
        asyncio.run(sweep(request, send))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(1)
    except Exception as exc:  # the daemon records the pass as failed with this line
        with contextlib.suppress(OSError):
            send({"error": f"{type(exc).__name__}: {exc}"[:500]})
        sys.exit(1)
