"""IPv6 families: per site, whether the homepage host has AAAA records, the latest IPv6 reading, the
success ratio over the last 24 hours and IPv4/IPv6 consistency (docs/integrity.md#ipv6).

Its own series: nothing here feeds `portal_up`, V1 or uptime. A site appears once it has an IPv6
reading; a value that is not known is left out (no AAAA: no `portal_ipv6_up` and no ratio), so an
alert never reads a host without IPv6 as a failing one.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, Metric

from monitor.integrity import Ipv6Reading, Ipv6State

WINDOW_S = 86400.0
"""The success ratio's window: the last 24 hours."""

AAAA_PRESENT = "portal_ipv6_aaaa_present"
UP = "portal_ipv6_up"
SUCCESS_RATIO = "portal_ipv6_success_ratio_24h"
CONSISTENT = "portal_ipv6_consistent"
LAST_READING = "portal_ipv6_last_reading_timestamp_seconds"
LINKS_RATIO = "portal_ipv6_internal_links_reachable_ratio"


@dataclass
class SiteIpv6:
    """A site's IPv6 readings of the last 24 hours (oldest first) and the latest reading."""

    window: collections.deque[Ipv6Reading] = field(default_factory=collections.deque)
    latest: Ipv6Reading | None = None
    known_aaaa: bool | None = None
    """Whether the host had AAAA records at the last lookup that said something (None: never known)."""
    consistent: bool | None = None
    """The latest IPv4/IPv6 comparison (a reading that could not compare leaves it as it was)."""
    links: tuple[int, int] | None = None
    """(reachable, read) internal links of the latest reading that read some over IPv6."""

    def add(self, reading: Ipv6Reading) -> None:
        self.latest = reading
        if reading.links_checked:
            self.links = (reading.links_ok, reading.links_checked)
        if reading.consistent is not None:
            self.consistent = reading.consistent
        elif reading.state is Ipv6State.NO_IPV6:
            self.consistent = None
        if reading.state is Ipv6State.NO_IPV6:
            self.known_aaaa = False
        elif reading.state is not Ipv6State.UNKNOWN or reading.address:
            self.known_aaaa = True
        if reading.counted:
            self.window.append(reading)

    def ratio(self, now: float) -> float | None:
        """OK share of the counted readings in the last 24 hours (None: none)."""
        while self.window and self.window[0].started_at < now - WINDOW_S:
            self.window.popleft()
        if not self.window:
            return None
        return sum(1 for r in self.window if r.state is Ipv6State.OK) / len(self.window)


def restore(readings: Iterable[Ipv6Reading]) -> SiteIpv6:
    """A site's state from its stored readings (oldest first)."""
    site = SiteIpv6()
    for reading in readings:
        site.add(reading)
    return site


def ipv6_metrics(sites: Mapping[str, SiteIpv6], now: float) -> Iterator[Metric]:
    """The six IPv6 families from the per-site state."""
    aaaa = GaugeMetricFamily(
        AAAA_PRESENT, "1 when the homepage host has AAAA (IPv6) records, 0 when not.", labels=["site"]
    )
    up = GaugeMetricFamily(UP, "1 when the latest IPv6 reading of the homepage answered 2xx, else 0.", labels=["site"])
    ratio = GaugeMetricFamily(
        SUCCESS_RATIO, "Share of the homepage's IPv6 readings of the last 24 h that answered 2xx.", labels=["site"]
    )
    consistent = GaugeMetricFamily(
        CONSISTENT, "1 when the homepage answered the same status and content over IPv4 and IPv6.", labels=["site"]
    )
    last = GaugeMetricFamily(LAST_READING, "When the homepage was last read over IPv6 (Unix time).", labels=["site"])
    links = GaugeMetricFamily(
        LINKS_RATIO,
        "Share of the internal links read over IPv6 at the latest reading that answered 2xx.",
        labels=["site"],
    )
    for site, state in sorted(sites.items()):
        latest = state.latest
        if latest is None:
            continue
        last.add_metric([site], latest.started_at)
        if state.known_aaaa is not None:
            aaaa.add_metric([site], int(state.known_aaaa))
        if latest.counted:
            up.add_metric([site], int(latest.state is Ipv6State.OK))
        share = state.ratio(now)
        if share is not None and state.known_aaaa:
            ratio.add_metric([site], share)
        if state.consistent is not None:
            consistent.add_metric([site], int(state.consistent))
        if state.links is not None and state.known_aaaa:
            links.add_metric([site], state.links[0] / state.links[1])
    yield from (aaaa, up, ratio, consistent, last, links)
