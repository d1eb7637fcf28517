"""integrity/_ipv6.py: IPv4/IPv6 answers compared (status, then content hash, then visible text),
what an AAAA answer means, and which readings the success ratio counts."""

from __future__ import annotations

from monitor.integrity import AaaaAnswer, Answer, Ipv6Reading, Ipv6State, Kind, Level, consistency_findings

URL = "https://www.example.gov.cn/"
PAGE = "<html><head><title>某某市人民政府</title></head><body><h1>某某市人民政府</h1>{}</body></html>"
NEWS = " ".join(f"<p>新闻标题第{i}条 政务动态 2024-05-{i:02d}</p>" for i in range(1, 25))


def answer(status: int | None, body: str, digest: str = "") -> Answer:
    return Answer(status, digest or str(hash(body)), body)


def test_same_bytes_are_consistent() -> None:
    body = PAGE.format(NEWS)
    assert consistency_findings(URL, answer(200, body, "1"), answer(200, body, "1")) == []


def test_a_clock_or_token_that_differs_is_still_the_same_page() -> None:
    ipv4 = PAGE.format(NEWS + "<p>当前时间 10:01:02</p>")
    ipv6 = PAGE.format(NEWS + "<p>当前时间 10:01:07</p>")
    assert consistency_findings(URL, answer(200, ipv4), answer(200, ipv6)) == []


def test_another_page_over_ipv6_is_a_low_content_finding() -> None:
    ipv6 = PAGE.format("<p>网站升级改造中 旧版页面 请稍后访问</p>")
    (finding,) = consistency_findings(URL, answer(200, PAGE.format(NEWS)), answer(200, ipv6))
    assert (finding.kind, finding.level, finding.technique, finding.target) == (
        Kind.IPV6_INCONSISTENT,
        Level.LOW,
        "content",
        "www.example.gov.cn",
    )
    assert "网站升级改造中" in finding.evidence


def test_another_status_is_a_high_status_finding() -> None:
    (finding,) = consistency_findings(URL, answer(200, PAGE.format(NEWS)), answer(403, ""))
    assert finding.level is Level.HIGH and finding.technique == "status"
    assert finding.evidence == "HTTP 200 over IPv4, HTTP 403 over IPv6"


def test_aaaa_answer_states() -> None:
    assert AaaaAnswer(("2001:db8::1",)).state is None
    assert AaaaAnswer().state is Ipv6State.NO_IPV6
    assert AaaaAnswer(failure="NXDOMAIN").state is Ipv6State.UNKNOWN


def test_only_ok_and_down_count_in_the_ratio() -> None:
    counted = {state: Ipv6Reading(URL, 0.0, state).counted for state in Ipv6State}
    assert counted == {Ipv6State.OK: True, Ipv6State.DOWN: True, Ipv6State.NO_IPV6: False, Ipv6State.UNKNOWN: False}
