"""Turns check outcomes into history: outage transitions, items, page facts (store operations).

Holds each page's runtime state between checks (restored from the database at start). Used by
the daemon and by `monitor check --record`; it submits store operations and returns what changed
(the daemon applies that to the metrics state); it never schedules anything itself.
"""

from __future__ import annotations

import bisect
import logging
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from monitor.check import CheckOutcome, Previous, content_hash
from monitor.models import Column, ContentFacts, Extraction, ExtractKind, Page, Result, sendable_validator
from monitor.store import (
    BlipRow,
    CheckRow,
    Heartbeat,
    ItemsSeen,
    ItemsTouched,
    OpenOutage,
    OutageClosed,
    OutageOpened,
    OutageProgress,
    PageStateRow,
    Store,
    WriteOp,
)
from monitor.track import outage

log = logging.getLogger("monitor.tracker")


class KnownUrls:
    """The item URLs a page has ever listed, as sorted 64-bit hashes: 8 bytes a URL instead of a
    Python string in a set (~170 bytes), which matters with thousands of pages and years of items."""

    def __init__(self, urls: Iterable[str] = ()) -> None:
        self._hashes = array("q", sorted({content_hash(url.encode()) for url in urls}))

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self._has(content_hash(url.encode()))

    def update(self, urls: Iterable[str]) -> None:
        new = {digest for digest in (content_hash(url.encode()) for url in urls) if not self._has(digest)}
        if new:
            self._hashes = array("q", sorted([*self._hashes, *new]))

    def _has(self, digest: int) -> bool:
        at = bisect.bisect_left(self._hashes, digest)
        return at < len(self._hashes) and self._hashes[at] == digest


@dataclass
class PageRuntime:
    """Everything remembered about one page between its checks."""

    page: Page
    page_id: int
    health: outage.Health = field(default_factory=outage.Health)
    previous: Previous = field(default_factory=Previous)
    content: ContentFacts = field(default_factory=ContentFacts)
    extract_kind: str | None = None
    pages_total: int | None = None
    fingerprint: int | None = None
    items_seen_at: float | None = None
    known_urls: KnownUrls | None = None
    last_state_row: PageStateRow | None = None


@dataclass(frozen=True)
class Recorded:
    """What recording one outcome changed, for the caller to act on: the daemon applies it to the
    metrics state (`MonitorState.apply`) and discovers a catalogue's columns.

    `content` is the page's content facts when this check changed them (None otherwise)."""

    outcome: CheckOutcome | None = None
    visit: bool = False
    events: tuple[outage.Event, ...] = ()
    content: ContentFacts | None = None
    new_items: int = 0
    columns: tuple[Column, ...] = ()

    @property
    def opened(self) -> bool:
        return any(isinstance(e, outage.OutageStart) for e in self.events)

    @property
    def closed(self) -> bool:
        return any(isinstance(e, outage.OutageEnd) for e in self.events)


def restore_runtime(
    page: Page, page_id: int, stored: PageStateRow | None, open_outage: OpenOutage | None
) -> PageRuntime:
    """Rebuild a page's runtime from what the database remembers."""
    rt = PageRuntime(page, page_id)
    if open_outage is not None:
        rt.health = outage.Health(
            outage_started=open_outage.started,
            outage_cause=open_outage.cause,
            outage_failed_checks=open_outage.failed_checks,
        )
    if stored is None:
        return rt
    if open_outage is None and stored.consecutive_failures:
        rt.health = outage.Health(
            consecutive_failures=stored.consecutive_failures,
            first_failure=stored.first_failure,
            first_failure_cause=stored.first_failure_cause,
        )
    # A validator stored by an older version may be unsendable (non-ASCII): drop it, read afresh.
    rt.previous = Previous(
        sendable_validator(stored.etag), sendable_validator(stored.last_modified), stored.content_hash
    )
    rt.content = stored.content()
    rt.extract_kind = stored.extract_kind
    rt.pages_total = stored.pages_total
    return rt


class Tracker:
    """Records outcomes as store operations, per page runtime; says what changed (`Recorded`)."""

    def __init__(self, store: Store, *, run_id: int | None) -> None:
        self._store = store
        self._run_id = run_id

    def record(self, rt: PageRuntime, outcome: CheckOutcome, now: float, *, attempt: int = 0) -> Recorded:
        """Apply one outcome to the page's runtime and queue what must be written.

        `attempt` is what the caller ran: 0 a visit (a scheduled check, one sample of rule V1;
        also a one-shot `monitor check --record`), n > 0 the n-th retry since the last visit, which
        feeds the outage machine only and is stored as such (never counted by V1)."""
        probe = outcome.probe
        cause = outcome.error_kind.value if outcome.error_kind else None
        rt.health, events = outage.step(rt.health, outcome.result, probe.started_at, cause, rt.page.failure_threshold)
        ops: list[WriteOp] = [
            CheckRow(rt.page_id, probe, outcome.result, outcome.error_kind, outcome.content_hash, attempt)
        ]
        ops += self._outage_ops(rt, events, outcome.error)
        recorded = self._content(rt, outcome, now, ops)
        state_row = _state_row(rt, now)
        if _differs(state_row, rt.last_state_row):
            ops.append(state_row)
            rt.last_state_row = state_row
        if self._run_id is not None:
            ops.append(Heartbeat(self._run_id, now))
        self._store.submit(ops)
        return replace(recorded, outcome=outcome, visit=attempt == 0, events=tuple(events))

    def _outage_ops(self, rt: PageRuntime, events: Sequence[outage.Event], error: str | None) -> list[WriteOp]:
        ops: list[WriteOp] = []
        key = rt.page.key
        for event in events:
            if isinstance(event, outage.OutageStart):
                ops.append(OutageOpened(rt.page_id, event.started, event.cause, event.failed_checks, error))
                log.warning("outage opened: %s/%s since %.0f (%s)", *key, event.started, event.cause)
            elif isinstance(event, outage.OutageContinues):
                ops.append(OutageProgress(rt.page_id, event.started, event.failed_checks, error))
            elif isinstance(event, outage.OutageEnd):
                ops.append(OutageClosed(rt.page_id, event.started, event.ended))
                log.warning("outage closed: %s/%s after %.0fs", *key, event.ended - event.started)
            else:
                ops.append(BlipRow(rt.page_id, event.ts, event.cause))
                log.info("blip: %s/%s (%s, not confirmed)", *key, event.cause)
        return ops

    def _content(self, rt: PageRuntime, outcome: CheckOutcome, now: float, ops: list[WriteOp]) -> Recorded:
        if outcome.result is Result.UP:
            rt.previous = _validators(rt.previous, outcome)
        if outcome.unchanged and rt.items_seen_at is not None:
            seen = _seen_at(rt, now)
            ops.append(ItemsTouched(rt.page_id, rt.items_seen_at, seen))
            rt.items_seen_at = seen
        changed = None
        if outcome.result is Result.BLOCKED and rt.content.readable is None:
            rt.content = changed = ContentFacts(False, None, None, rt.content.last_change)
        if outcome.extraction is None:
            return Recorded(content=changed)
        return self._extraction(rt, outcome.extraction, now, ops)

    def _extraction(self, rt: PageRuntime, extraction: Extraction, now: float, ops: list[WriteOp]) -> Recorded:
        readable = extraction.kind.readable
        new_items = 0
        if readable and extraction.items:
            known = self._known_urls(rt)
            fresh = [item for item in extraction.items if item.url not in known]
            new_items = len(fresh) if rt.items_seen_at is not None or len(known) else 0
            known.update(item.url for item in extraction.items)
            rt.items_seen_at = _seen_at(rt, now)
            ops.append(ItemsSeen(rt.page_id, rt.items_seen_at, extraction.items))
        fingerprint = _fingerprint(extraction)
        last_change = rt.content.last_change
        if (fingerprint != rt.fingerprint and rt.fingerprint is not None) or last_change is None:
            last_change = now
        rt.fingerprint = fingerprint
        rt.extract_kind = extraction.kind.value
        rt.pages_total = extraction.pages_total
        count = len(extraction.items) if extraction.kind is not ExtractKind.ARTICLE else None
        rt.content = ContentFacts(
            readable,
            extraction.newest_date if readable else rt.content.newest,
            count if readable else rt.content.item_count,
            last_change,
        )
        return Recorded(content=rt.content, new_items=new_items, columns=extraction.columns)

    def _known_urls(self, rt: PageRuntime) -> KnownUrls:
        if rt.known_urls is None:
            rt.known_urls = KnownUrls(self._store.item_urls(rt.page_id))
        return rt.known_urls


def _seen_at(rt: PageRuntime, now: float) -> float:
    """Item sightings never go back in time, even when the wall clock does (last_seen >= first_seen)."""
    return now if rt.items_seen_at is None else max(now, rt.items_seen_at)


def _validators(previous: Previous, outcome: CheckOutcome) -> Previous:
    """ETag/Last-Modified for the next conditional request; a 304 may omit them, keeping the old ones."""
    probe = outcome.probe
    if outcome.unchanged:
        return Previous(
            probe.etag or previous.etag, probe.last_modified or previous.last_modified, outcome.content_hash
        )
    return Previous(probe.etag, probe.last_modified, outcome.content_hash)


def _fingerprint(extraction: Extraction) -> int:
    """What counts as a content change: the items and columns, not timestamps or widgets."""
    parts = [f"{i.url}\t{i.title}\t{i.date}" for i in extraction.items]
    parts += [f"{c.url}\t{c.name}" for c in extraction.columns]
    parts.append(str(extraction.newest_date))
    return content_hash("\n".join(parts).encode())


def _state_row(rt: PageRuntime, now: float) -> PageStateRow:
    health, content = rt.health, rt.content
    return PageStateRow(
        page_id=rt.page_id,
        updated=now,
        extract_kind=rt.extract_kind,
        newest_date=content.newest.isoformat() if content.newest else None,
        item_count=content.item_count,
        blank=bool(content.readable) and content.item_count == 0,
        unreadable=content.readable is False,
        pages_total=rt.pages_total,
        content_hash=rt.previous.content_hash,
        last_change=content.last_change,
        etag=rt.previous.etag,
        last_modified=rt.previous.last_modified,
        consecutive_failures=health.consecutive_failures,
        first_failure=health.first_failure,
        first_failure_cause=health.first_failure_cause,
    )


def _differs(row: PageStateRow, last: PageStateRow | None) -> bool:
    """Write page state only when a fact changed (not on every unchanged check)."""
    if last is None:
        return True
    return {**row.__dict__, "updated": 0} != {**last.__dict__, "updated": 0}
