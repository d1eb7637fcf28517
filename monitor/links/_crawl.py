"""A site sweep: from start URLs, follow same-site pages to a depth and within budgets, checking
every distinct link once and recording every place it appears (one result, many occurrences).

Workers pull from one queue (no task per URL: a 100,000-link sweep stays small); the checker's
host budget does the pacing. robots.txt decides which internal URLs a sweep may request.

A start URL (the homepage, a monitored page) that cannot be fetched is the page checks' failure
(rule V1), not a broken link: it gets no link result, only an entry in `Sweep.unread_starts`. A page
that could not be read for a passing reason (5xx, timeout, anti-bot answer) leaves its links unseen,
not gone: `Sweep.partial` says so, and the pass then marks nothing it did not see as removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from monitor.links._checker import Inspection, LinkChecker
from monitor.links._classify import Exclusions, SiteScope, resource_type
from monitor.links._harvest import harvest
from monitor.links._types import (
    LinkClass,
    LinkResult,
    Occurrence,
    Outcome,
    ResourceType,
    Scope,
    Skipped,
)

logger = logging.getLogger(__name__)

MAX_SKIPPED_KEPT = 1000
"""Skipped links kept as evidence per sweep (counted beyond that, not stored)."""

Progress = Callable[[int, int], None]
"""Called with (pages read, links checked) after each link: a progress bar's feed."""


@dataclass
class Sweep:
    """What one pass found: a result per distinct URL, every occurrence of each, and the budgets' state."""

    start_urls: tuple[str, ...]
    started_at: float
    finished_at: float = 0.0
    results: dict[str, LinkResult] = field(default_factory=dict)
    occurrences: dict[str, list[Occurrence]] = field(default_factory=dict)
    skipped: list[tuple[str, Skipped]] = field(default_factory=list)
    skipped_total: int = 0
    pages_read: int = 0
    page_budget_hit: bool = False
    link_budget_hit: bool = False
    unread_starts: dict[str, str] = field(default_factory=dict)
    """Start URLs that could not be fetched, with the reason (no link result for them)."""
    unread_pages: int = 0
    """Internal pages within depth not read for a passing reason (suspect or blocked answers)."""

    @property
    def partial(self) -> bool:
        """Some of the site went unseen for a passing reason: what was not found may still be there."""
        return bool(self.unread_starts) or self.unread_pages > 0

    def of_class(self, link_class: LinkClass) -> list[LinkResult]:
        """Results of one class, in URL order."""
        return sorted((r for r in self.results.values() if r.link_class is link_class), key=lambda r: r.url)

    def counts(self) -> dict[LinkClass, int]:
        """Distinct URLs per class (every class present, zeros included)."""
        totals = dict.fromkeys(LinkClass, 0)
        for result in self.results.values():
            totals[result.link_class] += 1
        return totals


@dataclass(frozen=True)
class _Job:
    url: str
    depth: int
    element: str


@dataclass
class _Crawl:
    """The mutable state shared by the workers of one sweep."""

    checker: LinkChecker
    site: SiteScope
    exclusions: Exclusions
    max_depth: int
    max_pages: int
    max_links: int
    sweep: Sweep
    queue: asyncio.Queue[_Job] = field(default_factory=asyncio.Queue)
    robots: dict[str, asyncio.Future[RobotFileParser | None]] = field(default_factory=dict)
    progress: Progress | None = None


async def crawl(
    checker: LinkChecker,
    site: SiteScope,
    start_urls: Iterable[str],
    *,
    exclusions: Exclusions | None = None,
    max_depth: int | None = None,
    progress: Progress | None = None,
) -> Sweep:
    """Sweep `site` from `start_urls`. `max_depth` 0 is the homepage pass: read the start pages only.

    Pages at depth <= max_depth are read for links; links found on a page of depth d have depth d + 1.
    Budgets (`max_pages` read, `max_links` distinct URLs) and politeness come from the checker's settings.
    """
    settings = checker.settings
    starts = tuple(dict.fromkeys(start_urls))
    state = _Crawl(
        checker=checker,
        site=site,
        exclusions=exclusions or Exclusions(),
        max_depth=settings.max_depth if max_depth is None else max_depth,
        max_pages=settings.max_pages,
        max_links=settings.max_links,
        sweep=Sweep(start_urls=starts, started_at=checker.clock.now()),
        progress=progress,
    )
    for url in starts:
        _enqueue(state, url, 0, "a")
    workers = [asyncio.create_task(_worker(state)) for _ in range(max(1, settings.concurrency))]
    try:
        await state.queue.join()
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    state.sweep.finished_at = checker.clock.now()
    return state.sweep


def _enqueue(state: _Crawl, url: str, depth: int, element: str) -> None:
    """Queue a URL the first time it is seen, while the link budget lasts."""
    sweep = state.sweep
    if url in sweep.occurrences:
        return
    if len(sweep.occurrences) >= state.max_links:
        sweep.link_budget_hit = True
        return
    sweep.occurrences[url] = []
    state.queue.put_nowait(_Job(url, depth, element))


async def _worker(state: _Crawl) -> None:
    while True:
        job = await state.queue.get()
        try:
            await _visit(state, job)
        except Exception:  # one URL's bug must not end the sweep (nor hang it: task_done below)
            logger.exception("link sweep: internal error on %s", job.url)
        finally:
            state.queue.task_done()


async def _visit(state: _Crawl, job: _Job) -> None:
    """Check one URL; when it is a same-site page within depth and budget, read its links too."""
    sweep, checker = state.sweep, state.checker
    if not await _robots_allow(state, job):
        outcome = Outcome(refused="disallowed by robots.txt", method="")
        sweep.results[job.url] = LinkResult(
            job.url, state.site.scope_of(job.url), resource_type(job.url, job.element),
            LinkClass.EXCLUDED, outcome, checker.clock.now(), "disallowed by robots.txt",
        )  # fmt: skip
        return
    inspection = await checker.inspect(job.url, state.site, element=job.element, exclusions=state.exclusions)
    result = inspection.result
    if job.depth == 0 and result.link_class is not LinkClass.OK:
        sweep.unread_starts[job.url] = result.reason  # the page checks' failure, not a link's
        return
    sweep.results[job.url] = result
    if _unread(state, job, result):
        sweep.unread_pages += 1
    if _readable(state, job, inspection):
        sweep.pages_read += 1
        _read_links(state, job, inspection)
    if state.progress is not None:
        state.progress(sweep.pages_read, len(sweep.results))


def _unread(state: _Crawl, job: _Job, result: LinkResult) -> bool:
    """An internal page the sweep would have read, failing for a reason that may pass."""
    passing = result.link_class in (LinkClass.SUSPECT, LinkClass.BLOCKED)
    page = result.scope is Scope.INTERNAL and result.rtype is ResourceType.PAGE
    return passing and page and job.depth <= state.max_depth


def _readable(state: _Crawl, job: _Job, inspection: Inspection) -> bool:
    result = inspection.result
    if result.link_class is not LinkClass.OK or not inspection.body or job.depth > state.max_depth:
        return False
    if state.sweep.pages_read >= state.max_pages:
        state.sweep.page_budget_hit = True
        return False
    return result.scope is Scope.INTERNAL and result.rtype is ResourceType.PAGE


def _read_links(state: _Crawl, job: _Job, inspection: Inspection) -> None:
    """Record every link of a page as an occurrence and queue the new ones."""
    base = inspection.result.outcome.final_url or job.url
    page = harvest(inspection.body, base, inspection.content_type)
    sweep, depth = state.sweep, job.depth + 1
    for found in page.links:
        _enqueue(state, found.url, depth, found.element)
        occurrences = sweep.occurrences.get(found.url)
        if occurrences is not None:
            occurrences.append(Occurrence(job.url, page.title, found.text, found.element, found.attribute, depth))
    sweep.skipped_total += len(page.skipped)
    room = MAX_SKIPPED_KEPT - len(sweep.skipped)
    sweep.skipped.extend((job.url, skipped) for skipped in page.skipped[: max(0, room)])


async def _robots_allow(state: _Crawl, job: _Job) -> bool:
    """robots.txt's verdict on an internal URL (start URLs are configured, so always allowed)."""
    if not state.checker.settings.respect_robots or job.depth == 0:
        return True
    if state.site.scope_of(job.url) is Scope.EXTERNAL:
        return True
    parts = urlsplit(job.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    known = state.robots.get(origin)
    if known is None:
        known = state.robots[origin] = asyncio.ensure_future(_load_robots(state.checker, origin))
    rules = await asyncio.shield(known)
    return rules is None or rules.can_fetch(state.checker.settings.user_agent, job.url)


async def _load_robots(checker: LinkChecker, origin: str) -> RobotFileParser | None:
    """The origin's robots.txt rules; None (everything allowed) when it has none or cannot be read."""
    text = await checker.fetch_text(origin + "/robots.txt")
    if text is None:
        return None
    rules = RobotFileParser()
    rules.parse(text.splitlines())
    return rules
