"""Outage confirmation: a pure state machine over one page's consecutive check results.

An outage opens at the first failed check of a run of `failure_threshold` consecutive `down`
checks and closes at the first `up` check; a shorter run is a blip. `blocked` and `error`
checks say nothing about availability: they neither extend nor break a run. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from monitor.models import Result


@dataclass(frozen=True)
class Health:
    """What the machine remembers about a page between checks."""

    consecutive_failures: int = 0
    first_failure: float | None = None
    first_failure_cause: str | None = None
    outage_started: float | None = None
    outage_cause: str | None = None
    outage_failed_checks: int = 0

    @property
    def failing(self) -> bool:
        """A failure is pending confirmation or an outage is open: re-check after retry_delay."""
        return self.consecutive_failures > 0 or self.outage_started is not None


@dataclass(frozen=True)
class OutageStart:
    started: float
    cause: str
    failed_checks: int


@dataclass(frozen=True)
class OutageContinues:
    started: float
    failed_checks: int


@dataclass(frozen=True)
class OutageEnd:
    started: float
    ended: float
    cause: str


@dataclass(frozen=True)
class Blip:
    ts: float
    cause: str
    failed_checks: int


Event = OutageStart | OutageContinues | OutageEnd | Blip


def step(health: Health, result: Result, ts: float, cause: str | None, threshold: int) -> tuple[Health, list[Event]]:
    """Advance the machine by one check; return the new state and what happened."""
    if result is Result.UP:
        return _on_up(health, ts)
    if result is Result.DOWN:
        return _on_down(health, ts, cause or "unknown", threshold)
    return health, []


def _on_up(health: Health, ts: float) -> tuple[Health, list[Event]]:
    if health.outage_started is not None:
        end = OutageEnd(health.outage_started, max(ts, health.outage_started), health.outage_cause or "unknown")
        return Health(), [end]
    if health.consecutive_failures and health.first_failure is not None:
        blip = Blip(health.first_failure, health.first_failure_cause or "unknown", health.consecutive_failures)
        return Health(), [blip]
    return health, []


def _on_down(health: Health, ts: float, cause: str, threshold: int) -> tuple[Health, list[Event]]:
    if health.outage_started is not None:
        failed = health.outage_failed_checks + 1
        return replace(health, outage_failed_checks=failed), [OutageContinues(health.outage_started, failed)]
    failures = health.consecutive_failures + 1
    first = health.first_failure if health.first_failure is not None else ts
    first_cause = health.first_failure_cause or cause
    if failures >= threshold:
        opened = Health(outage_started=first, outage_cause=first_cause, outage_failed_checks=failures)
        return opened, [OutageStart(first, first_cause, failures)]
    pending = Health(consecutive_failures=failures, first_failure=first, first_failure_cause=first_cause)
    return pending, []
