"""The 政府网站工作年度报表 figures (report/_annual.py) on hand-made items: dedupe by URL, the
publish date decides the year, late first sightings flagged, 专栏专题 and 政策解读 from tags,
unobservable fields blank."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from monitor.config import ConfigError, load_config
from monitor.integrity import SiteState, read_identity
from monitor.models import Item, Page, PageKind
from monitor.report import build_report, parse_period, render
from monitor.report._annual import FORM
from monitor.store import IntegrityStateRow, ItemsSeen, Store, WriterSettings

TZ = "Asia/Shanghai"
Y2018 = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
DAY = 86400.0
SITES = [("bureau", "某某局", "http://bureau.example/")]


def column(name: str, *tags: str) -> Page:
    return Page("bureau", name, f"http://bureau.example/{name}/", PageKind.COLUMN, tags=tags)


HOME = Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE)
NEWS = column("gzdt", "政务动态")
CATALOGUE = column("tzgg", "信息公开目录")
OVERVIEW = column("jggk", "概况类", "信息公开目录")
SPECIAL_OLD = column("zt-old", "专栏专题")
SPECIAL_NEW = column("zt-new", "专栏专题")
READ = column("zcjd", "政策解读")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "monitor.db", writer_settings=WriterSettings(linger_s=0.0))
    s.sync_pages(SITES, [HOME, NEWS, CATALOGUE, OVERVIEW, SPECIAL_OLD, READ], Y2018 - 30 * DAY)
    s.sync_pages(SITES, [HOME, NEWS, CATALOGUE, OVERVIEW, SPECIAL_OLD, READ, SPECIAL_NEW], Y2018 + 40 * DAY)
    s.writer.start()
    yield s
    s.close()


def seen(store: Store, page: Page, ts: float, *items: tuple[str, date | None]) -> None:
    page_id = {(row.site, row.name): row.id for row in store.pages()}[page.key]
    store.submit([ItemsSeen(page_id, ts, tuple(Item(url, f"http://bureau.example/{url}", d) for url, d in items))])
    assert store.writer.drain(30)


def test_the_form_counts_by_url_and_publish_date_and_flags_late_items(store: Store) -> None:
    """政务动态: a (2018-03-01, seen the same day), b (2018-03-02, seen 2018-05-01: late),
    c (2017-12-31: not 2018), d (no date: not counted). 信息公开目录: a again (same URL as in
    政务动态: once in 总数), e (2018-12-31, seen 2018-12-31). 概况类+信息公开目录 column: f
    (2018-06-01). 政策解读: g, h (2018). 总数 = a b e f = 4."""
    march = Y2018 + 59 * DAY + 36000
    seen(store, NEWS, march, ("a", date(2018, 3, 1)), ("c", date(2017, 12, 31)), ("d", None))
    seen(store, NEWS, Y2018 + 120 * DAY, ("b", date(2018, 3, 2)))
    seen(store, CATALOGUE, Y2018 + 364 * DAY + 3600, ("a", date(2018, 3, 1)), ("e", date(2018, 12, 31)))
    seen(store, OVERVIEW, Y2018 + 151 * DAY, ("f", date(2018, 6, 1)))
    seen(store, READ, Y2018 + 10 * DAY, ("g", date(2018, 1, 10)), ("h", date(2018, 1, 11)))
    period = parse_period(tz_name=TZ, now=Y2018 + 400 * DAY, year=2018)
    report = build_report(store, period, now=Y2018 + 400 * DAY)
    form = json.loads(render(report, "json"))["sites"][0]["annual_form"]
    assert form["values"] == {
        "site_title": "某某局",
        "home_url": "http://bureau.example/",
        "info_total": 4,
        "概况类": 1,
        "政务动态": 2,
        "信息公开目录": 3,
        "special_maintained": 2,
        "special_opened": 1,
        "interpretations": 2,
    }
    assert form["late_items"] == 1  # b, seen 60 days after; a, late in 信息公开目录, was seen on time in 政务动态
    assert form["monthly"] == [
        {"tag": "概况类", "month": "2018-06", "items": 1},
        {"tag": "政务动态", "month": "2018-03", "items": 2},
        {"tag": "信息公开目录", "month": "2018-03", "items": 1},
        {"tag": "信息公开目录", "month": "2018-06", "items": 1},
        {"tag": "信息公开目录", "month": "2018-12", "items": 1},
    ]
    rows = form["rows"]
    assert [(r["section"], r["field"]) for r in rows] == [(s, f) for s, f, _ in FORM]
    blank = {r["field"] for r in rows if r["value"] is None}
    assert {"网站总访问量（单位：次）", "主办单位", "安全检测评估次数（单位：次）", "办件量 总数（单位：件）"} <= blank
    assert sum(1 for _, _, key in FORM if key is None) + 4 == len(blank)  # 主办单位, 标识码, ICP, 公安: not known


def test_identity_fields_come_from_config(store: Store, tmp_path: Path) -> None:
    """sites[].identity fills 主办单位, 标识码, ICP and 公安 cells; unknown keys are ignored, and a
    bad 标识码 is a config error with the key's path."""
    period = parse_period(tz_name=TZ, now=Y2018 + 400 * DAY, year=2018)
    identity = {"sponsor": "某某市人民政府办公室", "site_code": "4502000012", "icp": "桂ICP备05000001号", "x": "y"}
    report = build_report(store, period, now=Y2018 + 400 * DAY, identities={"bureau": identity})
    rows = {r["field"]: r["value"] for r in json.loads(render(report, "json"))["sites"][0]["annual_form"]["rows"]}
    assert rows["主办单位"] == "某某市人民政府办公室" and rows["政府网站标识码"] == "4502000012"
    assert rows["ICP备案号"] == "桂ICP备05000001号" and rows["公安机关备案号"] is None
    path = tmp_path / "config.yaml"
    path.write_text(
        "sites:\n  - name: a\n    title: A\n    base_url: http://a.example/\n"
        "    site_code: '45020'\n    pages: [{name: h, url: /, kind: homepage}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"sites\[0\]\.site_code"):
        load_config(path)


FOOTER = (
    "<html><head><title>某某局</title></head><body><div class=footer>主办单位：某某市交通运输局"
    " 网站标识码：4502000099 <a href='https://beian.miit.gov.cn/'>桂ICP备05000002号-1</a>"
    " <a href='http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=45020002000123'>"
    "桂公网安备 45020002000123号</a></div></body></html>"
)


def test_identity_fields_not_configured_come_from_what_the_homepage_shows(store: Store) -> None:
    """Without sites[].identity the form carries the footer's 主办单位, 标识码, ICP and 公安备案 from
    the latest integrity reading, and says which keys were read rather than stated; a configured
    value still wins over the footer's."""
    site_id = store.site_ids()["bureau"]
    store.submit([IntegrityStateRow(site_id, Y2018, SiteState(identity=read_identity(FOOTER)))])
    assert store.writer.drain(30)
    period = parse_period(tz_name=TZ, now=Y2018 + 400 * DAY, year=2018)

    def form(identities: dict[str, dict[str, str]]) -> dict[str, Any]:
        report = build_report(store, period, now=Y2018 + 400 * DAY, identities=identities)
        return dict(json.loads(render(report, "json"))["sites"][0]["annual_form"])

    shown = form({})
    rows = {r["field"]: r["value"] for r in shown["rows"]}
    assert rows["主办单位"] == "某某市交通运输局" and rows["政府网站标识码"] == "4502000099"
    assert rows["ICP备案号"] == "桂ICP备05000002号-1" and rows["公安机关备案号"] == "45020002000123"
    assert shown["observed_identity"] == ["sponsor", "site_code", "icp", "police"]
    stated = form({"bureau": {"site_code": "4502000012"}})
    assert {r["field"]: r["value"] for r in stated["rows"]}["政府网站标识码"] == "4502000012"
    assert stated["observed_identity"] == ["sponsor", "icp", "police"]


def test_a_near_miss_of_a_form_tag_is_warned(tmp_path: Path) -> None:
    """专题专栏 (not 专栏专题) would silently count nowhere: config validation says so; exact
    form tags and unrelated tags are not warned about."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "sites:\n  - name: a\n    title: A\n    base_url: http://a.example/\n"
        "    discovery: {columns: {解读: {tags: [政策解读类]}}}\n"
        "    pages:\n      - {name: h, url: /, kind: homepage}\n"
        "      - {name: zt, url: /zt/, kind: column, tags: [专题专栏, 专栏专题, 首页推荐]}\n",
        encoding="utf-8",
    )
    warnings = [w for w in load_config(path).warnings if "年度报表" in w]
    assert [w.split(":")[0] + " " + w.split("'")[1] for w in warnings] == ["a/zt 专题专栏", "a/解读 政策解读类"]
