"""Dated records of a page: every (link, displayed date) pair, grouped by repeated structure.

A record is the smallest element holding a date-like text and a content link, widened to the
largest ancestor it does not share with another record of its group. Records with the same tag
path (tags + normalised classes) form a group: one list, even when split over several blocks.
Pure, no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin

from monitor._dates import FoundDate, date_like, is_future, trailing_date, url_date
from monitor._tree import TEXT, Tree, collapse

MAX_CLIMB = 6
"""How many ancestors above a date are searched for its link."""

MAX_RECORD_URLS = 4
"""A record with more distinct link targets than this is a block of items, not one item."""

MAX_WIDEN = 5
"""How many ancestors a record may grow by when it holds no other record of its group."""

_NON_CONTENT_HREF = re.compile(r"^\s*(?:javascript:|#|mailto:|tel:|data:|about:)", re.IGNORECASE)
_MORE_LINK = re.compile(r"^(?:更多|查看更多|more|>>|»|》》|more\s*>+|更多\s*[>»]+|\+)$", re.IGNORECASE)
_NOISE_CLASS = re.compile(
    r"^(?:on|active|cur|current|curr|first|last|odd|even|selected|select|hover|show|hide|hidden|"
    r"clearfix|clear|cf|fl|fr|left|right|pull-left|pull-right|animated|in|fade)$"
)
_DIGITS = re.compile(r"\d+")
_OPENING_BRACKETS = " \t([（【〔"
_ELLIPSIS = re.compile(r"(?:\.{2,}|…+|。{3,})$")


@dataclass(frozen=True)
class Link:
    """A content link: element index, resolved URL and its best title."""

    index: int
    url: str
    title: str


@dataclass(frozen=True)
class Record:
    """One dated entry: its element, link, date, and the group (tag path) it belongs to."""

    element: int
    link: Link
    value: date
    signature: tuple[str, ...]
    date_element: int


@dataclass(frozen=True)
class _Cell:
    """A date-like text node and the date it shows."""

    node: int
    element: int
    text: str
    found: FoundDate


class PageLinks:
    """The content links of a tree with fast lookups by subtree."""

    def __init__(self, tree: Tree, base: str, skip: frozenset[int]) -> None:
        self.tree = tree
        self.base = base
        self.skip = skip
        self.indexes = [
            i for i, node in enumerate(tree.nodes) if node.tag == "a" and _is_content_href(node.attrs)
        ]
        self._cache: dict[int, Link | None] = {}

    def within(self, element: int) -> list[int]:
        """Content-link indexes inside the subtree of `element` (including itself)."""
        end = self.tree.nodes[element].end
        return self.indexes[bisect_left(self.indexes, element) : bisect_right(self.indexes, end)]

    def link(self, index: int) -> Link | None:
        """The link at `index` with resolved URL and best title; None when it has no title or is a 'more'."""
        if index not in self._cache:
            self._cache[index] = self._make(index)
        return self._cache[index]

    def _make(self, index: int) -> Link | None:
        attrs = self.tree.nodes[index].attrs
        text = strip_trailing_date(self.tree.text_of(index, self.skip))
        title = best_title(text, attrs.get("title", ""))
        if not title or _MORE_LINK.match(title):
            return None
        return Link(index, resolve(self.base, attrs.get("href", "")), title)


def best_title(text: str, attribute: str) -> str:
    """The link's full title: the title attribute when it is the same title untruncated, else the text."""
    attribute = collapse(attribute)
    if not attribute:
        return text
    stem = _ELLIPSIS.sub("", text).strip()
    if not stem or (attribute.startswith(stem) and len(attribute) >= len(text)) or len(attribute) > len(text):
        return attribute
    return text


def strip_trailing_date(text: str) -> str:
    """Link text without a date written at its end (`标题 2018-12-24` -> `标题`)."""
    found = trailing_date(text)
    return text[: found.start].rstrip(_OPENING_BRACKETS) if found is not None else text


def resolve(base: str, href: str) -> str:
    """Absolute URL of `href` against `base` (unchanged when there is no base)."""
    href = href.strip()
    if not base:
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def find_records(tree: Tree, links: PageLinks, today: date | None) -> list[Record]:
    """Every dated record of the page, in document order."""
    cells = _date_cells(tree, today)
    skip = frozenset(cell.element for cell in cells if _is_pure_date(tree, cell))
    links.skip = skip
    paired: dict[int, list[_Cell]] = defaultdict(list)
    for cell in cells:
        record = _smallest_record(tree, links, cell.element)
        if record is not None:
            paired[record].append(cell)
    by_signature: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for record in paired:
        by_signature[signature(tree, record)].append(record)
    owned = frozenset(paired)
    records = []
    for sig, members in by_signature.items():
        records += _group_records(tree, links, sig, members, paired, owned, today)
    records.sort(key=lambda record: record.element)
    return records


def signature(tree: Tree, element: int) -> tuple[str, ...]:
    """Tag path from the root to `element`, with normalised classes on the ancestors."""
    path = [tree.nodes[element].tag]
    for ancestor in tree.ancestors(element):
        node = tree.nodes[ancestor]
        path.append(node.tag + _class_key(node.attrs.get("class", "")))
    return tuple(reversed(path))


def _class_key(classes: str) -> str:
    """Classes without state words (on, active, first…) or digits, sorted: list1 and list2 are one."""
    tokens = sorted({_DIGITS.sub("", token) for token in classes.split() if not _NOISE_CLASS.match(token)})
    return "." + ".".join(tokens) if tokens else ""


def _is_content_href(attrs: dict[str, str]) -> bool:
    href = attrs.get("href", "").strip()
    return bool(href) and not _NON_CONTENT_HREF.match(href)


def _date_cells(tree: Tree, today: date | None) -> list[_Cell]:
    """Text nodes that show a date: date-like on their own, or closing a link's text."""
    cells = []
    for index, node in enumerate(tree.nodes):
        if node.tag != TEXT or not any(char.isdigit() for char in node.text):
            continue
        text = collapse(node.text)
        found = date_like(text, today) or trailing_date(text)
        if found is not None and not is_future(found.value, today):
            cells.append(_Cell(index, node.parent, text, found))
    return cells


def _is_pure_date(tree: Tree, cell: _Cell) -> bool:
    """True when the cell's element holds nothing but the date, so its text is no part of a title."""
    return cell.found.start == 0 and tree.text_of(cell.element) == cell.text


def _smallest_record(tree: Tree, links: PageLinks, element: int) -> int | None:
    """The nearest ancestor-or-self of a date that holds a content link, if it is one item's size."""
    current = element
    for _ in range(MAX_CLIMB):
        inside = [i for i in links.within(current) if links.link(i) is not None]
        if inside:
            urls = {link.url for i in inside if (link := links.link(i)) is not None}
            return current if len(urls) <= MAX_RECORD_URLS else None
        current = tree.nodes[current].parent
        if current < 0:
            return None
    return None


def _group_records(
    tree: Tree,
    links: PageLinks,
    sig: tuple[str, ...],
    members: list[int],
    paired: dict[int, list[_Cell]],
    owned: frozenset[int],
    today: date | None,
) -> list[Record]:
    """Records of one group: each widened, given its title link and one date."""
    member_cells = sorted(cell.node for member in members for cell in paired[member])
    records = []
    for member in members:
        element = _widen(tree, links, member, member_cells, owned)
        foreign = frozenset(other for other in owned if other != member and tree.contains(element, other))
        link = _title_link(tree, links, element, foreign)
        if link is None:
            continue
        cell = _choose_cell(tree, paired[member])
        value = _cell_date(cell, link, today)
        if value is not None:
            records.append(Record(element, link, value, sig, cell.element))
    return records


def _widen(tree: Tree, links: PageLinks, record: int, group_cells: list[int], owned: frozenset[int]) -> int:
    """Grow a record upwards while the ancestor holds no other date of its group and few links."""
    current = record
    for _ in range(MAX_WIDEN):
        parent = tree.nodes[current].parent
        if parent < 0:
            break
        end = tree.nodes[parent].end
        if bisect_right(group_cells, end) - bisect_left(group_cells, parent) > _cells_in(
            tree, record, group_cells
        ):
            break
        foreign = [other for other in owned if other != record and tree.contains(parent, other)]
        urls = {
            link.url
            for i in links.within(parent)
            if not any(tree.contains(other, i) for other in foreign) and (link := links.link(i)) is not None
        }
        if len(urls) > 2:
            break
        current = parent
    return current


def _cells_in(tree: Tree, element: int, group_cells: list[int]) -> int:
    end = tree.nodes[element].end
    return bisect_right(group_cells, end) - bisect_left(group_cells, element)


def _title_link(tree: Tree, links: PageLinks, element: int, foreign: frozenset[int]) -> Link | None:
    """The record's title link: the one with the longest title, not inside a nested record."""
    best: Link | None = None
    for index in links.within(element):
        if any(tree.contains(other, index) for other in foreign):
            continue
        link = links.link(index)
        if link is not None and (best is None or len(link.title) > len(best.title)):
            best = link
    return best


def _choose_cell(tree: Tree, cells: list[_Cell]) -> _Cell:
    """The publish date among a record's dates: one labelled 发布 if any, else the first shown."""
    for cell in cells:
        if "发布" in cell.text or "发布" in _column_header(tree, cell.element):
            return cell
    return cells[0]


def _column_header(tree: Tree, element: int) -> str:
    """Header text of the table column a cell sits in ("" outside tables)."""
    cell = element
    while cell >= 0 and tree.nodes[cell].tag not in ("td", "th"):
        cell = tree.nodes[cell].parent
    if cell < 0:
        return ""
    row = tree.nodes[cell].parent
    column = [i for i in _children(tree, row) if tree.nodes[i].tag in ("td", "th")].index(cell)
    table = row
    while table >= 0 and tree.nodes[table].tag != "table":
        table = tree.nodes[table].parent
    if table < 0:
        return ""
    for index in range(table, tree.nodes[table].end + 1):
        if tree.nodes[index].tag == "tr" and index != row:
            headers = [i for i in _children(tree, index) if tree.nodes[i].tag == "th"]
            if len(headers) > column:
                return tree.text_of(headers[column])
    return ""


def _children(tree: Tree, element: int) -> list[int]:
    """Direct children of an element, in order."""
    result = []
    index = element + 1
    end = tree.nodes[element].end
    while index <= end:
        result.append(index)
        index = tree.nodes[index].end + 1
    return result


def _cell_date(cell: _Cell, link: Link, today: date | None) -> date | None:
    """The cell's date; a yearless one takes its year from the link's URL date when that is close."""
    if not cell.found.yearless:
        return cell.found.value
    found = date_like(cell.text, today, hint=url_date(link.url))
    return found.value if found is not None and not is_future(found.value, today) else None
