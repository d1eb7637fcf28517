"""The column links of a government-information-disclosure catalogue (信息公开目录) page.

The catalogue nav is the block of links whose names are the columns every disclosure catalogue
has by regulation (机构职能, 政策文件, 规划计划, 财政信息, 公开指南, 公开年报, 依申请公开 …); directories
of other units' catalogues (市教育局, 市财政局 …) and site menus score lower. Pure, no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from monitor._dates import url_date
from monitor._links import Link, PageLinks
from monitor._tree import Tree

MIN_COLUMNS = 5
"""A catalogue nav names at least this many disclosure columns."""

MIN_HIT_SHARE = 0.5
"""At least this share of the block's links must read as disclosure columns."""

MISS_WEIGHT = 0.5
"""How much a link that is not a disclosure column costs a candidate block."""

MAX_NAME_CHARS = 14
"""Column names are short (机构职能, 政府信息公开年报); longer link texts are document titles."""

_COLUMN_WORDS = re.compile(
    r"信息公开|公开指南|公开制度|公开年报|年度报告|依申请|主动公开|法定|机构|职能|职责|领导|分工|法规|规章|"
    r"规范性文件|政策|文件|解读|规划|计划|统计|财政|预算|决算|财务|收费|采购|招标|人事|任免|招录|招聘|录用|"
    r"许可|处罚|强制|审批|执法|权责|清单|双随机|重大|建设项目|公益|公共资源|重点领域|应急|安全生产|"
    r"建议|提案|公告|通知|公示|工作动态|年报|指南|制度|目录"
)


@dataclass(frozen=True)
class Catalogue:
    """The catalogue nav's distinct column links, in page order."""

    columns: tuple[Link, ...]


def find_catalogue(tree: Tree, links: PageLinks, documents: frozenset[int]) -> Catalogue | None:
    """The disclosure-catalogue nav block of the page, or None when there is none.

    `documents` are the links of dated list entries: documents, never columns, whatever their titles.
    """
    usable = links.usable()
    hits = [index for index in usable if index not in documents and _is_column_link(links, index)]
    best, best_score = -1, 0.0
    for element, node in enumerate(tree.nodes):
        if node.tag == "#text":
            continue
        total = _count_in(usable, element, node.end)
        if total < MIN_COLUMNS:
            continue
        hit = _count_in(hits, element, node.end)
        score = hit - MISS_WEIGHT * (total - hit)
        if hit >= MIN_COLUMNS and hit >= MIN_HIT_SHARE * total and score > best_score:
            best, best_score = element, score
    if best < 0:
        return None
    return Catalogue(_distinct(links, usable, best, tree.nodes[best].end))


def _is_column_link(links: PageLinks, index: int) -> bool:
    """A short link named like a disclosure column and not pointing at a dated document."""
    link = links.link(index)
    if link is None or url_date(link.href) is not None:
        return False
    name = "".join(link.title.split())
    return len(name) <= MAX_NAME_CHARS and _COLUMN_WORDS.search(name) is not None


def _count_in(indexes: list[int], start: int, end: int) -> int:
    return bisect_right(indexes, end) - bisect_left(indexes, start)


def _distinct(links: PageLinks, usable: list[int], start: int, end: int) -> tuple[Link, ...]:
    """The block's links, first of each URL, in page order."""
    seen: set[str] = set()
    columns = []
    for index in usable[bisect_left(usable, start) : bisect_right(usable, end)]:
        link = links.link(index)
        if link is not None and link.url not in seen:
            seen.add(link.url)
            columns.append(link)
    return tuple(columns)
