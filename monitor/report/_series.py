"""The homepage per local day, for the charts of the HTML report: availability (time-weighted,
as the report counts it) and response time (median and 95th percentile of successful checks).

Latency of a final day comes from its daily rollup, which keeps the day's median and p95 (taken
from the raw checks when the day was rolled up, so retention pruning them later changes
nothing); other days (not final yet, cut by the period, or everything with --raw) from raw checks.
A day without successful checks has no latency figures, shown as a gap, never as 0; so has a day
whose raw checks were pruned before the database had the quantile columns (migration 0009).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
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


def day_points(
    history: History,
    page_id: int,
    days: Sequence[Day],
    stats: Sequence[Stats],
    stored: Mapping[date, tuple[int | None, int | None]] | None = None,
) -> tuple[DayPoint, ...]:
    """The homepage's days: `stats` as the report computed them, latency (median, p95) from
    `stored` (the daily rollups' figures) for the days it lists and from raw checks for the rest."""
    stored = stored or {}
    raw_days = [day for day in days if day.date not in stored]
    found = history.latencies(page_id, raw_days[0].start_ms, raw_days[-1].end_ms) if raw_days else []
    times = [ts for ts, _ in found]  # oldest first: each day is a slice found by bisection
    out = []
    for day, day_stats in zip(days, stats, strict=True):
        if day.date in stored:
            out.append(DayPoint(day.date, day_stats, *stored[day.date]))
            continue
        first, end = bisect_left(times, day.start_ms), bisect_left(times, day.end_ms)
        values = sorted(duration for _, duration in found[first:end])
        median = quantile(values, Fraction(1, 2)) if values else None
        p95 = quantile(values, Fraction(95, 100)) if values else None
        out.append(DayPoint(day.date, day_stats, median, p95))
    return tuple(out)
