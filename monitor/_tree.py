"""A flat, read-only copy of an HTML document for the extractor: nodes in document order.

Built once per page from lexbor's HTML5 parse so that the list, article and catalogue readers
can walk parents, subtrees (index ranges) and visible text cheaply. Pure, no I/O; the text of
script/style/template elements is kept apart and never counted as visible text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

TEXT = "#text"
"""Tag of text nodes in the flat tree."""

_HIDDEN_TEXT_TAGS = frozenset(
    {"script", "style", "noscript", "template", "textarea", "select", "svg", "head"}
)
_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset"),
        *("figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header"),
        *("hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot"),
        *("th", "thead", "tr", "ul"),
    }
)
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")


@dataclass(slots=True)
class Node:
    """One element or text node; `end` is the index of its last descendant (itself if a leaf)."""

    tag: str
    parent: int
    depth: int
    attrs: dict[str, str] = field(default_factory=dict)
    text: str = ""
    end: int = 0
    text_offset: int = 0


@dataclass
class Tree:
    """The document as a list of nodes plus what the head and scripts said."""

    nodes: list[Node]
    page_text: str
    meta: dict[str, str]
    title: str
    base_href: str
    scripts: list[str]

    def contains(self, ancestor: int, index: int) -> bool:
        """True when node `index` lies in the subtree of `ancestor` (or is it)."""
        return ancestor <= index <= self.nodes[ancestor].end

    def ancestors(self, index: int) -> list[int]:
        """Indexes of the node's ancestors, nearest first."""
        chain = []
        parent = self.nodes[index].parent
        while parent >= 0:
            chain.append(parent)
            parent = self.nodes[parent].parent
        return chain

    def text_of(self, index: int, skip: frozenset[int] = frozenset()) -> str:
        """Whitespace-collapsed text of a subtree, leaving out the subtrees rooted at `skip`.

        Blocks are separated by a space; a <br> inside a link or title breaks a line, not a word
        (政府信息<br>公开指南), so the whitespace around it is dropped.
        """
        parts: list[str] = []
        position = index
        end = self.nodes[index].end
        after_break = False
        while position <= end:
            node = self.nodes[position]
            if position in skip:
                position = node.end + 1
                continue
            if node.tag == TEXT:
                parts.append(node.text.lstrip() if after_break else node.text)
                after_break = after_break and not node.text.strip()
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
    """Depth-first copy of lexbor nodes into Node records, collecting the visible text on the way."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.text_parts: list[str] = []
        self.text_length = 0

    def walk(self, root: LexborNode) -> None:
        stack: list[tuple[LexborNode, int, int]] = [(root, -1, 0)]
        while stack:
            node, parent, depth = stack.pop()
            index = self._add(node, parent, depth)
            if index is None:
                continue
            children = []
            child = node.child
            while child is not None:
                children.append(child)
                child = child.next
            stack.extend((child, index, depth + 1) for child in reversed(children))
        self._fix_ends()

    def _add(self, node: LexborNode, parent: int, depth: int) -> int | None:
        """Append one node; returns its index when its children should be walked."""
        tag = node.tag or ""
        if tag == "-text":
            text = node.text_content or ""
            self.nodes.append(Node(TEXT, parent, depth, text=text, text_offset=self.text_length))
            self._append_text(text)
            return None
        tag = tag.lower()
        if tag.startswith(("-", "_", "!")) or tag in _HIDDEN_TEXT_TAGS:
            return None
        if tag in _BLOCK_TAGS:
            self._append_text("\n")
        attrs = {str(key).lower(): value or "" for key, value in node.attributes.items()}
        self.nodes.append(Node(tag, parent, depth, attrs=attrs, text_offset=self.text_length))
        return len(self.nodes) - 1

    def _append_text(self, text: str) -> None:
        self.text_parts.append(text)
        self.text_length += len(text)

    def _fix_ends(self) -> None:
        """Set every element's `end` to its last descendant, from the parent links."""
        for index, node in enumerate(self.nodes):
            node.end = index
        for index in range(len(self.nodes) - 1, -1, -1):
            parent = self.nodes[index].parent
            if parent >= 0 and self.nodes[index].end > self.nodes[parent].end:
                self.nodes[parent].end = self.nodes[index].end


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
