"""The sweep's pure parts: the link work's outside domains, the bounded and cached DNS lookups, and
which open sweep findings stay open when a sweep brings no evidence either way."""

from __future__ import annotations

from monitor.integrity import (
    DomainLookups,
    Domains,
    Finding,
    Kind,
    Resolution,
    SiteState,
    carried_cloaking,
    lapsed_from_answers,
    link_domains,
    link_sweep_domains,
    lookup_candidates,
)
from tests.integrity.conftest import PAGE

LAPSED = Finding.make(Kind.LAPSED_DOMAIN, 60, PAGE, "nxdomain", "gone-example.com", "does not resolve")


def test_link_domains_are_outside_registrable_domains_with_a_few_urls_each(domains: Domains) -> None:
    urls = [
        "http://www.example.gov.cn/a.html",
        "https://m.example.gov.cn/b.html",
        *(f"http://www.partner-example.com/{n}.html" for n in range(9)),
        "http://news.partner-example.com/",
        "http://www.bj.gov.cn/",
        "mailto:someone@example.com",
    ]
    found = link_domains(PAGE, urls, domains)
    assert set(found) == {"partner-example.com", "bj.gov.cn"}
    assert len(found["partner-example.com"]) == 5
    # Government domains and raw IPs are never looked up: nobody else can register them.
    order = ["bj.gov.cn", "partner-example.com", "203.0.113.5"]
    assert lookup_candidates(order, domains) == ["partner-example.com"]


def test_lookups_are_budgeted_per_sweep_never_asked_first_and_cached_for_the_ttl() -> None:
    lookups = DomainLookups(ttl_s=100.0, per_sweep=3)
    assert lookups.due(["a.com", "b.com", "c.com", "d.com"], 0.0) == ["a.com", "b.com", "c.com"]
    assert lookups.due(["d.com"], 0.0) == []  # the sweep's budget is spent
    lookups.record({"a.com": Resolution.NXDOMAIN, "b.com": Resolution.RESOLVES, "c.com": Resolution.UNKNOWN}, 0.0)
    lookups.begin_sweep()
    # Fresh answers are not asked again; a timeout is; the never-asked d.com goes first.
    assert lookups.due(["a.com", "b.com", "c.com", "d.com"], 50.0) == ["d.com", "c.com"]
    assert lookups.known(["a.com", "b.com", "c.com"], 50.0) == {
        "a.com": Resolution.NXDOMAIN,
        "b.com": Resolution.RESOLVES,
    }
    lookups.begin_sweep()
    assert lookups.due(["a.com", "b.com"], 100.0) == ["a.com", "b.com"]  # the TTL ran out
    assert lookups.known(["a.com"], 100.0) == {}


def test_an_nxdomain_is_a_finding_that_says_where_the_domain_is_linked() -> None:
    linked = {"gone-example.com": ("the homepage", "http://www.example.gov.cn/links.html"), "up-example.com": ()}
    answers = {"gone-example.com": Resolution.NXDOMAIN, "up-example.com": Resolution.RESOLVES}
    [finding] = lapsed_from_answers(PAGE, linked, answers)
    assert (finding.kind, finding.target) == (Kind.LAPSED_DOMAIN, "gone-example.com")
    assert "linked from the homepage, http://www.example.gov.cn/links.html" in finding.evidence


def test_an_open_lapsed_finding_stays_until_its_domain_resolves_or_is_no_longer_linked() -> None:
    linked: dict[str, tuple[str, ...]] = {"gone-example.com": ("the homepage",)}
    # Not asked this sweep (the budget), or the lookup timed out: no evidence either way.
    assert lapsed_from_answers(PAGE, linked, {}, [LAPSED]) == [LAPSED]
    assert lapsed_from_answers(PAGE, linked, {"gone-example.com": Resolution.UNKNOWN}, [LAPSED]) == [LAPSED]
    assert lapsed_from_answers(PAGE, linked, {"gone-example.com": Resolution.RESOLVES}, [LAPSED]) == []
    assert lapsed_from_answers(PAGE, {}, {}, [LAPSED]) == []


def test_the_link_sweeps_first_domains_are_the_baseline_then_new_ones_are_events() -> None:
    before = SiteState(known_domains=frozenset({"old.com"}))
    assert link_sweep_domains(PAGE, before, {}) == ([], before)  # no link pass yet: no baseline yet
    first, state = link_sweep_domains(PAGE, before, {"a.com": ["u"]})
    assert first == [] and state.links_seen and state.known_domains == {"old.com", "a.com"}
    found = {"a.com": ["u"], "new-example.com": ["http://www.new-example.com/x"], "old.com": []}
    events, state = link_sweep_domains(PAGE, state, found)
    assert [(e.kind, e.target, e.after) for e in events] == [
        (Kind.NEW_DOMAIN, "new-example.com", "new-example.com, linked as http://www.new-example.com/x")
    ]
    assert link_sweep_domains(PAGE, state, found) == ([], state)


def test_the_link_sweep_never_fills_the_known_domains_beyond_its_share() -> None:
    many = {f"d{n:05}.com": [] for n in range(6_000)}
    _, state = link_sweep_domains(PAGE, SiteState(), many)
    assert len(state.known_domains) == 4_500  # MAX_KNOWN_DOMAINS less room for the homepage's own


def test_cloaking_of_a_visitor_without_a_usable_visit_stays_open() -> None:
    crawler = Finding.make(Kind.CLOAKING, 80, PAGE, "crawler:offsite", "bet.com", "crawler sent to bet.com")
    mobile = Finding.make(Kind.CLOAKING, 80, PAGE, "mobile:spam_text", "百家乐", "spam for phones")
    standing = [crawler, mobile, LAPSED]
    assert carried_cloaking(standing, PAGE, ["search_referer", "mobile"]) == [crawler]
    assert carried_cloaking(standing, PAGE, ["search_referer", "crawler", "mobile"]) == []
