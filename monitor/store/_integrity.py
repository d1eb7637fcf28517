"""Integrity findings, events and per-site state: the schema (migration `0007_integrity`), the write
operations, retention and the reads behind `monitor findings`, status, reports and the daemon's restore.

A finding row is one `Tracked` finding: `(site, kind, page, technique, target, first_seen)` is its
identity (a finding that comes back after being resolved is a new row with a new first_seen). Events
are changes (new domain, title changed, …) with before/after. `integrity_state` keeps each site's
`SiteState` as JSON (known outside and script domains, the previous Identity and Snapshot).
Private to `monitor.store`; exported through its `__init__`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from monitor.integrity import Event, Finding, Kind, Level, SiteState, Tracked
from monitor.store._writer import Statement


class Reader(Protocol):
    """What the reads need: `Store.query` (parameters only)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]: ...


SCHEMA = """
CREATE TABLE integrity_findings (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    page TEXT NOT NULL,
    kind TEXT NOT NULL,
    technique TEXT NOT NULL,
    target TEXT NOT NULL,
    level TEXT NOT NULL,
    score INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    resolved_at REAL,
    UNIQUE (site_id, kind, page, technique, target, first_seen)
);
CREATE INDEX integrity_findings_open ON integrity_findings(resolved_at, site_id);
CREATE TABLE integrity_events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    page TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL
);
CREATE INDEX integrity_events_ts ON integrity_events(ts);
CREATE TABLE integrity_state (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id),
    updated REAL NOT NULL,
    state TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class FindingsTracked:
    """Tracked findings of one site to insert or update (those a `track` call touched)."""

    site_id: int
    tracked: tuple[Tracked, ...]

    SQL = (
        "INSERT INTO integrity_findings (site_id, page, kind, technique, target, level, score, evidence,"
        " first_seen, last_seen, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (site_id, kind, page, technique, target, first_seen) DO UPDATE SET level = excluded.level,"
        " score = excluded.score, evidence = excluded.evidence, last_seen = excluded.last_seen,"
        " resolved_at = excluded.resolved_at"
    )

    def statements(self) -> Iterable[Statement]:
        for one in self.tracked:
            f = one.finding
            yield (
                self.SQL,
                (
                    self.site_id,
                    f.page,
                    f.kind.value,
                    f.technique,
                    f.target,
                    f.level.value,
                    f.score,
                    f.evidence,
                    one.first_seen,
                    one.last_seen,
                    one.resolved_at,
                ),
            )


@dataclass(frozen=True)
class IntegrityEvents:
    """Changes seen on a site's pages at `ts` (new domain, title changed, …)."""

    site_id: int
    ts: float
    events: tuple[Event, ...]

    def statements(self) -> Iterable[Statement]:
        for e in self.events:
            yield (
                "INSERT INTO integrity_events (ts, site_id, page, kind, target, before, after)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.ts, self.site_id, e.page, e.kind.value, e.target, e.before, e.after),
            )


@dataclass(frozen=True)
class IntegrityStateRow:
    """A site's remembered baseline, replaced whole."""

    site_id: int
    updated: float
    state: SiteState

    def statements(self) -> Iterable[Statement]:
        yield (
            "INSERT OR REPLACE INTO integrity_state (site_id, updated, state) VALUES (?, ?, ?)",
            (self.site_id, self.updated, json.dumps(self.state.as_dict(), ensure_ascii=False, sort_keys=True)),
        )


@dataclass(frozen=True)
class PruneIntegrity:
    """Retention: resolved findings and events older than `retention_s` go (open findings stay)."""

    now: float
    retention_s: float

    def statements(self) -> Iterable[Statement]:
        cutoff = self.now - self.retention_s
        yield "DELETE FROM integrity_findings WHERE resolved_at IS NOT NULL AND resolved_at < ?", (cutoff,)
        yield "DELETE FROM integrity_events WHERE ts < ?", (cutoff,)


@dataclass(frozen=True)
class StoredFinding:
    """A finding row with its site's name (what `monitor findings`, status and reports read)."""

    site: str
    tracked: Tracked


@dataclass(frozen=True)
class StoredEvent:
    site: str
    ts: float
    event: Event


_FINDING_COLUMNS = (
    "s.name, f.kind, f.level, f.score, f.page, f.technique, f.target, f.evidence, f.first_seen, f.last_seen,"
    " f.resolved_at"
)


def integrity_tables(store: Reader) -> bool:
    """The database has the integrity tables (a copy made before 0007_integrity, read-only, has not)."""
    sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'integrity_findings'"
    return bool(store.query(sql)[0][0])


def load_findings(
    store: Reader, *, site: str | None = None, open_only: bool = False, since: float | None = None
) -> list[StoredFinding]:
    """Findings, newest first; `since`: only those seen at or after it (open ones always)."""
    if not integrity_tables(store):
        return []
    where, params = _filters(site, open_only, since)
    sql = (
        f"SELECT {_FINDING_COLUMNS} FROM integrity_findings f JOIN sites s ON s.id = f.site_id{where}"
        " ORDER BY s.name, f.resolved_at IS NOT NULL, f.level = 'low', f.last_seen DESC, f.id"
    )
    return [_finding(row) for row in store.query(sql, params)]


def _filters(site: str | None, open_only: bool, since: float | None) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if site is not None:
        clauses.append("s.name = ?")
        params.append(site)
    if open_only:
        clauses.append("f.resolved_at IS NULL")
    if since is not None:
        clauses.append("(f.resolved_at IS NULL OR f.last_seen >= ?)")
        params.append(since)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _finding(row: Sequence[Any]) -> StoredFinding:
    name, kind, level, score, page, technique, target, evidence, first, last, resolved = row[:11]
    finding = Finding(Kind(kind), Level(level), int(score), str(page), str(technique), str(target), str(evidence))
    return StoredFinding(
        str(name), Tracked(finding, float(first), float(last), None if resolved is None else float(resolved))
    )


def load_events(store: Reader, *, site: str | None = None, since: float = 0.0) -> list[StoredEvent]:
    """Integrity events since `since`, oldest first."""
    if not integrity_tables(store):
        return []
    sql = (
        "SELECT s.name, e.ts, e.kind, e.page, e.target, e.before, e.after FROM integrity_events e"
        " JOIN sites s ON s.id = e.site_id WHERE e.ts >= ?"
    )
    params: list[object] = [since]
    if site is not None:
        sql += " AND s.name = ?"
        params.append(site)
    rows = store.query(sql + " ORDER BY e.ts, e.id", params)
    return [
        StoredEvent(str(r[0]), float(r[1]), Event(Kind(str(r[2])), str(r[3]), str(r[4]), str(r[5]), str(r[6])))
        for r in rows
    ]


def load_states(store: Reader) -> dict[int, SiteState]:
    """Each site's remembered baseline; a row that does not parse is treated as absent."""
    states: dict[int, SiteState] = {}
    if not integrity_tables(store):
        return states
    for site_id, text in store.query("SELECT site_id, state FROM integrity_state"):
        try:
            data = json.loads(text)
            states[int(site_id)] = SiteState.from_dict(data) if isinstance(data, dict) else SiteState()
        except (ValueError, TypeError):
            states[int(site_id)] = SiteState()
    return states


def open_tracked(store: Reader) -> dict[int, list[Tracked]]:
    """Open findings by site id (what the daemon's `track` continues from after a restart)."""
    sql = (
        f"SELECT {_FINDING_COLUMNS}, f.site_id FROM integrity_findings f JOIN sites s ON s.id = f.site_id"
        " WHERE f.resolved_at IS NULL ORDER BY f.id"
    )
    found: dict[int, list[Tracked]] = {}
    for row in store.query(sql):
        found.setdefault(int(row[-1]), []).append(_finding(row).tracked)
    return found
