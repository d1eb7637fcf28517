"""Write operations: one frozen dataclass per kind of row the pipeline stores, each giving the
statements that write it (applied by the writer thread inside a batch transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date

from monitor.models import PHASES, ContentFacts, ErrorKind, Item, ProbeResult, Result
from monitor.store._queries import to_ms
from monitor.store._schema import ERROR_KIND_CODES, RESULT_CODES
from monitor.store._writer import Statement


@dataclass(frozen=True)
class CheckRow:
    """One check, as stored."""

    page_id: int
    probe: ProbeResult
    result: Result
    error_kind: ErrorKind | None
    content_hash: int | None
    attempt: int

    SQL = (
        "INSERT OR REPLACE INTO checks (page_id, ts_ms, result, error_kind, status, duration_ms, dns_ms,"
        " connect_ms, tls_ms, ttfb_ms, transfer_ms, bytes, content_hash, attempt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def statements(self) -> Iterable[Statement]:
        p = self.probe
        phases = [to_ms(p.phases[name]) if name in p.phases else None for name in PHASES]
        yield (
            self.SQL,
            (
                self.page_id,
                to_ms(p.started_at),
                RESULT_CODES[self.result],
                ERROR_KIND_CODES[self.error_kind] if self.error_kind else None,
                p.status,
                to_ms(max(p.duration_s, 0.0)),
                *phases,
                p.bytes,
                self.content_hash,
                self.attempt,
            ),
        )


@dataclass(frozen=True)
class OutageOpened:
    page_id: int
    started: float
    cause: str
    failed_checks: int
    last_error: str | None

    def statements(self) -> Iterable[Statement]:
        yield (
            "INSERT OR IGNORE INTO outages (page_id, started, cause, failed_checks, last_error) VALUES (?, ?, ?, ?, ?)",
            (self.page_id, self.started, self.cause, self.failed_checks, self.last_error),
        )


@dataclass(frozen=True)
class OutageProgress:
    """Another failed check inside an open outage (keeps the evidence count current)."""

    page_id: int
    started: float
    failed_checks: int
    last_error: str | None

    def statements(self) -> Iterable[Statement]:
        yield (
            "UPDATE outages SET failed_checks = ?, last_error = ? WHERE page_id = ? AND started = ?",
            (self.failed_checks, self.last_error, self.page_id, self.started),
        )


@dataclass(frozen=True)
class OutageClosed:
    page_id: int
    started: float
    ended: float

    def statements(self) -> Iterable[Statement]:
        yield (
            "UPDATE outages SET ended = ? WHERE page_id = ? AND started = ? AND ended IS NULL",
            (self.ended, self.page_id, self.started),
        )


@dataclass(frozen=True)
class BlipRow:
    page_id: int
    ts: float
    cause: str

    def statements(self) -> Iterable[Statement]:
        yield (
            "INSERT OR IGNORE INTO blips (page_id, ts, cause) VALUES (?, ?, ?)",
            (self.page_id, self.ts, self.cause),
        )


@dataclass(frozen=True)
class ItemsSeen:
    """The items currently on a page's list: new ones are inserted, known ones touched."""

    page_id: int
    ts: float
    items: tuple[Item, ...]

    def statements(self) -> Iterable[Statement]:
        for item in self.items:
            published = item.date.isoformat() if item.date else None
            yield (
                "INSERT INTO items (page_id, url, title, published, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (page_id, url) DO UPDATE SET last_seen = max(items.last_seen, excluded.last_seen),"
                " title = excluded.title, published = coalesce(excluded.published, items.published)",
                (self.page_id, item.url, item.title, published, self.ts, self.ts),
            )


@dataclass(frozen=True)
class ItemsTouched:
    """The page is unchanged: every item seen at `previous` is still there at `ts`."""

    page_id: int
    previous: float
    ts: float

    def statements(self) -> Iterable[Statement]:
        yield (
            "UPDATE items SET last_seen = ? WHERE page_id = ? AND last_seen = ?",
            (self.ts, self.page_id, self.previous),
        )


@dataclass(frozen=True)
class PageStateRow:
    """Per-page facts the daemon restores after a restart: written by the tracker when one
    changes, read back by `Store.page_states()` (the same 15 columns, in this order)."""

    page_id: int
    updated: float
    extract_kind: str | None
    newest_date: str | None
    item_count: int | None
    blank: bool
    unreadable: bool
    pages_total: int | None
    content_hash: int | None
    last_change: float | None
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    first_failure: float | None
    first_failure_cause: str | None

    def statements(self) -> Iterable[Statement]:
        values = tuple(self.__dict__.values())
        columns = ", ".join(self.__dict__)
        marks = ", ".join("?" for _ in values)
        yield f"INSERT OR REPLACE INTO page_state ({columns}) VALUES ({marks})", values

    def content(self) -> ContentFacts:
        """The content facts this row remembers (readable unknown until a list was read)."""
        readable = None if self.extract_kind is None else not self.unreadable
        return ContentFacts(readable, _parse_date(self.newest_date), self.item_count, self.last_change)


PAGE_STATE_COLUMNS = tuple(field.name for field in fields(PageStateRow))
"""The page_state columns in PageStateRow's order (reading a row back builds the same type)."""


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class EventRow:
    ts: float
    kind: str
    detail: str = ""
    site_id: int | None = None
    page_id: int | None = None

    def statements(self) -> Iterable[Statement]:
        yield (
            "INSERT INTO events (ts, site_id, page_id, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (self.ts, self.site_id, self.page_id, self.kind, self.detail),
        )


@dataclass(frozen=True)
class Heartbeat:
    run_id: int
    ts: float

    def statements(self) -> Iterable[Statement]:
        yield "UPDATE monitor_runs SET heartbeat = max(heartbeat, ?) WHERE id = ?", (self.ts, self.run_id)


@dataclass(frozen=True)
class RunStopped:
    run_id: int
    ts: float
    reason: str

    def statements(self) -> Iterable[Statement]:
        yield (
            "UPDATE monitor_runs SET heartbeat = max(heartbeat, ?), stopped = ?, stop_reason = ? WHERE id = ?",
            (self.ts, self.ts, self.reason, self.run_id),
        )
