"""The IPv6 probe's I/O: AAAA lookups and the homepage fetched over IPv6 and over IPv4 side by side.

`Ipv6Prober.probe(page)` looks the homepage's host up for AAAA records (the injected
`monitor.integrity.AaaaResolver`, by default dnspython's AAAA query), then fetches the page with the
check's own `Fetcher` whose every connection goes to one of those IPv6 addresses, and once more
forced to IPv4, and compares the two answers. Connecting to the AAAA address with the URL unchanged
is what makes HTTPS correct: the Host header, the TLS SNI and the certificate check all still name
the host (a URL rewritten to `https://[2001:db8::1]/` would fail the certificate check or reach the
wrong virtual host). The readings are their own series (monitor.store's `ipv6_checks`), never checks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import dns.exception
import dns.resolver

from monitor.check._budget import HostBudget
from monitor.check._fetch import Fetcher
from monitor.check._hashing import content_hash
from monitor.extract import decode
from monitor.integrity import AaaaAnswer, AaaaResolver, Answer, Finding, Ipv6Reading, Ipv6State, consistency_findings
from monitor.models import Clock, ErrorKind, Page, ProbeResult, Result, SystemClock

log = logging.getLogger(__name__)

DNS_LIFETIME_S = 5.0
"""Longest an AAAA lookup may take (all its tries) before it says nothing (`unknown`)."""


@dataclass(frozen=True)
class Ipv6Probe:
    """One IPv6 reading and, when both answers came, the IPv4/IPv6 consistency findings (None: not compared)."""

    reading: Ipv6Reading
    findings: tuple[Finding, ...] | None


def aaaa_resolver(
    resolver: dns.resolver.Resolver | None = None,
    lifetime_s: float = DNS_LIFETIME_S,
    hosts: Mapping[str, Sequence[str]] | None = None,
) -> AaaaResolver:
    """A blocking AAAA lookup over dnspython (run it in a thread). An IPv6 literal is its own
    address, an IPv4 literal has none; "no AAAA record" (NoAnswer) is an answer, NXDOMAIN or a
    timeout is a failure (`unknown`). `hosts` (config `ipv6.hosts`) answers for its names first."""
    given = {name.lower().rstrip("."): tuple(addresses) for name, addresses in (hosts or {}).items()}

    def resolve(host: str) -> AaaaAnswer:
        if host.lower().rstrip(".") in given:
            return AaaaAnswer(given[host.lower().rstrip(".")])
        literal = _literal(host)
        if literal is not None:
            return AaaaAnswer((str(literal),) if literal.version == 6 else ())
        if host == "invalid" or host.endswith(".invalid"):
            return AaaaAnswer(failure=f"{host} does not exist (reserved .invalid name)")
        try:
            engine = resolver or dns.resolver.get_default_resolver()
            answer = engine.resolve(host, "AAAA", lifetime=lifetime_s)
        except dns.resolver.NoAnswer:
            return AaaaAnswer()
        except dns.resolver.NXDOMAIN:
            return AaaaAnswer(failure=f"{host} does not exist (NXDOMAIN)")
        except (dns.exception.DNSException, OSError) as exc:
            return AaaaAnswer(failure=f"AAAA lookup of {host} failed: {type(exc).__name__}")
        return AaaaAnswer(tuple(dict.fromkeys(str(record.address) for record in answer)))

    return resolve


class Ipv6Prober:
    """Owns the AAAA resolver and two fetchers (IPv6-only and IPv4-only); `probe` never raises."""

    def __init__(
        self,
        *,
        resolver: AaaaResolver | None = None,
        ca_file: str | None = None,
        clock: Clock | None = None,
        budget: HostBudget | None = None,
    ) -> None:
        """`budget`: the daemon's one budget per host, so IPv6 readings queue with the page and link
        checks of the same server rather than beside them."""
        self._resolver = resolver or aaaa_resolver()
        self._clock = clock or SystemClock()
        budget = budget or HostBudget(clock=self._clock)
        self._ipv6 = Fetcher(clock=self._clock, ca_file=ca_file, lookup=self._ipv6_addresses, budget=budget)
        self._ipv4 = Fetcher(clock=self._clock, ca_file=ca_file, lookup=_ipv4_addresses, budget=budget)

    async def aclose(self) -> None:
        await self._ipv6.aclose()
        await self._ipv4.aclose()

    async def lookup(self, host: str) -> AaaaAnswer:
        """The AAAA answer for `host`, off the event loop; a resolver that raises says nothing."""
        try:
            return await asyncio.to_thread(self._resolver, host)
        except Exception as exc:  # an injected resolver's bug costs one reading, not the daemon
            log.warning("AAAA lookup of %s raised %s", host, type(exc).__name__)
            return AaaaAnswer(failure=f"AAAA lookup failed: {type(exc).__name__}")

    async def _ipv6_addresses(self, host: str, port: int) -> list[str]:
        """The fetcher's lookup: the host's AAAA addresses, OSError when it has none."""
        answer = await self.lookup(host)
        if not answer.addresses:
            raise OSError(answer.failure or f"{host} has no AAAA record")
        return list(answer.addresses)

    async def probe(self, page: Page, links: Sequence[str] = ()) -> Ipv6Probe:
        """Look the host up, fetch the page over IPv6 then over IPv4 (one request at a time), compare;
        when the homepage answered over IPv6, read `links` (internal links) over IPv6 too."""
        probe = await self._homepage(page)
        if probe.reading.state is not Ipv6State.OK or not links:
            return probe
        ok = 0
        for url in links:
            ok += await self._reachable(page, url)
        return Ipv6Probe(replace(probe.reading, links_checked=len(links), links_ok=ok), probe.findings)

    async def _reachable(self, page: Page, url: str) -> bool:
        """One internal link over IPv6: 2xx (after same-site redirects) is reachable."""
        result = await self._ipv6.fetch(replace(page, url=url, expect=None))
        return result.result is Result.UP and result.status is not None and 200 <= result.status < 300

    async def _homepage(self, page: Page) -> Ipv6Probe:
        started = self._clock.now()
        host = (urlsplit(page.url).hostname or "").lower()
        answer = await self.lookup(host)
        if answer.state is not None:
            kind = ErrorKind.DNS.value if answer.failure else ""
            reading = Ipv6Reading(page.url, started, answer.state, error_kind=kind, error=answer.failure)
            return Ipv6Probe(reading, None)
        over6 = await self._ipv6.fetch(page)
        over4 = await self._ipv4.fetch(page)
        reading = _reading(page.url, started, answer.addresses[0], over6)
        if over6.status is None or over4.status is None or reading.state is Ipv6State.UNKNOWN:
            return Ipv6Probe(reading, None)
        found = await asyncio.to_thread(consistency_findings, page.url, _answer(over4), _answer(over6))
        return Ipv6Probe(replace(reading, consistent=not found), tuple(found))


async def _ipv4_addresses(host: str, port: int) -> list[str]:
    """IPv4 addresses only (the comparison's other side); an IPv6 literal has none."""
    literal = _literal(host)
    if literal is not None:
        if literal.version == 4:
            return [str(literal)]
        raise OSError(f"{host} is an IPv6 address")
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, family=socket.AF_INET, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _reading(page: str, started: float, address: str, probe: ProbeResult) -> Ipv6Reading:
    """The IPv6 fetch's result as a reading: 2xx is ok, an anti-bot answer says nothing, else down."""
    if probe.result is Result.UP and probe.status is not None and 200 <= probe.status < 300:
        state, kind = Ipv6State.OK, ""
    elif probe.result in (Result.BLOCKED, Result.ERROR):
        state, kind = Ipv6State.UNKNOWN, (probe.error_kind.value if probe.error_kind else "")
    else:
        state = Ipv6State.DOWN
        kind = probe.error_kind.value if probe.error_kind else ErrorKind.HTTP_STATUS.value
    return Ipv6Reading(
        page,
        started,
        state,
        address=address,
        status=probe.status,
        error_kind=kind,
        error=probe.error or "",
        duration_s=probe.duration_s,
        content_hash=str(content_hash(probe.body)) if probe.body else "",
    )


def _answer(probe: ProbeResult) -> Answer:
    body = decode(probe.body, probe.content_type).text if probe.body else ""
    return Answer(probe.status, str(content_hash(probe.body)) if probe.body else "", body)
