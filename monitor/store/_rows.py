"""Rows read back from the database: open outages, stored checks, monitored pages (a page's state
is `_ops.PageStateRow`, the same row written and read back)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.models import ErrorKind, Result


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
