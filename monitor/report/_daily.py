"""A page's stats per local day of a period, each day from the cheapest exact source: its daily
rollup, hourly rollups, or raw checks (for hours not final yet, or everything with rollups off).
A page's total over the period sums whole final months from the monthly rollup and other final
days from the daily rollup, in SQL for all pages at once (`totals`): a year reads 12 rows a page.

Sources agree to the millisecond because rollups and raw both come from `timeline.bucket_stats`.
Reads only; private to `monitor.report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from monitor.rules import HOUR_MS, Span, Stats, bucket_stats, hour_ceil, hour_floor, total
from monitor.store import History, RollupMark


@dataclass(frozen=True)
class Day:
    """One local date of a period and its part [start_ms, end_ms) inside the (clipped) period."""

    date: date
    start_ms: int
    end_ms: int
    full: bool


@dataclass(frozen=True)
class _Plan:
    """Where one day's stats come from: its daily row, or hourly rows plus raw pieces."""

    daily: bool
    hourly: Span | None
    raw: tuple[Span, ...]


@dataclass(frozen=True)
class _Cover:
    """How a page's period total is read: runs of whole final months (monthly rows), runs of
    other final days (daily rows), each (first, last, length_ms), and the days computed apart."""

    months: tuple[tuple[str, str, int], ...]
    days: tuple[tuple[str, str, int], ...]
    rest: tuple[Day, ...]


class DayStats:
    """Per-day stats of pages, reading `history` (rollups unless `marks` is empty)."""

    def __init__(self, history: History, marks: dict[int, RollupMark], timezone: str, now_ms: int) -> None:
        self._history = history
        self._marks = marks
        self._timezone = timezone
        self._now_ms = now_ms
        self._runs = history.runs()
        self._monthly = bool(marks) and history.has_monthly()
        self._sums: dict[tuple[str, str, str, str | None], dict[int, tuple[Stats, int]]] = {}
        self._plan_cache: dict[tuple[RollupMark | None, tuple[int, ...], int], list[_Plan]] = {}

    def totals(self, page_ids: Sequence[int], days: Sequence[Day], kind: str | None = None) -> dict[int, Stats]:
        """Each page's stats over `days`, equal to the total of `page` (exact): whole final
        months and final days from SQL sums over all pages (of `kind` when every page asked for
        is of it; cached by span, so pages sharing a watermark share the queries), the rest day
        by day."""
        covers: dict[RollupMark | None, _Cover] = {}
        out = {}
        for page_id in page_ids:
            mark = self._marks.get(page_id)
            if mark not in covers:
                covers[mark] = _cover(days, mark, self._timezone, monthly=self._monthly)
            cover = covers[mark]
            parts = [self._sum(page_id, "rollup_monthly", run, kind) for run in cover.months]
            parts += [self._sum(page_id, "rollup_daily", run, kind) for run in cover.days]
            if cover.rest:
                parts += self.page(page_id, cover.rest)
            out[page_id] = total(parts)
        return out

    def _sum(self, page_id: int, table: str, run: tuple[str, str, int], kind: str | None) -> Stats:
        first, last, length = run
        key = (table, first, last, kind)
        if key not in self._sums:
            self._sums[key] = self._history.sums(table, first, last, kind)
        stats, covered = self._sums[key].get(page_id, (Stats(), 0))
        return replace(stats, unknown_ms=stats.unknown_ms + length - covered)

    def quantiles(self, page_id: int, days: Sequence[Day]) -> dict[date, tuple[int | None, int | None]]:
        """Latency (median, p95) of the days read from daily rows (a final day without a row
        observed nothing: no figures); days not listed need raw checks."""
        mark = self._marks.get(page_id)
        if not self._monthly or mark is None:
            return {}
        final = [day.date for day, plan in zip(days, self._plans(mark, days), strict=True) if plan.daily]
        if not final:
            return {}
        stored = self._history.daily_quantiles(page_id, final[0], final[-1])
        return {day: stored.get(day, (None, None)) for day in final}

    def _plans(self, mark: RollupMark | None, days: Sequence[Day]) -> list[_Plan]:
        """Each day's plan, shared by the pages with the same watermark (a national report has
        thousands of homepages and a handful of distinct watermarks)."""
        key = (mark, tuple(day.start_ms for day in days), days[-1].end_ms if days else 0)
        if key not in self._plan_cache:
            self._plan_cache[key] = [_plan(day, mark, self._timezone) for day in days]
        return self._plan_cache[key]

    def page(self, page_id: int, days: Sequence[Day]) -> list[Stats]:
        mark = self._marks.get(page_id)
        plans = self._plans(mark, days)
        daily = self._history.daily(page_id, days[0].date, days[-1].date) if any(p.daily for p in plans) else {}
        raw = self._raw(page_id, [span for plan in plans for span in plan.raw])
        out = []
        for day, plan in zip(days, plans, strict=True):
            if plan.daily:
                out.append(daily.get(day.date) or Stats(unknown_ms=day.end_ms - day.start_ms))
                continue
            stats = self._history.hourly(page_id, *plan.hourly) if plan.hourly else Stats()
            for span in plan.raw:
                stats = stats + raw[span]
            out.append(stats)
        return out

    def outage_down(self, page_id: int, spans: Sequence[Span], outages: Sequence[Span]) -> list[int]:
        """Observed down milliseconds inside each span (pieces of the page's `outages`, which are
        all of its outages touching the spans' hours): the unobserved part of an outage (monitor
        stopped, long gaps, its own errors) is unknown, never downtime.

        A final hour is taken from its hourly row when all its down time belongs to the span (the
        span covers the hour, or no other outage touches it), so pruned raw checks do not matter;
        every other piece comes from raw checks. Both are exact."""
        mark = self._marks.get(page_id)
        final_until = mark.hourly_until_ms if mark else 0
        rows = self._hourly_rows(page_id, spans, final_until)
        raw_pieces: list[Span] = []
        plans: list[tuple[int, list[Span]]] = []
        for start, end in spans:
            from_rows, raw = 0, []
            for piece in _hour_pieces(start, end):
                hour = hour_floor(piece[0])
                if hour in rows and hour + HOUR_MS <= final_until and _owns(piece, hour, outages):
                    from_rows += rows[hour]
                elif hour + HOUR_MS <= final_until and hour not in rows:
                    continue  # a final hour without a row: nothing observed
                else:
                    raw.append(piece)
            plans.append((from_rows, raw))
            raw_pieces += raw
        stats = self._raw(page_id, sorted(set(raw_pieces)))
        return [from_rows + sum(stats[p].down_ms for p in raw) for from_rows, raw in plans]

    def _hourly_rows(self, page_id: int, spans: Sequence[Span], final_until: int) -> dict[int, int]:
        """The hourly rows of the hours the spans touch (each span's own hours, not every hour
        between the first and the last: a page's few outages of a year are a few hours in 8,760)."""
        rows: dict[int, int] = {}
        if final_until <= 0:
            return rows
        for start, end in spans:
            first, last = hour_floor(start), min(hour_ceil(end), final_until)
            if first < last:
                rows.update(self._history.hourly_down(page_id, first, last))
        return rows

    def _raw(self, page_id: int, spans: list[Span]) -> dict[Span, Stats]:
        """Stats of each raw span, reading each run of touching spans in one pass."""
        found: dict[Span, Stats] = {}
        for cluster in _clusters(sorted(spans)):
            bounds = [cluster[0][0], *(end for _, end in cluster)]
            history = self._history.page(page_id, bounds[0], bounds[-1], self._now_ms, self._runs)
            found.update(zip(cluster, bucket_stats(history, bounds), strict=True))
        return found


def _plan(day: Day, mark: RollupMark | None, timezone: str) -> _Plan:
    whole = (day.start_ms, day.end_ms)
    if mark is None:
        return _Plan(False, None, (whole,))
    aligned = day.start_ms % HOUR_MS == 0 and day.end_ms % HOUR_MS == 0
    if day.full and aligned and mark.tz == timezone and mark.daily_until is not None and day.date < mark.daily_until:
        return _Plan(True, None, ())
    start, end = hour_ceil(day.start_ms), hour_floor(min(day.end_ms, mark.hourly_until_ms))
    if start >= end:
        return _Plan(False, None, (whole,))
    raw = tuple(s for s in ((day.start_ms, start), (end, day.end_ms)) if s[0] < s[1])
    return _Plan(False, (start, end), raw)


def _hour_pieces(start: int, end: int) -> list[Span]:
    """[start, end) cut at hour boundaries."""
    pieces, cursor = [], start
    while cursor < end:
        cut = min(hour_floor(cursor) + HOUR_MS, end)
        pieces.append((cursor, cut))
        cursor = cut
    return pieces


def _owns(piece: Span, hour: int, outages: Sequence[Span]) -> bool:
    """Whether all down time of the hour lies in `piece` (down time exists only inside outages):
    the piece is the whole hour, or the only outage touching the hour meets it exactly there."""
    end = hour + HOUR_MS
    if piece == (hour, end):
        return True
    touching = [(max(s, hour), min(e, end)) for s, e in outages if s < end and e > hour]
    return touching == [piece]


def _clusters(spans: list[Span]) -> list[list[Span]]:
    clusters: list[list[Span]] = []
    for span in spans:
        if clusters and clusters[-1][-1][1] == span[0]:
            clusters[-1].append(span)
        else:
            clusters.append([span])
    return clusters


def _cover(days: Sequence[Day], mark: RollupMark | None, timezone: str, *, monthly: bool) -> _Cover:
    """Split the period's days for a page with this watermark: whole months all of whose days
    come from daily rows (when the database has monthly rows), other such days, and the rest."""
    daily = [day for day in days if _plan(day, mark, timezone).daily] if mark is not None else []
    whole = {d.date for d in daily}
    months: list[list[Day]] = []
    singles: list[list[Day]] = []
    for day in daily:
        first = day.date.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        in_month = monthly and all(first + timedelta(days=i) in whole for i in range((following - first).days))
        groups = months if in_month else singles
        previous = groups[-1][-1].date if groups else None
        if previous is not None and previous + timedelta(days=1) == day.date:
            groups[-1].append(day)
        else:
            groups.append([day])
    rest = tuple(day for day in days if day.date not in whole)
    return _Cover(
        tuple((g[0].date.isoformat()[:7], g[-1].date.isoformat()[:7], _length(g)) for g in months),
        tuple((g[0].date.isoformat(), g[-1].date.isoformat(), _length(g)) for g in singles),
        rest,
    )


def _length(days: Sequence[Day]) -> int:
    return sum(day.end_ms - day.start_ms for day in days)
