"""Link availability in SQLite (issue 12): passes, one result row per URL per pass, every
occurrence of the links worth fixing, and each site's current state per URL.

- `link_passes`: one row per homepage pass or sweep (started, ended, completed, counts).
- `link_results`: one row per distinct URL per pass (a link on 2,000 pages is one row).
- `link_occurrences`: where a non-ok link appears (parent URL and title, anchor, element,
  attribute, depth); ok links keep only their count, so a sweep's evidence stays small.
- `link_state`: the latest verdict per (site, URL), with the suspect streak, first seen, broken
  since and fixed at; `monitor links` reads it, and the next pass escalates from it.

Write ops are writer tasks (they need the pass's row id); the queries feed the CLI, status,
reports and metrics. Private to `monitor.store`; exported through its `__init__`.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.store._writer import Statement

SCHEMA = """
CREATE TABLE link_passes (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    kind TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    completed INTEGER NOT NULL DEFAULT 0,
    budget_hit INTEGER NOT NULL DEFAULT 0,
    pages_read INTEGER NOT NULL DEFAULT 0,
    links INTEGER NOT NULL DEFAULT 0,
    occurrences INTEGER NOT NULL DEFAULT 0,
    ok INTEGER NOT NULL DEFAULT 0,
    broken INTEGER NOT NULL DEFAULT 0,
    soft_404 INTEGER NOT NULL DEFAULT 0,
    suspect INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    excluded INTEGER NOT NULL DEFAULT 0,
    UNIQUE (site_id, kind, started)
);
CREATE INDEX link_passes_ended ON link_passes(ended);
CREATE TABLE link_results (
    pass_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    scope TEXT NOT NULL,
    rtype TEXT NOT NULL,
    class TEXT NOT NULL,
    observed TEXT NOT NULL,
    status INTEGER,
    error_kind TEXT,
    reason TEXT NOT NULL DEFAULT '',
    checked_at REAL NOT NULL,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    occurrences INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pass_id, url)
) WITHOUT ROWID;
CREATE TABLE link_occurrences (
    pass_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    parent_url TEXT NOT NULL,
    parent_title TEXT NOT NULL,
    anchor_text TEXT NOT NULL,
    element TEXT NOT NULL,
    attribute TEXT NOT NULL,
    depth INTEGER NOT NULL
);
CREATE INDEX link_occurrences_url ON link_occurrences(pass_id, url);
CREATE TABLE link_state (
    site_id INTEGER NOT NULL REFERENCES sites(id),
    url TEXT NOT NULL,
    scope TEXT NOT NULL,
    rtype TEXT NOT NULL,
    class TEXT NOT NULL,
    status INTEGER,
    error_kind TEXT,
    reason TEXT NOT NULL DEFAULT '',
    streak INTEGER NOT NULL DEFAULT 0,
    first_seen REAL NOT NULL,
    last_checked REAL NOT NULL,
    broken_since REAL,
    fixed_at REAL,
    last_pass_id INTEGER NOT NULL,
    last_kind TEXT NOT NULL,
    PRIMARY KEY (site_id, url)
) WITHOUT ROWID;
CREATE INDEX link_state_class ON link_state(site_id, class);
"""

PASS_KINDS = ("homepage", "sweep")
REMOVED = "removed"
"""`link_state.class` of a URL a later complete pass of the same kind no longer found."""
OCCURRENCES_KEPT = 200
"""Occurrences stored per URL per pass (a link in a site template appears on every page)."""
_CLASSES = ("ok", "broken", "soft_404", "suspect", "blocked", "excluded")


PASS_FAILURE_COLUMN = "ALTER TABLE link_passes ADD COLUMN failure TEXT NOT NULL DEFAULT ''"
"""Migration 0010: why a pass was not completed ('' for a completed one, or one recorded before)."""


@dataclass(frozen=True)
class LinkOccurrenceRow:
    """One place a link appears."""

    parent_url: str
    parent_title: str
    anchor_text: str
    element: str
    attribute: str
    depth: int


@dataclass(frozen=True)
class LinkResultRow:
    """One URL's result in a pass, with the state carried from the passes before it."""

    url: str
    scope: str
    rtype: str
    link_class: str
    observed: str
    status: int | None
    error_kind: str | None
    reason: str
    checked_at: float
    duration_s: float
    streak: int
    first_seen: float
    broken_since: float | None
    occurrence_count: int
    occurrences: tuple[LinkOccurrenceRow, ...] = ()


@dataclass(frozen=True)
class LinkPassStarted:
    """A pass began (a row with completed 0: a daemon stopped mid-sweep leaves it so)."""

    site: str
    kind: str
    started: float

    def statements(self) -> Iterable[Statement]:
        yield (
            "INSERT OR IGNORE INTO link_passes (site_id, kind, started) SELECT id, ?, ? FROM sites WHERE name = ?",
            (self.kind, self.started, self.site),
        )


@dataclass(frozen=True)
class LinkPassRecorded:
    """A finished pass: its counts, every result, the occurrences of non-ok links, and the state.

    A writer task (it needs the pass's row id). `completed` is False when the pass was cut short
    (stopped, failed, its homepage unreachable); URLs a complete pass without a budget hit no longer
    finds become `removed` (and fixed, if they were broken), unless the pass is `partial` (a page it
    should have read failed for a passing reason, so what it did not see may still be there).
    """

    site: str
    kind: str
    started: float
    ended: float
    completed: bool
    budget_hit: bool
    pages_read: int
    results: tuple[LinkResultRow, ...] = field(default=())
    partial: bool = False
    failure: str = ""

    def statements(self) -> Iterable[Statement]:
        return ()

    def step(self, conn: sqlite3.Connection) -> LinkPassRecorded | None:
        site_id = _site_id(conn, self.site)
        if site_id is None:
            return None  # the site was never recorded (sync_pages runs first): nothing to attach to
        pass_id = _pass_id(conn, site_id, self.kind, self.started)
        _write_results(conn, site_id, pass_id, self.kind, self.results)
        self._finish_pass_row(conn, pass_id)
        if self.completed and not self.budget_hit and not self.partial:
            conn.execute(_REMOVED_SQL, (self.ended, self.ended, site_id, self.kind, pass_id))
        return None

    def _finish_pass_row(self, conn: sqlite3.Connection, pass_id: int) -> None:
        """The pass's totals, counted from its stored results: those of this op and of every
        `LinkResultsWritten` batch before it (a sweep in a child process streams its rows)."""
        counts = dict.fromkeys(_CLASSES, 0)
        links = occurrences = 0
        for link_class, n, found in conn.execute(
            "SELECT class, count(*), coalesce(sum(occurrences), 0) FROM link_results WHERE pass_id = ? GROUP BY class",
            (pass_id,),
        ):
            counts[link_class] = n
            links, occurrences = links + n, occurrences + found
        values = (
            self.ended, int(self.completed), int(self.budget_hit), self.pages_read, links, occurrences,
            *(counts[c] for c in _CLASSES), self.failure, pass_id,
        )  # fmt: skip
        conn.execute(
            "UPDATE link_passes SET ended = ?, completed = ?, budget_hit = ?, pages_read = ?, links = ?,"
            " occurrences = ?, ok = ?, broken = ?, soft_404 = ?, suspect = ?, blocked = ?, excluded = ?,"
            " failure = ? WHERE id = ?",
            values,
        )


@dataclass(frozen=True)
class LinkResultsWritten:
    """One bounded batch of a pass's results (a writer task: it needs the pass's row id).

    A long sweep streams its rows in batches like this one, each its own short step, and ends with
    a `LinkPassRecorded` that counts them all; no transaction holds a 100,000-link pass at once.
    """

    site: str
    kind: str
    started: float
    results: tuple[LinkResultRow, ...]

    def statements(self) -> Iterable[Statement]:
        return ()

    def step(self, conn: sqlite3.Connection) -> LinkResultsWritten | None:
        site_id = _site_id(conn, self.site)
        if site_id is not None:
            _write_results(conn, site_id, _pass_id(conn, site_id, self.kind, self.started), self.kind, self.results)
        return None


def _pass_id(conn: sqlite3.Connection, site_id: int, kind: str, started: float) -> int:
    """The row id of the pass (site, kind, started), inserted when `LinkPassStarted` did not."""
    conn.execute(
        "INSERT OR IGNORE INTO link_passes (site_id, kind, started) VALUES (?, ?, ?)", (site_id, kind, started)
    )
    row = conn.execute(
        "SELECT id FROM link_passes WHERE site_id = ? AND kind = ? AND started = ?", (site_id, kind, started)
    ).fetchone()
    return int(row[0])


def _write_results(
    conn: sqlite3.Connection, site_id: int, pass_id: int, kind: str, results: Sequence[LinkResultRow]
) -> None:
    conn.executemany(_RESULT_SQL, [_result_params(pass_id, r) for r in results])
    conn.executemany(_OCCURRENCE_SQL, list(_occurrence_params(pass_id, results)))
    conn.executemany(_STATE_SQL, [_state_params(site_id, pass_id, kind, r) for r in results])


_RESULT_SQL = (
    "INSERT OR REPLACE INTO link_results (pass_id, url, scope, rtype, class, observed, status, error_kind,"
    " reason, checked_at, duration_ms, occurrences) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OCCURRENCE_SQL = (
    "INSERT INTO link_occurrences (pass_id, url, parent_url, parent_title, anchor_text, element, attribute, depth)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_STATE_SQL = (
    "INSERT INTO link_state (site_id, url, scope, rtype, class, status, error_kind, reason, streak, first_seen,"
    " last_checked, broken_since, fixed_at, last_pass_id, last_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " NULL, ?, ?) ON CONFLICT (site_id, url) DO UPDATE SET scope = excluded.scope, rtype = excluded.rtype,"
    " fixed_at = CASE WHEN link_state.class = 'broken' AND excluded.class != 'broken' THEN excluded.last_checked"
    " ELSE link_state.fixed_at END,"
    " class = excluded.class, status = excluded.status, error_kind = excluded.error_kind, reason = excluded.reason,"
    " streak = excluded.streak, last_checked = excluded.last_checked, broken_since = excluded.broken_since,"
    " last_pass_id = excluded.last_pass_id, last_kind = excluded.last_kind"
    # A sweep recorded after a later homepage pass must not bring back its older observation.
    " WHERE excluded.last_checked >= link_state.last_checked"
)
_REMOVED_SQL = (
    "UPDATE link_state SET fixed_at = CASE WHEN class = 'broken' THEN ? ELSE fixed_at END,"
    f" class = '{REMOVED}', streak = 0, broken_since = NULL, last_checked = ?"
    f" WHERE site_id = ? AND last_kind = ? AND last_pass_id < ? AND class != '{REMOVED}'"
)


def _site_id(conn: sqlite3.Connection, site: str) -> int | None:
    row = conn.execute("SELECT id FROM sites WHERE name = ?", (site,)).fetchone()
    return int(row[0]) if row else None


def _result_params(pass_id: int, r: LinkResultRow) -> tuple[object, ...]:
    return (
        pass_id, r.url, r.scope, r.rtype, r.link_class, r.observed, r.status, r.error_kind, r.reason,
        r.checked_at, round(max(r.duration_s, 0.0) * 1000), r.occurrence_count,
    )  # fmt: skip


def _occurrence_params(pass_id: int, results: Iterable[LinkResultRow]) -> Iterable[tuple[object, ...]]:
    for r in results:
        for o in r.occurrences[:OCCURRENCES_KEPT]:
            yield (pass_id, r.url, o.parent_url, o.parent_title, o.anchor_text, o.element, o.attribute, o.depth)


def _state_params(site_id: int, pass_id: int, kind: str, r: LinkResultRow) -> tuple[object, ...]:
    return (
        site_id, r.url, r.scope, r.rtype, r.link_class, r.status, r.error_kind, r.reason, r.streak,
        r.first_seen, r.checked_at, r.broken_since, pass_id, kind,
    )  # fmt: skip


@dataclass(frozen=True)
class LinkPrune:
    """Retention like checks: passes older than the retention (and their results and occurrences)
    are deleted, except each site's latest complete pass of each kind. One pass per step."""

    now: float
    retention_s: float

    def statements(self) -> Iterable[Statement]:
        return ()

    def step(self, conn: sqlite3.Connection) -> LinkPrune | None:
        row = conn.execute(
            "SELECT id FROM link_passes p WHERE started < ? AND id NOT IN (SELECT max(id) FROM link_passes"
            " WHERE completed = 1 GROUP BY site_id, kind) ORDER BY id LIMIT 1",
            (self.now - self.retention_s,),
        ).fetchone()
        if row is None:
            return None
        for table in ("link_occurrences", "link_results"):
            conn.execute(f"DELETE FROM {table} WHERE pass_id = ?", (row[0],))
        conn.execute("DELETE FROM link_passes WHERE id = ?", (row[0],))
        return replace(self)


# -- reads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkStateRow:
    """A URL's current verdict on a site."""

    site: str
    url: str
    scope: str
    rtype: str
    link_class: str
    status: int | None
    error_kind: str | None
    reason: str
    streak: int
    first_seen: float
    last_checked: float
    broken_since: float | None
    fixed_at: float | None
    last_pass_id: int
    last_kind: str


@dataclass(frozen=True)
class LinkPassRow:
    """One pass as recorded."""

    id: int
    site: str
    kind: str
    started: float
    ended: float | None
    completed: bool
    budget_hit: bool
    pages_read: int
    links: int
    occurrences: int
    counts: dict[str, int]
    failure: str = ""
    """Why the pass was not completed ('' when it was, or when it ended before 0010 kept reasons)."""


_STATE_COLUMNS = (
    "s.name, l.url, l.scope, l.rtype, l.class, l.status, l.error_kind, l.reason, l.streak, l.first_seen,"
    " l.last_checked, l.broken_since, l.fixed_at, l.last_pass_id, l.last_kind"
)
_PASS_COLUMNS = (
    "p.id, s.name, p.kind, p.started, p.ended, p.completed, p.budget_hit, p.pages_read, p.links, p.occurrences,"
    " p.ok, p.broken, p.soft_404, p.suspect, p.blocked, p.excluded"
)


class LinkQueries:
    """The reads behind `monitor links`, status, reports and metrics (on the caller's connection)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @functools.cached_property
    def _pass_columns(self) -> str:
        """The pass columns, with the failure reason where the table has it (asked on first use)."""
        return _PASS_COLUMNS + (", p.failure" if _has_failure_column(self._conn) else ", ''")

    def states(
        self, sites: Sequence[str] = (), *, classes: Sequence[str] = (), include_removed: bool = False
    ) -> list[LinkStateRow]:
        """Current state per URL, by site and URL; optionally only some sites or classes."""
        sql = f"SELECT {_STATE_COLUMNS} FROM link_state l JOIN sites s ON s.id = l.site_id WHERE 1"
        params: list[object] = []
        if sites:
            sql += f" AND s.name IN ({', '.join('?' for _ in sites)})"
            params += sites
        if classes:
            sql += f" AND l.class IN ({', '.join('?' for _ in classes)})"
            params += classes
        if not include_removed:
            sql += f" AND l.class != '{REMOVED}'"
        return [LinkStateRow(*r) for r in self._conn.execute(sql + " ORDER BY s.name, l.url", params)]

    def occurrences(self, pass_id: int, url: str) -> list[LinkOccurrenceRow]:
        """Where `url` appeared in pass `pass_id` (at most OCCURRENCES_KEPT places)."""
        cursor = self._conn.execute(
            "SELECT parent_url, parent_title, anchor_text, element, attribute, depth FROM link_occurrences"
            " WHERE pass_id = ? AND url = ? ORDER BY depth, parent_url",
            (pass_id, url),
        )
        return [LinkOccurrenceRow(*r) for r in cursor]

    def passes(
        self, site: str | None = None, kind: str | None = None, *, since: float = 0.0, until: float | None = None
    ) -> list[LinkPassRow]:
        """Passes started in [since, until), oldest first."""
        sql = f"SELECT {self._pass_columns} FROM link_passes p JOIN sites s ON s.id = p.site_id WHERE p.started >= ?"
        params: list[object] = [since]
        for column, value in (("s.name", site), ("p.kind", kind)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if until is not None:
            sql += " AND p.started < ?"
            params.append(until)
        return [_pass_row(r) for r in self._conn.execute(sql + " ORDER BY p.started, p.id", params)]

    def last_pass(self, site: str, kind: str, *, completed: bool | None = None) -> LinkPassRow | None:
        """The site's latest pass of `kind` (only complete ones with completed=True)."""
        sql = f"SELECT {self._pass_columns} FROM link_passes p JOIN sites s ON s.id = p.site_id"
        sql += " WHERE s.name = ? AND p.kind = ?"
        params: list[object] = [site, kind]
        if completed is not None:
            sql += " AND p.completed = ?"
            params.append(int(completed))
        row = self._conn.execute(sql + " ORDER BY p.started DESC, p.id DESC LIMIT 1", params).fetchone()
        return _pass_row(row) if row else None

    def totals(self, pass_id: int) -> dict[tuple[str, str, str], int]:
        """Distinct URLs of a pass by (class, resource type, scope)."""
        cursor = self._conn.execute(
            "SELECT class, rtype, scope, count(*) FROM link_results WHERE pass_id = ? GROUP BY class, rtype, scope",
            (pass_id,),
        )
        return {(r[0], r[1], r[2]): int(r[3]) for r in cursor}

    def fixed(self, site: str, since: float, until: float) -> int:
        """URLs of the site last fixed in [since, until): broken before, ok or gone since."""
        row = self._conn.execute(
            "SELECT count(*) FROM link_state l JOIN sites s ON s.id = l.site_id"
            " WHERE s.name = ? AND l.fixed_at >= ? AND l.fixed_at < ? AND l.class != 'broken'",
            (site, since, until),
        ).fetchone()
        return int(row[0])


def _has_failure_column(conn: sqlite3.Connection) -> bool:
    """A read-only copy made before migration 0010 has passes without a stored failure reason."""
    return any(row[1] == "failure" for row in conn.execute("PRAGMA table_info(link_passes)"))


def _pass_row(r: Sequence[Any]) -> LinkPassRow:
    counts = {name: int(r[10 + i]) for i, name in enumerate(_CLASSES)}
    return LinkPassRow(
        int(r[0]), str(r[1]), str(r[2]), float(r[3]), r[4], bool(r[5]), bool(r[6]), int(r[7]), int(r[8]),
        int(r[9]), counts, str(r[10 + len(_CLASSES)]),
    )  # fmt: skip
