"""_lock.py and its use: one writer per database, refused with one line, never stale after kill -9.

Two `monitor run` processes on one monitor.db stored every check and outage twice. The processes
here are real (`python -m monitor`), the lock a real flock on a real file.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from monitor.sim import SimPortal
from monitor.store._lock import ONE_SHOT, LockHeld, acquire, lock_path
from tests.support.daemon_harness import REPO, RunningDaemon, db_rows, sim_config, sim_pages

pytestmark = pytest.mark.slow


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )


def second_config(config: Path) -> Path:
    """Another config file (other metrics port) naming the same database."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    other = config.parent / "other" / "config.yaml"
    other.parent.mkdir()
    other.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return other


def test_a_second_daemon_and_check_record_are_refused_readers_are_not(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), interval="1s")
        db = tmp_path / "monitor.db"
        with RunningDaemon(config) as daemon:
            pid = daemon.process.pid
            second = monitor("run", "-c", str(second_config(config)))
            record = monitor("check", "--record", "-c", str(config))
            status = monitor("status", "-c", str(config))
            report = monitor("report", "--last", "1h", "-c", str(config))
            assert daemon.process.poll() is None
            code, _ = daemon.terminate()
        assert code == 0
    expected = f"error: another portal-monitor (pid {pid}, `monitor run`) is writing to {db}: "
    for refused in (second, record):
        assert refused.returncode == 2, refused
        lines = [line for line in refused.stderr.splitlines() if " WARNING monitor.config: " not in line]
        assert len(lines) == 1 and lines[0].startswith(expected) and "twice" in lines[0], refused.stderr
    assert status.returncode in (0, 1) and report.returncode == 0, (status.stderr, report.stderr)
    assert db_rows(db, "SELECT count(*) FROM monitor_runs") == [(1,)]  # the refused one never started a run


def test_kill_9_leaves_no_lock_behind(tmp_path: Path) -> None:
    """The kernel drops the flock with the process: the next start is not blocked."""
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), interval="1s")
        with RunningDaemon(config) as first:
            first.process.send_signal(signal.SIGKILL)
            assert first.process.wait(10) == -signal.SIGKILL
        assert lock_path(tmp_path / "monitor.db").exists()  # the file stays; its lock did not
        with RunningDaemon(config, log_name="second.log") as second:
            second.wait_for(
                lambda: second.value("portal_checks_total", site="sim", page="home", kind="homepage", result="up"),
                what="a check after the restart",
            )
            code, _ = second.terminate()
        assert code == 0
        assert db_rows(tmp_path / "monitor.db", "SELECT count(*) FROM monitor_runs") == [(2,)]


def test_a_writer_waits_for_a_one_shot_and_is_refused_by_a_daemon(tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db), ONE_SHOT], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(LockHeld, match=r"pid \d+, `monitor check --record`"):
            acquire(db, "run", wait_s=0.5)
        assert time.monotonic() - started >= 0.5  # waited for the one-shot before giving up
        holder.terminate()
        holder.communicate(timeout=10)
        lock = acquire(db, "run", wait_s=5)  # free once the one-shot has ended
    finally:
        holder.kill()
        holder.communicate(timeout=10)
    started = time.monotonic()
    with pytest.raises(LockHeld, match=r"`monitor run`"):
        acquire(db, ONE_SHOT, wait_s=30)  # a daemon is refused at once, not waited for
    assert time.monotonic() - started < 5
    lock.release()
    acquire(db, ONE_SHOT, wait_s=0).release()


HOLD = """
import sys, time
from pathlib import Path
from monitor.store import acquire
lock = acquire(Path(sys.argv[1]), sys.argv[2], wait_s=0)
print("held", flush=True)
time.sleep(60)
"""
