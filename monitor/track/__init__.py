"""Outcomes -> facts to store: the outage state machine, the per-page tracker and catalogue
discovery, the IPv6 readings. No network I/O. See docs/architecture.md.
"""

from monitor.track import outage
from monitor.track._discovery import (
    COLUMN_GONE_READS,
    RemovalConfirmation,
    discovered_pages,
    monitored_pages,
    page_name,
    remembered_columns,
)
from monitor.track._integrity import IntegrityRead, IntegrityTracker
from monitor.track._ipv6 import record_ipv6
from monitor.track._tracker import PageRuntime, Recorded, Tracker, restore_runtime

__all__ = [
    "COLUMN_GONE_READS",
    "IntegrityRead",
    "IntegrityTracker",
    "PageRuntime",
    "Recorded",
    "RemovalConfirmation",
    "Tracker",
    "discovered_pages",
    "monitored_pages",
    "outage",
    "page_name",
    "record_ipv6",
    "remembered_columns",
    "restore_runtime",
]
