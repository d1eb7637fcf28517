"""How many pages a column list has, from its pagination: scripts (createPageHTML, countPage) or text (共N页).

Pure, no I/O.
"""

from __future__ import annotations

import re

from monitor.extract._tree import Tree

MAX_PAGES = 1_000_000
"""A page count above this is a record count or an id, not pages."""

_PAGER_CALL = re.compile(r"createPageHTML\s*\(\s*(?:['\"][^'\"]*['\"]\s*,\s*)?['\"]?(\w+)")
"""TRS: createPageHTML(12, 0, "index", "html") or createPageHTML('page', 12, …); also its definition."""

_PAGE_VARIABLE = re.compile(
    r"\b(?:countPage|totalPage|totalPages|pageCount|page_count|totalpage|pagecount|maxPage)\s*[=:]\s*['\"]?(\w+)"
)
_PAGING_HINT = re.compile(r"(?i)page|totalrecord")
"""Scripts without these letters cannot hold a page count; skipping them keeps this cheap."""
_TOTAL_RECORDS = re.compile(r"\btotalRecord\s*[=:]\s*['\"]?(\d+)", re.IGNORECASE)
_PER_PAGE = re.compile(r"\bperPage\s*[=:]\s*['\"]?(\d+)", re.IGNORECASE)
_TEXT_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"共\s*计?\s*(\d[\d,，]*)\s*页"),
    re.compile(r"(?:第|页次[:：]?)\s*\d+\s*/\s*(\d[\d,，]*)\s*页?"),
    re.compile(r"\b\d+\s*/\s*(\d[\d,，]*)\s*页"),
)


def pages_total(tree: Tree) -> int | None:
    """The list's number of pages, or None when the page shows no pagination."""
    if "页" in tree.page_text:
        for pattern in _TEXT_PATTERNS:
            for match in pattern.finditer(tree.page_text):
                value = _number(match.group(1))
                if value is not None:
                    return value
    for source in tree.scripts:
        value = _script_pages(source) if _PAGING_HINT.search(source) else None
        if value is not None:
            return value
    return None


def _record_pages(source: str) -> int | None:
    """Pages from a record count and a page size (Hanweb jpage: `totalRecord: 58, perPage: 15`)."""
    total = _TOTAL_RECORDS.search(source)
    size = _PER_PAGE.search(source)
    if total is None or size is None or int(size.group(1)) == 0:
        return None
    return _number(str(-(-int(total.group(1)) // int(size.group(1)))))


def _script_pages(source: str) -> int | None:
    """Pages from a pager call, else from the first assignment of a page-count variable.

    Only the first assignment counts: later ones sit in branches (`if (totalPage == 1) totalPage = 1`).
    """
    for match in _PAGER_CALL.finditer(source):
        value = _number(match.group(1))
        if value is not None:
            return value
    assignment = _PAGE_VARIABLE.search(source)
    value = _number(assignment.group(1)) if assignment else None
    return value if value is not None else _record_pages(source)


def _number(digits: str) -> int | None:
    """A page count written with optional thousands separators (1,227); None for anything else."""
    plain = digits.replace(",", "").replace("，", "")
    if not plain.isdigit():
        return None
    value = int(plain)
    return value if 0 < value <= MAX_PAGES else None
