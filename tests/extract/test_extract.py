"""monitor.extract: page kind, main list items, publish dates, columns, pagination.

Three layers: table-driven unit cases on small pages (date formats and traps), golden files
(tests/extract/golden: real corpus pages and hand-written pages in other layouts, HTML/JSON in, JSON out,
compared exactly — regenerate with `python3 tests/extract/update_golden.py` (UPDATE_GOLDEN=1) and review
the diff), and robustness (never raises, property test on fuzzed HTML).
"""

from __future__ import annotations

import csv
import json
import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.extract._extract import extract, extract_document
from monitor.models import Extraction, ExtractKind, PageKind
from tests.support.paths import corpus_pages_dir

GOLDEN = Path(__file__).parent / "golden"
CORPUS_TODAY = date(2026, 11, 27)
SYNTHETIC_TODAY = date(2024, 1, 5)
BASE = "https://portal.example.gov.cn/col/list/"


def list_page(rows: str, head: str = "", title: str = "通知公告_某某局") -> str:
    """A column page around `rows` (the <li> entries), with a nav menu and a footer year."""
    nav = "".join(f'<li><a href="/c{i}/">栏目{i}</a></li>' for i in range(12))
    return f"""<html><head><meta charset="utf-8"><title>{title}</title>{head}</head><body>
<ul class="nav">{nav}</ul><div class="crumb">当前位置：<a href="/">首页</a> &gt; 通知公告</div>
<ul class="list">{rows}</ul>
<div class="footer">Copyright © 2008-2024 某某局 版权所有</div></body></html>"""


def dates_of(result: Extraction) -> list[str | None]:
    return [item.date.isoformat() if item.date else None for item in result.items]


TITLES = ("关于开展安全生产大检查的通知", "市局召开年度工作总结会议", "关于公布示范线路名单的公告")


def rows_with(
    shown: list[str], template: str = '<li><a href="./a{i}.html">{title}</a><span>{shown}</span></li>'
) -> str:
    return "".join(template.format(i=i, title=TITLES[i], shown=text) for i, text in enumerate(shown))


# ---------------------------------------------------------------------------------------- dates

DATE_FORMATS = [
    ("iso", ["2018-12-24", "2018-11-02", "2018-01-05"], ["2018-12-24", "2018-11-02", "2018-01-05"]),
    (
        "square-brackets",
        ["[2018-12-24]", "[2018-11-02]", "[2018-01-05]"],
        ["2018-12-24", "2018-11-02", "2018-01-05"],
    ),
    (
        "parentheses",
        ["(2018-12-24)", "(2018-11-02)", "(2018-01-05)"],
        ["2018-12-24", "2018-11-02", "2018-01-05"],
    ),
    (
        "chinese",
        ["2018年12月24日", "2018年11月2日", "2018年1月5日"],
        ["2018-12-24", "2018-11-02", "2018-01-05"],
    ),
    ("slashes", ["2018/12/24", "2018/11/02", "2018/01/05"], ["2018-12-24", "2018-11-02", "2018-01-05"]),
    ("dots", ["2018.12.24", "2018.11.02", "2018.01.05"], ["2018-12-24", "2018-11-02", "2018-01-05"]),
    (
        "with-time",
        ["2018-12-24 10:30:00", "2018-11-02 08:00", "2018-01-05 17:45"],
        ["2018-12-24", "2018-11-02", "2018-01-05"],
    ),
    (
        "labelled",
        ["发布时间：2018-12-24", "发布时间：2018-11-02", "发布时间：2018-01-05"],
        ["2018-12-24", "2018-11-02", "2018-01-05"],
    ),
    (
        "full-width",
        ["２０１８－１２－２４", "２０１８－１１－０２", "２０１８－０１－０５"],
        ["2018-12-24", "2018-11-02", "2018-01-05"],
    ),
    # today is 2019-01-10: a month-day after today belongs to last year
    ("yearless", ["01-08", "12-24", "11-02"], ["2019-01-08", "2018-12-24", "2018-11-02"]),
    ("yearless-brackets", ["[01-08]", "[12-24]", "[11-02]"], ["2019-01-08", "2018-12-24", "2018-11-02"]),
    ("yearless-chinese", ["1月8日", "12月24日", "11月2日"], ["2019-01-08", "2018-12-24", "2018-11-02"]),
]


@pytest.mark.parametrize(("shown", "expected"), [c[1:] for c in DATE_FORMATS], ids=[c[0] for c in DATE_FORMATS])
def test_date_formats(shown: list[str], expected: list[str]) -> None:
    result = extract(list_page(rows_with(shown)), base_url=BASE, today=date(2019, 1, 10))
    assert result.kind is ExtractKind.LIST
    assert dates_of(result) == expected
    assert result.newest_date == date.fromisoformat(max(expected))


LAYOUTS = [
    ("date-before-link", '<li><span class="date">{shown}</span><a href="./a{i}.html">{title}</a></li>'),
    ("date-inside-link", '<li><a href="./a{i}.html">{title}<span class="date">{shown}</span></a></li>'),
    ("date-in-link-text", '<li><a href="./a{i}.html">{title} {shown}</a></li>'),
    ("bare-text-after-link", '<li><a href="./a{i}.html">{title}</a> {shown}</li>'),
    (
        "table-cell",
        '<tr><td><a href="./a{i}.html">{title}</a></td><td>办公室</td><td>\n  {shown}\n</td></tr>',
    ),
    ("dl-pairs", '<dt><a href="./a{i}.html">{title}</a></dt><dd>{shown}</dd>'),
    ("flat-run-with-br", '<a href="./a{i}.html">{title}</a>&nbsp;<font color="gray">({shown})</font><br>'),
    (
        "date-badge",
        '<li><div class="date"><b>{day}</b><i>{month}</i></div><a href="./a{i}.html">{title}</a></li>',
    ),
]


@pytest.mark.parametrize("template", [c[1] for c in LAYOUTS], ids=[c[0] for c in LAYOUTS])
def test_layouts(template: str) -> None:
    shown = ["2018-12-24", "2018-11-02", "2018-01-05"]
    rows = "".join(
        template.format(i=i, title=TITLES[i], shown=text, day=text[8:], month=text[:7]) for i, text in enumerate(shown)
    )
    wrapper = "table" if template.startswith("<tr") else "dl" if template.startswith("<dt") else "div"
    page = list_page(f"<{wrapper}>{rows}</{wrapper}>")
    result = extract(page, base_url=BASE, today=date(2019, 1, 10))
    assert [item.title for item in result.items] == list(TITLES)
    assert dates_of(result) == shown
    assert [item.url for item in result.items] == [f"{BASE}a{i}.html" for i in range(3)]


def test_yearless_dates_cross_new_year_and_take_the_url_year() -> None:
    rows = rows_with(["01-03", "12-29", "12-28"])
    assert dates_of(extract(list_page(rows), today=date(2024, 1, 5))) == [
        "2024-01-03",
        "2023-12-29",
        "2023-12-28",
    ]
    # On an archived column the URL's year beats "the latest past 12-28".
    old = '<li><a href="./201512/t20151228_{i}.html">{title}</a><span>{shown}</span></li>'
    assert dates_of(extract(list_page(rows_with(["12-28", "12-20"], old)), today=date(2024, 1, 5))) == [
        "2015-12-28",
        "2015-12-20",
    ]
    # A republished document's URL is later than its shown date; a month folder hints the year too.
    moved = '<li><a href="./201811/t20181102_{i}.html">{title}</a><span>{shown}</span></li>'
    assert dates_of(extract(list_page(rows_with(["03-26"], moved)), today=CORPUS_TODAY)) == ["2018-03-26"]
    folder = '<li><a href="/c110159/202205/2032457.shtml">{title}</a><span>{shown}</span></li>'
    assert dates_of(extract(list_page(rows_with(["05-06"], folder)), today=CORPUS_TODAY)) == ["2022-05-06"]


def test_years_in_titles_are_not_publish_dates() -> None:
    titles = [
        "国家药监局关于修订说明书的公告（2025年第101号）",
        "2021-2025年交通发展规划",
        "“十四五”综合交通运输规划",
    ]
    rows = "".join(
        f'<li><a href="./{i}.html" title="{t}">{t}</a><span>({d})</span></li>'
        for i, (t, d) in enumerate(zip(titles, ["2024-03-01", "2022-06-08", "2021-12-30"], strict=True))
    )
    result = extract(list_page(rows), today=CORPUS_TODAY)
    assert dates_of(result) == ["2024-03-01", "2022-06-08", "2021-12-30"]
    assert [item.title for item in result.items] == titles


def test_a_title_dated_in_full_width_parentheses_keeps_its_date() -> None:
    rows = '<li><a href="./1.html">会议纪要（2018年12月24日）</a><span>2019-01-02</span></li>' * 2
    result = extract(list_page(rows), today=CORPUS_TODAY)
    assert [(item.title, item.date) for item in result.items] == [("会议纪要（2018年12月24日）", date(2019, 1, 2))] * 2


def test_url_date_is_only_a_fallback() -> None:
    shown = '<li><a href="./201811/t20181102_{i}.html">{title}</a><span>{shown}</span></li>'
    assert dates_of(extract(list_page(rows_with(["2018-03-26", "2018-01-05"], shown)), today=CORPUS_TODAY)) == [
        "2018-03-26",
        "2018-01-05",
    ]
    undated = '<li><a href="/art/2023/1/{d}/art_1_{i}.html">{title}</a></li>'
    rows = "".join(undated.format(i=i, d=9 - i, title=TITLES[i]) for i in range(3))
    assert dates_of(extract(list_page(rows), today=CORPUS_TODAY)) == [
        "2023-01-09",
        "2023-01-08",
        "2023-01-07",
    ]


def test_entries_with_empty_date_templates_are_not_counted() -> None:
    rows = rows_with(["2024-01-02", "2024-01-01"]) + "".join(
        f'<li><a href="./202401/t20240101_{i}.html">{t}</a><span class="bf-pass"></span></li>'
        for i, t in enumerate(TITLES)
    )
    result = extract(list_page(rows), today=CORPUS_TODAY)
    assert dates_of(result) == ["2024-01-02", "2024-01-01"]


def test_header_date_and_future_dates_are_not_items() -> None:
    header = '<div class="top">今天是2024年1月5日 星期五 <a href="/">设为首页</a> <a href="/f">收藏</a></div>'
    rows = rows_with(["2031-01-01", "2023-12-29", "2023-12-28"])
    result = extract(list_page(header + rows), today=SYNTHETIC_TODAY)
    assert dates_of(result) == ["2023-12-29", "2023-12-28"]
    assert result.newest_date == date(2023, 12, 29)


def test_title_attribute_wins_only_when_it_is_the_full_title() -> None:
    rows = (
        '<li><a href="./1.html" title="关于印发《某某市网络预约出租汽车经营服务管理实施细则》的通知">'
        "关于印发《某某市网络预约...</a><span>2024-01-02</span></li>"
        # a stray quote in the page cut the attribute short: title="关于"春运"…
        '<li><a href="./2.html" title="关于">关于“春运”安全检查的通知</a><span>2024-01-01</span></li>'
        '<li><a href="./3.html" title="">  市局召开\n   年度工作会议 </a><span>2023-12-30</span></li>'
    )
    titles = [item.title for item in extract(list_page(rows), today=CORPUS_TODAY).items]
    assert titles == [
        "关于印发《某某市网络预约出租汽车经营服务管理实施细则》的通知",
        "关于“春运”安全检查的通知",
        "市局召开 年度工作会议",
    ]


def test_urls_resolve_against_base_href() -> None:
    page = list_page(rows_with(["2024-01-02"]), head='<base href="https://other.example.cn/root/">')
    assert extract(page, base_url=BASE, today=CORPUS_TODAY).items[0].url == "https://other.example.cn/root/a0.html"


def test_split_blocks_are_one_list_and_side_widgets_are_not() -> None:
    block = '<div class="blk"><ul>{}</ul></div>'
    item = '<li><a href="./{n}.html">第{n}条通知公告的完整标题</a><span>2024-01-{d:02d}</span></li>'
    blocks = "".join(
        block.format("".join(item.format(n=b * 5 + k, d=b * 5 + k + 1) for k in range(5))) for b in range(3)
    )
    hot = '<div class="hot-news"><h3>热点新闻</h3><ul>{}</ul></div>'.format(
        "".join(
            f'<li><a href="/hot/{k}.html">热点新闻第{k}条的标题文字</a><span>2024-01-{k + 1:02d}</span></li>'
            for k in range(8)
        )
    )
    result = extract(list_page(blocks + hot), today=CORPUS_TODAY)
    assert len(result.items) == 15
    assert all("/hot/" not in item.url for item in result.items)


def test_main_list_named_by_the_breadcrumb_beats_a_longer_sidebar_list() -> None:
    def entries(folder: str, count: int) -> str:
        row = '<li><a href="/{f}/{i}.html">{f}栏目第{i}条信息的完整标题</a><span>2024-05-{d:02d}</span></li>'
        return "".join(row.format(f=folder, i=i, d=28 - i) for i in range(count))

    page = f"""<html><head><title>某某局</title></head><body>
    <div class="path">当前位置：<a href="/">首页</a> &gt; 通知公告</div>
    <div class="main"><h2>通知公告</h2><ul>{entries("tzgg", 10)}</ul></div>
    <div class="side"><h3>最新动态</h3><ul>{entries("zxdt", 12)}</ul></div></body></html>"""
    result = extract(page, today=date(2024, 6, 1))
    assert len(result.items) == 10
    assert all("/tzgg/" in item.url for item in result.items)


# ----------------------------------------------------------------------------------- articles

ARTICLE_TRAPS = [
    (
        "visible-label-beats-meta-build-time",
        '<meta name="PubDate" content="2023-04-18 15:24:29">'
        '<meta name="others" content="页面生成时间 2023-04-18 15:24:29">',
        "<span>发布时间：2022-05-06 15:16</span>",
        "2022-05-06",
    ),
    (
        "maketime-is-not-publish",
        '<meta name="Maketime" content="2019-03-22 12:28:37">',
        "<span>发布日期：2016-11-22</span>",
        "2016-11-22",
    ),
    (
        "meta-pubdate",
        '<meta name="PubDate" content="2023-08-28 08:15">',
        "<th>发文日期</th><td>2023-08-25</td>",
        "2023-08-28",
    ),
    (
        "publish-not-document-date",
        "",
        "<p>成文日期：2020-07-30</p><p>发布日期：2020年08月02日</p>",
        "2020-08-02",
    ),
    (
        "stale-attribute",
        "",
        '<span alt="时间：2017-11-08 20:26"><i>时间：</i>2019-09-18 06:23</span>',
        "2019-09-18",
    ),
    (
        "table-label",
        "",
        "<table><tr><th>版本日期</th><td>2023-06-14</td><th>首次公示信息日期</th><td>\n 2023-09-11 </td></tr></table>",
        "2023-09-11",
    ),
    (
        "script-variable",
        "<script>var __$pubtime='2021-01-05 16:59:00';</script>",
        "<span>2021-01-05</span>",
        "2021-01-05",
    ),
    ("page-build-label", "", "<p>页面生成时间：2024-01-05</p><p>时间：2023-12-01</p>", "2023-12-01"),
    ("info-line-under-heading", "", "<div>2024-01-03 10:20 来源：本站 作者：办公室</div>", "2024-01-03"),
]


@pytest.mark.parametrize(
    ("head", "info", "expected"), [c[1:] for c in ARTICLE_TRAPS], ids=[c[0] for c in ARTICLE_TRAPS]
)
def test_article_publish_date(head: str, info: str, expected: str) -> None:
    body = "<p>" + "为切实做好各项工作，经研究决定开展专项检查活动，现将有关事项通知如下。" * 8 + "</p>"
    title = "关于开展专项检查的通知"
    page = f"<html><head><title>{title}_某某局</title>{head}</head>"
    page += f"<body><h1>{title}</h1>{info}{body}</body></html>"
    result = extract(page, today=CORPUS_TODAY)
    assert result.kind is ExtractKind.ARTICLE
    assert result.newest_date == date.fromisoformat(expected)
    assert result.items == ()


def test_related_news_with_their_own_labels_do_not_make_a_list() -> None:
    related = "".join(
        f'<li><a href="./r{i}.html">相关新闻标题第{i}条</a><span>发布时间：2023-12-0{i}</span></li>'
        for i in range(1, 6)
    )
    page = f"""<html><head><title>正文标题_某某局</title></head><body><h1>正文标题很长很长</h1>
    <div class="info">发布时间：2024-01-03</div><div class="content"><p>{"正文内容。" * 80}</p></div>
    <div class="related"><h3>相关文章</h3><ul>{related}</ul></div></body></html>"""
    result = extract(page, today=CORPUS_TODAY)
    assert (result.kind, result.newest_date) == (ExtractKind.ARTICLE, date(2024, 1, 3))


# --------------------------------------------------------------------------- pagination, kinds


@pytest.mark.parametrize(
    ("pager", "pages"),
    [
        ('<script>createPageHTML(12, 0, "index", "html");</script>', 12),
        ("<script>var countPage = 56//共多少页</script>", 56),
        ("<div>共 <i>1088</i> 页，共 <i>21748</i> 条记录</div>", 1088),
        ("<div><span>共24,539条</span><span>共1,227页</span></div>", 1227),
        ("<div>页次：1/7页</div>", 7),
        ("<script>$('#1').jpage({ totalRecord: 53, perPage: 15 });</script>", 4),
        ("<script>var totalPage = Math.ceil(c / s); if (totalPage == 1) { totalPage = 1; }</script>", None),
        ("", None),
    ],
)
def test_pages_total(pager: str, pages: int | None) -> None:
    page = list_page(rows_with(["2024-01-02", "2024-01-01"]) + pager)
    assert extract(page, today=CORPUS_TODAY).pages_total == pages


UNREADABLE_PAGES = [
    (
        "ruishu-challenge",
        "<html><head><meta content='x' r='m'><script r='m'>$_ts=window['$_ts'];$_ts.nsd=1;</script></head>"
        "<body></body></html>",
        ExtractKind.CHALLENGE,
    ),
    (
        "app-shell",
        '<div id="app"><ul><li v-for="i in list"><a :href="i.url">{{i.title}}</a>'
        "<span>{{i.date}}</span></li></ul></div>",
        ExtractKind.APP_SHELL,
    ),
    ("plain-text", "Service Unavailable", ExtractKind.OTHER),
    ("whitespace", "   \n\t ", ExtractKind.OTHER),
    ("empty", "", ExtractKind.OTHER),
    ("json-without-records", '{"code": 500, "msg": "error"}', ExtractKind.OTHER),
    ("broken-markup", "<<<div><a href=><<span>2018-13-45</span></a", ExtractKind.OTHER),
]


@pytest.mark.parametrize(("text", "kind"), [c[1:] for c in UNREADABLE_PAGES], ids=[c[0] for c in UNREADABLE_PAGES])
def test_pages_without_content_say_what_was_seen(text: str, kind: ExtractKind) -> None:
    result = extract(text, encoding="utf-8", today=CORPUS_TODAY)
    assert result.kind is kind and not kind.readable
    assert (result.items, result.newest_date, result.columns) == ((), None, ())


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x00" * 64,
        bytes(range(256)) * 8,
        b"\xff\xfe\x00\xd8",
        b"%PDF-1.4",
    ],
    ids=["empty", "png", "nuls", "all-bytes", "broken-utf16", "pdf"],
)
def test_extract_document_reads_binary_and_garbage_as_other(body: bytes) -> None:
    result = extract_document(body, content_type="text/html; charset=utf-8", today=CORPUS_TODAY)
    assert result.kind is ExtractKind.OTHER
    assert result.items == ()


def test_extract_document_sets_the_encoding() -> None:
    body = list_page(rows_with(["2024-01-02", "2024-01-01"])).encode("gb18030")
    result = extract_document(body, content_type="text/html; charset=utf-8", today=CORPUS_TODAY)
    assert (result.kind, result.encoding, len(result.items)) == (ExtractKind.LIST, "gb18030", 2)


def test_json_list_apis() -> None:
    gkmlpt = {
        "articles": [{"title": "标题一", "url": "/gkmlpt/content/1/1/post_1.html", "first_publish_time": 1703865600}]
    }
    trs = {"data": [{"DOCTITLE": "标题二", "DOCPUBURL": "http://a.gov.cn/t.html", "PUBDATE": "2023-09-08 18:15:00"}]}
    first = extract(json.dumps(gkmlpt), base_url="http://www.gd.gov.cn/", today=CORPUS_TODAY)
    assert (first.kind, first.items[0].date, first.items[0].url) == (
        ExtractKind.LIST,
        date(2023, 12, 30),  # 2023-12-29T16:00Z is midnight in Beijing
        "http://www.gd.gov.cn/gkmlpt/content/1/1/post_1.html",
    )
    assert extract("cb(" + json.dumps(trs) + ");", today=CORPUS_TODAY).newest_date == date(2023, 9, 8)


def test_json_array_inlined_in_a_script_is_the_list_of_a_browser_rendered_page() -> None:
    records = [
        {
            "title": "关于做好冬春季传染病防控工作的通知",
            "url": "/c100/202609/t20260921_1.html",
            "pubDate": "2026-09-21 17:00",
        },
        {
            "title": "国家疾控局召开第三季度工作会议",
            "url": "/c100/202609/t20260915_2.html",
            "pubDate": "2026-09-15 09:00",
        },
    ]
    page = (
        '<html><head><title>疾控动态_某局</title></head><body><div id="app"><ul class="list"></ul></div>'
        f"<script>var itemObj = {json.dumps(records, ensure_ascii=False)};</script></body></html>"
    )
    result = extract(page, base_url="https://www.example.gov.cn/", today=CORPUS_TODAY)
    assert (result.kind, result.newest_date) == (ExtractKind.LIST, date(2026, 9, 21))
    assert result.items[1].url == "https://www.example.gov.cn/c100/202609/t20260915_2.html"


HALF_EMOJI_RECORDS = (
    '[{"title": "\\u901a\\u77e5\\ud83d", "url": "/c/1.html", "pubDate": "2026-09-21"},'
    ' {"title": "\\ude00\\u516c\\u544a", "url": "/c/2\\ud83d.html", "pubDate": "2026-09-20", "\\udc00k": "v"},'
    ' {"title": "\\ud83d\\ude00 whole", "url": "/c/3.html", "pubDate": "2026-09-19"}]'
)
"""JSON records whose titles hold a lone surrogate escape (an emoji cut in half by a backend)."""


@pytest.mark.parametrize(
    "document",
    [HALF_EMOJI_RECORDS, f"<html><body><script>var list = {HALF_EMOJI_RECORDS};</script></body></html>"],
    ids=["api", "inline-script"],
)
def test_lone_surrogates_in_json_become_replacement_characters(document: str) -> None:
    result = extract(document, base_url="https://www.example.gov.cn/", today=CORPUS_TODAY)
    assert [item.title for item in result.items] == ["通知\ufffd", "\ufffd公告", "\U0001f600 whole"]
    assert result.items[1].url == "https://www.example.gov.cn/c/2\ufffd.html"
    json.dumps(result.to_json(), ensure_ascii=False).encode()  # every string is encodable


def test_bare_datastore_answer_with_its_page_count() -> None:
    record = (
        '<record><![CDATA[<li><a href="/art/2026/9/{d}/art_1_{d}.html">第{d}号公告全文标题</a>'
        "<span>2026-09-{d:02d}</span></li>]]></record>"
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>'
        "<datastore><totalrecord>1928</totalrecord><totalpage>20</totalpage>"
        f"<recordset>{record.format(d=16)}{record.format(d=10)}</recordset></datastore>"
    )
    result = extract(xml, base_url="https://example.gov.cn/", today=CORPUS_TODAY)
    assert (result.kind, len(result.items), result.pages_total) == (ExtractKind.LIST, 2, 20)
    assert result.items[0].url == "https://example.gov.cn/art/2026/9/16/art_1_16.html"


# ------------------------------------------------------------------------------ selector override


def test_selector_override() -> None:
    cards = (
        "".join(
            f'<div class="row"><em class="t">2024-01-0{i}</em>'
            f'<div class="x"><a href="/d/{i}.html">{TITLES[i - 1]}</a>'
            '<i class="stamp">2020-01-01</i></div></div>'
            for i in (3, 2, 1)
        )
        + '<div class="row"><a href="/d/9.html">无日期的条目</a></div>'
    )
    page = f"<html><body>{cards}</body></html>"
    result = extract(page, base_url=BASE, today=CORPUS_TODAY, item_selector="div.row", date_selector="em.t")
    assert result.kind is ExtractKind.LIST
    assert dates_of(result) == ["2024-01-03", "2024-01-02", "2024-01-01", None]
    assert result.items[0].url == "https://portal.example.gov.cn/d/3.html"
    assert result.newest_date == date(2024, 1, 3)
    anywhere = extract(page, today=CORPUS_TODAY, item_selector="div.row")
    assert dates_of(anywhere)[:3] == ["2020-01-01"] * 3  # without a date selector: the item's last date
    links = extract(page, today=CORPUS_TODAY, item_selector="div.x > a")
    assert [item.title for item in links.items] == list(reversed(TITLES))


def test_invalid_selector_is_unknown_not_an_exception() -> None:
    assert extract("<ul><li>x</li></ul>", item_selector="li[[[", today=CORPUS_TODAY).kind is ExtractKind.OTHER


# ----------------------------------------------------------------------------------- golden files


def golden_inputs() -> list[Path]:
    return sorted(
        path for path in GOLDEN.iterdir() if path.suffix in (".html", ".json") and ".expected" not in path.name
    )


GOLDEN_HOMEPAGES = {"060.html": date(2023, 10, 11), "061.html": date(2018, 3, 17), "062.html": date(2018, 3, 17)}
"""Corpus homepages (read with kind homepage) and the day each was saved (the corpus `fetched`)."""


def run_golden(path: Path) -> Extraction:
    if path.name in GOLDEN_HOMEPAGES:
        today = GOLDEN_HOMEPAGES[path.name]
        return extract_document(path.read_bytes(), base_url=BASE, today=today, kind=PageKind.HOMEPAGE)
    today = SYNTHETIC_TODAY if path.name.startswith("syn_") else CORPUS_TODAY
    return extract_document(path.read_bytes(), base_url=BASE, today=today)


@pytest.mark.parametrize("path", golden_inputs(), ids=lambda path: path.name)
def test_golden(path: Path) -> None:
    expected_path = path.with_name(path.stem + ".expected.json")
    got = run_golden(path).to_json()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_path.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert got == json.loads(expected_path.read_text(encoding="utf-8"))


def read_truth(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row[0], row[1].strip(), " ".join(row[2].split())) for row in csv.reader(handle, delimiter="\t") if row]


@pytest.mark.parametrize("truth", sorted(GOLDEN.glob("*.items.tsv")), ids=lambda path: path.name)
def test_golden_items_equal_the_hand_checked_truth(truth: Path) -> None:
    items = run_golden(truth.with_name(truth.name.replace(".items.tsv", ".html"))).items
    expected = read_truth(truth)
    got = [(item.date.isoformat() if item.date else "", item.url, " ".join(item.title.split())) for item in items]
    assert [(d, t) for d, _, t in got] == [(d, t) for d, _, t in expected]
    assert [u.rsplit("/", 1)[-1] for _, u, _ in got] == [u.rsplit("/", 1)[-1] for _, u, _ in expected]


MANIFEST_FACTS = [
    # (page, kind, newest/publish date, item count, catalogue columns) — from the corpus MANIFEST.tsv;
    # list pages may also report the disclosure nav of their sidebar, which the manifest does not count
    ("002.html", "article", "2019-09-18", 0, 0),
    ("005.html", "article", "2021-01-05", 0, 0),
    ("009.html", "article", "2023-08-28", 0, 0),
    ("010.html", "list", "2023-07-31", 58, None),
    ("012.html", "list", "2022-05-06", 4, None),
    ("013.html", "article", "2022-05-06", 0, 0),
    ("014.html", "challenge", None, 0, 0),
    ("015.html", "catalogue", None, 0, 17),
    ("016.html", "article", "2020-08-02", 0, 0),
    ("018.html", "app_shell", None, 0, 0),
    ("019.html", "list", None, 0, None),
    ("020.html", "article", "2023-09-11", 0, 0),
    ("021.html", "challenge", None, 0, 0),
    ("042.html", "list", "2018-01-16", 7, None),
    ("057.html", "list", "2025-10-14", 20, None),
    ("060.html", "homepage", "2023-10-11", 41, 0),
    ("061.html", "homepage", "2018-03-16", 64, 0),
    ("062.html", "homepage", "2018-03-16", 71, 0),
    ("063.html", "article", "2023-04-18", 0, 0),
    ("064.html", "shell", None, 0, 0),
]


@pytest.mark.parametrize(
    ("name", "kind", "newest", "count", "columns"), MANIFEST_FACTS, ids=[f[0] for f in MANIFEST_FACTS]
)
def test_golden_pages_agree_with_the_manifest(
    name: str, kind: str, newest: str | None, count: int, columns: int | None
) -> None:
    result = run_golden(GOLDEN / name)
    assert result.kind.value == kind
    assert (result.newest_date.isoformat() if result.newest_date else None) == newest
    assert len(result.items) == count
    if columns is not None:
        assert len(result.columns) == columns


SYNTHETIC_FACTS = [
    # (page, kind, items, newest, pages) — the right main list of hand-written layouts
    ("syn_table_rows.html", "list", 12, "2023-12-29", 5),
    ("syn_dl_pairs.html", "list", 8, "2023-12-29", 3),
    ("syn_cards_hot_widget.html", "list", 8, "2023-12-29", None),
    ("syn_short_dates_new_year.html", "list", 7, "2024-01-04", None),
    ("syn_flat_br_run.html", "list", 10, "2019-05-06", 7),
    ("syn_homepage.html", "list", 21, "2024-01-04", None),
    ("syn_small_list_side_widget.html", "list", 3, "2023-12-28", None),
    ("syn_hanweb_datastore.html", "list", 6, "2023-12-29", 4),
    ("syn_gkmlpt.json", "list", 5, "2023-12-29", None),
    ("syn_trs_list.json", "list", 4, "2023-12-27", None),
    ("syn_article_label.html", "article", 0, "2024-01-03", None),
    ("syn_article_meta.html", "article", 0, "2023-11-15", None),
    ("syn_catalogue.html", "catalogue", 0, None, None),
    ("syn_blank_column.html", "list", 0, None, 1),
    ("syn_app_shell.html", "app_shell", 0, None, None),
]


@pytest.mark.parametrize(
    ("name", "kind", "count", "newest", "pages"), SYNTHETIC_FACTS, ids=[f[0] for f in SYNTHETIC_FACTS]
)
def test_other_layouts_find_the_main_list(
    name: str, kind: str, count: int, newest: str | None, pages: int | None
) -> None:
    result = run_golden(GOLDEN / name)
    assert (result.kind.value, len(result.items), result.pages_total) == (kind, count, pages)
    assert (result.newest_date.isoformat() if result.newest_date else None) == newest


def test_synthetic_widgets_menus_and_footers_stay_out() -> None:
    cards = run_golden(GOLDEN / "syn_cards_hot_widget.html")
    assert all("/rdzt/" not in item.url for item in cards.items)
    side = run_golden(GOLDEN / "syn_small_list_side_widget.html")
    assert all("/xwzx/" not in item.url for item in side.items)
    catalogue = run_golden(GOLDEN / "syn_catalogue.html")
    assert len(catalogue.columns) == 20  # not the site menu above it, not the units' directory
    assert not any(column.name.startswith("市") for column in catalogue.columns)  # other units' catalogues
    new_year = run_golden(GOLDEN / "syn_short_dates_new_year.html")
    assert dates_of(new_year)[2:4] == ["2024-01-02", "2023-12-29"]


# ------------------------------------------------------------------------------------ robustness

FRAGMENTS = st.sampled_from(
    [
        "<li>",
        "</li>",
        "<ul>",
        "</ul>",
        "<a href='./x.html'>",
        "<a href=javascript:void(0)>",
        "</a>",
        "<span>",
        "</span>",
        "<table><tr><td>",
        "</td></tr></table>",
        "<script type='text/xml'><datastore><record><![CDATA[<li>",
        "]]></record>",
        "2018-12-24",
        "[12-24]",
        "2018年12月24日",
        "发布时间：",
        "createPageHTML(",
        "共3页",
        "{{item.title}}",
        "<!--",
        "-->",
        "标题",
        "<base href='::'>",
        "<meta name='PubDate' content='2099-01-01'>",
        "&nbsp;",
        "\x00",
        "<",
        ">",
        '"',
        "'",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=60),
    today=st.one_of(st.none(), st.dates()),
)
def test_fuzzed_html_never_raises(parts: list[str], today: date | None) -> None:
    result = extract("".join(parts), base_url="http://a.gov.cn/x/", today=today)
    assert isinstance(result, Extraction)
    json.dumps(result.to_json())


@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=3000),
    content_type=st.one_of(st.none(), st.sampled_from(["text/html; charset=gbk", "application/json"])),
)
def test_random_bytes_never_raise(body: bytes, content_type: str | None) -> None:
    assert isinstance(extract_document(body, content_type=content_type, today=CORPUS_TODAY), Extraction)


# ------------------------------------------------------------------------- the whole shared corpus

SHARED_CORPUS = corpus_pages_dir()


@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason=f"the shared corpus is not at {SHARED_CORPUS}")
def test_every_shared_corpus_page_extracts_without_error() -> None:
    pages = sorted(SHARED_CORPUS.glob("*.html"))
    assert len(pages) >= 40
    for path in pages:
        result = extract_document(path.read_bytes(), base_url=path.as_uri(), today=CORPUS_TODAY)
        assert result.kind in set(ExtractKind), path.name
        json.dumps(result.to_json(), ensure_ascii=False)
