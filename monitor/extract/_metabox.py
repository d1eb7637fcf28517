"""The dates of a 信息公开 metadata box: 索引号 / 发布机构 / 生成日期 / 发文日期 … above an article's body.

Provincial 集约化 platforms show each disclosed document under a box of labelled fields. Its dates
rank, for freshness, after a visible 发布日期 and a `<meta name="PubDate">` (both read elsewhere):
生成日期 (the day the disclosure record was made), 发文日期 (issued), 印发日期 (printed and sent),
成文日期 (signed — the document's own date, usually repeated as a dateline in the body). A date
with one of these labels counts only inside a box, next to its other fields: a body sentence
saying "成文日期" is no metadata. Pure, no I/O.
"""

from __future__ import annotations

import re
from datetime import date

from monitor.extract._dates import find_full_dates, is_future
from monitor.extract._tree import Tree

BOX_LABELS = ("生成日期", "发文日期", "印发日期", "成文日期")
"""Box date labels, strongest first (see the module docstring and docs/extraction.md)."""

LABEL_CHARS = 16
"""How many characters (whitespace dropped) before a date are searched for its label."""

BOX_REACH = 400
"""How far (raw characters) from the date the box's other fields must be."""

MIN_FIELDS = 2
"""A metadata box shows at least this many distinct other fields (索引号, 发布机构, 公开方式 …)."""

MAX_REPEATS = 2
"""One document's box shows a label once (a print view may repeat it); a list shows it per row."""

_LABEL = re.compile(r"(生成|发文|印发|成文)日期[:：]?$")
_FIELDS = re.compile(
    r"索引号|发布机构|发文机关|发文字号|文号|公开方式|公开范围|公开时限|主题分类|信息分类|分类|所属机构|有效性"
)
_SPACE = re.compile(r"\s+")


def box_date(tree: Tree, today: date | None) -> date | None:
    """The strongest labelled date of the page's metadata box, or None when there is no box.

    A label shown more than MAX_REPEATS times labels the rows of a list, not one document's box.
    """
    text = tree.page_text
    found: dict[int, list[date]] = {}
    for candidate in find_full_dates(text):
        before = _SPACE.sub("", text[max(0, candidate.start - LABEL_CHARS * 8) : candidate.start])[-LABEL_CHARS:]
        match = _LABEL.search(before)
        if match is not None and not is_future(candidate.value, today) and _in_box(text, candidate.start):
            found.setdefault(BOX_LABELS.index(match.group(1) + "日期"), []).append(candidate.value)
    for rank in sorted(found):
        if len(found[rank]) <= MAX_REPEATS:
            return found[rank][0]
    return None


def _in_box(text: str, at: int) -> bool:
    """True when other metadata fields are shown around position `at`."""
    around = _SPACE.sub("", text[max(0, at - BOX_REACH) : at + BOX_REACH])
    return len(set(_FIELDS.findall(around))) >= MIN_FIELDS
