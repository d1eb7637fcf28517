"""Frozen value types and enums shared by every module.

Nothing here does I/O or knows about the database, the network or the scheduler; the string
values of the enums are stored in SQLite and exported as metric labels, so they never change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol


class PageKind(StrEnum):
    """What a monitored page is for the portal (config `kind`)."""

    HOMEPAGE = "homepage"
    CATALOGUE = "catalogue"
    COLUMN = "column"
    PAGE = "page"


LISTED_KINDS = frozenset({PageKind.HOMEPAGE, PageKind.CATALOGUE, PageKind.COLUMN})
"""Pages whose list of items is read, so freshness applies (a plain `page` is only checked for availability)."""


class Result(StrEnum):
    """Outcome of one check. `error` is the monitor's own failure, never the site's."""

    UP = "up"
    DOWN = "down"
    BLOCKED = "blocked"
    ERROR = "error"


RESULT_CODES: dict[Result, int] = {Result.UP: 0, Result.DOWN: 1, Result.BLOCKED: 2, Result.ERROR: 3}
"""Compact codes for results in stored rows (`checks.result`: 0 and 1 cost no bytes in a SQLite
record). The store writes them; the availability computation (rules/) reads stored rows by them."""


class ErrorKind(StrEnum):
    """Why a check was not `up`, or (`too_complex` only) why an `up` page's content is unknown
    (stable strings; DB values and metric labels)."""

    DNS = "dns"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    TLS = "tls"
    HTTP_STATUS = "http_status"
    TOO_LARGE = "too_large"
    REDIRECT = "redirect"
    DECODE = "decode"
    CONTENT = "content"
    BLOCKED = "blocked"
    RATE_LIMITED = "rate_limited"
    TOO_COMPLEX = "too_complex"
    """The body was not read within the read budget (a check that is still `up`: see docs/metrics.md)."""


class Category(StrEnum):
    """Column category; decides the staleness window (docs/architecture.md#column-categories-and-staleness-windows)."""

    NEWS = "news"
    NOTICE = "notice"
    POLICY = "policy"
    PERSONNEL = "personnel"
    PLAN = "plan"
    CUSTOM = "custom"
    STATIC = "static"


class ExtractKind(StrEnum):
    """What the extractor recognised a document as (docs/extraction.md describes each value).

    The first four are readable pages; the rest say what was seen instead of content: a `shell`
    (meta refresh, script redirect, frameset, splash entry page: `next_url` says where it leads), an
    `app_shell` (an empty page that a script fills), a `challenge` (anti-bot interstitial) or `other`
    (binary, JSON without dated records, error or maintenance notices, anything else unreadable).
    """

    LIST = "list"
    HOMEPAGE = "homepage"
    CATALOGUE = "catalogue"
    ARTICLE = "article"
    SHELL = "shell"
    APP_SHELL = "app_shell"
    CHALLENGE = "challenge"
    OTHER = "other"

    @property
    def readable(self) -> bool:
        """True for pages whose content was read (items, a publish date or columns may be there)."""
        return self in (ExtractKind.LIST, ExtractKind.HOMEPAGE, ExtractKind.CATALOGUE, ExtractKind.ARTICLE)


PHASES: tuple[str, ...] = ("dns", "connect", "tls", "ttfb", "transfer")
"""Request phases measured by fetch, in the order they happen."""


class Clock(Protocol):
    """Source of time, passed in so tests can fix it instead of sleeping."""

    def now(self) -> float:
        """Wall-clock UTC epoch seconds (what is stored)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds (what durations are measured with)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class FixedClock:
    """A clock that only moves when told to (tests, generated history)."""

    t: float = 1_700_000_000.0
    mono: float = 1000.0

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.mono += seconds


@dataclass(frozen=True)
class Page:
    """One monitored URL with every setting resolved (defaults applied, URL made absolute)."""

    site: str
    name: str
    url: str
    kind: PageKind = PageKind.PAGE
    interval_s: float = 3600.0
    timeout_s: float = 15.0
    failure_threshold: int = 2
    retry_delay_s: float = 30.0
    max_body_bytes: int = 5 * 1024 * 1024
    per_host_concurrency: int = 2
    user_agent: str = "portal-monitor"
    jitter_s: float = 0.0
    category: Category | None = None
    stale_days: int | None = None
    expect: str | None = None
    item_selector: str | None = None
    date_selector: str | None = None
    verify_tls: bool = True
    allowed_hosts: tuple[str, ...] = ()
    max_redirects: int = 10
    headers: tuple[tuple[str, str], ...] = ()
    blocked_is_down: bool = False
    tags: tuple[str, ...] = ()
    discovered_by: str | None = None

    @property
    def discovered(self) -> bool:
        """Found on a catalogue page (named by `discovered_by`) rather than configured."""
        return self.discovered_by is not None

    @property
    def key(self) -> tuple[str, str]:
        """(site, page) — the identity used in the store and in metric labels."""
        return (self.site, self.name)


@dataclass(frozen=True)
class ProbeResult:
    """What one HTTP request observed. Failures are data (`error_kind`), never exceptions.

    `body` is the (capped) response body for the checker; `bytes` is how many body bytes were read.
    """

    url: str
    started_at: float
    result: Result
    error_kind: ErrorKind | None = None
    error: str | None = None
    status: int | None = None
    final_url: str | None = None
    redirects: int = 0
    duration_s: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    body: bytes = b""
    bytes: int = 0
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    tls_expiry: float | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class ContentFacts:
    """What a page's latest readable extraction said; None fields are not known yet.

    `readable` is None before the first successful read, False when the list could not be read
    (a shell not followed, an app shell, an anti-bot page, other).
    """

    readable: bool | None = None
    newest: date | None = None
    item_count: int | None = None
    last_change: float | None = None


@dataclass(frozen=True)
class Item:
    """One entry of a column list: full title, absolute URL, publish date if shown."""

    title: str
    url: str
    date: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "url": self.url, "date": self.date.isoformat() if self.date else None}


@dataclass(frozen=True)
class Column:
    """A column link found on a catalogue page."""

    name: str
    url: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url}


@dataclass(frozen=True)
class Block:
    """One content block of a homepage (要闻, 通知公告, a tab pane): its heading, dated links, newest date."""

    heading: str
    items: int
    newest_date: date | None

    def to_json(self) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "items": self.items,
            "newest_date": self.newest_date.isoformat() if self.newest_date else None,
        }


@dataclass(frozen=True)
class Extraction:
    """What the extractor read from one document (contract of `monitor extract --json`).

    `blocks` are a homepage's content blocks (empty for other pages); `next_url` is where a shell
    leads (a redirect target, a frameset's main frame, a splash page's entry link).
    """

    kind: ExtractKind
    encoding: str
    items: tuple[Item, ...] = ()
    newest_date: date | None = None
    columns: tuple[Column, ...] = ()
    pages_total: int | None = None
    blocks: tuple[Block, ...] = ()
    next_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "encoding": self.encoding,
            "items": [item.to_json() for item in self.items],
            "newest_date": self.newest_date.isoformat() if self.newest_date else None,
            "columns": [column.to_json() for column in self.columns],
            "pages_total": self.pages_total,
            "blocks": [block.to_json() for block in self.blocks],
            "next_url": self.next_url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Extraction:
        """The inverse of `to_json` (the read workers send extractions as JSON); anything malformed
        raises KeyError, ValueError or TypeError."""
        return cls(
            ExtractKind(data["kind"]),
            str(data["encoding"]),
            tuple(Item(str(i["title"]), str(i["url"]), _day(i["date"])) for i in data["items"]),
            _day(data["newest_date"]),
            tuple(Column(str(c["name"]), str(c["url"])) for c in data["columns"]),
            None if data["pages_total"] is None else int(data["pages_total"]),
            tuple(Block(str(b["heading"]), int(b["items"]), _day(b["newest_date"])) for b in data.get("blocks", ())),
            None if data.get("next_url") is None else str(data["next_url"]),
        )


def _day(text: object) -> date | None:
    return None if text is None else date.fromisoformat(str(text))


_VISIBLE_ASCII = frozenset(range(0x20, 0x7F)) | {0x09}


def sendable_validator(value: str | None) -> str | None:
    """An ETag/Last-Modified value we can send back (If-None-Match, If-Modified-Since), else None.

    Servers do send non-ASCII bytes and control characters in these headers; sent back they make
    the request unbuildable, every later check an internal error. Dropping one only costs a full
    read instead of a 304.
    """
    if not value or any(ord(char) not in _VISIBLE_ASCII for char in value):
        return None
    return value
