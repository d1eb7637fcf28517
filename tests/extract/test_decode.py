"""monitor.decode: bytes + Content-Type -> text, whatever the declarations claim."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.extract._decode import Decoded, decode, normalise_codec

CHINESE = "政府信息公开目录 通知公告 2018年12月24日"
GBK_ONLY = "朱镕基 王喆 李堃"  # 镕/喆/堃 are in GBK but not in GB2312
GOLDEN = Path(__file__).parent / "golden"


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def gbk(text: str) -> bytes:
    return text.encode("gbk")


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


CASES = [
    # (id, body, content_type, expected encoding, expected text fragment)
    ("utf8-bom", codecs.BOM_UTF8 + utf8(page(CHINESE)), None, "utf-8", CHINESE),
    ("utf16le-bom", codecs.BOM_UTF16_LE + page(CHINESE).encode("utf-16-le"), None, "utf-16-le", CHINESE),
    ("utf16be-bom", codecs.BOM_UTF16_BE + page(CHINESE).encode("utf-16-be"), None, "utf-16-be", CHINESE),
    ("bom-beats-header", codecs.BOM_UTF8 + utf8(page(CHINESE)), "text/html; charset=gbk", "utf-8", CHINESE),
    ("header-gbk", gbk(page(CHINESE)), "text/html; charset=GBK", "gb18030", CHINESE),
    ("header-quoted", gbk(page(CHINESE)), 'text/html; charset="gb2312"', "gb18030", CHINESE),
    ("header-utf8", utf8(page(CHINESE)), "text/html;charset=utf-8", "utf-8", CHINESE),
    ("meta-charset", gbk(page(CHINESE, '<meta charset="gb2312">')), None, "gb18030", CHINESE),
    (
        "meta-http-equiv",
        gbk(page(CHINESE, '<meta http-equiv="Content-Type" content="text/html; charset=gbk">')),
        None,
        "gb18030",
        CHINESE,
    ),
    (
        "xml-declaration",
        gbk('<?xml version="1.0" encoding="GBK"?><list>' + CHINESE + "</list>"),
        None,
        "gb18030",
        CHINESE,
    ),
    ("undeclared-gbk", gbk(page(CHINESE)), None, "gb18030", CHINESE),
    ("undeclared-utf8", utf8(page(CHINESE)), None, "utf-8", CHINESE),
    ("gb2312-declared-gbk-chars", gbk(page(GBK_ONLY, '<meta charset="gb2312">')), None, "gb18030", GBK_ONLY),
    ("lying-header-utf8-bytes-gbk", gbk(page(CHINESE)), "text/html; charset=utf-8", "gb18030", CHINESE),
    ("lying-header-gbk-bytes-utf8", utf8(page(CHINESE)), "text/html; charset=gbk", "utf-8", CHINESE),
    ("lying-meta-utf8-bytes-gbk", gbk(page(CHINESE, '<meta charset="utf-8">')), None, "gb18030", CHINESE),
    (
        "header-wins-over-meta",
        gbk(page(CHINESE, '<meta charset="utf-8">')),
        "text/html; charset=gb18030",
        "gb18030",
        CHINESE,
    ),
    ("unknown-label-falls-back", utf8(page(CHINESE)), "text/html; charset=x-nonsense", "utf-8", CHINESE),
    (
        "utf16-label-without-bom",
        utf8(page(CHINESE, '<meta charset="unicode">')),
        "text/html; charset=utf-16",
        "utf-8",
        CHINESE,
    ),
    (
        "ascii-declared-latin1",
        page("plain ascii").encode(),
        "text/html; charset=iso-8859-1",
        "cp1252",
        "plain ascii",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decodes_to_the_right_text(body: bytes, content_type: str | None, encoding: str, fragment: str) -> None:
    decoded = decode(body, content_type)
    assert decoded.encoding == encoding
    assert fragment in decoded.text
    assert decoded.is_text
    assert "\ufffd" not in decoded.text


BINARY = [
    ("png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
    ("gzip-not-inflated", b"\x1f\x8b\x08\x00" + bytes(200)),
    ("nul-bytes", b"<html>" + b"\x00\x01\x02" * 100),
    ("random-bytes", random.Random(7).randbytes(4000)),
    ("control-chars", bytes(byte % 8 + 1 for byte in random.Random(3).randbytes(4000))),
]


@pytest.mark.parametrize("body", [b[1] for b in BINARY], ids=[b[0] for b in BINARY])
def test_binary_garbage_is_not_text(body: bytes) -> None:
    assert decode(body).is_text is False


def test_empty_body_is_empty_text_not_a_decode_error() -> None:
    # An empty 200 is a content problem (soft 404), for the caller to judge; decoding did not fail.
    assert decode(b"") == Decoded("", "utf-8", True)
    assert decode(b"", "text/html; charset=gbk") == Decoded("", "utf-8", True)


def test_double_encoded_mojibake_decodes_without_repair() -> None:
    body = (GOLDEN / "021.html").read_bytes()
    decoded = decode(body, "text/html; charset=utf-8")
    assert decoded.encoding == "utf-8"
    assert decoded.is_text
    assert "<title>è¯·ç" in decoded.text  # 请稍候 read as Latin-1 and re-encoded: kept as is


@pytest.mark.parametrize(
    ("name", "encoding", "fragment"),
    [
        ("051.html", "gb18030", "平潭统计年鉴2025"),  # <meta charset="gbk">
        ("052.html", "gb18030", "问题清单"),  # <meta charset="gb2312">
        ("054.html", "gb18030", "邯郸市教育局"),  # a JSP directive says UTF-8 before the gb2312 meta
        ("056.html", "gb18030", "恩格贝生态示范区"),  # no declaration at all
        ("057.html", "utf-8", "国家药监局"),
    ],
)
def test_corpus_encodings(name: str, encoding: str, fragment: str) -> None:
    decoded = decode((GOLDEN / name).read_bytes())
    assert (decoded.encoding, decoded.is_text) == (encoding, True)
    assert fragment in decoded.text


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("GBK", "gb18030"),
        ("gb2312", "gb18030"),
        ("x-gbk", "gb18030"),
        ("GB_2312-80", "gb18030"),
        ("cp936", "gb18030"),
        ("UTF8", "utf-8"),
        ("utf-8", "utf-8"),
        ("big5", "big5"),
        ("US-ASCII", "cp1252"),
        ("nonsense", None),
    ],
)
def test_codec_labels_normalise(label: str, codec: str | None) -> None:
    assert normalise_codec(label) == codec


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=2000), content_type=st.one_of(st.none(), st.text(max_size=60)))
def test_never_raises(body: bytes, content_type: str | None) -> None:
    decoded = decode(body, content_type)
    assert isinstance(decoded.text, str)
    assert isinstance(decoded.encoding, str) and decoded.encoding


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>+kBp3pQ-+2D0-</body></html>", "text/html; charset=utf-7"),
        (b"<html><body>\\u901a\\u77e5\\ud83d</body></html>", "text/html; charset=unicode-escape"),
    ],
    ids=["utf-7", "unicode-escape"],
)
def test_codecs_that_make_lone_surrogates_give_encodable_text(body: bytes, content_type: str) -> None:
    text = decode(body, content_type).text
    assert "\ufffd</body>" in text
    text.encode()  # hashing, SQLite and printing all encode it
