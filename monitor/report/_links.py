"""The link section of a report (链接可用性): homepage broken links per day (average and maximum
over the period's days with a pass), the last sweep's totals by class and type, links fixed in the
period; its renderings (text rows, JSON, CSV cells, the zh sentence). Reads the store only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from monitor.report._daily import Day
from monitor.store import LinkPassRow, Store

HOMEPAGE, SWEEP = "homepage", "sweep"
TYPES_ZH = {"page": "页面", "image": "图片", "attachment": "附件", "other": "其他"}
CSV_LINK_COLUMNS = ("links_homepage_broken_avg", "links_homepage_broken_max", "links_sweep_broken", "links_fixed")
"""Appended to the report's CSV columns; filled on the homepage row of each site."""


@dataclass(frozen=True)
class SweepTotals:
    """The last complete sweep ended before the period's end: distinct links by class and type."""

    started: float
    ended: float
    pages_read: int
    links: int
    by_class: dict[str, int]
    broken_by_type: dict[str, int]
    budget_hit: bool


@dataclass(frozen=True)
class LinkReport:
    """A site's link availability over a period (None on the site when it has no pass at all)."""

    days_with_pass: int
    homepage_broken_avg: Fraction | None
    homepage_broken_max: int | None
    max_day: date | None
    sweep: SweepTotals | None
    fixed: int
    last_homepage: LinkPassRow | None = None
    """The period's last complete homepage pass (the digest's line; not in the JSON)."""


def link_report(store: Store, site: str, days: list[Day]) -> LinkReport | None:
    """The link section for `site` over `days` (the period's local days), or None without passes."""
    if not days:
        return None
    queries = store.links()
    start, end = days[0].start_ms / 1000, days[-1].end_ms / 1000
    homepage = [p for p in queries.passes(site, HOMEPAGE, since=start, until=end) if p.completed]
    sweep = _last_sweep(store, site, end)
    if not homepage and sweep is None and not queries.passes(site, HOMEPAGE, until=end):
        return None
    per_day = _broken_per_day(homepage, days)
    worst = max(per_day.items(), key=lambda kv: (kv[1], kv[0]), default=None)
    return LinkReport(
        days_with_pass=len(per_day),
        homepage_broken_avg=Fraction(sum(per_day.values()), len(per_day)) if per_day else None,
        homepage_broken_max=worst[1] if worst else None,
        max_day=worst[0] if worst else None,
        sweep=sweep,
        fixed=queries.fixed(site, start, end),
        last_homepage=homepage[-1] if homepage else None,
    )


def _broken_per_day(passes: list[LinkPassRow], days: list[Day]) -> dict[date, int]:
    """Broken links of each day's last complete homepage pass."""
    out: dict[date, int] = {}
    for day in days:
        inside = [p for p in passes if day.start_ms <= p.started * 1000 < day.end_ms]
        if inside:
            out[day.date] = inside[-1].counts["broken"]
    return out


def _last_sweep(store: Store, site: str, end: float) -> SweepTotals | None:
    queries = store.links()
    complete = [p for p in queries.passes(site, SWEEP, until=end) if p.completed and p.ended is not None]
    if not complete:
        return None
    last = complete[-1]
    by_class: Counter[str] = Counter()
    broken: Counter[str] = Counter()
    for (link_class, rtype, _scope), n in queries.totals(last.id).items():
        by_class[link_class] += n
        if link_class == "broken":
            broken[rtype] += n
    return SweepTotals(
        last.started, float(last.ended or last.started), last.pages_read, last.links, dict(by_class),
        dict(broken), last.budget_hit,
    )  # fmt: skip


# -- renderings ------------------------------------------------------------------------------------


def _avg(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value):.1f}"


def link_rows(links: LinkReport, tz: Any) -> list[list[str]]:
    """Rows of the text/markdown table."""
    rows = [["link availability", "value"]]
    rows.append(["homepage broken links per day (average)", _avg(links.homepage_broken_avg)])
    worst = "—" if links.homepage_broken_max is None else f"{links.homepage_broken_max} ({links.max_day})"
    rows.append(["homepage broken links per day (maximum)", worst])
    rows.append(["days with a homepage pass", str(links.days_with_pass)])
    if links.sweep is not None:
        s = links.sweep
        when = datetime.fromtimestamp(s.ended, tz).strftime("%Y-%m-%d")
        classes = ", ".join(f"{name} {n}" for name, n in sorted(s.by_class.items()))
        types = ", ".join(f"{name} {n}" for name, n in sorted(s.broken_by_type.items())) or "none"
        budget = ", budget reached" if s.budget_hit else ""
        rows.append([f"last sweep ({when}{budget})", f"{s.pages_read} pages, {s.links} links: {classes}"])
        rows.append(["last sweep, broken by type", types])
    rows.append(["links fixed in the period", str(links.fixed)])
    return rows


def link_json(links: LinkReport | None) -> dict[str, Any] | None:
    if links is None:
        return None
    return {
        "homepage_days_with_pass": links.days_with_pass,
        "homepage_broken_per_day_avg": None if links.homepage_broken_avg is None else float(links.homepage_broken_avg),
        "homepage_broken_per_day_max": links.homepage_broken_max,
        "homepage_broken_max_date": links.max_day.isoformat() if links.max_day else None,
        "last_sweep": _sweep_json(links.sweep),
        "fixed": links.fixed,
    }


def _sweep_json(sweep: SweepTotals | None) -> dict[str, Any] | None:
    if sweep is None:
        return None
    return {
        "started": sweep.started,
        "ended": sweep.ended,
        "pages_read": sweep.pages_read,
        "links": sweep.links,
        "by_class": sweep.by_class,
        "broken_by_type": sweep.broken_by_type,
        "budget_hit": sweep.budget_hit,
    }


def link_csv(links: LinkReport | None) -> dict[str, Any]:
    """The CSV cells (CSV_LINK_COLUMNS) of a site's homepage row."""
    if links is None:
        return dict.fromkeys(CSV_LINK_COLUMNS)
    avg = links.homepage_broken_avg
    return {
        "links_homepage_broken_avg": None if avg is None else round(float(avg), 2),
        "links_homepage_broken_max": links.homepage_broken_max,
        "links_sweep_broken": links.sweep.by_class.get("broken", 0) if links.sweep else None,
        "links_fixed": links.fixed,
    }


def links_zh(links: LinkReport | None, tz: Any) -> str:
    """The zh sentence on link availability ('' when the site had no link check at all)."""
    if links is None:
        return ""
    parts = []
    if links.homepage_broken_avg is not None:
        parts.append(
            f"链接可用性方面，监测期间每日检查首页全部链接，首页不可用链接平均每日{_avg(links.homepage_broken_avg)}条、"
            f"最多{links.homepage_broken_max}条"
        )
    else:
        parts.append("链接可用性方面，监测期间未完成首页链接检查")
    if links.sweep is not None:
        s = links.sweep
        when = datetime.fromtimestamp(s.ended, tz)
        broken = s.by_class.get("broken", 0)
        types = "、".join(f"{TYPES_ZH.get(t, t)}{n}条" for t, n in sorted(s.broken_by_type.items()) if n)
        detail = f"（{types}）" if types else ""
        parts.append(
            f"最近一次全站链接检查（{when.month}月{when.day}日）共检查链接{s.links}条，确定不可用{broken}条{detail}，"
            f"疑似不可用{s.by_class.get('suspect', 0)}条"
        )
    parts.append(f"期间已修复不可用链接{links.fixed}条")
    return "；".join(parts) + "。"
