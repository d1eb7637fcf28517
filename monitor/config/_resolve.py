"""The validated `Config`, and every page's settings resolved from defaults, site and page."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from monitor.config._document import RawConfig
from monitor.config._links import LinksConfig
from monitor.config._sites import Defaults, PageConfig, SiteConfig
from monitor.models import Page, PageKind
from monitor.origins import basic_authorization, same_site, without_userinfo
from monitor.shard import Shard


@dataclass(frozen=True)
class Config:
    """The validated configuration: raw settings plus resolved pages and paths."""

    raw: RawConfig
    source: Path | None
    db_path: Path
    listen_host: str
    listen_port: int
    warnings: tuple[str, ...]
    shard: Shard | None = None
    """The shard in force (its sites only, its own database), or None: every site."""

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.raw.timezone)

    @property
    def sites(self) -> list[SiteConfig]:
        return self.raw.sites

    def site(self, name: str) -> SiteConfig:
        for site in self.raw.sites:
            if site.name == name:
                return site
        raise KeyError(name)

    def pages(self) -> list[Page]:
        """Every configured page with defaults applied (discovered columns are added elsewhere)."""
        return list(self._resolved_pages)

    @functools.cached_property
    def _resolved_pages(self) -> tuple[Page, ...]:
        """`pages()`, resolved once: the config is immutable (frozen models), and a national one
        has thousands of sites that the report, the overview and each shard's status all list."""
        return tuple(page for site in self.raw.sites for page in resolve_all(self.raw, site))


def with_pages(config: Config, pages: tuple[Page, ...]) -> Config:
    """`config` with `pages()` known already: `pages` are its configured pages, resolved (the
    parser resolves them for its own checks; a national config's take a while)."""
    config.__dict__["_resolved_pages"] = pages
    return config


def effective_defaults(raw: RawConfig, site: SiteConfig) -> Defaults:
    """Global defaults with the site's overrides applied (the global ones, already validated, when
    the site overrides nothing: the common case, and a thousand sites' worth of validation saved)."""
    overrides = {k: v for k, v in site.defaults.model_dump(exclude_none=True).items()}
    if not overrides:
        return raw.defaults
    merged = raw.defaults.model_dump()
    merged.update(overrides)
    return Defaults.model_validate(merged)


def site_links(raw: RawConfig, site: SiteConfig) -> LinksConfig:
    """The site's link settings: `defaults.links` with the site's `links:` applied; the site's
    `exclude` patterns add to the global ones."""
    merged = raw.defaults.links.model_dump()
    overrides = site.links.model_dump(exclude_none=True)
    merged["exclude"] = [*merged["exclude"], *overrides.pop("exclude", [])]
    merged.update(overrides)
    return LinksConfig.model_validate(merged)


def resolve_page(raw: RawConfig, site: SiteConfig, page: PageConfig) -> Page:
    """A configured page's settings as the checker uses them."""
    return _resolved(effective_defaults(raw, site), site, page)


def _resolved(d: Defaults, site: SiteConfig, page: PageConfig) -> Page:
    """`resolve_page` with the site's effective defaults `d` already merged."""
    return build_page(
        d,
        site,
        name=page.name,
        url=urljoin(site.base_url, page.url),
        kind=page.kind,
        interval_s=page.interval,
        timeout_s=page.timeout,
        category=page.category,
        stale_days=page.stale_days,
        expect=page.expect,
        item_selector=page.selectors.item if page.selectors else None,
        date_selector=page.selectors.date if page.selectors else None,
        verify_tls=page.verify_tls,
        tags=tuple(page.tags),
    )


def build_page(
    d: Defaults,
    site: SiteConfig,
    *,
    name: str,
    url: str,
    kind: PageKind,
    interval_s: float | None = None,
    timeout_s: float | None = None,
    verify_tls: bool | None = None,
    **fields: Any,
) -> Page:
    """A Page from effective defaults plus the page's own settings (None = inherit).

    Credentials in the URL (`user:password@`, the page's own or the site base URL's for pages on
    the same site) are sent as an `Authorization: Basic` header, which is never logged, exported or
    stored, and taken out of the URL, which is (pages table, items, events, reports).
    """
    return Page(
        site=site.name,
        name=name,
        url=without_userinfo(url),
        kind=kind,
        interval_s=interval_s if interval_s is not None else getattr(d.interval, kind.value),
        timeout_s=timeout_s if timeout_s is not None else d.timeout,
        failure_threshold=d.failure_threshold,
        retry_delay_s=d.retry_delay,
        max_body_bytes=d.max_body,
        per_host_concurrency=d.per_host_concurrency,
        user_agent=d.user_agent,
        jitter_s=d.jitter,
        verify_tls=verify_tls if verify_tls is not None else d.verify_tls,
        allowed_hosts=site_hosts(site),
        max_redirects=d.max_redirects,
        headers=_headers(d, site, url),
        blocked_is_down=d.blocked_is_down,
        **fields,
    )


def _headers(d: Defaults, site: SiteConfig, url: str) -> tuple[tuple[str, str], ...]:
    """Configured headers, plus Basic authorization from URL credentials unless one is configured."""
    headers = dict(d.headers)
    if "@" not in url and "@" not in site.base_url:  # no credentials anywhere: skip parsing both URLs
        return tuple(sorted(headers.items()))
    if not any(name.lower() == "authorization" for name in headers):
        own = basic_authorization(url)
        inherited = basic_authorization(site.base_url) if same_site(url, site.base_url) else None
        if own or inherited:
            headers["Authorization"] = own or inherited or ""
    return tuple(sorted(headers.items()))


def integrity_words(config: Config) -> str:
    """The integrity word list's path ("" for the shipped list), relative ones against the file's directory."""
    words = config.raw.integrity.words
    if not words:
        return ""
    base_dir = config.source.resolve().parent if config.source is not None else Path.cwd()
    return str(base_dir / Path(words).expanduser())


def site_base_url(site: SiteConfig) -> str:
    """The site's base URL as stored and shown: without credentials."""
    return without_userinfo(site.base_url)


def site_hosts(site: SiteConfig) -> tuple[str, ...]:
    """Hosts requests of this site may go to: the base URL's host plus `allowed_hosts`."""
    base_host = (urlsplit(site.base_url).hostname or "").lower()
    return tuple(dict.fromkeys([base_host, *(h.lower() for h in site.allowed_hosts)]))


def with_shard(config: Config, shard: Shard) -> Config:
    """The config as shard `shard` runs it: only the sites it owns, and its own database beside the
    configured one (so shards sharing one config.yaml never share a file). A site named in no shard
    cannot happen: every site hashes to exactly one."""
    raw = config.raw.model_copy(update={"sites": [s for s in config.raw.sites if shard.owns(s.name)]})
    return dataclasses.replace(config, raw=raw, db_path=shard.db_path(config.db_path), shard=shard)


def resolve_all(raw: RawConfig, site: SiteConfig) -> list[Page]:
    """Every configured page of `site`, resolved (its effective defaults merged once)."""
    d = effective_defaults(raw, site)
    return [_resolved(d, site, page) for page in site.pages]
