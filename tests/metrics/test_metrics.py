"""metrics.py: the collector turns MonitorState into the documented families at scrape time."""

from __future__ import annotations

import os
import urllib.request
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from monitor.metrics._series import CheckFacts
from monitor.metrics._state import Exporter, MetricsServer, MonitorState, build_registry
from monitor.models import ContentFacts, ErrorKind, FixedClock, Page, PageKind, Result
from monitor.store import WriterStats

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=TZ).timestamp()
HOME = Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE, interval_s=600)
NEWS = Page("bureau", "工作动态", "http://bureau.example/gzdt/", PageKind.COLUMN)
BLANK = Page("bureau", "blank", "http://bureau.example/blank/", PageKind.COLUMN, interval_s=3600)


class Writer:
    def __init__(self) -> None:
        self.stats_value = WriterStats(write_errors=3, backlog=7)
        self.batches = [0.002, 0.004]

    def stats(self) -> WriterStats:
        return self.stats_value

    def take_batch_seconds(self) -> list[float]:
        taken, self.batches = self.batches, []
        return taken


def facts(ts: float, result: Result = Result.UP, kind: ErrorKind | None = None) -> CheckFacts:
    return CheckFacts(
        ts,
        result,
        kind,
        0.5,
        {"dns": 0.01, "connect": 0.02, "ttfb": 0.3, "transfer": 0.1},
        200 if result is Result.UP else None,
        2048,
        1,
        None,
    )


@pytest.fixture
def exporter() -> tuple[Exporter, MonitorState]:
    state = MonitorState(FixedClock(NOW - 3600))
    state.set_pages([HOME, NEWS, BLANK])
    state.record_check(HOME.key, facts(NOW - 60), scheduled=True)
    state.record_check(NEWS.key, facts(NOW - 30, Result.DOWN, ErrorKind.TIMEOUT), scheduled=True)
    state.record_outage(NEWS.key, started=NOW - 90, opened=True)
    state.record_content(HOME.key, ContentFacts(True, date(2026, 11, 10), 30, NOW - 7200), new_items=2)
    state.record_content(NEWS.key, ContentFacts(True, date(2026, 11, 1), 20, NOW - 9000), new_items=0)
    state.record_content(BLANK.key, ContentFacts(True, None, 0, NOW - 9000), new_items=0)
    return build_registry(state, clock=FixedClock(NOW), tz=TZ, writer=Writer()), state


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_availability_series(exporter: tuple[Exporter, MonitorState]) -> None:
    reg = exporter[0].registry
    home = {"site": "bureau", "page": "home", "kind": "homepage"}
    news = {"site": "bureau", "page": "工作动态", "kind": "column"}
    assert value(reg, "portal_probe_success", **home) == 1
    assert value(reg, "portal_probe_success", **news) == 0
    assert value(reg, "portal_probe_duration_seconds", **home) == 0.5
    assert value(reg, "portal_probe_phase_duration_seconds", **home, phase="ttfb") == 0.3
    assert value(reg, "portal_probe_http_status_code", **news) == 0
    assert value(reg, "portal_checks_total", **news, result="down") == 1
    assert value(reg, "portal_checks_total", **news, result="up") == 0
    assert value(reg, "portal_probe_errors_total", **news, error_kind="timeout") == 1
    assert value(reg, "portal_outage_active", **news) == 1
    assert value(reg, "portal_outage_started_timestamp_seconds", **news) == NOW - 90
    assert value(reg, "portal_outages_total", **news) == 1
    assert value(reg, "portal_last_check_timestamp_seconds", **home) == NOW - 60
    assert value(reg, "portal_page_interval_seconds", **home) == 600
    assert value(reg, "portal_tls_verify_enabled", **home) == 1


def test_freshness_is_derived_at_scrape_time(exporter: tuple[Exporter, MonitorState]) -> None:
    reg = exporter[0].registry
    news = {"site": "bureau", "page": "工作动态", "kind": "column", "category": "news"}
    home = {"site": "bureau", "page": "home", "kind": "homepage", "category": "news"}
    blank = {"site": "bureau", "page": "blank", "kind": "column", "category": "custom"}
    assert value(reg, "portal_column_stale", **news) == 1  # 26 days > 14
    assert value(reg, "portal_column_stale", **home) == 1  # 17 days > 14: V2
    assert value(reg, "portal_column_blank", **blank) == 1
    assert value(reg, "portal_column_items", **news) == 20
    assert (
        value(reg, "portal_column_newest_item_timestamp_seconds", **news)
        == datetime(2026, 11, 1, tzinfo=TZ).timestamp()
    )
    assert value(reg, "portal_column_freshness_window_seconds", **news) == 14 * 86400
    assert value(reg, "portal_items_new_total", **home) == 2
    assert value(reg, "portal_site_stale_columns", site="bureau") == 1
    assert value(reg, "portal_site_stale_key_columns", site="bureau") == 1
    assert value(reg, "portal_site_blank_columns", site="bureau") == 1
    assert value(reg, "portal_compliance_veto", site="bureau", rule="V2") == 1
    assert value(reg, "portal_compliance_veto", site="bureau", rule="V3") == 0
    assert value(reg, "portal_homepage_checks_7d", site="bureau") == 1
    assert value(reg, "portal_homepage_unavailable_ratio_7d", site="bureau") == 0


def test_monitor_self_metrics(exporter: tuple[Exporter, MonitorState]) -> None:
    reg, state = exporter[0].registry, exporter[1]
    state.record_reload(False)
    assert value(reg, "portal_monitor_up") == 1
    assert value(reg, "portal_monitor_db_write_errors_total") == 3
    assert value(reg, "portal_monitor_db_backlog") == 7
    assert value(reg, "portal_monitor_pages", site="bureau") == 3
    assert value(reg, "portal_monitor_config_reloads_total", result="rejected") == 1
    assert value(reg, "portal_monitor_db_write_batch_seconds_count") == 2


def test_removed_pages_lose_their_series(exporter: tuple[Exporter, MonitorState]) -> None:
    reg, state = exporter[0].registry, exporter[1]
    state.set_pages([HOME])
    assert value(reg, "portal_probe_success", site="bureau", page="工作动态", kind="column") is None
    assert value(reg, "portal_probe_success", site="bureau", page="home", kind="homepage") == 1


def test_server_serves_metrics_and_health_on_loopback(exporter: tuple[Exporter, MonitorState]) -> None:
    health = {"ok": True}
    server = MetricsServer(exporter[0].render, lambda: (health["ok"], "fine" if health["ok"] else "writer stopped"))
    host, port = server.start("127.0.0.1", 0)
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as response:
            body = response.read().decode()
        assert 'portal_probe_success{kind="homepage",page="home",site="bureau"} 1.0' in body
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=5) as response:
            assert response.status == 200
        health["ok"] = False
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=5)
        assert info.value.code == 503
        info.value.close()
    finally:
        server.stop()


def test_database_size_and_free_space_are_exported(tmp_path: Path) -> None:
    """The disk-filling alert reads the database's size (main file + WAL) and its file system's free
    space from the daemon itself; a database that cannot be stat'ed leaves the size out, no error."""
    db = tmp_path / "monitor.db"
    db.write_bytes(b"x" * 4096)
    (tmp_path / "monitor.db-wal").write_bytes(b"y" * 1000)
    state = MonitorState(FixedClock(NOW))
    reg = build_registry(state, clock=FixedClock(NOW), tz=TZ, writer=Writer(), db_path=db).registry
    assert value(reg, "portal_monitor_db_size_bytes") == 5096
    free = value(reg, "portal_monitor_db_filesystem_avail_bytes")
    stat = os.statvfs(tmp_path)
    assert free is not None and abs(free - stat.f_bavail * stat.f_frsize) < 64 * 1024 * 1024
    gone = build_registry(state, clock=FixedClock(NOW), tz=TZ, writer=Writer(), db_path=tmp_path / "none.db").registry
    assert value(gone, "portal_monitor_db_size_bytes") is None
    assert value(gone, "portal_monitor_db_filesystem_avail_bytes") is not None
