"""Time-weighted availability of one page over time buckets, in integer milliseconds; pure, no I/O.

A check's state holds until the next check; gaps over 2.5 × the interval, `error` checks and time
outside monitor runs are unknown; down = observed inside outages, blocked = after a `blocked`
check outside outages, up = the rest. Rollups and reports both call `bucket_stats`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter

from monitor.models import RESULT_CODES, Result

Span = tuple[int, int]
"""[start, end) in UTC epoch milliseconds."""

HOUR_MS = 3_600_000
FOREVER_MS = 2**62
"""End of an outage that is still open."""

UP, DOWN, BLOCKED, ERROR = (RESULT_CODES[r] for r in (Result.UP, Result.DOWN, Result.BLOCKED, Result.ERROR))
"""Result codes as stored in `checks.result` (models.RESULT_CODES)."""


@dataclass(frozen=True)
class Check:
    ts_ms: int
    result: int
    attempt: int
    duration_ms: int


@dataclass(frozen=True)
class Stats:
    """Counts and durations of one page over one bucket (the columns of the rollup tables)."""

    checks: int = 0
    up: int = 0
    down: int = 0
    blocked: int = 0
    error: int = 0
    scheduled: int = 0
    scheduled_failed: int = 0
    up_ms: int = 0
    down_ms: int = 0
    blocked_ms: int = 0
    unknown_ms: int = 0
    outage_ms: int = 0
    latency_sum_ms: int = 0
    latency_max_ms: int = 0

    def __add__(self, other: Stats) -> Stats:
        mine, theirs = _stat_values(self), _stat_values(other)
        values = [a + b for a, b in zip(mine[:-1], theirs[:-1], strict=True)]
        values.append(max(mine[-1], theirs[-1]))
        return Stats(*values)

    @property
    def observed_ms(self) -> int:
        return self.up_ms + self.down_ms + self.blocked_ms

    @property
    def empty(self) -> bool:
        """Nothing but unknown time (such hours are not stored)."""
        return self.checks == 0 and self.observed_ms == 0 and self.outage_ms == 0


STAT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Stats))
"""Column order of the rollup tables; `latency_max_ms` last (it is the one not summed)."""


_stat_values = attrgetter(*STAT_FIELDS)
"""A Stats' values in column order (a C-level getter: reports add hundreds of thousands)."""


def total(stats: Iterable[Stats]) -> Stats:
    """The sum of `stats` (`Stats()` plus each), column by column in one pass: a year's report
    totals every page's 365 days, and a chain of `+` built a Stats per day."""
    columns = list(zip(*map(_stat_values, stats), strict=True))
    if not columns:
        return Stats()
    values = [sum(column) for column in columns[:-1]]
    values.append(max(0, *columns[-1]))
    return Stats(*values)


@dataclass(frozen=True)
class PageHistory:
    """What the computation needs about one page around a window [a, b).

    `checks` must hold the last check before a, every check in [a, b) and the first check at or
    after b (that one ends the last segment; without it the segment runs to `now_ms`).
    `intervals` are (since_ms, interval_ms), `runs` the monitor's coverage, `outages` spans
    (open ones end at FOREVER_MS); all sorted by start.
    """

    checks: Sequence[Check]
    intervals: Sequence[tuple[int, int]]
    runs: Sequence[Span]
    outages: Sequence[Span]
    now_ms: int


def bucket_stats(history: PageHistory, bounds: Sequence[int]) -> list[Stats]:
    """Stats of each bucket [bounds[i], bounds[i + 1]); bounds strictly increasing."""
    a, b = bounds[0], bounds[-1]
    up_spans, blocked_spans = _segments(history, a, b)
    runs = clip(merge(history.runs), a, b)
    outages = clip(merge(history.outages), a, b)
    seen_up = intersect(up_spans, runs)
    seen_blocked = intersect(blocked_spans, runs)
    up = spread(subtract(seen_up, outages), bounds)
    blocked = spread(subtract(seen_blocked, outages), bounds)
    down_up = spread(intersect(seen_up, outages), bounds)
    down_blocked = spread(intersect(seen_blocked, outages), bounds)
    down = [x + y for x, y in zip(down_up, down_blocked, strict=True)]
    outage_ms = spread(outages, bounds)
    counts = _counts(history.checks, bounds)
    return [
        Stats(
            **counts[i],
            up_ms=up[i],
            down_ms=down[i],
            blocked_ms=blocked[i],
            unknown_ms=bounds[i + 1] - bounds[i] - up[i] - down[i] - blocked[i],
            outage_ms=outage_ms[i],
        )
        for i in range(len(bounds) - 1)
    ]


def _segments(history: PageHistory, a: int, b: int) -> tuple[list[Span], list[Span]]:
    """Observed-by-checks spans inside [a, b): (up or unconfirmed down, blocked)."""
    checks = history.checks
    up: list[Span] = []
    blocked: list[Span] = []
    first = max(0, bisect_right([c.ts_ms for c in checks], a) - 1)
    for i in range(first, len(checks)):
        check = checks[i]
        if check.ts_ms >= b:
            break
        end = checks[i + 1].ts_ms if i + 1 < len(checks) else history.now_ms
        if end <= check.ts_ms or not _trusted(check, end - check.ts_ms, history.intervals):
            continue
        span = (max(check.ts_ms, a), min(end, b))
        if span[0] < span[1]:
            _append(blocked if check.result == BLOCKED else up, span)
    return up, blocked


def _trusted(check: Check, gap_ms: int, intervals: Sequence[tuple[int, int]]) -> bool:
    """Whether a check vouches for the time until the next one (2 gap > 5 interval: exact)."""
    return check.result != ERROR and 2 * gap_ms <= 5 * interval_at(intervals, check.ts_ms)


def interval_at(intervals: Sequence[tuple[int, int]], ts_ms: int) -> int:
    """The interval in force at ts (before the first record: the first one)."""
    index = bisect_right([since for since, _ in intervals], ts_ms) - 1
    return intervals[max(index, 0)][1]


def _counts(checks: Sequence[Check], bounds: Sequence[int]) -> list[dict[str, int]]:
    counts = [dict.fromkeys(("checks", "up", "down", "blocked", "error"), 0) for _ in bounds[:-1]]
    for row in counts:
        row.update(scheduled=0, scheduled_failed=0, latency_sum_ms=0, latency_max_ms=0)
    names = ("up", "down", "blocked", "error")
    for check in checks:
        i = bisect_right(bounds, check.ts_ms) - 1
        if i < 0 or i >= len(counts):
            continue
        row = counts[i]
        row["checks"] += 1
        row[names[check.result]] += 1
        if check.attempt == 0 and check.result != ERROR:
            row["scheduled"] += 1
            row["scheduled_failed"] += check.result == DOWN
        if check.result == UP:
            row["latency_sum_ms"] += check.duration_ms
            row["latency_max_ms"] = max(row["latency_max_ms"], check.duration_ms)
    return counts


# -- span algebra over sorted, disjoint [start, end) lists ----------------------------------------


def _append(spans: list[Span], span: Span) -> None:
    """Append keeping the list coalesced (adjacent spans become one)."""
    if spans and spans[-1][1] >= span[0]:
        spans[-1] = (spans[-1][0], max(spans[-1][1], span[1]))
    else:
        spans.append(span)


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint, coalesced union of any spans."""
    merged: list[Span] = []
    for span in sorted(s for s in spans if s[0] < s[1]):
        _append(merged, span)
    return merged


def clip(spans: Sequence[Span], a: int, b: int) -> list[Span]:
    out = [(max(s, a), min(e, b)) for s, e in spans if s < b and e > a]
    return [s for s in out if s[0] < s[1]]


def intersect(left: Sequence[Span], right: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(left: Sequence[Span], right: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    j = 0
    for start, end in left:
        cursor = start
        while j < len(right) and right[j][1] <= cursor:
            j += 1
        k = j
        while k < len(right) and right[k][0] < end:
            if right[k][0] > cursor:
                out.append((cursor, right[k][0]))
            cursor = max(cursor, right[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def spread(spans: Sequence[Span], bounds: Sequence[int]) -> list[int]:
    """Milliseconds of `spans` falling in each bucket [bounds[i], bounds[i + 1])."""
    sums = [0] * (len(bounds) - 1)
    for start, end in spans:
        i = max(bisect_right(bounds, start) - 1, 0)
        while i < len(sums) and bounds[i] < end:
            overlap = min(end, bounds[i + 1]) - max(start, bounds[i])
            if overlap > 0:
                sums[i] += overlap
            i += 1
    return sums


def hour_floor(ts_ms: int) -> int:
    return ts_ms - ts_ms % HOUR_MS


def hour_ceil(ts_ms: int) -> int:
    return -(-ts_ms // HOUR_MS) * HOUR_MS
