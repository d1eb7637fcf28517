"""Read queries behind reports and rollups: raw checks around a window, runs, outages, rollups, items.

Private to the store package (reached through `Store.history()`, and used by `_rollup`); reads only.
Every REAL seconds column becomes integer milliseconds here, the same way for every caller.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date

from monitor.models import RESULT_CODES, Result
from monitor.rules import FOREVER_MS, STAT_FIELDS, Check, PageHistory, Span, Stats

_STAT_COLUMNS = ", ".join(STAT_FIELDS)
_SUMS = ", ".join(f"coalesce(sum({f}), 0)" for f in STAT_FIELDS[:-1]) + ", coalesce(max(latency_max_ms), 0)"


def to_ms(seconds: float) -> int:
    """Seconds (REAL, as clocks give them) -> the integer milliseconds check times are stored in."""
    return round(seconds * 1000)


@dataclass(frozen=True)
class RollupMark:
    """How far a page's rollups are final: hours before `hourly_until_ms`, days before `daily_until`."""

    hourly_until_ms: int
    daily_until: date | None
    tz: str | None


@dataclass(frozen=True)
class OutageRow:
    page_id: int
    start_ms: int
    end_ms: int | None
    cause: str


def load_runs(conn: sqlite3.Connection) -> list[Span]:
    """When the monitor was running: [started, stopped or last heartbeat] of every run."""
    rows = conn.execute("SELECT started, coalesce(stopped, heartbeat) FROM monitor_runs")
    return [(to_ms(s), to_ms(e)) for s, e in rows]


def load_page(conn: sqlite3.Connection, page_id: int, a: int, b: int, now_ms: int, runs: Sequence[Span]) -> PageHistory:
    """Everything `timeline.bucket_stats` needs for page over [a, b)."""
    before = conn.execute(
        "SELECT ts_ms, result, attempt, duration_ms FROM checks WHERE page_id = ? AND ts_ms < ?"
        " ORDER BY ts_ms DESC LIMIT 1",
        (page_id, a),
    ).fetchall()
    inside = conn.execute(
        "SELECT ts_ms, result, attempt, duration_ms FROM checks WHERE page_id = ? AND ts_ms >= ? AND ts_ms < ?"
        " ORDER BY ts_ms",
        (page_id, a, b),
    ).fetchall()
    after = conn.execute(
        "SELECT ts_ms, result, attempt, duration_ms FROM checks WHERE page_id = ? AND ts_ms >= ?"
        " ORDER BY ts_ms LIMIT 1",
        (page_id, b),
    ).fetchall()
    checks = [Check(*row) for row in (*before, *inside, *after)]
    return PageHistory(checks, load_intervals(conn, page_id), runs, load_outage_spans(conn, page_id, a, b), now_ms)


def load_intervals(conn: sqlite3.Connection, page_id: int) -> list[tuple[int, int]]:
    rows = conn.execute(
        "SELECT since, interval_s FROM page_intervals WHERE page_id = ? ORDER BY since", (page_id,)
    ).fetchall()
    if not rows:
        rows = conn.execute("SELECT 0, interval_s FROM pages WHERE id = ?", (page_id,)).fetchall()
    return [(to_ms(since), to_ms(interval)) for since, interval in rows]


def load_outage_spans(conn: sqlite3.Connection, page_id: int, a: int, b: int) -> list[Span]:
    """Outages of the page touching [a, b) (one second of slack: clipping is exact later)."""
    rows = conn.execute(
        "SELECT started, ended FROM outages WHERE page_id = ? AND started < ? AND (ended IS NULL OR ended > ?)",
        (page_id, b / 1000 + 1, a / 1000 - 1),
    )
    return [(to_ms(s), FOREVER_MS if e is None else to_ms(e)) for s, e in rows]


class History:
    """Read-only queries for reports over one connection (the store's)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: rollups, their watermarks and raw checks seen at one moment, even
        while the daemon's writer advances rollups or prunes."""
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    def has_rollups(self) -> bool:
        """False on a database the rollup migration has not reached (opened read-only)."""
        row = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rollup_state'")
        return row.fetchone() is not None

    def has_monthly(self) -> bool:
        """Whether migration 0009 (daily quantiles, monthly rollups) has reached the database."""
        row = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rollup_monthly'")
        return row.fetchone() is not None

    def runs(self) -> list[Span]:
        return load_runs(self._conn)

    def page(self, page_id: int, a: int, b: int, now_ms: int, runs: Sequence[Span]) -> PageHistory:
        return load_page(self._conn, page_id, a, b, now_ms, runs)

    def marks(self) -> dict[int, RollupMark]:
        rows = self._conn.execute("SELECT page_id, hourly_until_ms, daily_until, tz FROM rollup_state")
        return {r[0]: RollupMark(r[1], date.fromisoformat(r[2]) if r[2] else None, r[3]) for r in rows}

    def daily(self, page_id: int, first: date, last: date) -> dict[date, Stats]:
        rows = self._conn.execute(
            f"SELECT day, {_STAT_COLUMNS} FROM rollup_daily WHERE page_id = ? AND day >= ? AND day <= ?",
            (page_id, first.isoformat(), last.isoformat()),
        )
        return {date.fromisoformat(r[0]): Stats(*r[1:]) for r in rows}

    def daily_quantiles(self, page_id: int, first: date, last: date) -> dict[date, tuple[int | None, int | None]]:
        """(median, p95) latency of the page's daily rows in [first, last] (NULL: none measured,
        or raw checks pruned before migration 0009 could read them)."""
        rows = self._conn.execute(
            "SELECT day, latency_p50_ms, latency_p95_ms FROM rollup_daily WHERE page_id = ? AND day >= ? AND day <= ?",
            (page_id, first.isoformat(), last.isoformat()),
        )
        return {date.fromisoformat(r[0]): (r[1], r[2]) for r in rows}

    def sums(self, table: str, first: str, last: str, kind: str | None = None) -> dict[int, tuple[Stats, int]]:
        """Per page (of `kind`, or all), the sum of its rows of `table` ('rollup_daily' by day,
        'rollup_monthly' by month) from `first` to `last` inclusive, in one pass over all pages,
        and the milliseconds those rows cover (the rest of the span has no row: unknown time)."""
        key = {"rollup_daily": "day", "rollup_monthly": "month"}[table]
        only = " AND page_id IN (SELECT id FROM pages WHERE kind = ?)" if kind else ""
        rows = self._conn.execute(
            f"SELECT page_id, sum(end_ms - start_ms), {_SUMS} FROM {table} WHERE {key} >= ? AND {key} <= ?{only}"
            " GROUP BY page_id",
            (first, last, *([kind] if kind else [])),
        )
        return {r[0]: (Stats(*r[2:]), r[1]) for r in rows}

    def hourly(self, page_id: int, a: int, b: int) -> Stats:
        """Sum of the hourly rows of [a, b) (hour-aligned); hours without a row are unknown time."""
        row = self._conn.execute(
            f"SELECT {_SUMS} FROM rollup_hourly WHERE page_id = ? AND hour_ms >= ? AND hour_ms < ?", (page_id, a, b)
        ).fetchone()
        stats = Stats(*row)
        return replace(stats, unknown_ms=b - a - stats.observed_ms)

    def hourly_down(self, page_id: int, a: int, b: int) -> dict[int, int]:
        """down_ms of each hourly row in [a, b) (hour-aligned), by hour start."""
        rows = self._conn.execute(
            "SELECT hour_ms, down_ms FROM rollup_hourly WHERE page_id = ? AND hour_ms >= ? AND hour_ms < ?",
            (page_id, a, b),
        )
        return dict(rows)

    def outages(self, page_id: int, a: int, b: int) -> list[OutageRow]:
        """Outages overlapping [a, b), oldest first."""
        rows = self._conn.execute(
            "SELECT started, ended, cause FROM outages WHERE page_id = ? AND started < ?"
            " AND (ended IS NULL OR ended > ?) ORDER BY started",
            (page_id, b / 1000 + 1, a / 1000 - 1),
        )
        found = [OutageRow(page_id, to_ms(s), None if e is None else to_ms(e), c) for s, e, c in rows]
        return [o for o in found if o.start_ms < b and (o.end_ms is None or o.end_ms > a)]

    def blips(self, page_id: int, a: int, b: int) -> int:
        rows = self._conn.execute(
            "SELECT ts FROM blips WHERE page_id = ? AND ts >= ? AND ts < ?", (page_id, a / 1000 - 1, b / 1000 + 1)
        )
        return sum(1 for (ts,) in rows if a <= to_ms(ts) < b)

    def pages_added(self) -> dict[int, float]:
        return {r[0]: r[1] for r in self._conn.execute("SELECT id, added FROM pages")}

    def site_titles(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._conn.execute("SELECT name, title FROM sites ORDER BY name")}

    def newest_item(self, page_id: int, last: date) -> date | None:
        row = self._conn.execute(
            "SELECT max(published) FROM items WHERE page_id = ? AND published <= ?", (page_id, last.isoformat())
        ).fetchone()
        return date.fromisoformat(row[0]) if row[0] else None

    def items_published(self, page_ids: Sequence[int], first: date, last: date) -> int:
        """Distinct item URLs of these pages published in [first, last]."""
        if not page_ids:
            return 0
        marks = ", ".join("?" for _ in page_ids)
        row = self._conn.execute(
            f"SELECT count(DISTINCT url) FROM items WHERE page_id IN ({marks}) AND published >= ? AND published <= ?",
            (*page_ids, first.isoformat(), last.isoformat()),
        ).fetchone()
        return int(row[0])

    def items_seen(self, page_id: int, until_ms: int) -> int:
        """Items (dated or not) first seen on the page by `until_ms`."""
        row = self._conn.execute(
            "SELECT count(*) FROM items WHERE page_id = ? AND first_seen <= ?", (page_id, until_ms / 1000)
        ).fetchone()
        return int(row[0])

    # -- for the annual form, the HTML charts and the digest (issue 15) --------------------------

    def items_by_month(self, page_ids: Sequence[int], first: date, last: date) -> dict[str, int]:
        """Distinct item URLs of these pages published in [first, last], per 'YYYY-MM' month."""
        if not page_ids:
            return {}
        marks = ", ".join("?" for _ in page_ids)
        rows = self._conn.execute(
            f"SELECT substr(published, 1, 7), count(DISTINCT url) FROM items WHERE page_id IN ({marks}) "
            "AND published >= ? AND published <= ? GROUP BY 1",
            (*page_ids, first.isoformat(), last.isoformat()),
        )
        return {r[0]: int(r[1]) for r in rows}

    def items_seen_late(self, page_ids: Sequence[int], first: date, last: date, late_s: float) -> int:
        """Distinct item URLs published in [first, last] that the monitor first saw more than
        `late_s` after the end of their publish date (the day is read as UTC+14, the latest
        any clock shows it, so a time zone never makes an item late)."""
        if not page_ids:
            return 0
        marks = ", ".join("?" for _ in page_ids)
        row = self._conn.execute(
            "SELECT count(*) FROM (SELECT min(first_seen) AS seen, min(published) AS published FROM items "
            f"WHERE page_id IN ({marks}) AND published >= ? AND published <= ? GROUP BY url) "
            "WHERE seen > CAST(strftime('%s', published) AS INTEGER) + 86400 + 14 * 3600 + ?",
            (*page_ids, first.isoformat(), last.isoformat(), late_s),
        ).fetchone()
        return int(row[0])

    def latencies(self, page_id: int, a: int, b: int) -> list[tuple[int, int]]:
        """(ts_ms, duration_ms) of the page's successful checks in [a, b), oldest first: the raw
        checks that remain (retention prunes them; a day without them has no latency figures)."""
        rows = self._conn.execute(
            "SELECT ts_ms, duration_ms FROM checks WHERE page_id = ? AND ts_ms >= ? AND ts_ms < ? AND result = ? "
            "ORDER BY ts_ms",
            (page_id, a, b, RESULT_CODES[Result.UP]),
        )
        return rows.fetchall()  # (INTEGER, INTEGER) rows: already int pairs
