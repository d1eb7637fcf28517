"""check/_ipv6.py: the homepage over IPv6 (a real simulated portal on ::1) next to IPv4, the AAAA
lookup's three answers, and bad input (unresolvable host, refused, timeout) as recorded error kinds."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import dns.resolver
import pytest

from monitor.check import Fetcher, HostBudget, Ipv6Prober, aaaa_resolver
from monitor.check._fetch import ipv4_addresses
from monitor.integrity import AaaaAnswer, Ipv6State, Kind
from monitor.models import Page, PageKind, Result
from monitor.sim import SimPortal, ipv6_loopback

NO_IPV6 = ipv6_loopback()
needs_ipv6 = pytest.mark.skipif(bool(NO_IPV6), reason=f"no IPv6 loopback on this machine: {NO_IPV6}")


def localhost_aaaa(host: str) -> AaaaAnswer:
    """The test's DNS: `localhost` has the AAAA record ::1 (its A record comes from /etc/hosts)."""
    return AaaaAnswer(("::1",)) if host == "localhost" else AaaaAnswer()


def homepage(sim: SimPortal, timeout_s: float = 5.0) -> Page:
    url = sim.url("/").replace("127.0.0.1", "localhost")
    return Page("sim", "home", url, PageKind.HOMEPAGE, timeout_s=timeout_s, allowed_hosts=("localhost",))


def probe(page: Page, resolver: object = localhost_aaaa) -> object:
    async def run() -> object:
        prober = Ipv6Prober(resolver=resolver)  # type: ignore[arg-type]
        try:
            return await prober.probe(page)
        finally:
            await prober.aclose()

    return asyncio.run(run())


@pytest.fixture
def sim() -> Iterator[SimPortal]:
    if NO_IPV6:
        pytest.skip(f"no IPv6 loopback on this machine: {NO_IPV6}")
    with SimPortal(ipv6=True) as portal:
        yield portal


@needs_ipv6
def test_same_page_over_both_is_ok_and_consistent(sim: SimPortal) -> None:
    result = probe(homepage(sim))
    assert result.reading.state is Ipv6State.OK  # type: ignore[attr-defined]
    assert result.reading.address == "::1" and result.reading.status == 200  # type: ignore[attr-defined]
    assert result.reading.consistent is True and result.findings == ()  # type: ignore[attr-defined]


@needs_ipv6
def test_different_content_over_ipv6_is_a_finding(sim: SimPortal) -> None:
    sim.fault("ipv6:different")
    result = probe(homepage(sim))
    assert result.reading.state is Ipv6State.OK and result.reading.consistent is False  # type: ignore[attr-defined]
    (finding,) = result.findings  # type: ignore[attr-defined]
    assert finding.kind is Kind.IPV6_INCONSISTENT and finding.technique == "content"
    assert "网站升级改造中" in finding.evidence and finding.target == "localhost"


@needs_ipv6
def test_error_over_ipv6_only_is_down_and_a_status_finding(sim: SimPortal) -> None:
    sim.fault("ipv6:500")
    result = probe(homepage(sim))
    assert result.reading.state is Ipv6State.DOWN and result.reading.error_kind == "http_status"  # type: ignore[attr-defined]
    (finding,) = result.findings  # type: ignore[attr-defined]
    assert finding.technique == "status" and "HTTP 200 over IPv4, HTTP 500 over IPv6" in finding.evidence


@needs_ipv6
def test_refused_over_ipv6_is_down_with_connect_and_not_compared(sim: SimPortal) -> None:
    sim.fault("ipv6:refuse")
    result = probe(homepage(sim))
    assert result.reading.state is Ipv6State.DOWN and result.reading.error_kind == "connect"  # type: ignore[attr-defined]
    assert result.findings is None  # nothing compared: the series says it, consistency is not judged
    sim.fault("ipv6:same")
    assert probe(homepage(sim)).reading.state is Ipv6State.OK  # type: ignore[attr-defined]


@needs_ipv6
def test_timeout_over_ipv6_is_down_with_timeout() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as silent:
        silent.bind(("::1", 0))
        silent.listen(1)  # accepts the connection, never answers
        port = silent.getsockname()[1]
        page = Page("sim", "home", f"http://localhost:{port}/", PageKind.HOMEPAGE, timeout_s=0.5)
        result = probe(page)
    assert result.reading.state is Ipv6State.DOWN and result.reading.error_kind == "timeout"  # type: ignore[attr-defined]


def test_host_without_aaaa_is_no_ipv6_never_down() -> None:
    page = Page("sim", "home", "http://127.0.0.1:9/", PageKind.HOMEPAGE)
    result = probe(page, aaaa_resolver())  # an IPv4 literal has no AAAA: nothing asked, nothing fetched
    assert result.reading.state is Ipv6State.NO_IPV6 and result.reading.error_kind == ""  # type: ignore[attr-defined]
    assert result.findings is None  # type: ignore[attr-defined]


def test_unresolvable_host_is_unknown_with_dns_error_kind() -> None:
    page = Page("sim", "home", "http://www.gone.invalid/", PageKind.HOMEPAGE)
    result = probe(page, aaaa_resolver())
    assert result.reading.state is Ipv6State.UNKNOWN and result.reading.error_kind == "dns"  # type: ignore[attr-defined]
    assert "does not exist" in result.reading.error  # type: ignore[attr-defined]


def test_a_resolver_that_raises_costs_one_reading() -> None:
    def broken(host: str) -> AaaaAnswer:
        raise RuntimeError("bug")

    result = probe(Page("sim", "home", "http://portal.example/", PageKind.HOMEPAGE), broken)
    assert result.reading.state is Ipv6State.UNKNOWN and "RuntimeError" in result.reading.error  # type: ignore[attr-defined]


class _Engine:
    """A dnspython resolver stand-in that raises what it was built with (no network)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def resolve(self, *args: object, **kwargs: object) -> object:
        raise self.error


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (dns.resolver.NoAnswer(), Ipv6State.NO_IPV6),
        (dns.resolver.NXDOMAIN(), Ipv6State.UNKNOWN),
        (dns.resolver.LifetimeTimeout(timeout=5.0, errors={}), Ipv6State.UNKNOWN),
    ],
)
def test_aaaa_answers(error: Exception, state: Ipv6State) -> None:
    answer = aaaa_resolver(_Engine(error))("www.example.gov.cn")  # type: ignore[arg-type]
    assert answer.state is state


def test_ipv6_literal_is_its_own_address() -> None:
    assert aaaa_resolver()("::1") == AaaaAnswer(("::1",))
    assert aaaa_resolver()("[2001:db8::1]") == AaaaAnswer(("2001:db8::1",))


@needs_ipv6
def test_internal_links_are_read_over_ipv6_after_the_homepage(sim: SimPortal) -> None:
    page = homepage(sim)
    links = [page.url + "xxgk/gzdt/", page.url + "no-such-page/"]

    async def run() -> tuple[object, object]:
        prober = Ipv6Prober(resolver=localhost_aaaa)
        try:
            read = await prober.probe(page, links)
            sim.fault("ipv6:refuse")
            return read, await prober.probe(page, links)
        finally:
            await prober.aclose()

    read, refused = asyncio.run(run())
    assert (read.reading.links_checked, read.reading.links_ok) == (2, 1)  # type: ignore[attr-defined]
    assert refused.reading.links_checked == 0  # type: ignore[attr-defined]  # homepage down: links not read


def test_configured_hosts_answer_before_dns() -> None:
    resolve = aaaa_resolver(_Engine(dns.resolver.NXDOMAIN()), hosts={"WWW.Example.gov.cn": ["2001:db8::10"]})  # type: ignore[arg-type]
    assert resolve("www.example.gov.cn.") == AaaaAnswer(("2001:db8::10",))
    assert resolve("other.example.gov.cn").state is Ipv6State.UNKNOWN


def test_page_checks_try_only_the_hosts_ipv4_addresses() -> None:
    """V1 and uptime are the IPv4 series: a dual-stack answer leaves only its A records; a host with
    AAAA records only (IPv6-only) keeps them, since that is all it serves."""
    v4, v6 = socket.AF_INET, socket.AF_INET6
    assert ipv4_addresses([(v6, "2001:db8::1"), (v4, "192.0.2.1"), (v4, "192.0.2.1"), (v4, "192.0.2.2")]) == [
        "192.0.2.1",
        "192.0.2.2",
    ]
    assert ipv4_addresses([(v6, "2001:db8::1")]) == ["2001:db8::1"]


@needs_ipv6
def test_a_dual_stack_host_broken_over_ipv6_is_up_for_the_page_check(
    sim: SimPortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`localhost` answered ::1 first (as glibc orders a dual-stack host) while ::1 serves 500: the
    page check, the IPv4 series, still reads 127.0.0.1 and finds the portal up."""
    sim.fault("ipv6:500", "/")
    real = asyncio.AbstractEventLoop.getaddrinfo

    async def dual_stack(self: asyncio.AbstractEventLoop, host: str, port: int, **kw: object) -> list[object]:
        if host != "localhost":
            return await real(self, host, port, **kw)  # type: ignore[arg-type, no-any-return]
        stream = socket.SOCK_STREAM
        return [
            (socket.AF_INET6, stream, 6, "", ("::1", port, 0, 0)),
            (socket.AF_INET, stream, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", dual_stack)

    async def run() -> object:
        fetcher = Fetcher()
        try:
            return await fetcher.fetch(homepage(sim))
        finally:
            await fetcher.aclose()

    result = asyncio.run(run())
    assert (result.result, result.status) == (Result.UP, 200)  # type: ignore[attr-defined]


@needs_ipv6
def test_ipv6_readings_queue_in_the_daemons_host_budget(sim: SimPortal) -> None:
    """One budget per host: with the host's only slot held by a page check, the IPv6 reading of the
    same host waits for it instead of opening a connection beside it."""
    budget = HostBudget()

    async def run() -> tuple[bool, int]:
        prober = Ipv6Prober(resolver=localhost_aaaa, budget=budget)
        try:
            async with budget.page_slot("localhost", 1):
                reading = asyncio.create_task(prober.probe(homepage(sim)))
                await asyncio.sleep(0.3)
                waited = not reading.done()
            result = await reading
            return waited, result.reading.status  # type: ignore[no-any-return]
        finally:
            await prober.aclose()

    assert asyncio.run(run()) == (True, 200)
    assert budget.peak_in_flight("localhost") == 1
