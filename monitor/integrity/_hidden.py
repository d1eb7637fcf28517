"""Hidden links (暗链/黑链): links people cannot see but search engines read, scored by where they point.

Hiding is found in inline styles, `hidden` attributes, top-level `<style>` rules, fast or tiny
marquees, zero-size or full-page iframes, and links written by (decoded, never executed) inline
scripts; zero-width characters that break spam words are found in the visible text. Internal and
government targets are never findings: tab panels, mobile menus, skip links and 友情链接 dropdowns
hide such links on every portal. Pure and bounded (`MAX_LINKS`, `MAX_CONTAINERS`, `MAX_FINDINGS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.integrity._css import (
    COMMON_TECHNIQUES,
    MIGHT_HIDE_SELECTOR,
    declarations,
    hidden_rules,
    hiding_technique,
    might_hide,
    overridden,
)
from monitor.integrity._domains import ABSOLUTE_LINKS, RISKY_TLDS, STANDARD_PORTS, Domains, Target, is_absolute
from monitor.integrity._findings import Finding, Kind, bounded
from monitor.integrity._scripts import Payload, payloads
from monitor.integrity._words import Vocabulary

MAX_CONTAINERS = 5_000
"""Most hidden elements examined per page."""

MAX_LINKS = 5_000
"""Most hidden links scored per page."""

MAX_FINDINGS = 100
"""Most hidden-link findings reported per page (the strongest are kept)."""

MAX_TEXT_CHARS = 20_000
"""Characters of one hidden element's text searched for spam words."""

MAX_SELECTORS = 300
"""Most hiding `<style>` selectors matched against the document."""

MARQUEE_FAST = 100
"""A marquee `scrollamount` at least this large moves too fast to read (news tickers use 1–10)."""

FRAGMENT_DEPTH = 2
"""Script-written HTML that itself writes HTML is followed this many levels."""

WEIGHTS = {
    "external": 20,
    "technique": 15,
    "encoded": 20,
    "vocabulary": 50,
    "risky_tld": 25,
    "ip": 25,
    "port": 15,
    "farm": 15,
    "full_page_iframe": 30,
    "hidden_words": 40,
}
"""Score parts: a hidden outside link is 20 (低); spam words, or an odd host (risky TLD, raw IP, odd
port) together with a spammer's hiding technique, an encoded script or a link farm reach 50 (高). A
tab panel's hidden link to a .cc partner stays low: one weak signal never makes a high finding."""

FARM_DOMAINS = 3
"""A hidden element linking this many distinct outside domains is a link farm."""

_MAYBE_HIDDEN = f"{MIGHT_HIDE_SELECTOR}, [hidden], marquee"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_WIDTH_IN_WORD = re.compile(f"\\w[{_ZERO_WIDTH}]+\\w")
ZERO_WIDTH_DENSE = 10
"""Zero-width characters inside words this many times is a low finding by itself."""


@dataclass(frozen=True)
class Candidate:
    """A link that is hidden somehow: the link, how it is hidden, and the hiding element."""

    node: LexborNode
    href: str
    technique: str
    container: LexborNode
    encoded: bool = False


def hidden_links(doc: LexborHTMLParser, page_url: str, domains: Domains, vocabulary: Vocabulary) -> list[Finding]:
    """Findings for hidden links to outside, non-government targets (and hidden spam words), strongest first."""
    containers = list(_hidden_containers(doc))
    outside = [
        (candidate, target)
        for candidate in _unique(_candidates(doc, 0, containers))[:MAX_LINKS]
        if (target := _outside_target(candidate.href, page_url, domains)) is not None
    ]
    farms = _farm_containers(outside)
    findings: dict[tuple[str, str, str, str], Finding] = {}
    for candidate, target in outside:
        finding = _score(candidate, target, page_url, vocabulary, candidate.container.mem_id in farms)
        if finding.key not in findings or findings[finding.key].score < finding.score:
            findings[finding.key] = finding
    unlinked = [(node, technique) for node, technique in containers if _without_links(node)]
    for finding in _hidden_words(unlinked, page_url, vocabulary):
        findings.setdefault(finding.key, finding)
    return sorted(findings.values(), key=lambda finding: -finding.score)[:MAX_FINDINGS]


def _without_links(node: LexborNode) -> bool:
    """Keyword stuffing is text without links; hidden blocks of links (tab panels) are read as links."""
    return node.tag not in ("a", "area", "iframe", "frame") and node.css_first("a, area") is None


def _hidden_words(containers: list[tuple[LexborNode, str]], page_url: str, vocabulary: Vocabulary) -> list[Finding]:
    """Spam words in hidden elements without links (keyword stuffing): low when hidden the way tab
    panels are (a hidden news summary may well report on a 百家乐 gambling case), high when a
    spammer's technique hides them."""
    found = []
    for container, technique in containers:
        text = container.text(deep=True) or ""
        words = vocabulary.match(text[:MAX_TEXT_CHARS]) if text.strip() else None
        if words is not None:
            score = WEIGHTS["hidden_words"] + (0 if technique in COMMON_TECHNIQUES else WEIGHTS["technique"])
            evidence = f"{_opening_tag(container)} … {bounded(text, 200)} [{words[0]}: {words[1]}]"
            found.append(Finding.make(Kind.HIDDEN_TEXT, score, page_url, technique, words[1], evidence))
    return found


def zero_width_findings(text: str, page_url: str, vocabulary: Vocabulary) -> list[Finding]:
    """Zero-width characters inside words (Chinese or Latin): high when removing them reveals a spam word."""
    breaks = _ZERO_WIDTH_IN_WORD.findall(text)
    if not breaks:
        return []
    joined = text.translate({ord(char): None for char in _ZERO_WIDTH})
    revealed = vocabulary.match(joined)
    if revealed is not None and vocabulary.match(text) != revealed:
        at = joined.find(revealed[1])
        evidence = (
            f"zero-width characters split {revealed[0]} word {revealed[1]!r}: {joined[max(0, at - 40) : at + 60]}"
        )
        return [Finding.make(Kind.ZERO_WIDTH, 70, page_url, "zero_width", revealed[1], evidence)]
    if len(breaks) >= ZERO_WIDTH_DENSE:
        evidence = f"{len(breaks)} zero-width characters inside Chinese words, e.g. {breaks[0]!r}"
        return [Finding.make(Kind.ZERO_WIDTH, 20, page_url, "zero_width", "text", evidence)]
    return []


def _candidates(doc: LexborHTMLParser, depth: int, containers: list[tuple[LexborNode, str]]) -> list[Candidate]:
    found: list[Candidate] = []
    for container, technique in containers:
        found.extend(_links_in(container, technique))
        if len(found) >= MAX_LINKS:
            return found
    found.extend(_iframes(doc))
    if depth < FRAGMENT_DEPTH:
        found.extend(_script_links(doc, depth))
    return found


def _hidden_containers(doc: LexborHTMLParser) -> Iterable[tuple[LexborNode, str]]:
    """Elements hidden by inline style, the `hidden` attribute, a `<style>` rule or a marquee."""
    count = 0
    for node in doc.css(_MAYBE_HIDDEN):
        technique = _own_technique(node)
        if technique is not None:
            count += 1
            yield node, technique
            if count >= MAX_CONTAINERS:
                return
    by_technique: dict[str, list[str]] = {}
    for selector, technique in _sheet_rules(doc)[:MAX_SELECTORS]:
        if ":" not in selector:  # pseudo-classes (:hover…) match nothing in a static page
            by_technique.setdefault(technique, []).append(selector)
    for technique, selectors in by_technique.items():
        for node in _select(doc, selectors)[:MAX_CONTAINERS]:
            if not overridden(technique, declarations(node.attributes.get("style") or "")):
                yield node, technique


def _own_technique(node: LexborNode) -> str | None:
    attrs = node.attributes
    if node.tag == "marquee":
        amount = (attrs.get("scrollamount") or "").strip()
        if amount.isdigit() and int(amount) >= MARQUEE_FAST:
            return "marquee"
    style = attrs.get("style") or ""
    technique = hiding_technique(declarations(style)) if might_hide(style) else None
    if technique is None and "hidden" in attrs:
        return "hidden_attribute"
    return technique


def _sheet_rules(doc: LexborHTMLParser) -> list[tuple[str, str]]:
    rules: list[tuple[str, str]] = []
    for style in doc.css("style"):
        rules.extend(hidden_rules(style.text(deep=True) or ""))
    return rules


def _select(doc: LexborHTMLParser, selectors: list[str]) -> list[LexborNode]:
    """Elements matching any of the page's selectors: one query for all, one each if one is invalid."""
    try:
        return list(doc.css(", ".join(selectors)))
    except (SelectolaxError, ValueError):
        pass
    found: dict[int, LexborNode] = {}
    for selector in selectors:
        try:
            found.update((node.mem_id, node) for node in doc.css(selector))
        except (SelectolaxError, ValueError):
            continue
    return list(found.values())


def _links_in(container: LexborNode, technique: str) -> list[Candidate]:
    links = [container] if container.tag in ("a", "area") else []
    links.extend(container.css(ABSOLUTE_LINKS))
    found = []
    for link in links[:MAX_LINKS]:
        href = link.attributes.get("href") or ""
        if is_absolute(href):
            found.append(Candidate(link, href, technique, container))
    return found


def _iframes(doc: LexborHTMLParser) -> list[Candidate]:
    found = []
    for frame in doc.css("iframe[src], frame[src]")[:MAX_LINKS]:
        technique = _frame_technique(frame.attributes)
        if technique is not None:
            found.append(Candidate(frame, frame.attributes.get("src") or "", technique, frame))
    return found


def _frame_technique(attrs: dict[str, str | None]) -> str | None:
    decls = declarations(attrs.get("style") or "")
    width = (decls.get("width") or attrs.get("width") or "").strip().lower()
    height = (decls.get("height") or attrs.get("height") or "").strip().lower()
    if width in ("0", "0px", "1", "1px") or height in ("0", "0px", "1", "1px"):
        return "iframe_zero_size"
    if width == height == "100%" or (decls.get("position") in ("fixed", "absolute") and width == "100%"):
        return "iframe_full_page"
    hidden = hiding_technique(decls)
    return "iframe_zero_size" if hidden is not None else None


def _script_links(doc: LexborHTMLParser, depth: int) -> list[Candidate]:
    found: list[Candidate] = []
    for script in doc.css("script"):
        if script.attributes.get("src"):
            continue
        for payload in payloads(script.text(deep=True) or ""):
            found.extend(_fragment_links(payload, depth))
    return found


def _fragment_links(payload: Payload, depth: int) -> list[Candidate]:
    """Links in HTML a script writes: each keeps the fragment's own hiding, else `script_write`."""
    if "<" not in payload.text or ("href" not in payload.text and "src" not in payload.text):
        return []
    fragment = LexborHTMLParser(payload.text)
    containers = list(_hidden_containers(fragment))
    hidden = {candidate.node.mem_id: candidate for candidate in _candidates(fragment, depth + 1, containers)}
    written = "script_encoded" if payload.encoded else "script_write"
    found = []
    for link in fragment.css("a[href], area[href]")[:MAX_LINKS]:
        inner = hidden.pop(link.mem_id, None)
        technique = f"{written}+{inner.technique}" if inner else written
        found.append(Candidate(link, link.attributes.get("href") or "", technique, link, payload.encoded))
    found.extend(
        Candidate(c.node, c.href, f"{written}+{c.technique}", c.container, payload.encoded) for c in hidden.values()
    )
    return found


def _unique(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per link element, keeping its least common hiding technique."""
    best: dict[int, Candidate] = {}
    for candidate in candidates:
        held = best.get(candidate.node.mem_id)
        if held is None or (held.technique in COMMON_TECHNIQUES and candidate.technique not in COMMON_TECHNIQUES):
            best[candidate.node.mem_id] = candidate
    return list(best.values())


def _farm_containers(outside: list[tuple[Candidate, Target]]) -> set[int]:
    domains_by_container: dict[int, set[str]] = {}
    for candidate, target in outside:
        domains_by_container.setdefault(candidate.container.mem_id, set()).add(target.domain)
    return {container for container, seen in domains_by_container.items() if len(seen) >= FARM_DOMAINS}


def _outside_target(href: str, page_url: str, domains: Domains) -> Target | None:
    """Where a link goes when that is outside the site, government and the identity widgets."""
    target = domains.target(page_url, href) if is_absolute(href) else None
    if target is None or domains.is_government(target.domain) or domains.is_widget(target):
        return None
    return None if domains.same_site(page_url, target) else target


def _score(candidate: Candidate, target: Target, page_url: str, vocabulary: Vocabulary, farm: bool) -> Finding:
    text = bounded(candidate.node.text(deep=True) or "", 200)
    reasons = ["external", *_technique_reasons(candidate), *_target_reasons(target)]
    words = vocabulary.match(text, candidate.node.attributes.get("title") or "", target.url)
    if words is not None:
        reasons.append("vocabulary")
    if farm:
        reasons.append("farm")
    score = sum(WEIGHTS[reason] for reason in reasons)
    why = ", ".join(reasons) + (f" ({words[0]}: {words[1]})" if words else "")
    shown = f"<{candidate.node.tag} {target.url!r}>{text}"
    evidence = f"{_opening_tag(candidate.container)} … {shown} [{why}]"
    where = f"{target.host}:{target.port}" if target.port not in STANDARD_PORTS else target.domain
    return Finding.make(Kind.HIDDEN_LINK, score, page_url, candidate.technique, where, evidence)


def _technique_reasons(candidate: Candidate) -> list[str]:
    techniques = set(candidate.technique.split("+"))
    reasons = []
    if techniques - COMMON_TECHNIQUES - {"script_write", "script_encoded", "iframe_full_page"}:
        reasons.append("technique")
    if candidate.encoded:
        reasons.append("encoded")
    if "iframe_full_page" in techniques:
        reasons.append("full_page_iframe")
    return reasons


def _target_reasons(target: Target) -> list[str]:
    reasons = []
    if target.suffix.rsplit(".", 1)[-1] in RISKY_TLDS:
        reasons.append("risky_tld")
    if target.is_ip:
        reasons.append("ip")
    if target.port not in STANDARD_PORTS:
        reasons.append("port")
    return reasons


def _opening_tag(node: LexborNode) -> str:
    attrs = " ".join(f'{name}="{bounded(value or "", 80)}"' for name, value in list(node.attributes.items())[:6])
    return f"<{node.tag}{' ' + attrs if attrs else ''}>"
