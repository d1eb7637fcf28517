"""The daily digest (`monitor digest`): per site, in the form offices know from commercial
monitors' daily mail — homepage unreachable count over the last day and the 7-day unreachable
rate with its early-warning state, outages in the last day, items published, stale and blank
columns, and, where the database has them, homepage broken links (链接可用性) and open integrity
findings (安全与标识) — as plain text and as HTML. Built from two `Report`s (the last 24 h and
7 days), so every number is the report's; pure formatting, no I/O.

A site the link checks or the integrity checks never looked at has no such line (not "0", which
would read as a clean result); docs/reports.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from html import escape

from monitor.integrity import Level
from monitor.percent import pct
from monitor.report._build import Report, SiteReport
from monitor.report._findings import IntegritySummary
from monitor.report._links import LinkReport
from monitor.report._render import duration, iso
from monitor.rules import V1_VETO_RATIO, V1_WARN_RATIO

MAX_FINDING_LINES = 5
"""Open high findings named in the digest; more are counted ("另有 N 项")."""


@dataclass(frozen=True)
class DigestLinks:
    """The last day's last complete homepage link pass; `checked` None: none in the last day."""

    checked: str | None
    broken: int | None
    links: int | None


@dataclass(frozen=True)
class DigestFindings:
    """Integrity findings open at the end of the last day, and resolved in it."""

    open: int
    open_high: int
    resolved: int
    high: tuple[str, ...]
    """'hidden_link/display_none casino-portal.invalid（首次发现 …）' per open high finding."""


@dataclass(frozen=True)
class SiteDigest:
    title: str
    unreachable_day: int | None
    visits_day: int | None
    unreachable_week: int | None
    visits_week: int | None
    outages: tuple[tuple[str, str, str], ...]
    """(start, duration, cause) of each homepage outage overlapping the last day."""
    items_day: int
    stale: tuple[str, ...]
    blank: tuple[str, ...]
    links: DigestLinks | None = None
    """None when the site has never had a link pass (no line)."""
    findings: DigestFindings | None = None
    """None when the integrity checks never looked at the site (no line)."""

    @property
    def week_rate(self) -> Fraction | None:
        if not self.visits_week or self.unreachable_week is None:
            return None
        return Fraction(self.unreachable_week, self.visits_week)

    @property
    def state(self) -> str:
        """正常 / 预警 (≥ 3%) / 单项否决风险 (≥ 5%) on the 7-day rate, 无数据 without visits."""
        rate = self.week_rate
        if rate is None:
            return "无数据"
        if rate >= Fraction(str(V1_VETO_RATIO)):
            return "单项否决风险"
        return "预警" if rate >= Fraction(str(V1_WARN_RATIO)) else "正常"


@dataclass(frozen=True)
class Digest:
    day: Report
    week: Report
    sites: tuple[SiteDigest, ...]

    @property
    def subject(self) -> str:
        end = self.day.period.end_date
        alarms = sum(1 for s in self.sites if s.state != "正常" or s.outages or s.stale or s.blank or _high(s))
        flag = f"（{alarms}个网站需关注）" if alarms else ""
        return f"网站监测日报 {end.year}年{end.month}月{end.day}日{flag}"


def _high(site: SiteDigest) -> bool:
    return site.findings is not None and site.findings.open_high > 0


def build_digest(day: Report, week: Report) -> Digest:
    """The digest from the last day's and the last 7 days' reports of the same sites."""
    weeks = {site.name: site for site in week.sites}
    return Digest(day, week, tuple(_site(site, weeks.get(site.name), day) for site in day.sites))


def _site(site: SiteReport, week: SiteReport | None, day: Report) -> SiteDigest:
    home, week_home = site.homepage, week.homepage if week else None
    checked = [c for c in site.columns if c.stale is not None]
    outages = tuple(
        (iso(o.start_ms, day.period) or "", duration(o.duration_ms), o.cause) for o in (home.outages if home else ())
    )
    return SiteDigest(
        title=site.title,
        unreachable_day=home.stats.scheduled_failed if home else None,
        visits_day=home.stats.scheduled if home else None,
        unreachable_week=week_home.stats.scheduled_failed if week_home else None,
        visits_week=week_home.stats.scheduled if week_home else None,
        outages=outages,
        items_day=sum(c.items_in_period for c in site.columns),
        stale=tuple(c.name for c in checked if c.stale and not c.blank),
        blank=tuple(c.name for c in checked if c.blank),
        links=_links(site.links, day),
        findings=_findings(site.integrity, day),
    )


def _links(links: LinkReport | None, day: Report) -> DigestLinks | None:
    if links is None:
        return None
    last = links.last_homepage
    if last is None:
        return DigestLinks(None, None, None)
    return DigestLinks(iso(round(last.started * 1000), day.period), last.counts.get("broken", 0), last.links)


def _findings(summary: IntegritySummary | None, day: Report) -> DigestFindings | None:
    if summary is None or not summary.observed:
        return None
    high = tuple(
        f"{row.tracked.finding.kind.value}/{row.tracked.finding.technique} {row.tracked.finding.target}"
        f"（首次发现 {iso(round(row.tracked.first_seen * 1000), day.period)}）"
        for row in summary.open
        if row.tracked.finding.level is Level.HIGH
    )
    return DigestFindings(len(summary.open), summary.open_high, len(summary.resolved), high)


def _lines(site: SiteDigest) -> list[str]:
    rate = pct(site.week_rate, 2, none="无数据")
    out = [
        f"首页不可访问：近24小时 {site.unreachable_day if site.unreachable_day is not None else '无数据'} 次"
        f"（共访问 {site.visits_day or 0} 次）；近7天不可访问率 {rate}，{site.state}",
        f"近24小时中断：{len(site.outages)} 次" if site.outages else "近24小时中断：无",
    ]
    out += [f"  {start} 起，持续 {length}（{cause}）" for start, length, cause in site.outages]
    out += [
        f"近24小时发布信息：{site.items_day} 条",
        f"超期未更新栏目：{'、'.join(site.stale) if site.stale else '无'}",
        f"空白栏目：{'、'.join(site.blank) if site.blank else '无'}",
    ]
    return out + _link_lines(site.links) + _finding_lines(site.findings)


def _link_lines(links: DigestLinks | None) -> list[str]:
    if links is None:
        return []
    if links.checked is None:
        return ["首页不可用链接：近24小时未完成首页链接检查"]
    return [f"首页不可用链接：{links.broken} 条（{links.checked} 检查首页链接 {links.links} 条）"]


def _finding_lines(findings: DigestFindings | None) -> list[str]:
    if findings is None:
        return []
    head = f"安全与标识问题：现有 {findings.open} 项（高风险 {findings.open_high} 项）"
    head += f"，近24小时已解决 {findings.resolved} 项" if findings.resolved else ""
    out = [head] + [f"  高风险：{line}" for line in findings.high[:MAX_FINDING_LINES]]
    if len(findings.high) > MAX_FINDING_LINES:
        out.append(f"  另有高风险问题 {len(findings.high) - MAX_FINDING_LINES} 项（monitor findings --open）")
    return out


def _header(digest: Digest) -> str:
    p = digest.day.period
    generated = datetime.fromtimestamp((digest.day.generated_ms or p.end_ms) / 1000, p.tz)
    return (
        f"统计时段：{iso(p.start_ms, p)} 至 {iso(p.end_ms, p)}（{p.timezone}），"
        f"生成时间：{generated.isoformat(timespec='seconds')}；监测网站 {len(digest.sites)} 个"
    )


def digest_text(digest: Digest) -> str:
    parts = [digest.subject, _header(digest)]
    for site in digest.sites:
        parts.append("\n".join([f"【{site.title}】", *_lines(site)]))
    return "\n\n".join(parts) + "\n"


def digest_html(digest: Digest) -> str:
    """The same content as `digest_text`, as a small HTML mail (inline styles only)."""
    blocks = []
    for site in digest.sites:
        colour = "#c8362d" if site.state != "正常" else "#3a8f4e"
        items = "".join(f"<li>{escape(line.strip())}</li>" for line in _lines(site))
        blocks.append(
            f'<h3 style="margin:12px 0 4px">{escape(site.title)} '
            f'<span style="color:{colour}">{escape(site.state)}</span></h3><ul>{items}</ul>'
        )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
        "<body style=\"font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif\">"
        f"<h2>{escape(digest.subject)}</h2><p>{escape(_header(digest))}</p>{''.join(blocks)}</body></html>"
    )
