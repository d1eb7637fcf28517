"""The SQL views documented in docs/reports.md return their documented columns."""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.sim import HistorySpec, generate
from monitor.store._store import Store
from monitor.store._writer import WriterSettings

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


def local_times(db: Path, tz: str) -> list[tuple[float, str]]:
    """(started, started_local) of every outage, read by a process whose TZ is `tz`, as
    `TZ=... sqlite3 monitor.db` would (SQLite's 'localtime' is the querying process's zone)."""
    query = "SELECT o.started, v.started_local FROM outage_history v JOIN outages o ON o.id = v.id ORDER BY o.id"
    script = f"import sqlite3, sys; print(repr(sqlite3.connect(sys.argv[1]).execute({query!r}).fetchall()))"
    done = subprocess.run(
        [sys.executable, "-c", script, str(db)],
        env={**os.environ, "TZ": tz},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows: list[tuple[float, str]] = ast.literal_eval(done.stdout)
    return rows


def test_local_times_follow_the_querying_time_zone_as_documented(tmp_path: Path) -> None:
    """docs/reports.md: `*_local` is the querying process's zone, so `TZ=<configured timezone>`
    gives the reports' local times, and a UTC host gives UTC (8 hours off Asia/Shanghai)."""
    spec = HistorySpec(start=1_514_736_000.0, days=5, columns=1)
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(linger_s=0.0))
    generate(store, spec)
    store.close()
    shanghai = local_times(tmp_path / "m.db", spec.timezone)
    assert shanghai and spec.timezone == "Asia/Shanghai"
    zone = ZoneInfo(spec.timezone)
    assert [local for _, local in shanghai] == [
        datetime.fromtimestamp(started, zone).strftime("%Y-%m-%d %H:%M:%S") for started, _ in shanghai
    ]
    utc = local_times(tmp_path / "m.db", "UTC")
    assert [local for _, local in utc] == [
        datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%d %H:%M:%S") for started, _ in utc
    ]
