"""freshness.py: category guesses, windows, stale/blank/unreadable verdicts."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.models import Category, Page, PageKind
from monitor.rules._freshness import Rule, evaluate, guess_category, page_rule, rule_for

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("工作动态", Category.NEWS),
        ("交通要闻", Category.NEWS),
        ("新闻发布", Category.NEWS),
        ("通知公告", Category.NOTICE),
        ("公示公告", Category.NOTICE),
        ("政策文件", Category.POLICY),
        ("法规规章", Category.POLICY),
        ("政策解读", Category.POLICY),
        ("人事信息", Category.PERSONNEL),
        ("干部任免", Category.PERSONNEL),
        ("规划计划", Category.PLAN),
        ("发展规划", Category.PLAN),
        ("机构概况", Category.STATIC),
        ("领导信息", Category.STATIC),
        ("机构职能", Category.STATIC),
        ("财政资金", None),
        ("", None),
    ],
)
def test_guess_category(name: str, category: Category | None) -> None:
    assert guess_category(name) is category


@pytest.mark.parametrize(
    ("category", "days", "name", "rule"),
    [
        (None, None, "工作动态", Rule(Category.NEWS, 14)),
        (Category.NOTICE, None, "x", Rule(Category.NOTICE, 180)),
        (Category.POLICY, None, "x", Rule(Category.POLICY, 180)),
        (None, None, "人事", Rule(Category.PERSONNEL, 365)),
        (Category.PLAN, None, "x", Rule(Category.PLAN, 365)),
        (Category.CUSTOM, 30, "x", Rule(Category.CUSTOM, 30)),
        (None, None, "财政资金", Rule(Category.CUSTOM, 365)),
        (Category.STATIC, 5, "x", Rule(Category.STATIC, None)),
        (None, None, "机构概况", Rule(Category.STATIC, None)),
        (Category.NEWS, 7, "x", Rule(Category.NEWS, 7)),
    ],
)
def test_rules(category: Category | None, days: int | None, name: str, rule: Rule) -> None:
    assert rule_for(category, days, name) == rule


def test_homepage_follows_v2_and_catalogue_is_never_stale() -> None:
    assert page_rule(Page("s", "home", "http://x/", PageKind.HOMEPAGE)) == Rule(Category.NEWS, 14)
    assert page_rule(Page("s", "cat", "http://x/", PageKind.CATALOGUE)) == Rule(Category.STATIC, None)


NEWS = Rule(Category.NEWS, 14)


@pytest.mark.parametrize(
    ("newest", "count", "readable", "stale", "blank", "unreadable"),
    [
        (date(2026, 11, 13), 10, True, False, False, False),  # 14 days: still fresh
        (date(2026, 11, 12), 10, True, True, False, False),  # 15 days: stale
        (None, 10, True, True, False, False),  # undated items never make a column fresh
        (None, 0, True, False, True, False),  # blank, not stale
        (None, None, False, False, False, True),  # unreadable is never blank or stale
        (None, None, None, False, False, False),  # never checked: nothing known
    ],
)
def test_verdicts(
    newest: date | None, count: int | None, readable: bool | None, stale: bool, blank: bool, unreadable: bool
) -> None:
    f = evaluate(NEWS, newest=newest, item_count=count, readable=readable, today=TODAY)
    assert (f.stale, f.blank, f.unreadable) == (stale, blank, unreadable)


def test_static_is_never_stale() -> None:
    f = evaluate(Rule(Category.STATIC, None), newest=date(2001, 1, 1), item_count=3, readable=True, today=TODAY)
    assert not f.stale and f.age_days == (TODAY - date(2001, 1, 1)).days
