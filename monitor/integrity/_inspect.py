"""One pass over a page's text: hidden links, zero-width tricks, identity, outside domains, snapshot.

The homepage check calls this on the bytes it already fetched (decoded by monitor.decode). The page
is parsed once; what reads scripts runs before the visible text is taken (which strips them).
Pure, bounded (`MAX_HTML_CHARS` and each detector's own limits) and total: a page that trips a
detector gives an Inspection with `error` set, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from selectolax.lexbor import LexborHTMLParser

from monitor.integrity._domains import Domains
from monitor.integrity._drift import outbound_domains
from monitor.integrity._findings import Finding
from monitor.integrity._hidden import hidden_links, zero_width_findings
from monitor.integrity._identity import Identity, read_marks
from monitor.integrity._identity import with_text as identity_with_text
from monitor.integrity._tamper import Snapshot, read_markup
from monitor.integrity._tamper import with_text as snapshot_with_text
from monitor.integrity._text import visible_text
from monitor.integrity._words import Vocabulary

MAX_HTML_CHARS = 3_000_000
"""Characters of a page read (the fetch already caps bodies; this caps what reaches the parser)."""

MAX_NESTING = 2_000
"""Deepest element nesting parsed: lexbor's parse time grows with the square of the depth, so a page
is read only up to the first element nested deeper (and the Inspection says so in `error`)."""

_VOID_TAGS = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"]
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")

EMPTY_SNAPSHOT = Snapshot("", frozenset(), (), 0, frozenset(), "")


@dataclass(frozen=True)
class Inspection:
    """Everything one page gave: findings of its own, identity, outside domains and a snapshot."""

    page: str
    findings: tuple[Finding, ...] = ()
    identity: Identity = field(default_factory=Identity)
    outbound: frozenset[str] = frozenset()
    snapshot: Snapshot = EMPTY_SNAPSHOT
    error: str = ""
    """Why the page could not be inspected ("" when it was)."""


def inspect_page(html: str, page_url: str, *, domains: Domains, vocabulary: Vocabulary) -> Inspection:
    """Inspect one page's text; never raises."""
    html, cut = _within_nesting(html[:MAX_HTML_CHARS])
    try:
        inspection = _inspect(html, page_url, domains, vocabulary)
    except Exception as error:
        # The one exception boundary, like extraction's: a hostile page is data, not a crash.
        return Inspection(page_url, error=f"{error.__class__.__name__}: {str(error)[:200]}")
    return (
        replace(inspection, error=f"nested deeper than {MAX_NESTING}: read up to character {cut}")
        if cut
        else inspection
    )


def _within_nesting(html: str) -> tuple[str, int]:
    """The page up to the first element nested deeper than MAX_NESTING, and where it was cut (0: not)."""
    opening_tags = html.count("<") - html.count("</") - html.count("<!")
    if opening_tags <= MAX_NESTING:
        return html, 0  # cannot nest that deep: the common case costs three counts
    depth = 0
    for tag in _TAG.finditer(html):
        if tag.group(1):
            depth = max(depth - 1, 0)
        elif tag.group(2).lower() not in _VOID_TAGS:
            depth += 1
            if depth > MAX_NESTING:
                return html[: tag.start()], tag.start()
    return html, 0


def _inspect(html: str, page_url: str, domains: Domains, vocabulary: Vocabulary) -> Inspection:
    doc = LexborHTMLParser(html)
    hidden = hidden_links(doc, page_url, domains, vocabulary)
    outbound = outbound_domains(doc, page_url, domains)
    marks = read_marks(doc)
    markup = read_markup(doc, page_url, domains)
    text = visible_text(doc)  # strips the scripts: everything reading them runs above
    page_snapshot = snapshot_with_text(markup, text)
    identity = identity_with_text(marks, text)
    findings = (*hidden, *zero_width_findings(text, page_url, vocabulary))
    return Inspection(page_url, findings, identity, outbound, page_snapshot)
