"""A flat, read-only copy of an HTML document for the extractor: nodes in document order.

Built once per page from lexbor's HTML5 parse so that the list, article and catalogue readers
can walk parents, subtrees (index ranges) and visible text cheaply. Pure, no I/O; the text of
script/style/template elements is kept apart and never counted as visible text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from selectolax.lexbor import LexborHTMLParser, LexborNode

TEXT = "#text"
"""Tag of text nodes in the flat tree."""

_HIDDEN_TEXT_TAGS = frozenset({"script", "style", "noscript", "template", "textarea", "select", "svg", "head"})
_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset"),
        *("figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header"),
        *("hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot"),
        *("th", "thead", "tr", "ul"),
    }
)
_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")


class Node:
    """One element or text node; `end` is the index of its last descendant (itself if a leaf)."""

    __slots__ = ("attrs", "end", "parent", "tag", "text", "text_offset")

    def __init__(self, tag: str, parent: int, attrs: Mapping[str, str], text: str, end: int, text_offset: int) -> None:
        self.tag = tag
        self.parent = parent
        self.attrs = attrs
        self.text = text
        self.end = end
        self.text_offset = text_offset


@dataclass
class Tree:
    """The document as a list of nodes plus what the head and scripts said."""

    nodes: list[Node]
    page_text: str
    meta: dict[str, str]
    title: str
    base_href: str
    scripts: list[str]

    @cached_property
    def text_index(self) -> tuple[list[int], list[int]]:
        """Start offsets of the text nodes in `page_text`, and their node indexes, both in order."""
        offsets, indexes = [], []
        for index, node in enumerate(self.nodes):
            if node.tag == TEXT:
                offsets.append(node.text_offset)
                indexes.append(index)
        return offsets, indexes

    def node_at(self, offset: int) -> int:
        """The text node showing the character at `offset` of `page_text` (-1 before the first)."""
        offsets, indexes = self.text_index
        position = bisect_right(offsets, offset) - 1
        return indexes[position] if position >= 0 else -1

    def contains(self, ancestor: int, index: int) -> bool:
        """True when node `index` lies in the subtree of `ancestor` (or is it)."""
        return ancestor <= index <= self.nodes[ancestor].end

    def ancestors(self, index: int, limit: int | None = None) -> list[int]:
        """Indexes of the node's ancestors, nearest first; only the nearest `limit` when given
        (a walk to the root costs the page's depth, and hostile pages nest tens of thousands deep)."""
        chain: list[int] = []
        parent = self.nodes[index].parent
        while parent >= 0 and (limit is None or len(chain) < limit):
            chain.append(parent)
            parent = self.nodes[parent].parent
        return chain

    def text_of(self, index: int, skip: frozenset[int] = frozenset(), limit: int | None = None) -> str:
        """Whitespace-collapsed text of a subtree, leaving out the subtrees rooted at `skip`.

        Blocks are separated by a space; a <br> inside a link or title breaks a line, not a word
        (政府信息<br>公开指南), so the whitespace around it is dropped. With `limit`, reading stops
        once the text holds more than `limit` characters besides spaces (a caller comparing with a short text
        need not read a whole page's worth of subtree).
        """
        parts: list[str] = []
        position = index
        end = self.nodes[index].end
        after_break = False
        shown = 0
        while position <= end:
            node = self.nodes[position]
            if position in skip:
                position = node.end + 1
                continue
            if node.tag == TEXT:
                parts.append(node.text.lstrip() if after_break else node.text)
                after_break = after_break and not node.text.strip()
                if limit is not None:
                    shown += _visible_length(node.text)
                    if shown > limit:
                        break
            elif node.tag == "br":
                if parts:
                    parts[-1] = parts[-1].rstrip()
                after_break = True
            elif node.tag in _BLOCK_TAGS and parts:
                parts.append(" ")
            position += 1
        return collapse("".join(parts))

    def attr(self, index: int, name: str) -> str:
        """An attribute of an element, or "" when absent."""
        return self.nodes[index].attrs.get(name, "")


def _visible_length(text: str) -> int:
    """Characters of `text` that survive `collapse` other than the spaces it puts between words."""
    return len("".join(_ZERO_WIDTH.sub("", text).split()))


def collapse(text: str) -> str:
    """Runs of whitespace to one space, zero-width characters dropped, ends trimmed."""
    return " ".join(_ZERO_WIDTH.sub("", text).split())


def parse(html: str) -> Tree:
    """Parse HTML (any junk tolerated) into a flat Tree."""
    document = LexborHTMLParser(html)
    builder = _Builder()
    root = document.root
    if root is not None:
        builder.walk(root)
    meta, title, base_href = _head_facts(document)
    scripts = [element.text(deep=True) or "" for element in document.css("script")]
    return Tree(builder.nodes, "".join(builder.text_parts), meta, title, base_href, scripts)


class _Builder:
    """Depth-first copy of lexbor nodes into Node records, with the visible text on the way.

    An explicit stack (children pushed last-first) instead of recursion: pages nest deep. A
    `(None, index)` entry closes element `index`: everything appended since is its subtree.
    Hidden-text elements (script, style…), comments and doctypes are skipped with their contents.
    """

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.text_parts: list[str] = []
        self.text_length = 0

    def walk(self, root: LexborNode) -> None:
        nodes = self.nodes
        stack: list[tuple[LexborNode | None, int]] = [(root, -1)]
        while stack:
            node, parent = stack.pop()
            if node is None:
                nodes[parent].end = len(nodes) - 1
                if nodes[parent].tag in _BLOCK_TAGS:
                    self._append_text("\n")
                continue
            tag = node.tag or ""
            if tag == "-text":
                self._add_text(node.text_content or "", parent)
                continue
            if tag[:1] in "-_!" or tag in _HIDDEN_TEXT_TAGS:
                continue
            if tag in _BLOCK_TAGS:
                self._append_text("\n")
            attrs = {key: value or "" for key, value in node.attributes.items()}
            index = len(nodes)
            nodes.append(Node(tag, parent, attrs, "", index, self.text_length))
            stack.append((None, index))
            child = node.last_child
            while child is not None:
                stack.append((child, index))
                child = child.prev

    def _add_text(self, text: str, parent: int) -> None:
        if text.isspace() and parent >= 0 and self.nodes[parent].tag in _BLOCK_TAGS:
            # Indentation between blocks: a word break in the page text, no node needed.
            text = " "
        else:
            self.nodes.append(Node(TEXT, parent, _NO_ATTRIBUTES, text, len(self.nodes), self.text_length))
        self._append_text(text)

    def _append_text(self, text: str) -> None:
        self.text_parts.append(text)
        self.text_length += len(text)


def _head_facts(document: LexborHTMLParser) -> tuple[dict[str, str], str, str]:
    """<meta name/property/http-equiv> contents (lower-case keys), the <title> and <base href>."""
    meta: dict[str, str] = {}
    for element in document.css("meta"):
        attrs = element.attributes
        key = attrs.get("name") or attrs.get("property") or attrs.get("itemprop") or attrs.get("http-equiv")
        if key and attrs.get("content") is not None:
            meta.setdefault(key.strip().lower(), attrs.get("content") or "")
    title_node = document.css_first("title")
    title = collapse(title_node.text(deep=True)) if title_node is not None else ""
    base = document.css_first("base[href]")
    base_href = (base.attributes.get("href") or "").strip() if base is not None else ""
    return meta, title, base_href
