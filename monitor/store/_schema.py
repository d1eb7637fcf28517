"""Database schema as explicit, ordered migrations (sqlite-utils `Migrations`).

Each migration is a plain function applied once in its own transaction and recorded in
`_sqlite_migrations`; nothing alters tables silently. Private to `monitor.store`.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database, Migrations

from monitor.models import RESULT_CODES, ErrorKind
from monitor.store._integrity import SCHEMA as INTEGRITY_SCHEMA
from monitor.store._ipv6 import SCHEMA as IPV6_SCHEMA
from monitor.store._links import PASS_FAILURE_COLUMN as LINK_PASS_FAILURE_COLUMN
from monitor.store._links import SCHEMA as LINKS_SCHEMA
from monitor.store._rollup import QUANTILES_SCHEMA, backfill_months, backfill_quantiles
from monitor.store._rollup import SCHEMA as ROLLUP_SCHEMA
from monitor.store._views import VIEWS

MIGRATION_SET = "portal-monitor"

__all__ = ["ERROR_KIND_CODES", "RESULT_CODES", "build_migrations"]

ERROR_KIND_CODES: dict[ErrorKind, int] = {
    ErrorKind.DNS: 1,
    ErrorKind.CONNECT: 2,
    ErrorKind.TIMEOUT: 3,
    ErrorKind.TLS: 4,
    ErrorKind.HTTP_STATUS: 5,
    ErrorKind.TOO_LARGE: 6,
    ErrorKind.REDIRECT: 7,
    ErrorKind.DECODE: 8,
    ErrorKind.CONTENT: 9,
    ErrorKind.BLOCKED: 10,
    ErrorKind.RATE_LIMITED: 11,
    ErrorKind.TOO_COMPLEX: 12,
}

_INITIAL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE result_names (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE error_kind_names (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    base_url TEXT NOT NULL
);
CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT,
    interval_s REAL NOT NULL,
    discovered_by TEXT,
    tags TEXT NOT NULL DEFAULT '',
    added REAL NOT NULL,
    removed REAL,
    UNIQUE (site_id, name)
);
-- Interval history: the "gap longer than 2.5 x interval is unknown" rule needs the interval
-- that applied at the time, not today's.
CREATE TABLE page_intervals (
    page_id INTEGER NOT NULL REFERENCES pages(id),
    since REAL NOT NULL,
    interval_s REAL NOT NULL,
    PRIMARY KEY (page_id, since)
) WITHOUT ROWID;
-- One row per check. Kept small (integers, codes, ms): years of minutely checks must stay cheap.
-- ts_ms is the start of the check in UTC epoch milliseconds; attempt 0 is a visit (a check on the
-- page's schedule, outage or not: one sample of rule V1), n > 0 the n-th retry since the last
-- visit (confirms outages only; never a V1 sample). Before issue 10 the daemon made no visits
-- while a page was failing (its retries moved the schedule), so older rows hold fewer visits.
CREATE TABLE checks (
    page_id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    result INTEGER NOT NULL,
    error_kind INTEGER,
    status INTEGER,
    duration_ms INTEGER NOT NULL,
    dns_ms INTEGER,
    connect_ms INTEGER,
    tls_ms INTEGER,
    ttfb_ms INTEGER,
    transfer_ms INTEGER,
    bytes INTEGER NOT NULL DEFAULT 0,
    content_hash INTEGER,
    attempt INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (page_id, ts_ms)
) WITHOUT ROWID;
CREATE TABLE outages (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id),
    started REAL NOT NULL,
    ended REAL,
    cause TEXT NOT NULL,
    failed_checks INTEGER NOT NULL,
    last_error TEXT,
    UNIQUE (page_id, started)
);
CREATE INDEX outages_open ON outages(ended) WHERE ended IS NULL;
CREATE TABLE blips (
    page_id INTEGER NOT NULL REFERENCES pages(id),
    ts REAL NOT NULL,
    cause TEXT NOT NULL,
    PRIMARY KEY (page_id, ts)
) WITHOUT ROWID;
CREATE TABLE monitor_runs (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    heartbeat REAL NOT NULL,
    stopped REAL,
    pid INTEGER NOT NULL,
    version TEXT NOT NULL,
    host TEXT NOT NULL,
    stop_reason TEXT
);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id),
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    published TEXT,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    UNIQUE (page_id, url)
);
CREATE INDEX items_published ON items(page_id, published);
CREATE TABLE page_state (
    page_id INTEGER PRIMARY KEY REFERENCES pages(id),
    updated REAL NOT NULL,
    extract_kind TEXT,
    newest_date TEXT,
    item_count INTEGER,
    blank INTEGER NOT NULL DEFAULT 0,
    unreadable INTEGER NOT NULL DEFAULT 0,
    pages_total INTEGER,
    content_hash INTEGER,
    last_change REAL,
    etag TEXT,
    last_modified TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    first_failure REAL,
    first_failure_cause TEXT
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    site_id INTEGER REFERENCES sites(id),
    page_id INTEGER REFERENCES pages(id),
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_ts ON events(ts);
"""


def build_migrations() -> Migrations:
    """The ordered migration set; append new functions, never edit applied ones."""
    migrations = Migrations(MIGRATION_SET)

    @migrations(name="0001_initial")
    def initial(db: Database) -> None:
        for statement in _statements(_INITIAL):
            db.execute(statement)
        _fill_names(db)

    @migrations(name="0002_rollups_and_views")
    def rollups_and_views(db: Database) -> None:
        for statement in _statements(ROLLUP_SCHEMA + VIEWS):
            db.execute(statement)

    @migrations(name="0004_error_kind_rate_limited")
    def error_kind_rate_limited(db: Database) -> None:
        # A database created by this version already has the name (0001 fills every known kind).
        code = ERROR_KIND_CODES[ErrorKind.RATE_LIMITED]
        db.execute("INSERT OR IGNORE INTO error_kind_names (code, name) VALUES (?, ?)", [code, "rate_limited"])

    @migrations(name="0005_error_kind_too_complex")
    def error_kind_too_complex(db: Database) -> None:
        # A database created by this version already has the name (0001 fills every known kind).
        code = ERROR_KIND_CODES[ErrorKind.TOO_COMPLEX]
        db.execute("INSERT OR IGNORE INTO error_kind_names (code, name) VALUES (?, ?)", [code, "too_complex"])

    @migrations(name="0006_links")
    def links(db: Database) -> None:
        # Link availability (issue 12): passes, results per URL per pass, occurrences, current state.
        for statement in _statements(LINKS_SCHEMA):
            db.execute(statement)

    @migrations(name="0007_integrity")
    def integrity(db: Database) -> None:
        # Findings, events and per-site state of monitor.integrity (issue 13): monitor/store/_integrity.py.
        for statement in _statements(INTEGRITY_SCHEMA):
            db.execute(statement)

    @migrations(name="0008_ipv6")
    def ipv6(db: Database) -> None:
        # The IPv6 series of each homepage (issue 13 section 5): monitor/store/_ipv6.py. Never the checks table.
        for statement in _statements(IPV6_SCHEMA):
            db.execute(statement)

    @migrations(name="0009_daily_quantiles")
    def daily_quantiles(db: Database) -> None:
        # Each day's latency median and p95 in rollup_daily, and rollup_monthly (issue 16: a year's
        # report reads no raw checks and 12 rows a page): monitor/store/_rollup.py. Existing days
        # get their quantiles from the raw checks retention left; pruned days keep NULL.
        for statement in _statements(QUANTILES_SCHEMA):
            db.execute(statement)
        backfill_quantiles(db.conn)
        backfill_months(db.conn)

    @migrations(name="0010_link_pass_failure")
    def link_pass_failure(db: Database) -> None:
        # Why a link pass was not completed (its homepage unreadable...), kept as evidence, not only logged.
        db.execute(LINK_PASS_FAILURE_COLUMN)

    return migrations


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (no semicolons inside our DDL strings)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _fill_names(db: Database) -> None:
    rows: list[tuple[Any, ...]] = [(code, result.value) for result, code in RESULT_CODES.items()]
    db.conn.executemany("INSERT INTO result_names (code, name) VALUES (?, ?)", rows)
    rows = [(code, kind.value) for kind, code in ERROR_KIND_CODES.items()]
    db.conn.executemany("INSERT INTO error_kind_names (code, name) VALUES (?, ?)", rows)
