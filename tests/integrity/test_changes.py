"""Drift, tamper and cloaking comparisons with fake resolvers and fetchers (no network)."""

from __future__ import annotations

import pytest

from monitor.integrity import (
    CRAWLER,
    MOBILE,
    NORMAL,
    SEARCH_REFERER,
    Domains,
    Kind,
    Level,
    Resolution,
    Visit,
    Visitor,
    Vocabulary,
    check_cloaking,
    drift_findings,
    inspect_page,
    lapsed_findings,
    new_domain_events,
    snapshot,
    tamper_changes,
)
from tests.integrity.conftest import PAGE

NEWS = "".join(f"<li><a href='/n/{n}.html'>第{n}条 政务要闻 标题 {n}</a></li>" for n in range(40))


def _home(title: str = "某某市人民政府", extra: str = "", head: str = "") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body><ul>{NEWS}</ul>{extra}</body></html>"


# -- drift -----------------------------------------------------------------------------------


def test_outbound_domains_are_registrable_and_outside(domains: Domains, vocabulary: Vocabulary) -> None:
    links = (
        '<a href="http://www.xinhuanet.com/a">新华</a><a href="https://news.xinhuanet.com/b">新华</a>'
        '<a href="http://m.example.gov.cn/">own</a><a href="/local">local</a><a href="http://www.bj.gov.cn/">北京</a>'
        '<a href="mailto:a@b.cn">mail</a><a href="http://203.0.113.5:8080/">ip</a>'
    )
    inspection = inspect_page(_home(extra=links), PAGE, domains=domains, vocabulary=vocabulary)
    assert inspection.outbound == {"xinhuanet.com", "bj.gov.cn", "203.0.113.5"}


def test_new_domain_is_an_event_and_a_finding_only_when_hidden(domains: Domains, vocabulary: Vocabulary) -> None:
    before = inspect_page(
        _home(extra='<a href="http://www.xinhuanet.com/">新华</a>'), PAGE, domains=domains, vocabulary=vocabulary
    )
    hidden = '<div style="display:none"><a href="http://casino-example.com/">百家乐</a></div>'
    partner = '<a href="http://partner-example.org/">合作</a>'
    after = inspect_page(_home(extra=hidden + partner), PAGE, domains=domains, vocabulary=vocabulary)
    events = new_domain_events(PAGE, before.outbound, after.outbound)
    assert [event.target for event in events] == ["casino-example.com", "partner-example.org"]
    [finding] = drift_findings(events, after.findings)
    assert (finding.kind, finding.target, finding.level) == (Kind.NEW_DOMAIN, "casino-example.com", Level.HIGH)
    assert finding.score == after.findings[0].score + 20


def test_lapsed_domain_only_on_nxdomain(domains: Domains) -> None:
    answers = {"gone-example.com": Resolution.NXDOMAIN, "up-example.com": Resolution.RESOLVES}
    asked: list[str] = []

    def resolve(domain: str) -> Resolution:
        asked.append(domain)
        if domain == "flaky-example.com":
            raise OSError("timeout")
        return answers.get(domain, Resolution.UNKNOWN)

    linked = ["gone-example.com", "up-example.com", "flaky-example.com", "lost.gov.cn", "odd-example.net"]
    [finding] = lapsed_findings(PAGE, linked, resolve, domains)
    assert (finding.kind, finding.target, finding.level) == (Kind.LAPSED_DOMAIN, "gone-example.com", Level.HIGH)
    assert "lost.gov.cn" not in asked  # government domains cannot be re-registered by anyone


# -- tamper ----------------------------------------------------------------------------------


def _changes(
    before_html: str, after_html: str, domains: Domains, vocabulary: Vocabulary, known: frozenset[str] = frozenset()
):
    return tamper_changes(
        PAGE,
        snapshot(before_html, PAGE, domains),
        snapshot(after_html, PAGE, domains),
        known_script_domains=known,
        domains=domains,
        vocabulary=vocabulary,
    )


def test_unchanged_page_gives_nothing(domains: Domains, vocabulary: Vocabulary) -> None:
    assert _changes(_home(), _home(), domains, vocabulary) == ([], [])


def test_title_change_is_an_event_and_spam_title_a_high_finding(domains: Domains, vocabulary: Vocabulary) -> None:
    events, findings = _changes(_home(), _home(title="某某市人民政府门户网站"), domains, vocabulary)
    assert [(e.kind, e.before, e.after) for e in events] == [
        (Kind.TITLE_CHANGED, "某某市人民政府", "某某市人民政府门户网站")
    ]
    assert findings == []
    events, findings = _changes(_home(), _home(title="澳门新葡京娱乐城-官网"), domains, vocabulary)
    assert [(f.kind, f.level) for f in findings] == [(Kind.TITLE_CHANGED, Level.HIGH)]
    assert "新葡京" in findings[0].evidence


def test_new_script_domain(domains: Domains, vocabulary: Vocabulary) -> None:
    script = '<script src="http://cdn.evil-example.top/x.js"></script>'
    events, findings = _changes(_home(), _home(extra=script), domains, vocabulary)
    assert [e.kind for e in events] == [Kind.NEW_SCRIPT_DOMAIN]
    assert [(f.target, f.level) for f in findings] == [("evil-example.top", Level.HIGH)]
    known = frozenset({"evil-example.top"})
    assert _changes(_home(), _home(extra=script), domains, vocabulary, known) == ([], [])
    partner = '<script src="https://hm.baidu.com/hm.js"></script>'
    assert [(f.target, f.level) for f in _changes(_home(), _home(extra=partner), domains, vocabulary)[1]] == [
        ("baidu.com", Level.LOW)
    ]
    government = '<script src="https://zfwzgl.www.gov.cn/exposure/jiucuo.js"></script>'
    events, findings = _changes(_home(), _home(extra=government), domains, vocabulary)
    assert len(events) == 1 and findings == []


@pytest.mark.parametrize(
    ("extra", "head", "level"),
    [
        ("", '<meta http-equiv="refresh" content="0; url=http://www.bet-example.com/">', Level.HIGH),
        ("<script>window.location.href='http:/'+'/www.bet-example.com/';</script>", "", Level.HIGH),
        ('<script>location.replace("https://www.bet-example.com/")</script>', "", Level.HIGH),
        ("<script>top.location='http://www.other.gov.cn/'</script>", "", Level.LOW),
    ],
)
def test_offsite_redirect_appearing(
    extra: str, head: str, level: Level, domains: Domains, vocabulary: Vocabulary
) -> None:
    events, findings = _changes(_home(), _home(extra=extra, head=head), domains, vocabulary)
    assert [e.kind for e in events] == [Kind.OFFSITE_REDIRECT]
    assert [(f.kind, f.level) for f in findings] == [(Kind.OFFSITE_REDIRECT, level)]


def test_redirects_inside_handlers_and_to_the_own_site_are_not_findings(
    domains: Domains, vocabulary: Vocabulary
) -> None:
    handler = "<script>function go(q){ window.location.href='http://www.baidu.com/s?wd='+q; }</script>"
    own = "<script>location.href='/index_2.html'</script>"
    events, findings = _changes(_home(), _home(extra=handler + own), domains, vocabulary)
    assert findings == []
    assert [e.target for e in events] == ["http://www.example.gov.cn/index_2.html"]


def test_text_shrink_and_rewrite_are_events(domains: Domains, vocabulary: Vocabulary) -> None:
    shrunk = "<html><head><title>某某市人民政府</title></head><body>网站维护中</body></html>"
    events, findings = _changes(_home(), shrunk, domains, vocabulary)
    assert [(e.kind, e.target) for e in events] == [(Kind.TEXT_CHANGED, "shrink")] and findings == []
    other = "".join(f"<li><a href='/x/{n}'>完全不同的内容 段落 {n * 7919}</a></li>" for n in range(40))
    rewritten = f"<html><head><title>某某市人民政府</title></head><body><ul>{other}</ul></body></html>"
    events, _ = _changes(_home(), rewritten, domains, vocabulary)
    assert [(e.kind, e.target) for e in events] == [(Kind.TEXT_CHANGED, "rewritten")]
    assert "政务要闻" in events[0].before


# -- cloaking --------------------------------------------------------------------------------


def _fetcher(pages: dict[str, Visit | None]):
    calls: list[Visitor] = []

    def fetch(url: str, visitor: Visitor) -> Visit | None:
        assert url == PAGE
        calls.append(visitor)
        return pages[visitor.name]

    return fetch, calls


def _visit(body: str, url: str = PAGE) -> Visit:
    return Visit(url, 200, body)


def test_same_page_for_every_visitor_is_not_cloaking(domains: Domains, vocabulary: Vocabulary) -> None:
    fetch, calls = _fetcher({v.name: _visit(_home()) for v in (NORMAL, SEARCH_REFERER, CRAWLER, MOBILE)})
    assert check_cloaking(PAGE, fetch, domains, vocabulary) == []
    assert [visitor.name for visitor in calls] == ["normal", "search_referer", "crawler", "mobile"]
    referer = dict(SEARCH_REFERER.headers)["Referer"]
    assert "baidu.com" in referer and "Baiduspider" in dict(CRAWLER.headers)["User-Agent"]


@pytest.mark.parametrize(
    ("visitor", "visit", "technique", "level"),
    [
        ("search_referer", _visit("<p>x</p>", "http://www.bet-example.com/"), "search_referer:offsite", Level.HIGH),
        ("crawler", _visit(_home(extra="<p>百家乐 真人娱乐</p>")), "crawler:spam_text", Level.HIGH),
        (
            "search_referer",
            _visit(_home(), "http://www.example.gov.cn/other.html"),
            "search_referer:different_url",
            Level.HIGH,
        ),
        ("crawler", _visit("<p>完全另一个页面 内容</p>"), "crawler:different_text", Level.HIGH),
        ("mobile", _visit(_home(), "http://www.example.gov.cn/m/"), "mobile:different_url", Level.LOW),
        ("mobile", _visit("<p>手机版 首页</p>"), "mobile:different_text", Level.LOW),
        ("mobile", _visit("<p>x</p>", "http://m.bet-example.com/"), "mobile:offsite", Level.HIGH),
    ],
)
def test_cloaking_variants(
    visitor: str, visit: Visit, technique: str, level: Level, domains: Domains, vocabulary: Vocabulary
) -> None:
    pages: dict[str, Visit | None] = {v.name: _visit(_home()) for v in (NORMAL, SEARCH_REFERER, CRAWLER, MOBILE)}
    pages[visitor] = visit
    fetch, _ = _fetcher(pages)
    [finding] = check_cloaking(PAGE, fetch, domains, vocabulary)
    assert (finding.kind, finding.technique, finding.level) == (Kind.CLOAKING, technique, level)


def test_failed_fetches_are_never_cloaking(domains: Domains, vocabulary: Vocabulary) -> None:
    fetch, _ = _fetcher(
        {
            "normal": None,
            "search_referer": _visit("<p>x</p>", "http://bet-example.com/"),
            "crawler": None,
            "mobile": None,
        }
    )
    assert check_cloaking(PAGE, fetch, domains, vocabulary) == []
    fetch, _ = _fetcher({"normal": _visit(_home()), "search_referer": None, "crawler": None, "mobile": None})
    assert check_cloaking(PAGE, fetch, domains, vocabulary) == []


def test_refused_visitors_are_blocking_not_cloaking(domains: Domains, vocabulary: Vocabulary) -> None:
    refused = Visit(PAGE, 403, "<p>Forbidden: 非法爬虫</p>")
    pages: dict[str, Visit | None] = {"normal": _visit(_home()), "search_referer": _visit(_home())}
    fetch, _ = _fetcher({**pages, "crawler": refused, "mobile": _visit(_home())})
    assert check_cloaking(PAGE, fetch, domains, vocabulary) == []
    fetch, _ = _fetcher(
        {**pages, "normal": Visit(PAGE, 503, "busy"), "crawler": _visit("<p>百家乐</p>"), "mobile": None}
    )
    assert check_cloaking(PAGE, fetch, domains, vocabulary) == []
