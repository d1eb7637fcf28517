"""integrity/_homepage.py and _wire.py: one homepage reading against the site's baseline; the JSON wire form."""

from __future__ import annotations

import json

import pytest

from monitor.integrity import (
    Assessment,
    Domains,
    Kind,
    Level,
    SiteState,
    Tracked,
    Vocabulary,
    assess_homepage,
    changed_since,
    inspect_page,
    inspection_from_json,
    inspection_to_json,
    split_by_source,
    track,
)
from monitor.integrity._findings import Finding
from tests.integrity.conftest import PAGE

FOOTER = "<p>网站标识码：4502000001 桂ICP备12345678号 主办单位：某某局</p>"


BODY = "政务公开 工作动态 " * 20


def page(title: str = "某某局", extra: str = "", footer: str = FOOTER) -> str:
    return f"<html><head><title>{title}</title>{extra}</head><body><p>{BODY}</p>{footer}</body></html>"


def assess(html: str, state: SiteState, domains: Domains, vocabulary: Vocabulary, code: str = "") -> Assessment:
    inspection = inspect_page(html, PAGE, domains=domains, vocabulary=vocabulary)
    return assess_homepage(inspection, state, domains=domains, vocabulary=vocabulary, expected_code=code)


def test_first_reading_is_the_baseline_then_changes_are_events_and_findings(
    domains: Domains, vocabulary: Vocabulary
) -> None:
    first = assess_homepage(
        inspect_page(page(), PAGE, domains=domains, vocabulary=vocabulary),
        SiteState(),
        domains=domains,
        vocabulary=vocabulary,
    )
    assert first.events == ()
    assert first.state.snapshot is not None and first.state.identity is not None
    link = '<a href="http://www.partner.com.cn/">合作</a>'
    spam = page("澳门威尼斯人娱乐城", '<script src="http://203.0.113.9/x.js"></script>', footer=FOOTER + link)
    second = assess(spam, first.state, domains, vocabulary, "4502000001")
    assert {e.kind for e in second.events} == {Kind.NEW_DOMAIN, Kind.TITLE_CHANGED, Kind.NEW_SCRIPT_DOMAIN}
    high = {(f.kind, f.target) for f in second.findings if f.level is Level.HIGH}
    assert high == {(Kind.TITLE_CHANGED, "title"), (Kind.NEW_SCRIPT_DOMAIN, "203.0.113.9")}
    assert second.state.known_domains == {"partner.com.cn"} == second.state.linked
    assert "203.0.113.9" in second.state.script_domains


def test_a_lost_site_code_and_a_configured_mismatch_are_high(domains: Domains, vocabulary: Vocabulary) -> None:
    base = assess_homepage(
        inspect_page(page(), PAGE, domains=domains, vocabulary=vocabulary),
        SiteState(),
        domains=domains,
        vocabulary=vocabulary,
    )
    gone = page(footer="<p>桂ICP备12345678号 主办单位：某某局</p>")
    after = assess_homepage(
        inspect_page(gone, PAGE, domains=domains, vocabulary=vocabulary),
        base.state,
        domains=domains,
        vocabulary=vocabulary,
    )
    assert (Kind.IDENTITY_MISSING, Level.HIGH, "disappeared", "site_code") in {
        (f.kind, f.level, f.technique, f.target) for f in after.findings
    }
    other = assess(page(), SiteState(), domains, vocabulary, "4502000002")
    assert (Kind.IDENTITY_MISMATCH, "configured") in {(f.kind, f.technique) for f in other.findings}


def test_state_round_trips_through_json() -> None:
    state = SiteState(frozenset({"a.cn"}), frozenset({"cdn.cn"}), None, None, frozenset({"a.cn"}))
    assert SiteState.from_dict(json.loads(json.dumps(state.as_dict()))) == state
    assert SiteState.from_dict({}) == SiteState()


def test_sweep_kinds_are_tracked_apart_and_changed_since_picks_what_a_track_touched() -> None:
    lapsed = Tracked(Finding.make(Kind.LAPSED_DOMAIN, 60, PAGE, "nxdomain", "x.cn", "x"), 1.0, 1.0)
    hidden = Tracked(Finding.make(Kind.HIDDEN_LINK, 60, PAGE, "display_none", "y.cn", "y"), 1.0, 2.0)
    assert split_by_source([lapsed, hidden]) == ([hidden], [lapsed])
    assert changed_since([lapsed, hidden], 2.0) == [hidden]


def test_inspection_round_trips_through_the_wire_and_rejects_nonsense(domains: Domains, vocabulary: Vocabulary) -> None:
    hidden = page(footer=FOOTER + '<div style="display:none"><a href="http://bet.casino.top/">百家乐</a></div>')
    inspection = inspect_page(hidden, PAGE, domains=domains, vocabulary=vocabulary)
    assert inspection.findings
    assert inspection_from_json(json.loads(json.dumps(inspection_to_json(inspection)))) == inspection
    data = inspection_to_json(inspection)
    with pytest.raises((KeyError, TypeError, ValueError)):
        inspection_from_json({**data, "identity": "x"})
    with pytest.raises(ValueError):
        inspection_from_json({**data, "findings": [{**data["findings"][0], "level": "low", "score": 99}]})
    with pytest.raises(ValueError):
        inspection_from_json({**data, "findings": [{**data["findings"][0], "kind": "bogus"}]})


# -- a tamper finding stays open while its evidence is on the page -------------------------------

SCRIPT = '<script src="http://203.0.113.9/x.js"></script>'
TAMPERED = {
    "spam_title": (page(title="澳门威尼斯人娱乐城"), (Kind.TITLE_CHANGED, "spam_title", "title")),
    "foreign_script": (page(extra=SCRIPT), (Kind.NEW_SCRIPT_DOMAIN, "new_script", "203.0.113.9")),
    "meta_refresh": (
        page(extra='<meta http-equiv="refresh" content="5; url=http://www.bet-example.com/">'),
        (Kind.OFFSITE_REDIRECT, "redirect", "bet-example.com"),
    ),
    "script_redirect": (
        page(extra="<script>window.location.href='http://m.bet-example.com/';</script>"),
        (Kind.OFFSITE_REDIRECT, "redirect", "bet-example.com"),
    ),
    "hidden_new_domain": (
        page(footer=FOOTER + '<div style="display:none"><a href="http://bet.casino-example.top/">百家乐</a></div>'),
        (Kind.NEW_DOMAIN, "display_none", "casino-example.top"),
    ),
    "site_code_gone": (
        page(footer="<p>桂ICP备12345678号 主办单位：某某局</p>"),
        (Kind.IDENTITY_MISSING, "disappeared", "site_code"),
    ),
}


def readings(htmls: list[str], domains: Domains, vocabulary: Vocabulary) -> list[dict[tuple[Kind, str, str], Tracked]]:
    """Each reading through `assess_homepage` and `track`, as the daemon's tracker does; the open
    findings after each one by (kind, technique, target)."""
    state, tracked, after = SiteState(), [], []
    for now, html in enumerate(htmls, start=1):
        inspection = inspect_page(html, PAGE, domains=domains, vocabulary=vocabulary)
        standing = [one.finding for one in tracked if one.open]
        assessment = assess_homepage(inspection, state, domains=domains, vocabulary=vocabulary, standing=standing)
        tracked = track(tracked, assessment.findings, float(now), [PAGE])
        state = assessment.state
        after.append({(o.finding.kind, o.finding.technique, o.finding.target): o for o in tracked if o.open})
    return after


@pytest.mark.parametrize("signal", sorted(TAMPERED))
def test_a_tamper_finding_stays_open_while_the_evidence_is_there(
    signal: str, domains: Domains, vocabulary: Vocabulary
) -> None:
    tampered, key = TAMPERED[signal]
    # The tampered page read again with other news (new bytes: inspected again), then cleaned.
    again = tampered.replace("工作动态", "通知公告")
    steps = readings([page(), tampered, again, tampered, page()], domains, vocabulary)
    baseline, opened, still, back, cleaned = steps
    assert key not in baseline and key in opened and opened[key].finding.level is Level.HIGH
    assert key in still and still[key].first_seen == 2.0 and still[key].last_seen == 3.0
    assert key in back and back[key].first_seen == 2.0  # the same evidence: open all along
    assert key not in cleaned  # the evidence went: resolved


def test_a_spam_title_replaced_by_another_spam_title_stays_open(domains: Domains, vocabulary: Vocabulary) -> None:
    key = (Kind.TITLE_CHANGED, "spam_title", "title")
    steps = readings(
        [page(), page(title="澳门威尼斯人娱乐城"), page(title="百家乐 真人娱乐"), page(title="某某局门户网站")],
        domains,
        vocabulary,
    )
    assert [key in step for step in steps] == [False, True, True, False]
    assert steps[2][key].first_seen == 2.0


def test_a_moved_script_or_redirect_resolves_only_its_own_finding(domains: Domains, vocabulary: Vocabulary) -> None:
    other = '<script src="http://cdn.partner-example.top/y.js"></script>'
    steps = readings([page(), page(extra=SCRIPT), page(extra=other)], domains, vocabulary)
    assert (Kind.NEW_SCRIPT_DOMAIN, "new_script", "203.0.113.9") not in steps[2]
    assert (Kind.NEW_SCRIPT_DOMAIN, "new_script", "partner-example.top") in steps[2]
    site_code = (Kind.IDENTITY_MISSING, "disappeared", "site_code")
    gone = page(footer="<p>桂ICP备12345678号 主办单位：某某局</p>")
    steps = readings([page(), gone, gone.replace("工作动态", "通知公告")], domains, vocabulary)
    assert site_code in steps[2] and (Kind.IDENTITY_MISSING, "missing", "site_code") not in steps[2]
