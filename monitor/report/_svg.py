"""The HTML report's charts as inline SVG, drawn by hand.

Hand-made rather than a charting library: four simple charts (bars, lines, a strip) need only
rectangles, polylines and text, and a library (matplotlib, pygal) would add a large dependency
and fonts or scripts to a file that must open offline. Every value is escaped; pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from monitor.report._build import ColumnReport, SiteReport, WeekV1
from monitor.report._series import DayPoint
from monitor.rules import V1_VETO_RATIO

W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 220, 48, 48, 16, 28
"""Chart size in CSS pixels and the margins around the plot."""

TAG_COLOURS = {"概况类": "#7a9cc6", "政务动态": "#2f6db5", "信息公开目录": "#e39b3b"}


def _svg(name: str, label: str, body: list[str], height: int = H) -> str:
    return (
        f'<svg class="chart" data-chart="{name}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {W} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "axis") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'


def availability(site: SiteReport, label: str) -> str:
    """Bars: daily homepage uptime on a 90–100% axis (red where the day had down time, grey
    without data); line: each ISO week's V1 failure ratio on 0–10% with the 5% veto line."""
    days = site.days
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / max(1, len(days))
    body = [_text(LEFT - 4, TOP + 4, "100%", "end"), _text(LEFT - 4, TOP + plot_h, "90%", "end")]
    body.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{W - RIGHT}" y2="{TOP + plot_h}" class="grid"/>')
    for i, day in enumerate(days):
        x = LEFT + i * step
        body.append(_day_bar(day, x, step, plot_h))
        if i % max(1, len(days) // 8) == 0:
            body.append(_text(x, H - 8, day.date.strftime("%m-%d")))
    body += _v1_line(site.national_v1, days, step, plot_h)
    return _svg("availability", label, body)


def _day_bar(day: DayPoint, x: float, step: float, plot_h: int) -> str:
    up = day.uptime_exact
    if up is None:
        return f'<rect x="{x:.1f}" y="{TOP}" width="{max(step - 1, 0.5):.1f}" height="{plot_h}" class="nodata"/>'
    share = max(0.0, (float(up) - 0.9) / 0.1)
    height = max(1.0, share * plot_h)
    cls = "down" if day.stats.down_ms else "up"
    mark = f"<title>{day.date} {float(up) * 100:.3f}%</title>"
    return (
        f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{max(step - 1, 0.5):.1f}" '
        f'height="{height:.1f}" class="{cls}">{mark}</rect>'
    )


def _v1_line(weeks: Sequence[WeekV1], days: Sequence[DayPoint], step: float, plot_h: int) -> list[str]:
    """Weekly ratio points (0–10% on the right axis) at each week's first day in the period."""
    index = {day.date: i for i, day in enumerate(days)}
    scale = plot_h / 0.10
    points = []
    for week in weeks:
        first = min((i for d, i in index.items() if 0 <= (d - week.week_start).days < 7), default=None)
        if first is not None and week.ratio is not None:
            points.append(f"{LEFT + first * step:.1f},{TOP + plot_h - min(week.ratio, 0.1) * scale:.1f}")
    veto_y = TOP + plot_h - V1_VETO_RATIO * scale
    out = [
        f'<line x1="{LEFT}" y1="{veto_y:.1f}" x2="{W - RIGHT}" y2="{veto_y:.1f}" class="veto"/>',
        _text(W - RIGHT + 4, veto_y + 4, "V1 5%"),
        _text(W - RIGHT + 4, TOP + plot_h, "0%"),
    ]
    if points:
        out.append(f'<polyline points="{" ".join(points)}" class="v1"/>')
    return out


def latency(days: Sequence[DayPoint], label: str) -> str:
    """Median and p95 response time (ms) per day; gaps where no raw checks remain."""
    top = max((d.p95_ms or 0 for d in days), default=0) or 1
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / max(1, len(days))
    body = [_text(LEFT - 4, TOP + 4, f"{top} ms", "end"), _text(LEFT - 4, TOP + plot_h, "0", "end")]
    for attr, cls in (("p95_ms", "p95"), ("median_ms", "median")):
        points = [
            f"{LEFT + (i + 0.5) * step:.1f},{TOP + plot_h - getattr(d, attr) / top * plot_h:.1f}"
            for i, d in enumerate(days)
            if getattr(d, attr) is not None
        ]
        if points:
            body.append(f'<polyline points="{" ".join(points)}" class="{cls}"/>')
    body += [
        _text(W - RIGHT + 4, TOP + 12, "p95", cls="p95-label"),
        _text(W - RIGHT + 4, TOP + 28, "中位数", cls="median-label"),
    ]
    return _svg("latency", label, body)


def freshness(columns: Sequence[ColumnReport], label: str) -> str:
    """One strip per column: days since its newest item against its window (the window line
    at the middle; a strip past it is stale); grey for blank or unchecked columns."""
    row_h = 22
    height = TOP + row_h * max(1, len(columns)) + 8
    mid = LEFT + 140 + (W - LEFT - 140 - RIGHT) / 2
    half = (W - LEFT - 140 - RIGHT) / 2
    body = [f'<line x1="{mid:.1f}" y1="{TOP - 4}" x2="{mid:.1f}" y2="{height - 4}" class="veto"/>']
    for i, c in enumerate(columns):
        y = TOP + i * row_h
        body.append(_text(LEFT + 132, y + 14, c.name, "end", "label"))
        window = c.rule.window_days
        if c.stale is None or c.blank or c.stale_days is None or not window:
            body.append(f'<rect x="{LEFT + 140}" y="{y + 3}" width="{2 * half:.1f}" height="14" class="nodata"/>')
            continue
        width = max(2.0, min(c.stale_days / window, 2.0) * half)
        cls = "down" if c.stale else "up"
        body.append(f'<rect x="{LEFT + 140}" y="{y + 3}" width="{width:.1f}" height="14" class="{cls}"/>')
        body.append(_text(LEFT + 144 + width, y + 14, f"{c.stale_days}/{window}"))
    return _svg("freshness", label, body, height)


def items_per_month(monthly: Sequence[tuple[str, str, int]], label: str) -> str:
    """Grouped bars: items per month per 信息发布 tag."""
    months = sorted({month for _, month, _ in monthly})
    tags = [tag for tag in TAG_COLOURS if any(t == tag for t, _, _ in monthly)]
    top = max((n for _, _, n in monthly), default=0) or 1
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    group = plot_w / max(1, len(months))
    bar = group * 0.8 / max(1, len(tags))
    counts = {(tag, month): n for tag, month, n in monthly}
    body = [_text(LEFT - 4, TOP + 4, str(top), "end"), _text(LEFT - 4, TOP + plot_h, "0", "end")]
    for m, month in enumerate(months):
        body.append(_text(LEFT + m * group + group / 2, H - 8, month[2:], "middle"))
        for t, tag in enumerate(tags):
            height = counts.get((tag, month), 0) / top * plot_h
            x = LEFT + m * group + group * 0.1 + t * bar
            body.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{TAG_COLOURS[tag]}"><title>{escape(tag)} {month}: {counts.get((tag, month), 0)}</title></rect>'
            )
    for t, tag in enumerate(tags):
        body.append(f'<rect x="{W - RIGHT - 300 + t * 100}" y="2" width="10" height="10" fill="{TAG_COLOURS[tag]}"/>')
        body.append(_text(W - RIGHT - 286 + t * 100, 11, tag, cls="label"))
    return _svg("items", label, body)
