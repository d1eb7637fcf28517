"""monitor.links harvest: every link-bearing element, resolved and cleaned, skips with reasons, large pages."""

from __future__ import annotations

import time

import pytest

from monitor.links import SkipReason, harvest
from monitor.links._harvest import MAX_TEXT_CHARS, absolute_url

PAGE = "http://www.example.gov.cn/col/list.html"


def _one(markup: str) -> tuple[str, str, str, str]:
    page = harvest(f"<html><body>{markup}</body></html>".encode(), PAGE)
    assert len(page.links) == 1, page
    found = page.links[0]
    return found.url, found.element, found.attribute, found.text


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<a href="a.html">政策 <b>解读</b></a>', ("http://www.example.gov.cn/col/a.html", "a", "href", "政策 解读")),
        ('<area href="/map.html" alt="地图">', ("http://www.example.gov.cn/map.html", "area", "href", "地图")),
        ('<img src="/i/logo.png" alt="徽标">', ("http://www.example.gov.cn/i/logo.png", "img", "src", "徽标")),
        ('<link rel="stylesheet" href="/s.css">', ("http://www.example.gov.cn/s.css", "link", "href", "")),
        ('<script src="//cdn.example.com/j.js"></script>', ("http://cdn.example.com/j.js", "script", "src", "")),
        ('<iframe src="https://map.example.com/x"></iframe>', ("https://map.example.com/x", "iframe", "src", "")),
        ('<embed src="v.swf">', ("http://www.example.gov.cn/col/v.swf", "embed", "src", "")),
        ('<object data="../doc.pdf"></object>', ("http://www.example.gov.cn/doc.pdf", "object", "data", "")),
        ('<img srcset="s1.jpg 1x, s2.jpg 2x" alt="s">', ("http://www.example.gov.cn/col/s1.jpg", "img", "srcset", "s")),
        (
            '<a href="x.html"><img src="" alt="图片链接"></a>',
            ("http://www.example.gov.cn/col/x.html", "a", "href", "图片链接"),
        ),
        ('<a href="x.html" title="标题"> </a>', ("http://www.example.gov.cn/col/x.html", "a", "href", "标题")),
    ],
)
def test_every_link_element_and_attribute_is_harvested(markup: str, expected: tuple[str, str, str, str]) -> None:
    assert _one(markup) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://user:secret@www.example.gov.cn/a", "http://www.example.gov.cn/a"),
        ("HTTP://WWW.Example.GOV.cn:80/a#top", "http://www.example.gov.cn/a"),
        ("https://x.example.com:443", "https://x.example.com/"),
        ("https://x.example.com:8443/p?q=1#f", "https://x.example.com:8443/p?q=1"),
        ("?page=2", "http://www.example.gov.cn/col/list.html?page=2"),
        ("./sub/../b.html", "http://www.example.gov.cn/col/b.html"),
        ("  /a\n/b.html ", "http://www.example.gov.cn/a/b.html"),
        ("javascript:void(0)", SkipReason.JAVASCRIPT),
        ("JavaScript:openWin('x')", SkipReason.JAVASCRIPT),
        ("mailto:office@example.gov.cn", SkipReason.MAILTO),
        ("tel:12345", SkipReason.TEL),
        ("data:image/png;base64,AAAA", SkipReason.DATA),
        ("#top", SkipReason.FRAGMENT),
        ("   ", SkipReason.EMPTY),
        ("ftp://files.example.gov.cn/x", SkipReason.SCHEME),
        ("http://[::1", SkipReason.MALFORMED),
        ("http://host:99999/", SkipReason.MALFORMED),
        ("http://", SkipReason.MALFORMED),
        ("http:///nohost", SkipReason.MALFORMED),
        ("http://a b/", SkipReason.MALFORMED),
        ("http://a\x01b/", SkipReason.MALFORMED),
    ],
)
def test_urls_are_resolved_cleaned_or_skipped_with_a_reason(raw: str, expected: str | SkipReason) -> None:
    assert absolute_url(PAGE, raw) == expected
    page = harvest(f'<a href="{raw}">x</a>'.encode(), PAGE)
    if isinstance(expected, SkipReason):
        assert [s.reason for s in page.skipped] == [expected] and not page.links
    else:
        assert [link.url for link in page.links] == [expected] and not page.skipped


def test_no_stored_url_or_raw_value_keeps_a_password() -> None:
    page = harvest(b'<a href="http://admin:pw123@example.gov.cn/x">x</a><img src="ftp://u:pw123@h/x">', PAGE)
    assert "pw123" not in page.links[0].url
    assert page.skipped[0].reason is SkipReason.SCHEME
    assert page.skipped[0].raw == "ftp://h/x"
    assert all("pw123" not in link.url for link in page.links)


def test_base_href_is_the_base_and_the_title_is_kept() -> None:
    page = harvest(b'<head><title> T </title><base href="http://other.example.com/d/"></head><a href="x">x</a>', PAGE)
    assert page.title == "T"
    assert page.links[0].url == "http://other.example.com/d/x"


def test_gbk_page_is_decoded_like_the_fetcher_does() -> None:
    body = '<meta charset="gbk"><a href="/a.html">通知公告</a>'.encode("gbk")
    assert harvest(body, PAGE).links[0].text == "通知公告"


def test_anchor_text_is_bounded() -> None:
    assert len(_one(f'<a href="a.html">{"长" * 5000}</a>')[3]) == MAX_TEXT_CHARS


def test_duplicates_stay_in_document_order() -> None:
    page = harvest(b'<a href="/a">1</a><img src="/b"><a href="/a">2</a>', PAGE)
    assert [(link.url.rsplit("/", 1)[1], link.text) for link in page.links] == [("a", "1"), ("b", ""), ("a", "2")]


def test_ten_thousand_links_on_one_page_take_linear_time() -> None:
    def timed(count: int) -> float:
        anchors = "".join(f'<a href="/p/{i}.html">链接 {i}</a><a href="javascript:f({i})">j</a>' for i in range(count))
        started = time.process_time()
        page = harvest(f"<html><body>{anchors}</body></html>".encode(), PAGE)
        assert len(page.links) == count and len(page.skipped) == count
        return time.process_time() - started

    small, large = timed(1000), timed(10_000)
    assert large < 3.0
    assert large < 30 * max(small, 0.005)  # linear: 10x the links cost ~10x, never ~100x
