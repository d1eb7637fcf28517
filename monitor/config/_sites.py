"""The `defaults:` and `sites:` sections: probe settings, pages, discovery, identity."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from monitor.config._fields import (
    MAX_INTERVAL_S,
    Headers,
    Interval,
    Jitter,
    Size,
    Strict,
    Timeout,
    duration_at_most,
)
from monitor.config._links import LinksConfig, SiteLinks
from monitor.models import Category, PageKind

DEFAULT_USER_AGENT = "portal-monitor/0.1 (government portal availability and freshness monitor)"


class IntervalByKind(Strict):
    """Check interval per page kind."""

    homepage: Interval = 600.0
    catalogue: Interval = 3600.0
    column: Interval = 3600.0
    page: Interval = 3600.0


def _interval_by_kind(value: Any) -> Any:
    """A single duration applies to every kind; a mapping sets kinds one by one."""
    if isinstance(value, dict | IntervalByKind):
        return value
    seconds = duration_at_most(MAX_INTERVAL_S, positive=True)(value)
    return {kind.value: seconds for kind in PageKind}


class Defaults(Strict):
    """Probe settings that pages inherit (top-level `defaults:`, overridable per site)."""

    interval: Annotated[IntervalByKind, BeforeValidator(_interval_by_kind)] = IntervalByKind()
    timeout: Timeout = 15.0
    failure_threshold: int = Field(2, ge=1, le=100)
    retry_delay: Interval = 30.0
    max_body: Size = 5 * 1024 * 1024
    per_host_concurrency: int = Field(2, ge=1, le=1000)
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1, max_length=512)
    jitter: Jitter = 0.0
    verify_tls: bool = True
    max_redirects: int = Field(10, ge=0, le=50)
    blocked_is_down: bool = False
    headers: Headers = Field(default_factory=dict)
    links: LinksConfig = LinksConfig()


class SiteDefaults(Strict):
    """A site's partial override of `defaults` (only the keys given replace the global ones)."""

    interval: Annotated[IntervalByKind, BeforeValidator(_interval_by_kind)] | None = None
    timeout: Timeout | None = None
    failure_threshold: int | None = Field(None, ge=1, le=100)
    retry_delay: Interval | None = None
    max_body: Size | None = None
    per_host_concurrency: int | None = Field(None, ge=1, le=1000)
    user_agent: str | None = Field(None, min_length=1, max_length=512)
    jitter: Jitter | None = None
    verify_tls: bool | None = None
    max_redirects: int | None = Field(None, ge=0, le=50)
    blocked_is_down: bool | None = None
    headers: Headers | None = None


class Selectors(Strict):
    """CSS selectors for a page the extractor's heuristics cannot read."""

    item: str = Field(min_length=1)
    date: str | None = None


class PageConfig(Strict):
    """One monitored page of a site."""

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2000)
    kind: PageKind = PageKind.PAGE
    interval: Interval | None = None
    timeout: Timeout | None = None
    category: Category | None = None
    stale_days: int | None = Field(None, ge=1, le=36500)
    expect: str | None = Field(None, min_length=1)
    selectors: Selectors | None = None
    verify_tls: bool | None = None
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _custom_needs_days(self) -> PageConfig:
        if self.category is Category.CUSTOM and self.stale_days is None:
            raise ValueError("category 'custom' needs stale_days")
        return self


class ColumnPin(Strict):
    """Settings pinned to a discovered column, matched by its name."""

    category: Category | None = None
    stale_days: int | None = Field(None, ge=1, le=36500)
    tags: list[str] = Field(default_factory=list)


class Discovery(Strict):
    """How columns found on catalogue pages are monitored."""

    exclude: list[str] = Field(default_factory=list)
    columns: dict[str, ColumnPin] = Field(default_factory=dict)
    max_columns: int = Field(200, ge=0, le=5000)


_SITE_CODE_RE = re.compile(r"^(?:bm\d{8}|\d{10})$")


def _site_code(value: str) -> str:
    """The expected 网站标识码: 10 digits (local sites) or `bm` + 8 digits (State Council departments)."""
    code = value.strip().lower()
    if code and not _SITE_CODE_RE.match(code):
        raise ValueError(f"a 网站标识码 is 10 digits or bm + 8 digits, got {value!r}")
    return code


class SiteIdentity(Strict):
    """The site's identity fields of the 政府网站工作年度报表, as the office knows them (the
    monitor fills these cells of the form from here; it never guesses them). The 网站标识码 is
    the site's `site_code`, which the integrity checks also compare with the page."""

    sponsor: str | None = Field(None, min_length=1, max_length=200, description="主办单位")
    icp: str | None = Field(None, min_length=1, max_length=100, description="ICP备案号")
    police: str | None = Field(None, min_length=1, max_length=100, description="公安机关备案号")


class SiteConfig(Strict):
    """One portal."""

    name: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    base_url: str
    defaults: SiteDefaults = SiteDefaults()
    allowed_hosts: list[str] = Field(default_factory=list)
    discover: bool = True
    discovery: Discovery = Discovery()
    links: SiteLinks = SiteLinks()
    pages: list[PageConfig] = Field(min_length=1)
    site_code: Annotated[str, AfterValidator(_site_code)] = ""
    """The 网站标识码 the site's pages must show ("" : not checked against a configured value)."""
    identity: SiteIdentity = SiteIdentity()
    ipv6: bool = True
    """Read the homepage over IPv6 too (AAAA lookup, fetch, IPv4/IPv6 consistency) on `ipv6.interval`."""
