"""Outcomes -> facts to store: the outage state machine, the per-page tracker and catalogue
discovery. No network I/O. See docs/architecture.md.
"""

from monitor.track._discovery import discovered_pages, page_name, remembered_columns
from monitor.track._tracker import PageRuntime, Tracker, restore_runtime

__all__ = [
    "PageRuntime",
    "Tracker",
    "discovered_pages",
    "page_name",
    "remembered_columns",
    "restore_runtime",
]
