"""The work behind the one-shot commands (`check`, `report`, `extract`, `discover`), kept out of
the command modules (_check, _report, _extract).

Each function returns data or text; the command module prints it and picks the exit code. Network
access goes through `monitor.check`, recording through `monitor.track` — nothing here writes SQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import yaml

from monitor.check import CheckOutcome, Fetcher, Previous, run_check
from monitor.config import Config, SiteConfig, site_base_url
from monitor.extract import extract_document
from monitor.logs import redact
from monitor.models import Category, Column, Extraction, Page, PageKind, Result, SystemClock
from monitor.origins import same_site, without_userinfo
from monitor.report import (
    Overview,
    Period,
    Report,
    ReportError,
    Selection,
    build_overview,
    build_report,
    merge_reports,
    site_statuses,
)
from monitor.rules import guess_category
from monitor.store import PageRow, Store
from monitor.track import Tracker, monitored_pages, page_name, remembered_columns, restore_runtime

DISCOVER_CONCURRENCY = 2


# -- check ---------------------------------------------------------------------------------------


async def check_pages(config: Config, pages: Sequence[Page], store: Store | None) -> list[CheckOutcome]:
    """Check the pages concurrently; with a store, record them like the daemon would."""
    clock = SystemClock()
    today = datetime.fromtimestamp(clock.now(), config.timezone).date()
    async with Fetcher(clock=clock) as fetcher:
        outcomes = await asyncio.gather(*(run_check(fetcher, page, Previous(), today) for page in pages))
    if store is not None:
        _record(config, store, list(outcomes), clock.now())
    return list(outcomes)


def _record(config: Config, store: Store, outcomes: list[CheckOutcome], now: float) -> None:
    sites = [(s.name, s.title, site_base_url(s)) for s in config.sites]
    pages = config.pages()
    ids = store.sync_pages(sites, pages, now, retire_others=False)  # the daemon owns discovered columns
    states, outages = store.page_states(), store.open_outages()
    tracker = Tracker(store, run_id=None)
    store.writer.start()
    for outcome in outcomes:
        page_id = ids[outcome.page.key]
        rt = restore_runtime(outcome.page, page_id, states.get(page_id), outages.get(page_id))
        tracker.record(rt, outcome, now)
    store.close()


def render_check(outcomes: Sequence[CheckOutcome], *, as_json: bool, debug: bool) -> str:
    if as_json:
        return json.dumps([_outcome_json(o, debug) for o in outcomes], ensure_ascii=False, indent=2)
    lines = []
    for o in outcomes:
        p = o.probe
        why = f"{o.error_kind.value}: {o.error}" if o.error_kind else (o.error or "")
        lines.append(
            f"{o.page.site}/{o.page.name:<20} {o.result.value.upper():<7} {p.status or '-':>3} "
            f"{p.duration_s:7.3f}s  {o.page.url}  {why}".rstrip()
        )
        if debug:
            lines += ["    " + line for line in _debug_lines(o)]
    return "\n".join(lines)


def _outcome_json(o: CheckOutcome, debug: bool) -> dict[str, Any]:
    p = o.probe
    entry: dict[str, Any] = {
        "site": o.page.site,
        "page": o.page.name,
        "url": o.page.url,
        "result": o.result.value,
        "error_kind": o.error_kind.value if o.error_kind else None,
        "error": o.error,
        "status": p.status,
        "duration_s": round(p.duration_s, 4),
        "phases": {k: round(v, 4) for k, v in p.phases.items()},
        "final_url": p.final_url,
        "redirects": p.redirects,
        "bytes": p.bytes,
        "tls_expiry": p.tls_expiry,
    }
    if o.extraction is not None:
        x = o.extraction
        entry["content"] = {
            "kind": x.kind.value,
            "items": len(x.items),
            "columns": len(x.columns),
            "newest_date": x.newest_date.isoformat() if x.newest_date else None,
        }
    if debug:
        entry["settings"] = _settings(o.page)
    return entry


def _settings(page: Page) -> dict[str, Any]:
    settings = asdict(page)
    settings["headers"] = {name: "[redacted]" for name, _ in page.headers}
    return {k: (v.value if hasattr(v, "value") else v) for k, v in settings.items()}


def _debug_lines(o: CheckOutcome) -> list[str]:
    p = o.probe
    lines = ["settings: " + redact(json.dumps(_settings(o.page), ensure_ascii=False, default=str))]
    lines.append("phases: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in p.phases.items()))
    lines.append(
        f"final url: {p.final_url} after {p.redirects} redirect(s); {p.bytes} bytes; "
        f"content-type {p.content_type}; encoding {o.encoding}"
    )
    if p.tls_expiry:
        lines.append(f"tls certificate expires {datetime.fromtimestamp(p.tls_expiry).isoformat()}")
    if o.extraction is not None:
        x = o.extraction
        lines.append(
            f"extraction: {x.kind.value}, {len(x.items)} items, newest {x.newest_date}, "
            f"{len(x.columns)} columns, pages_total {x.pages_total}"
        )
        if x.blocks:
            lines.append(
                "blocks: " + ", ".join(f"{b.heading or '-'} {b.items} (newest {b.newest_date})" for b in x.blocks)
            )
        if x.next_url:
            lines.append(f"leads to {x.next_url} (not followed)")
        lines += [f"  {i.date or '          '}  {i.title[:60]}  {i.url}" for i in x.items[:5]]
    return lines


# -- report --------------------------------------------------------------------------------------


def report_for(
    config: Config,
    store: Store,
    period: Period,
    now: float,
    selection: Selection,
    *,
    raw: bool,
    lean: bool = False,
    stored: Sequence[PageRow] | None = None,
) -> Report:
    """The report for `period`, listing every configured page (with no data where nothing was
    observed); discovered columns keep the rules config gives them. `lean`: only what
    `--overview` shows (each site's homepage availability), read in a few queries. `stored`: the
    database's `pages(include_removed=True)`, when the caller has read them."""
    stored = store.pages(include_removed=True) if stored is None else stored
    # The overview shows homepages only: discovered columns (never homepages) need not be matched.
    configured = config.pages() if lean else monitored_pages(config, stored)
    identities = site_identities(config)
    return _report(store, period, now, selection, configured, identities, raw=raw, lean=lean, stored=stored)


def shards_report_for(
    config: Config,
    stores: Sequence[Store],
    period: Period,
    now: float,
    selection: Selection,
    *,
    raw: bool,
    lean: bool = False,
    stored: Sequence[Sequence[PageRow]] | None = None,
) -> Report:
    """One report from several shard databases: each lists the configured pages of the sites it
    holds (a configured site found in no database is not listed: no shard has monitored it), and
    `--site`/`--page` pick from every database together (each shard holds some of the sites).
    `stored`: each database's `pages(include_removed=True)`, when the caller has read them."""
    reports, names, found = [], [], _Found()
    every = config.pages()  # built once: thousands of sites take a while
    identities = site_identities(config)
    for store, rows in zip(stores, stored or [store.pages(include_removed=True) for store in stores], strict=True):
        held = {row.site for row in rows}
        pages = every + ([] if lean else remembered_columns(config.raw, rows))
        configured = [page for page in pages if page.site in held]
        mine = found.add(selection, held, [(row.site, row.name) for row in rows] + [p.key for p in configured])
        if mine is not None:
            report = _report(store, period, now, mine, configured, identities, raw=raw, lean=lean, stored=rows)
            reports.append(report)
            names.append(str(store.path))
    found.check(selection)
    return merge_reports(reports, names)


class _Found:
    """What of a `--site`/`--page` selection the shard databases hold, one database at a time."""

    def __init__(self) -> None:
        self.sites: set[str] = set()
        self.pages: set[str] = set()

    def add(self, selection: Selection, held: set[str], keys: Sequence[tuple[str, str]]) -> Selection | None:
        """The part of `selection` in one database; None when a selection names nothing there."""
        names = {name for site, page in keys for name in (page, f"{site}/{page}")} if selection.pages else set()
        sites = tuple(site for site in selection.sites if site in held)
        pages = tuple(page for page in selection.pages if page in names)
        self.sites.update(sites)
        self.pages.update(pages)
        if (selection.sites and not sites) or (selection.pages and not pages):
            return None
        return Selection(sites, pages)

    def check(self, selection: Selection) -> None:
        """A site or page no database holds is an error, as it is for one database."""
        for site in selection.sites:
            if site not in self.sites:
                raise ReportError(f"no site named {site!r} in any of the databases")
        for page in selection.pages:
            if page not in self.pages:
                raise ReportError(f"no page named {page!r} in any of the databases")


def site_identities(config: Config) -> dict[str, dict[str, str]]:
    """Each site's 年度报表 identity cells from config.yaml (主办单位, 标识码, ICP, ...)."""
    return {
        site.name: {
            **site.identity.model_dump(exclude_none=True),
            **({"site_code": site.site_code} if site.site_code else {}),
        }
        for site in config.sites
    }


def _report(
    store: Store,
    period: Period,
    now: float,
    selection: Selection,
    configured: Sequence[Page],
    identities: Mapping[str, Mapping[str, str]],
    *,
    raw: bool,
    lean: bool,
    stored: Sequence[PageRow],
) -> Report:
    """One database's report, with the sites' identity cells."""
    return build_report(
        store,
        period,
        now=now,
        configured=list(configured),
        selection=selection,
        rollups=not raw,
        identities=identities,
        homepages_only=lean,
        stored=stored,
    )


def overview_for(
    config: Config,
    stores: Sequence[Store],
    report: Report,
    now: float,
    stored: Sequence[Sequence[PageRow]] | None = None,
) -> Overview:
    """`--overview`: each database's sites judged as `monitor status` judges them (as of `now`),
    with the report's homepage availability; with one database, every configured site. `stored`:
    each database's `pages(include_removed=True)`, when the caller has read them."""
    statuses = []
    for store, rows in zip(stores, stored or [store.pages(include_removed=True) for store in stores], strict=True):
        held = {row.site for row in rows} if len(stores) > 1 else None
        statuses += site_statuses(config, store, now, rows=rows, sites=held)
    shown = {site.name for site in report.sites}
    return build_overview(report, [s for s in statuses if s.name in shown])


# -- extract -------------------------------------------------------------------------------------


def _identity(site: SiteConfig) -> dict[str, str]:
    """The 年度报表 identity fields configured for a site; its 网站标识码 is the site's `site_code`."""
    fields = site.identity.model_dump(exclude_none=True)
    return {**fields, "site_code": site.site_code} if site.site_code else fields


def adhoc_page(url: str, kind: PageKind = PageKind.COLUMN) -> Page:
    """A page with default settings for one-off fetches of a URL."""
    return Page(site="adhoc", name="adhoc", url=url, kind=kind)


def extract_source(
    source: str,
    *,
    base_url: str,
    today: date,
    item_selector: str | None = None,
    date_selector: str | None = None,
    kind: PageKind | None = None,
) -> Extraction:
    """Extract from a file or an http(s) URL; ValueError with a one-line reason on failure.

    A file's links resolve against `base_url`, else the page's own `saved from url` comment, else
    they stay as written: a saved page's relative links never point into the local disk.
    """
    if source.startswith(("http://", "https://")):
        body, content_type, final_url = asyncio.run(_fetch_body(source))
        return extract_document(
            body,
            content_type=content_type,
            base_url=final_url,
            today=today,
            item_selector=item_selector,
            date_selector=date_selector,
            kind=kind,
        )
    path = Path(source)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{source}: {exc.strerror or exc}") from None
    return extract_document(
        body,
        base_url=base_url,
        today=today,
        item_selector=item_selector,
        date_selector=date_selector,
        kind=kind,
    )


async def _fetch_body(url: str) -> tuple[bytes, str | None, str]:
    async with Fetcher() as fetcher:
        probe = await fetcher.fetch(adhoc_page(url))
    if probe.result is not Result.UP:
        kind = probe.error_kind.value if probe.error_kind else probe.result.value
        shown = without_userinfo(url)
        raise ValueError(f"{shown}: {probe.result.value} ({kind}{': ' + probe.error if probe.error else ''})")
    return probe.body, probe.content_type, probe.final_url or url


# -- discover ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundColumn:
    column: Column
    category: Category | None
    kind: str | None = None
    items: int | None = None
    newest: date | None = None
    error: str | None = None


OFF_SITE = "another site: not read"
"""What `discover` says of a listed column the daemon would not monitor (see `monitor.origins`)."""


async def discover_columns(url: str, *, crawl: bool, progress: bool) -> list[FoundColumn]:
    """The columns a catalogue page lists; with crawl, each column on the catalogue's site is
    fetched and read (never another host or port: a hostile catalogue must not steer requests)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{without_userinfo(url)!r} is not an http(s) URL")
    today = date.today()
    async with Fetcher() as fetcher:
        read = await _read(fetcher, adhoc_page(url, PageKind.CATALOGUE), today)
        if isinstance(read, str):
            raise ValueError(f"{without_userinfo(url)}: {read}")
        catalogue, home = read
        if not catalogue.columns:
            raise ValueError(
                f"{without_userinfo(url)}: no column links found (the page reads as {catalogue.kind.value}); "
                "point discover at the 信息公开 catalogue page"
            )
        found = [
            FoundColumn(c, guess_category(c.name), error=None if same_site(c.url, home) else OFF_SITE)
            for c in catalogue.columns
        ]
        if not crawl:
            return found
        return await _crawl(fetcher, found, today, progress, home)


async def _read(fetcher: Fetcher, page: Page, today: date) -> tuple[Extraction, str] | str:
    """The page's extraction and the URL it was read at, or why it could not be read."""
    probe = await fetcher.fetch(page)
    if probe.result is not Result.UP:
        return f"{probe.result.value} ({probe.error_kind.value if probe.error_kind else '-'})"
    final_url = probe.final_url or page.url
    return extract_document(probe.body, content_type=probe.content_type, base_url=final_url, today=today), final_url


async def _crawl(
    fetcher: Fetcher, found: list[FoundColumn], today: date, progress: bool, home: str
) -> list[FoundColumn]:
    limit = asyncio.Semaphore(DISCOVER_CONCURRENCY)
    show = progress and len(found) > 1
    # Columns are read on the catalogue's site only, redirects included.
    site_hosts = (urlsplit(home).hostname or "",)
    with click.progressbar(length=len(found), label="reading columns", file=sys.stderr, hidden=not show) as bar:

        async def one(entry: FoundColumn) -> FoundColumn:
            if entry.error is not None:
                bar.update(1)
                return entry
            async with limit:
                page = dataclasses.replace(adhoc_page(entry.column.url), allowed_hosts=site_hosts)
                result = await _read(fetcher, page, today)
            bar.update(1)
            if isinstance(result, str):
                return FoundColumn(entry.column, entry.category, error=result)
            extraction = result[0]
            return FoundColumn(
                entry.column, entry.category, extraction.kind.value, len(extraction.items), extraction.newest_date
            )

        return list(await asyncio.gather(*(one(entry) for entry in found)))


def render_discovery(found: Sequence[FoundColumn], *, as_yaml: bool) -> str:
    if as_yaml:
        pages = [_yaml_page(f) for f in found if f.error != OFF_SITE]
        return "# paste under a site's pages: in config.yaml\n" + yaml.safe_dump(
            {"pages": pages}, allow_unicode=True, sort_keys=False
        )
    lines = [f"{'category':<10} {'items':>5} {'newest':<10}  name  url"]
    for f in found:
        items = "-" if f.items is None else str(f.items)
        newest = f.error or (f.newest.isoformat() if f.newest else "-")
        lines.append(
            f"{(f.category.value if f.category else '?'):<10} {items:>5} {newest:<10}  {f.column.name}  {f.column.url}"
        )
    return "\n".join(lines)


def _yaml_page(f: FoundColumn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": page_name(f.column.name, f.column.url),
        "url": f.column.url,
        "kind": "column",
    }
    if f.category is not None:
        entry["category"] = f.category.value
    return entry
