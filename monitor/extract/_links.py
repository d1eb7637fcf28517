"""Content links of a page: resolved URLs and full titles, with fast lookups by subtree.

A content link has a real target (not javascript:/#/mailto:) and a title; "more" links are not
content. Pure, no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

from monitor.extract._dates import edge_date
from monitor.extract._tree import Tree, collapse
from monitor.origins import without_userinfo

_NON_CONTENT_HREF = re.compile(r"^\s*(?:javascript:|#|mailto:|tel:|data:|about:)", re.IGNORECASE)
_MORE_LINK = re.compile(r"^(?:更多|查看更多|更多内容|more|>>|»|》》|\+)\s*[>»》+]*$", re.IGNORECASE)
_ELLIPSIS = re.compile(r"(?:\.{2,}|…+|。{3,})$")
_DATE_BRACKETS = " \t([【)]】"
_TAG_PREFIX = re.compile(r"^[\[【(（][^\]】)）]{1,8}[\]】)）]\s*")
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(https?://[^\s>]+?)\s*-->", re.IGNORECASE)
SAVED_FROM_SCAN_CHARS = 2048
"""A browser writes its `saved from url` comment at the very top of a saved page."""


@dataclass(frozen=True)
class Link:
    """A content link: element index, its href as written, its best title, the base it resolves against."""

    index: int
    href: str
    title: str
    base: str

    @property
    def url(self) -> str:
        """The absolute URL (resolved on demand: most links are never output)."""
        return resolve(self.base, self.href)


class PageLinks:
    """The content links of a tree. `skip` holds date elements whose text is no part of a title."""

    def __init__(self, tree: Tree, base: str, skip: frozenset[int] = frozenset()) -> None:
        self.tree = tree
        self.base = base
        self.skip = skip
        self._indexes = [i for i, node in enumerate(tree.nodes) if node.tag == "a" and _has_target(node.attrs)]
        self._cache: dict[int, Link | None] = {}
        self._usable: list[int] | None = None
        self._few: dict[tuple[int, int], bool] = {}

    def link(self, index: int) -> Link | None:
        """The link at `index`, or None when it has no title or is a "more" link."""
        if index not in self._cache:
            self._cache[index] = self._make(index)
        return self._cache[index]

    def usable(self) -> list[int]:
        """Indexes of all content links that have a title, in document order."""
        if self._usable is None:
            self._usable = [index for index in self._indexes if self.link(index) is not None]
        return self._usable

    def usable_within(self, element: int) -> list[int]:
        """Content links inside the subtree of `element` (including itself)."""
        indexes = self.usable()
        end = self.tree.nodes[element].end
        return indexes[bisect_left(indexes, element) : bisect_right(indexes, end)]

    def count_within(self, element: int) -> int:
        """How many content links lie inside the subtree of `element` (without listing them)."""
        indexes = self.usable()
        return bisect_right(indexes, self.tree.nodes[element].end) - bisect_left(indexes, element)

    def few_targets(self, element: int, most: int) -> bool:
        """Whether the links inside `element` have at most `most` distinct targets; memoised, and
        reading stops at the first target too many (records ask this of large containers)."""
        key = (element, most)
        if key not in self._few:
            seen: set[str] = set()
            indexes = self.usable()
            end = self.tree.nodes[element].end
            position = bisect_left(indexes, element)
            while position < len(indexes) and indexes[position] <= end and len(seen) <= most:
                link = self.link(indexes[position])
                if link is not None:
                    seen.add(link.href)
                position += 1
            self._few[key] = len(seen) <= most
        return self._few[key]

    def targets(self, indexes: list[int]) -> set[str]:
        """Distinct targets (hrefs as written) of the given links."""
        return {link.href for index in indexes if (link := self.link(index)) is not None}

    def _make(self, index: int) -> Link | None:
        attrs = self.tree.nodes[index].attrs
        text = strip_edge_date(self.tree.text_of(index, self.skip)) or self._image_alt(index)
        title = best_title(text, attrs.get("title", ""))
        if not title or _MORE_LINK.match(title):
            return None
        return Link(index, attrs.get("href", "").strip(), title, self.base)

    def _image_alt(self, index: int) -> str:
        """The alt text of an image link (cards whose only link is the picture)."""
        for inner in range(index + 1, self.tree.nodes[index].end + 1):
            node = self.tree.nodes[inner]
            if node.tag == "img" and node.attrs.get("alt", "").strip():
                return collapse(node.attrs["alt"])
        return ""


def best_title(text: str, attribute: str) -> str:
    """The link's full title: the title attribute when it is the same title untruncated, else the text.

    An attribute cut short by a stray quote (title="关于"…) is shorter than the text and loses.
    """
    attribute = collapse(attribute)
    if not attribute:
        return text
    stem = _ELLIPSIS.sub("", text).strip()
    if not stem or len(attribute) > len(text) or attribute.startswith(stem):
        return attribute
    truncated = stem != text
    # "[音频方式]《办法(试行)..." shown, "《办法(试行)》解读" in the attribute: the attribute is complete.
    return attribute if truncated and attribute.startswith(_TAG_PREFIX.sub("", stem)) else text


def strip_edge_date(text: str) -> str:
    """Link text without a date written at its start or end (`标题 2018-12-24` -> `标题`)."""
    found = edge_date(text)
    if found is None:
        return text
    if found.start > 0 and text[: found.start].strip(_DATE_BRACKETS):
        return text[: found.start].rstrip(_DATE_BRACKETS)
    return text[found.end :].lstrip(_DATE_BRACKETS)


def resolve(base: str, href: str) -> str:
    """Absolute URL of `href` against `base` (unchanged when there is no base), never with credentials."""
    href = href.strip()
    if not base:
        return without_userinfo(href)
    try:
        return without_userinfo(urljoin(base, href))
    except ValueError:
        return without_userinfo(href)


def saved_from_url(text: str) -> str:
    """The address a browser saved the page from (`<!-- saved from url=(0084)https://… -->`), or ""."""
    match = _SAVED_FROM.search(text[:SAVED_FROM_SCAN_CHARS])
    return match.group(1) if match else ""


def children(tree: Tree, element: int) -> list[int]:
    """Direct children (elements and text nodes) of an element, in order."""
    result = []
    index = element + 1
    end = tree.nodes[element].end
    while index <= end:
        result.append(index)
        index = tree.nodes[index].end + 1
    return result


def _has_target(attrs: Mapping[str, str]) -> bool:
    href = attrs.get("href", "").strip()
    return bool(href) and not _NON_CONTENT_HREF.match(href)
