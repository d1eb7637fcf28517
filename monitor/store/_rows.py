"""Rows read back from the database: page state, open outages, stored checks, monitored pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from monitor.models import ContentFacts, ErrorKind, Result
from monitor.store._schema import ERROR_KIND_CODES, RESULT_CODES

_RESULTS_BY_CODE = {code: result for result, code in RESULT_CODES.items()}
_KINDS_BY_CODE = {code: kind for kind, code in ERROR_KIND_CODES.items()}


# -- rows read back -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredPageState:
    page_id: int
    newest_date: str | None
    item_count: int | None
    blank: bool
    unreadable: bool
    extract_kind: str | None
    pages_total: int | None
    content_hash: int | None
    last_change: float | None
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    first_failure: float | None
    first_failure_cause: str | None
    updated: float

    def content(self) -> ContentFacts:
        """The content facts this row remembers (readable unknown until a list was read)."""
        readable = None if self.extract_kind is None else not self.unreadable
        newest = _parse_date(self.newest_date)
        return ContentFacts(readable, newest, self.item_count, self.last_change)


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class OpenOutage:
    page_id: int
    started: float
    cause: str
    failed_checks: int


@dataclass(frozen=True)
class StoredCheck:
    page_id: int
    ts: float
    result: Result
    error_kind: ErrorKind | None
    status: int | None
    duration_s: float
    attempt: int


@dataclass(frozen=True)
class PageRow:
    id: int
    site: str
    name: str
    url: str
    kind: str
    category: str | None
    interval_s: float
    discovered_by: str | None
    tags: tuple[str, ...]
    removed: float | None
