"""Site integrity in the daemon (docs/integrity.md): the tracker restored at start, each homepage's
inspection compared with its baseline, and the sweep (cloaking visits, lapsed-domain lookups)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from monitor.check import CheckOutcome, Judge, PageFetcher, ReadPool, dns_resolver, visits
from monitor.config import Config, integrity_words
from monitor.daemon._visits import job_id
from monitor.integrity import (
    VISITORS,
    DomainLookups,
    Domains,
    Finding,
    Resolution,
    Resolver,
    Visit,
    VocabularyError,
    compare_visits,
    load_vocabulary,
    lookup,
)
from monitor.metrics import MonitorState
from monitor.models import Clock, Page, PageKind
from monitor.store import Store
from monitor.track import IntegrityTracker

log = logging.getLogger("monitor.daemon")


def integrity_tracker(config: Config, store: Store, state: MonitorState) -> tuple[IntegrityTracker, str] | None:
    """The integrity bookkeeping, restored from the database (and into `state`), with the word list
    the read workers use ("" for the shipped one); None when turned off (restart to change)."""
    settings = config.raw.integrity
    if not settings.enabled:
        return None
    words = integrity_words(config)
    used = ""
    try:
        vocabulary = load_vocabulary(Path(words) if words else None)
        used = words
    except (OSError, VocabularyError) as exc:  # `monitor run` and `config validate` refuse it first
        log.error("integrity.words: %s: %s; using the shipped word list", words, exc)
        vocabulary = load_vocabulary()
    domains = Domains(accepted=frozenset(settings.accepted_domains))
    domains.registrable("www.gov.cn")  # loads the suffix list now (~40 ms), not in the first comparison
    lookups = DomainLookups(settings.lookup_ttl, settings.lookups_per_sweep)
    tracker = IntegrityTracker(store, domains, vocabulary, settings.change_share, lookups=lookups)
    tracker.restore()
    names = {site_id: name for name, site_id in store.site_ids().items()}
    for site_id in {*tracker.states, *tracker.open}:
        if site_id in names:
            state.apply_integrity(names[site_id], tracker.open.get(site_id, ()), tracker.state(site_id).identity)
    return tracker, used


class Integrity:
    """The daemon's integrity work for homepages: what the read workers inspect, what a check's
    inspection changes, and the sweep. `config` gives the running config (it changes on reload)."""

    def __init__(
        self,
        tracker: IntegrityTracker,
        words: str,
        *,
        config: Callable[[], Config],
        store: Store,
        state: MonitorState,
        clock: Clock,
        fetcher: PageFetcher,
        reader: ReadPool,
        resolver: Resolver | None,
    ) -> None:
        self.tracker = tracker
        self._words = words
        """The integrity word list the read workers use: the one the daemon started with."""
        self._config = config
        self._store = store
        self._state = state
        self._clock = clock
        self._fetcher = fetcher
        self._reader = reader
        self._resolver = resolver

    def judge(self, page: Page) -> Judge:
        """The read pool's judge; for a homepage, it also inspects the page."""
        if page.kind is not PageKind.HOMEPAGE:
            return self._reader.judge
        return functools.partial(self._reader.judge, inspect=self._words)

    def record(self, page: Page, outcome: CheckOutcome) -> None:
        """Compare a homepage's inspection with the site's baseline; store findings and events."""
        site_id = self._store.site_ids().get(page.site)
        if outcome.inspection is None or site_id is None:
            return
        expected = self._site_code(page.site)
        read = self.tracker.homepage(site_id, outcome.inspection, self._clock.now(), expected)
        self._state.apply_integrity(page.site, read.open, self.tracker.state(site_id).identity)
        if outcome.inspection.error:
            log.info("%s: integrity not inspected: %s", job_id(page.key), outcome.inspection.error)

    def _site_code(self, site: str) -> str:
        try:
            return self._config().site(site).site_code
        except KeyError:
            return ""

    async def sweep_all(self, homepages: Iterable[Page]) -> None:
        """Each homepage as other visitors (cloaking) and its linked domains in DNS (lapsed), one by one."""
        self.tracker.lookups.begin_sweep()  # one lookup budget for the whole sweep
        for page in homepages:
            await self.sweep(page)

    async def sweep(self, page: Page) -> None:
        """One homepage's sweep: the visits, the lookups the plan allows (one thread hop each, so a
        stop waits for one lookup at most), the comparison on a worker thread, then the tracking."""
        site_id = self._store.site_ids().get(page.site)
        if site_id is None:
            return
        seen = await visits(self._fetcher, page, VISITORS)
        normal = seen.pop(VISITORS[0].name)
        if normal is None or not 200 <= normal.status < 300:
            return  # the page did not answer us normally: nothing to compare, nothing resolved
        plan = self.tracker.plan_sweep(site_id, page.url, self._clock.now())
        resolve = self._resolver or dns_resolver()
        answers: dict[str, Resolution] = {}
        for domain in plan.due:
            answers[domain] = await asyncio.to_thread(lookup, resolve, domain)
        others = {name: visit for name, visit in seen.items() if visit is not None and 200 <= visit.status < 300}
        found = await asyncio.to_thread(self._compare_visits, page.url, normal, others)
        read = self.tracker.finish_sweep(site_id, plan, found, others, answers, self._clock.now())
        self._state.apply_integrity(page.site, read.open, self.tracker.state(site_id).identity)

    def _compare_visits(self, url: str, normal: Visit, others: dict[str, Visit]) -> list[Finding]:
        """On a worker thread: compare the visits (parses bodies)."""
        return compare_visits(url, normal, others, self.tracker.domains, self.tracker.vocabulary)
