"""The homepage per local day, for the charts of the HTML report: availability (time-weighted,
as the report counts it) and response time (median and 95th percentile of successful checks).

Latency comes from raw checks only (rollups keep a sum and a maximum, not a distribution), so a
day whose raw checks retention has pruned has no latency figures, shown as a gap, never as 0.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from monitor.percent import ratio_of
from monitor.report._daily import Day
from monitor.rules import Stats
from monitor.store import History


@dataclass(frozen=True)
class DayPoint:
    """One local day of the homepage: its stats, and latency quantiles in ms (None: no raw
    successful checks that day)."""

    date: date
    stats: Stats
    median_ms: int | None
    p95_ms: int | None

    @property
    def uptime_exact(self) -> Fraction | None:
        return ratio_of(self.stats.up_ms, self.stats.up_ms + self.stats.down_ms)


def quantile(sorted_values: Sequence[int], q: Fraction) -> int:
    """The nearest-rank quantile (the smallest value with at least q of the values at or below
    it): a value that was measured, never an interpolation."""
    rank = max(1, -(-len(sorted_values) * q.numerator // q.denominator))
    return sorted_values[int(rank) - 1]


def day_points(history: History, page_id: int, days: Sequence[Day], stats: Sequence[Stats]) -> tuple[DayPoint, ...]:
    """The homepage's days: `stats` as the report computed them, latency from raw checks."""
    if not days:
        return ()
    found = history.latencies(page_id, days[0].start_ms, days[-1].end_ms)
    times = [ts for ts, _ in found]  # oldest first: each day is a slice found by bisection
    out = []
    for day, day_stats in zip(days, stats, strict=True):
        first, end = bisect_left(times, day.start_ms), bisect_left(times, day.end_ms)
        values = sorted(duration for _, duration in found[first:end])
        median = quantile(values, Fraction(1, 2)) if values else None
        p95 = quantile(values, Fraction(95, 100)) if values else None
        out.append(DayPoint(day.date, day_stats, median, p95))
    return tuple(out)
