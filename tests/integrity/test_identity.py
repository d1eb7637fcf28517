"""Identity (网站标识): footer lines, widgets and page tags, on synthetic and real corpus pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from monitor.extract import decode
from monitor.integrity import (
    Element,
    Identity,
    Kind,
    Level,
    TagProfile,
    identity_findings,
    read_identity,
    tag_findings,
)
from tests.integrity.conftest import PAGE


def _footer(body: str, head: str = "") -> Identity:
    return read_identity(f"<html><head>{head}</head><body><div class='footer'>{body}</div></body></html>")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("网站标识码：1100000001", "1100000001"),
        ("政府网站标识码: 3609000002　", "3609000002"),
        ("网站标识码bm01000001", "bm01000001"),
        ("网站标识码：BM35000001", "bm35000001"),
        ("网站标识码：12345678901", ""),
        ("网站标识码：123456789", ""),
    ],
)
def test_site_code_ten_digits_or_bm_plus_eight(body: str, code: str) -> None:
    assert _footer(body).site_code == code


@pytest.mark.parametrize(
    ("body", "icp"),
    [
        ("京ICP备05070218号", "京ICP备05070218号"),
        ("鄂ICP备05011090号-1", "鄂ICP备05011090号-1"),
        ("京ICP备 04000001号", "京ICP备04000001号"),
        ("备案序号:京ICP备13027807号 - 2", "京ICP备13027807号-2"),
        ("ICP许可证", ""),
    ],
)
def test_icp_number_with_optional_suffix(body: str, icp: str) -> None:
    assert _footer(body).icp == icp


@pytest.mark.parametrize(
    ("body", "police"),
    [
        ("京公网安备 11010202000001号", "11010202000001"),
        ("晋公网安备14010502050691号", "14010502050691"),
        (
            '<a href="http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=36090202000004">赣公网安备</a>',
            "36090202000004",
        ),
        ("京公网安备 1101020200000号", ""),
    ],
)
def test_police_record_is_fourteen_digits(body: str, police: str) -> None:
    assert _footer(body).police == police


@pytest.mark.parametrize(
    ("body", "forms", "error"),
    [
        ('<span id="_ideConac"></span>', ("span",), False),
        ('<script src="http://dcs.conac.cn/js/33/000/0000/6040.js"></script>', ("script",), False),
        (
            '<a href="http://bszs.conac.cn/sitename?method=show&id=09EC"><img src="/images/red.png"></a>',
            ("link",),
            False,
        ),
        (
            "<script>document.write(unescape(\"%3Cspan id='_ideConac' %3E%3C/span%3E%3Cscript "
            "src='http://dcs.conac.cn/js/33/000.js'%3E%3C/script%3E\"));</script>",
            ("script",),
            False,
        ),
        (
            '<a href="http://bszs.conac.cn/sitename?id=1"><img src="http://dcs.conac.cn/image/red_error.png"></a>',
            ("link",),
            True,
        ),
        ('<span id="_ideConac"><img id="imgConac" src="/images/x.png" alt="标识已过期"></span>', ("span",), True),
        ("", (), False),
    ],
)
def test_conac_badge_variants(body: str, forms: tuple[str, ...], error: bool) -> None:
    identity = _footer(body)
    assert (identity.conac, identity.conac_error) == (forms, error)


@pytest.mark.parametrize(
    ("body", "generation", "code"),
    [
        (
            "<script id=\"_jiucuo_\" sitecode='bm35000001' src='https://zfwzgl.www.gov.cn/exposure/jiucuo.js'></script>",
            "national",
            "bm35000001",
        ),
        (
            '<script id="_jiucuo_" sitecode="1400000045" src="http://pucha.kaipuyun.cn/exposure/jiucuo.js"></script>',
            "old",
            "1400000045",
        ),
        (
            '<script id="_jiucuo_" sitecode="4200000118" src="//scjg.hubei.gov.cn/material/js/jiucuo.js"></script>',
            "local",
            "4200000118",
        ),
        ('<a href="http://121.43.68.40/exposure/jiucuo.html?site_code=3300000020">纠错</a>', "link", "3300000020"),
        ("", "", ""),
    ],
)
def test_jiucuo_widget_old_and_new_hosts(body: str, generation: str, code: str) -> None:
    identity = _footer(body)
    assert identity.jiucuo == generation
    assert identity.site_code == code


def test_organiser() -> None:
    assert (
        _footer("<p>主办单位：福建省平潭综合实验区管理委员会办公室 地址</p>").organiser
        == "福建省平潭综合实验区管理委员会办公室"
    )
    assert _footer("主办：山西省人民政府办公厅&nbsp;©&nbsp;山西省人民政府网").organiser == "山西省人民政府办公厅"
    assert _footer("<b>湖北省市场监督管理局主办</b>").organiser == "湖北省市场监督管理局"
    assert _footer("本站由国家药品监督管理局主办  版权所有").organiser == "国家药品监督管理局"
    assert _footer("协办单位：某某").organiser == ""


FULL = Identity(
    site_codes=(("footer", "1100000001"), ("meta", "1100000001")),
    icp="京ICP备05070218号",
    police="11010202000001",
    conac=("span",),
    jiucuo="national",
    organiser="某某市人民政府办公室",
)


def _kinds(findings: list) -> set[tuple[str, str, str]]:
    return {(f.kind.value, f.technique, f.level.value) for f in findings}


def test_complete_identity_has_no_findings() -> None:
    assert identity_findings(PAGE, FULL, previous=FULL, expected_code="1100000001") == []


def test_identity_findings_missing_gone_mismatch_changed() -> None:
    never = replace(FULL, organiser="")
    assert _kinds(identity_findings(PAGE, never)) == {("identity_missing", "missing", "low")}
    gone = replace(FULL, site_codes=())
    [finding] = identity_findings(PAGE, gone, previous=FULL)
    assert (finding.technique, finding.target, finding.level) == ("disappeared", "site_code", Level.HIGH)
    assert "1100000001" in finding.evidence
    wrong = identity_findings(PAGE, FULL, expected_code="1100000002")
    assert _kinds(wrong) == {("identity_mismatch", "configured", "high")}
    disagree = replace(FULL, site_codes=(("footer", "1100000001"), ("jiucuo", "1100000009")))
    assert _kinds(identity_findings(PAGE, disagree)) == {("identity_mismatch", "sources_disagree", "low")}
    changed = replace(FULL, icp="京ICP备99999999号")
    assert _kinds(identity_findings(PAGE, changed, previous=FULL)) == {("identity_changed", "changed", "low")}
    error = replace(FULL, conac_error=True)
    assert _kinds(identity_findings(PAGE, error)) == {("identity_mismatch", "conac_error", "high")}


def test_page_tags_by_page_type() -> None:
    tags = (("SiteName", "某市"), ("SiteDomain", "www.example.gov.cn"), ("SiteIDCode", "1100000001"))
    homepage = replace(FULL, tags=tags)
    assert tag_findings(PAGE, homepage, TagProfile.HOMEPAGE, host="www.example.gov.cn") == []
    missing = {f.target for f in tag_findings(PAGE, homepage, TagProfile.COLUMN)}
    assert missing == {"ColumnName", "ColumnDescription", "ColumnKeywords", "ColumnType"}
    wrong_host = tag_findings(PAGE, homepage, TagProfile.HOMEPAGE, host="other.example.gov.cn")
    assert [f.technique for f in wrong_host] == ["site_domain"]
    article = replace(FULL, tags=(*tags, ("ArticleTitle", "x"), ("ContentSource", "y"), ("PubDate", "2024/01/02")))
    techniques = {f.technique for f in tag_findings(PAGE, article, TagProfile.ARTICLE)}
    assert {"pubdate_format", "missing"} <= techniques
    dated = replace(FULL, tags=(*tags, ("ArticleTitle", "x"), ("ContentSource", "y"), ("PubDate", "2024-01-02 09:30")))
    column_tags = (("ColumnName", "a"), ("ColumnDescription", "b"), ("ColumnKeywords", "c"), ("ColumnType", "d"))
    dated = replace(dated, tags=(*dated.tags, *column_tags))
    assert tag_findings(PAGE, dated, TagProfile.ARTICLE, shown_date=date(2024, 1, 2)) == []
    [off] = tag_findings(PAGE, dated, TagProfile.ARTICLE, shown_date=date(2024, 1, 3))
    assert (off.kind, off.technique, off.level) == (Kind.PAGE_TAG, "pubdate_disagrees", Level.LOW)


def _corpus_identity(corpus: Path, name: str) -> Identity:
    return read_identity(decode((corpus / "pages" / name).read_bytes()).text)


REAL = [
    # file, site code, sources, ICP, police, CONAC forms, 找错, organiser
    (
        "002.html",
        "1400000045",
        ("footer", "jiucuo", "meta"),
        "晋ICP备12000773号",
        "14010502050691",
        ("link",),
        "old",
        "山西省人民政府办公厅",
    ),
    (
        "003.html",
        "bm01000001",
        ("footer", "footer"),
        "京ICP备05070218号",
        "11010202000001",
        ("span", "link"),
        "link",
        "国务院办公厅",
    ),
    (
        "010.html",
        "4200000118",
        ("footer", "jiucuo", "meta"),
        "鄂ICP备05011090号-1",
        "42010602003941",
        ("link",),
        "local",
        "湖北省市场监督管理局",
    ),
    (
        "022.html",
        "3590000001",
        ("footer", "meta"),
        "闽ICP备09032658号",
        "",
        ("span", "link"),
        "link",
        "福建省平潭综合实验区管理委员会办公室",
    ),
    (
        "057.html",
        "bm35000001",
        ("footer", "jiucuo", "meta"),
        "京ICP备13027807号",
        "11010202008311",
        ("link",),
        "national",
        "国家药品监督管理局",
    ),
    (
        "060.html",
        "3609000002",
        ("footer", "jiucuo", "meta"),
        "赣ICP备06000141号",
        "36090202000004",
        ("link",),
        "national",
        "宜春市人民政府",
    ),
    (
        "062.html",
        "bm07000001",
        ("footer", "jiucuo"),
        "京ICP备04000001号",
        "",
        ("script",),
        "old",
        "中华人民共和国工业和信息化部",
    ),
    (
        "008.html",
        "1506000140",
        ("footer", "jiucuo"),
        "蒙ICP备13001412号-2",
        "15062102000168",
        ("span", "script", "link"),
        "old",
        "鄂尔多斯市恩格贝生态示范区管委会",
    ),
]


@pytest.mark.parametrize("case", REAL, ids=[case[0] for case in REAL])
def test_identity_of_real_corpus_pages(case: tuple, corpus: Path) -> None:
    name, code, sources, icp, police, conac, jiucuo, organiser = case
    identity = _corpus_identity(corpus, name)
    assert identity.site_code == code
    assert tuple(source for source, _ in identity.site_codes) == sources
    assert (identity.icp, identity.police, identity.conac, identity.jiucuo) == (icp, police, conac, jiucuo)
    assert identity.organiser == organiser
    assert not identity.conac_error
    assert [f for f in identity_findings(name, identity, expected_code=code) if f.level is Level.HIGH] == []


def test_page_tags_of_real_corpus_pages(corpus: Path) -> None:
    article = _corpus_identity(corpus, "002.html")
    findings = tag_findings("002", article, TagProfile.ARTICLE, host="www.shanxi.gov.cn", shown_date=date(2019, 9, 18))
    # 002 carries the article and site tags, PubDate 2019-09-18 06:23, but only ColumnName of the column's.
    assert [(f.technique, f.target) for f in findings] == [
        ("missing", "ColumnDescription"),
        ("missing", "ColumnKeywords"),
        ("missing", "ColumnType"),
    ]
    column = _corpus_identity(corpus, "022.html")
    assert tag_findings("022", column, TagProfile.COLUMN, host="www.pingtan.gov.cn") == []
    homepage = _corpus_identity(corpus, "060.html")
    assert tag_findings("060", homepage, TagProfile.HOMEPAGE, host="www.yichun.gov.cn") == []
    assert dict(homepage.tags)["SiteIDCode"] == "3609000002"
    assert Element.SITE_CODE in homepage.present()
