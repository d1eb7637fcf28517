"""Which dated records form the page's main list: scoring groups of repeated records.

A column page has one main list: the best-scoring group (distinct entries with real titles, headed
by the column's own name, followed by the pager, linking into the column's folder); hot/related/
sidebar widgets never are. A homepage has many comparable dated widgets and counts them all.
Pure, no I/O.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from monitor.extract._links import Link
from monitor.extract._records import Record
from monitor.extract._tree import TEXT, Tree

GOOD_TITLE_CHARS = 6
"""A list entry with a title this long or longer reads like a document title, not a menu label."""

HOMEPAGE_MIN_GROUPS = 3
"""A page with fewer comparable dated groups than this is a column page."""

HOMEPAGE_MAX_SHARE = 0.5
"""On a homepage no single group holds more than this share of the dated links."""

URL_DATED_FACTOR = 0.6
"""Score multiplier for groups dated only by their URLs (the URL date is a fallback)."""

MIN_URL_DATED = 3
"""Fewer URL-dated links than this are footer/nav odds and ends, not a list."""

COLUMN_HEADING_FACTOR = 2.0
"""Score multiplier for the group headed by the page's own column name."""

PAGER_FACTOR = 1.5
"""Score multiplier for the group the pagination bar follows."""

PAGER_SCOPE_LEVELS = 3
"""How far above a group's container its pagination bar may sit."""

LOCAL_FACTOR = 1.3
"""Score multiplier for a group whose entries live in the page's own folder (the column's documents)."""

LOCAL_SHARE = 0.6
"""Share of a group's entries that must be local for LOCAL_FACTOR."""

HEADING_CHARS = 30
"""How much text just before a group is read as its heading."""

MIN_NAME_CHARS, MAX_NAME_CHARS = 2, 20
"""Column names are a few characters long; longer "names" are sentences or article titles."""

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
_CRUMB_TAGS = frozenset({"div", "p", "span", "ul", "ol", "nav", "td"})
_CRUMB_SEPARATORS = re.compile(r"\s*(?:>+|›|»|→|/|\\|＞|-{1,2})\s*")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_TITLE_SEPARATORS = re.compile(r"\s*[_|｜—–-]+\s*|\s{2,}")
_PAGER_TEXT = re.compile(r"下一页|下页|尾页|末页|共\s*\d[\d,]*\s*页|第\s*\d+\s*/\s*\d+\s*页")


@dataclass(frozen=True)
class _Page:
    """Page-wide facts the group scores depend on."""

    tree: Tree
    column_names: tuple[str, ...]
    pager_nodes: tuple[int, ...]


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
    candidates = [members for members in groups.values() if not members[0].url_dated or len(members) >= MIN_URL_DATED]
    if not candidates:
        return MainList((), False)
    shown = [members for members in candidates if not members[0].url_dated]
    page = _Page(tree, column_names(tree), _pager_nodes(tree))
    if not paginated and not has_breadcrumb(tree) and _looks_like_homepage(page, shown):
        everything = [record for members in shown if len(members) > 1 for record in members]
        return MainList(tuple(sorted(everything, key=lambda record: record.element)), True)
    # A widget is never a column's main list: a blank column with a "热点" sidebar has no entries.
    eligible = [members for members in candidates if _headed_by_column(page, members) or not _in_widget(tree, members)]
    if not eligible:
        return MainList((), False)
    best = max(eligible, key=lambda members: _score(page, members))
    return MainList(tuple(best), False)


def column_names(tree: Tree) -> tuple[str, ...]:
    """What the page calls its own column: <meta name="ColumnName">, the last step of its breadcrumb
    trail, the first part of a split <title>."""
    names = [" ".join(tree.meta.get("columnname", "").split()), _last_crumb(tree)]
    parts = [part for part in _TITLE_SEPARATORS.split(tree.title) if part]
    if len(parts) > 1:
        names.append(parts[0])
    return tuple(dict.fromkeys(name for name in names if MIN_NAME_CHARS <= len(name) <= MAX_NAME_CHARS))


def _last_crumb(tree: Tree) -> str:
    """The last step of the breadcrumb trail (首页 > 信息公开 > 通知公告 -> 通知公告), or ""."""
    trail = _breadcrumb(tree)
    if trail < 0:
        return ""
    steps = [step.strip() for step in _CRUMB_SEPARATORS.split(tree.text_of(trail))]
    steps = [step for step in steps if step and not _BREADCRUMB_TEXT.search(step)]
    return steps[-1] if steps else ""


def _breadcrumb(tree: Tree) -> int:
    """The element holding the "you are here" trail, or -1."""
    for index, node in enumerate(tree.nodes):
        if node.tag in _CRUMB_TAGS:
            words = (node.attrs.get("class", "") + " " + node.attrs.get("id", "")).split()
            if any(_BREADCRUMB_CLASS.search(word) for word in words):
                return index
    match = _BREADCRUMB_TEXT.search(tree.page_text)
    if match is None:
        return -1
    text_node = tree.node_at(match.start())
    return tree.nodes[text_node].parent if text_node >= 0 else -1


def _pager_nodes(tree: Tree) -> tuple[int, ...]:
    """Text nodes of pagination bars (下一页, 尾页, 共N页 …), in document order."""
    return tuple(index for index, node in enumerate(tree.nodes) if node.tag == TEXT and _PAGER_TEXT.search(node.text))


def has_breadcrumb(tree: Tree) -> bool:
    """True when the page shows a "you are here" trail: column and article pages do, homepages don't."""
    return _breadcrumb(tree) >= 0


def _looks_like_homepage(page: _Page, groups: list[list[Record]]) -> bool:
    """Several comparable, non-widget dated groups, none dominant, none headed by the page's column."""
    tree = page.tree
    sizable = [members for members in groups if len(members) >= 3 and not _in_widget(tree, members)]
    if len(sizable) < HOMEPAGE_MIN_GROUPS or any(_headed_by_column(page, members) for members in sizable):
        return False
    sizes = [len(members) for members in sizable]
    return max(sizes) <= HOMEPAGE_MAX_SHARE * sum(sizes)


def _headed_by_column(page: _Page, members: list[Record]) -> bool:
    """True when the text just before the group names the page's own column."""
    if not page.column_names:
        return False
    container = _common_ancestor(page.tree, [record.element for record in members])
    heading = _heading_before(page.tree, container, members[0].element)
    return any(name in heading for name in page.column_names)


def _score(page: _Page, members: list[Record]) -> float:
    """How much a group looks like the main list: distinct entries with real titles, headed by the
    column's name and followed by the pager, not in a widget; URL-only dates count less."""
    tree = page.tree
    distinct = len({record.link.href for record in members})
    titled = sum(1 for record in members if len(record.link.title) >= GOOD_TITLE_CHARS) / len(members)
    score = distinct * (0.3 + 0.7 * titled)
    container = _common_ancestor(tree, [record.element for record in members])
    if _headed_by_column(page, members):
        score *= COLUMN_HEADING_FACTOR
    if _pager_follows(page, container, members[-1].element):
        score *= PAGER_FACTOR
    if sum(1 for record in members if _is_local(record.link)) >= LOCAL_SHARE * len(members):
        score *= LOCAL_FACTOR
    return score * URL_DATED_FACTOR if members[0].url_dated else score


def _is_local(link: Link) -> bool:
    """True for a link into the page's own folder (`./202405/t…`, `t…html`): a column's own documents."""
    href = link.href
    if href.startswith(("./", "?")):
        return True
    if href.startswith(("/", "../")) or _SCHEME.match(href):
        return link.url.startswith(link.base.rsplit("/", 1)[0] + "/") if "://" in link.base else False
    return bool(href)


def _pager_follows(page: _Page, container: int, last_record: int) -> bool:
    """True when a pagination bar comes after the group's last entry, near its container."""
    tree = page.tree
    scope = container
    for _ in range(PAGER_SCOPE_LEVELS):
        if tree.nodes[scope].parent >= 0:
            scope = tree.nodes[scope].parent
    after = tree.nodes[last_record].end
    return any(after < node <= tree.nodes[scope].end for node in page.pager_nodes)


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
