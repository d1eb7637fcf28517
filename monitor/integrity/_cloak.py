"""Cloaking: the same page as a search engine's visitor, its crawler and a phone see it.

Gambling redirects hide from the site's own staff by serving them the real page and sending only
visitors who arrive from a search engine (or the crawler itself) elsewhere. The fetching is the
caller's `Fetch` (I/O lives there); this module names the visitors and compares what they got.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from monitor.integrity._domains import Domains
from monitor.integrity._findings import Finding, Kind
from monitor.integrity._text import fingerprint, similarity, visible_text
from monitor.integrity._words import Vocabulary

TEXT_SHARE = 0.5
"""A visitor whose text shares less than this with the normal visit's got a different page."""

EVIDENCE_TEXT = 80
"""Characters of each visitor's text quoted in a finding's evidence (before/after)."""

SCORE_OFFSITE = 80
SCORE_DIFFERENT = 60
SCORE_MOBILE = 20
SCORE_SPAM = 80
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)


@dataclass(frozen=True)
class Visitor:
    """How a request presents itself: a name (stable string) and its headers."""

    name: str
    headers: tuple[tuple[str, str], ...]


NORMAL = Visitor("normal", (("User-Agent", DESKTOP_UA),))
SEARCH_REFERER = Visitor(
    "search_referer", (("User-Agent", DESKTOP_UA), ("Referer", "https://www.baidu.com/s?wd=%E6%94%BF%E5%BA%9C"))
)
CRAWLER = Visitor(
    "crawler",
    (("User-Agent", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"),),
)
MOBILE = Visitor(
    "mobile",
    (
        (
            "User-Agent",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1",
        ),
    ),
)
VISITORS: tuple[Visitor, ...] = (NORMAL, SEARCH_REFERER, CRAWLER, MOBILE)
"""The normal visit first; every other one is compared with it."""


@dataclass(frozen=True)
class Visit:
    """What one visitor got: the final URL after redirects, the status and the body as text."""

    final_url: str
    status: int
    body: str


Fetch = Callable[[str, Visitor], Visit | None]
"""Fetches a URL as a visitor (following redirects); None when the fetch failed or an anti-bot
challenge answered (monitor.fetch's `challenge_vendor`): neither is evidence of cloaking."""


def check_cloaking(
    page: str, fetch: Fetch, domains: Domains, vocabulary: Vocabulary, visitors: Sequence[Visitor] = VISITORS
) -> list[Finding]:
    """Fetch the page as each visitor through `fetch` and compare every visit with the first."""
    visits = {visitor.name: fetch(page, visitor) for visitor in visitors}
    normal = visits.pop(visitors[0].name)
    if normal is None or not _answered(normal):
        return []
    present = {name: visit for name, visit in visits.items() if visit is not None and _answered(visit)}
    return compare_visits(page, normal, present, domains, vocabulary)


def compare_visits(
    page: str, normal: Visit, others: Mapping[str, Visit], domains: Domains, vocabulary: Vocabulary
) -> list[Finding]:
    """Findings for visitors sent elsewhere or served another page than the normal visitor."""
    normal_text = _text(normal.body)
    base = fingerprint(normal_text)
    findings = []
    for name, visit in others.items():
        finding = _compare(page, name, normal, visit, (normal_text, base), domains, vocabulary)
        if finding is not None:
            findings.append(finding)
    return findings


def _compare(
    page: str,
    name: str,
    normal: Visit,
    visit: Visit,
    normal_text: tuple[str, frozenset[int]],
    domains: Domains,
    vocabulary: Vocabulary,
) -> Finding | None:
    """The finding for one visitor, its evidence before/after: what the normal visitor got, then
    what this one got (URL, or the text around the spam word, or the start of each text)."""
    mobile = name == MOBILE.name
    here, there = domains.target(page, normal.final_url), domains.target(page, visit.final_url)
    if here is not None and there is not None and here.domain != there.domain:
        said = f"{name} visitor sent to {visit.final_url}, normal visitor to {normal.final_url}"
        return Finding.make(Kind.CLOAKING, SCORE_OFFSITE, page, f"{name}:offsite", there.domain, said)
    text = _text(visit.body)
    words = vocabulary.match(text)
    if words is not None and vocabulary.match(normal_text[0]) is None:
        said = (
            f"{name} visitor's page has {words[0]} word {words[1]!r}, the normal visitor's none;"
            f" {name}: «{_around(text, words[1])}»; normal: «{normal_text[0][:EVIDENCE_TEXT]}»"
        )
        return Finding.make(Kind.CLOAKING, SCORE_SPAM, page, f"{name}:spam_text", words[1], said)
    if visit.final_url != normal.final_url:
        said = f"{name} visitor ends at {visit.final_url}, normal visitor at {normal.final_url}"
        score = SCORE_MOBILE if mobile else SCORE_DIFFERENT
        return Finding.make(Kind.CLOAKING, score, page, f"{name}:different_url", visit.final_url, said)
    shared = similarity(normal_text[1], fingerprint(text))
    if shared < TEXT_SHARE:
        said = (
            f"{name} visitor's text shares {shared:.0%} with the normal visitor's;"
            f" {name}: «{text[:EVIDENCE_TEXT]}»; normal: «{normal_text[0][:EVIDENCE_TEXT]}»"
        )
        score = SCORE_MOBILE if mobile else SCORE_DIFFERENT
        return Finding.make(Kind.CLOAKING, score, page, f"{name}:different_text", name, said)
    return None


def _around(text: str, word: str) -> str:
    """The text around the first occurrence of `word` (case-insensitive), `EVIDENCE_TEXT` long."""
    at = max(text.lower().find(word.lower()), 0)
    start = max(at - EVIDENCE_TEXT // 3, 0)
    return text[start : start + EVIDENCE_TEXT]


def carried_cloaking(standing: Iterable[Finding], page: str, answered: Iterable[str]) -> list[Finding]:
    """The page's open cloaking findings of visitors that got no usable visit this sweep (a failure,
    an anti-bot or non-2xx answer): no visit is no evidence either way, so they stay open; a
    visitor that got its page and was compared resolves its finding by not raising it again."""
    names = set(answered)
    return [
        finding
        for finding in standing
        if finding.kind is Kind.CLOAKING and finding.page == page and finding.technique.split(":")[0] not in names
    ]


def _answered(visit: Visit) -> bool:
    """A 2xx answer: a WAF refusing a fake Baiduspider (403, 429…) is blocking, not cloaking."""
    return 200 <= visit.status < 300


def _text(body: str) -> str:
    return visible_text(LexborHTMLParser(body))
