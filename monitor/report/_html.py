"""The report as one self-contained, printable HTML page (`monitor report --format html -o FILE`):
the zh paragraph on top, inline SVG charts (`_svg`), and the tables of the workbook (`_sheets`).

No network: no scripts, fonts, images or stylesheets are fetched. The font stack names the
fonts a Chinese office machine has (Microsoft YaHei, SimSun on Windows; PingFang, Hiragino on
macOS; Noto/Source Han, WenQuanYi on Linux) before the generic sans-serif. Pure formatting.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from monitor.report._build import Report, SiteReport
from monitor.report._sheets import (
    AUTO,
    DEC2,
    DURATION,
    PCT,
    PCT1,
    PCT2,
    Cell,
    Table,
    auto_kind,
    period_lines,
    tables,
)
from monitor.report._svg import availability, freshness, items_per_month, latency

CSS = """
body { font-family: "Microsoft YaHei", "微软雅黑", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC",
  "Source Han Sans SC", "WenQuanYi Micro Hei", "SimSun", "宋体", sans-serif; font-size: 10pt; color: #222;
  margin: 0 auto; max-width: 190mm; }
h1 { font-size: 15pt; margin: 0 0 4px; } h2 { font-size: 12pt; margin: 10px 0 4px; }
h3 { font-size: 10.5pt; margin: 8px 0 2px; }
.meta { color: #555; margin: 0 0 6px; } .paragraph { line-height: 1.6; text-indent: 2em; }
section.page { break-before: page; } section.page:first-of-type { break-before: auto; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; margin-bottom: 6px; }
th, td { border: 1px solid #bbb; padding: 1px 4px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #dde5f0; }
thead { display: table-header-group; } tr { break-inside: avoid; }
svg.chart { display: block; margin: 2px 0 8px; } svg .axis, svg .label { font-size: 10px; fill: #444; }
svg .up { fill: #3a8f4e; } svg .down { fill: #c8362d; } svg .nodata { fill: #ddd; }
svg .grid { stroke: #999; } svg .veto { stroke: #c8362d; stroke-dasharray: 4 3; }
svg .v1 { fill: none; stroke: #1d4f91; stroke-width: 1.5; }
svg .p95 { fill: none; stroke: #e39b3b; stroke-width: 1.5; }
svg .median { fill: none; stroke: #1d4f91; stroke-width: 1.5; }
svg .p95-label { fill: #e39b3b; font-size: 10px; } svg .median-label { fill: #1d4f91; font-size: 10px; }
@page { size: A4; margin: 12mm; }
@media print { body { max-width: none; } }
"""

_WORDS = {
    "zh": ("监测报告", "首页可用率（按日）与V1周失败率", "首页响应时间（按日中位数与95分位，毫秒）",
           "栏目更新情况（距最新信息天数/更新期限）", "各类信息每月发布量", "明细表"),
    "en": ("Monitoring report", "Homepage uptime per day and the V1 weekly failure ratio",
           "Homepage response time per day (median and p95, ms)", "Column freshness (age / window, days)",
           "Items per month by report category", "Tables"),
}  # fmt: skip


def to_html(report: Report, *, lang: str, paragraph: str) -> str:
    """The whole page."""
    words = _WORDS[lang]
    sheets = tables(report, lang, paragraph)
    meta = " · ".join(f"{label}：{_show(value, AUTO)}" for label, value in period_lines(report, lang))
    head = f'<h1>{escape(words[0])}</h1><p class="meta">{escape(meta)}</p>'
    paragraphs = "".join(f'<p class="paragraph">{escape(p)}</p>' for p in paragraph.split("\n\n") if p)
    sections = [f'<section class="page">{head}{paragraphs}']
    for index, site in enumerate(report.sites):
        sections.append(_site_charts(site, words, first=index == 0))
    sections.append(f'<section class="page"><h2>{escape(words[5])}</h2>')
    sections += [_table(table) for table in sheets[1:]]
    sections.append("</section>")
    title = f"{words[0]} {report.period.first} .. {report.period.last}"
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{''.join(sections)}</body></html>"
    )


def _site_charts(site: SiteReport, words: tuple[str, ...], *, first: bool) -> str:
    """The site's charts: availability and latency (on the first page for the first site),
    then freshness and items per month on a page of their own."""
    opening = "" if first else '<section class="page">'
    heading = f"<h2>{escape(site.name)} — {escape(site.title)}</h2>"
    top = (
        f"{opening}{heading}<h3>{escape(words[1])}</h3>{availability(site, words[1])}"
        f"<h3>{escape(words[2])}</h3>{latency(site.days, words[2])}</section>"
    )
    monthly = site.annual.monthly if site.annual else ()
    second = (
        f'<section class="page"><h2>{escape(site.title)}</h2><h3>{escape(words[3])}</h3>'
        f"{freshness(site.columns, words[3])}<h3>{escape(words[4])}</h3>{items_per_month(monthly, words[4])}</section>"
    )
    return top + second


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    rows = []
    for row in table.rows:
        cells = []
        for value, kind in zip(row, table.kinds, strict=True):
            kind = auto_kind(value) if kind == AUTO else kind
            cls = ' class="num"' if kind not in ("text",) and value is not None else ""
            cells.append(f"<td{cls}>{escape(_show(value, kind))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<h3>{escape(table.title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _show(value: Cell, kind: str) -> str:
    """A cell as the workbook shows it: percentages already rounded down, durations h:mm:ss."""
    kind = auto_kind(value) if kind == AUTO else kind
    if value is None:
        return ""
    if kind in (PCT, PCT1, PCT2) and isinstance(value, float):
        digits = {PCT: 3, PCT1: 1, PCT2: 2}[kind]
        return f"{value * 100:.{digits}f}%"
    if kind == DEC2 and isinstance(value, float):
        return f"{value:.2f}"
    if kind == DURATION and isinstance(value, float):
        total = round(value * 86400)
        return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
