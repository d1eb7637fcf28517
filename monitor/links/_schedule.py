"""When link passes run, and running them in the background of the daemon's event loop.

Each site has a daily slot: `links.homepage_at` (local time) plus a spread of `SPREAD_S` per site
(sites in config order, `SPREAD_SLOTS` apart at most), so twenty sites do not start together.
At each slot a site gets its homepage pass; its sweep follows in the same slot once `sweep_every`
has passed since its last complete sweep (an incomplete one is tried again at the next slot).
A daemon started after today's slot catches up at once. `due_kinds` is the pure rule;
`LinkRunner` turns it into tasks: one pass at a time per site, one `HostBudget` and one external
`LinkCache` for every site, a stop cancelling what runs (the pass stays recorded as incomplete).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.config import Config, SiteConfig, site_hosts, site_links
from monitor.links._checker import LinkCache, LinkChecker, ssl_context_for
from monitor.links._passes import HOMEPAGE, SWEEP, PassOutcome, pass_plan, run_pass
from monitor.links._politeness import HostBudget, Sleep
from monitor.models import Clock
from monitor.store import LinkPassRow, Store

logger = logging.getLogger(__name__)

SPREAD_S = 300.0
"""Minutes between two sites' daily slots (the n-th site starts n x 5 min after homepage_at)."""
SPREAD_SLOTS = 12
"""The spread wraps after an hour: site 13 shares site 1's slot."""
SWEEP_GRACE_S = 3600.0
"""A sweep is due when its cadence has passed give or take this (slots are a day apart)."""

Finished = Callable[[str, str, PassOutcome | None], None]
"""Called with (site, kind, outcome) when a pass ends; outcome None when it failed."""


@dataclass(frozen=True)
class LastPasses:
    """What the store says about a site's recent passes (start times, epoch seconds)."""

    homepage_started: float | None
    sweep_started: float | None
    complete_sweep_started: float | None

    @classmethod
    def of(cls, store: Store, site: str) -> LastPasses:
        queries = store.links()

        def started(row: LinkPassRow | None) -> float | None:
            return row.started if row is not None else None

        return cls(
            started(queries.last_pass(site, HOMEPAGE)),
            started(queries.last_pass(site, SWEEP)),
            started(queries.last_pass(site, SWEEP, completed=True)),
        )


def slot_before(now: float, tz: ZoneInfo, at: str, offset_s: float) -> float:
    """The latest daily slot (local `at` + `offset_s`) at or before `now`, as epoch seconds."""
    hours, minutes = (int(part) for part in at.split(":"))
    local = datetime.fromtimestamp(now, tz)
    for days_back in range(3):  # DST gaps move a slot by an hour at most
        day = local.date() - timedelta(days=days_back)
        start = datetime.combine(day, time(hours, minutes), tz).timestamp() + offset_s
        if start <= now:
            return start
    raise AssertionError("a daily slot exists in any three days")


def due_kinds(now: float, slot: float, every_s: float, last: LastPasses) -> list[str]:
    """The passes due now for a site whose latest slot is `slot` (pure)."""
    kinds = []
    if last.homepage_started is None or last.homepage_started < slot:
        kinds.append(HOMEPAGE)
    tried_this_slot = last.sweep_started is not None and last.sweep_started >= slot
    complete = last.complete_sweep_started
    if not tried_this_slot and (complete is None or slot - complete >= every_s - SWEEP_GRACE_S):
        kinds.append(SWEEP)
    return kinds


class LinkRunner:
    """Starts due passes as background tasks on the running loop; `tick` is called every minute.

    `sleep` is what the shared budget waits with (a fixed clock's tests move the clock instead).
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        *,
        finished: Finished | None = None,
        extra_urls: Callable[[str], list[str]] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._store = store
        self._sleep = sleep
        self._clock = clock
        self.finished = finished
        self.extra_urls: Callable[[str], list[str]] = extra_urls or (lambda site: [])
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.cache = LinkCache()
        self._contexts: dict[bool, ssl.SSLContext] = {}
        self.configure(config)

    def configure(self, config: Config) -> None:
        """Take a (re)loaded config: the budget's per-host limits follow each site's settings."""
        self._config = config
        limits: dict[str, tuple[int, float]] = {}
        for site in config.sites:
            links = site_links(config.raw, site)
            limits.update({host: (links.concurrency, links.spacing) for host in site_hosts(site)})
        self.budget = HostBudget(limits=limits, clock=self._clock, sleep=self._sleep)

    @property
    def running(self) -> list[str]:
        """Sites with a pass running now."""
        return [site for site, task in self._tasks.items() if not task.done()]

    def tick(self) -> None:
        """Start a task for each enabled site that has a pass due and none running."""
        now = self._clock.now()
        for index, site in enumerate(self._config.sites):
            links = site_links(self._config.raw, site)
            if not links.enabled or site.name in self.running:
                continue
            slot = slot_before(now, self._config.timezone, links.homepage_at, (index % SPREAD_SLOTS) * SPREAD_S)
            kinds = due_kinds(now, slot, links.sweep_every, LastPasses.of(self._store, site.name))
            if kinds:
                self._tasks[site.name] = asyncio.create_task(self._run(site, kinds), name=f"links {site.name}")

    async def _run(self, site: SiteConfig, kinds: list[str]) -> None:
        for kind in kinds:
            plan = pass_plan(self._config, site, kind, self.extra_urls(site.name))
            outcome: PassOutcome | None = None
            try:
                checker = LinkChecker(
                    plan.settings, budget=self.budget, clock=self._clock, cache=self.cache,
                    ssl_context=self.ssl_context(plan.settings.verify_tls),
                )  # fmt: skip
                async with checker:
                    outcome = await run_pass(plan, checker, self._store, self._store.submit)
                logger.info("links %s: %s pass done, %s", site.name, kind, outcome.counts())
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug costs this pass (recorded incomplete), never the daemon
                logger.exception("links %s: %s pass failed", site.name, kind)
            if self.finished is not None:
                self.finished(site.name, kind, outcome)
            self.cache.prune(self._clock.now())

    def ssl_context(self, verify: bool) -> ssl.SSLContext:
        """One TLS context per verification mode for all passes: a context per pass held ~0.8 MB
        of trust store each, ~0.9 GB when a province's 1,000 sites' first passes start together."""
        if verify not in self._contexts:
            self._contexts[verify] = ssl_context_for(verify)
        return self._contexts[verify]

    async def aclose(self) -> None:
        """Cancel the passes still running (each stays recorded as started, not complete)."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
