"""IPv6 for people: the line of `monitor status` and of the table/markdown reports, the JSON and CSV
fields and the zh sentence (docs/integrity.md#ipv6), from the stored IPv6 series (monitor.store).

A host without AAAA records is "no IPv6", never "down"; the success ratio counts only readings that
reached the point of fetching (ok or down), exactly and rounded down like every other percentage.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from monitor.integrity import Ipv6State
from monitor.percent import pct, ratio_of
from monitor.store import Ipv6Summary, Store, ipv6_summaries

CSV_IPV6_COLUMNS = ("ipv6_state", "ipv6_success_pct", "ipv6_consistent")
"""The IPv6 columns of the report CSV (docs/reports.md), on every row of the site."""


def site_ipv6(store: Store, sites: Sequence[str], start: float, end: float) -> list[Ipv6Summary | None]:
    """Per site (in order), its IPv6 readings in [start, end) summed up; None: no reading."""
    found = ipv6_summaries(store, start, end)
    return [found.get(site) for site in sites]


def success(summary: Ipv6Summary) -> Fraction | None:
    """The exact success share of the counted readings (None: none counted)."""
    return ratio_of(summary.ok, summary.ok + summary.down)


def ipv6_line(summary: Ipv6Summary | None) -> str:
    """`ipv6: …` for status and the table/markdown reports."""
    if summary is None:
        return "ipv6: not read yet"
    latest = summary.latest
    if latest.state is Ipv6State.NO_IPV6:
        return "ipv6: no AAAA record for the homepage host (no IPv6)"
    counted = summary.ok + summary.down
    if not counted:
        return f"ipv6: not known ({latest.error_kind or latest.state.value}: {latest.error})"
    line = f"ipv6: {pct(success(summary), 1)} of {counted} readings ok; latest {latest.state.value}"
    if latest.state is Ipv6State.DOWN:
        line += f" ({latest.error_kind}: {latest.error})"
    if latest.consistent is not None:
        line += "; same as IPv4" if latest.consistent else "; content differs from IPv4"
    if latest.links_checked:
        line += f"; {latest.links_ok} of {latest.links_checked} internal links reachable over IPv6"
    return line


def ipv6_json(summary: Ipv6Summary | None) -> dict[str, object] | None:
    """JSON-ready counts and the latest reading (None: never read)."""
    if summary is None:
        return None
    latest = summary.latest
    share = success(summary)
    return {
        "state": latest.state.value,
        "ok": summary.ok,
        "down": summary.down,
        "no_ipv6": summary.no_ipv6,
        "unknown": summary.unknown,
        "success_ratio": None if share is None else float(share),
        "inconsistent": summary.inconsistent,
        "latest": {
            "address": latest.address,
            "status": latest.status,
            "error_kind": latest.error_kind or None,
            "consistent": latest.consistent,
            "links_checked": latest.links_checked,
            "links_ok": latest.links_ok,
        },
    }


def ipv6_csv(summary: Ipv6Summary | None) -> dict[str, object]:
    """The CSV_IPV6_COLUMNS of a site."""
    if summary is None:
        return dict.fromkeys(CSV_IPV6_COLUMNS)
    share = success(summary)
    consistent = summary.latest.consistent
    return {
        "ipv6_state": summary.latest.state.value,
        "ipv6_success_pct": None if share is None else pct(share, 3).rstrip("%"),
        "ipv6_consistent": None if consistent is None else int(consistent),
    }


def ipv6_zh(summary: Ipv6Summary | None) -> str:
    """The one zh sentence: success ratio and consistency, or no AAAA record ("" when never read)."""
    if summary is None:
        return ""
    if summary.latest.state is Ipv6State.NO_IPV6:
        return "首页域名无IPv6解析（AAAA）记录。"
    share = success(summary)
    if share is None:
        return "IPv6访问情况未能检测。"
    sentence = f"IPv6访问成功率{pct(share, 1)}"
    if summary.latest.consistent is True:
        sentence += "，与IPv4内容一致"
    elif summary.latest.consistent is False:
        sentence += "，与IPv4内容不一致"
    links = ratio_of(summary.latest.links_ok, summary.latest.links_checked)
    if links is not None:
        sentence += f"，抽查内部链接{summary.latest.links_checked}条，IPv6可访问率{pct(links, 1)}"
    return sentence + "。"
