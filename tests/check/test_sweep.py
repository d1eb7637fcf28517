"""check/_sweep.py and the read worker's inspection: cloaking visits through the real fetcher
against the simulated portal, dnspython answers mapped to NXDOMAIN / RESOLVES / UNKNOWN."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import dns.exception
import dns.resolver
import pytest

from monitor.check import Fetcher, dns_resolver, visit_as, visits
from monitor.check._readworker import Inspectors, read_request
from monitor.integrity import (
    CRAWLER,
    NORMAL,
    SEARCH_REFERER,
    VISITORS,
    Domains,
    Finding,
    Kind,
    Level,
    Resolution,
    compare_visits,
    load_vocabulary,
)
from monitor.models import Page, PageKind
from monitor.sim import HIDDEN_LINK_TARGET, SimPortal


def home(sim: SimPortal) -> Page:
    host = sim.base_url.split("//")[1].split(":")[0]
    return Page("sim", "home", sim.url("/"), PageKind.HOMEPAGE, timeout_s=2, allowed_hosts=(host,))


def test_a_search_engine_visitor_sent_off_site_is_a_visit_that_ends_there() -> None:
    with SimPortal() as sim:
        sim.fault("integrity:referer_cloak", "/")
        page = home(sim)

        async def run() -> tuple[Any, Any, Any]:
            async with Fetcher() as fetcher:
                return tuple([await visit_as(fetcher, page, v) for v in (NORMAL, SEARCH_REFERER, CRAWLER)])

        normal, search, crawler = asyncio.run(run())
    assert normal is not None and normal.final_url == sim.url("/") and "模拟市" in normal.body
    assert search is not None and (search.final_url, search.body) == (HIDDEN_LINK_TARGET, "")
    assert crawler is not None and crawler.final_url == sim.url("/")


def test_an_anti_bot_answer_is_no_visit() -> None:
    with SimPortal() as sim:
        sim.fault("challenge", "/")

        async def run() -> Any:
            async with Fetcher() as fetcher:
                return await visit_as(fetcher, home(sim), CRAWLER)

        assert asyncio.run(run()) is None


class FakeDns:
    """A dnspython resolver stand-in: raises what `answers` says for (name, record)."""

    def __init__(self, answers: dict[tuple[str, str], Exception | None]) -> None:
        self.answers = answers

    def resolve(self, name: str, record: str, lifetime: float) -> None:
        found = self.answers.get((name, record))
        if found is not None:
            raise found


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({("x.cn", "NS"): dns.resolver.NXDOMAIN()}, Resolution.NXDOMAIN),
        ({("x.cn", "NS"): dns.exception.Timeout()}, Resolution.UNKNOWN),
        ({("x.cn", "NS"): dns.resolver.NoNameservers()}, Resolution.UNKNOWN),
        ({("x.cn", "NS"): dns.resolver.NoAnswer(), ("x.cn", "A"): dns.resolver.NXDOMAIN()}, Resolution.NXDOMAIN),
        ({("x.cn", "NS"): dns.resolver.NoAnswer(), ("x.cn", "A"): dns.resolver.NoAnswer()}, Resolution.RESOLVES),
        ({}, Resolution.RESOLVES),
    ],
)
def test_only_nxdomain_says_a_domain_does_not_exist(answers: dict[Any, Any], expected: Resolution) -> None:
    assert dns_resolver(FakeDns(answers))("x.cn") is expected  # type: ignore[arg-type]


def test_the_reserved_invalid_tld_never_exists_without_asking() -> None:
    asked = FakeDns({})
    asked.resolve = None  # type: ignore[assignment]  # any query would raise TypeError
    assert dns_resolver(asked)("lapsed-partner.invalid") is Resolution.NXDOMAIN  # type: ignore[arg-type]


def settings(url: str, inspect: str | None) -> dict[str, Any]:
    return {
        "url": url,
        "kind": "homepage",
        "expect": None,
        "item_selector": None,
        "date_selector": None,
        "final_url": url,
        "content_type": "text/html; charset=utf-8",
        "today": date(2026, 1, 1).isoformat(),
        "inspect": inspect,
    }


BODY = '<html><body><div style="display:none"><a href="http://x.casino.top/">百家乐</a></div></body></html>'.encode()


def test_the_worker_inspects_only_when_asked_and_reports_a_broken_word_list(tmp_path: Path) -> None:
    url = "http://www.example.gov.cn/"
    inspectors = Inspectors()
    assert read_request(settings(url, None), BODY, inspectors).inspection is None
    inspection = read_request(settings(url, ""), BODY, inspectors).inspection
    assert inspection is not None and [f.kind for f in inspection.findings] == [Kind.HIDDEN_LINK]
    broken = tmp_path / "words.txt"
    broken.write_text("no header line\n", encoding="utf-8")
    failed = read_request(settings(url, str(broken)), BODY, inspectors).inspection
    assert failed is not None and failed.error.startswith(f"word list {broken}")
    missing = read_request(settings(url, str(tmp_path / "gone.txt")), BODY, inspectors).inspection
    assert missing is not None and "gone.txt" in missing.error


@pytest.mark.parametrize(
    ("signal", "technique", "target", "evidence"),
    [
        ("referer_cloak", "search_referer:offsite", "casino-portal.invalid", (HIDDEN_LINK_TARGET, "normal visitor to")),
        ("crawler_cloak", "crawler:spam_text", "澳门威尼斯人", ("crawler: «澳门威尼斯人 百家乐", "; normal: «今天是")),
        ("mobile_cloak", "mobile:offsite", "casino-portal.invalid", (HIDDEN_LINK_TARGET, "normal visitor to")),
    ],
)
def test_each_cloaking_visitor_is_caught_alone_with_both_sides_in_the_evidence(
    signal: str, technique: str, target: str, evidence: tuple[str, str]
) -> None:
    """The sim cloaks for one visitor (a search engine's Referer, the Baiduspider User-Agent, a
    phone): that visitor alone gets a high finding whose evidence shows what it and the normal
    visitor got; the clean portal gives none."""
    domains, vocabulary = Domains(), load_vocabulary()
    with SimPortal() as sim:
        page = home(sim)

        async def sweep() -> list[Finding]:
            async with Fetcher() as fetcher:
                seen = await visits(fetcher, page, VISITORS)
            normal = seen.pop(NORMAL.name)
            assert normal is not None
            others = {name: visit for name, visit in seen.items() if visit is not None}
            assert set(others) == {"search_referer", "crawler", "mobile"}
            return compare_visits(page.url, normal, others, domains, vocabulary)

        assert asyncio.run(sweep()) == []
        sim.fault(f"integrity:{signal}", "/")
        [finding] = asyncio.run(sweep())
    assert (finding.kind, finding.level, finding.technique, finding.target) == (
        Kind.CLOAKING,
        Level.HIGH,
        technique,
        target,
    )
    assert all(part in finding.evidence for part in evidence), finding.evidence
