"""The IPv6 readings in the daemon (docs/integrity.md#ipv6): each homepage of a site with `ipv6` on,
read over IPv6 and IPv4 on `ipv6.interval`, recorded in its own series and in the metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

from monitor.check import Fetcher, Ipv6Prober, PageFetcher, aaaa_resolver
from monitor.config import Config
from monitor.daemon._visits import job_id
from monitor.metrics import MonitorState
from monitor.models import Clock, Page
from monitor.store import Store, ipv6_link_sample, recent_readings
from monitor.track import IntegrityTracker, record_ipv6

log = logging.getLogger("monitor.daemon")

IPV6_FIRST_S = 60.0
"""The first IPv6 readings start this long after start (or one `ipv6.interval`, if shorter)."""
IPV6_WINDOW_S = 86400.0
"""The IPv6 readings restored into the metrics at start (the success ratio's 24 hours)."""


def ipv6_prober(hosts: Mapping[str, Sequence[str]], fetcher: PageFetcher, clock: Clock) -> Ipv6Prober:
    """The default prober: AAAA answers from DNS (or `ipv6.hosts`), under the page checks' per-host budget."""
    budget = fetcher.budget if isinstance(fetcher, Fetcher) else None  # one per host
    return Ipv6Prober(resolver=aaaa_resolver(hosts=hosts), clock=clock, budget=budget)


class Ipv6Readings:
    """Reads homepages over IPv6 and IPv4 with `prober` and records each reading (with the
    consistency findings, when integrity is on). `config` gives the running config (it changes on reload)."""

    def __init__(
        self,
        prober: Ipv6Prober,
        *,
        config: Callable[[], Config],
        store: Store,
        state: MonitorState,
        integrity: IntegrityTracker | None,
        clock: Clock,
    ) -> None:
        self._prober = prober
        self._config = config
        self._store = store
        self._state = state
        self._integrity = integrity
        self._clock = clock

    def restore(self, since: float) -> None:
        """Bring the readings since `since` back into the metrics (at start)."""
        names = {site_id: name for name, site_id in self._store.site_ids().items()}
        for site_id, readings in recent_readings(self._store, since).items():
            if site_id in names:
                self._state.apply_ipv6(names[site_id], readings)

    async def read_all(self, homepages: Iterable[Page]) -> None:
        """Each homepage of a site with `ipv6` on, read over IPv6 and IPv4, one after the other."""
        for page in homepages:
            if self._wanted(page.site):
                await self.read(page)

    def _wanted(self, site: str) -> bool:
        try:
            return self._config().site(site).ipv6
        except KeyError:
            return False

    async def read(self, page: Page) -> None:
        """One homepage's reading: probed, put in the metrics, recorded, logged."""
        site_id = self._store.site_ids().get(page.site)
        if site_id is None:
            return
        links = ipv6_link_sample(self._store, page.site, self._config().raw.ipv6.links)
        probe = await self._prober.probe(page, links)
        reading = probe.reading
        self._state.apply_ipv6(page.site, [reading])
        read = record_ipv6(self._store, self._integrity, site_id, probe, self._clock.now())
        if read is not None and self._integrity is not None:
            self._state.apply_integrity(page.site, read.open, self._integrity.state(site_id).identity)
        log.info(
            "%s ipv6 %s%s",
            job_id(page.key),
            reading.state.value,
            f" {reading.error_kind} ({reading.error})" if reading.error_kind else "",
        )
