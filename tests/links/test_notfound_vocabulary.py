"""One not-found vocabulary: the page checks (a configured page answering "页面不存在" with 200 is
down) and the link checker (a soft-404 link) judge the same titles the same way."""

from __future__ import annotations

import pytest

from monitor.extract import body_mentions_not_found, title_says_not_found
from monitor.links._soft404 import says_not_found
from monitor.models import ErrorKind, Page
from tests.check.test_check import answer, check

TITLES = [
    ("404", True),
    ("404 Not Found", True),
    ("Error 404 - Not Found", True),
    ("页面不存在", True),
    ("错误404", True),
    ("404错误_某某局", True),
    ("404 错误", True),
    ("抱歉，找不到您访问的页面", True),
    ("提示：信息不存在", True),
    ("关于第404期的通知", False),
    ("中华人民共和国国务院令第404号", False),
    ("栏目404", False),
    ("页面 404", False),
    ("2404号文件", False),
    ("工作动态", False),
]


@pytest.mark.parametrize(("title", "not_found"), TITLES)
def test_page_checks_and_link_checks_read_a_title_alike(title: str, not_found: bool) -> None:
    body = f"<html><head><title>{title}</title></head><body><p>内容</p></body></html>".encode()
    outcome, _ = check(answer(body), page=Page("s", "p", "http://x/"))
    assert title_says_not_found(title) is not_found
    assert (outcome.error_kind is ErrorKind.CONTENT) is not_found
    assert says_not_found(body, "text/html; charset=utf-8") is not_found


def test_body_phrases_are_found_in_utf8_and_gb18030() -> None:
    for encoding in ("utf-8", "gb18030"):
        assert body_mentions_not_found("<p>抱歉，您访问的页面不存在</p>".encode(encoding))
    assert body_mentions_not_found(b"<p>Page NOT FOUND</p>")
    assert not body_mentions_not_found("<p>关于做好防汛工作的通知</p>".encode())
