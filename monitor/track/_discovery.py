"""Columns found on catalogue pages -> pages to monitor; pure, no I/O.

Decides which discovered columns are monitored (same site only, not excluded, not already
configured), names them, and applies the categories pinned in config or guessed from the name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Container, Iterable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from monitor.config import Config, RawConfig, SiteConfig, build_page, effective_defaults, resolve_all, site_hosts
from monitor.models import Category, Column, Page, PageKind
from monitor.origins import origin, same_site
from monitor.rules import guess_category

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\u4e00-\u9fff]+")
MAX_NAME = 100

log = logging.getLogger("monitor.daemon")


def page_name(column_name: str, url: str) -> str:
    """A config-safe page name from a column name (or the URL path when the name is empty)."""
    name = _UNSAFE.sub("-", column_name).strip("-.")
    if not name:
        path = urlsplit(url).path.strip("/")
        name = _UNSAFE.sub("-", path).strip("-.") or "column"
    return name[:MAX_NAME]


def on_site(url: str, site: SiteConfig) -> bool:
    """Whether a URL belongs to the site: the base URL's scheme, host and port, or an allowed host."""
    return same_site(url, site.base_url, site_hosts(site))


def excluded(column: Column, site: SiteConfig) -> bool:
    """Config `discovery.exclude` entries match a column URL exactly or part of its name."""
    return any(pattern == column.url or pattern in column.name for pattern in site.discovery.exclude)


def discovered_pages(
    raw: RawConfig, site: SiteConfig, catalogue: str, columns: Sequence[Column], reserved: Sequence[Page] = ()
) -> list[Page]:
    """The pages to monitor for the columns one catalogue page lists.

    `reserved` are pages already monitored for other reasons (another catalogue's columns):
    their URLs are not monitored twice and their names are not reused.
    """
    configured = [*resolve_all(raw, site), *reserved]
    configured_urls = {p.url for p in configured}
    taken = {p.name for p in configured}
    pages: list[Page] = []
    for column in columns:
        if len(pages) >= site.discovery.max_columns:
            break
        if column.url in configured_urls or not on_site(column.url, site) or excluded(column, site):
            continue
        name = _unique(page_name(column.name, column.url), taken)
        taken.add(name)
        configured_urls.add(column.url)
        pages.append(column_page(raw, site, name, column.url, catalogue, column.name))
    return pages


def column_page(raw: RawConfig, site: SiteConfig, name: str, url: str, catalogue: str, title: str) -> Page:
    """A discovered column as a Page, with pinned settings or a guessed category."""
    pin = site.discovery.columns.get(title) or site.discovery.columns.get(name)
    return build_page(
        effective_defaults(raw, site),
        site,
        name=name,
        url=url,
        kind=PageKind.COLUMN,
        category=(pin.category if pin else None) or guess_category(title),
        stale_days=pin.stale_days if pin else None,
        tags=tuple(pin.tags) if pin else (),
        discovered_by=catalogue,
    )


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}"[:MAX_NAME] in taken:
        n += 1
    return f"{name}-{n}"[:MAX_NAME]


class RememberedPage(Protocol):
    """What the database remembers of a monitored page (the store's `PageRow` has these)."""

    @property
    def site(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def discovered_by(self) -> str | None: ...
    @property
    def removed(self) -> float | None: ...


def remembered_columns(raw: RawConfig, rows: Iterable[RememberedPage]) -> list[Page]:
    """Discovered columns the database remembers that the config still lets us monitor: on the
    site (same scheme, host and port) and not matched by `discovery.exclude`, as it reads now."""
    sites = {s.name: s for s in raw.sites if s.discover}
    built: dict[str, _SiteColumns] = {}  # only the sites the rows hold: a shard holds a quarter
    guesses: dict[str, Category | None] = {}  # guess_category once a name: sites repeat their names
    pages = []
    for row in rows:
        if row.discovered_by is None or row.removed is not None or row.site not in sites:
            continue
        if row.site not in built:
            built[row.site] = _SiteColumns(raw, sites[row.site], guesses)
        page = built[row.site].page(row.name, row.url, row.discovered_by)
        if page is not None:
            pages.append(page)
    return pages


class _SiteColumns:
    """One site's remembered columns as Pages, built from what every column of the site shares.

    A national shard remembers ~20,000 columns: `column_page` for each (the site's defaults
    merged and validated, its hosts and headers worked out, the same-site rule parsed twice)
    took most of `monitor status`. Here that is done once a site: each column is the site's
    template column with its own name, URL, rule and catalogue, equal field by field to what
    `column_page` builds (tests/track: test_remembered_columns_equal_column_page). Only within
    one call: the config may change between calls.
    """

    def __init__(self, raw: RawConfig, site: SiteConfig, guesses: dict[str, Category | None]) -> None:
        self.raw, self.site = raw, site
        self.configured = {p.name for p in site.pages}
        self.catalogues = {p.name for p in site.pages if p.kind is PageKind.CATALOGUE}
        self.template = column_page(raw, site, "-", site.base_url, "-", "-").__dict__
        self.on_site: dict[object, bool] = {}
        self.guesses = guesses
        self.home = _origin_prefix(site.base_url)

    def page(self, name: str, url: str, catalogue: str) -> Page | None:
        """The column as a Page, or None when the config no longer lets us monitor it."""
        site = self.site
        if name in self.configured or catalogue not in self.catalogues or not self._on_site(url):
            return None
        if site.discovery.exclude and excluded(Column(name, url), site):
            return None
        if "@" in url or "@" in site.base_url:  # credentials: headers and URL need the full path
            return column_page(self.raw, site, name, url, catalogue, name)
        pin = site.discovery.columns.get(name)
        category = (pin.category if pin else None) or self._guess(name)
        stale_days, tags = (pin.stale_days, tuple(pin.tags)) if pin else (None, ())
        return _like(
            self.template,
            name=name,
            url=url,
            category=category,
            stale_days=stale_days,
            tags=tags,
            discovered_by=catalogue,
        )

    def _guess(self, name: str) -> Category | None:
        """`guess_category`, once a name (a shard's sites repeat the same column names)."""
        if name not in self.guesses:
            self.guesses[name] = guess_category(name)
        return self.guesses[name]

    def _on_site(self, url: str) -> bool:
        """`on_site`, which depends on the URL's origin only: judged once an origin (a URL that
        starts with the base URL's own `scheme://host[:port]/` has the base URL's origin)."""
        key = self.home if self.home and url.startswith(self.home) else origin(url)
        if key not in self.on_site:
            self.on_site[key] = on_site(url, self.site)
        return self.on_site[key]


def _like(template: dict[str, Any], **fields: Any) -> Page:
    """A Page with the template Page's fields (its `__dict__`) and `fields`, without `__init__`:
    the fields are already what `build_page` makes (Page validates nothing), and a shard's
    20,000 columns built through the frozen dataclass's `__init__` cost ten times as much."""
    page = object.__new__(Page)
    page.__dict__.update(template)
    page.__dict__.update(fields)
    return page


def _origin_prefix(base_url: str) -> str | None:
    """`scheme://host[:port]/` as the base URL spells it, when that text alone fixes the origin of
    every URL starting with it (no credentials, no IPv6 literal, no characters urlsplit drops)."""
    scheme, sep, rest = base_url.partition("://")
    netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not sep or not netloc or not base_url.isprintable() or any(c in netloc for c in "@[]\\ "):
        return None
    return f"{scheme}://{netloc}/" if origin(base_url) is not None else None


def monitored_pages(config: Config, rows: Iterable[RememberedPage]) -> list[Page]:
    """The pages to monitor (or report on): the configured pages, then the discovered columns the
    database remembers (`rows`) that the config still lets us monitor. One definition for the
    daemon, `monitor status` and `monitor report`."""
    return config.pages() + remembered_columns(config.raw, rows)


COLUMN_GONE_READS = 2
"""A discovered column is dropped only when this many catalogue reads in a row lack it: one
truncated or half-rendered catalogue page must not retire columns (and their schedules)."""


class RemovalConfirmation:
    """Counts, per discovered column, the catalogue reads in a row that lacked it; a column leaves
    only at `COLUMN_GONE_READS`. A column back on the list starts again at zero."""

    def __init__(self) -> None:
        self._absent_reads: dict[tuple[str, str], int] = {}

    def unconfirmed(
        self, current: Iterable[tuple[str, str]], wanted: Container[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """The columns of `current` missing from this read (`wanted`) whose removal is not confirmed yet."""
        waiting = set()
        for key in current:
            if key in wanted:
                self._absent_reads.pop(key, None)
                continue
            reads = self._absent_reads[key] = self._absent_reads.get(key, 0) + 1
            if reads < COLUMN_GONE_READS:
                waiting.add(key)
        if waiting:
            log.info(
                "%s: %d column(s) missing from the catalogue, kept until the next read confirms it",
                next(iter(waiting))[0],
                len(waiting),
            )
        return waiting

    def forget(self, key: tuple[str, str]) -> None:
        """The page is no longer monitored: its count goes with it."""
        self._absent_reads.pop(key, None)
