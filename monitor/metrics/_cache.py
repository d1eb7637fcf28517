"""The per-page, per-site and site-total families of /metrics, kept between scrapes and brought up
to date from what changed (issue 16: a scrape at 20,000 pages must cost < 0.2 s of CPU).

What each part depends on, and so when it is formatted again:
- a page's lines and its share of its site's totals: the page's latest state (re-rendered when
  `MonitorState` says it changed) and today's date (freshness ages: every page once a day);
- a page's rule (its category, guessed from the column name): the page's settings only;
- a site's V1 facts: its homepage visits and the clock, kept until `v1_facts_until` (the next
  moment a bucket edge passes a visit, or midnight) or a new visit;
- a site's V2/V3 verdicts and lines: whenever one of its pages or its V1 facts changed.
A change to the set of pages or their settings (reload, discovery) starts over from scratch.

The text is byte for byte what the registry's `collect` gives computed afresh
(tests/metrics/test_scrape_cache.py). Private to `monitor.metrics`; no I/O.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from monitor.metrics._aggregates import PerPage, SiteTotals, totals_headers, totals_lines
from monitor.metrics._exposition import LabelText
from monitor.metrics._families import PAGE_FAMILIES, SITE_FAMILIES, PageView, header, page_lines, site_lines
from monitor.metrics._integrity import IntegrityLines, SiteIntegrity, integrity_text
from monitor.metrics._series import PageSeries, StateDelta
from monitor.models import LISTED_KINDS, PageKind
from monitor.rules import Rule, V1Facts, V1Window, evaluate, judge_site, page_rule, v1_facts, v1_facts_until


class StateSource(Protocol):
    """What the cache reads from `MonitorState`."""

    def changes(self, since: int, generation: int, windows: Iterable[str] = ()) -> StateDelta: ...


@dataclass
class _PageEntry:
    """One page as the last scrape formatted it."""

    view: PageView
    rule: Rule | None
    lines: list[bytes]
    """Its lines in each per-page family (empty when this mode exports none for it)."""


@dataclass
class _SiteEntry:
    """One site as the last scrape formatted it."""

    pages: list[tuple[str, str]]
    """Its page keys, in the state's order."""
    totals: SiteTotals = field(default_factory=SiteTotals)
    v1: V1Facts | None = None
    v1_until: float = -math.inf
    v1_at: float = math.nan
    """When the V1 facts were counted: they hold at that very moment whatever `v1_until` says."""
    lines: list[bytes] = field(default_factory=list)
    totals_lines: list[bytes] = field(default_factory=list)


class ScrapeCache:
    """The table families' text, brought up to date at each `render(now)`. Thread-safe (scrapes
    may overlap: they take turns)."""

    def __init__(self, state: StateSource, tz: ZoneInfo, per_page: PerPage) -> None:
        self._state = state
        self._tz = tz
        self._per_page = per_page
        self._lock = threading.Lock()
        self._stamp = 0
        self._generation = -1
        self._today: date | None = None
        self._keys: list[tuple[str, str]] = []
        """Every page, in the state's order."""
        self._pages: dict[tuple[str, str], _PageEntry] = {}
        self._sites: dict[str, _SiteEntry] = {}
        """Sorted by site name, as the text format's site families are."""
        self._exported: list[_PageEntry] = []
        self._integrity: dict[str, IntegrityLines] = {}

    def render(self, now: float) -> list[bytes]:
        """Every per-page family, then every site family, then every site-total family."""
        with self._lock:
            self._update(now)
            return self._text()

    def integrity(self, sites: Mapping[str, SiteIntegrity]) -> bytes:
        """The integrity families (a site's lines kept until its state changes)."""
        with self._lock:
            return integrity_text(sites, self._integrity, LabelText())

    def page_counts(self) -> list[tuple[str, int]]:
        """Pages per site (sorted by site) as of the last render."""
        with self._lock:
            return [(site, len(entry.pages)) for site, entry in self._sites.items()]

    def _update(self, now: float) -> None:
        """Take what changed from the state (and the V1 windows of the sites whose facts expire by
        `now`), refresh those pages (all of them on a new day), then those sites."""
        today = datetime.fromtimestamp(now, self._tz).date()
        due = [site for site, entry in self._sites.items() if now >= entry.v1_until and now != entry.v1_at]
        delta = self._state.changes(self._stamp, self._generation, due)
        if delta.keys is not None:
            self._reset(delta.keys)
            due = list(self._sites)
        self._stamp, self._generation = delta.stamp, delta.generation
        text = LabelText()
        changed = {series.page.key: series for series in delta.pages}
        new_day = today != self._today
        self._today = today
        for key in self._keys if new_day else changed:
            self._refresh(key, changed.get(key), today, text)
        dirty = set(self._sites) if new_day else {key[0] for key in changed}
        for site in dirty:
            self._recount(site, text)
        for site in {*due, *delta.windows}:
            entry = self._sites.get(site)
            if entry is not None:
                window = delta.windows.get(site) or V1Window()
                entry.v1, entry.v1_until = v1_facts(window, now, self._tz), v1_facts_until(window, now, self._tz)
                entry.v1_at = now
                dirty.add(site)
        for site in dirty:
            self._judge(site, text)

    def _reset(self, keys: list[tuple[str, str]]) -> None:
        """Start over: every page and site is formatted afresh from this delta."""
        self._keys = keys
        self._pages = {}
        self._today = None
        sites: dict[str, list[tuple[str, str]]] = {}
        for key in keys:
            sites.setdefault(key[0], []).append(key)
        self._sites = {site: _SiteEntry(sites[site]) for site in sorted(sites)}
        self._exported = []

    def _refresh(self, key: tuple[str, str], series: PageSeries | None, today: date, text: LabelText) -> None:
        """A page's view (freshness judged today), its share of the site totals, and its lines."""
        old = self._pages.get(key)
        if series is None:
            assert old is not None  # a new day: every page is refreshed from its kept state
            series = old.view.series
        page = series.page
        rule = None
        if page.kind in LISTED_KINDS:
            kept = old is not None and old.rule is not None and old.view.series.page is page
            rule = old.rule if kept and old is not None else page_rule(page)
        c = series.content
        freshness = (
            None
            if rule is None
            else evaluate(rule, newest=c.newest, item_count=c.item_count, readable=c.readable, today=today)
        )
        view = PageView(series, (page.site, page.name, page.kind.value), freshness, self._tz)
        totals = self._sites[page.site].totals
        if old is not None:
            totals.remove(old.view)
        totals.add(view)
        exported = self._per_page == "all" or page.kind is PageKind.HOMEPAGE
        lines = [line.encode() for line in page_lines(view, text)] if exported else []
        if old is None:
            self._pages[key] = entry = _PageEntry(view, rule, lines)
            if exported:
                self._exported.append(entry)  # a reset refreshes every page, in the state's order
        else:
            old.view, old.rule, old.lines = view, rule, lines

    def _recount(self, site: str, text: LabelText) -> None:
        """The site's totals lines (its counts are kept by `_refresh`; the earliest certificate
        expiry, a minimum, is taken again)."""
        entry = self._sites[site]
        expiries = [
            self._pages[key].view.series.tls_expiry
            for key in entry.pages
            if self._pages[key].view.series.tls_expiry is not None
        ]
        entry.totals.cert_expiry = min(expiries, default=None)  # type: ignore[type-var]
        entry.totals_lines = [line.encode() for line in totals_lines(site, entry.totals, text)]

    def _judge(self, site: str, text: LabelText) -> None:
        """Rules V1–V3 for the site, from its pages' freshness and its kept V1 facts."""
        entry = self._sites[site]
        assert entry.v1 is not None
        views = [self._pages[key].view for key in entry.pages]
        columns = [
            (v.series.page.name, v.freshness)
            for v in views
            if v.series.page.kind is PageKind.COLUMN and v.freshness is not None
        ]
        homepages = [v.freshness for v in views if v.series.page.kind is PageKind.HOMEPAGE]
        assessment = judge_site(columns, homepages[0] if homepages else None, entry.v1)
        entry.lines = [line.encode() for line in site_lines(site, assessment, text)]

    def _text(self) -> list[bytes]:
        text = LabelText()
        out = []
        for i, family in enumerate(PAGE_FAMILIES):
            out.append(header(family, text).encode() + b"".join([entry.lines[i] for entry in self._exported]))
        sites = self._sites.values()
        for i, site_family in enumerate(SITE_FAMILIES):
            out.append(header(site_family, text).encode() + b"".join([entry.lines[i] for entry in sites]))
        for i, head in enumerate(totals_headers(text)):
            out.append(head.encode() + b"".join([entry.totals_lines[i] for entry in sites]))
        return out
