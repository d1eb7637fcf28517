"""A `Report` as typed tables — the sheets of the workbook and the tables of the HTML page:
one definition of every header (Chinese, or English with `--lang en`) and every cell value.

Cells are Python values with a kind (text, integer, percentage, duration, date-time, date), so
the workbook writes real numbers and dates and the HTML page prints them, from the same rows.
Percentages are rounded down to the shown digits first (monitor.percent's rule: a value is never
shown higher than it is, not even by a spreadsheet's rounding). Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from monitor.percent import exact
from monitor.report._build import ColumnReport, PageReport, Period, Report, SiteReport
from monitor.report._findings import ELEMENT_ZH, LEVEL_ZH
from monitor.report._links import LinkReport, link_csv
from monitor.rules import VerdictState
from monitor.store import StoredFinding

Cell = str | int | float | datetime | date | None

TEXT, INT, PCT, PCT2, DURATION, DATETIME, DATE = "text", "int", "pct", "pct2", "duration", "datetime", "date"
AUTO, PCT1, DEC2 = "auto", "pct1", "dec2"
"""AUTO: the kind follows the value (a date-time, a ratio as PCT, an integer, text)."""
"""Cell kinds: PCT shows 3 decimals of a percent, PCT2 two; DURATION is a number of days (a
spreadsheet's time format); DATETIME is local time in the report's time zone, without offset;
DEC2 a number shown with two decimals (already rounded to them)."""


@dataclass(frozen=True)
class Table:
    """One sheet: its name, a title line, column headers and kinds, and the rows."""

    key: str
    name: str
    title: str
    headers: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def auto_kind(value: Cell) -> str:
    """The kind of an AUTO cell: by its Python type."""
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if isinstance(value, float):
        return PCT
    return INT if isinstance(value, int) else TEXT


def floor_ratio(ratio: Fraction | float | None, digits: int) -> float | None:
    """The ratio rounded down to `digits` decimals of a percent, as the shown number."""
    if ratio is None:
        return None
    scale = 10 ** (digits + 2)
    return float(Decimal(math.floor(exact(ratio) * scale)) / scale)


def days(value_ms: int | None) -> float | None:
    """Milliseconds as a fraction of a day (a spreadsheet's duration)."""
    return None if value_ms is None else value_ms / 86_400_000


def local(ts_ms: float | None, period: Period) -> datetime | None:
    """A time as a naive local date-time of the report's time zone, to the second (truncated)."""
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, period.tz).replace(tzinfo=None, microsecond=0)


_H = {
    "zh": {
        "overview": "概况", "pages": "页面可用性", "outages": "中断记录", "v1": "V1 周统计",
        "columns": "栏目更新", "annual": "年度报表", "links": "链接可用性", "integrity": "安全与标识",
    },
    "en": {
        "overview": "Overview", "pages": "Availability", "outages": "Outages", "v1": "V1 weeks",
        "columns": "Columns", "annual": "Annual form", "links": "Links", "integrity": "Integrity",
    },
}  # fmt: skip

_HEADERS = {
    "overview": (("项目", "Item"), ("内容", "Value")),
    "pages": (
        ("网站", "Site"), ("页面", "Page"), ("类型", "Kind"), ("可用率", "Uptime"), ("监测覆盖率", "Coverage"),
        ("正常时长", "Up"), ("中断时长", "Down"), ("被拦截时长", "Blocked"), ("未知时长", "Unknown"),
        ("中断次数", "Outages"), ("最长中断", "Longest"), ("平均恢复时间", "MTTR"), ("瞬断次数", "Blips"),
        ("访问次数", "Visits"), ("失败访问", "Failed visits"),
    ),
    "outages": (
        ("网站", "Site"), ("页面", "Page"), ("开始", "Start"), ("结束", "End"), ("中断时长", "Duration"),
        ("原因", "Error kind"), ("部分时段未监测", "Partly unobserved"),
    ),
    "v1": (
        ("网站", "Site"), ("周起始日", "Week from"), ("访问次数", "Visits"), ("失败次数", "Failed"),
        ("失败率", "Ratio"), ("访问不足20次的天数", "Days < 20 visits"), ("判定", "State"),
    ),
    "columns": (
        ("网站", "Site"), ("栏目", "Column"), ("类别", "Category"), ("更新期限（天）", "Window (d)"),
        ("最新信息日期", "Newest item"), ("距今天数", "Age (d)"), ("期内发布", "Items in period"),
        ("状态", "State"),
    ),
    "annual": (("网站", "Site"), ("项目", "Section"), ("指标", "Field"), ("数值", "Value")),
    "links": (
        ("网站", "Site"), ("有首页检查的天数", "Days with a homepage pass"),
        ("首页不可用链接日均", "Homepage broken per day (avg)"),
        ("首页不可用链接日最多", "Homepage broken per day (max)"),
        ("最多日期", "Date of the maximum"), ("最近全站检查开始", "Last sweep started"),
        ("最近全站检查结束", "Last sweep ended"), ("检查页面数", "Pages read"), ("链接数", "Links"),
        ("确定不可用", "Broken"), ("软404", "Soft 404"), ("疑似不可用", "Suspect"), ("被拦截", "Blocked"),
        ("已排除", "Excluded"), ("正常", "OK"), ("不可用页面", "Broken pages"), ("不可用图片", "Broken images"),
        ("不可用附件", "Broken attachments"), ("不可用其他", "Broken other"), ("达到检查上限", "Budget reached"),
        ("期内已修复", "Fixed in period"),
    ),
    "integrity": (
        ("网站", "Site"), ("类别", "Section"), ("项目", "Item"), ("数值", "Value"), ("级别", "Level"),
        ("分值", "Score"), ("页面", "Page"), ("首次发现", "First seen"), ("最近发现", "Last seen"),
        ("解决时间", "Resolved"), ("证据", "Evidence"),
    ),
}  # fmt: skip

_STATES = {
    "zh": {"ok": "正常", "stale": "超期未更新", "blank": "空白栏目", "unchecked": "无监测数据",
           VerdictState.OK: "正常", VerdictState.WARNING: "预警", VerdictState.VETO: "单项否决",
           VerdictState.INSUFFICIENT_DATA: "数据不足", True: "是", False: "否"},
    "en": {"ok": "ok", "stale": "stale", "blank": "blank", "unchecked": "not checked",
           VerdictState.OK: "ok", VerdictState.WARNING: "warning", VerdictState.VETO: "VETO",
           VerdictState.INSUFFICIENT_DATA: "insufficient data", True: "yes", False: "no"},
}  # fmt: skip


def headers(key: str, lang: str) -> tuple[str, ...]:
    return tuple(pair[0 if lang == "zh" else 1] for pair in _HEADERS[key])


def tables(report: Report, lang: str, paragraph: str) -> list[Table]:
    """Every sheet of the report, in order; `paragraph` is the zh text for the overview. The
    链接可用性 and 安全与标识 sheets follow only when the database has that data (docs/reports.md)."""
    makers = (_overview, _pages, _outages, _v1, _columns, _annual)
    optional = (_links(report, lang), _integrity(report, lang))
    return [maker(report, lang, paragraph) for maker in makers] + [t for t in optional if t is not None]


def period_lines(report: Report, lang: str) -> list[tuple[str, Cell]]:
    """The period, time zone and generation time every output carries."""
    p = report.period
    zh = ("报告期", "时区", "数据截至", "生成时间")
    labels = zh if lang == "zh" else ("Period", "Time zone", "Until", "Generated")
    values: tuple[Cell, ...] = (f"{p.first} .. {p.last}", p.timezone, local(p.end_ms, p), local(report.generated_ms, p))
    return list(zip(labels, values, strict=True))


def _make(key: str, report: Report, lang: str, kinds: Sequence[str], rows: list[tuple[Cell, ...]]) -> Table:
    p = report.period
    name = _H[lang][key]
    title = f"{name}  {p.first} .. {p.last} ({p.timezone})"
    return Table(key, name, title, headers(key, lang), tuple(kinds), tuple(rows))


def _overview(report: Report, lang: str, paragraph: str) -> Table:
    zh = lang == "zh"
    rows: list[tuple[Cell, ...]] = [(label, value) for label, value in period_lines(report, lang)]
    for site in report.sites:
        home = site.homepage
        checked = [c for c in site.columns if c.stale is not None]
        rows += [
            ("网站" if zh else "Site", f"{site.name} — {site.title}"),
            ("首页可用率" if zh else "Homepage uptime", floor_ratio(home.uptime_exact, 3) if home else None),
            ("首页中断次数" if zh else "Homepage outages", len(home.outages) if home else None),
            ("栏目数" if zh else "Columns", len(site.columns)),
            ("超期未更新栏目" if zh else "Stale columns", sum(1 for c in checked if c.stale)),
            ("空白栏目" if zh else "Blank columns", sum(1 for c in checked if c.blank)),
            ("期内发布信息" if zh else "Items in period", sum(c.items_in_period for c in site.columns)),
        ]
    rows.append(("年度报告段落" if zh else "Paragraph (zh)", paragraph))
    return _make("overview", report, lang, (TEXT, AUTO), rows)


def _page_row(site: SiteReport, page: PageReport) -> tuple[Cell, ...]:
    s = page.stats
    return (
        site.name, page.name, page.kind, floor_ratio(page.uptime_exact, 3), floor_ratio(page.coverage_exact, 1),
        days(s.up_ms), days(s.down_ms), days(s.blocked_ms), days(s.unknown_ms), len(page.outages),
        days(page.longest_outage_ms), days(page.mttr_ms), page.blips, s.scheduled, s.scheduled_failed,
    )  # fmt: skip


def _pages(report: Report, lang: str, paragraph: str) -> Table:
    rows = [_page_row(site, page) for site in report.sites for page in site.pages]
    times = (DURATION,) * 4
    kinds = (TEXT, TEXT, TEXT, PCT, PCT1, *times, INT, DURATION, DURATION, INT, INT, INT)
    return _make("pages", report, lang, kinds, rows)


def _outages(report: Report, lang: str, paragraph: str) -> Table:
    p, yes_no = report.period, _STATES[lang]
    rows: list[tuple[Cell, ...]] = [
        (site.name, page.name, local(o.start_ms, p), local(o.end_ms, p), days(o.duration_ms), o.cause,
         yes_no[o.partly_unobserved])
        for site in report.sites
        for page in site.pages
        for o in page.outages
    ]  # fmt: skip
    return _make("outages", report, lang, (TEXT, TEXT, DATETIME, DATETIME, DURATION, TEXT, TEXT), rows)


def _v1(report: Report, lang: str, paragraph: str) -> Table:
    states = _STATES[lang]
    rows: list[tuple[Cell, ...]] = [
        (site.name, w.week_start, w.checks, w.failed, floor_ratio(w.exact, 2), w.days_under_20, states[w.state])
        for site in report.sites
        for w in site.national_v1
    ]
    return _make("v1", report, lang, (TEXT, DATE, INT, INT, PCT2, INT, TEXT), rows)


def column_state(column: ColumnReport) -> str:
    if column.stale is None:
        return "unchecked"
    return "blank" if column.blank else "stale" if column.stale else "ok"


def _columns(report: Report, lang: str, paragraph: str) -> Table:
    states = _STATES[lang]
    rows: list[tuple[Cell, ...]] = [
        (site.name, c.name, c.rule.category.value, c.rule.window_days, c.newest_date, c.stale_days,
         c.items_in_period, states[column_state(c)])
        for site in report.sites
        for c in site.columns
    ]  # fmt: skip
    return _make("columns", report, lang, (TEXT, TEXT, TEXT, INT, DATE, INT, INT, TEXT), rows)


def _annual(report: Report, lang: str, paragraph: str) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for site in report.sites:
        if site.annual is not None:
            rows += [(site.name, section, field, value) for section, field, value in site.annual.rows()]
    table = _make("annual", report, lang, (TEXT, TEXT, TEXT, AUTO), rows)
    p = report.period
    whole = (p.first.month, p.first.day, p.last.month, p.last.day) == (1, 1, 12, 31) and p.first.year == p.last.year
    span = f"{p.first.year}年度" if whole else f"{p.first} .. {p.last}"
    return Table(table.key, table.name, f"政府网站工作年度报表（{span}）", table.headers, table.kinds, table.rows)


# -- the sheets of optional features: 链接可用性 (docs/links.md) and 安全与标识 (docs/integrity.md) --


_LINK_CLASSES = ("broken", "soft_404", "suspect", "blocked", "excluded", "ok")
_LINK_TYPES = ("page", "image", "attachment", "other")


def _links(report: Report, lang: str) -> Table | None:
    """One row per site with link passes; None when no site has any (the sheet is left out)."""
    rows = [_link_row(site.name, site.links, report.period, lang) for site in report.sites if site.links is not None]
    if not rows:
        return None
    kinds = (TEXT, INT, DEC2, INT, DATE, DATETIME, DATETIME, *(INT,) * (2 + 6 + 4), TEXT, INT)
    return _make("links", report, lang, kinds, rows)


def _link_row(name: str, links: LinkReport, period: Period, lang: str) -> tuple[Cell, ...]:
    """The report's link section as cells: the average as the CSV rounds it (2 decimals)."""
    sweep = links.sweep
    average = link_csv(links)["links_homepage_broken_avg"]
    head: tuple[Cell, ...] = (name, links.days_with_pass, average, links.homepage_broken_max, links.max_day)
    if sweep is None:
        return (*head, *(None,) * (2 + 2 + 6 + 4 + 1), links.fixed)
    return (
        *head, local(sweep.started * 1000, period), local(sweep.ended * 1000, period), sweep.pages_read, sweep.links,
        *(sweep.by_class.get(c, 0) for c in _LINK_CLASSES), *(sweep.broken_by_type.get(t, 0) for t in _LINK_TYPES),
        _STATES[lang][sweep.budget_hit], links.fixed,
    )  # fmt: skip


IntegrityBlock = Callable[[SiteReport, Period, str], list[tuple[Cell, ...]]]
"""One block of the 安全与标识 sheet: a site's rows without the site cell (10 cells each: section,
item, value, level, score, page, first seen, last seen, resolved, evidence; `_fact` pads a
section/item/value row). A block returns no rows when the site has nothing for it; the sheet
is left out when every block of every site is empty. Append a block to `INTEGRITY_BLOCKS`."""

_I = {
    "zh": {"identity": "网站标识", "present": "有", "missing": "缺少", "uninspected": "尚未检测",
           "counts": "问题统计", "open": "现有问题", "high": "其中高风险", "low": "其中低风险",
           "resolved": "本期已解决", "events": "本期事件", "open_rows": "现有问题"},
    "en": {"identity": "Identity", "present": "present", "missing": "missing", "uninspected": "not inspected yet",
           "counts": "Findings", "open": "Open", "high": "Open, high", "low": "Open, low",
           "resolved": "Resolved in period", "events": "Events in period", "open_rows": "Open findings"},
}  # fmt: skip


def _fact(section: str, item: str, value: Cell) -> tuple[Cell, ...]:
    return (section, item, value, *(None,) * 7)


def _identity_block(site: SiteReport, period: Period, lang: str) -> list[tuple[Cell, ...]]:
    """Each identity element the homepage carried at its latest reading (有/缺少)."""
    summary, words = site.integrity, _I[lang]
    if summary is None or not summary.observed:
        return []
    if summary.identity is None:
        return [_fact(words["identity"], words["identity"], words["uninspected"])]
    return [
        _fact(words["identity"], ELEMENT_ZH[e] if lang == "zh" else e.value, words["present" if ok else "missing"])
        for e, ok in summary.identity.items()
    ]


def _counts_block(site: SiteReport, period: Period, lang: str) -> list[tuple[Cell, ...]]:
    """Open findings (high, low) at the period's end, findings resolved in it, events by kind."""
    summary, words = site.integrity, _I[lang]
    if summary is None or not summary.observed:
        return []
    rows = [
        _fact(words["counts"], words["open"], len(summary.open)),
        _fact(words["counts"], words["high"], summary.open_high),
        _fact(words["counts"], words["low"], len(summary.open) - summary.open_high),
        _fact(words["counts"], words["resolved"], len(summary.resolved)),
    ]
    return rows + [_fact(words["events"], kind, n) for kind, n in sorted(summary.events.items())]


def _finding_rows(section: str, rows: Sequence[StoredFinding], period: Period, lang: str) -> list[tuple[Cell, ...]]:
    """One row per finding, as `monitor findings` shows it (times as local date-time cells)."""
    out: list[tuple[Cell, ...]] = []
    for row in rows:
        t, f = row.tracked, row.tracked.finding
        level = LEVEL_ZH[f.level] if lang == "zh" else f.level.value
        times = (t.first_seen, t.last_seen, t.resolved_at)
        when = [local(None if ts is None else ts * 1000, period) for ts in times]
        out.append((section, f"{f.kind.value}/{f.technique}", f.target, level, f.score, f.page, *when, f.evidence))
    return out


def _open_block(site: SiteReport, period: Period, lang: str) -> list[tuple[Cell, ...]]:
    summary = site.integrity
    return [] if summary is None else _finding_rows(_I[lang]["open_rows"], summary.open, period, lang)


def _resolved_block(site: SiteReport, period: Period, lang: str) -> list[tuple[Cell, ...]]:
    summary = site.integrity
    return [] if summary is None else _finding_rows(_I[lang]["resolved"], summary.resolved, period, lang)


INTEGRITY_BLOCKS: tuple[IntegrityBlock, ...] = (_identity_block, _counts_block, _open_block, _resolved_block)


def _integrity(report: Report, lang: str) -> Table | None:
    """The blocks of every site in turn; None when they are all empty (the sheet is left out)."""
    p = report.period
    rows = [(site.name, *row) for site in report.sites for block in INTEGRITY_BLOCKS for row in block(site, p, lang)]
    if not rows:
        return None
    kinds = (TEXT, TEXT, TEXT, AUTO, TEXT, INT, TEXT, DATETIME, DATETIME, DATETIME, TEXT)
    return _make("integrity", report, lang, kinds, rows)
