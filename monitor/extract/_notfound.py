"""What a "page not found" page says: one vocabulary for the page checks and the link checker.

A title naming the error ("404", "404 Not Found", "错误 404", "页面不存在") or, on a short page, the
same phrases in the body. "国务院令第404号" and "栏目404" are not errors. Pure: no I/O.
"""

from __future__ import annotations

import re

NOT_FOUND_PHRASES = (
    *("页面不存在", "页面未找到", "找不到页面", "找不到该页面", "找不到您要的页面", "找不到您访问的页面"),
    *("您访问的页面不存在", "您所访问的页面不存在", "无法找到该页", "无法找到页面"),
    *("信息不存在", "文章不存在", "内容不存在", "已被删除", "页面已删除"),
    *("page not found", "not found", "no longer available", "does not exist"),
)
_TITLE_404 = r"^\W*404\b|\b404\s*(?:错误|页面|error|not|page)|(?:错误|error|http)\s*(?:代码)?\W*404\b"
"""A 404 the title presents as an error: "404", "404 Not Found", "错误 404" — not "国务院令第404号"."""
_TITLE_SIGNAL = re.compile("|".join([_TITLE_404, *map(re.escape, NOT_FOUND_PHRASES)]), re.IGNORECASE)
_BODY_SIGNAL = re.compile(
    b"|".join(re.escape(p.lower().encode(c)) for p in NOT_FOUND_PHRASES for c in ("utf-8", "gb18030"))
)
"""The phrases as UTF-8 and GB18030 bytes, searched in the lower-cased raw body: no decoding, and a
case-sensitive alternation of literals is ten times faster than an IGNORECASE one."""


def title_says_not_found(title: str) -> bool:
    """True when a page title says the page does not exist."""
    return bool(_TITLE_SIGNAL.search(title))


def body_mentions_not_found(body: bytes) -> bool:
    """True when the raw body (UTF-8 or GB18030) contains a not-found phrase; the caller weighs it."""
    return bool(_BODY_SIGNAL.search(body.lower()))
