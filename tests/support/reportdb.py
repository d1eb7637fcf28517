"""A demo database for the report-format and digest tests: 40 days of generated history of the
demo site (seed 7) up to a fixed clock, and the report of its last 30 days."""

from __future__ import annotations

from pathlib import Path

from monitor.report import Report, build_report, parse_period
from monitor.sim import HistorySpec, generate
from monitor.store import Store

NOW = 1_767_225_600 + 200 * 86400
"""2026-07-20 08:00 in Asia/Shanghai: the fixed clock of the generated history and the reports."""
TZ = "Asia/Shanghai"


def demo_db(path: Path, days: int = 40) -> Path:
    """Generate the demo history into `path` (a new SQLite file)."""
    store = Store.open(path)
    try:
        generate(store, HistorySpec(start=NOW - days * 86400, days=days, seed=7))
    finally:
        store.close()
    return path


def demo_report(path: Path, last: str = "30d") -> Report:
    store = Store.open(path, readonly=True)
    try:
        return build_report(store, parse_period(tz_name=TZ, now=NOW, last=last), now=NOW)
    finally:
        store.close()
