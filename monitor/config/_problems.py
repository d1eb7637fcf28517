"""Problems that span several keys, found after the schema: names, URLs, time zone, listen
address, shard, jitter against the interval, the integrity word list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.config._document import RawConfig, parse_listen
from monitor.config._resolve import build_page, effective_defaults, resolve_all
from monitor.config._sites import SiteConfig
from monitor.models import Page, PageKind
from monitor.origins import without_userinfo
from monitor.shard import parse_shard
from monitor.units import format_duration

_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]+$")


def words_problems(raw: RawConfig, base_dir: Path) -> list[str]:
    """The integrity word list must be a readable file (its format is checked when it is loaded)."""
    words = raw.integrity.words
    if not words or not raw.integrity.enabled:
        return []
    path = base_dir / Path(words).expanduser()
    return [] if path.is_file() else [f"integrity.words: {path}: no such file"]


def semantic_problems(raw: RawConfig, resolved: list[list[Page]] | None = None) -> list[str]:
    """Checks that span several keys: names, URLs, timezone, listen address; then, when those
    pass, jitter against each page's interval. `resolved`, when given, receives each site's
    resolved pages (`resolve_all`) that jitter check worked out, for the caller to reuse."""
    problems: list[str] = []
    try:
        ZoneInfo(raw.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone: unknown time zone {raw.timezone!r}")
    try:
        parse_listen(raw.metrics.listen)
    except ValueError as exc:
        problems.append(f"metrics.listen: {exc}")
    if raw.shard is not None:
        try:
            parse_shard(raw.shard)
        except ValueError as exc:
            problems.append(f"shard: {exc}")
    try:
        Path(raw.storage.path).expanduser()
    except RuntimeError:  # "~nosuchuser/x.db": pathlib cannot find that home directory
        user = raw.storage.path.split("/", 1)[0]
        problems.append(f"storage.path: cannot expand {user!r}: no such user, or no home directory")
    seen_sites: set[str] = set()
    for i, site in enumerate(raw.sites):
        problems += _site_problems(f"sites[{i}]", site, seen_sites)
    if not problems:
        pages = [resolve_all(raw, site) for site in raw.sites]
        problems += jitter_problems(raw, pages)
        if resolved is not None:
            resolved += pages
    return problems


def jitter_problems(raw: RawConfig, resolved: Sequence[Sequence[Page]]) -> list[str]:
    """Jitter delays each visit by up to `jitter` after its place on the interval grid; more than half
    the interval would bring visits closer than half an interval together (the V1 rule wants spaced
    visits). Configured pages (`resolved`: each site's, as `resolve_all` gives them), and the
    column interval discovered columns will get."""
    problems = []
    for i, (site, resolved_pages) in enumerate(zip(raw.sites, resolved, strict=True)):
        pages = [(f"sites[{i}].pages[{j}]", page) for j, page in enumerate(resolved_pages)]
        if site.discover:
            d = effective_defaults(raw, site)
            column = build_page(d, site, name="-", url=site.base_url, kind=PageKind.COLUMN)
            pages.append((f"sites[{i}] (discovered columns)", column))
        for path, page in pages:
            if page.jitter_s > page.interval_s / 2:
                problems.append(
                    f"{path}: jitter {format_duration(page.jitter_s)} is more than half of the interval"
                    f" {format_duration(page.interval_s)}; lower defaults.jitter or lengthen the interval"
                )
    return list(dict.fromkeys(problems))


def _site_problems(path: str, site: SiteConfig, seen_sites: set[str]) -> list[str]:
    problems = []
    if not _NAME_RE.match(site.name):
        problems.append(f"{path}.name: use letters, digits, '-', '_' or '.' only, got {site.name!r}")
    if site.name in seen_sites:
        problems.append(f"{path}.name: duplicate site name {site.name!r}")
    seen_sites.add(site.name)
    url_problem = _url_problem(site.base_url)
    if url_problem:
        problems.append(f"{path}.base_url: {url_problem}")
    seen_pages: set[str] = set()
    for j, page in enumerate(site.pages):
        page_path = f"{path}.pages[{j}]"
        if not _NAME_RE.match(page.name):
            problems.append(f"{page_path}.name: use letters, digits, '-', '_' or '.' only, got {page.name!r}")
        if page.name in seen_pages:
            problems.append(f"{page_path}.name: duplicate page name {page.name!r} in site {site.name!r}")
        seen_pages.add(page.name)
        if not url_problem:
            page_url_problem = _url_problem(urljoin(site.base_url, page.url))
            if page_url_problem:
                problems.append(f"{page_path}.url: {page_url_problem}")
    return problems


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL"
        return f"not a valid URL ({exc}): {without_userinfo(url)!r}"
    shown = without_userinfo(url)
    if parts.scheme not in ("http", "https"):
        return f"must be an http:// or https:// URL, got {shown!r}"
    if not parts.hostname:
        return f"has no host: {shown!r}"
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return f"has an invalid port: {shown!r}"
    return None
