"""IPv6: what an AAAA lookup said, one IPv6 reading of a homepage, and IPv4/IPv6 consistency.

Pure (no sockets, no clock): the lookup and the two fetches are the caller's (monitor.check's
`Ipv6Prober`). A host without AAAA records is `no_ipv6`, never `down`; a lookup that says nothing
(NXDOMAIN, timeout, no nameserver) is `unknown` and counts neither way. The IPv6 series is its own:
it is never mixed into the IPv4 checks that rule V1 and uptime use (docs/integrity.md#ipv6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from monitor.integrity._findings import Finding, Kind
from monitor.integrity._text import fingerprint, similarity, visible_text

CONSISTENT_SHARE = 0.9
"""Two answers whose visible text shares at least this (Jaccard of phrase fingerprints) are the same
page: a clock, a visitor counter or a CSRF token differs on every fetch, a different page does not."""

SCORE_STATUS = 60
"""Different HTTP status over IPv4 and IPv6: one of the two audiences does not get the page."""

SCORE_CONTENT = 40
"""Same status, different text: often a stale copy on the IPv6 proxy (low), worth a look."""


class Ipv6State(StrEnum):
    """The outcome of one IPv6 reading (stable strings: stored and shown)."""

    OK = "ok"
    """The homepage answered 2xx over IPv6."""
    DOWN = "down"
    """The host has AAAA records but the homepage did not answer 2xx over IPv6 (error_kind says why)."""
    NO_IPV6 = "no_ipv6"
    """The host has no AAAA record: no IPv6 service, which is not an outage."""
    UNKNOWN = "unknown"
    """The lookup failed (NXDOMAIN, timeout): nothing learnt; counted neither as success nor failure."""


@dataclass(frozen=True)
class AaaaAnswer:
    """An AAAA lookup: the IPv6 addresses, or why the lookup said nothing (`failure` set)."""

    addresses: tuple[str, ...] = ()
    failure: str = ""

    @property
    def state(self) -> Ipv6State | None:
        """NO_IPV6 or UNKNOWN when there is nothing to fetch; None when there are addresses."""
        if self.addresses:
            return None
        return Ipv6State.UNKNOWN if self.failure else Ipv6State.NO_IPV6


AaaaResolver = Callable[[str], AaaaAnswer]
"""Looks a host up for AAAA records (blocking: run it in a thread); never raises."""


@dataclass(frozen=True)
class Answer:
    """One fetch of the homepage: status (None: no HTTP answer), a hash of the body, its text."""

    status: int | None
    content_hash: str = ""
    body: str = ""


@dataclass(frozen=True)
class Ipv6Reading:
    """One IPv6 reading of a site's homepage (a row of the IPv6 series)."""

    page: str
    started_at: float
    state: Ipv6State
    address: str = ""
    status: int | None = None
    error_kind: str = ""
    error: str = ""
    duration_s: float | None = None
    content_hash: str = ""
    consistent: bool | None = None
    """Same status and content as over IPv4 at the same time; None when not compared."""
    links_checked: int = 0
    """Internal links (ok in the latest link passes) read over IPv6 after the homepage answered."""
    links_ok: int = 0
    """Of those, the ones that answered 2xx over IPv6."""

    @property
    def counted(self) -> bool:
        """Counted in the success ratio: OK or DOWN (a host without IPv6 or a silent lookup is not)."""
        return self.state in (Ipv6State.OK, Ipv6State.DOWN)


def consistency_findings(page: str, ipv4: Answer, ipv6: Answer) -> list[Finding]:
    """An `ipv6_inconsistent` finding when the two answers differ in status or content; [] when they
    agree. The caller only compares two answers that both came (an IPv6 failure is the series' job)."""
    host = (urlsplit(page).hostname or page).lower()
    if ipv4.status != ipv6.status:
        said = f"HTTP {_status(ipv4.status)} over IPv4, HTTP {_status(ipv6.status)} over IPv6"
        return [Finding.make(Kind.IPV6_INCONSISTENT, SCORE_STATUS, page, "status", host, said)]
    if ipv4.content_hash == ipv6.content_hash:
        return []
    shared = similarity(fingerprint(page_text(ipv4.body)), fingerprint(page_text(ipv6.body)))
    if shared >= CONSISTENT_SHARE:
        return []
    said = f"the IPv6 page's text shares {shared:.0%} with the IPv4 page's: {page_text(ipv6.body)[:150]}"
    return [Finding.make(Kind.IPV6_INCONSISTENT, SCORE_CONTENT, page, "content", host, said)]


def page_text(html: str) -> str:
    """The visible text of an HTML string ("" for none)."""
    return visible_text(LexborHTMLParser(html)) if html else ""


def _status(status: int | None) -> str:
    return "-" if status is None else str(status)
