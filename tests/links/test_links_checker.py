"""monitor.links LinkChecker against real servers on loopback: every class, HEAD fallback, retries,
back-off, soft-404s, anti-bot answers, unresolvable and private hosts, the external cache.

No traffic leaves loopback: names are resolved only for loopback hosts (the fixture fails the test
otherwise) and `.invalid` is answered without asking the resolver.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.check import HostBudget
from monitor.extract import CHALLENGE_MAX_BYTES
from monitor.links import (
    Inspection,
    LinkCache,
    LinkChecker,
    LinkClass,
    LinkResult,
    LinkSettings,
    ResourceType,
    Scope,
    SiteScope,
)
from monitor.models import ErrorKind, FixedClock
from tests.links.links_site import LinkSite, Reply, html, serving
from tests.support.certs import write_certs
from tests.support.ports import closed_port
from tests.support.sleeps import FakeSleep

LOOPBACK_NAMES = frozenset({"127.0.0.1", "127.0.0.2", "localhost"})
CHALLENGE = b'<html><head><meta r="m"><script>var $_ts=window["$_ts"];$_ts.x=1;</script></head><body></body></html>'


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if anything asks the resolver for a name that is not a loopback one."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK_NAMES:
            asked.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, "test: off-loopback name refused")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield asked
    assert asked == [], f"names resolved off loopback: {asked}"


def settings(**overrides: Any) -> LinkSettings:
    base: dict[str, Any] = {
        "spacing_s": 0.0,
        "timeout_s": 3.0,
        "retries": 2,
        "backoff_s": 1.0,
        "private_hosts": frozenset({"127.0.0.1"}),
    }
    return LinkSettings(**{**base, **overrides})


class Harness:
    """A checker on a fixed clock whose back-off waits are recorded, not slept."""

    def __init__(self, link_settings: LinkSettings | None = None, cache: LinkCache | None = None) -> None:
        self.settings = link_settings or settings()
        self.clock = FixedClock()
        self.sleep = FakeSleep(self.clock)
        self.cache = cache

    def check(
        self, base: str, items: list[tuple[str, str]], site_hosts: list[str] | None = None
    ) -> dict[str, LinkResult]:
        """Check (url, element) pairs for the site living at `base` (or at `site_hosts`)."""
        site = SiteScope.of(site_hosts or [base])

        async def main() -> dict[str, LinkResult]:
            budget = HostBudget(concurrency=2, spacing_s=0.0, clock=self.clock, sleep=self.sleep)
            async with LinkChecker(self.settings, budget=budget, clock=self.clock, cache=self.cache) as checker:
                results = await asyncio.gather(*(checker.check(url, site, element=el) for url, el in items))
            return {result.url: result for result in results}

        return asyncio.run(main())


def test_dead_internal_pages_are_broken_and_a_404_is_never_retried() -> None:
    site = LinkSite(
        {
            "/ok.html": Reply(body=html("正文")),
            "/forbidden.html": Reply(403),
            "/removed.html": Reply(410),
        }
    )
    with serving(site) as base:
        urls = [f"{base}/{name}.html" for name in ("ok", "gone", "forbidden", "removed")]
        results = Harness().check(base, [(url, "a") for url in urls])
    assert [results[url].link_class for url in urls] == [LinkClass.OK, *[LinkClass.BROKEN] * 3]
    assert results[urls[1]].reason == "HTTP 404" and results[urls[1]].scope is Scope.INTERNAL
    assert len(site.requests("/gone.html")) == 1


def test_dead_image_and_attachment_are_broken_with_their_type() -> None:
    site = LinkSite({})
    with serving(site) as base:
        results = Harness().check(base, [(f"{base}/i/logo.png", "img"), (f"{base}/f/办法.pdf", "a")])
    image, attachment = results[f"{base}/i/logo.png"], results[f"{base}/f/办法.pdf"]
    assert (image.link_class, image.rtype) == (LinkClass.BROKEN, ResourceType.IMAGE)
    assert (attachment.link_class, attachment.rtype) == (LinkClass.BROKEN, ResourceType.ATTACHMENT)
    # HEAD first; a failing HEAD is confirmed with GET before the link is called dead.
    assert [r.method for r in site.requests("/i/logo.png")] == ["HEAD", "GET"]


def test_attachments_are_checked_without_downloading_them() -> None:
    big = Reply(body=b"%PDF-1.7\n" + bytes(3 * 1024 * 1024), headers=(("Content-Type", "application/pdf"),))
    site = LinkSite({"/f/big.pdf": big, "/f/nohead.pdf": Reply(body=big.body, head=Reply(405))})
    with serving(site) as base:
        results = Harness().check(base, [(f"{base}/f/big.pdf", "a"), (f"{base}/f/nohead.pdf", "a")])
    assert results[f"{base}/f/big.pdf"].link_class is LinkClass.OK
    assert [r.method for r in site.requests("/f/big.pdf")] == ["HEAD"]
    nohead = results[f"{base}/f/nohead.pdf"]
    assert (nohead.link_class, nohead.outcome.method) == (LinkClass.OK, "GET")
    assert [r.headers.get("Range") for r in site.requests("/f/nohead.pdf", "GET")] == ["bytes=0-1023"]


@pytest.mark.parametrize("head_status", [404, 405, 500, 501, 403])
def test_head_hostile_servers_are_asked_again_with_get(head_status: int) -> None:
    site = LinkSite({"/i/a.png": Reply(body=b"\x89PNG", head=Reply(head_status))})
    with serving(site) as base:
        result = Harness(settings(retries=0)).check(base, [(f"{base}/i/a.png", "img")])[f"{base}/i/a.png"]
    assert (result.link_class, result.outcome.method, result.outcome.status) == (LinkClass.OK, "GET", 200)


def test_soft_404_by_what_the_page_says() -> None:
    site = LinkSite(
        {
            "/art/1.html": Reply(body=html("对不起，您访问的页面不存在或已被删除！", "提示信息")),
            "/art/2.html": Reply(body=html("正常的文章" * 50, "404 错误")),
            "/art/3.html": Reply(body=html("关于做好防汛工作的通知" * 20, "通知")),
            "/art/4.html": Reply(
                body="<html><body>抱歉，您访问的页面不存在</body></html>".encode("gbk"),
                headers=(("Content-Type", "text/html; charset=gbk"),),
            ),
            "/art/5.html": Reply(body=html("条例全文" * 50, "中华人民共和国国务院令第404号")),
            "/art/6.html": Reply(body=html("页面" * 50, "页面 404")),
            "/art/7.html": Reply(body=html("", "Error 404 - Not Found")),
        }
    )
    with serving(site) as base:
        urls = [f"{base}/art/{n}.html" for n in range(1, 8)]
        results = Harness().check(base, [(url, "a") for url in urls])
    soft, ok = LinkClass.SOFT_404, LinkClass.OK
    assert [results[url].link_class for url in urls] == [soft, soft, ok, soft, ok, ok, soft]


def test_host_answering_200_to_every_path_gets_soft_404s_but_never_on_its_homepage() -> None:
    front = Reply(body=html("欢迎访问本站 " * 30, "某某局门户网站"))
    site = LinkSite(
        {"/real.html": Reply(body=html("一篇真实的文章，内容很长。" * 40, "真实文章"))}, fallback=lambda p: front
    )
    with serving(site) as base:
        urls = [f"{base}/", f"{base}/index.html", f"{base}/real.html", f"{base}/gone/old.html"]
        results = Harness().check(base, [(url, "a") for url in urls])
    assert [results[url].link_class for url in urls] == [LinkClass.OK, LinkClass.OK, LinkClass.OK, LinkClass.SOFT_404]
    probes = [r.path for r in site.log if "pm-surely-missing-" in r.path]
    assert len(probes) == 1  # one probe per host, shared by every page


def test_a_deep_link_redirected_to_the_front_page_is_a_soft_404() -> None:
    site = LinkSite(
        {
            "/": Reply(body=html("首页")),
            "/old/a.html": Reply(302, headers=(("Location", "/"),)),
            "/moved.html": Reply(301, headers=(("Location", "/new.html"),)),
            "/new.html": Reply(body=html("新页面内容" * 30, "新页面")),
        }
    )
    with serving(site) as base:
        results = Harness().check(base, [(f"{base}/old/a.html", "a"), (f"{base}/moved.html", "a")])
    assert results[f"{base}/old/a.html"].link_class is LinkClass.SOFT_404
    moved = results[f"{base}/moved.html"]
    assert (moved.link_class, moved.outcome.final_url) == (LinkClass.OK, f"{base}/new.html")


def test_redirect_loop_is_suspect() -> None:
    site = LinkSite(
        {
            "/loop.html": Reply(302, headers=(("Location", "/loop.html?x"),)),
            "/loop.html?x": Reply(302, headers=(("Location", "/loop.html"),)),
        }
    )
    with serving(site) as base:
        result = Harness().check(base, [(f"{base}/loop.html", "a")])[f"{base}/loop.html"]
    assert (result.link_class, result.outcome.error_kind) == (LinkClass.SUSPECT, ErrorKind.REDIRECT)


def test_a_page_link_serving_a_large_file_is_not_downloaded() -> None:
    blob = Reply(body=bytes(4 * 1024 * 1024), headers=(("Content-Type", "application/octet-stream"),))
    site = LinkSite({"/download": blob})
    with serving(site) as base:
        inspection = asyncio.run(_inspect(f"{base}/download", SiteScope.of([base])))
    assert inspection.result.link_class is LinkClass.OK
    assert len(inspection.body) <= CHALLENGE_MAX_BYTES  # only its start is read, to spot a challenge page


async def _inspect(url: str, site: SiteScope) -> Inspection:
    async with LinkChecker(settings()) as checker:
        return await checker.inspect(url, site)


def test_slow_link_times_out_as_suspect_and_a_timeout_is_retried() -> None:
    site = LinkSite({"/slow.html": Reply(body=html("慢"), delay_s=1.0)})
    harness = Harness(settings(timeout_s=0.2, retries=1))
    with serving(site) as base:
        result = harness.check(base, [(f"{base}/slow.html", "a")])[f"{base}/slow.html"]
    assert (result.link_class, result.outcome.error_kind) == (LinkClass.SUSPECT, ErrorKind.TIMEOUT)
    assert len(site.requests("/slow.html")) == 2
    assert harness.sleep.calls == [1.0]


def test_429_with_retry_after_is_waited_out_then_checked() -> None:
    busy = Reply(429, headers=(("Retry-After", "7"),), then=[Reply(body=html("好了"))])
    site = LinkSite({"/busy.html": busy})
    harness = Harness()
    with serving(site) as base:
        result = harness.check(base, [(f"{base}/busy.html", "a")])[f"{base}/busy.html"]
    assert (result.link_class, result.outcome.attempts) == (LinkClass.OK, 2)
    assert harness.sleep.calls == [7.0]


def test_retry_after_is_capped_and_a_persistent_429_is_blocked_never_broken() -> None:
    site = LinkSite({"/busy.html": Reply(429, headers=(("Retry-After", "3600"),))})
    harness = Harness(settings(retry_after_cap_s=60.0))
    with serving(site) as base:
        result = harness.check(base, [(f"{base}/busy.html", "a")])[f"{base}/busy.html"]
    assert (result.link_class, result.outcome.status, result.outcome.attempts) == (LinkClass.BLOCKED, 429, 3)
    assert harness.sleep.calls == [60.0, 60.0]


def test_5xx_is_retried_with_exponential_back_off_then_suspect() -> None:
    site = LinkSite({"/err.html": Reply(503)})
    harness = Harness(settings(retries=2, backoff_s=1.0))
    with serving(site) as base:
        result = harness.check(base, [(f"{base}/err.html", "a")])[f"{base}/err.html"]
    assert (result.link_class, result.outcome.attempts) == (LinkClass.SUSPECT, 3)
    assert harness.sleep.calls == [1.0, 2.0]


@pytest.mark.parametrize(
    ("route", "reason"), [(Reply(412), "HTTP 412"), (Reply(521), "HTTP 521"), (Reply(body=CHALLENGE), "challenge")]
)
def test_anti_bot_answers_are_blocked_not_broken(route: Reply, reason: str) -> None:
    site = LinkSite({"/p.html": route})
    with serving(site) as base:
        result = Harness(settings(retries=0)).check(base, [(f"{base}/p.html", "a")])[f"{base}/p.html"]
    assert result.link_class is LinkClass.BLOCKED
    assert reason in result.reason


def test_external_link_whose_domain_does_not_resolve_is_broken(loopback_only: list[str]) -> None:
    site = LinkSite({})
    with serving(site) as base:
        result = Harness().check(base, [("http://lapsed.nonexistent.invalid/", "a")])[
            "http://lapsed.nonexistent.invalid/"
        ]
    assert (result.link_class, result.scope, result.outcome.error_kind) == (
        LinkClass.BROKEN,
        Scope.EXTERNAL,
        ErrorKind.DNS,
    )
    assert result.outcome.name_missing and "does not resolve" in result.reason
    assert loopback_only == []


def test_connection_refused_is_suspect() -> None:
    url = f"http://127.0.0.1:{closed_port()}/a.html"
    result = Harness(settings(retries=0)).check("http://127.0.0.1/", [(url, "a")])[url]
    assert (result.link_class, result.outcome.error_kind) == (LinkClass.SUSPECT, ErrorKind.CONNECT)


def _bind_127_0_0_2() -> None:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("127.0.0.2 is not bindable here")


def test_private_addresses_reached_through_content_are_refused_unless_the_site_lives_there() -> None:
    _bind_127_0_0_2()
    intranet = LinkSite({"/oa/": Reply(body=html("内网"))})
    with serving(intranet, host="127.0.0.2") as other, serving(LinkSite({})) as base:
        host_port = other.split("//")[1]
        urls = [f"{other}/oa/", f"http://localhost:{host_port.split(':')[1]}/oa/"]
        results = Harness().check(base, [(url, "a") for url in urls])
        assert intranet.log == []
        assert all(results[url].link_class is LinkClass.EXCLUDED for url in urls)
        assert "non-public address" in results[urls[0]].reason
        allowed = Harness(settings(private_hosts=frozenset({"127.0.0.2"}))).check(other, [(f"{other}/oa/", "a")])
    assert allowed[f"{other}/oa/"].link_class is LinkClass.OK


def test_an_external_url_is_checked_once_a_day_across_sites() -> None:
    site = LinkSite({"/x.html": Reply(body=html("外部"))})
    cache = LinkCache(ttl_s=86400.0)
    harness = Harness(settings(private_hosts=frozenset({"127.0.0.1", "localhost"})), cache=cache)
    with serving(site) as base:
        external = base.replace("127.0.0.1", "localhost") + "/x.html"
        first = harness.check(base, [(external, "a")], site_hosts=["http://a.example.gov.cn/"])[external]
        again = harness.check(base, [(external, "a")], site_hosts=["http://b.example.gov.cn/"])[external]
        assert len(site.requests("/x.html")) == 1
        assert (first.link_class, again.link_class, again.checked_at) == (LinkClass.OK, LinkClass.OK, first.checked_at)
        harness.clock.advance(86401.0)
        harness.check(base, [(external, "a")], site_hosts=["http://a.example.gov.cn/"])
    assert len(site.requests("/x.html")) == 2
    assert all(r.method == "HEAD" for r in site.requests("/x.html"))


@pytest.mark.parametrize(
    ("variant", "verify", "expected"),
    [("valid", True, LinkClass.OK), ("wrong_host", True, LinkClass.SUSPECT), ("self_signed", False, LinkClass.OK)],
)
def test_https_links_are_verified_against_the_name_while_connecting_to_the_checked_address(
    tmp_path: Path, variant: str, verify: bool, expected: LinkClass
) -> None:
    certs = write_certs(tmp_path)
    site = LinkSite({"/a.html": Reply(body=html("安全"))})
    link_settings = settings(verify_tls=verify, retries=0, private_hosts=frozenset({"localhost"}))

    async def main(url: str) -> LinkResult:
        async with LinkChecker(link_settings, ca_file=str(certs.ca)) as checker:
            return await checker.check(url, SiteScope.of([url]))

    with serving(site, tls=certs.pairs[variant]) as base:
        url = base.replace("127.0.0.1", "localhost") + "/a.html"
        result = asyncio.run(main(url))
    assert result.link_class is expected
    if expected is LinkClass.SUSPECT:
        assert result.outcome.error_kind is ErrorKind.TLS
    else:
        assert site.requests("/a.html")[0].headers["Host"] == url.split("/")[2]


def test_an_external_404_is_suspect_not_the_inspectors_broken() -> None:
    site = LinkSite({})
    harness = Harness(settings(private_hosts=frozenset({"127.0.0.1", "localhost"})))
    with serving(site) as base:
        external = base.replace("127.0.0.1", "localhost") + "/gone.html"
        result = harness.check(base, [(external, "a")])[external]
    assert (result.link_class, result.scope, result.outcome.status) == (LinkClass.SUSPECT, Scope.EXTERNAL, 404)


def test_answers_whose_body_is_not_wanted_keep_their_keep_alive_connection() -> None:
    """A HEAD answer or a short error page is read to its end, so the next link reuses the
    connection (dropped with an unread answer, every image cost a connect: 300 of 2,300 requests
    on the benchmark's site)."""
    connections: list[asyncio.Event] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        closed = asyncio.Event()
        connections.append(closed)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            method, path = head.split(b" ")[:2]
            status, body = (404, b"<h1>404 Not Found</h1>" * 20) if b"gone" in path else (200, bytes(500))
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n\r\n".encode())
            writer.write(b"" if method == b"HEAD" else body)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    async def main() -> list[LinkClass]:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        site = SiteScope.of([base])
        paths = ["/a.png", "/b.png", "/gone.png", "/c.pdf", "/gone.pdf", "/d.png"]
        async with LinkChecker(settings(concurrency=1)) as checker:
            classes = [(await checker.check(base + path, site, element="img")).link_class for path in paths]
        for closed in connections:  # the checker hung up: each connection's handler ends
            await asyncio.wait_for(closed.wait(), 5)
        server.close()
        await server.wait_closed()
        return classes

    classes = asyncio.run(main())
    assert classes == [LinkClass.OK, LinkClass.OK, LinkClass.BROKEN, LinkClass.OK, LinkClass.BROKEN, LinkClass.OK]
    assert len(connections) == 1  # 8 requests (each 404 asked again with GET), one connection
