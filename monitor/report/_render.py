"""A `Report` as text: terminal table, markdown, JSON, CSV, or the Chinese paragraph for the
政府信息公开工作年度报告 from a `string.Template` file users may replace (no code runs in it).

Pure formatting: no database, no clock. Numbers appear only where data exists (无监测数据).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from importlib import resources
from string import Template
from typing import Any

from monitor.percent import pct
from monitor.report._build import ColumnReport, PageReport, Period, Report, SiteReport, WeekV1
from monitor.report._findings import summary_json, summary_lines, summary_zh
from monitor.report._ipv6 import CSV_IPV6_COLUMNS, ipv6_csv, ipv6_json, ipv6_line, ipv6_zh
from monitor.report._links import CSV_LINK_COLUMNS, link_csv, link_json, link_rows, links_zh
from monitor.report._series import DayPoint
from monitor.rules import VerdictState

CSV_COLUMNS = (
    "site",
    "page",
    "kind",
    "observed_s",
    "up_s",
    "down_s",
    "blocked_s",
    "unknown_s",
    "uptime_ratio",
    "coverage_ratio",
    "outages",
    "downtime_s",
    "longest_outage_s",
    "mttr_s",
    "blips",
    "checks",
    "failed_checks",
    "visits",
    "failed_visits",
    "retries",
    "failed_retries",
    "blocked_checks",
    "error_checks",
    "outages_partly_unobserved",
    "uptime_pct",
    "coverage_pct",
    "period_from",
    "period_to",
    "until",
    "timezone",
    *CSV_LINK_COLUMNS,
    "integrity_open_high",
    "integrity_open_low",
    "identity_missing",
    *CSV_IPV6_COLUMNS,
    "generated",
)
"""Every column is defined in docs/reports.md; new columns are appended, existing ones kept."""

NO_DATA = "no data"
BOM = "\ufeff"
"""Byte order mark: Excel opens a UTF-8 CSV as UTF-8 only when the file starts with it."""


class TemplateError(ValueError):
    """A --template file that cannot be used; one line for the user."""


def render(report: Report, fmt: str, template: str | None = None, *, bom: bool = True) -> str:
    """The report in `fmt`; `template` is the text of a zh template (default: the packaged one).
    A CSV starts with a UTF-8 byte order mark unless `bom` is False (Excel needs it)."""
    if fmt == "json":
        return json.dumps(to_json(report), ensure_ascii=False, indent=2)
    if fmt == "csv":
        return (BOM if bom else "") + to_csv(report)
    if fmt == "zh":
        return to_zh(report, template if template is not None else default_template())
    return to_text(report, markdown=fmt == "markdown")


# -- JSON ------------------------------------------------------------------------------------------


def iso(ts_ms: int | None, period: Period) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, period.tz).isoformat(timespec="seconds")


def seconds(value_ms: int | None) -> float | None:
    return None if value_ms is None else value_ms / 1000


def to_json(report: Report) -> dict[str, Any]:
    p = report.period
    return {
        "period": {
            "from": p.first.isoformat(),
            "to": p.last.isoformat(),
            "until": iso(p.end_ms, p),
            "timezone": p.timezone,
            "length_s": seconds(p.length_ms),
        },
        "generated": iso(report.generated_ms, p),
        "source": report.source,
        "sites": [_site_json(site, p) for site in report.sites],
    }


def _site_json(site: SiteReport, period: Period) -> dict[str, Any]:
    return {
        "name": site.name,
        "title": site.title,
        "pages": [_page_json(page, period) for page in site.pages],
        "columns": [_column_json(column) for column in site.columns],
        "national_v1": [_week_json(week) for week in site.national_v1],
        "category_totals": [
            {
                "category": t.category.value,
                "columns": t.columns,
                "items_in_period": t.items_in_period,
                "stale": t.stale,
                "blank": t.blank,
            }
            for t in site.category_totals
        ],
        "annual_counts": dict(site.annual_counts),
        "links": link_json(site.links),
        "integrity": summary_json(site.integrity, period.tz) if site.integrity is not None else None,
        "ipv6": ipv6_json(site.ipv6),
        "annual_form": annual_json(site),
        "homepage_days": [_day_json(day) for day in site.days],
    }


def annual_json(site: SiteReport) -> dict[str, Any] | None:
    """The 年度报表 figures: observed values by key, the form's rows in order (blank = null,
    for the office to fill), and how many counted items were first seen late."""
    form = site.annual
    if form is None:
        return None
    return {
        "from": form.first.isoformat(),
        "to": form.last.isoformat(),
        "values": dict(form.values),
        "late_items": form.late,
        "observed_identity": list(form.observed),
        "monthly": [{"tag": tag, "month": month, "items": n} for tag, month, n in form.monthly],
        "rows": [{"section": section, "field": field, "value": value} for section, field, value in form.rows()],
    }


def _day_json(day: DayPoint) -> dict[str, Any]:
    return {
        "date": day.date.isoformat(),
        "uptime_ratio": None if day.uptime_exact is None else float(day.uptime_exact),
        "down_s": seconds(day.stats.down_ms),
        "observed_s": seconds(day.stats.observed_ms),
        "median_ms": day.median_ms,
        "p95_ms": day.p95_ms,
    }


def _page_json(page: PageReport, period: Period) -> dict[str, Any]:
    s = page.stats
    return {
        "name": page.name,
        "kind": page.kind,
        "observed_s": seconds(s.observed_ms),
        "up_s": seconds(s.up_ms),
        "down_s": seconds(s.down_ms),
        "blocked_s": seconds(s.blocked_ms),
        "unknown_s": seconds(s.unknown_ms),
        "uptime_ratio": page.uptime_ratio,
        "coverage_ratio": page.coverage_ratio,
        "outages": len(page.outages),
        "downtime_s": seconds(page.downtime_ms),
        "longest_outage_s": seconds(page.longest_outage_ms),
        "mttr_s": seconds(page.mttr_ms),
        "blips": page.blips,
        "checks": s.checks,
        "failed_checks": s.down,
        "visits": s.scheduled,
        "failed_visits": s.scheduled_failed,
        "retries": s.checks - s.error - s.scheduled,
        "failed_retries": s.down - s.scheduled_failed,
        "blocked_checks": s.blocked,
        "error_checks": s.error,
        "outages_partly_unobserved": sum(1 for o in page.outages if o.partly_unobserved),
        "no_data": page.no_data,
        "uptime_pct": pct(page.uptime_exact, none=NO_DATA),
        "coverage_pct": pct(page.coverage_exact, 1),
        "avg_latency_ms": s.latency_sum_ms / s.up if s.up else None,
        "max_latency_ms": s.latency_max_ms if s.up else None,
        "outage_list": [
            {
                "start": iso(o.start_ms, period),
                "end": iso(o.end_ms, period),
                "duration_s": seconds(o.duration_ms),
                "span_s": seconds(o.span_ms),
                "partly_unobserved": o.partly_unobserved,
                "cause": o.cause,
            }
            for o in page.outages
        ],
    }


def _column_json(column: ColumnReport) -> dict[str, Any]:
    return {
        "name": column.name,
        "category": column.rule.category.value,
        "window_days": column.rule.window_days,
        "tags": list(column.tags),
        "newest_date": column.newest_date.isoformat() if column.newest_date else None,
        "stale_days": column.stale_days,
        "items_in_period": column.items_in_period,
        "stale": column.stale,
        "blank": column.blank,
    }


def _week_json(week: WeekV1) -> dict[str, Any]:
    return {
        "week_start": week.week_start.isoformat(),
        "checks": week.checks,
        "failed": week.failed,
        "ratio": week.ratio,
        "days_under_20": week.days_under_20,
        "state": week.state.value,
    }


# -- CSV -------------------------------------------------------------------------------------------


def to_csv(report: Report) -> str:
    """One row per page with the availability numbers (columns: CSV_COLUMNS), each row carrying
    the period and its time zone so a row pasted elsewhere still says what it covers."""
    p = report.period
    when = {"period_from": p.first.isoformat(), "period_to": p.last.isoformat(), "until": iso(p.end_ms, p)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for site in report.sites:
        for page in site.pages:
            links = link_csv(site.links if page is site.homepage else None)
            row = {
                "site": site.name,
                "page": page.name,
                **_page_json(page, p),
                **when,
                "timezone": p.timezone,
                **links,
                **_integrity_csv(site),
                **ipv6_csv(site.ipv6),
            }
            row["generated"] = iso(report.generated_ms, p)
            writer.writerow(["" if row[column] is None else row[column] for column in CSV_COLUMNS])
    return out.getvalue().rstrip("\n")


def _integrity_csv(site: SiteReport) -> dict[str, object]:
    """The site's integrity counts and missing identity elements, on each of its rows."""
    summary = site.integrity
    if summary is None:
        return {"integrity_open_high": None, "integrity_open_low": None, "identity_missing": None}
    missing = None if summary.identity is None else " ".join(element.value for element in summary.missing)
    return {
        "integrity_open_high": summary.open_high,
        "integrity_open_low": len(summary.open) - summary.open_high,
        "identity_missing": missing,
    }


# -- table and markdown ------------------------------------------------------------------------------


def duration(value_ms: int | None) -> str:
    """1d 02:03:04 / 02:03:04; — for none."""
    if value_ms is None:
        return "—"
    total_s = value_ms // 1000
    days, rest = divmod(total_s, 86400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {clock}" if days else clock


def to_text(report: Report, *, markdown: bool) -> str:
    p = report.period
    lines = [
        f"{'# ' if markdown else ''}Report {p.first} .. {p.last} ({p.timezone}), until {iso(p.end_ms, p)}",
        f"Generated {iso(report.generated_ms, p)}",
    ]
    for site in report.sites:
        lines += ["", f"{'## ' if markdown else ''}{site.name} — {site.title}", ""]
        if all(page.no_data for page in site.pages):
            lines += [f"{NO_DATA}: nothing was observed in this period", ""]
        lines += _table(_page_rows(site), markdown)
        if site.national_v1:
            lines += ["", f"{'### ' if markdown else ''}National rule V1 (homepage, per ISO week)", ""]
            lines += _table(_v1_rows(site.national_v1), markdown)
        if site.columns:
            lines += ["", f"{'### ' if markdown else ''}Columns", ""]
            lines += _table(_column_rows(site.columns), markdown)
            counts = ", ".join(f"{tag} {n}" for tag, n in site.annual_counts)
            lines += ["", f"Items published in tagged columns (政府网站工作年度报表): {counts}"]
        if site.links is not None:
            lines += ["", f"{'### ' if markdown else ''}Link availability (链接可用性)", ""]
            lines += _table(link_rows(site.links, p.tz), markdown)
        if site.integrity is not None or site.ipv6 is not None:
            lines += ["", f"{'### ' if markdown else ''}Integrity and identity", ""]
            lines += summary_lines(site.integrity) if site.integrity is not None else []
            lines += [ipv6_line(site.ipv6)] if site.ipv6 is not None else []
    return "\n".join(lines)


def _page_rows(site: SiteReport) -> list[list[str]]:
    rows = [["page", "kind", "uptime", "coverage", "down", "blocked", "unknown", "outages", "longest", "MTTR", "blips"]]
    for page in site.pages:
        s = page.stats
        rows.append(
            [
                page.name,
                page.kind,
                pct(page.uptime_exact, none=NO_DATA),
                pct(page.coverage_exact, 1),
                duration(s.down_ms),
                duration(s.blocked_ms),
                duration(s.unknown_ms),
                str(len(page.outages)),
                duration(page.longest_outage_ms),
                duration(page.mttr_ms),
                str(page.blips),
            ]
        )
    return rows


def _v1_rows(weeks: Sequence[WeekV1]) -> list[list[str]]:
    rows = [["week", "visits", "failed", "ratio", "days < 20 visits", "state"]]
    rows += [
        [str(w.week_start), str(w.checks), str(w.failed), pct(w.exact, 2), str(w.days_under_20), _V1_STATES[w.state]]
        for w in weeks
    ]
    return rows


_V1_STATES = {
    VerdictState.OK: "ok",
    VerdictState.WARNING: "warning",
    VerdictState.VETO: "VETO",
    VerdictState.INSUFFICIENT_DATA: "insufficient data",
}


def _column_rows(columns: Sequence[ColumnReport]) -> list[list[str]]:
    rows = [["column", "category", "newest", "age (d)", "items", "state"]]
    for c in columns:
        state = "not checked" if c.stale is None else "blank" if c.blank else "STALE" if c.stale else "ok"
        age = "—" if c.stale_days is None else str(c.stale_days)
        rows.append([c.name, c.rule.category.value, str(c.newest_date or "—"), age, str(c.items_in_period), state])
    return rows


def _width(text: str) -> int:
    """Terminal cells: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
        return out + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows[1:]]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


# -- the Chinese paragraph ----------------------------------------------------------------------------


def default_template() -> str:
    return resources.files("monitor.report").joinpath("templates/report_zh.txt").read_text(encoding="utf-8")


def to_zh(report: Report, template: str) -> str:
    """One paragraph per site from `template` ($placeholders: see docs/reports.md)."""
    paragraphs, compiled = [], Template(template)
    for site in report.sites:
        values = zh_values(site, report.period)
        try:
            paragraphs.append(compiled.substitute(values).strip())
        except KeyError as exc:
            known = ", ".join(sorted(values))
            raise TemplateError(f"unknown placeholder ${exc.args[0]} (known: {known})") from None
        except ValueError as exc:
            raise TemplateError(f"bad placeholder: {exc}") from None
    return "\n\n".join(paragraphs)


def zh_values(site: SiteReport, period: Period) -> dict[str, str]:
    """Every placeholder a template may use: sentences, and the numbers inside them."""
    home = site.homepage
    checked = [c for c in site.columns if c.stale is not None]
    stale = [c.name for c in checked if c.stale]
    blank = [c.name for c in checked if c.blank]
    items = sum(c.items_in_period for c in site.columns)
    return {
        "site_name": site.name,
        "site_title": site.title,
        "period_zh": _period_zh(period),
        "monitoring": _monitoring_zh(site, home, period),
        "availability": _availability_zh(home),
        "outages": _outages_zh(home, period),
        "publishing": _publishing_zh(site, checked, items),
        "columns": _columns_zh(checked, stale, blank, period),
        "uptime_pct": _pct_zh(home.uptime_exact if home else None),
        "coverage_pct": _pct_zh(home.coverage_exact if home and home.stats.observed_ms else None),
        "outage_count": str(len(home.outages)) if home else "无监测数据",
        "downtime_zh": _duration_zh(home.downtime_ms) if home else "无监测数据",
        "longest_zh": _duration_zh(home.longest_outage_ms) if home and home.outages else "无",
        "items_total": str(items),
        "column_count": str(len(site.columns)),
        "stale_count": str(len(stale)),
        "blank_count": str(len(blank)),
        "links": links_zh(site.links, period.tz),
        "links_broken_avg": link_csv(site.links)["links_homepage_broken_avg"] or "0",
        "links_broken_max": str(site.links.homepage_broken_max or 0) if site.links else "0",
        "links_fixed": str(site.links.fixed) if site.links else "0",
        "integrity": summary_zh(site.integrity) if site.integrity is not None else "",
        "ipv6": ipv6_zh(site.ipv6),
    }


def _whole_year(period: Period) -> bool:
    return (
        period.first.month == 1 and period.first.day == 1 and period.end_date == period.first.replace(month=12, day=31)
    )


def _period_zh(period: Period) -> str:
    if _whole_year(period):
        return f"{period.first.year}年"
    first, last = period.first, period.end_date
    return f"{first.year}年{first.month}月{first.day}日至{last.year}年{last.month}月{last.day}日"


def _monitoring_zh(site: SiteReport, home: PageReport | None, period: Period) -> str:
    if home is None or home.stats.observed_ms == 0:
        return f"{site.title}门户网站无监测数据。"
    scope = f"首页及{len(site.columns)}个栏目" if site.columns else "首页"
    span = "全年" if _whole_year(period) else ""
    how = "7×24小时不间断监测" if home.coverage_exact >= Fraction(99, 100) else "定时监测"
    return f"对{site.title}门户网站{scope}进行{span}{how}，监测覆盖率{_pct_zh(home.coverage_exact)}。"


def _availability_zh(home: PageReport | None) -> str:
    if home is None or home.uptime_ratio is None:
        return "网站可用率：无监测数据。"
    return f"网站首页可用率为{_pct_zh(home.uptime_exact)}。"


def _outages_zh(home: PageReport | None, period: Period) -> str:
    if home is None or home.stats.observed_ms == 0:
        return ""
    blips = f"另有{home.blips}次访问失败经复查即恢复，未计入中断。" if home.blips else ""
    if not home.outages:
        return f"监测期间未发生网站无法访问的情况。{blips}"
    longest = max(home.outages, key=lambda o: o.duration_ms)
    unwatched = "中断期间监测中止的时段不计入时长。" if any(o.partly_unobserved for o in home.outages) else ""
    return (
        f"监测期间网站首页共发生{len(home.outages)}次无法访问，累计{_duration_zh(home.downtime_ms)}，"
        f"其中最长一次始于{_when_zh(longest.start_ms, period)}，持续{_duration_zh(longest.duration_ms)}。"
        f"{unwatched}{blips}"
    )


def _publishing_zh(site: SiteReport, checked: Sequence[ColumnReport], items: int) -> str:
    if not site.columns or not checked:
        return "栏目更新情况：无监测数据。" if site.columns else ""
    parts = "、".join(f"{tag}{n}条" for tag, n in site.annual_counts if n)
    return f"各栏目共发布信息{items}条" + (f"，其中{parts}" if parts else "") + "。"


def _columns_zh(checked: Sequence[ColumnReport], stale: list[str], blank: list[str], period: Period) -> str:
    if not checked:
        return ""
    day = period.end_date
    head = f"截至{day.year}年{day.month}月{day.day}日，监测的{len(checked)}个栏目中"
    if not stale and not blank:
        return f"{head}无超期未更新栏目和空白栏目。"
    found = []
    if stale:
        found.append(f"超过更新期限未更新的栏目{len(stale)}个（{'、'.join(stale)}）")
    if blank:
        found.append(f"空白栏目{len(blank)}个（{'、'.join(blank)}）")
    return f"{head}有{'，'.join(found)}。"


def _pct_zh(ratio: Fraction | None) -> str:
    return pct(ratio, 2, none="无监测数据")


def _duration_zh(value_ms: int | None) -> str:
    if value_ms is None:
        return "无"
    total_s = value_ms // 1000
    days, hours, minutes = total_s // 86400, total_s % 86400 // 3600, total_s % 3600 // 60
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{minutes}分钟" if minutes else ""]
    text = "".join(parts)
    return text or f"{total_s}秒"


def _when_zh(ts_ms: int, period: Period) -> str:
    t = datetime.fromtimestamp(ts_ms / 1000, period.tz)
    return f"{t.year}年{t.month}月{t.day}日{t.hour}时{t.minute:02d}分"
