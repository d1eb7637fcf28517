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

from monitor.decode import decode
from monitor.extract import extract
from monitor.models import LISTED_KINDS, ErrorKind, Extraction, Page, ProbeResult, Result
from monitor.store import content_hash

_SOFT_404_TITLE = re.compile(
    r"<title[^>]*>[^<]{0,80}(页面不存在|页面未找到|找不到(该|您要的|您访问的)?页面|无法找到(该)?页面|not\s+found"
    r"|(?<![\d第])404(?!\d)\s*(错误|error|页面|page|not)|(错误|error)\s*404(?!\d))[^<]{0,80}</title>"
    r"|<title[^>]*>\s*404\s*</title>",
    re.IGNORECASE,
)
"""A title that says "page not found": the words, 404 next to error/page, or just 404 (not `第404期`)."""
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
    """Probe the page and judge what came back."""
    probe = await fetcher.fetch(page, etag=previous.etag, last_modified=previous.last_modified)
    if probe.result is not Result.UP:
        return _without_body(page, probe, probe.result, probe.error_kind, probe.error)
    if probe.not_modified:
        return _without_body(page, probe, Result.UP, None, None, previous.content_hash, unchanged=True)
    return judge_body(page, probe, previous, today)


def judge_body(page: Page, probe: ProbeResult, previous: Previous, today: date) -> CheckOutcome:
    """Content checks on a 200 answer: decodable, expected keyword, not a soft 404; then extract."""
    digest = content_hash(probe.body)
    if digest == previous.content_hash:
        # The very bytes that passed every content check last time (`previous` only remembers up
        # checks, and forgets when the page's content settings change): nothing to decode or read.
        return CheckOutcome(page, _drop_body(probe), Result.UP, None, None, digest, unchanged=True)
    decoded = decode(probe.body, probe.content_type)
    problem = _content_problem(page, probe.body, decoded.text, decoded.is_text)
    if problem is not None:
        kind, message = problem
        return _without_body(page, probe, Result.DOWN, kind, message, digest)
    extraction = None
    if page.kind in LISTED_KINDS:
        extraction = extract(
            decoded.text,
            base_url=probe.final_url or page.url,
            encoding=decoded.encoding,
            today=today,
            item_selector=page.item_selector,
            date_selector=page.date_selector,
            kind=page.kind,
        )
    return CheckOutcome(page, _drop_body(probe), Result.UP, None, None, digest, False, extraction, decoded.encoding)


def _content_problem(page: Page, body: bytes, text: str, is_text: bool) -> tuple[ErrorKind, str] | None:
    if not body:
        return ErrorKind.CONTENT, "empty response body"
    if not is_text:
        return ErrorKind.DECODE, "response body is not text"
    if page.expect is not None and page.expect not in text:
        return ErrorKind.CONTENT, "expected text not found"
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
