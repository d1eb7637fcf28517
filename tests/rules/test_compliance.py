"""compliance.py: V1–V3 thresholds and early warnings, hand-computed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.models import Category
from monitor.rules._compliance import V1_WINDOW_S, V1Window, VerdictState, v1, v1_facts, v2, v3, v3_facts
from monitor.rules._freshness import Rule, evaluate

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=TZ).timestamp()


def checks(total: int, failed: int, per_day: int = 144) -> list[tuple[float, bool]]:
    """`total` homepage checks spread backwards from NOW, the first `failed` of them failed."""
    step = 86400 / per_day
    return [(NOW - i * step, i < failed) for i in range(total)]


@pytest.mark.parametrize(
    ("failed", "veto", "warning"),
    [(0, False, False), (29, False, False), (31, False, True), (50, False, True), (51, True, True)],
)
def test_v1_thresholds(failed: int, veto: bool, warning: bool) -> None:
    facts = v1_facts(checks(1008, failed), NOW, TZ)
    assert facts.checks == 1008
    verdict = v1(facts)
    assert (verdict.veto, verdict.warning) == (veto, warning)


def test_v1_counts_days_under_20_checks_in_local_time() -> None:
    facts = v1_facts(checks(7 * 24, 0, per_day=24), NOW, TZ)
    assert [n for _, n in facts.per_day] == [24] * 6 + [13]  # today (27th) has run 13 hours
    assert facts.per_day[0][0] == date(2026, 11, 21)
    # The evidence rule counts 24 hours back from now: today's 13 hours are not a short day.
    assert facts.per_24h == (23, 24, 24, 24, 24, 24, 25) and facts.low_visit_days == 0 and facts.sufficient
    late = datetime(2026, 11, 26, 23, 59, tzinfo=ZoneInfo("UTC")).timestamp()  # 07:59 on the 27th in Shanghai
    assert v1_facts([(late, False)], NOW, TZ).per_day[-1] == (date(2026, 11, 27), 1)


def test_v1_window_keeps_checks_in_time_order_and_forgets_those_older_than_7_days() -> None:
    window = V1Window([(100.0, False), (50.0, True)])
    window.add(300.0, True)
    window.add(200.0, False)  # finished after the later one started
    assert list(window) == [(50.0, True), (100.0, False), (200.0, False), (300.0, True)]
    copy = window.copy()
    window.add(100.0 + V1_WINDOW_S, False)  # 50 falls out: older than 7 days before the newest
    assert list(window) == [(100.0, False), (200.0, False), (300.0, True), (100.0 + V1_WINDOW_S, False)]
    assert len(copy) == 4 and next(iter(copy)) == (50.0, True)  # a copy does not move with the original
    facts = v1_facts(window, 100.0 + V1_WINDOW_S, TZ)
    assert (facts.checks, facts.failed) == (4, 1)


def test_v1_without_checks_is_unknown_not_fine() -> None:
    verdict = v1(v1_facts([], NOW, TZ))
    assert not verdict.known and not verdict.veto
    assert verdict.state is VerdictState.INSUFFICIENT_DATA


def test_thin_v1_data_is_insufficient_never_a_veto() -> None:
    # One good and one failed visit after install: 50% failed, but two visits are no evidence.
    thin = v1(v1_facts([(NOW - 600, False), (NOW, True)], NOW, TZ))
    assert thin.state is VerdictState.INSUFFICIENT_DATA and not thin.veto and not thin.warning
    assert "1/2 homepage visits failed in 7 days (50.0%) so far" in thin.detail
    # Six days and 145 minutes of visits every 10 minutes, all failed: the oldest 24 hours hold
    # only 9 visits (i = 865..873 of 874), so there are not yet 7 days of evidence.
    almost = v1(v1_facts(checks(874, 874), NOW, TZ))
    assert almost.state is VerdictState.INSUFFICIENT_DATA and "1 of the last 7 days under 20" in almost.detail
    # One 24 hours of the week with only 19 visits (a long monitor stop) withholds the verdict too.
    gap = [(ts, f) for ts, f in checks(1008, 60) if not NOW - 3 * 86400 < ts < NOW - 2 * 86400 - 18 * 600]
    assert v1_facts(gap, NOW, TZ).low_visit_days == 1 and not v1(v1_facts(gap, NOW, TZ)).known
    # The seventh day with 20 visits: the verdict is given (here a veto, 51/1008 >= 5%).
    assert v1(v1_facts(checks(1008, 51), NOW, TZ)).state is VerdictState.VETO


def test_v3_needs_a_column_read() -> None:
    unread = fresh(None, readable=None)
    assert v3(v3_facts([unread] * 4)).state is VerdictState.INSUFFICIENT_DATA
    judged = v3(v3_facts([unread] * 3 + [fresh(1)]))
    assert judged.state is VerdictState.OK and "(3 not read yet)" in judged.detail
    assert v3(v3_facts([])).state is VerdictState.INSUFFICIENT_DATA


def fresh(age: int | None, category: Category = Category.NEWS, count: int = 5, readable: bool | None = True):  # type: ignore[no-untyped-def]
    newest = date.fromordinal(date(2026, 11, 27).toordinal() - age) if age is not None else None
    return evaluate(
        Rule(category, {Category.NEWS: 14}.get(category, 180)),
        newest=newest,
        item_count=count,
        readable=readable,
        today=date(2026, 11, 27),
    )


@pytest.mark.parametrize(
    ("age", "veto", "warning"),
    [(3, False, False), (10, False, True), (14, False, True), (15, True, True), (None, True, True)],
)
def test_v2(age: int | None, veto: bool, warning: bool) -> None:
    verdict = v2(fresh(age))
    assert (verdict.veto, verdict.warning) == (veto, warning)


def test_v2_unknown_when_unreadable() -> None:
    assert not v2(fresh(None, readable=False)).known
    assert not v2(None).known


@pytest.mark.parametrize(
    ("columns", "veto", "warning"),
    [
        ([fresh(1)] * 20, False, False),
        ([fresh(20)] * 2 + [fresh(1)] * 10, False, False),
        ([fresh(20)] * 3, False, True),  # 3 key columns stale: early warning
        ([fresh(20)] * 5, True, True),  # 5 stale news columns: veto
        ([fresh(400, Category.PLAN)] * 7, False, True),  # > 6 stale of any kind: warning
        ([fresh(400, Category.PLAN)] * 10, True, True),  # 10 stale of any kind: veto
        ([fresh(None, count=0)] * 3, False, True),  # > 2 blank: warning
        ([fresh(None, count=0)] * 5, True, True),  # 5 blank: veto
        ([fresh(None, readable=False)] * 9, False, False),  # unreadable is neither
    ],
)
def test_v3(columns: list, veto: bool, warning: bool) -> None:  # type: ignore[type-arg]
    verdict = v3(v3_facts(columns))
    assert (verdict.veto, verdict.warning) == (veto, warning)


def _v1_facts_one_by_one(checks: list[tuple[float, bool]], now: float, tz: ZoneInfo) -> tuple[object, ...]:
    """The plain definition, one visit at a time (what v1_facts computed before it bisected)."""
    since = now - V1_WINDOW_S
    total = failed = 0
    per_day: dict[date, int] = {}
    per_24h = [0] * 7
    for ts, is_failed in checks:
        if since <= ts <= now:
            total += 1
            failed += int(is_failed)
            day = datetime.fromtimestamp(ts, tz).date()
            per_day[day] = per_day.get(day, 0) + 1
            per_24h[min(6, int((ts - since) // 86400))] += 1
    today = datetime.fromtimestamp(now, tz).date()
    days = [date.fromordinal(today.toordinal() - i) for i in range(6, -1, -1)]
    return total, failed, tuple((d, per_day.get(d, 0)) for d in days), tuple(per_24h)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/Sao_Paulo"])
def test_v1_facts_bisected_equal_the_plain_definition(zone: str) -> None:
    """v1_facts counts by bisecting the window (a scrape at 1,000 homepages judges ~1 million
    visits); it must give exactly what counting visit by visit gives, edges and DST days included."""
    import random

    tz = ZoneInfo(zone)
    rng = random.Random(16)
    for now in (
        datetime(2026, 3, 30, 0, 0, tzinfo=tz).timestamp(),
        datetime(2026, 10, 26, 12, 0, tzinfo=tz).timestamp(),
    ):
        since = now - V1_WINDOW_S
        edges = [since, now, since + 86400, now - 86400, since - 1, now + 1]
        today = datetime.fromtimestamp(now, tz).date()
        midnights = [date.fromordinal(today.toordinal() - i) for i in range(8)]
        edges += [datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() for d in midnights]
        checks = [(rng.uniform(since - 86400, now + 3600), rng.random() < 0.1) for _ in range(3000)]
        checks += [(ts, True) for ts in edges]
        got = v1_facts(V1Window(checks), now, tz)
        assert (got.checks, got.failed, got.per_day, got.per_24h) == _v1_facts_one_by_one(checks, now, tz)
        assert v1_facts(checks, now, tz) == got


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
def test_v1_facts_until_is_exact(zone: str) -> None:
    """v1_facts_until: the facts stay the same from now until just before the answer (checked at
    many moments in between), and differ just after it: an edge passed a visit, a visit started,
    or the local date changed. The metrics reuse V1's facts on this promise (issue 16)."""
    import random

    from monitor.rules._compliance import V1_UNTIL_MARGIN_S, v1_facts_until

    tz = ZoneInfo(zone)
    rng = random.Random(1616)
    start = datetime(2026, 3, 28, 20, 0, tzinfo=tz).timestamp()  # the spring DST change falls in
    visits = [(start - V1_WINDOW_S + i * 600 + rng.uniform(0, 30), rng.random() < 0.1) for i in range(1100)]
    window = V1Window(visits)
    now, seen = start, 0
    while now < start + 2 * 86400:
        until = v1_facts_until(window, now, tz)
        assert until > now
        facts = v1_facts(window, now, tz)
        for t in (now, (now + until) / 2, until - 1e-6, *(rng.uniform(now, until) for _ in range(3))):
            assert v1_facts(window, t, tz) == facts, (now, t, until)
        assert v1_facts(window, until + 2 * V1_UNTIL_MARGIN_S, tz) != facts
        now, seen = until + 2 * V1_UNTIL_MARGIN_S, seen + 1
    assert seen > 400  # every ten minutes at least one edge passes a visit
    assert v1_facts_until(V1Window(), start, tz) == pytest.approx(
        datetime(2026, 3, 29, 0, 0, tzinfo=tz).timestamp() - V1_UNTIL_MARGIN_S
    )
