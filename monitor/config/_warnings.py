"""Warnings: settings that are accepted but worth a line (short intervals, TLS off, tags the
年度报表 does not count)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config._document import RawConfig
from monitor.config._resolve import resolve_all
from monitor.models import Page

MIN_QUIET_INTERVAL_S = 60.0
"""Intervals below this are accepted (tests, demos) but warned about."""


FORM_TAGS = ("概况类", "政务动态", "信息公开目录", "专栏专题", "政策解读")
"""Column tags the 政府网站工作年度报表 counts (monitor/report/_annual.py; docs/reports.md)."""
_FORM_TAG_STEMS = ("概况", "动态", "公开", "专栏", "专题", "解读")


def _tag_warnings(raw: RawConfig) -> list[str]:
    """A tag that looks like a 年度报表 tag but is not one (专题专栏, 政策解读类) counts nowhere:
    say so, since the form would silently show 0."""
    out = []
    for site in raw.sites:
        tagged = [(page.name, page.tags) for page in site.pages]
        tagged += [(name, pin.tags) for name, pin in site.discovery.columns.items()]
        for name, tags in tagged:
            for tag in tags:
                if tag not in FORM_TAGS and any(stem in tag for stem in _FORM_TAG_STEMS):
                    out.append(
                        f"{site.name}/{name}: tag {tag!r} is not one the 年度报表 counts ({', '.join(FORM_TAGS)})"
                    )
    return out


def config_warnings(raw: RawConfig, pages: Sequence[Page] | None = None) -> list[str]:
    """Every warning; `pages`: every configured page resolved, when the caller has them."""
    warnings = _tag_warnings(raw)
    resolved = pages if pages is not None else [page for site in raw.sites for page in resolve_all(raw, site)]
    for page in resolved:
        if page.interval_s < MIN_QUIET_INTERVAL_S:
            warnings.append(
                f"{page.site}/{page.name}: interval {page.interval_s:g}s is below {MIN_QUIET_INTERVAL_S:g}s; "
                "fine for tests and demos, too aggressive for a real portal"
            )
        if page.timeout_s > page.interval_s:
            warnings.append(
                f"{page.site}/{page.name}: timeout {page.timeout_s:g}s is longer than the interval"
                f" {page.interval_s:g}s; a visit still running when the next is due makes that one skipped"
            )
        if not page.verify_tls:
            warnings.append(f"{page.site}/{page.name}: TLS certificate verification is off")
    return warnings
