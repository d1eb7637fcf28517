"""A homepage read as a whole: every dated link of every content block, each block with its heading.

A homepage is many dated blocks (要闻, 通知公告, 政策法规, tab panes of which one is visible), not one
list: all of them count, hidden tabs included (they are content a script switches). Date widgets
("今天是…"), copyright years and build stamps never pair with a link as a record does, so they stay
out; links dated only by their URL count only when the page shows no date at all. Yearless dates
(`03-16`, `[03.16]`) get their year from the strongest evidence at hand (see `redate`; column
lists use it too).
Pure, no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import urlsplit

from monitor.extract._dates import date_like, find_full_dates, make_date, url_hint
from monitor.extract._links import children
from monitor.extract._records import Record
from monitor.extract._tree import TEXT, Tree, collapse
from monitor.models import Block

MIN_URL_DATED = 3
"""Without any shown date, at least this many URL-dated links make a block (fewer are odds and ends)."""

HEADING_MIN_CHARS, HEADING_MAX_CHARS = 2, 16
"""A block heading (要闻动态, 通知公告, 政策解读) is a short text."""

HEADING_SCAN_NODES = 120
"""How many nodes before a block are searched for its heading."""

TAB_LEVELS = 4
"""How many ancestors above a block's list may hold the row of tab panes it is one of."""

URL_WINDOW = timedelta(days=62)
"""A yearless date takes its year from a reference (the item's URL date, a full date nearby) when it
falls at most this long after it: a document's URL is written when it is published."""

FEATURED_TITLE_CHARS = 6
"""A lone dated link (a featured item) must read like a document title, not a menu label."""

STAMP_TEXT_CHARS = 40
"""How much of a lone date's element is searched for the words of a date widget or stamp."""

_STAMP_WORDS = re.compile(r"今天|今日|星期|更新|生成|制作|访问|统计|当前时间")
_MORE = re.compile(r"^(?:更多|查看更多|更多内容|more|>>|»|》》|\+)\s*[>»》+]*$", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_WORDY = re.compile(r"[\u4e00-\u9fffA-Za-z]")


@dataclass(frozen=True)
class Homepage:
    """A homepage's dated records in page order and its blocks."""

    records: tuple[Record, ...]
    blocks: tuple[Block, ...]


def read_homepage(tree: Tree, records: list[Record], today: date | None) -> Homepage:
    """Every dated link of the page, their yearless dates re-dated, grouped into headed blocks."""
    shown = [record for record in records if not record.url_dated]
    if not shown:
        shown = _url_dated_blocks(records)
    lists = [members for members in _lists(tree, shown, _anchors(tree, shown)) if not _stray_stamp(tree, members)]
    dated = redate(tree, lists, today)
    blocks = _blocks(tree, dated, _anchors(tree, [record for members in dated for record in members]))
    everything = tuple(record for members in dated for record in members)
    return Homepage(everything, blocks)


def _url_dated_blocks(records: list[Record]) -> list[Record]:
    """URL-dated records of groups large enough to be lists (a page that shows no date at all)."""
    counts: dict[tuple[str, ...], int] = {}
    for record in records:
        counts[record.signature] = counts.get(record.signature, 0) + 1
    return [record for record in records if counts[record.signature] >= MIN_URL_DATED]


def _anchors(tree: Tree, records: list[Record]) -> dict[int, int]:
    """Each record's own element (by record element): the record itself, unless it was widened
    over other records (a lone featured item grows into its whole block), then just its link and date."""
    cores = {record.element: _core(tree, record) for record in records}
    starts = sorted(cores.values())
    anchors = {}
    for record in records:
        end = tree.nodes[record.element].end
        others = bisect_right(starts, end) - bisect_left(starts, record.element)
        anchors[record.element] = record.element if others <= 1 else cores[record.element]
    return anchors


def _lists(tree: Tree, records: list[Record], anchors: dict[int, int]) -> list[list[Record]]:
    """Records split into runs that share their list element (the `<ul>` of a block or tab pane)."""
    runs: list[list[Record]] = []
    key: tuple[int, tuple[str, ...]] | None = None
    for record in sorted(records, key=lambda record: record.element):
        parent = (tree.nodes[anchors[record.element]].parent, record.signature)
        if runs and parent == key:
            runs[-1].append(record)
        else:
            runs.append([record])
            key = parent
    return runs


def _core(tree: Tree, record: Record) -> int:
    """The smallest element holding the record's link and its date (a lone record may have been
    widened to a whole block)."""
    first, second = sorted((record.link.index, record.date_element))
    candidate = first
    while candidate > 0 and not tree.contains(candidate, second):
        candidate = tree.nodes[candidate].parent
    return max(candidate, 0)


def _stray_stamp(tree: Tree, members: list[Record]) -> bool:
    """True for a lone dated link that is a widget or a stamp, not a featured document: a short link
    label (设为首页, 网站地图) or a date labelled as today's, an update or a build time."""
    if len(members) > 1:
        return False
    record = members[0]
    if len(record.link.title) < FEATURED_TITLE_CHARS:
        return True
    shown = tree.text_of(record.date_element, frozenset({record.link.index}))
    return bool(_STAMP_WORDS.search(shown[:STAMP_TEXT_CHARS]))


# -- yearless dates ------------------------------------------------------------------------------


def redate(tree: Tree, lists: list[list[Record]], today: date | None) -> list[list[Record]]:
    """Records with the year of every yearless date re-inferred, strongest evidence first: a full
    date shown in the same block, the item's own URL date when it fits, the page's other full
    dates, today. No inferred date lies after today."""
    shown_full = [record.value for members in lists for record in members if not record.yearless]
    page_reference = max((value for value in shown_full if today is None or value <= today), default=None)
    if page_reference is None:
        page_reference = _page_full_date(tree, today)
    out = []
    for members in lists:
        block_full = [record.value for record in members if not record.yearless]
        block_reference = max(block_full, default=None)
        dated = []
        for record in members:
            if record.yearless:
                value = _year_of(record, block_reference, page_reference, today)
                if value is None:
                    continue
                record = replace(record, value=value)
            dated.append(record)
        if dated:
            out.append(dated)
    return out


def _year_of(record: Record, block: date | None, page: date | None, today: date | None) -> date | None:
    """The yearless record's date from the first reference that gives one."""
    month, day = record.value.month, record.value.day
    own = url_hint(record.link.href)
    for reference in (block, own, page):
        # Each reference is a publication day: the shown date is at most a little later, and
        # within a year before it (a republished document's URL is later than its shown date).
        value = latest_before(month, day, reference + URL_WINDOW, today) if reference is not None else None
        if value is not None:
            return value
    return latest_before(month, day, today, today) if today is not None else None


def latest_before(month: int, day: int, bound: date, today: date | None) -> date | None:
    """The latest date with this month and day on or before `bound` (and never after today)."""
    limit = min(bound, today) if today is not None else bound
    for year in (limit.year, limit.year - 1):
        candidate = make_date(year, month, day)
        if candidate is not None and candidate <= limit:
            return candidate
    return None


def _page_full_date(tree: Tree, today: date | None) -> date | None:
    """The newest complete date shown anywhere on the page (not after today)."""
    found = [value.value for value in find_full_dates(tree.page_text) if today is None or value.value <= today]
    return max(found, default=None)


# -- blocks and headings ---------------------------------------------------------------------------


def _blocks(tree: Tree, lists: list[list[Record]], anchors: dict[int, int]) -> tuple[Block, ...]:
    """One block per list, headed by its tab label or the heading just before it; neighbouring
    lists under the same heading (a featured item above its list) are one block."""
    covered = sorted((anchor, tree.nodes[anchor].end) for anchor in anchors.values())
    headings = [_heading(tree, anchors[members[0].element], covered) for members in lists]
    blocks: list[Block] = []
    for heading, members in zip(headings, lists, strict=True):
        newest = max(record.value for record in members)
        if blocks and heading and blocks[-1].heading == heading:
            last = blocks[-1]
            newest = max(newest, last.newest_date) if last.newest_date else newest
            blocks[-1] = Block(heading, last.items + len(members), newest)
        else:
            blocks.append(Block(heading, len(members), newest))
    return tuple(blocks)


def _inside(covered: list[tuple[int, int]], index: int) -> bool:
    position = bisect_right(covered, (index, 1 << 62)) - 1
    return position >= 0 and covered[position][0] <= index <= covered[position][1]


def _heading(tree: Tree, first: int, covered: list[tuple[int, int]]) -> str:
    """The block's tab label when its list is one of a row of tab panes, else the heading before it.

    `first` is the block's first entry; `covered` the sorted node ranges of all entries (their text
    is item text, never a heading).
    """
    container = tree.nodes[first].parent
    if container < 0:
        return ""
    tab = _tab_label(tree, container, covered)
    return tab if tab else _heading_before(tree, first, covered)


def _tab_label(tree: Tree, container: int, covered: list[tuple[int, int]]) -> str:
    """The label of the tab whose pane holds `container`: the label linking to the folder the pane's
    entries live in (tab rows may be written right to left), else the i-th of as many labels as panes."""
    pane = container
    for _ in range(TAB_LEVELS):
        parent = tree.nodes[pane].parent
        if parent < 0:
            return ""
        panes = [child for child in children(tree, parent) if _holds_records(tree, child, covered)]
        if len(panes) >= 2 and pane in panes:
            labels = _labels(tree, parent, panes[0], covered)
            if len(labels) < len(panes):
                return ""
            by_key = _label_by_id(tree, pane, container, labels) or _label_by_folder(tree, pane, labels)
            return by_key or labels[len(labels) - len(panes) + panes.index(pane)][0]
        pane = parent
    return ""


def _label_by_id(tree: Tree, pane: int, container: int, labels: list[tuple[str, int]]) -> str:
    """The label whose tab id the pane's id ends with (tab `yw2`, pane `con_yw_2`: setTab scripts)."""
    pane_ids = [_id_key(tree, element) for element in (container, *tree.ancestors(container)) if element >= pane]
    pane_ids = [key for key in pane_ids if key]
    matching = []
    for text, index in labels:
        keys = {_id_key(tree, element) for element in tree.ancestors(index)[:2]} - {""}
        if any(pane_id.endswith(key) for key in keys for pane_id in pane_ids):
            matching.append(text)
    return matching[0] if len(matching) == 1 else ""


def _id_key(tree: Tree, element: int) -> str:
    """An element's id without separators (`con_yw_2` -> `conyw2`) when it carries a number, else ""."""
    key = _NOT_ALNUM.sub("", tree.attr(element, "id")).lower()
    return key if any(char.isdigit() for char in key) else ""


def _label_by_folder(tree: Tree, pane: int, labels: list[tuple[str, int]]) -> str:
    """The one label whose link's folder holds most of the pane's entries, or ""."""
    entries = [
        _path(tree.attr(index, "href"))
        for index in range(pane, tree.nodes[pane].end + 1)
        if tree.nodes[index].tag == "a"
    ]
    matching = []
    for text, index in labels:
        link = next((a for a in tree.ancestors(index)[:2] if tree.nodes[a].tag == "a"), -1)
        folder = _path(tree.attr(link, "href"), folder=True) if link >= 0 else ""
        if len(folder) > 1 and 2 * sum(1 for entry in entries if folder in entry) > len(entries):
            matching.append(text)
    return matching[0] if len(matching) == 1 else ""


def _path(href: str, *, folder: bool = False) -> str:
    """`/a/b/` for href `//host/a/b/index.html` (folder) or `./a/b/c.html`: path segments, dots dropped."""
    path = urlsplit(href.strip()).path
    segments = [segment for segment in path.split("/") if segment and segment not in (".", "..")]
    if folder and segments and "." in segments[-1]:
        segments = segments[:-1]
    return "/" + "/".join(segments) + ("/" if folder else "")


def _holds_records(tree: Tree, element: int, covered: list[tuple[int, int]]) -> bool:
    """True when a record starts inside `element`."""
    position = bisect_right(covered, (element, -1))
    return position < len(covered) and covered[position][0] <= tree.nodes[element].end


def _labels(tree: Tree, scope: int, first_pane: int, covered: list[tuple[int, int]]) -> list[tuple[str, int]]:
    """Short texts (tab labels) shown before the first pane, with their nodes: inside the panes'
    parent, else just above it."""
    for start in (scope, max(tree.nodes[scope].parent, 0)):
        labels = [
            (text, index)
            for index in range(max(start, first_pane - HEADING_SCAN_NODES), first_pane)
            if (text := _heading_text(tree, index, covered))
        ]
        if labels:
            return labels
    return []


def _heading_before(tree: Tree, first: int, covered: list[tuple[int, int]]) -> str:
    """The last heading-like text before the block's first entry (other entries' text skipped)."""
    for index in range(first - 1, max(first - HEADING_SCAN_NODES, 0) - 1, -1):
        text = _heading_text(tree, index, covered)
        if text:
            return text
    return ""


def _heading_text(tree: Tree, index: int, covered: list[tuple[int, int]]) -> str:
    """The text of node `index` when it reads as a heading: short, wordy, not a date, not "更多"."""
    node = tree.nodes[index]
    if node.tag != TEXT or _inside(covered, index):
        return ""
    text = collapse(node.text)
    if not HEADING_MIN_CHARS <= len(text) <= HEADING_MAX_CHARS or not _WORDY.search(text) or _MORE.match(text):
        return ""
    return "" if date_like(text, None) or find_full_dates(text) else text
