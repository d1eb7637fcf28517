"""Retention: prune deletes only rolled-up raw checks past retention, in short steps with
incremental vacuum between them, and reports over the pruned range do not change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from monitor.report import Report, build_report, parse_period
from monitor.sim import HistorySpec, generate
from monitor.store._retention import IncrementalVacuum, Prune
from monitor.store._store import Store
from monitor.store._writer import WriterSettings

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
SPEC = HistorySpec(start=START, days=12, columns=2, interval_s=120, seed=7)


def kept_by_rollups(report: Report) -> Report:
    """The report without the daily latency quantiles: they come from raw checks only (the HTML
    chart shows a pruned day as a gap, docs/reports.md); everything else must survive a prune."""
    sites = tuple(
        replace(site, days=tuple(replace(day, median_ms=None, p95_ms=None) for day in site.days))
        for site in report.sites
    )
    return replace(report, sites=sites)


def test_prune_keeps_what_reports_need(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(linger_s=0.0, batch_max=5000))
    generate(store, SPEC)
    now, retention = SPEC.end, 5 * 86400.0
    period = parse_period(tz_name="Asia/Shanghai", now=now, date_from="2018-01-01", date_to="2018-01-12")
    before = build_report(store, period, now=now)
    marks = store.history().marks()
    total = store.count("checks")

    planned = store.prune_candidates(now, retention)
    steps = store.run_task(Prune(now, retention, batch_rows=500, vacuum_pages=20))

    cutoff_ms = round((now - retention) * 1000)
    assert store.count("checks") == total - sum(c.rows for c in planned) and sum(c.rows for c in planned) > 10_000
    for page_id, mark in marks.items():
        oldest = store.query("SELECT min(ts_ms) FROM checks WHERE page_id = ?", (page_id,))[0][0]
        kept_before = store.query(
            "SELECT count(*) FROM checks WHERE page_id = ? AND ts_ms < ?", (page_id, mark.hourly_until_ms)
        )[0][0]
        assert oldest >= min(cutoff_ms, mark.hourly_until_ms) - 1 and kept_before >= 1
    assert len(steps) > 20 and max(steps) < 1.0
    assert store.file_pages()[2] == 0  # every freed page given back
    assert kept_by_rollups(build_report(store, period, now=now)) == kept_by_rollups(before)
    assert all(c.rows == 0 for c in store.prune_candidates(now, retention))
    store.close()


def test_nothing_is_pruned_before_it_is_rolled_up(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(linger_s=0.0, batch_max=5000))
    generate(store, HistorySpec(start=START, days=3, columns=1, rollups=False))
    assert store.prune_candidates(START + 100 * 86400, 86400.0) == []
    store.run_task(Prune(START + 100 * 86400, 86400.0))
    assert store.count("checks") > 0
    store.close()


def test_incremental_vacuum_returns_free_pages(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(linger_s=0.0, batch_max=5000))
    generate(store, HistorySpec(start=START, days=3, columns=1, interval_s=60))
    store.run_task(_DeleteAll())
    assert store.file_pages()[2] > 10
    assert len(store.run_task(IncrementalVacuum(pages=5))) > 2
    assert store.file_pages()[2] == 0
    store.close()


class _DeleteAll:
    """A one-step task that frees many pages (what a big prune leaves without vacuum)."""

    def statements(self) -> tuple[()]:
        return ()

    def step(self, conn: object) -> None:
        conn.execute("DELETE FROM checks")  # type: ignore[attr-defined]
