"""The latest facts of one page as the metrics keep them, and the part of a check they take.

Shared by the state (which writes them) and the families (which read them).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from monitor.check import CheckOutcome
from monitor.models import ContentFacts, ErrorKind, Page, Result


@dataclass
class PageSeries:
    """Latest facts of one page."""

    page: Page
    last_ts: float | None = None
    result: Result | None = None
    duration_s: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    status: int = 0
    bytes: int = 0
    redirects: int = 0
    tls_expiry: float | None = None
    checks: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    outage_started: float | None = None
    outages_total: int = 0
    blips_total: int = 0
    items_new_total: int = 0
    content: ContentFacts = field(default_factory=ContentFacts)


@dataclass(frozen=True)
class CheckFacts:
    """The part of a check outcome the metrics need."""

    ts: float
    result: Result
    error_kind: ErrorKind | None
    duration_s: float
    phases: dict[str, float]
    status: int | None
    bytes: int
    redirects: int
    tls_expiry: float | None


def check_facts(outcome: CheckOutcome) -> CheckFacts:
    """The part of a check outcome the metrics keep."""
    p = outcome.probe
    return CheckFacts(
        p.started_at,
        outcome.result,
        outcome.error_kind,
        p.duration_s,
        p.phases,
        p.status,
        p.bytes,
        p.redirects,
        p.tls_expiry,
    )
