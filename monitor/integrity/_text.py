"""Visible text of a parsed page, and a cheap, stable fingerprint to compare two texts.

The fingerprint is the set of CRC-32s of the text's phrases (runs between whitespace: each text
node of the page is one or more): stable across processes (unlike `hash`), bounded by `MAX_PHRASES`. Pure.
"""

from __future__ import annotations

import zlib

from selectolax.lexbor import LexborHTMLParser

MAX_TEXT_CHARS = 200_000
"""Longest visible text kept from one page."""

MAX_PHRASES = 1_000
"""Most phrases fingerprinted per page."""

_INVISIBLE = ["script", "style", "noscript", "template"]


def visible_text(doc: LexborHTMLParser) -> str:
    """The page's visible text, space-separated. Removes script/style from `doc` (read those first)."""
    doc.strip_tags(_INVISIBLE)
    root = doc.body or doc.root
    text = root.text(separator=" ") if root is not None else ""
    return " ".join(text[:MAX_TEXT_CHARS].split())


def fingerprint(text: str) -> frozenset[int]:
    """CRC-32s of the text's phrases of two or more characters."""
    phrases = (phrase for phrase in text[:MAX_TEXT_CHARS].split() if len(phrase) > 1)
    found: set[int] = set()
    for phrase in phrases:
        found.add(zlib.crc32(phrase.encode("utf-8", "replace")))
        if len(found) >= MAX_PHRASES:
            break
    return frozenset(found)


def similarity(first: frozenset[int], second: frozenset[int]) -> float:
    """Jaccard similarity of two fingerprints (1.0 for two empty texts)."""
    if not first and not second:
        return 1.0
    return len(first & second) / len(first | second)
