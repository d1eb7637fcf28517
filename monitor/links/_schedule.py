"""When link passes run, and running them in the background of the daemon: a homepage pass on its
event loop, a sweep in a child process (`_isolated`) under the same budget.

Each site has a daily slot: `links.homepage_at` (local time) plus a spread of `SPREAD_S` per site
(sites in config order, `SPREAD_SLOTS` apart at most), so twenty sites do not start together.
At each slot a site gets its homepage pass; its sweep follows in the same slot once `sweep_every`
has passed since its last complete sweep (an incomplete one is tried again at the next slot).
A daemon started after today's slot catches up at once. `due_kinds` is the pure rule;
`LinkRunner` turns it into tasks: one pass at a time per site, one `HostBudget` (the daemon's,
shared with its page checks, which go first) and one external `LinkCache` for every site, a stop
cancelling what runs (the pass stays recorded as incomplete).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.check import HostBudget, Sleep, host_limits
from monitor.config import Config, SiteConfig, site_links
from monitor.links._checker import LinkCache, LinkChecker, ssl_context_for
from monitor.links._isolated import sweep_in_child
from monitor.links._passes import HOMEPAGE, SWEEP, PassOutcome, PassPlan, pass_plan, run_pass
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
"""Called with (site, kind, outcome) when a pass ends; outcome None when it failed with an error
(an outcome whose `failure` is set did not complete either: its homepage could not be read)."""


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


HOMEPAGE_PASSES_AT_ONCE = 8
"""Homepage passes running at once, all sites together: at start every site's first pass is due,
and 1,000 sites' passes at once held hundreds of MB and every host's link share together."""
SWEEPS_AT_ONCE = 1
"""Site sweeps running at once (each in its own child process of up to ~240 MB): one after another,
so a province's 1,000 first sweeps never start 1,000 children."""


class LinkRunner:
    """Starts due passes as background tasks on the running loop; `tick` is called every minute.

    `budget` is the host budget shared with the page checks (the daemon passes the one its fetcher
    uses); without one the runner makes its own, waiting with `sleep` (a fixed clock's tests move
    the clock instead). `sweep_in_child` (the default) runs sweeps in a child process
    (`_isolated`), whose every request is a link check of that same budget; False runs them on
    this loop like homepage passes.
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
        budget: HostBudget | None = None,
        sweep_in_child: bool = True,
    ) -> None:
        self._store = store
        self.sweep_in_child = sweep_in_child
        self._clock = clock
        self.finished = finished
        self.extra_urls: Callable[[str], list[str]] = extra_urls or (lambda site: [])
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.cache = LinkCache()
        self.budget = budget or HostBudget(clock=clock, sleep=sleep)
        self._contexts: dict[bool, ssl.SSLContext] = {}
        self._at_once = {HOMEPAGE: asyncio.Semaphore(HOMEPAGE_PASSES_AT_ONCE), SWEEP: asyncio.Semaphore(SWEEPS_AT_ONCE)}
        self.configure(config)

    def configure(self, config: Config) -> None:
        """Take a (re)loaded config: the shared budget's per-host limits follow each site's settings
        (the same budget object: page checks and passes in flight keep their slots)."""
        self._config = config
        self.budget.configure(host_limits(config))

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
                async with self._at_once[kind]:
                    outcome = await self._pass(plan)
                if outcome.failure is None:
                    logger.info("links %s: %s pass done, %s", site.name, kind, outcome.counts())
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug costs this pass (recorded incomplete), never the daemon
                logger.exception("links %s: %s pass failed", site.name, kind)
            if self.finished is not None:
                self.finished(site.name, kind, outcome)
            self.cache.prune(self._clock.now())

    async def _pass(self, plan: PassPlan) -> PassOutcome:
        """A homepage pass on this loop; a sweep in a child process (its memory goes back to the
        system when it ends), both under this runner's budget."""
        if plan.kind == SWEEP and self.sweep_in_child:
            return await sweep_in_child(
                plan,
                budget=self.budget,
                cache=self.cache,
                store=self._store,
                clock=self._clock,
                submit=self._store.submit,
            )
        context = self.ssl_context(plan.settings.verify_tls)
        checker = LinkChecker(
            plan.settings, budget=self.budget, clock=self._clock, cache=self.cache, ssl_context=context
        )
        async with checker:
            return await run_pass(plan, checker, self._store, self._store.submit)

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
