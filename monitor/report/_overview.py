"""`monitor report --overview`: the supervisor's view of many sites (a provincial 通报).

How many sites are monitored; per national rule V1–V3 how many pass (ok or early warning), fail
(veto) and lack the evidence for a verdict (counted apart, never as passing), with each share of
all sites; the failing sites by name with the rule's figures; the worst sites by homepage
availability over the period and by stale columns now. Verdicts are as of `now` (what `monitor
status` says); availability is the report's period. Rendered as table, markdown, JSON, CSV or a
zh paragraph. Pure: the caller reads the databases.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from monitor.percent import pct, ratio_of
from monitor.report._build import Period, Report
from monitor.report._status import SiteStatus
from monitor.rules import VerdictState

RULES = ("V1", "V2", "V3")
RULE_ZH = {"V1": "首页可用性（V1）", "V2": "首页更新（V2）", "V3": "栏目更新（V3）"}
STATE_ZH = {"ok": "合格", "warning": "预警", "veto": "不合格", "insufficient_data": "数据不足"}
WORST = 10
"""How many sites each ranking lists."""


@dataclass(frozen=True)
class SiteLine:
    """One site in the overview."""

    name: str
    title: str
    states: tuple[VerdictState, VerdictState, VerdictState]
    details: tuple[str, str, str]
    availability: Fraction | None
    """Homepage up / (up + down) over the period; None without data."""
    stale: int
    blank: int
    v1_failed: int = 0
    v1_checks: int = 0
    homepage_age_days: int | None = None

    def figures_zh(self, rule: str) -> str:
        """The rule's figures in Chinese, for the 通报."""
        if rule == "V1":
            share = pct(ratio_of(self.v1_failed, self.v1_checks), 2)
            return f"近7天首页访问失败{self.v1_failed}次/共{self.v1_checks}次，{share}"
        if rule == "V2":
            age = self.homepage_age_days
            return "首页无带日期信息" if age is None else f"首页最新信息为{age}天前"
        return f"未按时更新栏目{self.stale}个，空白栏目{self.blank}个"


@dataclass(frozen=True)
class RuleCount:
    rule: str
    passing: int
    failing: int
    insufficient: int


@dataclass(frozen=True)
class Overview:
    period: Period
    sites: tuple[SiteLine, ...]

    def count(self, rule: str) -> RuleCount:
        i = RULES.index(rule)
        states = [s.states[i] for s in self.sites]
        failing = states.count(VerdictState.VETO)
        insufficient = states.count(VerdictState.INSUFFICIENT_DATA)
        return RuleCount(rule, len(states) - failing - insufficient, failing, insufficient)

    def failing(self, rule: str) -> list[SiteLine]:
        i = RULES.index(rule)
        return [s for s in self.sites if s.states[i] is VerdictState.VETO]

    def worst_availability(self) -> list[SiteLine]:
        known = [s for s in self.sites if s.availability is not None]
        return sorted(known, key=lambda s: (s.availability, s.name))[:WORST]

    def most_stale(self) -> list[SiteLine]:
        return sorted((s for s in self.sites if s.stale), key=lambda s: (-s.stale, s.name))[:WORST]


def build_overview(report: Report, statuses: Sequence[SiteStatus]) -> Overview:
    """The overview of every site with a status (verdicts now) and its report section (period)."""
    availability = {site.name: (site.homepage.uptime_exact if site.homepage else None) for site in report.sites}
    lines = []
    for status in sorted(statuses, key=lambda s: s.name):
        verdicts = status.assessment.verdicts
        facts = status.assessment.v3_facts
        lines.append(
            SiteLine(
                status.name,
                status.title,
                (verdicts[0].state, verdicts[1].state, verdicts[2].state),
                (verdicts[0].detail, verdicts[1].detail, verdicts[2].detail),
                availability.get(status.name),
                facts.stale,
                facts.blank,
                status.assessment.v1_facts.failed,
                status.assessment.v1_facts.checks,
                status.assessment.homepage.age_days if status.assessment.homepage else None,
            )
        )
    return Overview(report.period, tuple(lines))


def render_overview(overview: Overview, fmt: str, *, bom: bool = True) -> str:
    """The overview in `fmt` (table, markdown, json, csv, zh)."""
    if fmt == "json":
        return json.dumps(overview_json(overview), ensure_ascii=False, indent=2)
    if fmt == "csv":
        return ("\ufeff" if bom else "") + _csv(overview)
    if fmt == "zh":
        return overview_zh(overview)
    return _text(overview, markdown=fmt == "markdown")


def _share(part: int, whole: int) -> str:
    return pct(ratio_of(part, whole), 1)


def overview_json(overview: Overview) -> dict[str, Any]:
    n = len(overview.sites)
    return {
        "period": {"from": overview.period.first.isoformat(), "to": overview.period.last.isoformat()},
        "sites_monitored": n,
        "rules": {
            c.rule: {
                "passing": c.passing,
                "passing_share": float(ratio_of(c.passing, n) or 0),
                "failing": c.failing,
                "insufficient_data": c.insufficient,
                "failing_sites": [
                    {"site": s.name, "title": s.title, "detail": s.details[RULES.index(c.rule)]}
                    for s in overview.failing(c.rule)
                ],
            }
            for c in (overview.count(rule) for rule in RULES)
        },
        "worst_availability": [
            {"site": s.name, "title": s.title, "availability": float(s.availability or 0)}
            for s in overview.worst_availability()
        ],
        "most_stale_columns": [
            {"site": s.name, "title": s.title, "stale_columns": s.stale} for s in overview.most_stale()
        ],
        "sites": [_site_json(s) for s in overview.sites],
    }


def _site_json(s: SiteLine) -> dict[str, Any]:
    return {
        "site": s.name,
        "title": s.title,
        **{rule: state.value for rule, state in zip(RULES, s.states, strict=True)},
        "availability": None if s.availability is None else float(s.availability),
        "stale_columns": s.stale,
        "blank_columns": s.blank,
    }


def _csv(overview: Overview) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["site", "title", *RULES, "availability", "stale_columns", "blank_columns"])
    for s in overview.sites:
        availability = "" if s.availability is None else f"{float(s.availability):.6f}"
        writer.writerow([s.name, s.title, *(st.value for st in s.states), availability, s.stale, s.blank])
    return out.getvalue()


def _text(overview: Overview, *, markdown: bool) -> str:
    n, h = len(overview.sites), "## " if markdown else ""
    period = overview.period
    lines = [f"{h}Overview {period.first} to {period.last}: {n} sites monitored", ""]
    for c in (overview.count(rule) for rule in RULES):
        lines.append(
            f"{'- ' if markdown else ''}{c.rule}: {c.passing} passing ({_share(c.passing, n)}), "
            f"{c.failing} failing, {c.insufficient} insufficient data"
        )
    for rule in RULES:
        failing = overview.failing(rule)
        if failing:
            lines += ["", f"{h}Failing {rule}", ""]
            lines += [
                f"{'- ' if markdown else '  '}{s.name} ({s.title}): {s.details[RULES.index(rule)]}" for s in failing
            ]
    worst = overview.worst_availability()
    if worst:
        lines += ["", f"{h}Lowest homepage availability", ""]
        lines += [f"{'- ' if markdown else '  '}{s.name} ({s.title}): {pct(s.availability, 3)}" for s in worst]
    stale = overview.most_stale()
    if stale:
        lines += ["", f"{h}Most stale columns", ""]
        lines += [f"{'- ' if markdown else '  '}{s.name} ({s.title}): {s.stale}" for s in stale]
    return "\n".join(lines)


def overview_zh(overview: Overview) -> str:
    """A paragraph in the style of a provincial 通报."""
    n = len(overview.sites)
    p = overview.period
    head = f"{p.first.year}年{p.first.month}月{p.first.day}日至{p.last.year}年{p.last.month}月{p.last.day}日，"
    parts = [f"{head}全省共监测政府网站{n}个"]
    for c in (overview.count(rule) for rule in RULES):
        judged = f"{RULE_ZH[c.rule]}合格{c.passing}个，占{_share(c.passing, n)}，不合格{c.failing}个"
        parts.append(judged + (f"，{c.insufficient}个监测数据不足、暂不评判" if c.insufficient else ""))
    text = "；".join(parts) + "。"
    for rule in RULES:
        failing = overview.failing(rule)
        if failing:
            names = "、".join(f"{s.title}（{s.figures_zh(rule)}）" for s in failing)
            text += f"{RULE_ZH[rule]}不合格的网站：{names}。"
    worst = overview.worst_availability()
    if worst:
        text += "首页可用率最低的网站：" + "、".join(f"{s.title}（{pct(s.availability, 2)}）" for s in worst) + "。"
    stale = overview.most_stale()
    if stale:
        text += "未按时更新栏目最多的网站：" + "、".join(f"{s.title}（{s.stale}个）" for s in stale) + "。"
    return text
