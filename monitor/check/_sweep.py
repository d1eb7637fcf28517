"""The integrity sweep's I/O: the homepage fetched as other visitors, and DNS lookups of linked domains.

Cloaking visits go through the check's own fetcher (same limits, same-site redirects, anti-bot
detection) with the visitor's headers. A redirect the fetcher refuses because it leaves the site is
a visit that ended at that URL: its content is never fetched (nobody follows a gambling redirect to
read it). An anti-bot answer, a failure or a non-2xx answer is no visit (None): never cloaking.

`dns_resolver` says whether a registrable domain exists: NXDOMAIN is the only "does not exist"; a
timeout, a refused query or no nameserver is UNKNOWN, never evidence (monitor.integrity).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import dns.exception
import dns.resolver

from monitor.check._pipeline import PageFetcher
from monitor.extract import decode
from monitor.integrity import Resolution, Resolver, Visit, Visitor
from monitor.models import ErrorKind, Page, Result

DNS_LIFETIME_S = 5.0
"""Longest a lookup of one domain may take (all its tries) before it is UNKNOWN."""


async def visit_as(fetcher: PageFetcher, page: Page, visitor: Visitor) -> Visit | None:
    """Fetch the page with the visitor's headers (after the site's own); None: no usable visit."""
    probe = await fetcher.fetch(dataclasses.replace(page, headers=(*page.headers, *visitor.headers)))
    if probe.result is Result.UP and probe.status is not None and 200 <= probe.status < 300:
        text = decode(probe.body, probe.content_type).text
        return Visit(probe.final_url or page.url, probe.status, text)
    if probe.error_kind is ErrorKind.REDIRECT and probe.final_url and probe.final_url != page.url:
        return Visit(probe.final_url, 200, "")  # sent off-site: the URL is the evidence
    return None


async def visits(fetcher: PageFetcher, page: Page, visitors: Sequence[Visitor]) -> dict[str, Visit | None]:
    """Each visitor's visit, one after the other (a site sees at most one request at a time)."""
    return {visitor.name: await visit_as(fetcher, page, visitor) for visitor in visitors}


def dns_resolver(resolver: dns.resolver.Resolver | None = None, lifetime_s: float = DNS_LIFETIME_S) -> Resolver:
    """A blocking `monitor.integrity.Resolver` over dnspython (run it in a thread): NS, then A.
    Without `resolver`, the system's (/etc/resolv.conf, read at the first lookup; none: UNKNOWN)."""

    def resolve(domain: str) -> Resolution:
        if domain == "invalid" or domain.endswith(".invalid"):
            return Resolution.NXDOMAIN  # RFC 6761: never exists; answered without asking the network
        for record in ("NS", "A"):
            try:
                engine = resolver or dns.resolver.get_default_resolver()
                engine.resolve(domain, record, lifetime=lifetime_s)
            except dns.resolver.NXDOMAIN:
                return Resolution.NXDOMAIN
            except dns.resolver.NoAnswer:
                continue  # the name exists, without this record
            except (dns.exception.DNSException, OSError):
                return Resolution.UNKNOWN  # timeout, no nameservers, refused: says nothing
            return Resolution.RESOLVES
        return Resolution.RESOLVES

    return resolve
