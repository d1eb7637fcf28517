"""Dated records of a page: every (link, displayed date) pair, grouped by repeated structure.

A record is the smallest element holding a date and one item's link (in flat layouts — `<dt>/<dd>`
pairs, `<a>…<span>date</span><br>` runs — the link's own element), widened to the largest ancestor
it shares with no other record of its group. Records with the same tag path (tags + normalised
classes) form a group: one list, even when split over several blocks. Pure, no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from monitor.extract._dates import FoundDate, date_like, edge_date, is_future, split_date, url_date, url_hint
from monitor.extract._links import Link, PageLinks, children
from monitor.extract._tree import TEXT, Tree, collapse

MAX_CLIMB = 6
"""How many ancestors above a date are searched for its link."""

MAX_RECORD_URLS = 4
"""A record with more distinct link targets than this is a block of items, not one item."""

MAX_WIDEN = 5
"""How many ancestors a record may grow by when it holds no other record of its group."""

MAX_WIDE_URLS = 2
"""A widened record may hold links to at most this many targets (title + source/attachment)."""

MAX_BADGE_NODES = 8
"""A split date badge (`<span>24</span><em>2018-12</em>`) spans at most this many nodes."""

MAX_SIGNATURE_DEPTH = 16
"""Signatures keep this many ancestors: enough to tell lists apart, bounded on absurdly deep pages."""

MAX_HEADER_ROWS = 8
"""Rows with <th> cells read per table for column headers; header rows come first."""

MAX_TABLE_CLIMB = 12
"""How far above a date its table cell, and above a cell its table, may sit."""

URL_ONLY_MARK = "~url"
"""Last element of the signature of records dated by their URL only."""

_DIGITS = re.compile(r"\d+")
_DIGIT = re.compile(r"\d")
_DATE_HINT = re.compile(r"\d\s*[-/.年月－／．]\s*\d")
"""Every shown date has a digit, a separator and a digit: only text around such spots is read."""
_NOISE_CLASSES = frozenset(
    {
        *("on", "active", "cur", "current", "curr", "first", "last", "odd", "even", "selected", "select"),
        *("hover", "show", "hide", "hidden", "clearfix", "clear", "cf", "fl", "fr", "left", "right"),
        *("pull-left", "pull-right", "animated", "in", "fade", "top", "new", "hot", "red", "bold"),
    }
)


@dataclass(frozen=True)
class Record:
    """One dated entry: its element, link, date, and the group (tag path) it belongs to."""

    element: int
    link: Link
    value: date
    signature: tuple[str, ...]
    date_element: int
    yearless: bool = False
    """The shown date had no year (MM-DD): `value`'s year was inferred."""

    @property
    def url_dated(self) -> bool:
        """True when no date is shown and the date comes from the URL."""
        return self.signature[-1:] == (URL_ONLY_MARK,)


@dataclass(frozen=True)
class _Cell:
    """A node showing a date: a text node, or a small element for dates split over several nodes."""

    node: int
    element: int
    text: str
    found: FoundDate
    edge: bool


def find_records(tree: Tree, base: str, today: date | None) -> tuple[list[Record], PageLinks]:
    """Every dated record of the page (shown dates, then URL dates of the rest), in document order,
    and the page's links (titles read without the dates shown inside them)."""
    cells = _date_cells(tree, today)
    links = PageLinks(tree, base, frozenset(cell.element for cell in cells if _is_date_element(tree, cell)))
    runs = _Runs(tree, links, [cell.node for cell in cells])
    paired: dict[int, list[_Cell]] = defaultdict(list)
    for cell in cells:
        record = _smallest_record(tree, links, cell, runs)
        if record is not None:
            paired[record].append(cell)
    signature = Signatures(tree)
    by_signature: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for record in paired:
        by_signature[signature(record)].append(record)
    owned = sorted(paired)
    records = []
    headers = ColumnHeaders(tree)
    for sig, members in by_signature.items():
        records += _group_records(tree, links, sig, members, paired, owned, today, headers)
    records += _url_dated_records(tree, links, records, today, signature)
    records.sort(key=lambda record: record.element)
    return records, links


def _is_date_element(tree: Tree, cell: _Cell) -> bool:
    """True when the cell's element shows nothing but the date (a `<span>` inside a link, say)."""
    return not cell.edge and tree.text_of(cell.element, limit=len(cell.text)) == cell.text


class Signatures:
    """Tag paths of elements (see `signature`), memoised per tree: groups share their ancestors."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._paths: dict[int, tuple[str, ...]] = {}

    def __call__(self, element: int) -> tuple[str, ...]:
        """Tag path from the root to `element`, with normalised classes on the ancestors."""
        node = self.tree.nodes[element]
        return (*self._path(node.parent), node.tag)

    def _path(self, element: int) -> tuple[str, ...]:
        """The memoised path of `element` itself (class included), built iteratively: pages nest deep."""
        missing = []
        current = element
        while current >= 0 and current not in self._paths:
            missing.append(current)
            current = self.tree.nodes[current].parent
        path = self._paths[current] if current >= 0 else ()
        for index in reversed(missing):
            node = self.tree.nodes[index]
            path = (*path, node.tag + class_key(node.attrs.get("class", "")))[-MAX_SIGNATURE_DEPTH:]
            self._paths[index] = path
        return path


def class_key(classes: str) -> str:
    """Classes without state words (on, active, first…) or digits, sorted: list1 and list2 are one."""
    kept = {_DIGITS.sub("", token) for token in classes.split() if token.lower() not in _NOISE_CLASSES}
    return "." + ".".join(sorted(kept)) if kept else ""


def _date_cells(tree: Tree, today: date | None) -> list[_Cell]:
    """Nodes that show a date: date-like text nodes, dates at the edge of a text, split date badges."""
    texts = sorted({tree.node_at(match.start()) for match in _DATE_HINT.finditer(tree.page_text)} - {-1})
    badges = sorted(
        {
            element
            for index in texts
            for element in tree.ancestors(index, 2)
            if 1 < tree.nodes[element].end - element <= MAX_BADGE_NODES
        }
    )
    found = [_text_cell(index, tree.nodes[index].parent, tree.nodes[index].text, today) for index in texts]
    found += [_badge_cell(tree, element, today) for element in badges]
    cells = [cell for cell in found if cell is not None and not is_future(cell.found.value, today)]
    return sorted(cells, key=lambda cell: cell.node)


def _text_cell(index: int, parent: int, raw: str, today: date | None) -> _Cell | None:
    text = collapse(raw)
    found = date_like(text, today)
    if found is not None:
        return _Cell(index, parent, text, found, edge=False)
    found = edge_date(text)
    return _Cell(index, parent, text, found, edge=True) if found is not None else None


def _badge_cell(tree: Tree, element: int, today: date | None) -> _Cell | None:
    """A date shown as parts in child elements (`<span>24</span><em>2018-12</em>`)."""
    nodes = tree.nodes[element + 1 : tree.nodes[element].end + 1]
    if sum(1 for node in nodes if node.tag == TEXT and _DIGIT.search(node.text)) < 2:
        return None
    texts = [text for node in nodes if node.tag == TEXT and (text := collapse(node.text))]
    if len(texts) < 2 or any(date_like(text, today) for text in texts):
        return None
    joined = " ".join(texts)
    value = split_date(joined)
    if value is None:
        return None
    return _Cell(element, element, joined, FoundDate(value, False, 0, len(joined)), edge=False)


def _smallest_record(tree: Tree, links: PageLinks, cell: _Cell, runs: _Runs) -> int | None:
    """The nearest ancestor-or-self of a date holding one item's link; in flat runs, that link's branch."""
    current = cell.element
    for _ in range(MAX_CLIMB):
        if links.count_within(current):
            few_targets = links.few_targets(current, MAX_RECORD_URLS)
            if few_targets and (tree.nodes[current].tag == "a" or sum(runs(current).has_link) <= 1):
                return current
            return _flat_partner(tree, links, runs(current), cell.node)
        current = tree.nodes[current].parent
        if current < 0:
            return None
    return None


@dataclass(frozen=True)
class _Run:
    """An element's children read as a run of links and dates, with the nearest link branch on
    either side of each child (-1 when none)."""

    branches: list[int]
    has_link: list[bool]
    dates_first: bool
    next_link: list[int]
    prev_link: list[int]


class _Runs:
    """`_Run`s memoised per element: every date of a flat run asks about the same container, and
    working one out costs its width (a hostile page may hold tens of thousands of children)."""

    def __init__(self, tree: Tree, links: PageLinks, cell_nodes: list[int]) -> None:
        self._tree = tree
        self._links = links
        self._cell_nodes = cell_nodes
        self._runs: dict[int, _Run] = {}

    def __call__(self, container: int) -> _Run:
        run = self._runs.get(container)
        if run is None:
            run = self._runs[container] = self._read(container)
        return run

    def _read(self, container: int) -> _Run:
        """The run of `container`: when dates more often come just before a link than just after
        one, dates precede their links; otherwise (and on a tie) each date follows its link."""
        tree, links = self._tree, self._links
        branches = children(tree, container)
        has_link = [links.count_within(branch) > 0 for branch in branches]
        has_date = [_count_between(self._cell_nodes, branch, tree.nodes[branch].end) > 0 for branch in branches]
        kinds = ["L" if link else "D" for link, shown in zip(has_link, has_date, strict=True) if link or shown]
        pairs = list(pairwise(kinds))
        dates_first = pairs.count(("D", "L")) > pairs.count(("L", "D"))
        next_link, prev_link = [-1] * len(branches), [-1] * len(branches)
        for i in range(len(branches) - 2, -1, -1):
            next_link[i] = i + 1 if has_link[i + 1] else next_link[i + 1]
        for i in range(1, len(branches)):
            prev_link[i] = i - 1 if has_link[i - 1] else prev_link[i - 1]
        return _Run(branches, has_link, dates_first, next_link, prev_link)


def _flat_partner(tree: Tree, links: PageLinks, run: _Run, cell_node: int) -> int | None:
    """In a flat run of links and dates, the branch whose link this date belongs to: the nearest
    link branch on the run's side (after the date when dates come first), else on the other."""
    own = bisect_right(run.branches, cell_node) - 1
    if own < 0 or not tree.contains(run.branches[own], cell_node) or run.has_link[own]:
        return None
    after, before = run.next_link[own], run.prev_link[own]
    nearest = (after if after >= 0 else before) if run.dates_first else (before if before >= 0 else after)
    if nearest < 0:
        return None
    partner = run.branches[nearest]
    return partner if links.few_targets(partner, MAX_RECORD_URLS) else None


def _count_between(sorted_nodes: list[int], start: int, end: int) -> int:
    return bisect_right(sorted_nodes, end) - bisect_left(sorted_nodes, start)


def _group_records(
    tree: Tree,
    links: PageLinks,
    sig: tuple[str, ...],
    members: list[int],
    paired: dict[int, list[_Cell]],
    owned: list[int],
    today: date | None,
    headers: ColumnHeaders,
) -> list[Record]:
    """Records of one group: each widened, given its title link and one date."""
    group_cells = sorted(cell.node for member in members for cell in paired[member])
    records = []
    for member in members:
        element = _widen(tree, links, member, group_cells, owned)
        nested = [other for other in _within(owned, tree, element) if other != member]
        link = _title_link(tree, links, element, nested)
        if link is None:
            continue
        cell = _choose_cell(headers, paired[member])
        value = _cell_date(cell, link, today)
        if value is not None:
            records.append(Record(element, link, value, sig, cell.element, cell.found.yearless))
    return records


def _within(sorted_elements: list[int], tree: Tree, ancestor: int) -> list[int]:
    """The elements of a sorted list lying in the subtree of `ancestor`."""
    end = tree.nodes[ancestor].end
    return sorted_elements[bisect_left(sorted_elements, ancestor) : bisect_right(sorted_elements, end)]


def _widen(tree: Tree, links: PageLinks, record: int, group_cells: list[int], owned: list[int]) -> int:
    """Grow a record upwards while the ancestor holds no other date of its group and few link targets."""
    current = record
    own_cells = _cells_under(tree, record, group_cells)
    for _ in range(MAX_WIDEN):
        parent = tree.nodes[current].parent
        if parent < 0 or _cells_under(tree, parent, group_cells) > own_cells:
            break
        nested = [other for other in _within(owned, tree, parent) if not tree.contains(other, record)]
        targets = {
            link.href
            for index in links.usable_within(parent)
            if not any(tree.contains(other, index) for other in nested) and (link := links.link(index)) is not None
        }
        if len(targets) > MAX_WIDE_URLS:
            break
        current = parent
    return current


def _cells_under(tree: Tree, element: int, group_cells: list[int]) -> int:
    """Date cells of the group inside `element`, counting cells hanging beside it in flat runs as its own."""
    return _count_between(group_cells, element, tree.nodes[element].end)


def _title_link(tree: Tree, links: PageLinks, element: int, nested: list[int]) -> Link | None:
    """The record's title link: the one with the longest title, not inside a nested record."""
    best: Link | None = None
    for index in links.usable_within(element):
        if any(tree.contains(other, index) for other in nested):
            continue
        link = links.link(index)
        if link is not None and (best is None or len(link.title) > len(best.title)):
            best = link
    return best


def _choose_cell(headers: ColumnHeaders, cells: list[_Cell]) -> _Cell:
    """The publish date among a record's dates: a plain date before one read off a title's edge,
    one labelled 发布 (in its text or its table column's header) before the others, else the first."""
    plain = [cell for cell in cells if not cell.edge] or cells
    for cell in plain:
        if "发布" in cell.text or "发布" in headers(cell.element):
            return cell
    return plain[0]


class ColumnHeaders:
    """Header text of the table column a cell sits in ("" outside tables), memoised per row and
    table: a wide table asks once per dated cell, and each answer would otherwise cost a scan of
    the whole table."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._columns: dict[int, dict[int, int]] = {}
        self._header_rows: dict[int, list[tuple[int, list[int]]]] = {}

    def __call__(self, element: int) -> str:
        tree = self.tree
        cell = _nearest(tree, element, ("td", "th"))
        if cell < 0:
            return ""
        row = tree.nodes[cell].parent
        table = _nearest(tree, row, ("table",))
        if table < 0:
            return ""
        column = self._column_of(row)[cell]
        for index, headers in self._headers_of(table):
            if index != row and len(headers) > column:
                return tree.text_of(headers[column])
        return ""

    def _column_of(self, row: int) -> dict[int, int]:
        if row not in self._columns:
            cells = [i for i in children(self.tree, row) if self.tree.nodes[i].tag in ("td", "th")]
            self._columns[row] = {cell: column for column, cell in enumerate(cells)}
        return self._columns[row]

    def _headers_of(self, table: int) -> list[tuple[int, list[int]]]:
        """The table's first MAX_HEADER_ROWS rows holding <th> cells, with those cells."""
        if table not in self._header_rows:
            tree, rows = self.tree, []
            for index in range(table, tree.nodes[table].end + 1):
                if tree.nodes[index].tag == "tr":
                    headers = [i for i in children(tree, index) if tree.nodes[i].tag == "th"]
                    if headers:
                        rows.append((index, headers))
                        if len(rows) >= MAX_HEADER_ROWS:
                            break
            self._header_rows[table] = rows
        return self._header_rows[table]


def _nearest(tree: Tree, element: int, tags: tuple[str, ...]) -> int:
    """The nearest ancestor-or-self of `element` with one of `tags`, at most MAX_TABLE_CLIMB up; -1 if none."""
    current = element
    for _ in range(MAX_TABLE_CLIMB + 1):
        if current < 0 or tree.nodes[current].tag in tags:
            return current
        current = tree.nodes[current].parent
    return -1


def _cell_date(cell: _Cell, link: Link, today: date | None) -> date | None:
    """The cell's date; a yearless one takes its year from the link's URL date when that is close."""
    if not cell.found.yearless:
        return cell.found.value
    found = date_like(cell.text, today, hint=url_hint(link.href))
    return found.value if found is not None and not is_future(found.value, today) else None


def _url_dated_records(
    tree: Tree, links: PageLinks, shown: list[Record], today: date | None, signature: Signatures
) -> list[Record]:
    """Records for links that show no date but carry one in their URL (TRS t20181224_…, /art/2018/12/24/).

    Links inside a record with a shown date, or repeating the structure of such records (an
    entry whose date template stayed empty), get none: the URL date is only a fallback.
    """
    covered = {index for record in shown for index in links.usable_within(record.element)}
    shown_signatures = {record.signature for record in shown}
    records = []
    for index in links.usable():
        link = links.link(index)
        value = url_date(link.href) if link is not None and index not in covered else None
        if link is None or value is None or is_future(value, today):
            continue
        element = _link_item(tree, links, index)
        sig = signature(element)
        if sig not in shown_signatures:
            records.append(Record(element, link, value, (*sig, URL_ONLY_MARK), element))
    return records


def _link_item(tree: Tree, links: PageLinks, index: int) -> int:
    """The largest ancestor-or-self of a link (up to 3 levels) holding no other link target."""
    current = index
    for _ in range(3):
        parent = tree.nodes[current].parent
        if parent < 0 or not links.few_targets(parent, 1):
            break
        current = parent
    return current
