"""store.py: migrations, page sync, batched writes, concurrent readers, and a failing disk."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from monitor.check import content_hash
from monitor.models import ErrorKind, Item, Page, PageKind, ProbeResult, Result
from monitor.store._ops import CheckRow, ItemsSeen, ItemsTouched, OutageClosed, OutageOpened, PageStateRow
from monitor.store._store import Store, StoreError, migrate_file
from monitor.store._writer import WriterSettings

SITES = [("bureau", "某某局", "http://bureau.example/")]
HOME = Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE, interval_s=600)
NEWS = Page("bureau", "news", "http://bureau.example/news/", PageKind.COLUMN)
FAST = WriterSettings(linger_s=0.0, retry_min_s=0.01, retry_max_s=0.05)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "monitor.db", writer_settings=FAST)
    yield s
    s.close()


def probe(ts: float, result: Result = Result.UP, kind: ErrorKind | None = None) -> ProbeResult:
    return ProbeResult(
        url=HOME.url,
        started_at=ts,
        result=result,
        error_kind=kind,
        status=200 if result is Result.UP else None,
        duration_s=0.25,
        phases={"dns": 0.001, "connect": 0.01, "ttfb": 0.2},
        bytes=1234,
    )


def check_row(page_id: int, ts: float, result: Result = Result.UP, attempt: int = 0) -> CheckRow:
    kind = ErrorKind.CONNECT if result is Result.DOWN else None
    return CheckRow(page_id, probe(ts, result, kind), result, kind, content_hash(b"x"), attempt)


def test_open_creates_schema_and_reports_bad_paths(tmp_path: Path) -> None:
    assert migrate_file(tmp_path / "a.db") == [
        "0001_initial",
        "0002_rollups_and_views",
        "0004_error_kind_rate_limited",
        "0005_error_kind_too_complex",
        "0006_links",
        "0007_integrity",
        "0008_ipv6",
        "0009_daily_quantiles",
        "0010_link_pass_failure",
    ]
    assert migrate_file(tmp_path / "a.db") == []
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "missing" / "x.db")
    with pytest.raises(StoreError, match="no such database file"):
        Store.open(tmp_path / "never.db", readonly=True)
    (tmp_path / "garbage.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "garbage.db")
    assert "\n" not in str(info.value)


def database_before(path: Path, migration: str, *undo: str) -> Path:
    """A database as the version before `migration` left it: migrated, then `undo` run and the
    migration's record deleted."""
    migrate_file(path)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        for statement in undo:
            conn.execute(statement)
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", (migration,))
    return path


def test_a_database_from_before_rate_limited_learns_its_name(tmp_path: Path) -> None:
    path = database_before(
        tmp_path / "old.db", "0004_error_kind_rate_limited", "DELETE FROM error_kind_names WHERE name = 'rate_limited'"
    )
    assert migrate_file(path) == ["0004_error_kind_rate_limited"]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT code FROM error_kind_names WHERE name = 'rate_limited'").fetchall() == [(11,)]


def test_a_copy_from_before_pass_failures_reads_and_then_learns_them(tmp_path: Path) -> None:
    """A read-only copy made before 0010 lists its passes (no reason stored); writing migrates it."""
    path = database_before(
        tmp_path / "old.db",
        "0010_link_pass_failure",
        "INSERT INTO sites (name, title, base_url) VALUES ('bureau', 'b', 'http://b/')",
        "INSERT INTO link_passes (site_id, kind, started, ended) VALUES (1, 'homepage', 5.0, 6.0)",
        "ALTER TABLE link_passes DROP COLUMN failure",
    )
    with contextlib.closing(Store.open(path, readonly=True)) as old:
        last = old.links().last_pass("bureau", "homepage")
        assert last is not None and (last.completed, last.failure) == (False, "")
    assert migrate_file(path) == ["0010_link_pass_failure"]


def test_sync_pages_keeps_ids_records_interval_changes_and_marks_removed(store: Store) -> None:
    ids = store.sync_pages(SITES, [HOME, NEWS], 1000.0)
    again = store.sync_pages(SITES, [Page("bureau", "home", HOME.url, PageKind.HOMEPAGE, interval_s=60)], 2000.0)
    assert again[HOME.key] == ids[HOME.key]
    history = store.query(
        "SELECT since, interval_s FROM page_intervals WHERE page_id = ? ORDER BY since", (ids[HOME.key],)
    )
    assert [tuple(r) for r in history] == [(1000.0, 600.0), (2000.0, 60.0)]
    assert [p.name for p in store.pages()] == ["home"]
    assert [p.name for p in store.pages(include_removed=True)] == ["home", "news"]
    store.sync_pages(SITES, [HOME, NEWS], 3000.0)
    assert [p.name for p in store.pages()] == ["home", "news"]


def test_writes_round_trip(store: Store) -> None:
    ids = store.sync_pages(SITES, [HOME, NEWS], 1000.0)
    home = ids[HOME.key]
    store.writer.start()
    store.submit(
        [
            check_row(home, 1000.0),
            check_row(home, 1600.0, Result.DOWN, attempt=0),
            check_row(home, 1630.0, Result.DOWN, attempt=1),
            OutageOpened(home, 1600.0, "connect", 2, "refused"),
            check_row(home, 1660.0),
            OutageClosed(home, 1600.0, 1660.0),
        ]
    )
    assert store.writer.flush(5)
    checks = store.checks(home)
    assert [(c.ts, c.result, c.attempt) for c in checks] == [
        (1000.0, Result.UP, 0),
        (1600.0, Result.DOWN, 0),
        (1630.0, Result.DOWN, 1),
        (1660.0, Result.UP, 0),
    ]
    assert checks[1].error_kind is ErrorKind.CONNECT and checks[0].duration_s == 0.25
    assert store.homepage_checks(home, 0) == [(1000.0, False), (1600.0, True), (1660.0, False)]
    assert store.open_outages() == {}
    row = store.query("SELECT started, ended, cause, failed_checks FROM outages")[0]
    assert tuple(row) == (1600.0, 1660.0, "connect", 2)


def test_items_are_inserted_once_and_touched(store: Store) -> None:
    news = store.sync_pages(SITES, [NEWS], 0.0)[NEWS.key]
    store.writer.start()
    first = (
        Item("甲", "http://bureau.example/news/1.html", date(2026, 11, 1)),
        Item("乙", "http://bureau.example/news/2.html"),
    )
    store.submit([ItemsSeen(news, 10.0, first)])
    store.submit([ItemsSeen(news, 20.0, (Item("丙", "http://bureau.example/news/3.html", date(2026, 11, 2)), *first))])
    store.submit([ItemsTouched(news, 20.0, 30.0)])
    assert store.writer.flush(5)
    rows = store.query("SELECT url, title, published, first_seen, last_seen FROM items ORDER BY url")
    assert [tuple(r) for r in rows] == [
        ("http://bureau.example/news/1.html", "甲", "2026-11-01", 10.0, 30.0),
        ("http://bureau.example/news/2.html", "乙", None, 10.0, 30.0),
        ("http://bureau.example/news/3.html", "丙", "2026-11-02", 20.0, 30.0),
    ]
    assert store.item_urls(news) == {r[0] for r in rows}


def test_page_state_round_trip(store: Store) -> None:
    news = store.sync_pages(SITES, [NEWS], 0.0)[NEWS.key]
    store.writer.start()
    store.submit(
        [PageStateRow(news, 5.0, "list", "2026-11-20", 12, False, False, 3, 42, 4.0, '"e"', None, 1, 3.0, "timeout")]
    )
    assert store.writer.flush(5)
    state = store.page_states()[news]
    assert state.content().newest == date(2026, 11, 20) and state.content().readable is True
    assert (state.consecutive_failures, state.first_failure_cause, state.etag) == (1, "timeout", '"e"')


def test_a_reader_holding_a_transaction_never_makes_a_write_fail(store: Store, tmp_path: Path) -> None:
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    store.writer.start()
    reader = sqlite3.connect(tmp_path / "monitor.db")
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM checks").fetchone()
    store.submit([check_row(home, float(ts)) for ts in range(500)])
    assert store.writer.flush(10)
    assert reader.execute("SELECT count(*) FROM checks").fetchone()[0] == 0  # its snapshot
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM checks").fetchone()[0] == 500
    assert store.writer.stats().write_errors == 0
    reader.close()


def test_unwritable_database_keeps_a_backlog_and_writes_it_later(tmp_path: Path) -> None:
    settings = WriterSettings(linger_s=0.0, retry_min_s=0.01, retry_max_s=0.05, busy_timeout_ms=0)
    store = Store.open(tmp_path / "monitor.db", writer_settings=settings)
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    blocker = sqlite3.connect(tmp_path / "monitor.db", timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock: every write fails for now
    store.writer.start()
    store.submit([check_row(home, float(ts)) for ts in range(10)])
    assert not store.writer.flush(0.5)
    stats = store.writer.stats()
    assert stats.write_errors >= 1 and stats.backlog == 10 and stats.last_error
    assert store.writer.alive and not store.writer.healthy
    blocker.execute("ROLLBACK")
    blocker.close()
    assert store.writer.flush(10)
    assert store.count("checks") == 10 and store.writer.stats().last_error is None
    store.close()


def test_backlog_is_bounded(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(max_backlog=5))
    home = store.sync_pages(SITES, [HOME], 0.0)[HOME.key]
    store.submit([check_row(home, float(ts)) for ts in range(8)])  # writer not started: all queued
    stats = store.writer.stats()
    assert (stats.backlog, stats.ops_dropped) == (5, 3)
    store.writer.start()
    assert store.writer.flush(5)
    assert [c.ts for c in store.checks(home)] == [3.0, 4.0, 5.0, 6.0, 7.0]
    store.close()


def test_deleted_database_is_recreated_with_its_catalog(store: Store, tmp_path: Path) -> None:
    ids = store.sync_pages(SITES, [HOME, NEWS], 0.0)
    store.start_run(0.0, 1, "t", "h")
    store.writer.start()
    store.submit([check_row(ids[HOME.key], 1.0)])
    assert store.writer.flush(5)
    for suffix in ("", "-wal", "-shm"):
        path = tmp_path / f"monitor.db{suffix}"
        if path.exists():
            path.unlink()
    store.submit([check_row(ids[HOME.key], 2.0)])
    assert store.writer.flush(5)
    fresh = sqlite3.connect(tmp_path / "monitor.db")
    assert fresh.execute("SELECT count(*) FROM checks").fetchone()[0] == 1
    assert fresh.execute("SELECT name FROM pages ORDER BY id").fetchall() == [("home",), ("news",)]
    assert fresh.execute("SELECT count(*) FROM monitor_runs").fetchone()[0] == 1
    fresh.close()
