"""The SQL views documented in docs/reports.md return their documented columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor._writer import WriterSettings
from monitor.history import HistorySpec, generate
from monitor.store import Store

COLUMNS = {
    "daily_uptime": [
        "site", "page", "kind", "day", "timezone", "checks", "failed_checks", "blocked_checks", "up_s", "down_s",
        "blocked_s", "unknown_s", "uptime_ratio", "coverage_ratio", "outage_s", "avg_latency_ms", "max_latency_ms",
    ],
    "outage_history": [
        "id", "site", "page", "kind", "started_utc", "ended_utc", "started_local", "ended_local", "duration_s",
        "ongoing", "cause", "failed_checks", "last_error",
    ],
    "column_freshness": [
        "site", "page", "category", "tags", "discovered_by", "removed", "newest_date", "age_days", "items",
        "dated_items", "blank", "unreadable", "state_updated_utc",
    ],
    "items_per_month": ["site", "page", "category", "tags", "month", "items"],
}  # fmt: skip


def test_views_have_the_documented_columns_and_rows(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(linger_s=0.0))
    generate(store, HistorySpec(start=1_514_736_000.0, days=5, columns=3))
    store.close()
    conn = sqlite3.connect(tmp_path / "m.db")
    for view, columns in COLUMNS.items():
        cursor = conn.execute(f"SELECT * FROM {view}")
        assert [d[0] for d in cursor.description] == columns
        assert cursor.fetchall(), view
    day = conn.execute("SELECT up_s + down_s + blocked_s + unknown_s, uptime_ratio FROM daily_uptime").fetchone()
    assert day[0] == 86400.0 and 0 < day[1] <= 1
    conn.close()
