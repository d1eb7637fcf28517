"""End to end: the real `monitor run` process against the simulated portal.

The homepage goes down for a few seconds and comes back: exactly one outage with the right bounds,
the metrics say so, and SIGTERM stops the daemon cleanly with every finished check on disk.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from monitor.sim import SimPortal
from tests.support.daemon_harness import RunningDaemon, db_rows, sim_config, sim_pages

pytestmark = pytest.mark.slow

RETRY_DELAY_S = 0.3
INTERVAL_S = 1.0
"""A retry (plus its 0.5 s timeout) fits before the next visit, so failures are retried between visits."""


def checks_of(db: Path, page: str) -> list[tuple[int, int, int]]:
    return db_rows(
        db,
        "SELECT c.ts_ms, c.result, c.attempt FROM checks c JOIN pages p ON p.id = c.page_id"
        " WHERE p.name = ? ORDER BY c.ts_ms",
        [page],
    )


def test_outage_is_opened_confirmed_and_closed(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = sim_config(
            tmp_path, sim, pages=sim_pages(sim, "home", "gzdt"), defaults={"retry_delay": "0.3s", "timeout": "0.5s"}
        )
        db = tmp_path / "monitor.db"
        with RunningDaemon(config) as daemon:
            home = {"site": "sim", "page": "home", "kind": "homepage"}
            daemon.wait_for(
                lambda: (daemon.value("portal_checks_total", **home, result="up") or 0) >= 2,
                what="two good homepage checks",
            )
            assert daemon.get("/healthz")[0] == 200

            went_down = time.time()
            sim.fault("500", "/")
            daemon.wait_for(lambda: daemon.value("portal_outage_active", **home) == 1, what="outage confirmed")
            time.sleep(2.0)
            came_back = time.time()
            sim.fault("ok", "/")
            daemon.wait_for(lambda: daemon.value("portal_outage_active", **home) == 0, what="outage closed")

            samples = daemon.samples()
            text = daemon.get("/metrics")[1]
            code, took = daemon.terminate()

        assert code == 0 and took < 10, daemon.log()
        assert "stopped in" in daemon.log()

    outages = db_rows(
        db,
        "SELECT o.started, o.ended, o.cause, o.failed_checks FROM outages o"
        " JOIN pages p ON p.id = o.page_id WHERE p.name = 'home'",
    )
    assert len(outages) == 1, outages
    started, ended, cause, failed = outages[0]
    assert cause == "http_status" and failed >= 2
    # Opens at the first failed check: at most one interval (plus scheduling slack) after the fault.
    assert went_down <= started <= went_down + INTERVAL_S + 0.5
    # Closes at the first good check: within one retry delay (plus slack) of the recovery.
    assert came_back <= ended <= came_back + RETRY_DELAY_S + 0.5
    column_outages = "SELECT count(*) FROM outages o JOIN pages p ON p.id = o.page_id WHERE p.name = 'gzdt'"
    assert db_rows(db, column_outages) == [(0,)]

    home_checks = checks_of(db, "home")
    retries = [c for c in home_checks if c[2] > 0]
    assert retries, "failed checks are retried after retry_delay"
    visits = [c for c in home_checks if c[2] == 0]
    gaps = [(b[0] - a[0]) / 1000 for a, b in itertools.pairwise(visits)]
    assert max(gaps) < 1.5 * INTERVAL_S, "visits keep their interval through the outage"
    # Every finished check is on disk: the metric counted no more than the database holds.
    counted = sum(
        v for (name, labels), v in samples.items() if name == "portal_checks_total" and ("page", "home") in labels
    )
    assert len(home_checks) >= counted

    assert 'portal_outages_total{kind="homepage",page="home",site="sim"} 1.0' in text
    assert 'portal_probe_success{kind="homepage",page="home",site="sim"} 1.0' in text
    assert "portal_probe_phase_duration_seconds" in text and 'phase="connect"' in text
    runs = db_rows(db, "SELECT stopped, stop_reason FROM monitor_runs")
    assert len(runs) == 1 and runs[0][0] is not None and runs[0][1] == "SIGTERM"


def test_sigterm_during_hanging_checks_logs_nothing_alarming(tmp_path: Path) -> None:
    """Checks cancelled by a clean stop are not errors: no APScheduler ERROR, no traceback, exit 0."""
    with SimPortal() as sim:
        sim.fault("hang", "/")
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home", "gzdt"), defaults={"timeout": "60s"})
        with RunningDaemon(config) as daemon:
            home = {"site": "sim", "page": "home", "kind": "homepage"}
            daemon.wait_for(
                lambda: (
                    (daemon.value("portal_checks_total", site="sim", page="gzdt", kind="column", result="up") or 0) >= 1
                ),
                what="a finished check while the homepage hangs",
            )
            assert not daemon.value("portal_checks_total", **home, result="up")  # still hanging
            code, _ = daemon.terminate(timeout_s=15)
        log = daemon.log()
    assert code == 0, log
    assert "cancelled 1 checks still running" in log
    assert "Traceback" not in log and "ERROR" not in log and "CancelledError" not in log, log
