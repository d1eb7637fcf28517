"""The `integrity:` and `ipv6:` sections: homepage integrity and identity checks, IPv6 readings."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from monitor.config._fields import MAX_INTERVAL_S, Strict, duration_at_most, no_nul

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def _domain_name(value: str) -> str:
    """A domain name like hm.baidu.com (lower-cased, no scheme, path or port)."""
    name = value.strip().strip(".").lower()
    if not _DOMAIN_RE.match(name):
        raise ValueError(f"not a domain name like hm.baidu.com: {value!r}")
    return name


class IntegrityConfig(Strict):
    """Integrity and identity checks of each site's homepage (docs/integrity.md)."""

    enabled: bool = True
    words: Annotated[str, AfterValidator(no_nul)] = ""
    """Word list replacing the shipped one ("" keeps it); relative to this file's directory."""
    change_share: float = Field(0.5, gt=0.0, lt=1.0)
    sweep_interval: Annotated[float, BeforeValidator(duration_at_most(MAX_INTERVAL_S, positive=True))] = 3600.0
    """How often each homepage is fetched as other visitors (cloaking) and its linked domains looked up."""
    lookups_per_sweep: int = Field(200, ge=1, le=100_000)
    """Most linked outside domains looked up in DNS per sweep, all sites together (the rest wait)."""
    lookup_ttl: Annotated[float, BeforeValidator(duration_at_most(MAX_INTERVAL_S, positive=True))] = 86400.0
    """How long a DNS answer about a linked domain is trusted before it is asked again."""
    accepted_domains: list[Annotated[str, AfterValidator(_domain_name)]] = Field(default_factory=list, max_length=1000)
    """Outside domains the office reviewed and accepts (an analytics or CDN host): scripts loaded from
    them and redirects to them stay events, never findings; an open one resolves at the next reading."""


def _ipv6_address(value: str) -> str:
    """An IPv6 address (`2001:db8::1`), normalised."""
    try:
        return str(ipaddress.IPv6Address(value.strip().strip("[]")))
    except ValueError:
        raise ValueError(f"not an IPv6 address: {value!r}") from None


class Ipv6Config(Strict):
    """IPv6 readings of each site's homepage, a series of their own (docs/integrity.md#ipv6)."""

    enabled: bool = True
    interval: Annotated[float, BeforeValidator(duration_at_most(MAX_INTERVAL_S, positive=True))] = 3600.0
    """How often each homepage's host is looked up for AAAA records and the page read over IPv6 and IPv4."""
    links: int = Field(20, ge=0, le=1000)
    """Internal page links (ok in the latest link passes) read over IPv6 after the homepage; 0: none."""
    hosts: dict[str, list[Annotated[str, AfterValidator(_ipv6_address)]]] = Field(default_factory=dict)
    """AAAA answers given here instead of DNS, by host name (an IPv6 front end checked before its
    AAAA record is published; tests): like `curl --resolve`, for IPv6 readings only."""
