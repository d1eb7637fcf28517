"""Value types of the link engine: scopes, resource types, classes, occurrences, results, settings.

Frozen dataclasses and string enums only; the enum values are meant to be stored and exported
(phase 2 keeps them in SQLite and metric labels), so they never change. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from monitor.models import ErrorKind


class Scope(StrEnum):
    """Whether a link stays on the checked site."""

    INTERNAL = "internal"
    EXTERNAL = "external"


class ResourceType(StrEnum):
    """What a link points at, by its element and suffix (拓尔思's image / attachment / page split)."""

    PAGE = "page"
    IMAGE = "image"
    ATTACHMENT = "attachment"
    OTHER = "other"


class LinkClass(StrEnum):
    """The verdict on one link. Only `broken` is the inspectors' count (确定不可用)."""

    OK = "ok"
    BROKEN = "broken"
    SOFT_404 = "soft_404"
    SUSPECT = "suspect"
    BLOCKED = "blocked"
    EXCLUDED = "excluded"


class SkipReason(StrEnum):
    """Why a link found on a page is not a checkable URL."""

    JAVASCRIPT = "javascript"
    MAILTO = "mailto"
    TEL = "tel"
    DATA = "data"
    FRAGMENT = "fragment"
    EMPTY = "empty"
    SCHEME = "unsupported_scheme"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Found:
    """One link as written on a page: the resolved URL and where it came from."""

    url: str
    element: str
    attribute: str
    text: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A link on a page that is not checked, and why (the raw value is bounded)."""

    raw: str
    element: str
    attribute: str
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Harvest:
    """Every link of one page: `links` in document order (duplicates kept), `skipped` with reasons."""

    url: str
    title: str
    links: tuple[Found, ...]
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One place a link appears: the parent page, its title, the anchor and the crawl depth of the link."""

    parent_url: str
    parent_title: str
    text: str
    element: str
    attribute: str
    depth: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What checking a URL observed, before classification (failures are data, never exceptions).

    `name_missing` is a definite "no such name" from DNS (not a temporary resolver failure);
    `challenge` names an anti-bot vendor whose page answered; `soft_404` is the not-found verdict.
    """

    status: int | None = None
    error_kind: ErrorKind | None = None
    error: str | None = None
    final_url: str | None = None
    name_missing: bool = False
    challenge: str | None = None
    soft_404: bool = False
    refused: str | None = None
    method: str = "GET"
    attempts: int = 1
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The one result of a URL in a pass, whatever number of pages it appears on."""

    url: str
    scope: Scope
    rtype: ResourceType
    link_class: LinkClass
    outcome: Outcome
    checked_at: float
    reason: str = ""


@dataclass(frozen=True)
class LinkSettings:
    """How politely and how far links are checked (phase 2 fills this from config.yaml).

    Per host: `concurrency` requests in flight and `spacing_s` between request starts (0 = no rate
    limit). Retries only for 5xx/408/429/timeouts, `backoff_s` doubling, a Retry-After honoured up
    to `retry_after_cap_s`. `private_hosts` may resolve to loopback/private addresses (the
    configured site's own hosts); every other host that does is refused.
    """

    concurrency: int = 2
    spacing_s: float = 0.5
    timeout_s: float = 15.0
    max_body_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 10
    retries: int = 2
    backoff_s: float = 1.0
    retry_after_cap_s: float = 60.0
    user_agent: str = "portal-monitor"
    verify_tls: bool = True
    external_ttl_s: float = 86400.0
    suspect_passes: int = 3
    soft_404_probe: bool = True
    respect_robots: bool = True
    max_depth: int = 3
    max_pages: int = 5000
    max_links: int = 100_000
    private_hosts: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = field(default=())
