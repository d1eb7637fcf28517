"""An IPv6 probe -> store operations: the reading into its own series (`ipv6_checks`, never the
checks behind V1 and uptime) and, when the two answers were compared, the consistency findings into
the integrity findings (tracked apart from the other sources: `IntegrityTracker.ipv6`). No network I/O.
"""

from __future__ import annotations

from monitor.check import Ipv6Probe
from monitor.store import Ipv6CheckRow, Store
from monitor.track._integrity import IntegrityRead, IntegrityTracker


def record_ipv6(
    store: Store, integrity: IntegrityTracker | None, site_id: int, probe: Ipv6Probe, now: float
) -> IntegrityRead | None:
    """Store the reading; track its findings (None when not compared or integrity is off)."""
    store.submit([Ipv6CheckRow(site_id, probe.reading)])
    if probe.findings is None or integrity is None:
        return None
    return integrity.ipv6(site_id, probe.reading.page, probe.findings, now)
