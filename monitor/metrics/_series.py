"""The latest facts of one page as the metrics keep them, and the part of a check they take.

Shared by the state (which writes them) and the families (which read them).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field, replace

from monitor.check import CheckOutcome
from monitor.models import ContentFacts, ErrorKind, Page, Result
from monitor.rules import V1Window


@dataclass(slots=True)
class PageSeries:
    """Latest facts of one page (slots: 20,000 of them live in the state and as many in the
    scrape cache)."""

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
    stamp: int = 0
    """The state's change count when this page last changed (the scrape re-renders only those)."""

    def copy(self) -> PageSeries:
        """A copy whose counters and phases are its own."""
        return replace(
            self,
            checks=collections.Counter(self.checks),
            errors=collections.Counter(self.errors),
            phases=dict(self.phases),
        )


@dataclass(frozen=True)
class StateDelta:
    """What changed in the state since a scrape: see `MonitorState.changes`."""

    stamp: int
    """The state's change count now: pass it as `since` next time."""
    generation: int
    """Bumped whenever the set or order of pages changes."""
    keys: list[tuple[str, str]] | None
    """Every page key in order, when `generation` differs from the one asked about (else None)."""
    pages: list[PageSeries]
    """Copies of the pages changed since (all of them with `keys`)."""
    windows: dict[str, V1Window]
    """Copies of the homepage visit windows changed since, or asked for."""


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
