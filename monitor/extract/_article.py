"""The publish date of an article page, from its visible label, <meta> tags, its 信息公开 metadata
box or script variables, in that order.

Page-build times (Maketime, 页面生成时间) are never taken for the publish date; document dates
(生成日期, 发文日期, 印发日期, 成文日期) only from a metadata box, after a visible 发布日期 and a PubDate
<meta> (see monitor._metabox); a dateline in the body is the weakest evidence. Attributes other
than <meta content> are never read. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from monitor.extract._dates import find_full_dates, is_future, parse_value_date
from monitor.extract._metabox import box_date
from monitor.extract._tree import TEXT, Tree

LABEL_WINDOW = 24
"""How many characters (whitespace collapsed) before a date are searched for its label."""

LOOKBEHIND_CHARS = 400
"""Raw characters read before a date to find LABEL_WINDOW collapsed ones (table cells pad with tabs)."""

_STRONG_LABEL = re.compile(
    r"(?:发布|公布|公开|公示|发表|发稿|刊发|上线)[\u4e00-\u9fff]{0,4}?(?:日期|时间)[\s:：\]】)）|]*[\[【(（]?\s*$"
)
_BARE_LABEL = re.compile(r"(?<![\u4e00-\u9fff])(?:时间|日期|发布于|更新时间)[\s:：]*[\[【(（]?\s*$")
_META_KEYS = (
    "pubdate",
    "publishdate",
    "publish_date",
    "publishtime",
    "pubtime",
    "firstpublishedtime",
    "article:published_time",
    "og:release_date",
    "dcterms.issued",
    "dc.date.issued",
    "dc.date",
    "releasedate",
)
_BUILD_META_KEYS = ("maketime", "others", "generated", "buildtime")
_BUILD_LABEL = re.compile(r"(?:生成|制作|编译|build)(?:时间|日期|time)?", re.IGNORECASE)
_SCRIPT_PUBDATE = re.compile(
    # An assignment (`var __$pubtime='2012-06-24 00:00:00'`), not a key of inlined list data.
    r"""(?i)(?:pub|publish|release|fabu)_?(?:time|date|day)\w*\s*=\s*["']\s*([^"']{8,30})["']"""
)


BODY_CHARS = 200
"""Running text outside links and lists beyond which a page reads as an article body."""

SENTENCE_CHARS = 20
"""Text nodes shorter than this are labels, menus or dates, not body text."""

TITLE_SCAN_NODES = 60
"""How many nodes after the article's heading are searched for an unlabelled date."""

INFO_LINE_CHARS = 80
"""An article's info line (date, source, author) is short; longer text under the title is body."""

MIN_TITLE_CHARS = 6
"""A heading shorter than this is too common a string to identify the article's title."""


@dataclass(frozen=True)
class ArticleDate:
    """A publish date and how it was found: "label" (visible, labelled), "meta", "box" (a 信息公开
    metadata box's 生成/发文/印发/成文日期), "script" or "bare"."""

    value: date
    source: str


def publish_date(tree: Tree, today: date | None, in_list: Callable[[int], bool]) -> ArticleDate | None:
    """The article's publish date, best evidence first; dates inside list entries are ignored.

    `in_list(node)` tells whether a node belongs to a dated list entry (related-news widgets and
    list pages also show "发布时间：" per entry, which is no article's date).
    """
    build_dates = _build_dates(tree)
    labelled = _labelled_dates(tree, today, in_list)
    strong = [value for value, strength in labelled if strength == "label"]
    if strong:
        return ArticleDate(strong[0], "label")
    meta = _meta_date(tree)
    if meta is not None and meta not in build_dates and not is_future(meta, today):
        return ArticleDate(meta, "meta")
    boxed = box_date(tree, today)
    if boxed is not None:
        return ArticleDate(boxed, "box")
    script = _script_date(tree)
    if script is not None and script not in build_dates and not is_future(script, today):
        return ArticleDate(script, "script")
    bare = [value for value, strength in labelled if strength == "bare"]
    return ArticleDate(bare[0], "bare") if bare else None


def has_article_body(tree: Tree, in_list: Callable[[int], bool]) -> bool:
    """True when the page has paragraphs of running text outside links and list entries."""
    total = 0
    for index, node in enumerate(tree.nodes):
        if node.tag != TEXT or len(node.text.strip()) < SENTENCE_CHARS:
            continue
        if _inside_link(tree, index) or in_list(index):
            continue
        total += len(node.text.strip())
        if total >= BODY_CHARS:
            return True
    return False


def heading_date(tree: Tree, today: date | None, linked: frozenset[int] = frozenset()) -> ArticleDate | None:
    """An unlabelled date shown just under the article's heading: `<h1>标题</h1><span>2021-01-05</span>`
    or an info line `2021-01-05 来源：本站`; body sentences are too long to count.

    The weakest evidence of all, asked for only when a page has nothing else to show. Dates shown
    by elements in `linked` belong to a link beside the title (a related article), not to the page.
    """
    title = " ".join(tree.meta.get("articletitle", "").split()) or tree.title
    if len(title) < MIN_TITLE_CHARS:
        return None
    headings = (
        index
        for index, node in enumerate(tree.nodes)
        if node.tag == TEXT and _is_heading(node.text, title) and not _inside_link(tree, index)
    )
    heading = next(headings, -1)
    if heading < 0:
        return None
    for index in range(heading + 1, min(len(tree.nodes), heading + TITLE_SCAN_NODES)):
        node = tree.nodes[index]
        shown = " ".join(node.text.split()) if node.tag == TEXT and node.parent not in linked else ""
        dates = find_full_dates(shown) if len(shown) <= INFO_LINE_CHARS else []
        if dates and not is_future(dates[0].value, today):
            return ArticleDate(dates[0].value, "bare")
    return None


def _inside_link(tree: Tree, index: int) -> bool:
    """True for text shown in a link (a breadcrumb or menu entry naming the page is no heading)."""
    return any(tree.nodes[parent].tag == "a" for parent in tree.ancestors(index))


def _is_heading(text: str, title: str) -> bool:
    """True for a text node that is the article's title (the page <title> often adds the site name)."""
    shown = " ".join(text.split())
    return len(shown) >= MIN_TITLE_CHARS and (shown == title or title.startswith(shown))


def _labelled_dates(tree: Tree, today: date | None, in_list: Callable[[int], bool]) -> list[tuple[date, str]]:
    """Visible dates with a publish label just before them, in page order, with the label's strength."""
    text = tree.page_text
    labelled = []
    for candidate in find_full_dates(text):
        before = " ".join(text[max(0, candidate.start - LOOKBEHIND_CHARS) : candidate.start].split())
        before = before[-LABEL_WINDOW:] + (" " if text[candidate.start - 1 : candidate.start].isspace() else "")
        strength = "label" if _STRONG_LABEL.search(before) else "bare" if _BARE_LABEL.search(before) else ""
        if strength and not is_future(candidate.value, today):
            labelled.append((candidate, strength))
    return [
        (candidate.value, strength)
        for candidate, strength in labelled
        if (node := tree.node_at(candidate.start)) >= 0 and not in_list(node)
    ]


def _meta_date(tree: Tree) -> date | None:
    """The first publish-date <meta> that parses."""
    for key in _META_KEYS:
        value = parse_value_date(tree.meta.get(key, ""))
        if value is not None:
            return value
    return None


def _script_date(tree: Tree) -> date | None:
    """A `pubtime = '…'`-style variable in the page scripts (cmse.gov.cn-like templates)."""
    for script in tree.scripts:
        match = _SCRIPT_PUBDATE.search(script)
        if match:
            value = parse_value_date(match.group(1))
            if value is not None:
                return value
    return None


def _build_dates(tree: Tree) -> set[date]:
    """Dates the page states as its build/generation time: never a publish date."""
    found: set[date] = set()
    for key in _BUILD_META_KEYS:
        content = tree.meta.get(key, "")
        if key == "others" and not _BUILD_LABEL.search(content):
            continue
        found.update(candidate.value for candidate in find_full_dates(content))
    return found
