"""Integrity readings -> findings history and events (store operations), per site.

Keeps each site's `SiteState` (the baseline the next homepage reading is compared with) and its open
findings, restored from the database at start. `homepage` takes the Inspection a homepage check made
in the read worker; `sweep` takes the slower sweep's findings (lapsed domains, cloaking). Each
tracks only its own kinds (`monitor.integrity.SWEEP_KINDS`), so neither resolves the other's
findings; `ipv6` takes the IPv4/IPv6 consistency findings (`monitor.integrity.IPV6_KINDS`) the
same way. No I/O besides submitting store operations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.integrity import (
    CHANGE_SHARE,
    IPV6_KINDS,
    SWEEP_KINDS,
    Domains,
    Event,
    Finding,
    Inspection,
    SiteState,
    Tracked,
    Vocabulary,
    assess_homepage,
    changed_since,
    split_by_source,
    track,
)
from monitor.store import (
    FindingsTracked,
    IntegrityEvents,
    IntegrityStateRow,
    Store,
    WriteOp,
    load_states,
    open_tracked,
)


@dataclass(frozen=True)
class IntegrityRead:
    """What one integrity reading changed: the site's open findings now, and the events recorded."""

    site_id: int
    open: tuple[Tracked, ...]
    events: tuple[Event, ...] = ()


@dataclass
class IntegrityTracker:
    """Per-site integrity baselines and open findings; submits what changes to the store."""

    store: Store
    domains: Domains
    vocabulary: Vocabulary
    change_share: float = CHANGE_SHARE
    states: dict[int, SiteState] = field(default_factory=dict)
    open: dict[int, list[Tracked]] = field(default_factory=dict)

    def restore(self) -> None:
        """Baselines and open findings from the database (at start)."""
        self.states = load_states(self.store)
        self.open = open_tracked(self.store)

    def state(self, site_id: int) -> SiteState:
        return self.states.get(site_id, SiteState())

    def homepage(self, site_id: int, inspection: Inspection, now: float, expected_code: str = "") -> IntegrityRead:
        """Record one homepage reading; an inspection that failed (`error`) changes nothing."""
        if inspection.error:
            return IntegrityRead(site_id, tuple(self.open.get(site_id, ())))
        assessment = assess_homepage(
            inspection,
            self.state(site_id),
            domains=self.domains,
            vocabulary=self.vocabulary,
            expected_code=expected_code,
            change_share=self.change_share,
        )
        homepage, sweep = split_by_source(self.open.get(site_id, ()), SWEEP_KINDS | IPV6_KINDS)
        tracked = track(homepage, assessment.findings, now, [inspection.page])
        self.states[site_id] = assessment.state
        ops: list[WriteOp] = [IntegrityStateRow(site_id, now, assessment.state)]
        if assessment.events:
            ops.append(IntegrityEvents(site_id, now, assessment.events))
        return self._tracked(site_id, [*tracked, *sweep], now, ops, assessment.events)

    def sweep(self, site_id: int, page: str, findings: Sequence[Finding], now: float) -> IntegrityRead:
        """Record the sweep's findings for a page (lapsed domains and cloaking seen now)."""
        homepage, sweep = split_by_source(self.open.get(site_id, ()))
        tracked = track(sweep, findings, now, [page])
        return self._tracked(site_id, [*homepage, *tracked], now, [], ())

    def ipv6(self, site_id: int, page: str, findings: Sequence[Finding], now: float) -> IntegrityRead:
        """Record the IPv4/IPv6 comparison of a page (its `ipv6_inconsistent` findings seen now)."""
        others, own = split_by_source(self.open.get(site_id, ()), IPV6_KINDS)
        tracked = track(own, findings, now, [page])
        return self._tracked(site_id, [*others, *tracked], now, [], ())

    def _tracked(
        self, site_id: int, tracked: list[Tracked], now: float, ops: list[WriteOp], events: Sequence[Event]
    ) -> IntegrityRead:
        touched = changed_since(tracked, now)
        if touched:
            ops.append(FindingsTracked(site_id, tuple(touched)))
        if ops:
            self.store.submit(ops)
        still_open = [one for one in tracked if one.open]
        self.open[site_id] = still_open
        return IntegrityRead(site_id, tuple(still_open), tuple(events))

    def open_by_site(self) -> Mapping[int, Sequence[Tracked]]:
        """Open findings per site id (metrics)."""
        return self.open
