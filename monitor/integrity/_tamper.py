"""Tampering signals (篡改/挂马) between two readings of the same page, with before/after evidence.

A Snapshot keeps what is compared: the title, the outside domains scripts load from, where a meta
refresh or a script sends the browser, the text's length and fingerprint. `tamper_changes`
records each change as an Event and raises a Finding when it points off-site. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from monitor.integrity._domains import RISKY_TLDS, Domains, is_absolute
from monitor.integrity._findings import Event, Finding, Kind, bounded
from monitor.integrity._scripts import redirects
from monitor.integrity._text import fingerprint, similarity, visible_text
from monitor.integrity._words import Vocabulary

CHANGE_SHARE = 0.5
"""Default share of the text that may shrink or change at once before it is an event."""

MAX_SCRIPT_DOMAINS = 200
SCORE_FOREIGN_SCRIPT = 30
SCORE_SPAM = 70
SCORE_REDIRECT = 60
SCORE_GOV_REDIRECT = 20
SCORE_ODD_HOST = 30

_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s>]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Snapshot:
    """What one reading of a page looked like, for comparison with the next one."""

    title: str
    script_domains: frozenset[str]
    redirects: tuple[str, ...]
    text_length: int
    fingerprint: frozenset[int]
    text_start: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (phase 2 keeps the previous reading of each homepage)."""
        return {
            "title": self.title,
            "script_domains": sorted(self.script_domains),
            "redirects": list(self.redirects),
            "text_length": self.text_length,
            "fingerprint": sorted(self.fingerprint),
            "text_start": self.text_start,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        """The inverse of `as_dict`."""
        return cls(
            title=str(data.get("title", "")),
            script_domains=frozenset(str(domain) for domain in data.get("script_domains", ())),
            redirects=tuple(str(url) for url in data.get("redirects", ())),
            text_length=int(data.get("text_length", 0)),
            fingerprint=frozenset(int(value) for value in data.get("fingerprint", ())),
            text_start=str(data.get("text_start", "")),
        )


def snapshot(html: str, page_url: str, domains: Domains) -> Snapshot:
    """Read a page's HTML for tamper comparison (parses it; `inspect_page` reuses its own parse)."""
    doc = LexborHTMLParser(html)
    markup = read_markup(doc, page_url, domains)
    return with_text(markup, visible_text(doc))


def read_markup(doc: LexborHTMLParser, page_url: str, domains: Domains) -> Snapshot:
    """Title, script domains and redirects; read before the scripts are stripped."""
    title_node = doc.css_first("title")
    title = bounded(title_node.text(deep=True) or "", 200) if title_node is not None else ""
    redirect_targets = tuple(_redirects(doc, page_url, domains))
    return Snapshot(title, _script_domains(doc, page_url, domains), redirect_targets, 0, frozenset(), "")


def with_text(markup: Snapshot, text: str) -> Snapshot:
    """The markup's snapshot completed with the visible text's length, fingerprint and start."""
    return replace(markup, text_length=len(text), fingerprint=fingerprint(text), text_start=bounded(text, 200))


def _script_domains(doc: LexborHTMLParser, page_url: str, domains: Domains) -> frozenset[str]:
    found: set[str] = set()
    for script in doc.css("script[src]")[: MAX_SCRIPT_DOMAINS * 4]:
        source = script.attributes.get("src") or ""
        target = domains.target(page_url, source) if is_absolute(source) else None
        if target is not None and not domains.same_site(page_url, target):
            found.add(target.domain)
    return frozenset(sorted(found)[:MAX_SCRIPT_DOMAINS])


def _redirects(doc: LexborHTMLParser, page_url: str, domains: Domains) -> list[str]:
    """Absolute URLs a meta refresh or an inline script sends the browser to."""
    found = []
    for meta in doc.css("meta[http-equiv]"):
        if (meta.attributes.get("http-equiv") or "").strip().lower() == "refresh":
            match = _REFRESH_URL.search(meta.attributes.get("content") or "")
            if match:
                found.append(match.group(1))
    for script in doc.css("script"):
        if not script.attributes.get("src"):
            found.extend(redirects(script.text(deep=True) or ""))
    targets = (domains.target(page_url, url) for url in found[:20])
    return [target.url for target in targets if target is not None]


def tamper_changes(
    page: str,
    before: Snapshot,
    after: Snapshot,
    *,
    known_script_domains: frozenset[str],
    domains: Domains,
    vocabulary: Vocabulary,
    change_share: float = CHANGE_SHARE,
) -> tuple[list[Event], list[Finding]]:
    """Events for every change between two readings; findings for those that point off-site."""
    events: list[Event] = []
    findings: list[Finding] = []
    if before.title != after.title:
        events.append(Event.make(Kind.TITLE_CHANGED, page, "title", before.title, after.title))
        words = vocabulary.match(after.title)
        if words is not None and vocabulary.match(before.title) is None:
            said = f"title {before.title!r} -> {after.title!r} ({words[0]}: {words[1]})"
            findings.append(Finding.make(Kind.TITLE_CHANGED, SCORE_SPAM, page, "spam_title", "title", said))
    for domain in sorted(after.script_domains - before.script_domains - known_script_domains):
        events.append(Event.make(Kind.NEW_SCRIPT_DOMAIN, page, domain, "", domain))
        if not (domains.is_government(domain) or domains.is_accepted(domain)):
            findings.append(_foreign_script(page, domain, domains, vocabulary))
    for url in after.redirects:
        if url not in before.redirects:
            events.append(Event.make(Kind.OFFSITE_REDIRECT, page, url, ", ".join(before.redirects), url))
            findings.extend(_redirect_finding(page, url, domains))
    events.extend(_text_events(page, before, after, change_share))
    return events, findings


def _foreign_script(page: str, domain: str, domains: Domains, vocabulary: Vocabulary) -> Finding:
    score = SCORE_FOREIGN_SCRIPT
    target = domains.target("http://" + domain + "/", "/")
    odd = target is not None and (target.is_ip or target.suffix.rsplit(".", 1)[-1] in RISKY_TLDS)
    score += SCORE_ODD_HOST if odd else 0
    score += SCORE_SPAM if vocabulary.match(domain) else 0
    said = f"scripts now load from {domain}, never seen on this site"
    return Finding.make(Kind.NEW_SCRIPT_DOMAIN, score, page, "new_script", domain, said)


def _redirect_finding(page: str, url: str, domains: Domains) -> list[Finding]:
    target = domains.target(page, url)
    if target is None or domains.same_site(page, target) or domains.is_accepted(target.domain):
        return []
    score = SCORE_GOV_REDIRECT if domains.is_government(target.domain) else SCORE_REDIRECT
    said = f"the page now sends visitors to {url}"
    return [Finding.make(Kind.OFFSITE_REDIRECT, score, page, "redirect", target.domain, said)]


def _text_events(page: str, before: Snapshot, after: Snapshot, change_share: float) -> list[Event]:
    events = []
    if before.text_length and after.text_length < before.text_length * (1 - change_share):
        said = f"{before.text_length} -> {after.text_length} characters"
        events.append(Event.make(Kind.TEXT_CHANGED, page, "shrink", before.text_start, f"{said}: {after.text_start}"))
    elif similarity(before.fingerprint, after.fingerprint) < 1 - change_share:
        events.append(Event.make(Kind.TEXT_CHANGED, page, "rewritten", before.text_start, after.text_start))
    return events


def standing_tampers(
    standing: Iterable[Finding], page: str, after: Snapshot, *, domains: Domains, vocabulary: Vocabulary
) -> list[Finding]:
    """The open tamper findings whose evidence is still on the page now: they stay open (first seen
    kept) until it goes, though the baseline moved on with the reading that raised them.

    A spam title stays while the title still has a spam word, a foreign script while scripts still
    load from its domain, an off-site redirect while the page still sends visitors to that domain;
    a script or redirect domain the office has since accepted resolves.
    (A text shrink or rewrite is an event, never a finding: nothing to keep open.)
    """
    kept = []
    for finding in standing:
        if finding.page != page:
            continue
        if finding.kind is Kind.TITLE_CHANGED and finding.technique == "spam_title":
            still = vocabulary.match(after.title) is not None
        elif finding.kind is Kind.NEW_SCRIPT_DOMAIN:
            still = finding.target in after.script_domains
        elif finding.kind is Kind.OFFSITE_REDIRECT:
            still = any(_domain_of(domains, page, url) == finding.target for url in after.redirects)
        else:
            continue
        if still and not domains.is_accepted(finding.target):
            kept.append(finding)
    return kept


def _domain_of(domains: Domains, page: str, url: str) -> str:
    target = domains.target(page, url)
    return "" if target is None else target.domain
