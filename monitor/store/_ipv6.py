"""The IPv6 series: one row per IPv6 reading of a site's homepage (migration `0008_ipv6`), its write
operation, retention and the reads behind status, reports and the daemon's restart.

Its own table, never the `checks` table: rule V1 and uptime read IPv4 checks only, and an IPv6
failure must not move them (docs/integrity.md#ipv6). Private to `monitor.store`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from monitor.integrity import Ipv6Reading, Ipv6State
from monitor.store._writer import Statement

SCHEMA = """
CREATE TABLE ipv6_checks (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    ts REAL NOT NULL,
    page TEXT NOT NULL,
    state TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    status INTEGER,
    error_kind TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    duration_s REAL,
    content_hash TEXT NOT NULL DEFAULT '',
    consistent INTEGER,
    links_checked INTEGER NOT NULL DEFAULT 0,
    links_ok INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ipv6_checks_site_ts ON ipv6_checks(site_id, ts);
"""


class Reader(Protocol):
    """What the reads need: `Store.query` (parameters only)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]: ...


@dataclass(frozen=True)
class Ipv6CheckRow:
    """One IPv6 reading of a site's homepage."""

    site_id: int
    reading: Ipv6Reading

    def statements(self) -> Iterable[Statement]:
        r = self.reading
        consistent = None if r.consistent is None else int(r.consistent)
        yield (
            "INSERT INTO ipv6_checks (site_id, ts, page, state, address, status, error_kind, error, duration_s,"
            " content_hash, consistent, links_checked, links_ok) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.site_id,
                r.started_at,
                r.page,
                r.state.value,
                r.address,
                r.status,
                r.error_kind,
                r.error,
                r.duration_s,
                r.content_hash,
                consistent,
                r.links_checked,
                r.links_ok,
            ),
        )


@dataclass(frozen=True)
class PruneIpv6:
    """Retention: IPv6 readings older than `retention_s` go."""

    now: float
    retention_s: float

    def statements(self) -> Iterable[Statement]:
        yield "DELETE FROM ipv6_checks WHERE ts < ?", (self.now - self.retention_s,)


@dataclass(frozen=True)
class Ipv6Summary:
    """A site's IPv6 readings over a period: counts by state and the latest reading."""

    site: str
    ok: int
    down: int
    no_ipv6: int
    unknown: int
    latest: Ipv6Reading
    inconsistent: int
    """Readings that found IPv4 and IPv6 answers different."""

    @property
    def success_ratio(self) -> float | None:
        """Successful share of the counted readings (ok + down); None when none was counted."""
        counted = self.ok + self.down
        return self.ok / counted if counted else None


def ipv6_tables(store: Reader) -> bool:
    """The database has the IPv6 table (a copy made before 0008_ipv6, read-only, has not)."""
    sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ipv6_checks'"
    return bool(store.query(sql)[0][0])


_READING_COLUMNS = (
    "c.page, c.ts, c.state, c.address, c.status, c.error_kind, c.error, c.duration_s, c.content_hash, c.consistent,"
    " c.links_checked, c.links_ok"
)


def ipv6_summaries(store: Reader, start: float, end: float, *, site: str | None = None) -> dict[str, Ipv6Summary]:
    """Per site with a reading in [start, end): counts by state and the latest reading."""
    if not ipv6_tables(store):
        return {}
    where, params = " WHERE c.ts >= ? AND c.ts < ?", list[object]([start, end])
    if site is not None:
        where, params = where + " AND s.name = ?", [*params, site]
    counts = store.query(
        "SELECT s.name, c.state, count(*), sum(c.consistent = 0) FROM ipv6_checks c JOIN sites s ON s.id = c.site_id"
        f"{where} GROUP BY s.name, c.state",
        params,
    )
    latest = store.query(
        f"SELECT s.name, {_READING_COLUMNS} FROM ipv6_checks c JOIN sites s ON s.id = c.site_id{where}"
        " AND c.id = (SELECT max(id) FROM ipv6_checks WHERE site_id = c.site_id AND ts >= ? AND ts < ?)",
        [*params, start, end],
    )
    by_site: dict[str, dict[str, int]] = {}
    for name, state, count, different in counts:
        tally = by_site.setdefault(str(name), {})
        tally[str(state)] = int(count)
        tally["inconsistent"] = tally.get("inconsistent", 0) + int(different or 0)
    return {str(row[0]): _summary(str(row[0]), by_site.get(str(row[0]), {}), row[1:]) for row in latest}


def recent_readings(store: Reader, since: float) -> dict[int, list[Ipv6Reading]]:
    """Readings since `since` by site id, oldest first (the daemon's 24-hour window after a restart)."""
    if not ipv6_tables(store):
        return {}
    sql = f"SELECT c.site_id, {_READING_COLUMNS} FROM ipv6_checks c WHERE c.ts >= ? ORDER BY c.ts, c.id"
    found: dict[int, list[Ipv6Reading]] = {}
    for row in store.query(sql, [since]):
        found.setdefault(int(row[0]), []).append(_reading(row[1:]))
    return found


def _summary(site: str, tally: dict[str, int], row: Sequence[Any]) -> Ipv6Summary:
    return Ipv6Summary(
        site,
        tally.get(Ipv6State.OK.value, 0),
        tally.get(Ipv6State.DOWN.value, 0),
        tally.get(Ipv6State.NO_IPV6.value, 0),
        tally.get(Ipv6State.UNKNOWN.value, 0),
        _reading(row),
        tally.get("inconsistent", 0),
    )


def _reading(row: Sequence[Any]) -> Ipv6Reading:
    page, ts, state, address, status, error_kind, error, duration, content_hash, consistent, checked, ok = row[:12]
    return Ipv6Reading(
        page=str(page),
        started_at=float(ts),
        state=Ipv6State(str(state)),
        address=str(address),
        status=None if status is None else int(status),
        error_kind=str(error_kind),
        error=str(error),
        duration_s=None if duration is None else float(duration),
        content_hash=str(content_hash),
        consistent=None if consistent is None else bool(consistent),
        links_checked=int(checked),
        links_ok=int(ok),
    )


def ipv6_link_sample(store: Reader, site: str, limit: int) -> list[str]:
    """Up to `limit` internal page links the link passes last found ok (most recently checked first):
    what an IPv6 reading reads again over IPv6 (attachments and images are left out: their bytes)."""
    if limit <= 0:
        return []
    sql = (
        "SELECT l.url FROM link_state l JOIN sites s ON s.id = l.site_id WHERE s.name = ? AND l.scope = 'internal'"
        " AND l.rtype = 'page' AND l.class = 'ok' ORDER BY l.last_checked DESC, l.url LIMIT ?"
    )
    return [str(row[0]) for row in store.query(sql, [site, limit])]
