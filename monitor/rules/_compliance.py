"""The national inspection rules V1–V3 (国办秘函〔2019〕19号) over stored facts; pure.

V1 homepage unreachable (count-based, 7 days), V2 homepage not updated, V3 columns not updated
or blank — each with its veto threshold and the early-warning level. No I/O, no clock.

A verdict needs the rule's evidence; until then its state is `insufficient_data`, never a veto.
V1 needs 7 days of visits, each 24 hours (counted back from now) holding at least 20; V2 is judged
from the homepage's item dates as soon as the homepage has been read once; V3 as soon as at least
one column has been read (columns not read yet are named in the detail).
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from monitor.percent import pct, ratio_of
from monitor.rules._freshness import KEY_CATEGORIES, Freshness

V1_WINDOW_S = 7 * 86400
V1_VETO_RATIO = 0.05
V1_WARN_RATIO = 0.03
V1_MIN_DAILY_CHECKS = 20
V2_VETO_DAYS = 14
V2_WARN_DAYS = 10
V3_KEY_STALE_VETO = 5
V3_ANY_STALE_VETO = 10
V3_BLANK_VETO = 5
V3_STALE_WARN = 6
V3_KEY_STALE_WARN = 3
V3_BLANK_WARN = 2


class V1Window:
    """Homepage checks (start, failed) of the last 7 days, oldest first, in two arrays: 9 bytes a
    check instead of a tuple each (~100 bytes), so a short homepage interval costs little memory.
    Not thread-safe: its owner locks."""

    def __init__(self, checks: Iterable[tuple[float, bool]] = ()) -> None:
        ordered = sorted(checks)
        self._ts = array("d", [ts for ts, _ in ordered])
        self._failed = array("b", [int(failed) for _, failed in ordered])

    def add(self, ts: float, failed: bool) -> None:
        """Insert in time order (checks finish out of order), then forget those older than the window
        counted back from the newest."""
        at = bisect.bisect_right(self._ts, ts)
        self._ts.insert(at, ts)
        self._failed.insert(at, int(failed))
        old = bisect.bisect_left(self._ts, self._ts[-1] - V1_WINDOW_S)
        if old:
            del self._ts[:old]
            del self._failed[:old]

    def copy(self) -> V1Window:
        window = V1Window()
        window._ts, window._failed = array("d", self._ts), array("b", self._failed)
        return window

    def __len__(self) -> int:
        return len(self._ts)

    def count(self, low: float, high: float, *, upper: bool = True) -> tuple[int, int]:
        """(checks, failed) started in [low, high] (`upper`) or [low, high)."""
        a = bisect.bisect_left(self._ts, low)
        b = bisect.bisect_right(self._ts, high) if upper else bisect.bisect_left(self._ts, high)
        return (b - a, sum(self._failed[a:b])) if b > a else (0, 0)

    def __iter__(self) -> Iterator[tuple[float, bool]]:
        return ((ts, bool(failed)) for ts, failed in zip(self._ts, self._failed, strict=True))

    def first_from(self, low: float, *, inclusive: bool = True) -> float | None:
        """Start of the earliest check at or after `low` (after it, when not `inclusive`); None: none."""
        at = bisect.bisect_left(self._ts, low) if inclusive else bisect.bisect_right(self._ts, low)
        return self._ts[at] if at < len(self._ts) else None


class VerdictState(StrEnum):
    """A rule's state for a site (stable strings: status --json, docs)."""

    OK = "ok"
    WARNING = "warning"
    VETO = "veto"
    INSUFFICIENT_DATA = "insufficient_data"


@dataclass(frozen=True)
class Verdict:
    """One rule's outcome for one site: its state and a line saying why (with the partial
    figures while the evidence is insufficient)."""

    rule: str
    state: VerdictState
    detail: str

    @property
    def veto(self) -> bool:
        return self.state is VerdictState.VETO

    @property
    def warning(self) -> bool:
        """The early-warning level is reached (a veto is past it too)."""
        return self.state in (VerdictState.WARNING, VerdictState.VETO)

    @property
    def known(self) -> bool:
        """The rule has the evidence it needs for a verdict."""
        return self.state is not VerdictState.INSUFFICIENT_DATA


def _judged(rule: str, veto: bool, warning: bool, detail: str) -> Verdict:
    state = VerdictState.VETO if veto else VerdictState.WARNING if warning else VerdictState.OK
    return Verdict(rule, state, detail)


@dataclass(frozen=True)
class V1Facts:
    """The homepage's availability over the last 7 days, by count of visits (retries excluded).

    `per_day` counts visits per local date (today so far last) for display; `per_24h` per 24 hours
    counted back from now (oldest first), which is what the evidence rule judges: a day just begun
    is not a day short of visits."""

    checks: int
    failed: int
    per_day: tuple[tuple[date, int], ...]
    per_24h: tuple[int, ...] = ()

    @property
    def ratio(self) -> float | None:
        return self.failed / self.checks if self.checks else None

    @property
    def low_visit_days(self) -> int:
        """Of the last 7 x 24 hours, how many hold fewer than 20 visits."""
        return sum(1 for n in self.per_24h if n < V1_MIN_DAILY_CHECKS)

    @property
    def sufficient(self) -> bool:
        """7 days of evidence: each of the last 7 x 24 hours holds at least 20 visits."""
        return len(self.per_24h) == 7 and self.low_visit_days == 0


@dataclass(frozen=True)
class V3Facts:
    stale: int
    stale_key: int
    blank: int
    unreadable: int
    columns: int
    unread: int = 0
    """Columns never checked yet (no verdict of their own)."""


def v1_facts(checks: Iterable[tuple[float, bool]], now: float, tz: ZoneInfo) -> V1Facts:
    """(ts, failed) of homepage visits -> counts over [now - 7 d, now], per local day and per 24 h.

    Counted by bisecting the time-ordered window at the bucket edges rather than one visit at a
    time: a province's 1,000 homepages hold ~1 million visits, judged at every scrape."""
    window = checks if isinstance(checks, V1Window) else V1Window(checks)
    since = now - V1_WINDOW_S
    total, failed = window.count(since, now)
    per_24h = [window.count(since + k * 86400, since + (k + 1) * 86400, upper=False)[0] for k in range(6)]
    per_24h.append(window.count(since + 6 * 86400, now)[0])
    today = datetime.fromtimestamp(now, tz).date()
    days = [today - timedelta(days=i) for i in range(6, -1, -1)]
    starts = [max(since, datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()) for d in days]
    per_day = [window.count(lo, hi, upper=False)[0] for lo, hi in pairwise(starts)]
    per_day.append(window.count(starts[-1], now)[0])
    return V1Facts(total, failed, tuple(zip(days, per_day, strict=True)), tuple(per_24h))


V1_UNTIL_MARGIN_S = 0.001
"""`v1_facts_until` answers this much early: float rounding of the moving bucket edges never
makes a cached verdict outlive the one computed afresh."""


def v1_facts_until(window: V1Window, now: float, tz: ZoneInfo) -> float:
    """Until when (exclusive) `v1_facts(window, t, tz)` stays what it is at `now`, for t >= now, as
    long as no check is added: the first moment a bucket edge moving with the clock (7 days back,
    each 24 hours after it, now) passes a check, or the local date changes (the per-day buckets).

    Lets the metrics judge V1 once per change rather than at every scrape (issue 16)."""
    tomorrow = datetime.fromtimestamp(now, tz).date() + timedelta(days=1)
    until = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=tz).timestamp()
    since = now - V1_WINDOW_S
    for k in range(7):
        edge = since + k * 86400
        first = window.first_from(edge)
        if first is not None:
            until = min(until, now + (first - edge))  # later, the edge has passed it
    ahead = window.first_from(now, inclusive=False)
    if ahead is not None:
        until = min(until, ahead)  # from then on, it is counted
    return until - V1_UNTIL_MARGIN_S


def v1(facts: V1Facts) -> Verdict:
    """Veto from 5% failed visits, warning from 3% — once 7 days hold 20 visits each."""
    ratio = facts.ratio
    if ratio is None:
        return Verdict("V1", VerdictState.INSUFFICIENT_DATA, "no homepage visits in the last 7 days")
    shown = pct(ratio_of(facts.failed, facts.checks), 1)  # rounded down: 4.96% is not 5.0%
    detail = f"{facts.failed}/{facts.checks} homepage visits failed in 7 days ({shown})"
    if not facts.sufficient:
        return Verdict(
            "V1",
            VerdictState.INSUFFICIENT_DATA,
            f"{detail} so far; {facts.low_visit_days} of the last 7 days under {V1_MIN_DAILY_CHECKS} visits"
            " (a verdict needs 7 days of evidence)",
        )
    return _judged("V1", ratio >= V1_VETO_RATIO, ratio >= V1_WARN_RATIO, detail)


def v2(homepage: Freshness | None) -> Verdict:
    """Judged at once from the homepage's item dates; insufficient only until it has been read."""
    if homepage is None or not homepage.checked or homepage.unreadable:
        return Verdict("V2", VerdictState.INSUFFICIENT_DATA, "homepage items not read yet")
    if homepage.newest is None or homepage.age_days is None:
        return Verdict("V2", VerdictState.VETO, "no dated item on the homepage")
    age = homepage.age_days
    detail = f"newest homepage item {homepage.newest.isoformat()} ({age} days ago)"
    return _judged("V2", age > V2_VETO_DAYS, age >= V2_WARN_DAYS, detail)


def v3_facts(columns: Sequence[Freshness]) -> V3Facts:
    stale = [c for c in columns if c.stale]
    return V3Facts(
        stale=len(stale),
        stale_key=sum(1 for c in stale if c.rule.category in KEY_CATEGORIES),
        blank=sum(1 for c in columns if c.blank),
        unreadable=sum(1 for c in columns if c.unreadable),
        columns=len(columns),
        unread=sum(1 for c in columns if not c.checked),
    )


def v3(facts: V3Facts) -> Verdict:
    """Judged from the columns' item dates once at least one column has been read."""
    veto = facts.stale_key >= V3_KEY_STALE_VETO or facts.stale >= V3_ANY_STALE_VETO or facts.blank >= V3_BLANK_VETO
    warning = veto or facts.stale > V3_STALE_WARN or facts.stale_key >= V3_KEY_STALE_WARN or facts.blank > V3_BLANK_WARN
    detail = (
        f"{facts.stale} stale column(s) ({facts.stale_key} news/notice/policy), {facts.blank} blank, "
        f"{facts.unreadable} unreadable, of {facts.columns}"
    )
    if facts.unread:
        detail += f" ({facts.unread} not read yet)"
    if facts.columns == facts.unread:
        return Verdict("V3", VerdictState.INSUFFICIENT_DATA, detail)
    return _judged("V3", veto, warning, detail)


@dataclass(frozen=True)
class SiteAssessment:
    """Everything the status command and the metrics say about one site at one moment."""

    columns: tuple[tuple[str, Freshness], ...]
    homepage: Freshness | None
    v1_facts: V1Facts
    v3_facts: V3Facts
    verdicts: tuple[Verdict, Verdict, Verdict]


def assess_site(
    columns: Sequence[tuple[str, Freshness]],
    homepage: Freshness | None,
    homepage_checks: Iterable[tuple[float, bool]],
    now: float,
    tz: ZoneInfo,
) -> SiteAssessment:
    """Apply V1–V3 to one site's facts: column verdicts, homepage verdict, homepage checks."""
    return judge_site(columns, homepage, v1_facts(homepage_checks, now, tz))


def judge_site(columns: Sequence[tuple[str, Freshness]], homepage: Freshness | None, facts1: V1Facts) -> SiteAssessment:
    """`assess_site` with rule V1's facts already counted (the metrics keep them between scrapes)."""
    facts3 = v3_facts([f for _, f in columns])
    return SiteAssessment(tuple(columns), homepage, facts1, facts3, (v1(facts1), v2(homepage), v3(facts3)))
