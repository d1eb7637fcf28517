"""Integrity readings -> findings history and events (store operations), per site.

Keeps each site's `SiteState` (the baseline the next homepage reading is compared with) and its open
findings, restored from the database at start. `homepage` takes the Inspection a homepage check made
in the read worker (open tamper findings stay open while their evidence is on the page);
`plan_sweep` / `finish_sweep` bracket the slower sweep's I/O (which linked domains to look up,
the homepage's and the link passes', within the budget; then lapsed domains and cloaking, open
findings without new evidence kept). Each tracks only its own kinds
(`monitor.integrity.SWEEP_KINDS`), so neither resolves the other's findings. No I/O besides
reading the link tables and submitting store operations. `ipv6` takes the IPv4/IPv6
consistency findings (`monitor.integrity.IPV6_KINDS`) the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from monitor.integrity import (
    CHANGE_SHARE,
    IPV6_KINDS,
    SWEEP_KINDS,
    DomainLookups,
    Domains,
    Event,
    Finding,
    Inspection,
    Resolution,
    SiteState,
    Tracked,
    Vocabulary,
    assess_homepage,
    carried_cloaking,
    changed_since,
    lapsed_from_answers,
    link_domains,
    link_sweep_domains,
    lookup_candidates,
    split_by_source,
    track,
)
from monitor.store import (
    ExternalLink,
    FindingsTracked,
    IntegrityEvents,
    IntegrityStateRow,
    Store,
    WriteOp,
    external_links,
    link_parents,
    links_mark,
    load_states,
    open_tracked,
)

HOMEPAGE = "the homepage"
"""How a lapsed domain's evidence names the homepage among the places that link it."""

PARENTS_FOR = 20
"""Lapsed domains per sweep whose linking pages are read from the link tables for the evidence."""


@dataclass(frozen=True)
class SweepPlan:
    """One site's sweep, before its I/O: the outside domains linked (domain -> where), the ones to
    look up now, and the new-domain events the link passes gave."""

    page: str
    linked: Mapping[str, tuple[str, ...]]
    due: tuple[str, ...]
    events: tuple[Event, ...] = ()


def _missing(links: Sequence[ExternalLink]) -> frozenset[str]:
    """URLs the link checker last found with a name that does not resolve."""
    return frozenset(link.url for link in links if link.name_missing)


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
    lookups: DomainLookups = field(default_factory=DomainLookups)
    """Recent DNS answers about linked domains (all sites) and the current sweep's lookup budget."""
    link_cache: dict[int, tuple[tuple[int, float], dict[str, list[str]], list[str]]] = field(default_factory=dict)
    """Per site: the link passes' mark, their outside domains and the unresolved ones (`_link_domains`)."""

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
        homepage, sweep = split_by_source(self.open.get(site_id, ()), SWEEP_KINDS | IPV6_KINDS)
        assessment = assess_homepage(
            inspection,
            self.state(site_id),
            domains=self.domains,
            vocabulary=self.vocabulary,
            expected_code=expected_code,
            change_share=self.change_share,
            standing=[one.finding for one in homepage],
        )
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

    def plan_sweep(self, site_id: int, page: str, now: float) -> SweepPlan:
        """What the site's sweep looks up: the outside domains the homepage links and those the link
        passes found (`link_state`), the ones the link checker saw fail to resolve first, then the
        homepage's, then the rest, within the sweep's lookup budget. New domains of the link passes
        are recorded as events now (the first set is the site's baseline)."""
        found, missing = self._link_domains(site_id, page)
        state = self.state(site_id)
        events, next_state = link_sweep_domains(page, state, found)
        if next_state != state:
            self.states[site_id] = next_state
            ops: list[WriteOp] = [IntegrityStateRow(site_id, now, next_state)]
            if events:
                ops.append(IntegrityEvents(site_id, now, tuple(events)))
            self.store.submit(ops)
        linked = {domain: tuple(urls) for domain, urls in found.items()}
        linked.update({domain: (HOMEPAGE, *linked.get(domain, ())) for domain in state.linked})
        order = [*sorted(missing), *sorted(state.linked), *sorted(found)]
        due = self.lookups.due(lookup_candidates(order, self.domains), now)
        return SweepPlan(page, linked, tuple(due), tuple(events))

    def _link_domains(self, site_id: int, page: str) -> tuple[Mapping[str, Sequence[str]], list[str]]:
        """The link passes' outside domains (domain -> URLs) and those with a link whose name did not
        resolve; read again only when a link pass was recorded since (up to 20,000 URLs: ~0.1 s)."""
        mark = links_mark(self.store, site_id)
        cached = self.link_cache.get(site_id)
        if cached is not None and cached[0] == mark:
            return cached[1], cached[2]
        links = external_links(self.store, site_id)
        found = link_domains(page, [link.url for link in links], self.domains)
        absent = _missing(links)
        missing = sorted(domain for domain, urls in found.items() if any(url in absent for url in urls))
        self.link_cache[site_id] = (mark, found, missing)
        return found, missing

    def finish_sweep(
        self,
        site_id: int,
        plan: SweepPlan,
        cloaking: Sequence[Finding],
        answered: Iterable[str],
        answers: Mapping[str, Resolution],
        now: float,
    ) -> IntegrityRead:
        """Record a sweep: the cloaking comparison of the visitors that `answered`, the DNS `answers`
        to the plan's lookups. Open findings without new evidence either way stay open (a visitor
        without a usable visit, a domain not asked this time or timing out)."""
        self.lookups.record(answers, now)
        known = self.lookups.known(plan.linked, now)
        _, open_sweep = split_by_source(self.open.get(site_id, ()))
        standing = [one.finding for one in open_sweep]
        places = self._places(site_id, plan, known)
        lapsed = lapsed_from_answers(plan.page, places, known, standing)
        carried = carried_cloaking(standing, plan.page, answered)
        read = self.sweep(site_id, plan.page, [*cloaking, *carried, *lapsed], now)
        return IntegrityRead(site_id, read.open, plan.events)

    def _places(self, site_id: int, plan: SweepPlan, known: Mapping[str, Resolution]) -> dict[str, Sequence[str]]:
        """Where each linked domain is linked; for the lapsed ones (at most `PARENTS_FOR`), the pages
        the link passes saw their links on rather than the link URLs."""
        places: dict[str, Sequence[str]] = dict(plan.linked)
        lapsed = [domain for domain, answer in known.items() if answer is Resolution.NXDOMAIN][:PARENTS_FOR]
        for domain in lapsed:
            urls = [url for url in plan.linked[domain] if url != HOMEPAGE]
            parents = link_parents(self.store, site_id, urls)
            pages = [page for url in urls for page in parents.get(url) or [url]]
            places[domain] = list(dict.fromkeys([*(p for p in plan.linked[domain] if p == HOMEPAGE), *pages]))
        return places

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
