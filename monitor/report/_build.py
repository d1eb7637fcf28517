"""`monitor report`: time-weighted availability, outages, national V1 weeks and column freshness
for any period of local dates, from rollups where they are final and raw checks elsewhere.

Reads through `Store.history()` and never writes; rendering lives in `monitor.report_render`.
The clock comes in as `now`, so a period reaching into the future is clipped to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from monitor.models import Category, Page, PageKind
from monitor.percent import ratio_of
from monitor.report._annual import AnnualForm, annual_form
from monitor.report._daily import Day, DayStats
from monitor.report._findings import IntegritySummary, integrity_summaries
from monitor.report._ipv6 import site_ipv6
from monitor.report._links import LinkReport, link_report
from monitor.report._series import DayPoint, day_points
from monitor.rules import (
    FOREVER_MS,
    V1_MIN_DAILY_CHECKS,
    V1_VETO_RATIO,
    V1_WARN_RATIO,
    Rule,
    Stats,
    VerdictState,
    evaluate,
    hour_ceil,
    hour_floor,
    page_rule,
)
from monitor.store import History, Ipv6Summary, PageRow, Store, day_bounds, to_ms
from monitor.units import parse_duration

REPORT_TAGS = ("概况类", "政务动态", "信息公开目录")
"""Page tags counted for the 政府网站工作年度报表 (items published in columns so tagged)."""


class ReportError(ValueError):
    """Bad period, site or page: one line for the user."""


EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
"""The local dates a report may cover: no portal was monitored before 2000, and a bound keeps
a mistyped year (1, 9999) a clear error instead of a crash or a minute of empty arithmetic."""


# -- periods -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local dates first..last (inclusive) as [start_ms, end_ms), end clipped to now."""

    first: date
    last: date
    start_ms: int
    end_ms: int
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms

    @property
    def end_date(self) -> date:
        """The last local date the (clipped) period reaches."""
        return datetime.fromtimestamp((self.end_ms - 1) / 1000, self.tz).date()

    def days(self) -> list[Day]:
        out: list[Day] = []
        day = datetime.fromtimestamp(self.start_ms / 1000, self.tz).date()
        while True:
            start, end = day_bounds(day, self.tz)
            if start >= self.end_ms:
                return out
            clipped = (max(start, self.start_ms), min(end, self.end_ms))
            out.append(Day(day, *clipped, full=clipped == (start, end)))
            day += timedelta(days=1)


def parse_period(
    *,
    tz_name: str,
    now: float,
    date_from: str | None = None,
    date_to: str | None = None,
    year: int | None = None,
    month: str | None = None,
    last: str | None = None,
) -> Period:
    """The period the options describe (default: the last 7 days); ReportError when they are bad."""
    tz = ZoneInfo(tz_name)
    options = (("--from", date_from), ("--year", year), ("--month", month), ("--last", last))
    chosen = [name for name, v in options if v is not None]
    if len(chosen) > 1:
        raise ReportError(f"choose one period: {' and '.join(chosen)} were both given")
    if date_to is not None and date_from is None:
        raise ReportError("--to needs --from")
    now_ms = to_ms(now)
    if last is not None or not chosen:
        return _last("7d" if last is None else last, tz_name, now_ms)
    if year is not None:
        first, final = _year(year)
    elif month is not None:
        first, final = _month(month)
    else:
        first = _date(date_from or "", "--from")
        final = _date(date_to, "--to") if date_to is not None else datetime.fromtimestamp(now, tz).date()
    if final < first:
        raise ReportError(f"the period ends ({final}) before it starts ({first})")
    start, end = day_bounds(first, tz)[0], day_bounds(final, tz)[1]
    if start >= now_ms:
        raise ReportError(f"the period starts in the future ({first}): nothing to report yet")
    return Period(first, final, start, min(end, now_ms), tz_name)


def _last(text: str, tz_name: str, now_ms: int) -> Period:
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise ReportError(f"--last: expected a duration like 7d, 24h or 4w, got {text!r}") from None
    if seconds <= 0:
        raise ReportError("--last must be longer than zero")
    tz = ZoneInfo(tz_name)
    earliest_ms = day_bounds(EARLIEST, tz)[0]
    if seconds > (now_ms - earliest_ms) / 1000:
        raise ReportError(f"--last {text} reaches back before {EARLIEST}, the earliest date a report covers")
    start = now_ms - to_ms(seconds)
    first = datetime.fromtimestamp(start / 1000, tz).date()
    final = datetime.fromtimestamp((now_ms - 1) / 1000, tz).date()
    return Period(first, final, start, now_ms, tz_name)


def _in_range(day: date, option: str, text: str) -> date:
    if not EARLIEST <= day <= LATEST:
        raise ReportError(f"{option} {text}: reports cover dates from {EARLIEST} to {LATEST}")
    return day


def _date(text: str, option: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{option}: expected a date like 2018-12-31, got {text!r}") from None
    return _in_range(day, option, text)


def _year(year: int) -> tuple[date, date]:
    if not EARLIEST.year <= year <= LATEST.year:
        raise ReportError(f"--year {year}: reports cover the years {EARLIEST.year} to {LATEST.year}")
    return date(year, 1, 1), date(year, 12, 31)


def _month(text: str) -> tuple[date, date]:
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise ReportError(f"--month: expected a month like 2018-12, got {text!r}") from None
    _in_range(first, "--month", text)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


# -- the report model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutageEntry:
    """One outage clipped to the period: `duration_ms` is its observed down time there (time
    nobody watched, such as a stopped monitor, is unknown, not down), `span_ms` its length."""

    start_ms: int
    end_ms: int | None
    duration_ms: int
    cause: str
    span_ms: int

    @property
    def partly_unobserved(self) -> bool:
        return self.duration_ms < self.span_ms


@dataclass(frozen=True)
class PageReport:
    name: str
    kind: str
    stats: Stats
    period_ms: int
    outages: tuple[OutageEntry, ...]
    mttr_ms: int | None
    blips: int

    @property
    def uptime_exact(self) -> Fraction | None:
        """up / (up + down); None without any up or down time (never 100% for no data)."""
        return ratio_of(self.stats.up_ms, self.stats.up_ms + self.stats.down_ms)

    @property
    def uptime_ratio(self) -> float | None:
        exact = self.uptime_exact
        return None if exact is None else float(exact)

    @property
    def coverage_exact(self) -> Fraction:
        return ratio_of(self.stats.observed_ms, self.period_ms) or Fraction(0)

    @property
    def coverage_ratio(self) -> float:
        return float(self.coverage_exact)

    @property
    def no_data(self) -> bool:
        """Nothing observed in the period (e.g. before the monitor ran)."""
        return self.stats.observed_ms == 0

    @property
    def downtime_ms(self) -> int:
        return sum(o.duration_ms for o in self.outages)

    @property
    def longest_outage_ms(self) -> int | None:
        return max((o.duration_ms for o in self.outages), default=None)


@dataclass(frozen=True)
class ColumnReport:
    name: str
    rule: Rule
    tags: tuple[str, ...]
    newest_date: date | None
    stale_days: int | None
    items_in_period: int
    stale: bool | None
    blank: bool | None


@dataclass(frozen=True)
class WeekV1:
    """Rule V1 over one ISO week: homepage visits, failed visits, and the days that judge it."""

    week_start: date
    checks: int
    failed: int
    days_under_20: int
    full_days: int = 7

    @property
    def exact(self) -> Fraction | None:
        return ratio_of(self.failed, self.checks)

    @property
    def ratio(self) -> float | None:
        return self.failed / self.checks if self.checks else None

    @property
    def state(self) -> VerdictState:
        """The week's verdict: insufficient data unless all 7 days lie whole in the period (and
        have ended) with at least 20 visits each — never a veto on thin data."""
        ratio = self.ratio
        if ratio is None or self.full_days < 7 or self.days_under_20:
            return VerdictState.INSUFFICIENT_DATA
        if ratio >= V1_VETO_RATIO:
            return VerdictState.VETO
        return VerdictState.WARNING if ratio >= V1_WARN_RATIO else VerdictState.OK


@dataclass(frozen=True)
class CategoryTotal:
    category: Category
    columns: int
    items_in_period: int
    stale: int
    blank: int


@dataclass(frozen=True)
class SiteReport:
    name: str
    title: str
    pages: tuple[PageReport, ...]
    columns: tuple[ColumnReport, ...]
    national_v1: tuple[WeekV1, ...]
    category_totals: tuple[CategoryTotal, ...]
    annual_counts: tuple[tuple[str, int], ...]
    annual: AnnualForm | None = None
    """The 政府网站工作年度报表 figures for the period (report/_annual.py)."""
    days: tuple[DayPoint, ...] = ()
    """The homepage per local day (report/_series.py), for the HTML charts."""
    links: LinkReport | None = None
    """链接可用性 over the period (None: the site has no link pass)."""
    integrity: IntegritySummary | None = None
    """Integrity and identity (docs/integrity.md): findings open at the end, resolved in the period."""
    ipv6: Ipv6Summary | None = None
    """The homepage's IPv6 readings in the period (None: none; docs/integrity.md#ipv6)."""

    @property
    def homepage(self) -> PageReport | None:
        return next((p for p in self.pages if p.kind == PageKind.HOMEPAGE.value), None)


@dataclass(frozen=True)
class Report:
    period: Period
    sites: tuple[SiteReport, ...]
    source: str
    """'rollups' (final rollups plus raw checks after them) or 'raw' (raw checks only)."""
    generated_ms: int | None = None
    """When the report was built (the `now` it was given)."""


# -- building it ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """`--site` and `--page` filters (a page as NAME or SITE/NAME); empty = everything."""

    sites: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()


def build_report(
    store: Store,
    period: Period,
    *,
    now: float,
    configured: Sequence[Page] = (),
    selection: Selection = Selection(),
    rollups: bool = True,
    identities: Mapping[str, Mapping[str, str]] | None = None,
    homepages_only: bool = False,
    stored: Sequence[PageRow] | None = None,
) -> Report:
    """The report for `period`. `configured` pages lend their category rules (stale_days) to the
    columns they match; `rollups` False computes everything from raw checks (the reference);
    `identities` gives per site the 年度报表 identity fields the office configured.
    `homepages_only` (the overview's): every site, with only its homepage's stats (no outages,
    columns, weeks, charts, links or findings), read in a few queries for all pages at once.
    `stored`: the database's pages as `store.pages(include_removed=True)` lists them, when the
    caller has read them already (a national shard's 25,000 are read once for the report and
    the overview's judgments)."""
    history = store.history()
    with history.snapshot():
        rows = store.pages(include_removed=True) if stored is None else list(stored)
        report = _build(store, history, period, now, configured, selection, rollups, homepages_only, rows)
    return _with_identities(report, identities or {})


def _with_identities(report: Report, identities: Mapping[str, Mapping[str, str]]) -> Report:
    sites = tuple(
        replace(site, annual=site.annual.with_identity(identities.get(site.name, {}), _shown(site)))
        if site.annual is not None
        else site
        for site in report.sites
    )
    return replace(report, sites=sites)


def _shown(site: SiteReport) -> Mapping[str, str]:
    """The identity values the site's homepage showed at its latest integrity reading."""
    return site.integrity.shown if site.integrity is not None else {}


def _build(
    store: Store,
    history: History,
    period: Period,
    now: float,
    configured: Sequence[Page],
    selection: Selection,
    rollups: bool,
    homepages_only: bool,
    stored: list[PageRow],
) -> Report:
    titles = history.site_titles()
    added = history.pages_added()
    rows = _with_configured(_pages_in(stored, added, period), stored, configured)
    titles = {**{row.site: row.site for row in rows}, **titles}
    rows = _select(rows, titles, selection)
    marks = history.marks() if rollups and history.has_rollups() else {}
    days_source = DayStats(history, marks, period.timezone, to_ms(now))
    rules = {page.key: page for page in configured}
    days = period.days()
    wanted = [row.id for row in rows if not homepages_only or row.kind == PageKind.HOMEPAGE.value]
    totals = days_source.totals(wanted, days, PageKind.HOMEPAGE.value if homepages_only else None)
    if homepages_only:
        return _homepages_report(rows, titles, totals, period, "rollups" if marks else "raw", to_ms(now))
    by_site: dict[str, list[PageRow]] = {}
    for row in rows:  # one pass: a shard holds thousands of sites
        by_site.setdefault(row.site, []).append(row)
    sites = []
    for site in sorted(by_site):
        members = by_site[site]
        per_day = {row.id: days_source.page(row.id, days) for row in members if row.kind == PageKind.HOMEPAGE.value}
        reading = _Reading(history, days_source, per_day, totals, days, period, rules, added)
        built = _site_report(reading, site, titles.get(site, site), members)
        sites.append(dataclasses.replace(built, links=link_report(store, site, days)))
    summaries = integrity_summaries(store, [s.name for s in sites], period.start_ms / 1000, period.end_ms / 1000)
    sites = [dataclasses.replace(s, integrity=summary) for s, summary in zip(sites, summaries, strict=True)]
    readings = site_ipv6(store, [s.name for s in sites], period.start_ms / 1000, period.end_ms / 1000)
    sites = [dataclasses.replace(s, ipv6=summary) for s, summary in zip(sites, readings, strict=True)]
    return Report(period, tuple(sites), "rollups" if marks else "raw", to_ms(now))


def _homepages_report(
    rows: list[PageRow], titles: dict[str, str], totals: dict[int, Stats], period: Period, source: str, now_ms: int
) -> Report:
    """Every site with its homepage's period stats only (for `--overview`)."""
    homepages = {row.site: row for row in rows if row.kind == PageKind.HOMEPAGE.value}
    sites = []
    for site in sorted({row.site for row in rows}):
        home = homepages.get(site)
        stats = totals[home.id] if home else Stats()
        pages = (PageReport(home.name, home.kind, stats, period.length_ms, (), None, 0),) if home else ()
        sites.append(SiteReport(site, titles.get(site, site), pages, (), (), (), ()))
    return Report(period, tuple(sites), source, now_ms)


@dataclass(frozen=True)
class _Reading:
    """What a site's report is built from: the queries and the per-day stats of its pages."""

    history: History
    days_source: DayStats
    per_day: dict[int, list[Stats]]
    """The homepage's stats per day (national V1, the charts); other pages need only totals."""
    totals: dict[int, Stats]
    days: list[Day]
    period: Period
    rules: dict[tuple[str, str], Page]
    added: dict[int, float]
    """When each page was added (`history.pages_added()`, read once for the report)."""


def _pages_in(stored: list[PageRow], added: dict[int, float], period: Period) -> list[PageRow]:
    """Pages that existed during the period: not removed before it, not added after it."""
    return [
        row
        for row in stored
        if (row.removed is None or to_ms(row.removed) >= period.start_ms)
        and to_ms(added.get(row.id, 0.0)) < period.end_ms
    ]


def _with_configured(rows: list[PageRow], stored: list[PageRow], configured: Sequence[Page]) -> list[PageRow]:
    """The period's pages plus every configured page, so a period without data still lists them
    (with no data). A configured page the database has never seen gets a negative id: it has no
    rows anywhere, so every query about it finds nothing."""
    out = list(rows)
    keys = {(row.site, row.name) for row in out}
    known = {(row.site, row.name): row for row in stored}
    for index, page in enumerate(configured):
        if page.key not in keys:
            keys.add(page.key)
            out.append(known.get(page.key) or _page_row(-1 - index, page))
    return out


def _page_row(page_id: int, page: Page) -> PageRow:
    category = page.category.value if page.category else None
    return PageRow(
        page_id, page.site, page.name, page.url, page.kind.value, category, page.interval_s, page.discovered_by,
        page.tags, None,
    )  # fmt: skip


def _select(rows: list[PageRow], titles: dict[str, str], selection: Selection) -> list[PageRow]:
    for name in selection.sites:
        if name not in titles:
            raise ReportError(f"no site named {name!r} in the database (known: {', '.join(titles) or 'none'})")
    if selection.sites:
        rows = [row for row in rows if row.site in selection.sites]
    for name in selection.pages:
        if not any(name in (row.name, f"{row.site}/{row.name}") for row in rows):
            known = ", ".join(f"{row.site}/{row.name}" for row in rows) or "none"
            raise ReportError(f"no page named {name!r} in the database for this period (known: {known})")
    if selection.pages:
        rows = [row for row in rows if {row.name, f"{row.site}/{row.name}"} & set(selection.pages)]
    return rows


def _site_report(reading: _Reading, site: str, title: str, rows: list[PageRow]) -> SiteReport:
    history, period = reading.history, reading.period
    totals = reading.totals
    pages = tuple(_page_report(reading, row, totals[row.id]) for row in rows)
    columns = tuple(
        _column_report(history, row, period, reading.rules, totals[row.id])
        for row in rows
        if row.kind == PageKind.COLUMN.value
    )
    homepage = next((row for row in rows if row.kind == PageKind.HOMEPAGE.value), None)
    weeks = national_v1(reading.days, reading.per_day[homepage.id]) if homepage else ()
    tagged = tuple(
        (tag, history.items_published([r.id for r in rows if tag in r.tags], period.first, period.end_date))
        for tag in REPORT_TAGS
    )
    span = (period.first, period.end_date, period.start_ms, period.end_ms)
    annual = annual_form(history, rows, title, span, reading.added)
    days = (
        day_points(
            history,
            homepage.id,
            reading.days,
            reading.per_day[homepage.id],
            reading.days_source.quantiles(homepage.id, reading.days),
        )
        if homepage
        else ()
    )
    return SiteReport(site, title, pages, columns, weeks, category_totals(columns), tagged, annual, days)


def _page_report(reading: _Reading, row: PageRow, stats: Stats) -> PageReport:
    """Outages clipped to the period with their observed down time; MTTR = mean observed
    down time of the outages that ended inside the period (whole outages, not clipped)."""
    a, b = reading.period.start_ms, reading.period.end_ms
    overlapping = reading.history.outages(row.id, a, b)
    clipped = [(max(o.start_ms, a), b if o.end_ms is None else min(o.end_ms, b)) for o in overlapping]
    repaired = [o for o in overlapping if o.end_ms is not None and o.end_ms <= b]
    edges = [(o.start_ms, a) for o in repaired if o.start_ms < a]
    spans = clipped + edges
    first = min((start for start, _ in spans), default=a)
    near = reading.history.outages(row.id, hour_floor(first), hour_ceil(b))
    known = [(o.start_ms, FOREVER_MS if o.end_ms is None else o.end_ms) for o in near]
    observed = dict(zip(spans, reading.days_source.outage_down(row.id, spans, known), strict=True))
    entries = tuple(
        OutageEntry(start, None if o.end_ms is None else end, observed[(start, end)], o.cause, end - start)
        for o, (start, end) in zip(overlapping, clipped, strict=True)
    )
    whole = [observed[(max(o.start_ms, a), b if o.end_ms is None else o.end_ms)] for o in repaired]
    whole = [down + observed.get((o.start_ms, a), 0) for o, down in zip(repaired, whole, strict=True)]
    mttr = sum(whole) // len(whole) if whole else None
    blips = reading.history.blips(row.id, a, b)
    return PageReport(row.name, row.kind, stats, reading.period.length_ms, entries, mttr, blips)


def _column_report(
    history: History, row: PageRow, period: Period, rules: dict[tuple[str, str], Page], stats: Stats
) -> ColumnReport:
    """Judged as the daemon judges it (`freshness.evaluate`) at the period's end; stale and blank
    are unknown (None) for a column never read up in the period."""
    rule = column_rule(row, rules)
    items = history.items_published([row.id], period.first, period.end_date)
    read = stats.up > 0
    judged = evaluate(
        rule,
        newest=history.newest_item(row.id, period.end_date),
        item_count=history.items_seen(row.id, period.end_ms) if read else None,
        readable=True if read else None,
        today=period.end_date,
    )
    stale, blank = (judged.stale, judged.blank) if read else (None, None)
    return ColumnReport(row.name, rule, row.tags, judged.newest, judged.age_days, items, stale, blank)


def column_rule(row: PageRow, configured: dict[tuple[str, str], Page]) -> Rule:
    """A stored column's freshness rule: its stored category (configured, pinned or guessed when
    it was synced) with the configured page's stale_days, which the database does not keep."""
    page = configured.get((row.site, row.name))
    category = Category(row.category) if row.category else page.category if page else None
    stale_days = page.stale_days if page else None
    return page_rule(Page(row.site, row.name, row.url, PageKind(row.kind), category=category, stale_days=stale_days))


def national_v1(days: list[Day], stats: list[Stats]) -> tuple[WeekV1, ...]:
    """Homepage visits (`scheduled`: retries excluded) per ISO week (Monday start); whole days
    under 20 visits, and how many whole days of the week the period holds."""
    weeks: dict[date, WeekV1] = {}
    for day, day_stats in zip(days, stats, strict=True):
        monday = day.date - timedelta(days=day.date.weekday())
        week = weeks.get(monday, WeekV1(monday, 0, 0, 0, 0))
        under = int(day.full and day_stats.scheduled < V1_MIN_DAILY_CHECKS)
        weeks[monday] = WeekV1(
            monday,
            week.checks + day_stats.scheduled,
            week.failed + day_stats.scheduled_failed,
            week.days_under_20 + under,
            week.full_days + int(day.full),
        )
    return tuple(weeks.values())


def category_totals(columns: Sequence[ColumnReport]) -> tuple[CategoryTotal, ...]:
    totals = []
    for category in Category:
        members = [c for c in columns if c.rule.category is category]
        if members:
            totals.append(
                CategoryTotal(
                    category,
                    len(members),
                    sum(c.items_in_period for c in members),
                    sum(1 for c in members if c.stale),
                    sum(1 for c in members if c.blank),
                )
            )
    return tuple(totals)
