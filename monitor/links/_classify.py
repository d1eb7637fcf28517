"""Pure verdicts: a link's scope, its resource type, its class from what a check observed, and the
escalation of a persistent `suspect` to `broken` over consecutive passes. No I/O here.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.links._types import LinkClass, Outcome, ResourceType, Scope
from monitor.models import ErrorKind

IMAGE_SUFFIXES = frozenset({"jpg", "jpeg", "png", "gif", "bmp", "webp", "svg", "ico", "tif", "tiff", "avif"})
ATTACHMENT_SUFFIXES = frozenset(
    {
        *("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps", "ofd", "ceb", "txt", "rtf"),
        *("csv", "zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz", "apk", "exe", "msi", "dmg", "iso"),
        *("mp3", "mp4", "avi", "wmv", "flv", "mov", "wav", "odt", "ods", "odp", "xml", "json"),
    }
)
"""Files a portal offers for download (政策文件, 表格, 附件): checked without downloading them whole."""

PAGE_SUFFIXES = frozenset({"", "html", "htm", "shtml", "xhtml", "jsp", "jspx", "php", "asp", "aspx", "do", "action"})
_PAGE_ELEMENTS = frozenset({"a", "area", "iframe"})
BROKEN_STATUSES = frozenset({403, 404, 410})
"""Answers the inspectors count as 确定不可用 on an internal link."""
BLOCKED_STATUSES = frozenset({412, 429, 521})
"""Anti-bot (瑞数 412, 加速乐 521) and rate-limit answers: the link is not dead, we were refused."""
_SUSPECT_KINDS = frozenset(
    {ErrorKind.TIMEOUT, ErrorKind.CONNECT, ErrorKind.TLS, ErrorKind.REDIRECT, ErrorKind.DECODE, ErrorKind.DNS}
)


@dataclass(frozen=True)
class SiteScope:
    """The hosts that make up one site: its own host(s) plus configured aliases.

    Until the Public Suffix List lands, "same site" is "same host or an alias"; `scope_of` is the
    one place that rule lives.
    """

    hosts: frozenset[str]

    @classmethod
    def of(cls, urls: Iterable[str], aliases: Iterable[str] = ()) -> SiteScope:
        """The scope of a site whose pages live at `urls` (their hosts), plus `aliases`."""
        hosts = {(urlsplit(url).hostname or "").lower() for url in urls}
        return cls(frozenset(host for host in (*hosts, *(a.lower() for a in aliases)) if host))

    def scope_of(self, url: str) -> Scope:
        """Internal when the URL's host belongs to the site."""
        return Scope.INTERNAL if (urlsplit(url).hostname or "").lower() in self.hosts else Scope.EXTERNAL


def resource_type(url: str, element: str) -> ResourceType:
    """Image / attachment / page / other, by the element first and then the path's suffix."""
    suffix = _suffix(url)
    if element == "img" or suffix in IMAGE_SUFFIXES:
        return ResourceType.IMAGE
    if suffix in ATTACHMENT_SUFFIXES:
        return ResourceType.ATTACHMENT
    if element in _PAGE_ELEMENTS and suffix in PAGE_SUFFIXES:
        return ResourceType.PAGE
    return ResourceType.OTHER


def _suffix(url: str) -> str:
    path = urlsplit(url).path
    name = path[path.rfind("/") + 1 :]
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if dot > 0 else ""


def classify(outcome: Outcome, scope: Scope) -> tuple[LinkClass, str]:
    """The class of one observation and a one-line reason (see LinkClass for the rules)."""
    if outcome.refused:
        return LinkClass.EXCLUDED, outcome.refused
    if outcome.challenge:
        return LinkClass.BLOCKED, f"anti-bot challenge page ({outcome.challenge})"
    status = outcome.status
    if outcome.error_kind is ErrorKind.DNS:
        if outcome.name_missing:
            return LinkClass.BROKEN, "the domain does not resolve"
        return LinkClass.SUSPECT, outcome.error or "DNS failure"
    if outcome.error_kind in _SUSPECT_KINDS or status is None:
        return LinkClass.SUSPECT, outcome.error or "no answer"
    return _classify_status(outcome, status, scope)


def _classify_status(outcome: Outcome, status: int, scope: Scope) -> tuple[LinkClass, str]:
    if status in BLOCKED_STATUSES:
        return LinkClass.BLOCKED, f"HTTP {status}" + (" (rate limited)" if status == 429 else " (anti-bot answer)")
    if outcome.soft_404:
        return LinkClass.SOFT_404, "a not-found page answered with HTTP 200"
    if status < 400 or status == 416:
        # 416: our ranged GET asked past the end of an (empty) file, which therefore exists.
        return LinkClass.OK, f"HTTP {status}"
    if status in BROKEN_STATUSES and scope is Scope.INTERNAL:
        return LinkClass.BROKEN, f"HTTP {status}"
    # 5xx, other 4xx, and an external 404: not the inspectors' count until it persists.
    return LinkClass.SUSPECT, f"HTTP {status}"


def escalate(history: Sequence[LinkClass], suspect_passes: int) -> LinkClass:
    """The class to report given this pass and the passes before it, newest LAST.

    A `suspect` link becomes `broken` once it has been suspect (or broken) for `suspect_passes`
    consecutive passes including this one; any other class is reported as observed.
    """
    if not history:
        raise ValueError("escalate needs at least the current pass")
    current = history[-1]
    if current is not LinkClass.SUSPECT or suspect_passes < 1:
        return current
    streak = 0
    for seen in reversed(history):
        if seen not in (LinkClass.SUSPECT, LinkClass.BROKEN):
            break
        streak += 1
    return LinkClass.BROKEN if streak >= suspect_passes else LinkClass.SUSPECT


@dataclass(frozen=True)
class Exclusions:
    """Per-site exclusion patterns: `re:<regex>` or a shell glob over the whole URL."""

    patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for pattern in self.patterns:
            if pattern.startswith("re:"):
                re.compile(pattern[3:])  # a bad pattern fails at construction, with re's message

    def match(self, url: str) -> str | None:
        """The first pattern that excludes `url`, or None."""
        for pattern in self.patterns:
            if pattern.startswith("re:"):
                if re.search(pattern[3:], url):
                    return pattern
            elif fnmatch.fnmatchcase(url, pattern):
                return pattern
        return None
