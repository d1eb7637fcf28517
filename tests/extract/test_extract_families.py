"""Page families beyond column lists (issue 14): the page's kind reaching the extractor, homepages
read block by block, yearless dates, article metadata boxes, shells — and `monitor extract`'s
`--kind`, `--today` and `--url` options.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.extract import extract, extract_document
from monitor.models import ExtractKind, PageKind

GOLDEN = Path(__file__).parent / "golden"


def run_extract(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["extract", *args, "--json"], catch_exceptions=True)
    assert result.exit_code == 0, (result.output, result.stderr)
    parsed: dict[str, object] = json.loads(result.output)
    return parsed


SAVED_PAGE = """<!DOCTYPE html>
<!-- saved from url=(0047)https://www.example.gov.cn/col/tzgg/index.shtml -->
<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<ul class="list">
<li><a href="./202310/a1.shtml">关于开展安全生产大检查的通知</a><span>10-09</span></li>
<li><a href="./202310/a2.shtml">市局召开年度工作总结会议</a><span>10-02</span></li>
<li><a href="/col/tzgg/202309/a3.shtml">关于公布示范线路名单的公告</a><span>09-28</span></li>
</ul></body></html>"""


def test_a_saved_page_resolves_links_against_its_saved_from_address(tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    page.write_text(SAVED_PAGE, encoding="utf-8")
    items = run_extract(str(page), "--today", "2023-10-11")["items"]
    assert isinstance(items, list)
    assert [item["url"] for item in items] == [
        "https://www.example.gov.cn/col/tzgg/202310/a1.shtml",
        "https://www.example.gov.cn/col/tzgg/202310/a2.shtml",
        "https://www.example.gov.cn/col/tzgg/202309/a3.shtml",
    ]


def test_relative_links_of_a_file_never_resolve_to_the_local_disk(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(SAVED_PAGE.replace("saved from url", "not saved"), encoding="utf-8")
    items = run_extract(str(page), "--today", "2023-10-11")["items"]
    assert isinstance(items, list) and items
    assert not any(str(item["url"]).startswith("file:") for item in items)
    assert items[0]["url"] == "./202310/a1.shtml"
    explicit = run_extract(str(page), "--today", "2023-10-11", "--url", "http://a.gov.cn/x/")["items"]
    assert isinstance(explicit, list) and explicit[0]["url"] == "http://a.gov.cn/x/202310/a1.shtml"


def test_today_gives_a_saved_page_its_years(tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    page.write_text(SAVED_PAGE, encoding="utf-8")
    result = run_extract(str(page), "--today", "2023-10-11")
    assert result["newest_date"] == "2023-10-09"
    january = run_extract(str(page), "--today", "2024-01-05")
    assert january["newest_date"] == "2023-10-09"  # never read as a date after the day it was fetched


def test_extract_rejects_a_bad_today_and_kind_with_one_line(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(SAVED_PAGE, encoding="utf-8")
    for bad in (["--today", "2023-13-01"], ["--kind", "portal"]):
        result = CliRunner().invoke(cli, ["extract", str(page), *bad], catch_exceptions=True)
        assert result.exit_code == 2 and "Traceback" not in result.output + result.stderr


def test_the_kind_option_reaches_the_extractor(tmp_path: Path) -> None:
    page = tmp_path / "home.html"
    page.write_bytes((GOLDEN / "syn_homepage.html").read_bytes())
    assert run_extract(str(page), "--today", "2024-01-05", "--kind", "homepage")["kind"] == "homepage"
    assert run_extract(str(page), "--today", "2024-01-05", "--kind", "column")["kind"] == "list"


def test_extract_takes_the_configured_kind() -> None:
    text = (GOLDEN / "syn_homepage.html").read_text(encoding="utf-8")
    today = date(2024, 1, 5)
    assert extract(text, today=today, kind=PageKind.HOMEPAGE).kind is ExtractKind.HOMEPAGE
    assert extract(text, today=today).kind is ExtractKind.LIST


# ------------------------------------------------------------------------------ yearless dates


def homepage(*blocks: tuple[str, list[tuple[str, str]]]) -> str:
    """A homepage of headed blocks, each a list of (href, shown date) entries."""
    body = "".join(
        f'<div class="box"><div class="hd"><h3>{heading}</h3><a href="/more/{n}/">更多</a></div><ul class="news">'
        + "".join(
            f'<li><a href="{href}" title="{heading}第{i}条标题">{heading}第{i}条标题</a><span>{shown}</span></li>'
            for i, (href, shown) in enumerate(entries)
        )
        + "</ul></div>"
        for n, (heading, entries) in enumerate(blocks)
    )
    header = '<div class="top">今天是2018年3月17日 星期六</div>'
    footer = '<div class="foot">Copyright © 2003-2018 某某区人民政府 版权所有</div>'
    head = '<head><meta charset="utf-8"><title>某某区人民政府</title></head>'
    return f"<html>{head}<body>{header}{body}{footer}</body></html>"


FETCHED = date(2018, 3, 17)


def read_home(page: str, today: date = FETCHED) -> list[str | None]:
    result = extract(page, base_url="http://www.example.gov.cn/", today=today, kind=PageKind.HOMEPAGE)
    return [item.date.isoformat() if item.date else None for item in result.items]


def test_a_full_date_in_the_same_block_beats_another_documents_url_date() -> None:
    # The regulation shows 12-28; its link is a 2008 reprint (t20080124): the block's own full date
    # (2018-03-10) says which December 28 that is, not the URL.
    page = homepage(("政策法规", [("./t20180310_1.html", "2018-03-10"), ("./200801/t20080124_2.html", "12-28")]))
    assert read_home(page) == ["2018-03-10", "2017-12-28"]


def test_yearless_dates_in_every_shape_and_never_after_today() -> None:
    shapes = [("./a1.html", "[03.16]"), ("./a2.html", "(03-15)"), ("./a3.html", "03.14"), ("./a4.html", "03-18")]
    # 03-18 read on 17 March is last year's: no inferred date lies after the day the page was fetched.
    assert read_home(homepage(("要闻", shapes))) == ["2018-03-16", "2018-03-15", "2018-03-14", "2017-03-18"]


def test_the_item_url_dates_a_block_without_full_dates() -> None:
    page = homepage(("通知公告", [("./201801/t20180104_1.html", "01-04"), ("./201712/t20171228_2.html", "12-28")]))
    assert read_home(page, today=date(2019, 6, 1)) == ["2018-01-04", "2017-12-28"]


def test_the_pages_full_dates_date_a_block_before_today_does() -> None:
    # A site frozen in 2016 and fetched in 2018: its yearless news belongs with its 2016 dates.
    page = homepage(("通知公告", [("./n1.html", "2016-05-10")]), ("要闻", [("./n2.html", "05-08")]))
    assert read_home(page) == ["2016-05-10", "2016-05-08"]


def test_a_summary_opening_with_a_day_range_is_not_the_item_date() -> None:
    featured = (
        '<div class="box"><h3>要闻</h3><div class="top"><h4><a href="./202310/x.shtml" title="严允：加速打造'
        '产业集聚区">严允：加速打造产业集聚区</a></h4><p>10月9日至10日，市委书记深入到万载、宜丰、奉新实地调研'
        '推动产业高质量发展…<span class="fr">10-11</span></p></div><ul>'
        + "".join(f'<li><a href="./202310/y{i}.shtml">宜春要闻第{i}条标题</a><span>10-0{i}</span></li>' for i in (8, 7))
        + "</ul></div>"
    )
    result = extract(f"<html><body>{featured}</body></html>", today=date(2023, 10, 11), kind=PageKind.HOMEPAGE)
    assert [(item.title[:2], item.date.isoformat() if item.date else None) for item in result.items] == [
        ("严允", "2023-10-11"),
        ("宜春", "2023-10-08"),
        ("宜春", "2023-10-07"),
    ]
    assert [(block.heading, block.items) for block in result.blocks] == [("要闻", 3)]


def test_a_column_lists_yearless_dates_follow_the_same_evidence() -> None:
    rows = (
        '<li><a href="./t20180310_1.html">关于开展安全生产大检查的通知</a><span>2018-03-10</span></li>'
        '<li><a href="./200801/t20080124_2.html">市局召开年度工作总结会议</a><span>12-28</span></li>'
        '<li><a href="./a3.html">关于公布示范线路名单的公告</a><span>03-18</span></li>'
    )
    page = (
        f'<html><body><div class="crumb">当前位置：首页 &gt; 通知公告</div><ul class="list">{rows}</ul></body></html>'
    )
    result = extract(page, today=FETCHED)
    assert [item.date.isoformat() if item.date else None for item in result.items] == [
        "2018-03-10",
        "2017-12-28",
        "2017-03-18",
    ]


# ------------------------------------------------------------------------------ article dates


def article(box: str, head: str = "", aside: str = "") -> str:
    """A 信息公开 detail page: breadcrumb, metadata box, title, body with its own dateline, a sidebar."""
    body = "2022年，在市委、市政府的坚强领导下，全市上下坚持稳中求进工作总基调，经济运行总体平稳。" * 6
    return f"""<html><head><meta charset="utf-8"><title>宜春市2022年统计公报_中国宜春</title>{head}</head><body>
<div class="crumb">您当前所在位置：<a href="/">首页</a> &gt; <a href="/xxgk/">信息公开</a></div>
<div class="meta-data"><dl>{box}</dl></div>
<h1>宜春市2022年统计公报</h1>
<div class="related">关联稿件：<a href="./t20230501_9.html">宜春市2022年统计公报解读</a> 2023-05-01</div>
<div class="content"><p>宜春市统计局</p><p>（2023年4月12日）</p><p>{body}</p></div>{aside}
</body></html>"""


def box(*fields: tuple[str, str]) -> str:
    return "".join(f"<dd><label>{name}：</label><div>{value}</div></dd>" for name, value in fields)


BOX = (("索 引 号", "014717475N/2023-0040295"), ("发布机构", "宜春市统计局"))


def test_a_metadata_box_date_beats_the_bodys_dateline_and_a_related_links_date() -> None:
    page = article(box(*BOX, ("发文日期", "2023-04-18"), ("公开方式", "主动公开")))
    result = extract(page, today=date(2023, 10, 11))
    assert (result.kind, result.newest_date) == (ExtractKind.ARTICLE, date(2023, 4, 18))


def test_a_pubdate_meta_beats_the_boxs_document_dates_and_a_build_stamp_does_not() -> None:
    fields = box(*BOX, ("发文日期", "2023-08-25"), ("公开方式", "主动公开"))
    meta = '<meta name="PubDate" content="2023-08-28 08:15">'
    assert extract(article(fields, meta), today=date(2023, 10, 11)).newest_date == date(2023, 8, 28)
    stamp = '<meta name="PubDate" content="2023-05-16"><meta name="others" content="页面生成时间 2023-05-16 12:34">'
    assert extract(article(fields, stamp), today=date(2023, 10, 11)).newest_date == date(2023, 8, 25)


def test_box_labels_rank_generated_issued_printed_signed() -> None:
    fields = box(*BOX, ("成文日期", "2023-04-10"), ("印发日期", "2023-04-14"), ("生成日期", "2023-04-20"))
    assert extract(article(fields), today=date(2023, 10, 11)).newest_date == date(2023, 4, 20)
    signed = box(*BOX, ("成文日期", "2023-04-10"), ("印发日期", "2023-04-14"))
    assert extract(article(signed), today=date(2023, 10, 11)).newest_date == date(2023, 4, 14)


def test_a_label_outside_a_box_is_no_metadata() -> None:
    page = article("", aside="<p>本文件成文日期：2023-01-03，请遵照执行。</p>")
    assert extract(page, today=date(2023, 10, 11)).newest_date == date(2023, 4, 12)  # the dateline


def test_one_document_with_undated_sidebar_lists_is_an_article() -> None:
    sidebar = "".join(
        f'<li><a href="/zwgk/200503/t2005030{i}_{i}.htm">相关文章标题第{i}篇</a></li>' for i in range(1, 7)
    )
    page = article("", aside=f'<div class="side"><ul>{sidebar}</ul></div>').replace("utf-8", "gb2312")
    result = extract_document(page.encode("gb2312"), today=date(2023, 10, 11))
    assert (result.kind, result.items, result.newest_date) == (ExtractKind.ARTICLE, (), date(2023, 4, 12))


# ------------------------------------------------------------------------------------- shells

HOME = "http://www.example.gov.cn/"
SHELLS = [
    (
        "script-concatenation",
        "<html>\r\n<script>  \r\n   window.location.href='http:/'+'/'+'www.example.gov.cn/portal/';\r\n"
        "</script>\r\n</html>",
        "http://www.example.gov.cn/portal/",
    ),
    ("location-replace", '<script>location.replace("/portal/index.html")</script>', HOME + "portal/index.html"),
    ("location-assign", "<script>top.location = './zwgk/';</script>", HOME + "zwgk/"),
    (
        "window-open-on-load",
        "<script>window.onload = function () { window.open('/portal/'); }</script><body></body>",
        HOME + "portal/",
    ),
    (
        "meta-refresh",
        '<html><head><meta http-equiv="Refresh" content="0; URL=\'/portal/\'"></head><body>正在跳转…</body></html>',
        HOME + "portal/",
    ),
    (
        "frameset",
        '<html><frameset rows="80,*"><frame name="topFrame" src="top.htm"><frame name="mainFrame" src="main.htm">'
        "</frameset></html>",
        HOME + "main.htm",
    ),
    (
        "splash",
        '<html><body><div class="splash"><img src="bg.jpg"><a href="/index_home.html">'
        '<img src="enter.gif" alt="进入首页"></a></div></body></html>',
        HOME + "index_home.html",
    ),
]


def test_shells_say_where_they_lead() -> None:
    for name, page, target in SHELLS:
        result = extract(page, base_url=HOME, today=FETCHED, kind=PageKind.HOMEPAGE)
        assert (name, result.kind, result.next_url) == (name, ExtractKind.SHELL, target)
        assert not result.kind.readable and result.to_json()["next_url"] == target


def test_a_page_with_content_and_a_mobile_redirect_is_no_shell() -> None:
    mobile = "if (/Android|iPhone/i.test(navigator.userAgent)) { location.href = 'http://wap.example.gov.cn/'; }"
    script = f"<script>{mobile}</script>"
    page = homepage(("要闻", [("./a1.html", "2018-03-16"), ("./a2.html", "2018-03-15")])).replace(
        "<body>", "<body>" + script
    )
    assert extract(page, base_url=HOME, today=FETCHED, kind=PageKind.HOMEPAGE).kind is ExtractKind.HOMEPAGE
    bare = "<html><body><script>if (screen.width < 800) { location.href = '/m/'; }</script></body></html>"
    assert extract(bare, base_url=HOME, today=FETCHED).kind is ExtractKind.OTHER


def test_date_widgets_and_stamps_beside_links_are_no_homepage_items() -> None:
    widget = (
        '<div class="topbar"><span>2018-03-18</span><span>星期日</span>'
        '<a href="javascript:setHome()">设为首页</a><a href="/wza/">无障碍浏览</a></div>'
    )
    stamp = '<div class="foot"><a href="/sitemap/">网站地图</a> 网站更新时间：2018-03-17 08:00</div>'
    page = homepage(("要闻", [("./a1.html", "2018-03-16"), ("./a2.html", "2018-03-15")]))
    page = page.replace("<body>", "<body>" + widget).replace("</body>", stamp + "</body>")
    result = extract(page, base_url=HOME, today=date(2018, 3, 18), kind=PageKind.HOMEPAGE)
    assert [item.date.isoformat() if item.date else None for item in result.items] == ["2018-03-16", "2018-03-15"]
    assert result.newest_date == date(2018, 3, 16)


# ------------------------------------------------------------------------- corpus homepages


def test_corpus_homepages_find_every_dated_link_of_the_truth_with_its_date() -> None:
    """061/062 (tabbed homepages, most tabs hidden, MM-DD and MM.DD dates): every link of the
    hand-checked truth is found with its date; the only extras are the undatable blocks the truth
    leaves out (its rows are where the year is certain)."""
    for name, extra in (("061", 8), ("062", 5)):
        result = extract_document(
            (GOLDEN / f"{name}.html").read_bytes(), today=date(2018, 3, 17), kind=PageKind.HOMEPAGE
        )
        rows = [line.split("\t") for line in (GOLDEN / f"{name}.truth.tsv").read_text(encoding="utf-8").splitlines()]
        got = [
            (item.url.strip().rsplit("/", 1)[-1], item.date.isoformat() if item.date else "") for item in result.items
        ]
        truth = [(url.strip().rsplit("/", 1)[-1], day) for day, url, _ in rows]
        assert all(entry in got for entry in truth), name
        assert len(got) == len(truth) + extra, name


def test_a_percentage_is_no_yearless_date() -> None:
    rows = "".join(
        f'<tr><td><a href="./t2018031{i}_{i}.html">第{i}季度全市工业增加值统计数据</a></td><td>11.30%</td>'
        f"<td>2018-03-1{i}</td></tr>"
        for i in range(1, 4)
    )
    page = f'<html><body><div class="crumb">当前位置：首页 &gt; 统计数据</div><table>{rows}</table></body></html>'
    result = extract(page, today=FETCHED)
    assert [item.date for item in result.items] == [date(2018, 3, i) for i in (11, 12, 13)]


def test_an_error_page_linking_back_home_is_no_shell() -> None:
    page = "<html><body><p>您访问的栏目正在维护，请稍后再试。</p><a href='/'>返回首页</a></body></html>"
    result = extract(page, base_url=HOME + "col/", today=FETCHED)
    assert (result.kind, result.next_url) == (ExtractKind.OTHER, None)


def test_an_article_dated_under_its_heading_beside_url_dated_sidebars_is_an_article() -> None:
    sidebar = "".join(
        f'<li><a href="/zwgk/200503/t2005030{i}_{i}.htm">相关文章标题第{i}篇</a></li>' for i in range(1, 7)
    )
    text = "市政府召开全市安全生产工作会议，部署今年安全生产工作，要求各地各部门压实责任、排查隐患。" * 5
    page = (
        '<html><head><meta charset="gb2312"><title>市政府召开安全生产工作会议--某某市政府网</title></head><body>'
        f'<div class="side"><ul>{sidebar}</ul></div><div class="art"><h2>市政府召开安全生产工作会议</h2>'
        '<div class="info">日期：2005-03-01</div>'
        f"<p>{text}</p></div></body></html>"
    )
    result = extract_document(page.encode("gb2312"), today=date(2023, 10, 11))
    assert (result.kind, result.items, result.newest_date) == (ExtractKind.ARTICLE, (), date(2005, 3, 1))


def test_the_articles_own_info_line_with_a_linked_source_still_dates_it() -> None:
    text = "市政府召开全市安全生产工作会议，部署今年安全生产工作，要求各地各部门压实责任、排查隐患。" * 5
    page = (
        "<html><head><title>全市安全生产工作会议召开_某某市人民政府</title></head><body>"
        '<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/xw/">新闻</a></div>'
        "<h1>全市安全生产工作会议召开</h1>"
        '<div class="info">2021-01-05 来源：<a href="http://www.example.gov.cn/">某某市应急管理局网站</a></div>'
        f"<p>{text}</p></body></html>"
    )
    result = extract(page, today=date(2021, 2, 1))
    assert (result.kind, result.newest_date, result.items) == (ExtractKind.ARTICLE, date(2021, 1, 5), ())


def test_a_url_dated_column_with_a_long_footer_and_a_date_widget_stays_a_list() -> None:
    rows = "".join(
        f'<li><a href="./202401/t2024010{i}_{i}.html">关于开展第{i}批安全检查的通知</a></li>' for i in range(1, 6)
    )
    footer = "".join(
        f"<p>主办单位：某某市交通运输局 承办单位：某某市交通运输局办公室 第{i}行地址电话邮编说明文字</p>"
        for i in range(6)
    )
    page = (
        '<html><head><title>通知公告_某某局</title></head><body><div class="top">日期：2024年1月5日</div>'
        f'<div class="crumb">当前位置：首页 &gt; 通知公告</div><ul class="list">{rows}</ul>{footer}</body></html>'
    )
    result = extract(page, today=date(2024, 1, 5))
    assert (result.kind, len(result.items), result.newest_date) == (ExtractKind.LIST, 5, date(2024, 1, 5))
