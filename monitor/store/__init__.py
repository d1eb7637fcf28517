"""SQLite: schema and migrations, write operations, the writer thread, rollups, retention, views
and the read queries behind reports. The only package that speaks SQL. See docs/architecture.md.
"""

from monitor.store._lock import ONE_SHOT, LockHeld, acquire
from monitor.store._queries import History, RollupMark, to_ms
from monitor.store._rollup import day_bounds
from monitor.store._schema import RESULT_CODES
from monitor.store._store import (
    BlipRow,
    CheckRow,
    EventRow,
    Heartbeat,
    IncrementalVacuum,
    ItemsSeen,
    ItemsTouched,
    OpenOutage,
    OutageClosed,
    OutageOpened,
    OutageProgress,
    PageRow,
    PageStateRow,
    Prune,
    RollupTick,
    RunStopped,
    Store,
    StoredPageState,
    StoreError,
    migrate_file,
)
from monitor.store._writer import WriterSettings, WriterStats

__all__ = [
    "ONE_SHOT",
    "RESULT_CODES",
    "BlipRow",
    "CheckRow",
    "EventRow",
    "Heartbeat",
    "History",
    "IncrementalVacuum",
    "ItemsSeen",
    "ItemsTouched",
    "LockHeld",
    "OpenOutage",
    "OutageClosed",
    "OutageOpened",
    "OutageProgress",
    "PageRow",
    "PageStateRow",
    "Prune",
    "RollupMark",
    "RollupTick",
    "RunStopped",
    "Store",
    "StoreError",
    "StoredPageState",
    "WriterSettings",
    "WriterStats",
    "acquire",
    "day_bounds",
    "migrate_file",
    "to_ms",
]
