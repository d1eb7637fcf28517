"""The Store: opening and migrating the SQLite file, submitting write operations (`_ops`) to the
writer thread (`_writer`), and the read queries the daemon and commands need (rows in `_rows`).

The store package is the only one that speaks SQL (`_schema`, `_views`, `_rollup`, `_retention`,
`_queries` beside this module).
WAL mode lets reports and `sqlite3` shells read while the daemon writes; writes go through a
background batching thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor import __version__
from monitor.models import Page, Result
from monitor.store._links import LinkQueries
from monitor.store._ops import (
    PAGE_STATE_COLUMNS,
    CheckRow,
    PageStateRow,
)
from monitor.store._queries import History, to_ms
from monitor.store._retention import PruneCandidate, prune_candidates
from monitor.store._rows import OpenOutage, PageRow, StoredCheck
from monitor.store._schema import ERROR_KIND_CODES, RESULT_CODES, build_migrations
from monitor.store._writer import Statement, Task, WriteOp, Writer, WriterSettings, run_task

log = logging.getLogger("monitor.store")


_RESULTS_BY_CODE = {code: result for result, code in RESULT_CODES.items()}
_KINDS_BY_CODE = {code: kind for kind, code in ERROR_KIND_CODES.items()}


class StoreError(Exception):
    """The database cannot be opened or used; the message is one line for the user."""


# -- the store ----------------------------------------------------------------------------------


class Store:
    """An open database: setup and reads on the caller's thread, writes through `writer`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, writer_settings: WriterSettings | None = None) -> None:
        self.path = path
        self._conn = conn
        self._catalog: list[Statement] = []
        self.writer = Writer(self._connect_writer, path, writer_settings, is_check=_is_check)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        migrate: bool = True,
        readonly: bool = False,
        writer_settings: WriterSettings | None = None,
    ) -> Store:
        """Open (creating if needed) the database; StoreError with one clear line on failure."""
        db_path = Path(path)
        try:
            conn = _connect(db_path, readonly=readonly)
            if readonly:
                _require_schema(conn, db_path)
            _refuse_unknown_migrations(conn, db_path)
            if migrate and not readonly:
                applied = apply_migrations(conn)
                if applied:
                    log.info("database %s: applied migrations %s", db_path, ", ".join(applied))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use database {db_path}: {exc}{_diagnosis(db_path)}") from None
        return cls(db_path, conn, writer_settings)

    def close(self) -> None:
        if self.writer.alive:
            self.writer.stop()
        self._conn.close()

    def submit(self, ops: Iterable[WriteOp]) -> None:
        self.writer.submit_many(ops)

    # -- setup (synchronous; daemon start, reload and CLI) -----------------------------------

    def pending_migrations(self) -> list[str]:
        return [m.name for m in build_migrations().pending(sqlite_utils.Database(self._conn))]

    def sync_pages(
        self,
        sites: Sequence[tuple[str, str, str]],
        pages: Sequence[Page],
        now: float,
        *,
        retire_others: bool = True,
    ) -> dict[tuple[str, str], int]:
        """Make the pages table match the monitored set: record new and changed pages, mark the
        others removed (their history stays). Returns page ids by (site, page).

        `retire_others=False` (one-shot commands, which know only the configured pages) records
        `pages` and leaves every other page as it is: discovered columns stay monitored.
        All or nothing; StoreError when the database cannot be written (full, read-only)."""
        with self._transaction("record the monitored pages"):
            site_ids = {name: self._upsert_site(name, title, base) for name, title, base in sites}
            ids = {page.key: self._upsert_page(site_ids[page.site], page, now) for page in pages}
            keep = set(ids.values())
            stale = [
                (now, r[0])
                for r in self._conn.execute("SELECT id FROM pages WHERE removed IS NULL")
                if retire_others and r[0] not in keep
            ]
            self._conn.executemany("UPDATE pages SET removed = ? WHERE id = ?", stale)
        self._remember_catalog()
        return ids

    def start_run(self, now: float, pid: int, version: str, host: str) -> int:
        """Record the start of a daemon run; StoreError when the database cannot be written."""
        with self._transaction("record the start of this run"):
            cur = self._conn.execute(
                "INSERT INTO monitor_runs (started, heartbeat, pid, version, host) VALUES (?, ?, ?, ?, ?)",
                (now, now, pid, version, host),
            )
        self._remember_catalog()
        return int(cur.lastrowid or 0)

    @contextlib.contextmanager
    def _transaction(self, doing: str) -> Iterator[None]:
        """One write transaction on the setup connection; a failure rolls back and says what it was."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot {doing} in {self.path}: {exc}{_diagnosis(self.path)}") from None

    def _upsert_site(self, name: str, title: str, base_url: str) -> int:
        self._conn.execute(
            "INSERT INTO sites (name, title, base_url) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
            " SET title = excluded.title, base_url = excluded.base_url",
            (name, title, base_url),
        )
        return int(self._conn.execute("SELECT id FROM sites WHERE name = ?", (name,)).fetchone()[0])

    def _upsert_page(self, site_id: int, page: Page, now: float) -> int:
        row = self._conn.execute(
            "SELECT id, interval_s FROM pages WHERE site_id = ? AND name = ?", (site_id, page.name)
        ).fetchone()
        values = (
            page.url,
            page.kind.value,
            page.category.value if page.category else None,
            page.interval_s,
            page.discovered_by,
            ",".join(page.tags),
        )
        if row is None:
            cur = self._conn.execute(
                "INSERT INTO pages (site_id, name, url, kind, category, interval_s, discovered_by, tags, added)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (site_id, page.name, *values, now),
            )
            page_id = int(cur.lastrowid or 0)
        else:
            page_id = int(row[0])
            self._conn.execute(
                "UPDATE pages SET url = ?, kind = ?, category = ?, interval_s = ?, discovered_by = ?, tags = ?,"
                " removed = NULL WHERE id = ?",
                (*values, page_id),
            )
        if row is None or float(row[1]) != page.interval_s:
            self._conn.execute(
                "INSERT OR REPLACE INTO page_intervals (page_id, since, interval_s) VALUES (?, ?, ?)",
                (page_id, now, page.interval_s),
            )
        return page_id

    def _remember_catalog(self) -> None:
        """Keep the rows a recreated database needs so queued writes still make sense in it."""
        statements: list[Statement] = []
        for table in ("sites", "pages", "page_intervals", "monitor_runs"):
            cursor = self._conn.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]
            sql = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
            statements += [(sql, tuple(row)) for row in cursor.fetchall()]
        self._catalog = statements

    def _connect_writer(self) -> sqlite3.Connection:
        conn = _connect(self.path)
        if apply_migrations(conn):
            with conn:
                for sql, params in self._catalog:
                    conn.execute(sql, params)
        return conn

    # -- reads -------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Read-only helper for report and status code (parameters only, never formatting)."""
        return list(self._conn.execute(sql, params))

    def daemon_running(self, now: float, within_s: float = 60.0) -> bool:
        """A daemon run has not stopped and sent a heartbeat in the last `within_s` seconds."""
        sql = "SELECT count(*) FROM monitor_runs WHERE stopped IS NULL AND heartbeat > ?"
        return bool(self._conn.execute(sql, (now - within_s,)).fetchone()[0])

    def pages(self, include_removed: bool = False) -> list[PageRow]:
        sql = (
            "SELECT p.id, s.name, p.name, p.url, p.kind, p.category, p.interval_s, p.discovered_by, p.tags, p.removed"
            " FROM pages p JOIN sites s ON s.id = p.site_id"
        )
        if not include_removed:
            sql += " WHERE p.removed IS NULL"
        return [
            PageRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _tags(r[8]), r[9])
            for r in self._conn.execute(sql + " ORDER BY s.name, p.id")
        ]

    def site_ids(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self._conn.execute("SELECT name, id FROM sites")}

    def page_states(self) -> dict[int, PageStateRow]:
        """Every page's remembered facts by page id (a shard holds 25,000: one positional build a row)."""
        cursor = self._conn.execute(f"SELECT {', '.join(PAGE_STATE_COLUMNS)} FROM page_state")
        return {r[0]: _state_row(r) for r in cursor}

    def open_outages(self) -> dict[int, OpenOutage]:
        cursor = self._conn.execute(
            "SELECT page_id, started, cause, failed_checks FROM outages WHERE ended IS NULL ORDER BY started"
        )
        return {r[0]: OpenOutage(*r) for r in cursor}

    def outage_counts(self) -> dict[int, int]:
        return {r[0]: int(r[1]) for r in self._conn.execute("SELECT page_id, count(*) FROM outages GROUP BY page_id")}

    def homepage_checks(self, page_id: int, since: float) -> list[tuple[float, bool]]:
        """(ts, failed) of scheduled checks (not retries, not the monitor's own errors) since `since`."""
        cursor = self._conn.execute(
            "SELECT ts_ms, result FROM checks WHERE page_id = ? AND ts_ms >= ? AND attempt = 0 AND result != ?"
            " ORDER BY ts_ms",
            (page_id, to_ms(since), RESULT_CODES[Result.ERROR]),
        )
        return [(r[0] / 1000.0, r[1] == RESULT_CODES[Result.DOWN]) for r in cursor]

    def item_urls(self, page_id: int) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT url FROM items WHERE page_id = ?", (page_id,))}

    def checks(self, page_id: int, since: float = 0.0, until: float | None = None) -> list[StoredCheck]:
        sql = (
            "SELECT page_id, ts_ms, result, error_kind, status, duration_ms, attempt FROM checks"
            " WHERE page_id = ? AND ts_ms >= ?"
        )
        params: list[Any] = [page_id, to_ms(since)]
        if until is not None:
            sql += " AND ts_ms < ?"
            params.append(to_ms(until))
        return [_stored_check(r) for r in self._conn.execute(sql + " ORDER BY ts_ms", params)]

    def count(self, table: str) -> int:
        if table not in {"checks", "outages", "blips", "items", "events", "monitor_runs", "pages", "sites"}:
            raise ValueError(f"unknown table {table}")
        return int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    # -- reports and maintenance (monitor.report, `monitor db`); the SQL lives in _history,
    # _rollup and _retention --------------------------------------------------------------------

    def history(self) -> History:
        """Read queries for reports: rollups, raw checks around a window, outages, items."""
        return History(self._conn)

    def links(self) -> LinkQueries:
        """Read queries of link availability: current state, passes, occurrences, totals."""
        return LinkQueries(self._conn)

    def run_task(self, task: Task) -> list[float]:
        """Run a maintenance task (RollupTick, Prune, IncrementalVacuum) to completion on this
        connection, one short transaction per step; each step's duration in seconds."""
        return run_task(self._conn, task)

    def prune_candidates(self, now: float, retention_s: float) -> list[PruneCandidate]:
        """What `Prune(now, retention_s)` would delete, per page."""
        return prune_candidates(self._conn, now, retention_s)

    def vacuum(self) -> None:
        """Full VACUUM: rewrites the file (writers wait meanwhile) and turns on incremental
        auto-vacuum for databases created without it."""
        self._conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        self._conn.execute("VACUUM")

    def file_pages(self) -> tuple[int, int, int]:
        """(page size, pages, free pages) of the database file."""
        pragmas = ("page_size", "page_count", "freelist_count")
        size, count, free = (int(self._conn.execute(f"PRAGMA {p}").fetchone()[0]) for p in pragmas)
        return size, count, free


def _is_check(op: WriteOp) -> bool:
    return isinstance(op, CheckRow)


def _stored_check(r: Sequence[Any]) -> StoredCheck:
    return StoredCheck(
        page_id=r[0],
        ts=r[1] / 1000.0,
        result=_RESULTS_BY_CODE[r[2]],
        error_kind=_KINDS_BY_CODE.get(r[3]) if r[3] is not None else None,
        status=r[4],
        duration_s=r[5] / 1000.0,
        attempt=r[6],
    )


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with WAL and sane limits."""
    if readonly:
        if not path.exists():
            raise sqlite3.OperationalError(
                "no such database file (has the daemon run yet? --db PATH reads another one)"
            )
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=10)
    else:
        if path.parent and not path.parent.exists():
            raise sqlite3.OperationalError(f"directory {path.parent} does not exist")
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA busy_timeout = 10000")
    if not readonly:
        # auto_vacuum takes effect only on a new file, before journal_mode writes its header (and
        # setting it on an existing file would wait for the write lock).
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


def _require_schema(conn: sqlite3.Connection, path: Path) -> None:
    """A reading command never creates or migrates a database, so it must find one: an empty or
    foreign file is one clear line (a non-SQLite file fails here too, as "not a database")."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "pages" not in tables:
        what = "an empty file" if path.stat().st_size == 0 else "no portal-monitor tables in it"
        conn.close()
        raise sqlite3.DatabaseError(f"not a portal-monitor database ({what})")


def apply_migrations(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations; return the names applied."""
    db = sqlite_utils.Database(conn)
    migrations = build_migrations()
    pending = [m.name for m in migrations.pending(db)]
    if pending:
        migrations.apply(db)
    return pending


def _refuse_unknown_migrations(conn: sqlite3.Connection, path: Path) -> None:
    """A database migrated by a newer portal-monitor has tables and meanings this one does not know:
    writing to it (or reading it) could corrupt it or give wrong numbers, so it is not used at all."""
    migrations = build_migrations()
    applied = [m.name for m in migrations.applied(sqlite_utils.Database(conn))]
    known = {m.name for m in migrations.pending(sqlite_utils.Database(memory=True))}
    unknown = [name for name in applied if name not in known]
    if unknown:
        conn.close()
        raise StoreError(
            f"database {path} has schema migration {unknown[-1]}, newer than this portal-monitor"
            f" {__version__} knows: upgrade portal-monitor, or use a copy of the database made by this version"
        )


def migrate_file(path: Path) -> list[str]:
    """Create the database at `path` or bring it up to date; the names of migrations applied."""
    try:
        conn = _connect(path)
        try:
            _refuse_unknown_migrations(conn, path)
            return apply_migrations(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot use database {path}: {exc}{_diagnosis(path)}") from None


def _diagnosis(path: Path) -> str:
    """What SQLite's vague "disk I/O error" / "unable to open database file" most often mean."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        if os.statvfs(directory).f_bavail == 0:
            return " (no space left on the device)"
    except OSError:
        return ""
    if any(target.exists() and not os.access(target, os.W_OK) for target in (path, directory)):
        return " (not writable: read-only file system or permissions)"
    return ""


def _tags(stored: str) -> tuple[str, ...]:
    """The pages table's comma-separated tags as a tuple ("" : none, the common case)."""
    return tuple(filter(None, stored.split(","))) if stored else ()


def _state_row(r: Sequence[Any]) -> PageStateRow:
    """A page_state row (PAGE_STATE_COLUMNS, in order) as PageStateRow, its two flags as bools."""
    return PageStateRow(
        r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]), r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14]
    )
