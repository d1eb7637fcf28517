"""Link passes in the daemon (docs/links.md): the runner's passes wired to the link metrics and to
the monitored pages a sweep starts from; the runner itself (monitor.links) decides what is due."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from monitor.config import Config
from monitor.links import LinkRunner, PassOutcome
from monitor.metrics import LinkMetrics
from monitor.store import Store
from monitor.track import PageRuntime

LINKS_TICK_S = 60.0
"""How often the link runner looks for due passes (daily slots: a minute late is on time)."""


class LinkPasses:
    """The daemon's side of the link passes: `runner` (None: no link checking, e.g. tests of the page
    checks), the metrics its passes feed, and `runtimes`, the daemon's monitored pages (shared, live)."""

    def __init__(
        self, runner: LinkRunner | None, *, store: Store, runtimes: Mapping[tuple[str, str], PageRuntime]
    ) -> None:
        self._runner = runner
        self._store = store
        self._runtimes = runtimes
        self.metrics = LinkMetrics()

    def start(self, sites: Iterable[str]) -> bool:
        """Restore the sites' link metrics and connect the runner; False when there is no runner."""
        if self._runner is None:
            return False
        self.metrics.restore(self._store, list(sites))
        self._runner.finished = self._pass_done
        self._runner.extra_urls = self._sweep_urls
        return True

    async def tick(self) -> None:
        """Start the passes that are due. A coroutine, so APScheduler runs it on the loop (the runner
        creates tasks there)."""
        if self._runner is not None:
            self._runner.tick()

    def configure(self, config: Config) -> None:
        """A reloaded config: the runner's settings and the sites the metrics keep."""
        if self._runner is not None:
            self._runner.configure(config)
            self.metrics.keep_sites(site.name for site in config.raw.sites)

    async def aclose(self) -> None:
        """Stop the running passes (a pass cut short stays recorded as incomplete)."""
        if self._runner is not None:
            await self._runner.aclose()

    def _pass_done(self, site: str, kind: str, outcome: PassOutcome | None) -> None:
        if outcome is None or not outcome.recorded.completed:  # an unreadable homepage is V1's, not links'
            self.metrics.failed(site, kind)
            return
        recorded = outcome.recorded
        self.metrics.passed(site, kind, outcome.counts(), recorded.started, recorded.ended)

    def _sweep_urls(self, site: str) -> list[str]:
        """A sweep starts from every monitored page of the site, discovered columns included."""
        return [rt.page.url for rt in self._runtimes.values() if rt.page.site == site]
