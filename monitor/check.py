"""One check of one page: fetch -> decode -> content checks -> extract, as a `CheckOutcome`.

Shared by the daemon and `monitor check`. Target-side problems come back as data
(`result`, `error_kind`); nothing here touches the database, the scheduler or metrics.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from urllib.parse import urlsplit

from monitor.decode import decode
from monitor.extract import extract
from monitor.models import LISTED_KINDS, ErrorKind, Extraction, ExtractKind, Page, ProbeResult, Result
from monitor.store import content_hash

_SOFT_404_TITLE = re.compile(
    r"<title[^>]*>[^<]{0,80}(页面不存在|页面未找到|找不到(该|您要的|您访问的)?页面|无法找到(该)?页面|not\s+found"
    r"|(?<![\d第])404(?!\d)\s*(错误|error|页面|page|not)|(错误|error)\s*404(?!\d))[^<]{0,80}</title>"
    r"|<title[^>]*>\s*404\s*</title>",
    re.IGNORECASE,
)
"""A title that says "page not found": the words, 404 next to error/page, or just 404 (not `第404期`)."""
SHELL_HOPS = 3
"""How many shells (meta refresh, script redirect, frameset, splash page) a check follows in a row."""
_NOT_EXPECTED = "expected text not found"
SOFT_404_MAX_BYTES = 20_000
"""Only small pages are judged soft-404: a real page may mention "404" in its title text."""


class Fetcher(Protocol):
    async def fetch(self, page: Page, *, etag: str | None = None, last_modified: str | None = None) -> ProbeResult: ...


@dataclass(frozen=True)
class Previous:
    """What the last successful check left, for conditional requests and skipping re-parses."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: int | None = None


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one check; `extraction` is None when the page was not (re-)read."""

    page: Page
    probe: ProbeResult
    result: Result
    error_kind: ErrorKind | None
    error: str | None
    content_hash: int | None = None
    unchanged: bool = False
    extraction: Extraction | None = None
    encoding: str | None = None


async def run_check(fetcher: Fetcher, page: Page, previous: Previous, today: date) -> CheckOutcome:
    """Probe the page and judge what came back, following a shell page the way a browser would."""
    probe = await fetcher.fetch(page, etag=previous.etag, last_modified=previous.last_modified)
    if probe.result is not Result.UP:
        return _without_body(page, probe, probe.result, probe.error_kind, probe.error)
    if probe.not_modified:
        return _without_body(page, probe, Result.UP, None, None, previous.content_hash, unchanged=True)
    outcome = judge_body(page, probe, previous, today)
    seen = {page.url, probe.final_url or page.url}
    for _ in range(SHELL_HOPS):
        target = _shell_target(page, outcome, seen)
        if target is None:
            break
        seen.add(target)
        outcome = await _follow(fetcher, page, outcome, target, previous, today)
    return outcome


async def _follow(
    fetcher: Fetcher, page: Page, shell: CheckOutcome, target: str, previous: Previous, today: date
) -> CheckOutcome:
    """Fetch where a shell leads and judge that as the page; the hop counts as a redirect, the
    check starts when the shell was requested and lasts until the page it leads to is read.

    The answer carries no validators: the next check must fetch the shell again, since a
    conditional request to the shell's URL says nothing about the page it leads to.
    """
    probe = await fetcher.fetch(dataclasses.replace(page, url=target))
    probe = dataclasses.replace(
        probe,
        url=shell.probe.url,
        started_at=shell.probe.started_at,
        redirects=shell.probe.redirects + 1 + probe.redirects,
        duration_s=shell.probe.duration_s + probe.duration_s,
        etag=None,
        last_modified=None,
    )
    if probe.result is not Result.UP:
        return _without_body(page, probe, probe.result, probe.error_kind, probe.error)
    return judge_body(page, probe, previous, today)


def _shell_target(page: Page, outcome: CheckOutcome, seen: set[str]) -> str | None:
    """Where the judged page leads when it is a shell: an http(s) URL on the site, not seen yet."""
    extraction = outcome.extraction
    if extraction is None or extraction.kind is not ExtractKind.SHELL or not extraction.next_url:
        return None
    target = extraction.next_url.split("#", 1)[0]
    parts = urlsplit(target)
    host = (parts.hostname or "").lower()
    own = (urlsplit(page.url).hostname or "").lower()
    if parts.scheme not in ("http", "https") or target in seen:
        return None
    return target if host == own or host in page.allowed_hosts else None


def judge_body(page: Page, probe: ProbeResult, previous: Previous, today: date) -> CheckOutcome:
    """Content checks on a 200 answer: decodable, expected keyword, not a soft 404; then extract.

    A shell (a redirect page, a frameset) is judged by where it leads: the expected keyword is
    looked for there, not in the shell.
    """
    digest = content_hash(probe.body)
    if digest == previous.content_hash:
        # The very bytes that passed every content check last time (`previous` only remembers up
        # checks, and forgets when the page's content settings change): nothing to decode or read.
        return CheckOutcome(page, _drop_body(probe), Result.UP, None, None, digest, unchanged=True)
    decoded = decode(probe.body, probe.content_type)
    problem = _content_problem(page, probe.body, decoded.text, decoded.is_text)
    extraction = None
    if page.kind in LISTED_KINDS and (problem is None or problem[1] == _NOT_EXPECTED):
        extraction = extract(
            decoded.text,
            base_url=probe.final_url or page.url,
            encoding=decoded.encoding,
            today=today,
            item_selector=page.item_selector,
            date_selector=page.date_selector,
            kind=page.kind,
        )
    if problem is not None and not (extraction is not None and extraction.kind is ExtractKind.SHELL):
        kind, message = problem
        return _without_body(page, probe, Result.DOWN, kind, message, digest)
    return CheckOutcome(page, _drop_body(probe), Result.UP, None, None, digest, False, extraction, decoded.encoding)


def _content_problem(page: Page, body: bytes, text: str, is_text: bool) -> tuple[ErrorKind, str] | None:
    if not body:
        return ErrorKind.CONTENT, "empty response body"
    if not is_text:
        return ErrorKind.DECODE, "response body is not text"
    if page.expect is not None and page.expect not in text:
        return ErrorKind.CONTENT, _NOT_EXPECTED
    if len(body) <= SOFT_404_MAX_BYTES and _SOFT_404_TITLE.search(text):
        return ErrorKind.CONTENT, "page says it does not exist (soft 404)"
    return None


def _without_body(
    page: Page,
    probe: ProbeResult,
    result: Result,
    kind: ErrorKind | None,
    error: str | None,
    digest: int | None = None,
    *,
    unchanged: bool = False,
) -> CheckOutcome:
    return CheckOutcome(page, _drop_body(probe), result, kind, error, digest, unchanged)


def _drop_body(probe: ProbeResult) -> ProbeResult:
    """Outcomes outlive the check (queues, metrics); the body is not needed past this module."""
    return dataclasses.replace(probe, body=b"") if probe.body else probe
