"""Hosts of URLs and their registrable domains (Public Suffix List, offline snapshot only).

`tldextract` is built with no suffix-list URLs and no cache directory, so it reads the snapshot it
ships and never downloads or writes anything. Also: what counts as a government domain (hidden
navigation to another government site is a portal's ordinary 友情链接 menu), raw IPs and ports.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import tldextract

GOVERNMENT_SUFFIXES = ("gov.cn", "政务.cn", "mil.cn", "gov", "mil")
"""Registrable domains under these suffixes belong to the state; linking them hidden is not spam."""

TRUSTED_DOMAINS = frozenset({"conac.cn", "beian.gov.cn", "miit.gov.cn", "kaipuyun.cn"})
"""Domains of the national identity widgets (党政机关网站标识, 备案, 找错 on its older host)."""

WIDGET_PATHS = ("/exposure/jiucuo",)
"""Paths of the national 找错 widget, which some portals still link on its old host's raw IP."""

RISKY_TLDS = frozenset(
    {
        *("top", "xyz", "vip", "club", "win", "bet", "casino", "poker", "cc", "tk", "ml", "ga", "cf", "gq"),
        *("buzz", "icu", "live", "fun", "site", "online", "loan", "porn", "sex", "xxx", "adult", "tw", "pw"),
    }
)
"""Top-level domains where gambling and porn spam concentrates (a weight, never a verdict alone)."""

ABSOLUTE_LINKS = 'a[href*="//"], area[href*="//"]'
"""Links that can leave the site: every absolute or scheme-relative href contains `//` (relative ones,
most of a portal's links, are skipped inside lexbor without building their attributes)."""

STANDARD_PORTS = frozenset({None, 80, 443})


def host_of(href: str) -> str:
    """The lower-case host of an absolute or scheme-relative link, cheaply ("" when it has none)."""
    rest = href.strip().split("//", 1)[-1] if "//" in href[:10] else ""
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0].lower()
    return authority.split(":", 1)[0].strip(".").lower()


@dataclass(frozen=True)
class Target:
    """Where a link points: the absolute URL, host, registrable domain, and what is odd about it."""

    url: str
    host: str
    domain: str
    is_ip: bool
    port: int | None
    suffix: str


HOST_CACHE_SIZE = 4_096
"""Hosts whose (registrable domain, suffix) a Domains instance remembers; pages repeat a few hosts."""


def is_absolute(href: str) -> bool:
    """True for `http:`, `https:` and scheme-relative `//host` links: the only ones that can leave the site."""
    head = href.lstrip()[:8].lower()
    return head.startswith(("http:", "https:", "//"))


@dataclass(frozen=True)
class Domains:
    """Registrable-domain arithmetic over an offline Public Suffix List snapshot.

    Build one per process and pass it in: the first lookup loads the snapshot (~0.1 s); each
    instance keeps a bounded cache of hosts it has split.
    """

    extractor: tldextract.TLDExtract = field(
        default_factory=lambda: tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)
    )
    accepted: frozenset[str] = frozenset()
    """Outside domains the office accepts (config `integrity.accepted_domains`), subdomains included."""
    _split: Callable[[str], tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_split", lru_cache(maxsize=HOST_CACHE_SIZE)(self._split_host))

    def _split_host(self, host: str) -> tuple[str, str]:
        if not host or _is_ip(host):
            return host, ""
        parts = self.extractor.extract_str(host)
        if parts.suffix:
            return parts.top_domain_under_public_suffix or host, parts.suffix
        # A TLD the list does not know (.invalid, an intranet name): read its last label as the suffix.
        labels = host.split(".")
        return ".".join(labels[-2:]), labels[-1] if len(labels) > 1 else ""

    def registrable(self, host: str) -> str:
        """`www.bj.gov.cn` -> `bj.gov.cn`; an IP or a bare suffix stays as it is; lower-case."""
        return self._split(host.strip(".").lower())[0]

    def target(self, base: str, href: str) -> Target | None:
        """The target of `href` on page `base`, or None for non-web links (mailto:, javascript:, #)."""
        try:
            url = urljoin(base, href.strip())
            split = urlsplit(url)
            port = split.port
        except ValueError:
            return None
        if split.scheme not in ("http", "https") or not split.hostname:
            return None
        host = split.hostname.strip(".").lower()
        domain, suffix = self._split(host)
        return Target(url, host, domain, _is_ip(host), port, suffix)

    def is_government(self, domain: str) -> bool:
        """True for state domains (gov.cn…) and the national identity widgets' domains."""
        if domain in TRUSTED_DOMAINS:
            return True
        return any(domain == suffix or domain.endswith("." + suffix) for suffix in GOVERNMENT_SUFFIXES)

    def is_accepted(self, domain: str) -> bool:
        """True when `domain`'s registrable domain is one the office accepted (findings name
        registrable domains, so accepting hm.baidu.com accepts baidu.com's scripts)."""
        mine = self.registrable(domain)
        return any(self.registrable(name) == mine for name in self.accepted)

    def is_widget(self, target: Target) -> bool:
        """True for links to the national 找错 widget, whatever host serves it."""
        path = urlsplit(target.url).path.lower()
        return any(path.startswith(prefix) for prefix in WIDGET_PATHS)

    def same_site(self, page_url: str, target: Target) -> bool:
        """True when the target's registrable domain is the page's own."""
        host = urlsplit(page_url).hostname or ""
        return bool(host) and self.registrable(host) == target.domain


def _is_ip(host: str) -> bool:
    if not (host[-1:].isdigit() or ":" in host):
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
