"""The column links of a government-information-disclosure catalogue (信息公开目录) page.

The catalogue nav is a run of links named like the columns every disclosure catalogue has by
regulation (机构职能, 政策文件, 规划计划, 财政信息, 公开指南, 公开年报, 依申请公开 …): the best such
repeated run, grown to the enclosing block as long as what it takes in is catalogue too. Site
menus and directories of other units' catalogues (市教育局, 市财政局 …) stay out. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from monitor.extract._dates import url_date
from monitor.extract._links import Link, PageLinks
from monitor.extract._records import Signatures
from monitor.extract._tree import Tree

MIN_COLUMNS = 5
"""A catalogue nav names at least this many disclosure columns."""

MIN_RUN_LINKS = 3
"""A run of links shorter than this is not a nav block."""

MIN_HIT_SHARE = 0.5
"""At least this share of a run's links must read as disclosure columns."""

GROW_HIT_SHARE = 0.75
"""The block grows into its parent only if this share of the links it takes in are columns too."""

MAX_GROW = 8
"""How many ancestors the block may grow by."""

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
    """The disclosure-catalogue nav of the page, or None when there is none.

    `documents` are the links of dated list entries: documents, never columns, whatever their titles.
    """
    usable = [index for index in links.usable() if index not in documents]
    hits = frozenset(index for index in usable if _is_column_link(links, index))
    run = _best_run(tree, usable, hits)
    if run is None:
        return None
    block = _grow(tree, usable, hits, run)
    inside = [index for index in usable if tree.contains(block, index)]
    if sum(1 for index in inside if index in hits) < MIN_COLUMNS:
        return None
    return Catalogue(_distinct(links, inside))


def _is_column_link(links: PageLinks, index: int) -> bool:
    """A short link named like a disclosure column and not pointing at a dated document."""
    link = links.link(index)
    if link is None or url_date(link.href) is not None:
        return False
    name = "".join(link.title.split())
    return len(name) <= MAX_NAME_CHARS and _COLUMN_WORDS.search(name) is not None


def _best_run(tree: Tree, usable: list[int], hits: frozenset[int]) -> list[int] | None:
    """The run of same-structure links (same tag path) with the most column names."""
    signature = Signatures(tree)
    runs: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index in usable:
        runs[signature(index)].append(index)
    best: list[int] | None = None
    best_hits = 0
    for run in runs.values():
        run_hits = sum(1 for index in run if index in hits)
        if len(run) >= MIN_RUN_LINKS and run_hits >= MIN_HIT_SHARE * len(run) and run_hits > best_hits:
            best, best_hits = run, run_hits
    return best


def _grow(tree: Tree, usable: list[int], hits: frozenset[int], run: list[int]) -> int:
    """The run's block: its common ancestor, grown while each step takes in mostly column links."""
    block = run[0]
    while block > 0 and not all(tree.contains(block, index) for index in run):
        block = tree.nodes[block].parent
    for _ in range(MAX_GROW):
        parent = tree.nodes[block].parent
        if parent < 0:
            break
        added = [i for i in usable if tree.contains(parent, i) and not tree.contains(block, i)]
        if added and sum(1 for index in added if index in hits) < GROW_HIT_SHARE * len(added):
            break
        block = parent
    return block


def _distinct(links: PageLinks, indexes: list[int]) -> tuple[Link, ...]:
    """The links, first of each target, in page order."""
    seen: set[str] = set()
    columns = []
    for index in indexes:
        link = links.link(index)
        if link is not None and link.href not in seen:
            seen.add(link.href)
            columns.append(link)
    return tuple(columns)
