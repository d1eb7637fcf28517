"""Which dated records form the page's main list: scoring groups of repeated records.

A column page has one main list (the best-scoring group: many entries, real titles, not in a
"hot"/"related"/sidebar widget); a homepage has many comparable dated widgets and counts them all.
Pure, no I/O.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from monitor._records import Record
from monitor._tree import TEXT, Tree

GOOD_TITLE_CHARS = 6
"""A list entry with a title this long or longer reads like a document title, not a menu label."""

WIDGET_FACTOR = 0.3
"""Score multiplier for groups inside hot/recommended/related/sidebar widgets."""

HOMEPAGE_MIN_GROUPS = 3
"""A page with fewer comparable dated groups than this is a column page."""

HOMEPAGE_MAX_SHARE = 0.5
"""On a homepage no single group holds more than this share of the dated links."""

_WIDGET_TOKEN = re.compile(
    r"^(?:hot|rank|recommend|tuijian|redian|paihang|related|relate|similar|xgwz|xgxx|xgxw|sidebar|footer)"
    r"|(?:hot|rank|recommend|tuijian|redian|paihang|related|similar|sidebar)$"
)
_WIDGET_HEADING = re.compile(r"热点|热门|推荐|排行|相关|猜你|点击榜|阅读榜")
_TOKEN_SPLIT = re.compile(r"[^a-z]+")
_BREADCRUMB_TEXT = re.compile(r"(?:当前|您的|你的|现在的|所在)\s*位置|位置\s*[:：]")
_BREADCRUMB_CLASS = re.compile(
    r"crumb|^(?:position|location|weizhi|dqwz|curpos|mbx|current[-_]?position|position[-_]?nav)$",
    re.IGNORECASE,
)
URL_DATED_FACTOR = 0.6
"""Score multiplier for groups dated only by their URLs (the URL date is a fallback)."""

MIN_URL_DATED = 3
"""Fewer URL-dated links than this are footer/nav odds and ends, not a list."""

HEADING_CHARS = 30
"""How much text just before a group is read as its heading."""


@dataclass(frozen=True)
class MainList:
    """The records chosen as the page's list, and whether the page read as a homepage."""

    records: tuple[Record, ...]
    homepage: bool


def choose_main_list(tree: Tree, records: list[Record], paginated: bool) -> MainList:
    """The main list of a column page, or every dated widget of a homepage."""
    groups: dict[tuple[str, ...], list[Record]] = defaultdict(list)
    for record in records:
        groups[record.signature].append(record)
    candidates = [
        members for members in groups.values() if not members[0].url_dated or len(members) >= MIN_URL_DATED
    ]
    if not candidates:
        return MainList((), False)
    shown = [members for members in candidates if not members[0].url_dated]
    if not paginated and not has_breadcrumb(tree) and _looks_like_homepage(tree, shown):
        everything = [record for members in shown if len(members) > 1 for record in members]
        return MainList(tuple(sorted(everything, key=lambda record: record.element)), True)
    best = max(candidates, key=lambda members: _score(tree, members))
    return MainList(tuple(best), False)


def has_breadcrumb(tree: Tree) -> bool:
    """True when the page shows a "you are here" trail: column and article pages do, homepages don't."""
    if _BREADCRUMB_TEXT.search(tree.page_text):
        return True
    return any(
        _BREADCRUMB_CLASS.search(token)
        for node in tree.nodes
        if node.tag in ("div", "p", "span", "ul", "nav")
        for token in (node.attrs.get("class", "") + " " + node.attrs.get("id", "")).split()
    )


def _looks_like_homepage(tree: Tree, groups: list[list[Record]]) -> bool:
    """Several comparable, non-widget dated groups and none dominant."""
    sizes = [len(members) for members in groups if len(members) >= 3 and not _in_widget(tree, members)]
    if len(sizes) < HOMEPAGE_MIN_GROUPS:
        return False
    return max(sizes) <= HOMEPAGE_MAX_SHARE * sum(sizes)


def _score(tree: Tree, members: list[Record]) -> float:
    """How much a group looks like the main list: distinct entries with real titles, not a widget."""
    distinct = len({record.link.url for record in members})
    titled = sum(1 for record in members if len(record.link.title) >= GOOD_TITLE_CHARS) / len(members)
    score = distinct * (0.3 + 0.7 * titled)
    if members[0].url_dated:
        score *= URL_DATED_FACTOR
    return score * WIDGET_FACTOR if _in_widget(tree, members) else score


def _in_widget(tree: Tree, members: list[Record]) -> bool:
    """True when the group's container is marked (class/id/tag) or headed as a side widget."""
    container = _common_ancestor(tree, [record.element for record in members])
    chain = [container, *tree.ancestors(container)[:3]]
    for index in chain:
        node = tree.nodes[index]
        if node.tag in ("aside", "footer"):
            return True
        words = (node.attrs.get("class", "") + " " + node.attrs.get("id", "")).lower()
        if any(_WIDGET_TOKEN.search(token) for token in _TOKEN_SPLIT.split(words) if token):
            return True
    return bool(_WIDGET_HEADING.search(_heading_before(tree, container, members[0].element)))


def _heading_before(tree: Tree, container: int, first_record: int) -> str:
    """The last few characters of text shown before the group's first entry inside its container's parent."""
    scope = tree.nodes[container].parent if tree.nodes[container].parent >= 0 else container
    parts = [tree.nodes[index].text for index in range(scope, first_record) if tree.nodes[index].tag == TEXT]
    return "".join("".join(parts).split())[-HEADING_CHARS:]


def _common_ancestor(tree: Tree, elements: list[int]) -> int:
    """The deepest element containing all `elements` (for one element: its parent)."""
    first = elements[0]
    candidate = tree.nodes[first].parent if len(elements) == 1 else first
    while candidate > 0 and not all(tree.contains(candidate, element) for element in elements):
        candidate = tree.nodes[candidate].parent
    return max(candidate, 0)
