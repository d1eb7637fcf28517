"""Outbound-link drift: the outside registrable domains a page links, new ones, and lapsed ones.

A new outside domain is an Event (a new partner site, as a rule); it becomes a finding when a
hidden link points to it. A linked domain that no longer resolves (NXDOMAIN) is a finding: anyone
may register it and serve gambling from the government's link. The DNS lookup is the caller's
`Resolver`; nothing here touches the network. Bounded by `MAX_OUTBOUND` and `MAX_RESOLVE`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum

from selectolax.lexbor import LexborHTMLParser

from monitor.integrity._domains import ABSOLUTE_LINKS, Domains, host_of, is_absolute
from monitor.integrity._findings import Event, Finding, Kind

MAX_OUTBOUND = 500
"""Most outside domains kept per page."""

MAX_RESOLVE = 100
"""Most domains looked up per call (the rest wait for the next sweep)."""

NEW_HIDDEN_BONUS = 20
"""A hidden link to a domain never linked before scores this much above the hidden link itself."""

SCORE_LAPSED = 60


class Resolution(StrEnum):
    """What a DNS lookup of a domain said. Only NXDOMAIN is evidence; a timeout is not."""

    RESOLVES = "resolves"
    NXDOMAIN = "nxdomain"
    UNKNOWN = "unknown"


Resolver = Callable[[str], Resolution]
"""Looks a registrable domain up (A/AAAA/NS) and says whether it exists; I/O lives here, in the caller."""


def outbound_domains(doc: LexborHTMLParser, page_url: str, domains: Domains) -> frozenset[str]:
    """Registrable domains of the page's links that are not the page's own site."""
    own_host = host_of(page_url)
    own = domains.registrable(own_host)
    own_prefixes = (f"http://{own_host}/", f"https://{own_host}/", f"//{own_host}/")
    found: set[str] = set()
    for link in doc.css(ABSOLUTE_LINKS):
        href = (link.attributes.get("href") or "").strip()
        if href.lower().startswith(own_prefixes):
            continue  # the page's own host, most of a portal's absolute links
        host = host_of(href) if is_absolute(href) else ""
        domain = domains.registrable(host) if host else own
        if domain != own:
            found.add(domain)
            if len(found) >= MAX_OUTBOUND:
                break
    return frozenset(found)


def new_domain_events(page: str, known: frozenset[str], current: frozenset[str]) -> list[Event]:
    """One event per outside domain linked now and never before (`known` is the site's history)."""
    return [Event.make(Kind.NEW_DOMAIN, page, domain, "", domain) for domain in sorted(current - known)]


def drift_findings(events: Sequence[Event], hidden: Sequence[Finding]) -> list[Finding]:
    """New domains that hidden links point to: the hidden finding, raised and re-kinded as drift."""
    new = {event.target for event in events if event.kind is Kind.NEW_DOMAIN}
    return [
        Finding.make(
            Kind.NEW_DOMAIN,
            finding.score + NEW_HIDDEN_BONUS,
            finding.page,
            finding.technique,
            finding.target,
            f"newly linked, hidden: {finding.evidence}",
        )
        for finding in hidden
        if finding.kind is Kind.HIDDEN_LINK and finding.target in new
    ]


def lapsed_findings(page: str, linked: Iterable[str], resolve: Resolver, domains: Domains) -> list[Finding]:
    """Linked outside domains that do not exist any more (government domains cannot be re-registered)."""
    findings = []
    candidates = sorted(domain for domain in set(linked) if not domains.is_government(domain))
    for domain in candidates[:MAX_RESOLVE]:
        if _lookup(resolve, domain) is Resolution.NXDOMAIN:
            said = f"{domain} is linked from the page and does not resolve (NXDOMAIN): it can be re-registered"
            findings.append(Finding.make(Kind.LAPSED_DOMAIN, SCORE_LAPSED, page, "nxdomain", domain, said))
    return findings


def _lookup(resolve: Resolver, domain: str) -> Resolution:
    try:
        return resolve(domain)
    except (OSError, ValueError, UnicodeError):
        # A resolver failure says nothing about the domain: never a finding.
        return Resolution.UNKNOWN
