"""Page bytes + its URL -> every link on it (`Harvest`): element, attribute, anchor text, absolute URL.

Linear in the page: one lexbor parse, one CSS pass, one resolution per distinct raw value. URLs come
out without fragment and without userinfo (a password in a link must never be stored). Links that
cannot be checked (javascript:, mailto:, data:, malformed…) are kept apart with a reason. No I/O.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.extract import decode
from monitor.links._types import Found, Harvest, Skipped, SkipReason

MAX_TEXT_CHARS = 200
"""Anchor text kept per occurrence (a link wrapping a whole block must not store the block)."""

MAX_RAW_CHARS = 200
"""Characters of a skipped link's raw value kept as evidence."""

SOURCES: tuple[tuple[str, str], ...] = (
    ("a", "href"),
    ("area", "href"),
    ("img", "src"),
    ("img", "srcset"),
    ("link", "href"),
    ("script", "src"),
    ("iframe", "src"),
    ("embed", "src"),
    ("object", "data"),
)
"""(element, attribute) pairs that carry a link, in the order an element's attributes are read."""

_SELECTOR = ",".join(f"{tag}[{attribute}]" for tag, attribute in SOURCES)
_ATTRIBUTES = {tag: tuple(a for t, a in SOURCES if t == tag) for tag, _ in SOURCES}
_SCHEME_SKIPS = {
    "javascript": SkipReason.JAVASCRIPT,
    "mailto": SkipReason.MAILTO,
    "tel": SkipReason.TEL,
    "data": SkipReason.DATA,
}
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_USERINFO = re.compile(r"(//)[^/?#@\s]*@")
"""`user:password@` after `//`: dropped from skipped links' raw values too (they are kept as evidence)."""
_NOT_PLAIN = re.compile(r"[\x00-\x20\x7f\\]|/\.")
"""What keeps a relative link off the concatenation fast path: controls, spaces, backslashes, dot segments."""


def harvest(body: bytes | str, url: str, content_type: str | None = None) -> Harvest:
    """All links of the page at `url` (bytes are decoded as the fetcher's pages are)."""
    text = body if isinstance(body, str) else decode(body, content_type).text
    document = LexborHTMLParser(text)
    base = _base_url(document, url)
    resolver = _Resolver(base)
    links: list[Found] = []
    skipped: list[Skipped] = []
    for node in document.css(_SELECTOR):
        tag = node.tag or ""
        attributes = node.attributes
        for attribute in _ATTRIBUTES.get(tag, ()):
            raw = attributes.get(attribute)
            if raw is None:
                continue
            if attribute == "srcset":
                raw = first_srcset_candidate(raw)
            resolved = resolver.resolve(raw)
            if isinstance(resolved, SkipReason):
                skipped.append(Skipped(_USERINFO.sub(r"\1", raw)[:MAX_RAW_CHARS], tag, attribute, resolved))
            else:
                links.append(Found(resolved, tag, attribute, _anchor_text(node, tag)))
    return Harvest(url=url, title=_title(document), links=tuple(links), skipped=tuple(skipped))


def first_srcset_candidate(srcset: str) -> str:
    """The URL of the first candidate of a srcset (`a.jpg 1x, b.jpg 2x` -> `a.jpg`)."""
    first = srcset.strip().split(",", 1)[0].strip()
    return first.split(None, 1)[0] if first else ""


class _Resolver:
    """Resolves raw attribute values against the page's base, each distinct value once.

    Plain relative paths (`/a/b.html`, `b.html`: the bulk of a portal's links) are joined by
    string concatenation, which gives urljoin's answer at a tenth of its cost; anything with a
    scheme, dot segments, a query-only or odd character goes through `absolute_url`.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        parts = urlsplit(base)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.directory = self.origin + (parts.path or "/")[: (parts.path or "/").rfind("/") + 1]
        self.memo: dict[str, str | SkipReason] = {}

    def resolve(self, raw: str) -> str | SkipReason:
        known = self.memo.get(raw)
        if known is None:
            known = self.memo[raw] = self._fast(raw) or absolute_url(self.base, raw)
        return known

    def _fast(self, raw: str) -> str | None:
        value = raw.strip().split("#", 1)[0]
        if not value or _NOT_PLAIN.search(value) or value.startswith("//"):
            return None
        if value[0] == "/":
            return self.origin + value
        if value[0] in "?." or ":" in value.split("/", 1)[0]:
            return None
        return self.directory + value


def absolute_url(base: str, raw: str) -> str | SkipReason:
    """`raw` made absolute against `base`, without fragment or userinfo; a SkipReason if not checkable."""
    value = raw.strip()
    if not value:
        return SkipReason.EMPTY
    if value.startswith("#"):
        return SkipReason.FRAGMENT
    scheme = _SCHEME.match(value)
    if scheme is not None and scheme.group(1).lower() in _SCHEME_SKIPS:
        return _SCHEME_SKIPS[scheme.group(1).lower()]
    if _CONTROL.search(value):
        value = _SPACES.sub("", value)  # browsers drop tabs and newlines inside URLs
        if _CONTROL.search(value):
            return SkipReason.MALFORMED
    try:
        # An absolute URL is taken as written: urljoin would read "http://" as the base itself.
        absolute = scheme is not None and value[scheme.end() : scheme.end() + 2] == "//"
        return clean_url(value if absolute else urljoin(base, value))
    except ValueError:
        return SkipReason.MALFORMED


def clean_url(url: str) -> str | SkipReason:
    """An absolute http(s) URL normalised for identity: lower-case scheme and host, no userinfo or fragment.

    Raises ValueError (via urlsplit or `.port`) on malformed hosts and ports.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return SkipReason.SCHEME if scheme else SkipReason.MALFORMED
    host = parts.hostname
    if not host or " " in host:
        return SkipReason.MALFORMED
    port = parts.port
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def _base_url(document: LexborHTMLParser, url: str) -> str:
    """The page URL, or its <base href> when that is a usable absolute URL."""
    base = document.css_first("base[href]")
    href = (base.attributes.get("href") or "").strip() if base is not None else ""
    if not href:
        return url
    try:
        resolved = clean_url(urljoin(url, href))
    except ValueError:
        return url
    return resolved if isinstance(resolved, str) else url


def _anchor_text(node: LexborNode, tag: str) -> str:
    """Visible text of a link (its image's alt, or its title, when it has no text), bounded."""
    attributes = node.attributes
    if tag == "a":
        text = node.text(deep=True, separator=" ") or ""
        if not text.strip():
            image = node.css_first("img[alt]")
            text = (image.attributes.get("alt") or "") if image is not None else ""
        text = text if text.strip() else attributes.get("title") or ""
    else:
        text = attributes.get("alt") or attributes.get("title") or ""
    return " ".join(text[: MAX_TEXT_CHARS * 4].split())[:MAX_TEXT_CHARS]


def _title(document: LexborHTMLParser) -> str:
    node = document.css_first("title")
    text = node.text(deep=True) if node is not None else ""
    return " ".join((text or "").split())[:MAX_TEXT_CHARS]
