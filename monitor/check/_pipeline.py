"""One check of one page: fetch -> decode -> content checks -> extract, as a `CheckOutcome`.

Shared by the daemon and `monitor check`. Target-side problems come back as data
(`result`, `error_kind`); nothing here touches the database, the scheduler or metrics.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from urllib.parse import urlsplit

from monitor.check._hashing import content_hash
from monitor.extract import decode, extract, title_says_not_found
from monitor.integrity import Inspection
from monitor.models import LISTED_KINDS, ErrorKind, Extraction, ExtractKind, Page, ProbeResult, Result
from monitor.origins import same_site

_TITLE = re.compile(r"<title[^>]*>([^<]{0,200})</title>", re.IGNORECASE)
"""The page title, for the soft-404 words (extract's one not-found vocabulary, shared with links/)."""
SHELL_HOPS = 3
"""How many shells (meta refresh, script redirect, frameset, splash page) a check follows in a row."""
_NOT_EXPECTED = "expected text not found"
SOFT_404_MAX_BYTES = 20_000
"""Only small pages are judged soft-404: a real page may mention "404" in its title text."""


class PageFetcher(Protocol):
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
    inspection: Inspection | None = None
    """The integrity reading of the body (monitor.integrity), when the daemon asked for one."""


Inspector = Callable[[str, str], Inspection]
"""Inspects a decoded page (text, URL) for integrity: `monitor.integrity.inspect_page` with its
Domains and word list bound (built in the read worker)."""


Judge = Callable[[Page, ProbeResult, Previous, date], Awaitable["CheckOutcome"]]
"""Reads a 200 answer's body into an outcome: `judge_here`, or the daemon's worker processes
(`monitor.check._readpool`), which keep a hostile page's parse off the event loop."""


async def judge_here(page: Page, probe: ProbeResult, previous: Previous, today: date) -> CheckOutcome:
    """`judge_body` in this process (one-shot commands: no event loop to keep responsive)."""
    return judge_body(page, probe, previous, today)


async def run_check(
    fetcher: PageFetcher, page: Page, previous: Previous, today: date, judge: Judge = judge_here
) -> CheckOutcome:
    """Probe the page and judge what came back, following a shell page the way a browser would."""
    probe = await fetcher.fetch(page, etag=previous.etag, last_modified=previous.last_modified)
    if probe.result is not Result.UP:
        return _without_body(page, probe, probe.result, probe.error_kind, probe.error)
    if probe.not_modified:
        return _without_body(page, probe, Result.UP, None, None, previous.content_hash, unchanged=True)
    digest = content_hash(probe.body)
    if digest == previous.content_hash:
        # The very bytes that passed every content check last time: nothing to send to a reader.
        return CheckOutcome(page, _drop_body(probe), Result.UP, None, None, digest, unchanged=True)
    outcome = await judge(page, probe, previous, today)
    seen = {page.url, probe.final_url or page.url}
    for _ in range(SHELL_HOPS):
        target = _shell_target(page, outcome, seen)
        if target is None:
            break
        seen.add(target)
        outcome = await _follow(fetcher, page, outcome, target, previous, today, judge)
    return outcome


async def _follow(
    fetcher: PageFetcher,
    page: Page,
    shell: CheckOutcome,
    target: str,
    previous: Previous,
    today: date,
    judge: Judge,
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
    return await judge(page, probe, previous, today)


def _shell_target(page: Page, outcome: CheckOutcome, seen: set[str]) -> str | None:
    """Where the judged page leads when it is a shell: an http(s) URL on the site, not seen yet."""
    extraction = outcome.extraction
    if extraction is None or extraction.kind is not ExtractKind.SHELL or not extraction.next_url:
        return None
    target = extraction.next_url.split("#", 1)[0]
    if urlsplit(target).scheme not in ("http", "https") or target in seen:
        return None
    return target if same_site(target, page.url, page.allowed_hosts) else None


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
    return outcome_of(page, probe, digest, read_body(page, probe, today))


@dataclass(frozen=True)
class Reading:
    """What reading a 200 answer's body found: a content problem, or its encoding and extraction
    (None for pages whose list is not read). The part of a check that parses the page."""

    problem: tuple[ErrorKind, str] | None
    encoding: str | None = None
    extraction: Extraction | None = None
    inspection: Inspection | None = None


def read_body(page: Page, probe: ProbeResult, today: date, inspector: Inspector | None = None) -> Reading:
    """Decode the body, run the content checks, extract the list of a listed page; inspect its
    integrity from the same text when an `inspector` is given."""
    decoded = decode(probe.body, probe.content_type)
    problem = _content_problem(page, probe.body, decoded.text, decoded.is_text)
    if problem is not None and problem[1] != _NOT_EXPECTED:
        return Reading(problem)
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
    inspection = inspector(decoded.text, probe.final_url or page.url) if inspector is not None else None
    return Reading(problem, decoded.encoding, extraction, inspection)


def outcome_of(page: Page, probe: ProbeResult, digest: int, reading: Reading) -> CheckOutcome:
    """The check's verdict from what reading its body found. A shell (a redirect page, a frameset)
    is judged by where it leads: an expected keyword missing from the shell is no problem yet."""
    shell = reading.extraction is not None and reading.extraction.kind is ExtractKind.SHELL
    if reading.problem is not None and not shell:
        kind, message = reading.problem
        return _without_body(page, probe, Result.DOWN, kind, message, digest)
    return CheckOutcome(
        page,
        _drop_body(probe),
        Result.UP,
        None,
        None,
        digest,
        False,
        reading.extraction,
        reading.encoding,
        reading.inspection,
    )


def _says_not_found(text: str) -> bool:
    """The page's title says it does not exist (a soft 404 served with 200)."""
    title = _TITLE.search(text)
    return title is not None and title_says_not_found(title.group(1).strip())


def _content_problem(page: Page, body: bytes, text: str, is_text: bool) -> tuple[ErrorKind, str] | None:
    if not body:
        return ErrorKind.CONTENT, "empty response body"
    if not is_text:
        return ErrorKind.DECODE, "response body is not text"
    if page.expect is not None and page.expect not in text:
        return ErrorKind.CONTENT, _NOT_EXPECTED
    if len(body) <= SOFT_404_MAX_BYTES and _says_not_found(text):
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
