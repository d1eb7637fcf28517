"""track/_integrity.py: homepage readings and sweeps tracked apart, stored, and restored after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.integrity import Domains, Finding, Inspection, Kind, load_vocabulary
from monitor.integrity import inspect_page as inspect
from monitor.models import Page, PageKind
from monitor.store import Store, WriterSettings, load_findings
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
