"""The daily digest (`monitor digest`): per site, in the form offices know from commercial
monitors' daily mail — homepage unreachable count over the last day and the 7-day unreachable
rate with its early-warning state, outages in the last day, items published, stale and blank
columns — as plain text and as HTML. Built from two `Report`s (the last 24 h and 7 days), so
every number is the report's; pure formatting, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from html import escape

from monitor.percent import pct
from monitor.report._build import Report, SiteReport
from monitor.report._render import duration, iso
from monitor.rules import V1_VETO_RATIO, V1_WARN_RATIO


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
        alarms = sum(1 for s in self.sites if s.state != "正常" or s.outages or s.stale or s.blank)
        flag = f"（{alarms}个网站需关注）" if alarms else ""
        return f"网站监测日报 {end.year}年{end.month}月{end.day}日{flag}"


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
    )


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
