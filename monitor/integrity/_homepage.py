"""One homepage reading judged against what the site showed before: the daemon's integrity step.

`assess_homepage` takes the `Inspection` of the bytes a check just fetched and the site's remembered
`SiteState` (outside domains linked so far, script domains, the previous Identity and Snapshot) and
returns the findings of this reading, the events (new domain, title changed, …) and the next state.
`split_by_source` keeps findings that only a slower sweep sees (lapsed domains, cloaking) out of the
homepage's `track`, so a homepage check never resolves them. Pure: the caller stores the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from monitor.integrity._domains import Domains
from monitor.integrity._drift import MAX_OUTBOUND, drift_findings, new_domain_events, standing_drift
from monitor.integrity._findings import Event, Finding, Kind, Tracked
from monitor.integrity._identity import Identity, TagProfile
from monitor.integrity._identity_rules import identity_findings, standing_gone, tag_findings
from monitor.integrity._inspect import Inspection
from monitor.integrity._tamper import CHANGE_SHARE, Snapshot, standing_tampers, tamper_changes
from monitor.integrity._words import Vocabulary

MAX_KNOWN_DOMAINS = 5_000
"""Outside domains remembered per site (a link farm must not grow the state without end)."""

SWEEP_KINDS = frozenset({Kind.LAPSED_DOMAIN, Kind.CLOAKING})
"""Kinds only the slower sweep (DNS lookups, cloaking visits) finds, tracked apart from homepage checks."""

IPV6_KINDS = frozenset({Kind.IPV6_INCONSISTENT})
"""Kinds only the IPv6 readings find (IPv4/IPv6 consistency), tracked apart from the other two sources."""


@dataclass(frozen=True)
class SiteState:
    """What a site's homepage showed so far: the baseline the next reading is compared with."""

    known_domains: frozenset[str] = frozenset()
    script_domains: frozenset[str] = frozenset()
    identity: Identity | None = None
    snapshot: Snapshot | None = None
    linked: frozenset[str] = frozenset()
    """Outside domains the latest reading links (what the sweep looks up for lapsed domains)."""
    links_seen: bool = False
    """The link sweep's outside domains were taken once: their first set is the baseline, not events."""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (stored per site)."""
        return {
            "known_domains": sorted(self.known_domains),
            "script_domains": sorted(self.script_domains),
            "identity": None if self.identity is None else self.identity.as_dict(),
            "snapshot": None if self.snapshot is None else self.snapshot.as_dict(),
            "linked": sorted(self.linked),
            "links_seen": self.links_seen,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SiteState:
        """The inverse of `as_dict`; missing parts are empty."""
        identity, shot = data.get("identity"), data.get("snapshot")
        return cls(
            known_domains=frozenset(str(domain) for domain in data.get("known_domains", ())),
            script_domains=frozenset(str(domain) for domain in data.get("script_domains", ())),
            identity=Identity.from_dict(identity) if isinstance(identity, Mapping) else None,
            snapshot=Snapshot.from_dict(shot) if isinstance(shot, Mapping) else None,
            linked=frozenset(str(domain) for domain in data.get("linked", ())),
            links_seen=data.get("links_seen") is True,
        )


@dataclass(frozen=True)
class Assessment:
    """What one homepage reading gave: findings now, events (changes) and the site's next state."""

    findings: tuple[Finding, ...]
    events: tuple[Event, ...]
    state: SiteState


def assess_homepage(
    inspection: Inspection,
    state: SiteState,
    *,
    domains: Domains,
    vocabulary: Vocabulary,
    expected_code: str = "",
    change_share: float = CHANGE_SHARE,
    standing: Sequence[Finding] = (),
) -> Assessment:
    """Findings and events of one homepage reading against the site's state (the first reading
    sets the baseline: no drift or tamper events, since there is nothing to compare with).

    `standing` are the page's open findings: a tamper, drift or "disappeared" finding among them
    stays open while its evidence is still on the page (the baseline moves on at every reading, so the
    comparison alone would resolve it at the next one)."""
    page = inspection.page
    mine = [finding for finding in standing if finding.page == page]
    findings = list(inspection.findings)
    found = identity_findings(page, inspection.identity, previous=state.identity, expected_code=expected_code)
    findings += standing_gone(mine, found, inspection.identity)
    host = (urlsplit(page).hostname or "").lower()
    findings += tag_findings(page, inspection.identity, TagProfile.HOMEPAGE, host=host)
    events: list[Event] = []
    if state.snapshot is not None:
        new_domains = new_domain_events(page, state.known_domains, inspection.outbound)
        events += new_domains
        findings += drift_findings(new_domains, inspection.findings)
        changes, tampered = tamper_changes(
            page,
            state.snapshot,
            inspection.snapshot,
            known_script_domains=state.script_domains,
            domains=domains,
            vocabulary=vocabulary,
            change_share=change_share,
        )
        events += changes
        findings += tampered
    keys = {finding.key for finding in findings}
    still = standing_tampers(mine, page, inspection.snapshot, domains=domains, vocabulary=vocabulary)
    still += standing_drift(mine, inspection.findings)
    findings += [finding for finding in still if finding.key not in keys]
    return Assessment(tuple(findings), tuple(events), _next_state(state, inspection))


def _next_state(state: SiteState, inspection: Inspection) -> SiteState:
    """The baseline after this reading: domains and script domains remembered so far, this reading's rest."""
    known = sorted(state.known_domains | inspection.outbound)[:MAX_KNOWN_DOMAINS]
    scripts = sorted(state.script_domains | inspection.snapshot.script_domains)[:MAX_KNOWN_DOMAINS]
    return replace(
        state,
        known_domains=frozenset(known),
        script_domains=frozenset(scripts),
        identity=inspection.identity,
        snapshot=inspection.snapshot,
        linked=inspection.outbound,
    )


def link_sweep_domains(
    page: str, state: SiteState, found: Mapping[str, Sequence[str]]
) -> tuple[list[Event], SiteState]:
    """New-domain events for outside domains the link sweep found (`found`: domain -> link URLs) that
    the site never linked before, and the state remembering them. The first time the link passes
    give any (`links_seen` false) they are the baseline: no events (a sweep that runs before the
    first link pass leaves the baseline to come). The sweep's domains fill the known set only up
    to `MAX_KNOWN_DOMAINS - MAX_OUTBOUND`, leaving room for the homepage's own."""
    if not found:
        return [], state
    room = MAX_KNOWN_DOMAINS - MAX_OUTBOUND - len(state.known_domains)
    added = [domain for domain in sorted(found) if domain not in state.known_domains][: max(room, 0)]
    events = [
        Event.make(
            Kind.NEW_DOMAIN, page, domain, "", f"{domain}, linked as {found[domain][0]}" if found[domain] else domain
        )
        for domain in added
        if state.links_seen
    ]
    return events, replace(state, known_domains=state.known_domains | frozenset(added), links_seen=True)


def split_by_source(
    tracked: Iterable[Tracked], kinds: frozenset[Kind] = SWEEP_KINDS
) -> tuple[list[Tracked], list[Tracked]]:
    """(findings of other kinds, findings of `kinds`): by default (what homepage checks track, what
    the sweep tracks); each source tracks its own kinds and carries the others untouched."""
    others: list[Tracked] = []
    those: list[Tracked] = []
    for one in tracked:
        (those if one.finding.kind in kinds else others).append(one)
    return others, those


def changed_since(tracked: Iterable[Tracked], now: float) -> list[Tracked]:
    """The tracked findings a `track` call at `now` touched (seen or resolved now): what to store."""
    return [one for one in tracked if one.last_seen == now or one.resolved_at == now]
