"""SQLite: schema and migrations, write operations, the writer thread, rollups, retention, views
and the read queries behind reports. The only package that speaks SQL. See docs/architecture.md.
"""

from monitor.store._integrity import (
    FindingsTracked,
    IntegrityEvents,
    IntegrityStateRow,
    PruneIntegrity,
    StoredEvent,
    StoredFinding,
    load_events,
    load_findings,
    load_states,
    open_tracked,
)
from monitor.store._ipv6 import (
    Ipv6CheckRow,
    Ipv6Summary,
    PruneIpv6,
    ipv6_link_sample,
    ipv6_summaries,
    recent_readings,
)
from monitor.store._linked import ExternalLink, external_links, link_parents, links_mark
from monitor.store._links import (
    OCCURRENCES_KEPT,
    PASS_KINDS,
    LinkOccurrenceRow,
    LinkPassRecorded,
    LinkPassRow,
    LinkPassStarted,
    LinkPrune,
    LinkQueries,
    LinkResultRow,
    LinkResultsWritten,
    LinkStateRow,
)
from monitor.store._lock import ONE_SHOT, LockHeld, acquire
from monitor.store._ops import (
    BlipRow,
    CheckRow,
    EventRow,
    Heartbeat,
    ItemsSeen,
    ItemsTouched,
    OutageClosed,
    OutageOpened,
    OutageProgress,
    PageStateRow,
    RunStopped,
)
from monitor.store._queries import History, RollupMark, to_ms
from monitor.store._retention import IncrementalVacuum, Prune
from monitor.store._rollup import RollupTick, day_bounds
from monitor.store._rows import OpenOutage, PageRow
from monitor.store._schema import RESULT_CODES
from monitor.store._store import Store, StoreError, migrate_file
from monitor.store._writer import WriteOp, WriterSettings, WriterStats

__all__ = [
    "OCCURRENCES_KEPT",
    "ONE_SHOT",
    "PASS_KINDS",
    "RESULT_CODES",
    "BlipRow",
    "CheckRow",
    "EventRow",
    "ExternalLink",
    "FindingsTracked",
    "Heartbeat",
    "History",
    "IncrementalVacuum",
    "IntegrityEvents",
    "IntegrityStateRow",
    "Ipv6CheckRow",
    "Ipv6Summary",
    "ItemsSeen",
    "ItemsTouched",
    "LinkOccurrenceRow",
    "LinkPassRecorded",
    "LinkPassRow",
    "LinkPassStarted",
    "LinkPrune",
    "LinkQueries",
    "LinkResultRow",
    "LinkResultsWritten",
    "LinkStateRow",
    "LockHeld",
    "OpenOutage",
    "OutageClosed",
    "OutageOpened",
    "OutageProgress",
    "PageRow",
    "PageStateRow",
    "Prune",
    "PruneIntegrity",
    "PruneIpv6",
    "RollupMark",
    "RollupTick",
    "RunStopped",
    "Store",
    "StoreError",
    "StoredEvent",
    "StoredFinding",
    "WriteOp",
    "WriterSettings",
    "WriterStats",
    "acquire",
    "day_bounds",
    "external_links",
    "ipv6_link_sample",
    "ipv6_summaries",
    "link_parents",
    "links_mark",
    "load_events",
    "load_findings",
    "load_states",
    "migrate_file",
    "open_tracked",
    "recent_readings",
    "to_ms",
]
