"""Column freshness: a pure function of (newest dated item, category rule, today).

Categories and windows follow docs/architecture.md (news 14 d, notice/policy 180 d, personnel/plan 365 d,
custom, static). Undated items never make a column fresh; an unreadable list is never called
blank or stale — it is its own state. No I/O, no clock: `today` is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from monitor.models import Category, ContentFacts, Page, PageKind

WINDOW_DAYS: dict[Category, int] = {
    Category.NEWS: 14,
    Category.NOTICE: 180,
    Category.POLICY: 180,
    Category.PERSONNEL: 365,
    Category.PLAN: 365,
}
"""Staleness windows of the national rules (国办秘函〔2019〕19号)."""

OTHER_COLUMN_DAYS = 365
"""Columns whose name fits no category: 'should be updated' columns, stale after a year."""

KEY_CATEGORIES = frozenset({Category.NEWS, Category.NOTICE, Category.POLICY})
"""Categories counted by rule V3's first threshold (stale news + notice/policy columns)."""

_GUESSES: tuple[tuple[re.Pattern[str], Category], ...] = (
    (re.compile(r"概况|简介|职能|职责|领导|机构设置|组织机构|联系方式|办公地址|内设机构"), Category.STATIC),
    (re.compile(r"人事|任免|招聘|录用|招考"), Category.PERSONNEL),
    (re.compile(r"规划|计划|总结"), Category.PLAN),
    (re.compile(r"政策|文件|法规|规章|规范性|解读"), Category.POLICY),
    (re.compile(r"通知|公告|公示|通告"), Category.NOTICE),
    (re.compile(r"动态|要闻|新闻|资讯|工作信息|头条|快讯"), Category.NEWS),
)


@dataclass(frozen=True)
class Rule:
    """How a column is judged: its category and the window in days (None = never stale)."""

    category: Category
    window_days: int | None


@dataclass(frozen=True)
class Freshness:
    """Verdict for one column at one moment."""

    rule: Rule
    newest: date | None
    age_days: int | None
    item_count: int | None
    stale: bool
    blank: bool
    unreadable: bool
    checked: bool


def guess_category(name: str) -> Category | None:
    """Category from a column name (政策文件 -> policy ...); None when nothing matches."""
    for pattern, category in _GUESSES:
        if pattern.search(name):
            return category
    return None


def rule_for(category: Category | None, stale_days: int | None, name: str = "") -> Rule:
    """The rule for a column: configured category/days win, else guessed from the name."""
    chosen = category or guess_category(name)
    if chosen is Category.STATIC:
        return Rule(Category.STATIC, None)
    if stale_days is not None:
        return Rule(chosen or Category.CUSTOM, stale_days)
    if chosen is None or chosen is Category.CUSTOM:
        return Rule(Category.CUSTOM, OTHER_COLUMN_DAYS)
    return Rule(chosen, WINDOW_DAYS[chosen])


def page_rule(page: Page) -> Rule:
    """The rule for any monitored page: the homepage follows V2's two weeks, a catalogue is never stale."""
    unset = page.category is None and page.stale_days is None
    if page.kind is PageKind.HOMEPAGE and unset:
        return Rule(Category.NEWS, WINDOW_DAYS[Category.NEWS])
    if page.kind is PageKind.CATALOGUE and unset:
        return Rule(Category.STATIC, None)
    return rule_for(page.category, page.stale_days, page.name)


def page_freshness(page: Page, content: ContentFacts, today: date, rule: Rule | None = None) -> Freshness:
    """A page's verdict from its latest content facts; `rule`: `page_rule(page)`, when the caller
    knows it already (the same few rules serve a shard's 20,000 columns)."""
    return evaluate(
        page_rule(page) if rule is None else rule,
        newest=content.newest,
        item_count=content.item_count,
        readable=content.readable,
        today=today,
    )


def evaluate(
    rule: Rule,
    *,
    newest: date | None,
    item_count: int | None,
    readable: bool | None,
    today: date,
) -> Freshness:
    """Judge a column. `readable` None means it was never checked successfully."""
    checked = readable is not None
    unreadable = readable is False
    blank = bool(readable) and item_count == 0
    age = (today - newest).days if newest else None
    stale = readable is True and not blank and rule.window_days is not None and (age is None or age > rule.window_days)
    return Freshness(rule, newest, age, item_count, stale, blank, unreadable, checked)
