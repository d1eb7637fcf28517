"""Hidden links (暗链): each technique found, each legitimate look-alike left alone."""

from __future__ import annotations

import base64

import pytest

from monitor.integrity import Domains, Finding, Kind, Level, Vocabulary, inspect_page
from tests.integrity.conftest import PAGE

SPAM = '<a href="http://www.bet-example.com/">澳门威尼斯人娱乐城</a>'
PLAIN = '<a href="http://shop-example.com/">links</a>'


def _encoded(html: str) -> str:
    return base64.b64encode(html.encode()).decode()


def _page(body: str, head: str = "") -> str:
    return f"<html><head><title>t</title>{head}</head><body><p>正文</p>{body}</body></html>"


def _hidden(html: str, domains: Domains, vocabulary: Vocabulary) -> list[Finding]:
    inspection = inspect_page(html, PAGE, domains=domains, vocabulary=vocabulary)
    assert inspection.error == ""
    return [f for f in inspection.findings if f.kind in (Kind.HIDDEN_LINK, Kind.HIDDEN_TEXT, Kind.ZERO_WIDTH)]


POSITIVE = [
    ("display_none", _page(f'<div style="display:none">{SPAM}</div>'), "display_none", Level.HIGH),
    ("visibility_hidden", _page(f'<div style="visibility: hidden">{SPAM}</div>'), "visibility_hidden", Level.HIGH),
    ("font_size_zero_plain", _page(f'<span style="font-size:0px">{PLAIN}</span>'), "font_size_zero", Level.LOW),
    ("font_size_zero_spam", _page(f'<span style="font-size:0">{SPAM}</span>'), "font_size_zero", Level.HIGH),
    (
        "style_rule_height_zero",
        _page(f'<div class="x">{SPAM}</div>', "<style>.x{height:0;overflow:hidden}</style>"),
        "zero_height_overflow",
        Level.HIGH,
    ),
    (
        "line_height_zero",
        _page(f'<p style="line-height:0;overflow:hidden">{SPAM}</p>'),
        "zero_height_overflow",
        Level.HIGH,
    ),
    (
        "colour_as_bg",
        _page(f'<div style="color:#fff;background-color:#ffffff">{SPAM}</div>'),
        "color_as_background",
        Level.HIGH,
    ),
    ("text_indent", _page(f'<div style="text-indent:-9999px">{SPAM}</div>'), "text_indent", Level.HIGH),
    ("off_screen", _page(f'<div style="position:absolute;left:-3000px">{SPAM}</div>'), "off_screen", Level.HIGH),
    ("z_index_below", _page(f'<div style="position:absolute;z-index:-10">{SPAM}</div>'), "z_index_below", Level.HIGH),
    ("opacity_zero", _page(f'<div style="opacity:0">{SPAM}</div>'), "opacity_zero", Level.HIGH),
    (
        "style_rule_by_id",
        _page(f'<div id="k">{SPAM}</div>', "<style>#k { display : none }</style>"),
        "display_none",
        Level.HIGH,
    ),
    (
        "rule_beside_an_invalid_selector",
        _page(f'<div class="x">{SPAM}</div>', "<style>div >>> p, .x { display:none }</style>"),
        "display_none",
        Level.HIGH,
    ),
    ("marquee_fast", _page(f'<marquee scrollamount="10000">{SPAM}</marquee>'), "marquee", Level.HIGH),
    (
        "iframe_zero",
        _page('<iframe src="http://evil.top/x" width="0" height="0"></iframe>'),
        "iframe_zero_size",
        Level.HIGH,
    ),
    (
        "iframe_full_page",
        _page('<iframe src="http://other-example.com/" width="100%" height="100%"></iframe>'),
        "iframe_full_page",
        Level.HIGH,
    ),
    ("document_write", _page(f"<script>document.write('{SPAM}');</script>"), "script_write", Level.HIGH),
    (
        "atob_plain",
        _page(f'<script>eval(atob("{_encoded("document.write(" + repr(PLAIN) + ")")}"))</script>'),
        "script_encoded",
        Level.LOW,
    ),
    ("atob_spam", _page(f'<script>document.write(atob("{_encoded(SPAM)}"))</script>'), "script_encoded", Level.HIGH),
    (
        "unescape",
        _page(
            "<script>document.write(unescape('%3Ca%20href%3D%22http%3A//x-example.com/%22%3E%E5%8D%9A%E5%BD%A9%3C/a%3E'))</script>"
        ),
        "script_encoded",
        Level.HIGH,
    ),
    (
        "fromcharcode",
        _page("<script>document.write(String.fromCharCode(" + ",".join(str(ord(c)) for c in SPAM) + "))</script>"),
        "script_encoded",
        Level.HIGH,
    ),
    (
        "written_hidden_block",
        _page(f"<script>document.write('<div style=\"display:none\">{PLAIN}</div>')</script>"),
        "script_write+display_none",
        Level.LOW,
    ),
    (
        "raw_ip_port",
        _page('<div style="display:none"><a href="http://203.0.113.9:8888/">x</a></div>'),
        "display_none",
        Level.HIGH,
    ),
    (
        "risky_tld_alone",
        _page('<div style="display:none"><a href="https://win-example.top/">x</a></div>'),
        "display_none",
        Level.LOW,
    ),
    (
        "risky_tld_off_screen",
        _page('<p style="position:fixed;top:-800px"><a href="https://win-example.top/">x</a></p>'),
        "off_screen",
        Level.HIGH,
    ),
    (
        "raw_ip_alone",
        _page('<div style="display:none"><a href="http://203.0.113.9/">x</a></div>'),
        "display_none",
        Level.LOW,
    ),
    ("hidden_attribute", _page(f"<div hidden>{PLAIN}</div>"), "hidden_attribute", Level.LOW),
    ("zero_width_spam", _page("<p>欢迎访问 博\u200b彩 网站</p>"), "zero_width", Level.HIGH),
    ("zero_width_latin_spam", _page("<p>best ca\u200bsi\u200dno here</p>"), "zero_width", Level.HIGH),
    ("zero_width_dense", _page("<p>" + "政\u200b府" * 12 + "</p>"), "zero_width", Level.LOW),
]


@pytest.mark.parametrize(("name", "html", "technique", "level"), POSITIVE, ids=[case[0] for case in POSITIVE])
def test_hidden_link_techniques_are_found(
    name: str, html: str, technique: str, level: Level, domains: Domains, vocabulary: Vocabulary
) -> None:
    findings = _hidden(html, domains, vocabulary)
    assert findings, name
    assert (findings[0].technique, findings[0].level) == (technique, level), findings[0]
    assert findings[0].page == PAGE and findings[0].evidence


NEGATIVE = [
    ("tab_panel_internal", _page('<div class="tab" style="display:none"><a href="/news/1.html">要闻</a></div>')),
    (
        "mobile_menu_in_media_query",
        _page(f'<nav class="m">{PLAIN}</nav>', "<style>@media (max-width:600px){.m{display:none}}</style>"),
    ),
    ("skip_link", _page('<a href="#main" style="position:absolute;left:-9999px">跳过导航</a>')),
    (
        "conac_badge_script",
        _page(
            "<script>document.write(unescape(\"%3Cspan id='_ideConac' %3E%3C/span%3E%3Cscript "
            "src='http://dcs.conac.cn/js/33/000/0000/60406093/CA330000000604060930001.js'%3E%3C/script%3E\"));</script>"
        ),
    ),
    (
        "government_dropdown",
        _page(
            '<select style="display:none"></select><div style="display:none"><a href="http://www.beijing.gov.cn/">北京</a></div>'
        ),
    ),
    (
        "jiucuo_on_raw_ip",
        _page('<a style="display:none" href="http://121.43.68.40/exposure/jiucuo.html?site_code=3300000020">x</a>'),
    ),
    ("slow_marquee", _page(f'<marquee scrollamount="3">{PLAIN}</marquee>')),
    ("visible_news_about_gambling", _page('<a href="http://news-example.com/1">严厉打击跨境赌博 百家乐 团伙</a>')),
    (
        "inline_display_overrides_rule",
        _page(f'<div class="p" style="display:block">{PLAIN}</div>', "<style>.p{display:none}</style>"),
    ),
    ("hover_rule_is_not_static", _page(f'<div class="h">{PLAIN}</div>', "<style>.h:hover{display:none}</style>")),
    ("normal_iframe", _page('<iframe src="http://map-example.com/" width="600" height="400"></iframe>')),
    ("own_subdomain", _page('<div style="display:none"><a href="http://m.example.gov.cn/">手机版</a></div>')),
    ("stray_zero_width", _page("<p>政府\u200b信息公开</p>")),
    ("javascript_link", _page('<div style="display:none"><a href="javascript:void(0)">x</a></div>')),
]


@pytest.mark.parametrize(("name", "html"), NEGATIVE, ids=[case[0] for case in NEGATIVE])
def test_legitimate_hidden_elements_are_not_findings(
    name: str, html: str, domains: Domains, vocabulary: Vocabulary
) -> None:
    assert _hidden(html, domains, vocabulary) == [], name


def test_link_farm_weighs_more_than_one_hidden_link(domains: Domains, vocabulary: Vocabulary) -> None:
    links = "".join(f'<a href="http://site{n}-example.com/">s{n}</a>' for n in range(4))
    farm = _hidden(_page(f'<div style="display:none">{links}</div>'), domains, vocabulary)
    single = _hidden(_page(f'<div style="display:none">{PLAIN}</div>'), domains, vocabulary)
    assert len(farm) == 4 and {f.score for f in farm} == {single[0].score + 15}


def test_evidence_names_the_hiding_element_and_the_reasons(domains: Domains, vocabulary: Vocabulary) -> None:
    [finding] = _hidden(_page(f'<div id="gg" style="display:none">{SPAM}</div>'), domains, vocabulary)
    assert 'style="display:none"' in finding.evidence
    assert "bet-example.com" in finding.evidence and "vocabulary" in finding.evidence
    assert finding.target == "bet-example.com"


@pytest.mark.parametrize(
    ("html", "technique", "level"),
    [
        (_page('<div style="font-size:0">百家乐 真人娱乐 在线</div>'), "font_size_zero", Level.HIGH),
        (
            _page('<div class="tab" style="display:none"><p>我市破获一起百家乐网络赌博案</p></div>'),
            "display_none",
            Level.LOW,
        ),
    ],
)
def test_hidden_spam_words_without_links(
    html: str, technique: str, level: Level, domains: Domains, vocabulary: Vocabulary
) -> None:
    [finding] = _hidden(html, domains, vocabulary)
    assert (finding.kind, finding.technique, finding.target, finding.level) == (
        Kind.HIDDEN_TEXT,
        technique,
        "百家乐",
        level,
    )
