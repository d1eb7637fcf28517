"""`monitor status`: each site's rule verdicts, stale and blank columns, from the database.

Reads the facts the daemon stored (page state, homepage checks) and applies the same pure
functions the metrics use; prints nothing itself and writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from monitor.config import Config
from monitor.models import Category, ContentFacts, Page, PageKind
from monitor.report._findings import IntegritySummary, integrity_summaries, summary_json, summary_lines
from monitor.report._ipv6 import ipv6_json, ipv6_line, site_ipv6
from monitor.rules import (
    V1_WINDOW_S,
    Freshness,
    Rule,
    SiteAssessment,
    VerdictState,
    assess_site,
    page_freshness,
    page_rule,
)
from monitor.store import Ipv6Summary, LinkQueries, PageRow, PageStateRow, Store
from monitor.track import monitored_pages


@dataclass(frozen=True)
class HomepageLinks:
    """The latest complete homepage link pass (链接可用性): its local date and counts by class."""

    day: date
    today: bool
    links: int
    counts: dict[str, int]


@dataclass(frozen=True)
class SiteStatus:
    name: str
    title: str
    assessment: SiteAssessment
    pages: tuple[tuple[Page, Freshness], ...]
    links: HomepageLinks | None = None
    integrity: IntegritySummary | None = None
    """Open integrity findings and the homepage's identity (docs/integrity.md)."""
    ipv6: Ipv6Summary | None = None
    """The homepage's IPv6 readings of the last 24 hours (docs/integrity.md#ipv6)."""
    ipv6_read: bool = False
    """The site's homepage is read over IPv6 (`ipv6.enabled` and the site's `ipv6`): show the line."""
    links_failure: str | None = None
    """Why the latest homepage link pass was not completed, when it was not (its homepage unread)."""


def homepage_links(links: LinkQueries, site: str, today: date, config: Config) -> HomepageLinks | None:
    """The site's latest complete homepage pass, or None before the first one."""
    last = links.last_pass(site, "homepage", completed=True)
    if last is None:
        return None
    day = datetime.fromtimestamp(last.started, config.timezone).date()
    return HomepageLinks(day, day == today, last.links, dict(last.counts))


def failed_homepage_pass(links: LinkQueries, site: str) -> str | None:
    """Why the site's latest ended homepage pass was not completed; None when it was (or none ended).

    Such a pass is an availability failure of the homepage, not a link finding (docs/links.md): the
    counts above stay those of the last complete pass, and this says why none is newer.
    """
    last = links.last_pass(site, "homepage")
    if last is None or last.completed or last.ended is None:
        return None
    return last.failure or "reason not recorded"


def site_statuses(
    config: Config,
    store: Store,
    now: float,
    *,
    rows: Sequence[PageRow] | None = None,
    sites: Container[str] | None = None,
) -> list[SiteStatus]:
    """One status per configured site (or per configured site named in `sites`), as of `now`.
    `rows`: the database's pages as `store.pages(include_removed=True)` lists them, when the
    caller has read them already (a report with `--overview` reads each shard's 25,000 once)."""
    tz = config.timezone
    today = datetime.fromtimestamp(now, tz).date()
    rows = store.pages() if rows is None else [row for row in rows if row.removed is None]
    chosen = [site for site in config.sites if sites is None or site.name in sites]
    names = {site.name for site in chosen}
    ids = {(r.site, r.name): r.id for r in rows}
    states = store.page_states()
    pages = [page for page in monitored_pages(config, rows) if page.site in names]
    statuses = []
    summaries = {s.site: s for s in integrity_summaries(store, [site.name for site in chosen], now, now)}
    by_site: dict[str, list[Page]] = {}
    for page in pages:  # one pass: a national config has thousands of sites
        by_site.setdefault(page.site, []).append(page)
    links = store.links()
    rules: dict[tuple[PageKind, Category | None, int | None, str], Rule] = {}
    for site in chosen:
        judged = _judged(by_site.get(site.name, []), ids, states, today, rules)
        columns = [(p.name, f) for p, f in judged if p.kind is PageKind.COLUMN]
        homepage = next(((p, f) for p, f in judged if p.kind is PageKind.HOMEPAGE), None)
        checks = (
            store.homepage_checks(ids[homepage[0].key], now - V1_WINDOW_S)
            if homepage and homepage[0].key in ids
            else []
        )
        assessment = assess_site(columns, homepage[1] if homepage else None, checks, now, tz)
        status = SiteStatus(
            site.name, site.title, assessment, tuple(judged), homepage_links(links, site.name, today, config)
        )
        statuses.append(
            dataclasses.replace(
                status, integrity=summaries.get(site.name), links_failure=failed_homepage_pass(links, site.name)
            )
        )
    return _with_ipv6(config, store, statuses, now)


def _judged(
    members: Sequence[Page],
    ids: Mapping[tuple[str, str], int],
    states: Mapping[int, PageStateRow],
    today: date,
    rules: dict[tuple[PageKind, Category | None, int | None, str], Rule],
) -> list[tuple[Page, Freshness]]:
    """Each page with its freshness verdict from its remembered content facts; `rules` remembers
    each page's rule (`page_rule`) across the sites of one call."""
    judged = []
    for page in members:
        stored = states.get(ids.get(page.key, -1))
        content = stored.content() if stored else ContentFacts()
        rule = rules.get((page.kind, page.category, page.stale_days, page.name))
        if rule is None:  # `page_rule` depends on these four only; a shard's columns share a few dozen names
            rule = rules[page.kind, page.category, page.stale_days, page.name] = page_rule(page)
        judged.append((page, page_freshness(page, content, today, rule)))
    return judged


IPV6_STATUS_WINDOW_S = 86400.0
"""`monitor status` sums up the IPv6 readings of the last 24 hours."""


def _with_ipv6(config: Config, store: Store, statuses: list[SiteStatus], now: float) -> list[SiteStatus]:
    names = [status.name for status in statuses]
    found = site_ipv6(store, names, now - IPV6_STATUS_WINDOW_S, now + 1)
    wanted = {site.name: config.raw.ipv6.enabled and site.ipv6 for site in config.sites}
    return [
        dataclasses.replace(status, ipv6=summary, ipv6_read=wanted.get(status.name, False))
        for status, summary in zip(statuses, found, strict=True)
    ]


MARKS = {
    VerdictState.OK: "ok",
    VerdictState.WARNING: "warn",
    VerdictState.VETO: "VETO",
    VerdictState.INSUFFICIENT_DATA: "insufficient data",
}
"""How each verdict state reads in the terminal."""


def render_status(statuses: list[SiteStatus]) -> str:
    """Plain-text status for a terminal."""
    lines: list[str] = []
    for status in statuses:
        lines.append(f"{status.name} — {status.title}")
        for verdict in status.assessment.verdicts:
            lines.append(f"  {verdict.rule} {MARKS[verdict.state]:<4}  {verdict.detail}")
        lines += _v1_days(status.assessment)
        lines.append(_links_line(status.links))
        if status.links_failure is not None:
            lines.append(f"  homepage links: the last pass was not completed: {status.links_failure}")
        lines += _problem_columns(status.pages)
        if status.integrity is not None:
            lines += [f"  {line}" for line in summary_lines(status.integrity)]
        if status.ipv6_read or status.ipv6 is not None:
            lines.append(f"  {ipv6_line(status.ipv6)}")
    return "\n".join(lines)


def vetoed(statuses: list[SiteStatus]) -> bool:
    """Any rule of any site in the veto state (insufficient data never is)."""
    return any(v.state is VerdictState.VETO for s in statuses for v in s.assessment.verdicts)


def _v1_days(assessment: SiteAssessment) -> list[str]:
    days = "  ".join(f"{d.strftime('%m-%d')}:{n}" for d, n in assessment.v1_facts.per_day)
    return [f"  homepage visits per day (need 20): {days}"]


def _links_line(links: HomepageLinks | None) -> str:
    """'  homepage links today: 6 broken of 120 (soft-404 1, suspect 0)' (链接可用性)."""
    if links is None:
        return "  homepage links: not checked yet (daily pass, or `monitor links --sweep --homepage-only`)"
    when = "today" if links.today else f"on {links.day.isoformat()} (no pass today yet)"
    c = links.counts
    return (
        f"  homepage links {when}: {c.get('broken', 0)} broken of {links.links}"
        f" (soft-404 {c.get('soft_404', 0)}, suspect {c.get('suspect', 0)}, blocked {c.get('blocked', 0)})"
    )


def _problem_columns(pages: tuple[tuple[Page, Freshness], ...]) -> list[str]:
    lines = []
    for page, f in pages:
        if page.kind is not PageKind.COLUMN:
            continue
        if f.stale:
            age = f"{f.age_days} days" if f.age_days is not None else "no dated item"
            lines.append(f"  stale      {page.name} ({f.rule.category.value}, window {f.rule.window_days} d): {age}")
        elif f.blank:
            lines.append(f"  blank      {page.name}")
        elif f.unreadable:
            lines.append(f"  unreadable {page.name} (list could not be read)")
    return lines


def status_json(statuses: list[SiteStatus]) -> list[dict[str, object]]:
    """The status as JSON-ready dicts (verdicts, V1 facts, per-page freshness)."""
    return [
        {
            "site": s.name,
            "title": s.title,
            "rules": [
                {
                    "rule": v.rule,
                    "state": v.state.value,
                    "veto": v.veto,
                    "warning": v.warning,
                    "known": v.known,
                    "detail": v.detail,
                }
                for v in s.assessment.verdicts
            ],
            "homepage_v1": {
                "checks": s.assessment.v1_facts.checks,
                "failed": s.assessment.v1_facts.failed,
                "ratio": s.assessment.v1_facts.ratio,
                "low_visit_days": s.assessment.v1_facts.low_visit_days,
                "per_day": [{"date": d.isoformat(), "checks": n} for d, n in s.assessment.v1_facts.per_day],
            },
            "pages": [_page_json(p, f) for p, f in s.pages],
            "homepage_links": None
            if s.links is None
            else {"date": s.links.day.isoformat(), "today": s.links.today, "links": s.links.links, **s.links.counts},
            "homepage_links_failure": s.links_failure,
            "integrity": summary_json(s.integrity, UTC) if s.integrity is not None else None,
            "ipv6": ipv6_json(s.ipv6),
        }
        for s in statuses
    ]


def _page_json(page: Page, f: Freshness) -> dict[str, object]:
    return {
        "page": page.name,
        "kind": page.kind.value,
        "category": f.rule.category.value,
        "window_days": f.rule.window_days,
        "newest_date": f.newest.isoformat() if f.newest else None,
        "age_days": f.age_days,
        "items": f.item_count,
        "stale": f.stale,
        "blank": f.blank,
        "unreadable": f.unreadable,
        "checked": f.checked,
    }
