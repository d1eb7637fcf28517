"""Faults on our side, against the real daemon: kill -9, a full disk, a read-only or deleted database,
a reader holding a transaction, SIGTERM while checks hang. Plus the writer's logging contract.

"Acknowledged" means counted in `portal_monitor_db_checks_written_total`, which the writer bumps
after COMMIT returns: every acknowledged check must be in the file, whatever happens next.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.models import Page, PageKind, ProbeResult, Result
from monitor.sim import SimPage, SimPortal
from monitor.store import CheckRow, Heartbeat, Store, WriterSettings, migrate_file
from tests.support.daemon_harness import RunningDaemon, db_rows, sim_config, sim_pages

KILLS = 5
BENCH_PAGES = 40
MAX_BACKLOG = 200


# ---- helpers -------------------------------------------------------------------------------------


def busy_pages(sim: SimPortal) -> list[SimPage]:
    """Many small pages checked every second: the writer always has a batch in hand."""
    pages = sim_pages(sim, "home", "gzdt", "tzgg")
    return pages + [SimPage(f"b{n}", sim.url(f"/bench/{n}.html"), "column") for n in range(BENCH_PAGES)]


def written(daemon: RunningDaemon) -> float:
    return daemon.value("portal_monitor_db_checks_written_total") or 0.0


def counted_checks(daemon: RunningDaemon) -> float:
    """Checks the daemon finished (recorded in memory), written or not."""
    return sum(v for (name, _), v in daemon.samples().items() if name == "portal_checks_total")


def check_count(db: Path) -> int:
    return int(db_rows(db, "SELECT count(*) FROM checks")[0][0])


def recreated_check_count(db: Path) -> int:
    """Checks in a database the daemon is recreating: 0 until the file and its tables exist (the
    new file appears a moment before its first migration has created `checks`)."""
    if not db.exists():
        return 0
    try:
        return check_count(db)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise


def log_lines(daemon: RunningDaemon, text: str) -> list[str]:
    return [line for line in daemon.log().splitlines() if text in line]


# ---- the writer's contract (in process) -----------------------------------------------------------

SITES = [("bureau", "某某局", "http://bureau.example/")]
HOME = Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE)
QUICK_RETRIES = WriterSettings(linger_s=0.0, retry_min_s=0.01, retry_max_s=0.02, busy_timeout_ms=0, max_backlog=5)


def check_row(page_id: int, ts: float) -> CheckRow:
    return CheckRow(page_id, ProbeResult(url=HOME.url, started_at=ts, result=Result.UP), Result.UP, None, None, 0)


def poll(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_only_committed_checks_are_acknowledged(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=QUICK_RETRIES)
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    run = store.start_run(0.0, 1, "t", "h")
    store.writer.start()
    store.submit([check_row(home, 1.0), Heartbeat(run, 1.0), check_row(home, 2.0)])
    assert store.writer.flush(5)
    stats = store.writer.stats()
    assert (stats.ops_written, stats.checks_written) == (3, 2)
    store.close()


def test_a_locked_database_is_logged_once_per_episode_not_per_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=QUICK_RETRIES)
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    store.writer.start()
    with caplog.at_level(logging.INFO, logger="monitor.store"):
        for episode in range(2):
            blocker = sqlite3.connect(tmp_path / "m.db", timeout=0)
            blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            for ts in range(20):
                store.submit([check_row(home, episode * 100 + ts)])
            errors = 5 * (episode + 1)
            poll(lambda: store.writer.stats().write_errors >= errors)  # noqa: B023 - called at once
            blocker.rollback()
            blocker.close()
            assert store.writer.flush(5)
    messages = [record.getMessage() for record in caplog.records]
    for text in ("database write failed", "database backlog full", "database writable again"):
        assert sum(text in message for message in messages) == 2, messages  # once per episode
    stats = store.writer.stats()
    assert (stats.checks_written, stats.ops_dropped, stats.backlog) == (10, 30, 0)
    store.close()


# ---- kill -9 -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_during_heavy_writing_loses_no_acknowledged_check(tmp_path: Path, record_property: Any) -> None:
    db = tmp_path / "monitor.db"
    with SimPortal() as sim:
        sim.fault("500", "/xxgk/tzgg/")  # an outage is open at every kill
        config = sim_config(tmp_path, sim, pages=busy_pages(sim))
        lost, unacknowledged, verified = 0, 0, 0
        for kill in range(KILLS):
            before = check_count(db) if db.exists() else 0
            with RunningDaemon(config, log_name=f"daemon-{kill}.log") as daemon:
                if kill:
                    assert_restarted_cleanly(daemon, db, kill)
                target = before + 50
                daemon.wait_for(lambda: check_count(db) >= target, what="a busy second")  # noqa: B023
                acknowledged, counted = written(daemon), counted_checks(daemon)
                daemon.process.kill()
                daemon.process.wait(10)
                killed_at = time.time()  # dead by now: nothing it wrote can be later
            on_disk = check_count(db) - before
            lost += max(0, int(acknowledged) - on_disk)
            verified += int(acknowledged)
            unacknowledged += max(0, int(counted) - on_disk)
            assert on_disk >= acknowledged, f"kill {kill}: {acknowledged} acknowledged, {on_disk} on disk"
            assert_killed_run(db, kill, killed_at)
    record_property("kills", KILLS)
    record_property("acknowledged_checks_verified", verified)
    record_property("acknowledged_checks_lost", lost)
    record_property("recorded_not_yet_written_lost", unacknowledged)
    assert lost == 0


def assert_killed_run(db: Path, kill: int, killed_at: float) -> None:
    """The killed run is unknown time from its last heartbeat on: never stopped, never a later heartbeat."""
    runs = db_rows(db, "SELECT id, started, heartbeat, stopped FROM monitor_runs ORDER BY id")
    assert len(runs) == kill + 1
    assert all(stopped is None for *_, stopped in runs)
    assert runs[-1][2] <= killed_at
    assert db_rows(db, "PRAGMA integrity_check") == [("ok",)]


def assert_restarted_cleanly(daemon: RunningDaemon, db: Path, kill: int) -> None:
    """After a kill: a new run row, the open outage restored (not reopened), the killed run left open."""
    runs = db_rows(db, "SELECT started, heartbeat, stopped FROM monitor_runs ORDER BY id")
    assert len(runs) == kill + 1 and runs[-1][0] >= runs[-2][1]
    tzgg = {"site": "sim", "page": "tzgg", "kind": "column"}
    assert daemon.value("portal_outage_active", **tzgg) == 1  # restored before any check of this run
    outages = db_rows(
        db, "SELECT count(*), sum(ended IS NULL) FROM outages o JOIN pages p ON p.id = o.page_id WHERE p.name = 'tzgg'"
    )
    assert outages == [(1, 1)]


# ---- a full disk, a read-only file, a deleted file --------------------------------------------------


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 8 MiB: filled up, remounted read-only, as a real disk would be."""
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the file system says it is full."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):  # unbuffered: close cannot fail
        while True:
            out.write(chunk)
    return filler


def storage_config(tmp_path: Path, sim: SimPortal, fs: Path) -> Path:
    config = sim_config(tmp_path, sim, pages=busy_pages(sim))
    text = config.read_text(encoding="utf-8").replace(str(tmp_path / "monitor.db"), str(fs / "monitor.db"))
    config.write_text(text.replace("storage:\n", f"storage:\n  max_backlog: {MAX_BACKLOG}\n", 1), encoding="utf-8")
    return config


def failing(daemon: RunningDaemon) -> bool:
    status, body = daemon.get("/healthz")
    return status == 200 and "database writes failing" in body


@pytest.mark.slow
def test_a_full_disk_keeps_a_bounded_backlog_and_writes_it_when_space_returns(
    tmp_path: Path, small_fs: Path, record_property: Any
) -> None:
    with SimPortal() as sim, RunningDaemon(storage_config(tmp_path, sim, small_fs)) as daemon:
        daemon.wait_for(lambda: written(daemon) >= 50, what="some checks written")
        filler = fill(small_fs)
        daemon.wait_for(lambda: failing(daemon), what="writes failing")
        daemon.wait_for(lambda: (daemon.value("portal_monitor_db_rows_dropped_total") or 0) > 0, what="overflow")
        probing = counted_checks(daemon)
        daemon.wait_for(lambda: counted_checks(daemon) > probing + 20, what="checks going on meanwhile")
        backlog = daemon.value("portal_monitor_db_backlog")
        assert backlog == MAX_BACKLOG  # grew, then stopped at the bound
        errors_before = daemon.value("portal_monitor_db_write_errors_total") or 0
        assert errors_before >= 1

        freed = time.monotonic()
        filler.unlink()
        daemon.wait_for(lambda: daemon.value("portal_monitor_db_backlog") == 0, what="backlog written")
        recovery_s = time.monotonic() - freed
        daemon.wait_for(lambda: daemon.get("/healthz") == (200, f"ok; {len(busy_pages(sim))} pages\n"))
        code, _ = daemon.terminate()

    assert code == 0
    # One line per distinct error and one for the overflow, however many retries and submits.
    failures = log_lines(daemon, "database write failed")
    assert 1 <= len(failures) <= 2 and all("full" in line for line in failures), failures
    assert len(log_lines(daemon, "database backlog full")) == 1
    assert len(log_lines(daemon, "database writable again")) == 1
    assert "Traceback" not in daemon.log()
    record_property("disk_full_backlog_bound", MAX_BACKLOG)
    record_property("disk_full_recovery_s", round(recovery_s, 2))
    assert db_rows(small_fs / "monitor.db", "PRAGMA integrity_check") == [("ok",)]


@contextlib.contextmanager
def writes_fail_read_only(pid: int) -> Iterator[None]:
    """Every pwrite64 of the process fails with EROFS, as on a file system the kernel has remounted
    read-only after an I/O error. (A tmpfs with files open for writing refuses `remount,ro` with
    EBUSY, so the error is injected with strace instead; detaching strace ends it.)"""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (Debian package strace): cannot inject EROFS")
    command = [strace, "-f", "-qq", "-o", "/dev/null", "-p", str(pid), "-e", "trace=pwrite64"]
    tracer = subprocess.Popen([*command, "-e", "inject=pwrite64:error=EROFS"], stderr=subprocess.PIPE)
    try:
        yield
    finally:
        tracer.send_signal(signal.SIGINT)
        _, stderr = tracer.communicate(timeout=10)
        if b"Operation not permitted" in stderr:
            pytest.skip(f"ptrace is not permitted here: {stderr.decode().strip()}")


@pytest.mark.slow
def test_a_read_only_database_keeps_the_daemon_probing_and_refuses_changes_cleanly(tmp_path: Path) -> None:
    """Reloads and discovered column changes need the pages table: refused while it cannot be written,
    applied once it can, never half-applied, never a traceback."""
    with SimPortal() as sim:
        pages = [*busy_pages(sim), *sim_pages(sim, "catalogue")]
        config = sim_config(tmp_path, sim, pages=pages, site={"discover": True})
        with RunningDaemon(config) as daemon:
            discovered = len(pages) + 7  # the catalogue's nine columns but gzdt and tzgg, configured
            daemon.wait_for(lambda: daemon.value("portal_monitor_pages", site="sim") == discovered)
            with writes_fail_read_only(daemon.process.pid):
                daemon.wait_for(lambda: failing(daemon), what="writes failing")
                probing = counted_checks(daemon)
                daemon.wait_for(lambda: counted_checks(daemon) > probing + 20, what="checks going on meanwhile")
                sim.fault("malformed", "/xxgk/")  # the catalogue now lists other columns
                daemon.wait_for(lambda: log_lines(daemon, "column changes not applied"), what="discovery refused")
                add_page(config, "added", sim.url("/xxgk/zcwj/"))
                daemon.process.send_signal(signal.SIGHUP)  # the new page must go in the pages table
                daemon.wait_for(lambda: reloads(daemon, "rejected") == 1, what="reload refused")
                assert daemon.value("portal_monitor_pages", site="sim") == discovered
            daemon.wait_for(lambda: daemon.value("portal_monitor_db_backlog") == 0, what="backlog written")
            daemon.wait_for(lambda: log_lines(daemon, "column removed"), what="column changes applied")
            daemon.process.send_signal(signal.SIGHUP)
            daemon.wait_for(lambda: reloads(daemon, "applied") == 1, what="reload applied")
            daemon.wait_for(lambda: daemon.value("portal_checks_total", **ADDED, result="up"), what="new page checked")
            code, _ = daemon.terminate()
    assert code == 0
    assert "Traceback" not in daemon.log()
    failures = log_lines(daemon, "database write failed")
    assert 1 <= len(failures) <= 2 and all("disk I/O error" in line for line in failures), failures
    assert len(log_lines(daemon, "reload rejected")) == 1
    repeated = "SELECT kind, detail FROM events GROUP BY kind, detail HAVING count(*) > 1"
    assert db_rows(tmp_path / "monitor.db", repeated) == []  # each column change recorded once


ADDED = {"site": "sim", "page": "added", "kind": "column"}


def add_page(config: Path, name: str, url: str) -> None:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["sites"][0]["pages"].append({"name": name, "url": url, "kind": "column"})
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def reloads(daemon: RunningDaemon, result: str) -> float:
    return daemon.value("portal_monitor_config_reloads_total", result=result) or 0


@pytest.mark.slow
@pytest.mark.parametrize("disk", ["read-only", "full", "full-with-a-reader"])
def test_starting_on_an_unwritable_disk_fails_with_one_clear_line(tmp_path: Path, small_fs: Path, disk: str) -> None:
    """Exit 2 (systemd's RestartPreventExitStatus): no restart loop against a disk only a person can fix.

    With a reader (a sqlite3 shell, Datasette) keeping the file open, SQLite opens it fine on a full
    disk and only the first write, the run's row, fails."""
    with SimPortal() as sim, contextlib.ExitStack() as stack:
        config = storage_config(tmp_path, sim, small_fs)
        migrate_file(small_fs / "monitor.db")
        if disk == "full-with-a-reader":
            reader = stack.enter_context(contextlib.closing(sqlite3.connect(small_fs / "monitor.db")))
            reader.execute("SELECT count(*) FROM checks").fetchone()
        if disk.startswith("full"):
            fill(small_fs)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "-c", str(config)], capture_output=True, text=True, timeout=30
        )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and ("read-only" if disk == "read-only" else "no space left") in errors[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_deleted_database_is_recreated_and_writing_goes_on(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=busy_pages(sim))
        db = tmp_path / "monitor.db"
        with RunningDaemon(config) as daemon:
            daemon.wait_for(lambda: written(daemon) >= 50, what="some checks written")
            for suffix in ("-wal", "-shm", ""):  # the main file last: its inode is what the writer watches
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            at_deletion = written(daemon)
            daemon.wait_for(lambda: recreated_check_count(db) >= 50, what="checks in the new file")
            assert written(daemon) >= at_deletion + 50
            assert daemon.get("/healthz")[0] == 200
            code, _ = daemon.terminate()
    assert code == 0
    assert len(log_lines(daemon, "was deleted or replaced; recreating it")) == 1
    assert db_rows(db, "SELECT count(*) FROM pages") == [(len(busy_pages(sim)),)]
    assert db_rows(db, "SELECT stop_reason FROM monitor_runs") == [("SIGTERM",)]
    assert db_rows(db, "PRAGMA integrity_check") == [("ok",)]


# ---- readers, and stopping with checks in flight -----------------------------------------------------


@pytest.mark.slow
def test_a_sqlite3_shell_holding_a_read_transaction_never_fails_a_write(tmp_path: Path) -> None:
    sqlite3_cli = shutil.which("sqlite3")
    if sqlite3_cli is None:
        pytest.skip("the sqlite3 shell is not installed (Debian package sqlite3)")
    db = tmp_path / "monitor.db"
    with SimPortal() as sim, RunningDaemon(sim_config(tmp_path, sim, pages=busy_pages(sim))) as daemon:
        daemon.wait_for(lambda: written(daemon) >= 50, what="some checks written")
        with subprocess.Popen(
            [sqlite3_cli, "-batch", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        ) as shell:
            assert shell.stdin is not None and shell.stdout is not None
            shell.stdin.write("BEGIN;\nSELECT count(*) FROM checks;\n")
            snapshot = int(shell.stdout.readline())  # the read transaction holds this snapshot from now on
            held = written(daemon)
            daemon.wait_for(lambda: written(daemon) >= held + 60, what="60 checks written past the reader")
            shell.stdin.write("SELECT count(*) FROM checks;\nCOMMIT;\nSELECT count(*) FROM checks;\n")
            inside, after = int(shell.stdout.readline()), int(shell.stdout.readline())
            shell.stdin.write(".quit\n")
        acknowledged = written(daemon)
        assert daemon.value("portal_monitor_db_write_errors_total") == 0
        code, _ = daemon.terminate()
    assert code == 0
    assert inside == snapshot < after  # a consistent snapshot while the daemon kept writing
    assert check_count(db) >= acknowledged


@pytest.mark.slow
def test_sigterm_with_hanging_checks_exits_0_within_10s_and_leaves_nothing_half_written(
    tmp_path: Path, record_property: Any
) -> None:
    db = tmp_path / "monitor.db"
    with SimPortal() as sim:
        hanging = [SimPage(f"hang-{n}", sim.url(f"/f/hang-{n}/"), "column") for n in range(4)]
        hanging.append(SimPage("trickle", sim.url("/f/trickle/"), "column"))
        for page in hanging:
            sim.fault("trickle:0.5" if page.name == "trickle" else "hang", page.url.removeprefix(sim.base_url[:-1]))
        # Checks that would hang for a minute: only cancelling them stops the daemon in time.
        config = sim_config(
            tmp_path, sim, pages=[*busy_pages(sim), *hanging], defaults={"timeout": "60s", "per_host_concurrency": 64}
        )
        with RunningDaemon(config) as daemon:
            daemon.wait_for(lambda: written(daemon) >= 50, what="some checks written")
            stopping = time.time()
            code, took = daemon.terminate(timeout_s=15)
    record_property("sigterm_exit_s", round(took, 2))
    assert code == 0 and took < 10, daemon.log()
    assert "cancelled 5 checks still running" in daemon.log()
    assert "could not write every queued row" not in daemon.log()
    runs = db_rows(db, "SELECT stopped, stop_reason FROM monitor_runs")
    assert len(runs) == 1 and runs[0][0] >= stopping and runs[0][1] == "SIGTERM"
    names = tuple(page.name for page in hanging)
    marks = ", ".join("?" for _ in names)
    for table in ("checks", "outages", "blips", "page_state"):
        rows = db_rows(
            db, f"SELECT count(*) FROM {table} t JOIN pages p ON p.id = t.page_id WHERE p.name IN ({marks})", names
        )
        assert rows == [(0,)], f"a cancelled check left rows in {table}"
    assert db_rows(db, "SELECT count(*) FROM checks WHERE duration_ms < 0 OR ts_ms > ?", [runs[0][0] * 1000]) == [(0,)]
    assert db_rows(db, "PRAGMA integrity_check") == [("ok",)]
