"""Outbound-link drift: the outside registrable domains a page links, new ones, and lapsed ones.

A new outside domain is an Event (a new partner site, as a rule); it becomes a finding when a
hidden link points to it. A linked domain that no longer resolves (NXDOMAIN) is a finding: anyone
may register it and serve gambling from the government's link. The DNS lookup is the caller's
`Resolver`; nothing here touches the network. Bounded by `MAX_OUTBOUND` and `MAX_RESOLVE`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
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

MAX_SWEEP_DOMAINS = 5_000
"""Most outside domains taken from a site's link sweep (the rest wait until others go)."""

PLACES_KEPT = 5
"""Places (pages or link URLs) kept per linked domain as evidence."""


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


def standing_drift(standing: Iterable[Finding], hidden: Sequence[Finding]) -> list[Finding]:
    """Open drift findings (a newly linked domain behind a hidden link) whose hidden link is still
    on the page: they stay open, though the domain is no longer new after the reading that raised
    them; they resolve with the hidden link."""
    now = {(finding.technique, finding.target) for finding in hidden if finding.kind is Kind.HIDDEN_LINK}
    return [
        finding
        for finding in standing
        if finding.kind is Kind.NEW_DOMAIN and (finding.technique, finding.target) in now
    ]


def lapsed_findings(page: str, linked: Iterable[str], resolve: Resolver, domains: Domains) -> list[Finding]:
    """Linked outside domains that do not exist any more (government domains cannot be re-registered);
    at most `MAX_RESOLVE` looked up. The daemon's sweep uses `lapsed_from_answers` with cached answers."""
    candidates = lookup_candidates(sorted(set(linked)), domains)[:MAX_RESOLVE]
    answers = {domain: lookup(resolve, domain) for domain in candidates}
    return lapsed_from_answers(page, {domain: () for domain in candidates}, answers)


def lookup_candidates(linked: Iterable[str], domains: Domains) -> list[str]:
    """The linked domains worth a DNS lookup, in the given order: not government domains (nobody
    else can register them), not raw IPs (nothing to register)."""
    return [domain for domain in linked if not domains.is_government(domain) and not _is_ip(domain)]


def lapsed_from_answers(
    page: str,
    linked: Mapping[str, Sequence[str]],
    answers: Mapping[str, Resolution],
    standing: Iterable[Finding] = (),
) -> list[Finding]:
    """Lapsed-domain findings of a sweep: each linked domain answering NXDOMAIN, with where it is
    linked (`linked`: domain -> places); and each open one (`standing`) still linked whose domain
    was not asked this time or gave no answer (a timeout): only a domain that resolves again or
    is no longer linked resolves its finding."""
    findings = []
    for domain in sorted(linked):
        if answers.get(domain) is Resolution.NXDOMAIN:
            said = f"{domain} does not resolve (NXDOMAIN): it can be re-registered{_places(linked[domain])}"
            findings.append(Finding.make(Kind.LAPSED_DOMAIN, SCORE_LAPSED, page, "nxdomain", domain, said))
    found = {finding.key for finding in findings}
    for old in standing:
        if old.kind is not Kind.LAPSED_DOMAIN or old.page != page or old.key in found:
            continue
        if old.target in linked and answers.get(old.target) is not Resolution.RESOLVES:
            findings.append(old)
    return findings


def link_domains(page_url: str, urls: Iterable[str], domains: Domains) -> dict[str, list[str]]:
    """Outside registrable domains of links a link sweep found (domain -> up to `PLACES_KEPT` of
    its URLs), the page's own site left out; at most `MAX_SWEEP_DOMAINS` domains."""
    own = domains.registrable(host_of(page_url))
    found: dict[str, list[str]] = {}
    for url in urls:
        host = host_of(url) if is_absolute(url) else ""
        domain = domains.registrable(host) if host else own
        if domain == own or not domain:
            continue
        places = found.get(domain)
        if places is None:
            if len(found) >= MAX_SWEEP_DOMAINS:
                continue
            places = found[domain] = []
        if len(places) < PLACES_KEPT:
            places.append(url)
    return found


def _places(places: Sequence[str]) -> str:
    if not places:
        return ""
    more = f" and {len(places) - PLACES_KEPT} more" if len(places) > PLACES_KEPT else ""
    return "; linked from " + ", ".join(places[:PLACES_KEPT]) + more


def _is_ip(domain: str) -> bool:
    try:
        ipaddress.ip_address(domain.strip("[]"))
    except ValueError:
        return False
    return True


def lookup(resolve: Resolver, domain: str) -> Resolution:
    """The resolver's answer; UNKNOWN when it fails (a failure says nothing about the domain)."""
    try:
        return resolve(domain)
    except (OSError, ValueError, UnicodeError):
        # A resolver failure says nothing about the domain: never a finding.
        return Resolution.UNKNOWN
