"""track/_integrity.py: homepage readings and sweeps tracked apart, stored, and restored after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.integrity import DomainLookups, Domains, Finding, Inspection, Kind, Resolution, load_vocabulary
from monitor.integrity import inspect_page as inspect
from monitor.models import Page, PageKind
from monitor.store import (
    LinkOccurrenceRow,
    LinkPassRecorded,
    LinkResultRow,
    Store,
    WriterSettings,
    load_events,
    load_findings,
)
from monitor.track import IntegrityTracker

URL = "http://www.example.gov.cn/"
HOME = Page("bureau", "home", URL, PageKind.HOMEPAGE)
HIDDEN = (
    '<html><body><p>某某局</p><div style="display:none"><a href="http://x.casino.top/">百家乐</a></div></body></html>'
)
CLEAN = "<html><body><p>某某局</p></body></html>"
LAPSED = Finding.make(Kind.LAPSED_DOMAIN, 60, URL, "nxdomain", "old-partner.cn", "does not resolve")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "monitor.db", writer_settings=WriterSettings(linger_s=0.0))
    s.sync_pages([("bureau", "某某局", URL)], [HOME], 0.0)
    s.writer.start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def domains() -> Domains:
    return Domains()


def tracker(store: Store, domains: Domains) -> IntegrityTracker:
    t = IntegrityTracker(store, domains, load_vocabulary())
    t.restore()
    return t


def kinds(store: Store, open_only: bool = True) -> set[Kind]:
    assert store.writer.flush()
    return {row.tracked.finding.kind for row in load_findings(store, open_only=open_only)}


def test_sweep_and_homepage_do_not_resolve_each_others_findings(store: Store, domains: Domains) -> None:
    t, site = tracker(store, domains), store.site_ids()["bureau"]
    vocabulary = t.vocabulary
    t.homepage(site, inspect(HIDDEN, URL, domains=domains, vocabulary=vocabulary), 100.0)
    t.sweep(site, URL, [LAPSED], 150.0)
    assert {Kind.HIDDEN_LINK, Kind.LAPSED_DOMAIN} <= kinds(store)
    t.homepage(site, inspect(CLEAN, URL, domains=domains, vocabulary=vocabulary), 200.0)
    assert Kind.LAPSED_DOMAIN in kinds(store) and Kind.HIDDEN_LINK not in kinds(store)
    read = t.sweep(site, URL, [], 300.0)
    assert Kind.LAPSED_DOMAIN not in kinds(store) and all(o.finding.kind is not Kind.LAPSED_DOMAIN for o in read.open)


def test_a_failed_inspection_changes_nothing(store: Store, domains: Domains) -> None:
    t, site = tracker(store, domains), store.site_ids()["bureau"]
    t.homepage(site, inspect(HIDDEN, URL, domains=domains, vocabulary=t.vocabulary), 100.0)
    before = kinds(store)
    read = t.homepage(site, Inspection(URL, error="nested deeper than 2000"), 200.0)
    assert kinds(store) == before and {o.finding.kind for o in read.open} == before


def test_restart_continues_from_the_stored_baseline_and_open_findings(store: Store, domains: Domains) -> None:
    first, site = tracker(store, domains), store.site_ids()["bureau"]
    first.homepage(site, inspect(HIDDEN, URL, domains=domains, vocabulary=first.vocabulary), 100.0)
    assert store.writer.flush()
    again = tracker(store, domains)
    assert again.state(site) == first.state(site)
    assert [o.finding.kind for o in again.open[site]] == [o.finding.kind for o in first.open[site]]
    again.homepage(site, inspect(HIDDEN, URL, domains=domains, vocabulary=again.vocabulary), 200.0)
    assert store.writer.flush()
    rows = [r.tracked for r in load_findings(store) if r.tracked.finding.kind is Kind.HIDDEN_LINK]
    assert [(r.first_seen, r.last_seen) for r in rows] == [(100.0, 200.0)]  # one row, first seen kept


NEWS = "".join(f"<li><a href='/n/{n}.html'>政务要闻 {n}</a></li>" for n in range(30))


def home(title: str = "某某局", news: str = NEWS, head: str = "") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body><ul>{news}</ul></body></html>"


@pytest.mark.parametrize(
    ("tampered", "key"),
    [
        (home(title="澳门威尼斯人娱乐城"), (Kind.TITLE_CHANGED, "spam_title", "title")),
        (
            home(head='<script src="http://203.0.113.7/js/tj.js"></script>'),
            (Kind.NEW_SCRIPT_DOMAIN, "new_script", "203.0.113.7"),
        ),
        (
            home(head='<meta http-equiv="refresh" content="3; url=http://www.bet-example.com/">'),
            (Kind.OFFSITE_REDIRECT, "redirect", "bet-example.com"),
        ),
        (
            home(news=NEWS + '<div style="display:none"><a href="http://x.casino-example.top/">百家乐</a></div>'),
            (Kind.NEW_DOMAIN, "display_none", "casino-example.top"),
        ),
    ],
    ids=["spam_title", "foreign_script", "meta_refresh", "hidden_new_domain"],
)
def test_a_tamper_finding_stays_open_across_readings_until_the_page_is_clean(
    store: Store, domains: Domains, tampered: str, key: tuple[Kind, str, str]
) -> None:
    t, site = tracker(store, domains), store.site_ids()["bureau"]

    def read(html: str, now: float) -> set[tuple[Kind, str, str]]:
        inspection = inspect(html, URL, domains=domains, vocabulary=t.vocabulary)
        return {(o.finding.kind, o.finding.technique, o.finding.target) for o in t.homepage(site, inspection, now).open}

    read(home(), 100.0)
    assert key in read(tampered, 200.0)
    # A new news item changes the bytes: the page is read again, the tampering still on it.
    assert key in read(tampered.replace("政务要闻 3<", "政务要闻 新<"), 300.0)
    assert store.writer.flush()
    [row] = [r.tracked for r in load_findings(store) if (r.tracked.finding.kind, r.tracked.finding.target) == key[::2]]
    assert (row.first_seen, row.last_seen, row.resolved_at) == (200.0, 300.0, None)
    assert key not in read(home(), 400.0)


def test_an_accepted_domain_is_an_event_never_a_finding_and_accepting_resolves_an_open_one(store: Store) -> None:
    """A legitimate new analytics script stays an open low finding while it is on the page; the
    office answers it with integrity.accepted_domains (matched by registrable domain): the open
    finding resolves at the next reading, and a new script or redirect from it raises no finding
    (the event is still recorded)."""
    site, analytics = store.site_ids()["bureau"], home(head='<script src="https://hm.baidu.com/hm.js"></script>')
    strict = tracker(store, Domains())

    def read(t: IntegrityTracker, html: str, now: float) -> set[tuple[Kind, str]]:
        inspection = inspect(html, URL, domains=t.domains, vocabulary=t.vocabulary)
        return {(o.finding.kind, o.finding.target) for o in t.homepage(site, inspection, now).open}

    read(strict, home(), 100.0)
    assert (Kind.NEW_SCRIPT_DOMAIN, "baidu.com") in read(strict, analytics, 200.0)
    assert store.writer.flush()
    accepting = tracker(store, Domains(accepted=frozenset({"hm.baidu.com", "cdn-partner.com"})))  # a restart
    assert (Kind.NEW_SCRIPT_DOMAIN, "baidu.com") not in read(
        accepting, analytics.replace("某某局", "某某市某某局"), 300.0
    )
    redirect = home(head='<meta http-equiv="refresh" content="3; url=https://www.cdn-partner.com/a">')
    assert not read(accepting, redirect, 400.0) & {(Kind.OFFSITE_REDIRECT, "cdn-partner.com")}
    assert store.writer.flush()
    assert {e.event.kind for e in load_events(store)} >= {Kind.NEW_SCRIPT_DOMAIN, Kind.OFFSITE_REDIRECT}


# -- the sweep takes the link passes' outside domains --------------------------------------------


def link_pass(started: float, *links: tuple[str, str, str | None, str]) -> LinkPassRecorded:
    """A recorded sweep pass of site "bureau": (url, class, error_kind, parent page) per link."""
    rows = tuple(
        LinkResultRow(
            url, "external", "page", cls, cls, None, kind, "", started, 0.1, 0, started, None, 1,
            (LinkOccurrenceRow(parent, "栏目", "友情链接", "a", "href", 1),) if cls != "ok" else (),
        )
        for url, cls, kind, parent in links
    )  # fmt: skip
    return LinkPassRecorded("bureau", "sweep", started, started + 1, True, False, 3, rows)


COLUMN = URL + "col/links.html"


def test_the_sweep_looks_up_the_link_passes_domains_and_names_the_linking_pages(store: Store, domains: Domains) -> None:
    t, site = tracker(store, domains), store.site_ids()["bureau"]
    store.submit(
        [
            link_pass(
                50.0,
                ("http://www.partner-example.com/", "ok", None, COLUMN),
                ("http://www.gone-example.com/old", "broken", "dns", COLUMN),
                ("http://www.bj.gov.cn/", "ok", None, COLUMN),
            )
        ]
    )
    assert store.writer.flush()
    plan = t.plan_sweep(site, URL, 100.0)
    # The link checker's unresolved name first; government domains never.
    assert plan.due == ("gone-example.com", "partner-example.com") and plan.events == ()
    answers = {"gone-example.com": Resolution.NXDOMAIN, "partner-example.com": Resolution.RESOLVES}
    read = t.finish_sweep(site, plan, [], [], answers, 100.0)
    [lapsed] = [o.finding for o in read.open]
    assert (lapsed.kind, lapsed.target) == (Kind.LAPSED_DOMAIN, "gone-example.com")
    assert COLUMN in lapsed.evidence
    # The next sweep within the TTL asks nothing and keeps the finding from the cached answer.
    again = t.plan_sweep(site, URL, 200.0)
    assert again.due == ()
    assert [o.finding.target for o in t.finish_sweep(site, again, [], [], {}, 200.0).open] == ["gone-example.com"]


def test_the_link_passes_new_domains_are_events_after_the_first(store: Store, domains: Domains) -> None:
    t, site = tracker(store, domains), store.site_ids()["bureau"]
    store.submit([link_pass(50.0, ("http://www.partner-example.com/", "ok", None, COLUMN))])
    assert store.writer.flush()
    assert t.plan_sweep(site, URL, 100.0).events == ()  # the baseline
    store.submit([link_pass(150.0, ("http://casino-example.top/", "ok", None, COLUMN))])
    assert store.writer.flush()
    [event] = t.plan_sweep(site, URL, 200.0).events
    assert (event.kind, event.target) == (Kind.NEW_DOMAIN, "casino-example.top")
    assert store.writer.flush()
    assert [e.event.target for e in load_events(store)] == ["casino-example.top"]
    assert tracker(store, domains).state(site).links_seen  # the baseline survives a restart


def test_lookups_stop_at_the_sweep_budget(store: Store, domains: Domains) -> None:
    t, site = tracker(store, domains), store.site_ids()["bureau"]
    t.lookups = DomainLookups(per_sweep=3)
    urls = [(f"http://www.partner{n}-example.com/", "ok", None, COLUMN) for n in range(10)]
    store.submit([link_pass(50.0, *urls)])
    assert store.writer.flush()
    assert len(t.plan_sweep(site, URL, 100.0).due) == 3
    assert t.plan_sweep(site, URL, 100.0).due == ()  # the same sweep: the budget is spent
    t.lookups.begin_sweep()
    assert len(t.plan_sweep(site, URL, 200.0).due) == 3


INCONSISTENT = Finding.make(Kind.IPV6_INCONSISTENT, 40, URL, "content", "www.example.gov.cn", "IPv6 page differs")


def test_ipv6_findings_are_tracked_apart_from_homepage_and_sweep(store: Store, domains: Domains) -> None:
    """A homepage reading or a sweep never resolves the IPv6 comparison's finding, nor it theirs
    (before IPV6_KINDS, the homepage's `track` resolved it at the next clean check)."""
    t, site = tracker(store, domains), store.site_ids()["bureau"]
    t.ipv6(site, URL, [INCONSISTENT], 100.0)
    t.sweep(site, URL, [LAPSED], 110.0)
    t.homepage(site, inspect(CLEAN, URL, domains=domains, vocabulary=t.vocabulary), 120.0)
    t.sweep(site, URL, [], 130.0)
    assert Kind.IPV6_INCONSISTENT in kinds(store) and Kind.LAPSED_DOMAIN not in kinds(store)
    t.sweep(site, URL, [LAPSED], 140.0)
    read = t.ipv6(site, URL, [], 200.0)
    assert Kind.IPV6_INCONSISTENT not in kinds(store) and Kind.LAPSED_DOMAIN in kinds(store)
    assert Kind.IPV6_INCONSISTENT not in {o.finding.kind for o in read.open}
