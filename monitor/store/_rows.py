"""Rows read back from the database: page state, open outages, stored checks, monitored pages."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.models import ErrorKind, Result
from monitor.store._schema import ERROR_KIND_CODES, RESULT_CODES

_RESULTS_BY_CODE = {code: result for result, code in RESULT_CODES.items()}
_KINDS_BY_CODE = {code: kind for kind, code in ERROR_KIND_CODES.items()}


# -- rows read back -----------------------------------------------------------------------------


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
