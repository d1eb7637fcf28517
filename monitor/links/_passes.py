"""One recorded pass for one site: the configured settings turned into a plan, the crawl, the
escalation of persistent suspects from the stored state, and the store operations that record it.

Used alike by `monitor links --sweep` (one shot) and the daemon (scheduled). The store is read
for the site's current state and written through its operations only (no SQL here).

A pass whose homepage cannot be fetched (timeout, refused, 5xx, ...) is an availability failure,
already counted by the page checks (V1): it records no link results for it, and the pass is recorded
not completed, with the reason in `PassOutcome.failure`. A start page or a parent page that cannot
be read for a passing reason makes the pass partial: links it did not see are not marked removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from monitor.config import Config, SiteConfig, effective_defaults, site_hosts, site_links
from monitor.links._checker import LinkChecker
from monitor.links._classify import Exclusions, SiteScope, escalate
from monitor.links._crawl import Progress, Sweep, crawl
from monitor.links._types import LinkClass, LinkResult, LinkSettings, Occurrence
from monitor.models import PageKind
from monitor.origins import without_userinfo
from monitor.store import (
    OCCURRENCES_KEPT,
    LinkOccurrenceRow,
    LinkPassRecorded,
    LinkPassStarted,
    LinkResultRow,
    LinkResultsWritten,
    LinkStateRow,
    Store,
    WriteOp,
)

logger = logging.getLogger(__name__)

HOMEPAGE, SWEEP = "homepage", "sweep"
_STREAK_CLASSES = (LinkClass.SUSPECT, LinkClass.BROKEN)
_UNSTORED_OCCURRENCES = (LinkClass.OK,)
"""Occurrences of ok links are counted, not stored (the fix list needs only the others')."""
RESULTS_PER_BATCH = 1000
"""Rows (and stored occurrences) per write: one short transaction each (a 100,000-link sweep is 100);
smaller batches leave less of a sweep in the daemon's heap (docs/benchmarks.md)."""
BATCH_WRITE_WAIT_S = 60.0
"""How long a batch may wait for the writer before the next is submitted anyway (a stuck disk)."""


@dataclass(frozen=True)
class PassPlan:
    """What one pass of one site does: where it starts, how deep, how politely, what it skips."""

    site: str
    kind: str
    start_urls: tuple[str, ...]
    scope: SiteScope
    exclusions: Exclusions
    settings: LinkSettings
    max_depth: int
    homepage: str = ""
    """The site's homepage (first of `start_urls`): a pass that cannot read it is not completed."""


def link_settings(config: Config, site: SiteConfig) -> LinkSettings:
    """The checker's settings for a site: its `links:` section plus the page defaults it shares
    (timeout, max_body, redirects, user agent, TLS). The site's own hosts may resolve to private
    or loopback addresses (a portal on an intranet, the tests' sites on 127.0.0.1); no other may."""
    links, d = site_links(config.raw, site), effective_defaults(config.raw, site)
    return LinkSettings(
        concurrency=links.concurrency,
        spacing_s=links.spacing,
        timeout_s=d.timeout,
        max_body_bytes=d.max_body,
        max_redirects=d.max_redirects,
        user_agent=d.user_agent,
        verify_tls=d.verify_tls,
        suspect_passes=links.suspect_passes,
        respect_robots=links.respect_robots,
        max_depth=links.max_depth,
        max_pages=links.max_pages,
        max_links=links.max_links,
        private_hosts=frozenset(site_hosts(site)),
        exclude=tuple(links.exclude),
    )


def pass_plan(config: Config, site: SiteConfig, kind: str, extra_urls: Sequence[str] = ()) -> PassPlan:
    """The plan of a homepage pass (the homepage's links, depth 0) or a sweep (from the homepage and
    every monitored page, `extra_urls` being the discovered columns the daemon knows)."""
    settings = link_settings(config, site)
    homes = [without_userinfo(urljoin(site.base_url, p.url)) for p in site.pages if p.kind is PageKind.HOMEPAGE]
    starts = homes or [without_userinfo(site.base_url)]
    if kind == SWEEP:
        starts += [without_userinfo(urljoin(site.base_url, p.url)) for p in site.pages] + list(extra_urls)
    return PassPlan(
        site=site.name,
        kind=kind,
        start_urls=tuple(dict.fromkeys(starts)),
        scope=SiteScope.of([site.base_url], site.allowed_hosts),
        exclusions=Exclusions(settings.exclude),
        settings=settings,
        max_depth=0 if kind == HOMEPAGE else settings.max_depth,
        homepage=starts[0],
    )


@dataclass(frozen=True)
class PassOutcome:
    """A finished pass: the sweep as crawled (empty when a child process crawled it), the final
    operation that recorded it (its rows went before it in bounded batches), and its totals."""

    sweep: Sweep
    recorded: LinkPassRecorded
    totals: dict[str, int]
    failure: str | None = None
    """Why the pass did not complete (its homepage could not be fetched); None when it did."""

    def counts(self) -> dict[str, int]:
        """Distinct URLs per class after escalation."""
        return dict(self.totals)

    @property
    def links(self) -> int:
        """Distinct URLs the pass recorded."""
        return sum(self.totals.values())


async def run_pass(
    plan: PassPlan,
    checker: LinkChecker,
    store: Store,
    submit: Callable[[Iterable[WriteOp]], None],
    *,
    progress: Progress | None = None,
) -> PassOutcome:
    """Crawl `plan`, escalate from the site's stored state, and `submit` the pass's operations
    (a started row first: a pass cut short leaves it incomplete, which the metrics show)."""
    started = checker.clock.now()
    submit([LinkPassStarted(plan.site, plan.kind, started)])
    sweep = await crawl(
        checker, plan.scope, plan.start_urls, exclusions=plan.exclusions, max_depth=plan.max_depth, progress=progress
    )
    previous = {row.url: row for row in store.links().states([plan.site], include_removed=True)}
    rows = result_rows(sweep, previous, plan.settings.suspect_passes)
    totals = await record_results(rows, plan, started, store, submit)
    return close_pass(plan, started, checker.clock.now(), sweep, totals, submit)


def close_pass(
    plan: PassPlan,
    started: float,
    ended: float,
    sweep: Sweep,
    totals: dict[str, int],
    submit: Callable[[Iterable[WriteOp]], None],
) -> PassOutcome:
    """Submit the operation that closes a pass whose rows were written before it (it counts them):
    not completed when the homepage could not be read, partial when some of the site went unseen.
    Used alike for a pass crawled here and one crawled in a child process (`_isolated`)."""
    failure = pass_failure(plan, sweep)
    recorded = LinkPassRecorded(
        site=plan.site,
        kind=plan.kind,
        started=started,
        ended=ended,
        completed=failure is None,
        budget_hit=sweep.page_budget_hit or sweep.link_budget_hit,
        pages_read=sweep.pages_read,
        partial=sweep.partial,
        failure=failure or "",
    )
    submit([recorded])
    if failure is not None:
        logger.warning("links %s: %s pass not completed: %s", plan.site, plan.kind, failure)
    return PassOutcome(sweep, recorded, totals, failure)


def pass_failure(plan: PassPlan, sweep: Sweep) -> str | None:
    """Why a crawled pass does not count as complete: its homepage could not be read (pure)."""
    reason = sweep.unread_starts.get(plan.homepage or plan.start_urls[0])
    return None if reason is None else f"the homepage could not be read ({reason}): an availability failure"


async def record_results(
    rows: Iterable[LinkResultRow],
    plan: PassPlan,
    started: float,
    store: Store,
    submit: Callable[[Iterable[WriteOp]], None],
) -> dict[str, int]:
    """Submit a pass's rows in batches of `RESULTS_PER_BATCH`, each written before the next is
    submitted (a short transaction each, and never more than one batch waiting in memory); returns
    the distinct URLs per class."""
    totals = {c.value: 0 for c in LinkClass}
    for batch in batches(rows, RESULTS_PER_BATCH):
        for row in batch:
            totals[row.link_class] += 1
        submit([LinkResultsWritten(plan.site, plan.kind, started, batch)])
        if store.writer.alive:
            await asyncio.to_thread(store.writer.flush, BATCH_WRITE_WAIT_S)
    return totals


def batches(rows: Iterable[LinkResultRow], size: int) -> Iterator[tuple[LinkResultRow, ...]]:
    """`rows` in tuples of at most `size` rows, counting a row's stored occurrences as rows too
    (a template link broken on 200 pages weighs 201)."""
    batch: list[LinkResultRow] = []
    weight = 0
    for row in rows:
        batch.append(row)
        weight += 1 + min(len(row.occurrences), OCCURRENCES_KEPT)
        if weight >= size:
            yield tuple(batch)
            batch, weight = [], 0
    if batch:
        yield tuple(batch)


def result_rows(sweep: Sweep, previous: dict[str, LinkStateRow], suspect_passes: int) -> Iterator[LinkResultRow]:
    """Each URL's row, in URL order: this pass's class escalated over the stored streak, first seen
    and broken since carried over, and the places it appears (pure; made one at a time)."""
    for url in sorted(sweep.results):
        yield _row(sweep.results[url], sweep.occurrences.get(url, []), previous.get(url), suspect_passes)


def _row(result: LinkResult, found: list[Occurrence], prev: LinkStateRow | None, passes: int) -> LinkResultRow:
    observed = result.link_class
    live = prev is not None and prev.link_class != "removed"
    prev_streak = min(prev.streak, passes) if prev is not None and live else 0
    streak = prev_streak + 1 if observed in _STREAK_CLASSES else 0
    link_class = escalate([LinkClass.BROKEN] * prev_streak + [observed], passes)
    was_broken = prev is not None and live and prev.link_class == LinkClass.BROKEN.value
    since = (prev.broken_since if was_broken and prev is not None else None) or result.checked_at
    outcome = result.outcome
    reason = result.reason if link_class is observed else f"{result.reason} ({streak} passes in a row)"
    return LinkResultRow(
        url=result.url,
        scope=result.scope.value,
        rtype=result.rtype.value,
        link_class=link_class.value,
        observed=observed.value,
        status=outcome.status,
        error_kind=outcome.error_kind.value if outcome.error_kind else None,
        reason=reason,
        checked_at=result.checked_at,
        duration_s=outcome.duration_s,
        streak=streak,
        first_seen=prev.first_seen if prev is not None and live else result.checked_at,
        broken_since=since if link_class is LinkClass.BROKEN else None,
        occurrence_count=len(found),
        occurrences=()
        if link_class in _UNSTORED_OCCURRENCES
        else tuple(
            LinkOccurrenceRow(o.parent_url, o.parent_title, o.text, o.element, o.attribute, o.depth) for o in found
        ),
    )
