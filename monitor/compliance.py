"""The national inspection rules V1–V3 (国办秘函〔2019〕19号) over stored facts; pure.

V1 homepage unreachable (count-based, 7 days), V2 homepage not updated, V3 columns not updated
or blank — each with its veto threshold and the early-warning level. No I/O, no clock.
"""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.freshness import KEY_CATEGORIES, Freshness
from monitor.percent import pct, ratio_of

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

    def __iter__(self) -> Iterator[tuple[float, bool]]:
        return ((ts, bool(failed)) for ts, failed in zip(self._ts, self._failed, strict=True))


@dataclass(frozen=True)
class Verdict:
    """One rule's outcome for one site."""

    rule: str
    veto: bool
    warning: bool
    detail: str
    known: bool = True


@dataclass(frozen=True)
class V1Facts:
    """The homepage's availability over the last 7 days, by count of scheduled checks."""

    checks: int
    failed: int
    per_day: tuple[tuple[date, int], ...]

    @property
    def ratio(self) -> float | None:
        return self.failed / self.checks if self.checks else None

    @property
    def insufficient_days(self) -> int:
        return sum(1 for _, n in self.per_day if n < V1_MIN_DAILY_CHECKS)


@dataclass(frozen=True)
class V3Facts:
    stale: int
    stale_key: int
    blank: int
    unreadable: int
    columns: int


def v1_facts(checks: Iterable[tuple[float, bool]], now: float, tz: ZoneInfo) -> V1Facts:
    """(ts, failed) of homepage checks -> counts over [now - 7 d, now] with checks per local day."""
    since = now - V1_WINDOW_S
    total = failed = 0
    per_day: Counter[date] = Counter()
    for ts, is_failed in checks:
        if since <= ts <= now:
            total += 1
            failed += int(is_failed)
            per_day[datetime.fromtimestamp(ts, tz).date()] += 1
    today = datetime.fromtimestamp(now, tz).date()
    days = [today - timedelta(days=i) for i in range(6, -1, -1)]
    return V1Facts(total, failed, tuple((d, per_day.get(d, 0)) for d in days))


def v1(facts: V1Facts) -> Verdict:
    ratio = facts.ratio
    if ratio is None:
        return Verdict("V1", False, False, "no homepage checks in the last 7 days", known=False)
    shown = pct(ratio_of(facts.failed, facts.checks), 1)  # rounded down: 4.96% is not 5.0%
    detail = (
        f"{facts.failed}/{facts.checks} homepage checks failed in 7 days ({shown}); "
        f"{facts.insufficient_days} day(s) under {V1_MIN_DAILY_CHECKS} checks"
    )
    return Verdict("V1", ratio >= V1_VETO_RATIO, ratio >= V1_WARN_RATIO, detail)


def v2(homepage: Freshness | None) -> Verdict:
    if homepage is None or not homepage.checked or homepage.unreadable:
        return Verdict("V2", False, False, "homepage items not read yet", known=False)
    if homepage.newest is None or homepage.age_days is None:
        return Verdict("V2", True, True, "no dated item on the homepage")
    age = homepage.age_days
    detail = f"newest homepage item {homepage.newest.isoformat()} ({age} days ago)"
    return Verdict("V2", age > V2_VETO_DAYS, age >= V2_WARN_DAYS, detail)


def v3_facts(columns: Sequence[Freshness]) -> V3Facts:
    stale = [c for c in columns if c.stale]
    return V3Facts(
        stale=len(stale),
        stale_key=sum(1 for c in stale if c.rule.category in KEY_CATEGORIES),
        blank=sum(1 for c in columns if c.blank),
        unreadable=sum(1 for c in columns if c.unreadable),
        columns=len(columns),
    )


def v3(facts: V3Facts) -> Verdict:
    veto = facts.stale_key >= V3_KEY_STALE_VETO or facts.stale >= V3_ANY_STALE_VETO or facts.blank >= V3_BLANK_VETO
    warning = veto or facts.stale > V3_STALE_WARN or facts.stale_key >= V3_KEY_STALE_WARN or facts.blank > V3_BLANK_WARN
    detail = (
        f"{facts.stale} stale column(s) ({facts.stale_key} news/notice/policy), {facts.blank} blank, "
        f"{facts.unreadable} unreadable, of {facts.columns}"
    )
    return Verdict("V3", veto, warning, detail, known=facts.columns > 0)


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
    facts1 = v1_facts(homepage_checks, now, tz)
    facts3 = v3_facts([f for _, f in columns])
    return SiteAssessment(tuple(columns), homepage, facts1, facts3, (v1(facts1), v2(homepage), v3(facts3)))
