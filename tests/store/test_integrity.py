"""store/_integrity.py: findings lifecycle rows, events, per-site state as JSON, retention (0007_integrity)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.integrity import Event, Finding, Kind, SiteState, Snapshot, Tracked, read_identity, track
from monitor.models import Page, PageKind
from monitor.store import (
    FindingsTracked,
    IntegrityEvents,
    IntegrityStateRow,
    PruneIntegrity,
    load_events,
    load_findings,
    load_states,
    open_tracked,
)
from monitor.store._store import Store
from monitor.store._writer import WriterSettings

SITES = [("bureau", "某某局", "http://bureau.example/"), ("other", "另一局", "http://other.example/")]
HOME = Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE)
OTHER = Page("other", "home", "http://other.example/", PageKind.HOMEPAGE)
FAST = WriterSettings(linger_s=0.0, retry_min_s=0.01, retry_max_s=0.05)
HIDDEN = Finding.make(Kind.HIDDEN_LINK, 85, HOME.url, "display_none", "casino.invalid", "<a href=…>博彩</a>" * 100)
MISSING = Finding.make(Kind.IDENTITY_MISSING, 20, HOME.url, "missing", "icp", "no icp on the page")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "monitor.db", writer_settings=FAST)
    s.sync_pages(SITES, [HOME, OTHER], 0.0)
    s.writer.start()
    yield s
    s.close()


def written(store: Store, *ops: object) -> None:
    store.submit(ops)  # type: ignore[arg-type]
    assert store.writer.flush()


def test_findings_keep_first_seen_update_last_seen_and_resolve(store: Store) -> None:
    site = store.site_ids()["bureau"]
    first = track([], [HIDDEN, MISSING], 100.0, [HOME.url])
    written(store, FindingsTracked(site, tuple(first)))
    again = track(open_tracked(store)[site], [HIDDEN], 200.0, [HOME.url])
    written(store, FindingsTracked(site, tuple(again)))
    rows = load_findings(store)
    assert [
        (r.tracked.finding.kind, r.tracked.first_seen, r.tracked.last_seen, r.tracked.resolved_at) for r in rows
    ] == [
        (Kind.HIDDEN_LINK, 100.0, 200.0, None),
        (Kind.IDENTITY_MISSING, 100.0, 100.0, 200.0),
    ]
    assert rows[0].site == "bureau" and len(rows[0].tracked.finding.evidence) <= 300
    assert [r.tracked.finding.kind for r in load_findings(store, open_only=True)] == [Kind.HIDDEN_LINK]
    assert load_findings(store, site="other") == []


def test_a_finding_that_comes_back_is_a_new_row(store: Store) -> None:
    site = store.site_ids()["bureau"]
    history: list[Tracked] = []
    for now, seen in ((100.0, [HIDDEN]), (200.0, []), (300.0, [HIDDEN])):
        history = track(history, seen, now, [HOME.url])
        written(store, FindingsTracked(site, tuple(t for t in history if now in (t.last_seen, t.resolved_at))))
    spans = sorted((r.tracked.first_seen, r.tracked.resolved_at) for r in load_findings(store))
    assert spans == [(100.0, 200.0), (300.0, None)]


def test_events_and_state_round_trip(store: Store) -> None:
    site = store.site_ids()["bureau"]
    event = Event.make(Kind.TITLE_CHANGED, HOME.url, "title", "某某局", "澳门赌场")
    identity = read_identity(
        '<p>网站标识码：4502000001 桂ICP备12345678号</p><script src="https://dcs.conac.cn/js/x.js"></script>'
    )
    state = SiteState(
        frozenset({"partner.example"}),
        frozenset({"cdn.example"}),
        identity,
        Snapshot("某某局", frozenset(), (), 10, frozenset({1, 2}), "某某"),
    )
    written(store, IntegrityEvents(site, 150.0, (event,)), IntegrityStateRow(site, 150.0, state))
    assert [(e.site, e.ts, e.event) for e in load_events(store)] == [("bureau", 150.0, event)]
    assert load_events(store, since=151.0) == []
    assert load_states(store) == {site: state}


def test_state_that_does_not_parse_is_an_empty_baseline(store: Store, tmp_path: Path) -> None:
    site = store.site_ids()["bureau"]
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        conn.execute("INSERT INTO integrity_state VALUES (?, 1.0, 'not json')", (site,))
    assert load_states(store) == {site: SiteState()}


def test_retention_drops_old_resolved_findings_and_events_keeps_open_ones(store: Store) -> None:
    site = store.site_ids()["bureau"]
    old_open = Tracked(HIDDEN, 10.0, 10.0)
    old_resolved = Tracked(MISSING, 10.0, 10.0, 20.0)
    recent = Tracked(Finding.make(Kind.PAGE_TAG, 10, HOME.url, "missing", "SiteName", "x"), 10.0, 10.0, 900.0)
    written(
        store,
        FindingsTracked(site, (old_open, old_resolved, recent)),
        IntegrityEvents(site, 20.0, (Event.make(Kind.NEW_DOMAIN, HOME.url, "a.example", "", "a.example"),)),
        IntegrityEvents(site, 900.0, (Event.make(Kind.NEW_DOMAIN, HOME.url, "b.example", "", "b.example"),)),
    )
    written(store, PruneIntegrity(now=1000.0, retention_s=500.0))
    kept = {(r.tracked.finding.kind, r.tracked.resolved_at) for r in load_findings(store)}
    assert kept == {(Kind.HIDDEN_LINK, None), (Kind.PAGE_TAG, 900.0)}
    assert [e.event.target for e in load_events(store)] == ["b.example"]
