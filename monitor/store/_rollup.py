"""Hourly, daily and monthly rollups per page, finalised on the writer thread as checks are written.

An hour is final once nothing can change it: it ends before the page's last check and before the
start of a pending unconfirmed failure run (which may become an outage). Daily rows are sums of
hourly rows per local date, built for one time zone, with the day's latency quantiles (median and
95th percentile of its successful checks, read from the raw checks while they are still there:
retention prunes them later). Monthly rows are sums of a whole local month's daily rows, so a
year's report reads 12 rows a page instead of 365. Private to `monitor.store`; no clock here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.models import RESULT_CODES, Result
from monitor.rules import HOUR_MS, STAT_FIELDS, Stats, bucket_stats, hour_floor
from monitor.store._queries import load_page, load_runs, to_ms
from monitor.store._writer import Statement

_STAT_DDL = ",\n    ".join(f"{name} INTEGER NOT NULL" for name in STAT_FIELDS)
_DAY_SUMS = ", ".join(
    "? - sum(up_ms) - sum(down_ms) - sum(blocked_ms)" if f == "unknown_ms" else f"sum({f})" for f in STAT_FIELDS[:-1]
)

SCHEMA = f"""
CREATE TABLE rollup_hourly (
    page_id INTEGER NOT NULL,
    hour_ms INTEGER NOT NULL,
    {_STAT_DDL},
    PRIMARY KEY (page_id, hour_ms)
) WITHOUT ROWID;
CREATE TABLE rollup_daily (
    page_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    tz TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    {_STAT_DDL},
    PRIMARY KEY (page_id, day)
) WITHOUT ROWID;
CREATE TABLE rollup_state (
    page_id INTEGER PRIMARY KEY,
    hourly_until_ms INTEGER NOT NULL,
    daily_until TEXT,
    tz TEXT
);
"""
"""Hours and days with nothing but unknown time have no row (unknown = length - observed);
days before `daily_until` are final, hours before `hourly_until_ms`."""

QUANTILES_SCHEMA = f"""
ALTER TABLE rollup_daily ADD COLUMN latency_p50_ms INTEGER;
ALTER TABLE rollup_daily ADD COLUMN latency_p95_ms INTEGER;
CREATE TABLE rollup_monthly (
    page_id INTEGER NOT NULL,
    month TEXT NOT NULL,
    tz TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    {_STAT_DDL},
    PRIMARY KEY (page_id, month)
) WITHOUT ROWID;
"""
"""Migration 0009: a day's latency quantiles (NULL: no successful check that day, or its raw
checks were pruned before the migration could read them) and the monthly rollup (a month has a
row once its last day is final, when its days are hour-aligned in the time zone; none when
nothing was observed in it)."""

CHUNK_HOURS = 24 * 7
"""Hours of one page finalised at once (a week of minutely checks: ~10,000 rows read)."""
STEP_CHECKS = 20_000
"""Checks read per step before handing the writer back to the queued writes."""
STEP_DAYS = 400


@dataclass(frozen=True)
class _PageMark:
    page_id: int
    first_ms: int | None
    last_ms: int | None
    pending_failure_ms: int | None
    hourly_until_ms: int | None
    daily_until: date | None
    tz: str | None


@dataclass(frozen=True)
class RollupTick:
    """Finalise rollups up to every page's watermark. The daemon submits one a minute;
    a tick with more to do than one step continues itself behind the queued writes (unless a
    newer tick is queued by then: that one carries on)."""

    now: float
    timezone: str = "Asia/Shanghai"

    def statements(self) -> Iterable[Statement]:
        return ()

    def step(self, conn: sqlite3.Connection) -> RollupTick | None:
        now_ms = to_ms(self.now)
        runs = load_runs(conn)
        tz = ZoneInfo(self.timezone)
        budget = STEP_CHECKS
        behind = False
        for mark in _marks(conn):
            if budget <= 0:
                return self
            read, more = _roll_hours(conn, mark, now_ms, runs)
            budget -= read
            behind |= more
            behind |= _roll_days(conn, mark.page_id, self.timezone, tz)
        return self if behind else None


def _marks(conn: sqlite3.Connection) -> list[_PageMark]:
    rows = conn.execute(
        "SELECT p.id, (SELECT min(ts_ms) FROM checks WHERE page_id = p.id),"
        " (SELECT max(ts_ms) FROM checks WHERE page_id = p.id),"
        " (SELECT first_failure FROM page_state WHERE page_id = p.id AND consecutive_failures > 0),"
        " r.hourly_until_ms, r.daily_until, r.tz"
        " FROM pages p LEFT JOIN rollup_state r ON r.page_id = p.id ORDER BY p.id"
    )
    return [_PageMark(r[0], r[1], r[2], None if r[3] is None else to_ms(r[3]), r[4], _date(r[5]), r[6]) for r in rows]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def watermark(mark: _PageMark, now_ms: int) -> int | None:
    """Start of the first hour that may still change (None: the page has no check yet)."""
    if mark.last_ms is None:
        return None
    limits = [mark.last_ms, now_ms] + ([mark.pending_failure_ms] if mark.pending_failure_ms is not None else [])
    return hour_floor(min(limits))


def _roll_hours(
    conn: sqlite3.Connection, mark: _PageMark, now_ms: int, runs: list[tuple[int, int]]
) -> tuple[int, bool]:
    """Finalise up to CHUNK_HOURS of the page; (checks read, whether more remain)."""
    target = watermark(mark, now_ms)
    if target is None or mark.first_ms is None:
        return 0, False
    start = mark.hourly_until_ms if mark.hourly_until_ms is not None else hour_floor(mark.first_ms)
    if start >= target:
        return 0, False
    end = min(target, start + CHUNK_HOURS * HOUR_MS)
    history = load_page(conn, mark.page_id, start, end, now_ms, runs)
    bounds = list(range(start, end + 1, HOUR_MS))
    rows = [
        (mark.page_id, hour, *_values(stats))
        for hour, stats in zip(bounds, bucket_stats(history, bounds), strict=False)
        if not stats.empty
    ]
    columns = ", ".join(("page_id", "hour_ms", *STAT_FIELDS))
    marks = ", ".join("?" for _ in range(len(STAT_FIELDS) + 2))
    conn.executemany(f"INSERT OR REPLACE INTO rollup_hourly ({columns}) VALUES ({marks})", rows)
    conn.execute(
        "INSERT INTO rollup_state (page_id, hourly_until_ms) VALUES (?, ?)"
        " ON CONFLICT (page_id) DO UPDATE SET hourly_until_ms = excluded.hourly_until_ms",
        (mark.page_id, end),
    )
    return len(history.checks), end < target


def _values(stats: Stats) -> tuple[int, ...]:
    return tuple(getattr(stats, name) for name in STAT_FIELDS)


def _roll_days(conn: sqlite3.Connection, page_id: int, tz_name: str, tz: ZoneInfo) -> bool:
    """Sum final hours into local days (rebuilt when the time zone changed); True if more remain."""
    row = conn.execute("SELECT hourly_until_ms, daily_until, tz FROM rollup_state WHERE page_id = ?", (page_id,))
    state = row.fetchone()
    if state is None:
        return False
    hourly_until, daily_until, built_for = int(state[0]), _date(state[1]), state[2]
    if built_for != tz_name:
        conn.execute("DELETE FROM rollup_daily WHERE page_id = ?", (page_id,))
        conn.execute("DELETE FROM rollup_monthly WHERE page_id = ?", (page_id,))
        daily_until = None
    day = daily_until or _first_day(conn, page_id, hourly_until, tz)
    for _ in range(STEP_DAYS):
        start, end = day_bounds(day, tz)
        if end > hourly_until:
            break
        if start % HOUR_MS == 0 and end % HOUR_MS == 0:
            _insert_day(conn, page_id, day, tz_name, start, end)
        day += timedelta(days=1)
        if day.day == 1:
            insert_month(conn, page_id, day - timedelta(days=1), tz_name, tz)
    if day != daily_until or built_for != tz_name:  # no write at all on the usual idle minute
        conn.execute(
            "UPDATE rollup_state SET daily_until = ?, tz = ? WHERE page_id = ?", (day.isoformat(), tz_name, page_id)
        )
    return day_bounds(day, tz)[1] <= hourly_until


def _first_day(conn: sqlite3.Connection, page_id: int, hourly_until: int, tz: ZoneInfo) -> date:
    row = conn.execute("SELECT min(hour_ms) FROM rollup_hourly WHERE page_id = ?", (page_id,)).fetchone()
    first = row[0] if row[0] is not None else hourly_until
    return datetime.fromtimestamp(first / 1000, tz).date()


def _insert_day(conn: sqlite3.Connection, page_id: int, day: date, tz_name: str, start: int, end: int) -> None:
    conn.execute("DELETE FROM rollup_daily WHERE page_id = ? AND day = ?", (page_id, day.isoformat()))
    columns = ", ".join(("page_id", "day", "tz", "start_ms", "end_ms", *STAT_FIELDS))
    conn.execute(
        f"INSERT INTO rollup_daily ({columns}) SELECT ?, ?, ?, ?, ?, {_DAY_SUMS}, max(latency_max_ms)"
        " FROM rollup_hourly WHERE page_id = ? AND hour_ms >= ? AND hour_ms < ? HAVING count(*) > 0",
        (page_id, day.isoformat(), tz_name, start, end, end - start, page_id, start, end),
    )
    median, p95 = day_quantiles(conn, page_id, start, end)
    if median is not None:
        conn.execute(
            "UPDATE rollup_daily SET latency_p50_ms = ?, latency_p95_ms = ? WHERE page_id = ? AND day = ?",
            (median, p95, page_id, day.isoformat()),
        )


def nearest_rank(sorted_values: list[int], numerator: int, denominator: int) -> int:
    """The nearest-rank quantile numerator/denominator of sorted values (a measured value, never
    an interpolation): the same definition as the report's `quantile`."""
    rank = max(1, -(-len(sorted_values) * numerator // denominator))
    return sorted_values[rank - 1]


def day_quantiles(conn: sqlite3.Connection, page_id: int, start: int, end: int) -> tuple[int | None, int | None]:
    """(median, 95th percentile) of the durations of the page's successful checks in [start, end)
    that the raw table still holds; (None, None) without any."""
    rows = conn.execute(
        "SELECT duration_ms FROM checks WHERE page_id = ? AND ts_ms >= ? AND ts_ms < ? AND result = ?",
        (page_id, start, end, RESULT_CODES[Result.UP]),
    )
    values = sorted(row[0] for row in rows)
    if not values:
        return None, None
    return nearest_rank(values, 1, 2), nearest_rank(values, 95, 100)


def month_days(last: date) -> list[date]:
    """The dates of the month that ends with (or holds) `last`, from its first day to `last`."""
    return [date(last.year, last.month, d) for d in range(1, last.day + 1)]


def insert_month(conn: sqlite3.Connection, page_id: int, last: date, tz_name: str, tz: ZoneInfo) -> None:
    """The month ending on `last` as the sum of its daily rows (all final): none when a day of it
    is not hour-aligned in the zone (such days have no daily row) or nothing was observed in it."""
    days = month_days(last)
    bounds = [day_bounds(day, tz) for day in days]
    if any(a % HOUR_MS or b % HOUR_MS for a, b in bounds):
        return
    start, end = bounds[0][0], bounds[-1][1]
    month = last.isoformat()[:7]
    conn.execute("DELETE FROM rollup_monthly WHERE page_id = ? AND month = ?", (page_id, month))
    columns = ", ".join(("page_id", "month", "tz", "start_ms", "end_ms", *STAT_FIELDS))
    conn.execute(
        f"INSERT INTO rollup_monthly ({columns}) SELECT ?, ?, ?, ?, ?, {_DAY_SUMS}, max(latency_max_ms)"
        " FROM rollup_daily WHERE page_id = ? AND day >= ? AND day <= ? HAVING count(*) > 0",
        (page_id, month, tz_name, start, end, end - start, page_id, days[0].isoformat(), last.isoformat()),
    )


def day_bounds(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """[local midnight, next local midnight) of a date, in UTC epoch milliseconds."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=tz)
    return round(start.timestamp() * 1000), round(end.timestamp() * 1000)


def backfill_quantiles(conn: sqlite3.Connection) -> int:
    """Migration 0009: the quantiles of every daily row whose raw checks are (partly) still
    there; how many days got them. Days wholly before a page's oldest raw check are skipped."""
    filled = 0
    for (page_id,) in conn.execute("SELECT page_id FROM rollup_state ORDER BY page_id").fetchall():
        first = conn.execute("SELECT min(ts_ms) FROM checks WHERE page_id = ?", (page_id,)).fetchone()[0]
        if first is not None:  # one page's days at a time: a national shard has millions
            filled += _backfill_page(conn, page_id, first)
    return filled


def _backfill_page(conn: sqlite3.Connection, page_id: int, first: int) -> int:
    """The quantiles of the page's days that end after its oldest raw check; how many got them."""
    filled = 0
    rows = conn.execute(
        "SELECT day, start_ms, end_ms FROM rollup_daily WHERE page_id = ? AND end_ms > ?", (page_id, first)
    ).fetchall()
    for day, start, end in rows:
        median, p95 = day_quantiles(conn, page_id, start, end)
        if median is not None:
            conn.execute(
                "UPDATE rollup_daily SET latency_p50_ms = ?, latency_p95_ms = ? WHERE page_id = ? AND day = ?",
                (median, p95, page_id, day),
            )
            filled += 1
    return filled


def backfill_months(conn: sqlite3.Connection) -> int:
    """Migration 0009: a monthly row for every month whose days are all final; how many months."""
    state = {r[0]: (_date(r[1]), r[2]) for r in conn.execute("SELECT page_id, daily_until, tz FROM rollup_state")}
    months = conn.execute("SELECT DISTINCT page_id, substr(day, 1, 7) FROM rollup_daily ORDER BY 1, 2").fetchall()
    zones: dict[str, ZoneInfo] = {}
    done = 0
    for page_id, month in months:
        until, tz_name = state.get(page_id, (None, None))
        year, number = (int(part) for part in month.split("-"))
        last = date(year + number // 12, number % 12 + 1, 1) - timedelta(days=1)
        if until is None or tz_name is None or last >= until:
            continue
        insert_month(conn, page_id, last, tz_name, zones.setdefault(tz_name, ZoneInfo(tz_name)))
        done += 1
    return done
