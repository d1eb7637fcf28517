"""`monitor demo`: the newcomer's whole tour runs offline, quickly, and shows every part."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.daemon_harness import REPO, db_rows

pytestmark = pytest.mark.slow


def test_demo_shows_history_a_live_outage_status_and_reports(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--dir", str(tmp_path), "--days", "3", "--live", "8"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "generated 3 days of history" in out
    assert "taking the homepage down" in out and "homepage back up" in out
    for heading in ("== monitor status ==", "== monitor report --last 3d ==", "== monitor report --format zh =="):
        assert heading in out
    assert "V1" in out and "V2" in out and "V3" in out
    assert "门户网站首页" in out and "可用率" in out
    assert "Traceback" not in done.stderr
    assert took < 60
    live_outages = db_rows(
        tmp_path / "monitor.db",
        "SELECT count(*) FROM outages o JOIN pages p ON p.id = o.page_id WHERE p.name = 'homepage' AND o.started > ?",
        [time.time() - 120],
    )
    assert live_outages == [(1,)]
    assert (tmp_path / "config.yaml").exists()
