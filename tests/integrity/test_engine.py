"""The finding lifecycle, the word list, the offline suffix list and the engine's bounds."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from monitor.integrity import (
    Domains,
    Finding,
    Identity,
    Kind,
    Level,
    Snapshot,
    Tracked,
    Vocabulary,
    VocabularyError,
    inspect_page,
    load_vocabulary,
    parse_vocabulary,
    track,
)
from monitor.integrity._findings import MAX_EVIDENCE_CHARS
from tests.integrity.conftest import PAGE

# -- lifecycle -------------------------------------------------------------------------------


def _finding(target: str, score: int = 70, page: str = PAGE) -> Finding:
    return Finding.make(Kind.HIDDEN_LINK, score, page, "display_none", target, f"<div> … {target}")


def test_lifecycle_opens_keeps_first_seen_resolves_and_reopens() -> None:
    a, b = _finding("a-example.com"), _finding("b-example.com")
    first = track([], [a, b], 100.0, [PAGE])
    assert [(t.finding.target, t.first_seen, t.last_seen, t.open) for t in first] == [
        ("a-example.com", 100.0, 100.0, True),
        ("b-example.com", 100.0, 100.0, True),
    ]
    weaker = _finding("a-example.com", score=20)
    second = track(first, [weaker], 200.0, [PAGE])
    assert [(t.finding.target, t.first_seen, t.last_seen, t.resolved_at) for t in second] == [
        ("a-example.com", 100.0, 200.0, None),
        ("b-example.com", 100.0, 100.0, 200.0),
    ]
    assert second[0].finding.level is Level.LOW  # the latest evidence and level win
    third = track(second, [a, b], 300.0, [PAGE])
    reopened = [t for t in third if t.finding.target == "b-example.com"]
    assert [(t.first_seen, t.resolved_at) for t in reopened] == [(100.0, 200.0), (300.0, None)]


def test_lifecycle_never_resolves_pages_not_checked() -> None:
    other = _finding("c-example.com", page="http://www.example.gov.cn/col/")
    opened = track([], [other], 100.0, [other.page])
    assert track(opened, [], 200.0, [PAGE]) == opened
    assert track(opened, [], 200.0, [other.page])[0] == Tracked(other, 100.0, 100.0, 200.0)


def test_finding_strings_are_bounded() -> None:
    finding = Finding.make(Kind.HIDDEN_LINK, 10, PAGE, "display_none", "x" * 5000, "y " * 100_000)
    assert len(finding.evidence) <= MAX_EVIDENCE_CHARS and len(finding.target) <= 200
    assert finding.evidence.endswith("…") and finding.level is Level.LOW


def test_levels_are_stable_strings() -> None:
    assert [level.value for level in Level] == ["low", "high"]


# -- word list -------------------------------------------------------------------------------


def test_shipped_word_list_matches_spam_not_ordinary_government_words(vocabulary: Vocabulary) -> None:
    assert vocabulary.match("澳门百家乐真人娱乐") == ("gambling", "百家乐")
    assert vocabulary.match("http://www.bet365-example.com/") == ("gambling", "bet365")
    assert vocabulary.match("Online CASINO") == ("gambling", "casino")
    for ordinary in ("福利彩票发行", "创业担保贷款政策", "扫黄打非 打击色情", "alphabet betting-free", "政府信息公开"):
        assert vocabulary.match(ordinary) in (None, ("gambling", "betting")), ordinary
    assert vocabulary.match("福利彩票发行", "创业担保贷款政策", "扫黄打非") is None


def test_word_list_can_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("# mine\n[gambling]\n特码\n[loan]\nQuickCash\n", "utf-8")
    words = load_vocabulary(path)
    assert words.match("六合彩 特码") == ("gambling", "特码")
    assert words.match("quickcash now") == ("loan", "quickcash")
    assert words.match("百家乐") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [("词\n", "mine:1: a word before any [category] header"), ("# nothing\n", "mine: no words")],
)
def test_bad_word_lists_say_why_in_one_line(text: str, message: str) -> None:
    with pytest.raises(VocabularyError) as raised:
        parse_vocabulary(text, "mine")
    assert str(raised.value) == message


def test_unreadable_word_list(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="cannot read the word list"):
        load_vocabulary(tmp_path / "missing.txt")


# -- offline Public Suffix List --------------------------------------------------------------


def test_suffix_list_never_touches_the_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HOME", str(tmp_path))  # and no cache written where tldextract would put one
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("TLDEXTRACT_CACHE", raising=False)
    fresh = Domains()
    assert fresh.registrable("www.beijing.gov.cn") == "beijing.gov.cn"
    assert fresh.registrable("a.b.example.co.uk") == "example.co.uk"
    assert fresh.registrable("news.xinhuanet.com") == "xinhuanet.com"
    assert fresh.registrable("203.0.113.7") == "203.0.113.7"
    assert fresh.registrable("www.casino-portal.invalid") == "casino-portal.invalid"  # TLD not on the list
    assert fresh.registrable("intranet") == "intranet"
    assert list(tmp_path.iterdir()) == []


# -- bounds ----------------------------------------------------------------------------------


HOSTILE = {
    "deep_nesting": "<div>" * 200_000 + '<a href="http://x-example.com/">x</a>' + "</div>" * 200_000,
    "repeated_deep_nesting": ("<div>" * 1_999 + "</div>" * 1_999) * 100,
    "many_hidden_links": '<div style="display:none">'
    + "".join(f'<a href="http://s{n}-example.com/">百家乐{n}</a>' for n in range(20_000))
    + "</div>",
    "huge_style": '<div style="' + "a:b;" * 500_000 + 'display:none"><a href="http://y-example.com/">y</a></div>',
    "brace_bomb": "<style>" + "@media{" * 50_000 + ".a{display:none}" + "}" * 50_000 + "</style>",
    "huge_sheet": "<style>" + ".a{color:red}" * 200_000 + "</style>",
    "payload_bomb": "<script>"
    + "document.write(unescape('%3Ca%20href%3Dhttp://z-example.com%3Ez%3C/a%3E'));" * 20_000
    + "</script>",
    "unclosed_literal": "<script>document.write('" + "x" * 1_000_000 + "</script>",
    "long_line": "<p>" + "政" * 3_000_000 + "</p>",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_pages_are_bounded(name: str, domains: Domains, vocabulary: Vocabulary) -> None:
    started = time.process_time()
    inspection = inspect_page(HOSTILE[name], PAGE, domains=domains, vocabulary=vocabulary)
    elapsed = time.process_time() - started
    if name == "deep_nesting":
        assert inspection.error == "nested deeper than 2000: read up to character 10000"
    else:
        assert inspection.error == "", inspection.error
    assert len(inspection.findings) <= 101
    assert all(len(f.evidence) <= MAX_EVIDENCE_CHARS for f in inspection.findings)
    assert elapsed < 10.0, f"{name}: {elapsed:.1f} s CPU"


def test_inspection_never_raises(domains: Domains, vocabulary: Vocabulary) -> None:
    for junk in (
        "",
        "\x00\x01",
        "<",
        "<a href='http://[::1'>",
        "<iframe src='http://'>",
        "<a href='http://a:99999/'>x</a>",
    ):
        inspection = inspect_page(junk, PAGE, domains=domains, vocabulary=vocabulary)
        assert inspection.page == PAGE


# -- what phase 2 stores ---------------------------------------------------------------------


def test_identity_and_snapshot_round_trip_through_json(domains: Domains, vocabulary: Vocabulary) -> None:
    html = (
        "<html><head><title>某市</title><meta name='SiteIDCode' content='1100000001'>"
        "<script src='http://cdn.example.com/a.js'></script></head><body><p>网站标识码：1100000001 京ICP备1234567号-2"
        " 京公网安备11010202000001号 主办单位：某市政府办公室</p><span id='_ideConac'></span>"
        "<script>location.href='http://www.other.gov.cn/'</script></body></html>"
    )
    inspection = inspect_page(html, PAGE, domains=domains, vocabulary=vocabulary)
    stored = json.loads(json.dumps(inspection.identity.as_dict()))
    assert Identity.from_dict(stored) == inspection.identity
    stored = json.loads(json.dumps(inspection.snapshot.as_dict()))
    assert Snapshot.from_dict(stored) == inspection.snapshot
    assert inspection.snapshot.script_domains == {"example.com"}
    assert inspection.snapshot.redirects == ("http://www.other.gov.cn/",)
    finding = _finding("a-example.com")
    assert json.loads(json.dumps(finding.as_dict()))["level"] == "high"
