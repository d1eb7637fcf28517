"""check.py: judging a 200 answer (decode, expected text, soft 404) and re-reading only changed content."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from monitor.check import content_hash
from monitor.check._pipeline import CheckOutcome, Previous, run_check
from monitor.models import ErrorKind, ExtractKind, Page, PageKind, ProbeResult, Result

LIST_PAGE = (
    '<html><head><meta charset="utf-8"><title>工作动态</title></head><body><div class="list"><ul>'
    + "".join(
        f'<li><a href="./t2026112{i}_{i}.html" title="第{i}条">第{i}条</a><span>2026-11-2{i}</span></li>'
        for i in range(1, 6)
    )
    + "</ul></div></body></html>"
).encode()
TODAY = date(2026, 11, 27)


class FakeFetcher:
    """Answers every fetch with the same probe (one module under test: check.py)."""

    def __init__(self, probe: ProbeResult) -> None:
        self.probe = probe
        self.calls: list[tuple[str | None, str | None]] = []

    async def fetch(self, page: Page, *, etag: str | None = None, last_modified: str | None = None) -> ProbeResult:
        self.calls.append((etag, last_modified))
        return self.probe


def answer(body: bytes, *, status: int = 200, result: Result = Result.UP, **extra: object) -> ProbeResult:
    return ProbeResult(
        url="http://x/",
        started_at=1.0,
        result=result,
        status=status,
        body=body,
        bytes=len(body),
        content_type="text/html; charset=utf-8",
        **extra,
    )  # type: ignore[arg-type]


def check(
    probe: ProbeResult, page: Page | None = None, previous: Previous | None = None
) -> tuple[CheckOutcome, FakeFetcher]:
    page = page or Page("s", "news", "http://x/news/", PageKind.COLUMN)
    fetcher = FakeFetcher(probe)
    return asyncio.run(run_check(fetcher, page, previous or Previous(), TODAY)), fetcher


def test_a_list_page_is_read() -> None:
    outcome, _ = check(answer(LIST_PAGE))
    assert outcome.result is Result.UP and outcome.extraction is not None
    assert outcome.extraction.kind is ExtractKind.LIST and len(outcome.extraction.items) == 5
    assert outcome.content_hash == content_hash(LIST_PAGE) and outcome.probe.body == b""


def test_unchanged_content_is_not_parsed_again_and_validators_are_sent() -> None:
    previous = Previous('"abc"', "Wed, 25 Nov 2026 01:00:00 GMT", content_hash(LIST_PAGE))
    outcome, fetcher = check(answer(LIST_PAGE), previous=previous)
    assert outcome.unchanged and outcome.extraction is None
    assert fetcher.calls == [('"abc"', "Wed, 25 Nov 2026 01:00:00 GMT")]


def test_not_modified_is_up_and_unchanged() -> None:
    outcome, _ = check(answer(b"", status=304, not_modified=True), previous=Previous('"e"', None, 42))
    assert (outcome.result, outcome.unchanged, outcome.content_hash) == (Result.UP, True, 42)


def test_a_plain_page_is_checked_but_not_read() -> None:
    outcome, _ = check(answer(LIST_PAGE), page=Page("s", "app", "http://x/app", PageKind.PAGE))
    assert outcome.result is Result.UP and outcome.extraction is None


@pytest.mark.parametrize(
    ("body", "page", "kind", "error"),
    [
        (b"", Page("s", "p", "http://x/"), ErrorKind.CONTENT, "empty response body"),
        (bytes(range(256)) * 8, Page("s", "p", "http://x/"), ErrorKind.DECODE, "response body is not text"),
        (LIST_PAGE, Page("s", "p", "http://x/", expect="交通运输局"), ErrorKind.CONTENT, "expected text not found"),
        (
            "<html><title>404 页面不存在</title><body>抱歉</body></html>".encode(),
            Page("s", "p", "http://x/"),
            ErrorKind.CONTENT,
            "page says it does not exist (soft 404)",
        ),
    ],
)
def test_content_problems_make_a_200_down(body: bytes, page: Page, kind: ErrorKind, error: str) -> None:
    outcome, _ = check(answer(body), page=page)
    assert (outcome.result, outcome.error_kind, outcome.error) == (Result.DOWN, kind, error)


def test_a_large_page_mentioning_404_in_its_title_is_not_a_soft_404() -> None:
    body = ("<html><title>关于404号文件的通知</title><body>" + "正文" * 20_000 + "</body></html>").encode()
    outcome, _ = check(answer(body), page=Page("s", "p", "http://x/"))
    assert outcome.result is Result.UP


def test_failures_pass_through() -> None:
    probe = ProbeResult(
        url="http://x/", started_at=1.0, result=Result.DOWN, error_kind=ErrorKind.TIMEOUT, error="timed out"
    )
    outcome, _ = check(probe)
    assert (outcome.result, outcome.error_kind, outcome.error, outcome.extraction) == (
        Result.DOWN,
        ErrorKind.TIMEOUT,
        "timed out",
        None,
    )


@pytest.mark.parametrize(
    ("title", "soft_404"),
    [
        ("404", True),
        ("404 Not Found", True),
        ("页面不存在", True),
        ("错误404", True),
        ("404错误_某某局", True),
        ("抱歉，找不到您访问的页面", True),
        ("关于第404期的通知", False),
        ("栏目404", False),
        ("2404号文件", False),
        ("工作动态", False),
    ],
)
def test_soft_404_titles(title: str, soft_404: bool) -> None:
    body = f"<html><head><title>{title}</title></head><body><p>内容</p></body></html>".encode()
    outcome, _ = check(answer(body), page=Page("s", "p", "http://x/"))
    assert (outcome.error_kind is ErrorKind.CONTENT) == soft_404


def test_unchanged_bytes_are_not_even_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decode(*args: object) -> None:
        raise AssertionError("decoded an unchanged body")

    monkeypatch.setattr("monitor.check._pipeline.decode", no_decode)
    outcome, _ = check(answer(LIST_PAGE), previous=Previous(None, None, content_hash(LIST_PAGE)))
    assert outcome.result is Result.UP and outcome.unchanged


def test_the_page_kind_reaches_the_extractor() -> None:
    """A configured homepage is read block by block (kind `homepage`), a column as one list."""
    home = Page("s", "home", "http://x/", PageKind.HOMEPAGE)
    outcome, _ = check(answer(LIST_PAGE), page=home)
    assert outcome.extraction is not None and outcome.extraction.kind is ExtractKind.HOMEPAGE
    assert [block.items for block in outcome.extraction.blocks] == [5]
    column, _ = check(answer(LIST_PAGE))
    assert column.extraction is not None and column.extraction.kind is ExtractKind.LIST
