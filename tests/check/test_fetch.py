"""fetch.Fetcher against real local servers: the simulated portal, TLS variants, raw sockets.

One table row per sim fault; purpose-built loopback servers where the sim cannot produce a case
(connect timeout, concurrency counting); MockTransport only for unit cases of one function.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import contextlib
import datetime as dt
import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from monitor.check._bodies import BodyDecodeError, BodyTooLarge, CappedBody
from monitor.check._certs import cert_not_after
from monitor.check._fetch import ERROR_MAX_CHARS, Fetcher, parse_retry_after
from monitor.extract import challenge_vendor
from monitor.models import PHASES, ErrorKind, FixedClock, Page, ProbeResult, Result
from monitor.sim import SimPortal
from tests.support import ports
from tests.support.certs import Certs, make_cert, make_key, write_certs
from tests.support.paths import corpus_pages_dir

CAP = 256 * 1024
SECRET = "s3cr3t-token-value"
COLUMN = "/xxgk/gzdt/"


def make_page(url: str, **overrides: Any) -> Page:
    settings: dict[str, Any] = {"timeout_s": 2.0, "max_body_bytes": CAP}
    settings.update(overrides)
    return Page(site="sim", name="page", url=url, **settings)


def fetch(page: Page, fetcher_options: dict[str, Any] | None = None, **kwargs: Any) -> ProbeResult:
    async def run() -> ProbeResult:
        async with Fetcher(**(fetcher_options or {})) as fetcher:
            return await fetcher.fetch(page, **kwargs)

    return asyncio.run(run())


@pytest.fixture(scope="module")
def sim() -> Iterator[SimPortal]:
    with SimPortal(clock=FixedClock(t=1_790_000_000.0)) as portal:
        yield portal


@pytest.fixture(autouse=True)
def _clean_sim(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset()


# ---- one row per sim fault ---------------------------------------------------------------------


@dataclass(frozen=True)
class FaultCase:
    mode: str
    result: Result
    kind: ErrorKind | None
    timeout_s: float = 2.0
    max_duration_s: float = 1.0
    page: tuple[tuple[str, Any], ...] = ()


FAULT_CASES = [
    FaultCase("ok", Result.UP, None),
    FaultCase("500", Result.DOWN, ErrorKind.HTTP_STATUS),
    FaultCase("502", Result.DOWN, ErrorKind.HTTP_STATUS),
    FaultCase("503", Result.DOWN, ErrorKind.HTTP_STATUS),
    FaultCase("412", Result.BLOCKED, ErrorKind.BLOCKED),
    FaultCase("521", Result.BLOCKED, ErrorKind.BLOCKED),
    FaultCase("429", Result.BLOCKED, ErrorKind.RATE_LIMITED),
    FaultCase("challenge", Result.BLOCKED, ErrorKind.BLOCKED),
    FaultCase("redirect_loop", Result.DOWN, ErrorKind.REDIRECT),
    FaultCase("redirect_offsite", Result.DOWN, ErrorKind.REDIRECT, page=(("allowed_hosts", ("127.0.0.1",)),)),
    FaultCase("huge", Result.DOWN, ErrorKind.TOO_LARGE),
    FaultCase("endless", Result.DOWN, ErrorKind.TOO_LARGE),
    FaultCase("gzip_bomb", Result.DOWN, ErrorKind.TOO_LARGE),
    # Content problems are decode/extract's to judge: at the HTTP level these pages are up.
    FaultCase("garbage", Result.UP, None),
    FaultCase("lying_charset", Result.UP, None),
    FaultCase("soft404", Result.UP, None),
    FaultCase("malformed", Result.UP, None),
    FaultCase("slow:0.3", Result.UP, None),
    FaultCase("hang", Result.DOWN, ErrorKind.TIMEOUT, timeout_s=1.0, max_duration_s=1.5),
    FaultCase("slow:5", Result.DOWN, ErrorKind.TIMEOUT, timeout_s=1.0, max_duration_s=1.5),
    FaultCase("trickle", Result.DOWN, ErrorKind.TIMEOUT, timeout_s=2.0, max_duration_s=2.5),
    FaultCase("reset", Result.DOWN, ErrorKind.CONNECT),
    FaultCase("refuse", Result.DOWN, ErrorKind.CONNECT),
]


@pytest.mark.parametrize("case", FAULT_CASES, ids=[case.mode for case in FAULT_CASES])
def test_each_sim_fault_maps_to_its_result_and_error_kind(sim: SimPortal, case: FaultCase) -> None:
    sim.fault(case.mode, None if case.mode == "refuse" else COLUMN)
    page = make_page(sim.url(COLUMN), timeout_s=case.timeout_s, **dict(case.page))

    result = fetch(page)

    assert (result.result, result.error_kind) == (case.result, case.kind), result.error
    assert result.duration_s <= case.max_duration_s
    if case.kind is ErrorKind.TIMEOUT:
        assert result.duration_s >= case.timeout_s - 0.05  # cut at the deadline, not before
    if result.error is not None:
        assert "\n" not in result.error and len(result.error) <= ERROR_MAX_CHARS
    if result.result is not Result.UP:
        assert result.body == b""


def test_trickle_is_cut_at_the_total_deadline_not_per_byte(sim: SimPortal) -> None:
    sim.fault("trickle:0.1", COLUMN)  # ten bytes a second: a per-read timeout would never fire
    started = time.monotonic()
    result = fetch(make_page(sim.url(COLUMN), timeout_s=1.5))
    assert result.error_kind is ErrorKind.TIMEOUT
    assert 1.45 <= time.monotonic() - started <= 2.0


def test_retry_after_seconds_is_parsed(sim: SimPortal) -> None:
    sim.fault("503:120", COLUMN)
    result = fetch(make_page(sim.url(COLUMN)))
    assert (result.status, result.retry_after_s) == (503, 120.0)


def test_rate_limited_is_blocked_not_down_and_carries_retry_after(sim: SimPortal) -> None:
    sim.fault("429:30", COLUMN)
    result = fetch(make_page(sim.url(COLUMN)))
    assert (result.result, result.error_kind, result.status) == (Result.BLOCKED, ErrorKind.RATE_LIMITED, 429)
    assert (result.error, result.retry_after_s) == ("HTTP 429", 30.0)
    down = fetch(make_page(sim.url(COLUMN), blocked_is_down=True))
    assert (down.result, down.error_kind) == (Result.DOWN, ErrorKind.RATE_LIMITED)


def test_blocked_counts_as_down_when_configured(sim: SimPortal) -> None:
    sim.fault("412", COLUMN)
    result = fetch(make_page(sim.url(COLUMN), blocked_is_down=True))
    assert (result.result, result.error_kind) == (Result.DOWN, ErrorKind.BLOCKED)


def test_offsite_redirect_is_recorded_not_followed(sim: SimPortal) -> None:
    sim.fault("redirect_offsite", COLUMN)
    result = fetch(make_page(sim.url(COLUMN), allowed_hosts=("127.0.0.1",)))
    assert result.final_url == "http://www.offsite-portal.invalid/"
    assert result.redirects == 1
    assert result.error is not None and "www.offsite-portal.invalid" in result.error


def test_redirect_within_the_site_is_followed(sim: SimPortal) -> None:
    sim.fault("redirect:/xxgk/tzgg/", COLUMN)
    result = fetch(make_page(sim.url(COLUMN), allowed_hosts=("127.0.0.1",)))
    assert (result.result, result.status, result.redirects) == (Result.UP, 200, 1)
    assert result.final_url == sim.url("/xxgk/tzgg/")
    assert "通知公告".encode() in result.body


def test_a_redirect_to_another_port_on_the_same_host_is_not_followed(sim: SimPortal) -> None:
    with socket.socket() as other:  # a port that would answer if the redirect were followed
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        sim.fault(f"redirect:http://127.0.0.1:{port}/admin/", COLUMN)
        result = fetch(make_page(sim.url(COLUMN), allowed_hosts=("127.0.0.1",)))
    assert (result.result, result.error_kind, result.redirects) == (Result.DOWN, ErrorKind.REDIRECT, 1)
    assert result.error == f"redirect to http://127.0.0.1:{port}, another port or scheme than the site's"


def test_more_redirects_than_allowed_is_a_redirect_failure(sim: SimPortal) -> None:
    sim.fault("redirect:/xxgk/tzgg/", COLUMN)
    result = fetch(make_page(sim.url(COLUMN), max_redirects=0))
    assert (result.result, result.error_kind, result.status) == (Result.DOWN, ErrorKind.REDIRECT, 302)


def test_without_allowed_hosts_an_offsite_redirect_is_followed(sim: SimPortal) -> None:
    sim.fault("redirect_offsite", COLUMN)
    result = fetch(make_page(sim.url(COLUMN)))
    assert result.error_kind is ErrorKind.DNS  # followed to the unresolvable .invalid host


# ---- memory stays bounded by the cap -------------------------------------------------------------


@pytest.mark.parametrize("mode", ["huge", "endless", "gzip_bomb"])
def test_oversized_bodies_stop_at_the_cap_with_bounded_memory(sim: SimPortal, mode: str) -> None:
    sim.fault(mode, COLUMN)
    page = make_page(sim.url(COLUMN), max_body_bytes=1024 * 1024)
    fetch(page)  # warm-up: the sim builds its bomb once, outside the measurement
    tracemalloc.start()
    try:
        result = fetch(page)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.result, result.error_kind) == (Result.DOWN, ErrorKind.TOO_LARGE)
    assert result.bytes <= page.max_body_bytes + 1
    # The bomb inflates to 64 MiB and `endless` never ends: only a bounded reader stays near the cap.
    assert peak < 3 * page.max_body_bytes, f"peak {peak} bytes"


# ---- phases, clock, conditional requests ---------------------------------------------------------


def test_phases_are_present_plausible_and_add_up(sim: SimPortal) -> None:
    result = fetch(make_page(f"http://localhost:{sim.port}/"))
    assert result.result is Result.UP, result.error
    assert set(result.phases) == {"dns", "connect", "ttfb", "transfer"}
    assert set(result.phases) <= set(PHASES)
    assert all(0 <= seconds < 1 for seconds in result.phases.values())
    assert sum(result.phases.values()) <= result.duration_s + 1e-6
    assert result.bytes == len(result.body) > 1000
    assert result.content_type == "text/html; charset=utf-8"


def test_an_ip_literal_has_no_dns_phase_and_failures_keep_reached_phases(sim: SimPortal) -> None:
    assert "dns" not in fetch(make_page(sim.url("/"))).phases
    sim.fault("hang", COLUMN)
    result = fetch(make_page(sim.url(COLUMN), timeout_s=0.5))
    assert "connect" in result.phases and "ttfb" not in result.phases and "transfer" not in result.phases


def test_started_at_from_clock_now_and_durations_from_monotonic() -> None:
    clock = FixedClock(t=1_800_000_000.0, mono=50.0)

    def handler(request: httpx.Request) -> httpx.Response:
        clock.t -= 3600  # the wall clock steps back an hour mid-check (NTP, a VM resume)
        clock.mono += 0.25
        return httpx.Response(200, content=b"<html>ok</html>")

    page = make_page("http://portal.example/")
    result = fetch(page, {"clock": clock, "transport": httpx.MockTransport(handler)})
    assert result.started_at == 1_800_000_000.0
    assert result.duration_s == pytest.approx(0.25)


def test_conditional_request_flow_304_then_200_after_publish(sim: SimPortal) -> None:
    page = make_page(sim.url("/xxgk/tzgg/"))
    first = fetch(page)
    assert first.etag and first.last_modified and first.status == 200

    by_etag = fetch(page, etag=first.etag)
    by_date = fetch(page, last_modified=first.last_modified)
    for answer in (by_etag, by_date):
        assert (answer.result, answer.status, answer.not_modified) == (Result.UP, 304, True)
        assert answer.body == b"" and answer.error_kind is None
    assert by_etag.etag == first.etag

    sim.publish("tzgg", "关于测试条件请求的通知")
    changed = fetch(page, etag=first.etag, last_modified=first.last_modified)
    assert (changed.status, changed.not_modified) == (200, False)
    assert changed.etag != first.etag
    assert "关于测试条件请求的通知".encode() in changed.body


# ---- DNS, connect, timeout -----------------------------------------------------------------------


def test_unresolvable_name_is_dns_and_fails_fast_without_the_network() -> None:
    started = time.monotonic()
    result = fetch(make_page("http://no-such-portal.invalid/"))
    assert (result.result, result.error_kind) == (Result.DOWN, ErrorKind.DNS)
    assert time.monotonic() - started < 0.5
    assert result.phases == {}


def test_refused_port_is_connect() -> None:
    result = fetch(make_page(f"http://127.0.0.1:{ports.closed_port()}/"))
    assert (result.result, result.error_kind) == (Result.DOWN, ErrorKind.CONNECT)
    assert "refused" in (result.error or "").lower() or "failed" in (result.error or "").lower()


@pytest.fixture()
def unanswered_syn_port() -> Iterator[int]:
    with ports.unanswered_syn_port() as port:
        if port is None:
            pytest.skip("could not fill the accept queue on this kernel")
        yield port


def test_connect_timeout_is_timeout_and_says_connect(unanswered_syn_port: int) -> None:
    result = fetch(make_page(f"http://127.0.0.1:{unanswered_syn_port}/", timeout_s=1.0))
    assert (result.result, result.error_kind) == (Result.DOWN, ErrorKind.TIMEOUT)
    assert "connect" in (result.error or "")
    assert 0.95 <= result.duration_s <= 1.5
    assert "connect" not in result.phases


def test_a_refused_first_address_falls_back_to_the_next(sim: SimPortal, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name resolving to ::1 then 127.0.0.1 while the sim listens on 127.0.0.1 only."""
    loop_class = asyncio.base_events.BaseEventLoop
    real_getaddrinfo = loop_class.getaddrinfo
    seen: list[str] = []

    async def dual_stack(self: asyncio.AbstractEventLoop, host: str, port: int, **kwargs: Any) -> Any:
        seen.append(host)
        if host != "dual.test":
            return await real_getaddrinfo(self, host, port, **kwargs)
        tcp = (socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
        return [(socket.AF_INET6, *tcp, ("::1", port, 0, 0)), (socket.AF_INET, *tcp, ("127.0.0.1", port))]

    monkeypatch.setattr(loop_class, "getaddrinfo", dual_stack)
    result = fetch(make_page(f"http://dual.test:{sim.port}/robots.txt"))
    assert result.result is Result.UP, result.error
    assert seen == ["dual.test"] and "dns" in result.phases


# ---- TLS -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return write_certs(tmp_path_factory.mktemp("certs"))


TLS_CASES = [
    # (certificate, verify_tls, host, expected result, expected error_kind)
    ("valid", True, "127.0.0.1", Result.UP, None),
    ("valid", True, "localhost", Result.UP, None),
    ("self_signed", True, "127.0.0.1", Result.DOWN, ErrorKind.TLS),
    ("self_signed", False, "127.0.0.1", Result.UP, None),
    ("expired", True, "127.0.0.1", Result.DOWN, ErrorKind.TLS),
    ("expired", False, "127.0.0.1", Result.UP, None),
    ("wrong_host", True, "127.0.0.1", Result.DOWN, ErrorKind.TLS),
    ("wrong_host", False, "localhost", Result.UP, None),
]


@pytest.mark.parametrize(("cert", "verify", "host", "expected", "kind"), TLS_CASES)
def test_tls_verification_and_expiry(
    certs: Certs, cert: str, verify: bool, host: str, expected: Result, kind: ErrorKind | None
) -> None:
    with SimPortal(tls=certs.pairs[cert]) as portal:
        page = make_page(f"https://{host}:{portal.port}/robots.txt", verify_tls=verify)
        result = fetch(page, {"ca_file": str(certs.ca)})
    assert (result.result, result.error_kind) == (expected, kind), result.error
    if expected is Result.UP:
        assert result.tls_expiry == certs.not_after[cert]
        assert "tls" in result.phases and result.phases["tls"] > 0
    else:
        assert "certificate" in (result.error or "").lower()


def test_default_trust_store_does_not_know_a_private_ca(certs: Certs) -> None:
    with SimPortal(tls=certs.pairs["valid"]) as portal:
        result = fetch(make_page(f"https://127.0.0.1:{portal.port}/"))
    assert result.error_kind is ErrorKind.TLS


def test_tls_to_a_plain_http_port_is_tls(sim: SimPortal) -> None:
    result = fetch(make_page(f"https://127.0.0.1:{sim.port}/"))
    assert result.error_kind is ErrorKind.TLS


def test_cert_not_after_reads_utc_and_generalized_times() -> None:
    key = make_key()
    for expiry in (dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC), dt.datetime(2061, 1, 2, tzinfo=dt.UTC)):
        der = make_cert(key, "expiry", [], expiry).public_bytes(serialization.Encoding.DER)
        assert cert_not_after(der) == expiry.timestamp()


@given(st.binary(max_size=300))
def test_cert_not_after_rejects_garbage_with_value_error_only(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        cert_not_after(data)


# ---- concurrency ---------------------------------------------------------------------------------


class CountingServer:
    """A loopback HTTP server that answers after `delay_s` and records concurrency and heads."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.in_flight = 0
        self.max_in_flight = 0
        self.heads: list[bytes] = []
        self.port = 0

    async def __aenter__(self) -> CountingServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self.heads.append(await reader.readuntil(b"\r\n\r\n"))
            await asyncio.sleep(self.delay_s)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        finally:
            self.in_flight -= 1
            writer.close()


def run_with_server(delay_s: float, scenario: Callable[[CountingServer, Fetcher], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with CountingServer(delay_s) as server, Fetcher() as fetcher:
            return await scenario(server, fetcher), server

    return asyncio.run(main())


def test_per_host_concurrency_limit_and_waiting_is_not_check_time() -> None:
    async def scenario(server: CountingServer, fetcher: Fetcher) -> tuple[list[ProbeResult], float]:
        page = make_page(f"http://127.0.0.1:{server.port}/", per_host_concurrency=2)
        started = time.monotonic()
        results = await asyncio.gather(*(fetcher.fetch(page) for _ in range(6)))
        return results, time.monotonic() - started

    (results, wall), server = run_with_server(0.3, scenario)
    assert server.max_in_flight == 2
    assert all(result.result is Result.UP for result in results)
    assert wall >= 0.85  # three rounds of two
    assert max(result.duration_s for result in results) < 0.6  # queueing is not the site's time


def test_a_slow_host_does_not_delay_another_hosts_check(sim: SimPortal) -> None:
    async def scenario(server: CountingServer, fetcher: Fetcher) -> tuple[list[ProbeResult], ProbeResult]:
        slow_page = make_page(f"http://127.0.0.1:{server.port}/", per_host_concurrency=1)
        slow = [asyncio.create_task(fetcher.fetch(slow_page)) for _ in range(3)]
        await asyncio.sleep(0.05)
        fast = await fetcher.fetch(make_page(f"http://localhost:{sim.port}/robots.txt"))
        return await asyncio.gather(*slow), fast

    (slow_results, fast), server = run_with_server(0.5, scenario)
    assert fast.result is Result.UP and fast.duration_s < 0.3
    assert server.max_in_flight == 1
    assert all(result.result is Result.UP for result in slow_results)


# ---- what is sent, and what never comes back -----------------------------------------------------


def test_user_agent_config_headers_and_validators_are_sent() -> None:
    async def scenario(server: CountingServer, fetcher: Fetcher) -> ProbeResult:
        page = make_page(
            f"http://localhost:{server.port}/x", user_agent="inspector/1.0", headers=(("X-Token", SECRET),)
        )
        return await fetcher.fetch(page, etag='"abc"', last_modified="Wed, 21 Oct 2026 07:28:00 GMT")

    result, server = run_with_server(0.0, scenario)
    head = server.heads[0].decode().lower()
    assert result.result is Result.UP
    for line in (
        f"host: localhost:{server.port}",
        "user-agent: inspector/1.0",
        f"x-token: {SECRET}",
        'if-none-match: "abc"',
        "if-modified-since: wed, 21 oct 2026 07:28:00 gmt",
        "accept-encoding: gzip, deflate",
    ):
        assert line in head


@pytest.mark.parametrize("mode", ["ok", "500", "hang", "redirect_offsite", "412", "reset"])
def test_config_header_values_never_appear_in_results_or_logs(
    sim: SimPortal, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    sim.fault(mode, COLUMN)
    headers = (("Authorization", f"Bearer {SECRET}"), ("Cookie", f"SESSION={SECRET}"))
    page = make_page(sim.url(COLUMN), headers=headers, timeout_s=0.5, allowed_hosts=("127.0.0.1",))
    with caplog.at_level("DEBUG"):
        result = fetch(page)
    assert SECRET not in repr(replace(result, body=b"")) and SECRET.encode() not in result.body
    assert SECRET not in caplog.text


class RawServer:
    """A loopback server that answers every request with the same raw bytes and records the heads."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.heads: list[bytes] = []

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/"

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            self.heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(self.answer)
            await writer.drain()
        finally:
            writer.close()


def raw_answer(status_and_headers: bytes, body: bytes) -> bytes:
    head = status_and_headers + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    return head + body


def fetch_raw(answer: bytes, times: int = 1, **kwargs: Any) -> tuple[list[ProbeResult], list[bytes]]:
    """Fetch a RawServer's page `times` times, each with the validators `kwargs` give."""

    async def main() -> tuple[list[ProbeResult], list[bytes]]:
        server = RawServer(answer)
        async with server as url, Fetcher() as fetcher:
            results = [await fetcher.fetch(make_page(url), **kwargs) for _ in range(times)]
        return results, server.heads

    return asyncio.run(main())


def test_unsendable_validators_are_dropped_and_the_page_is_measured() -> None:
    answer = raw_answer(
        b'HTTP/1.1 200 OK\r\nETag: "caf\xe9"\r\nLast-Modified: Mon, 01 Jan 2026 \xe4\xb8\x80 GMT', b"<p>ok</p>"
    )
    (first,), _ = fetch_raw(answer)
    assert (first.result, first.etag, first.last_modified) == (Result.UP, None, None)
    # As restored from a database written by an older version: never sent, never an internal error.
    results, heads = fetch_raw(answer, times=2, etag='"caf\xe9"', last_modified="Mon, 01 Jan 2026 \u4e00 GMT")
    assert [r.result for r in results] == [Result.UP, Result.UP]
    assert all(b"if-none-match" not in h.lower() and b"if-modified-since" not in h.lower() for h in heads)


def test_every_member_of_a_multi_member_gzip_body_is_decoded() -> None:
    members = [b"<html><body>", "<p>第一部分</p>".encode() * 50, b"<p>end</p></body></html>"]
    body = b"".join(gzip.compress(part) for part in members)
    (result,), _ = fetch_raw(raw_answer(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip", body))
    assert result.result is Result.UP
    assert result.body == b"".join(members)


def test_the_cap_applies_to_every_gzip_member_together() -> None:
    body = b"".join(gzip.compress(b"x" * 1000) for _ in range(3))
    answer = raw_answer(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip", body)

    async def main() -> ProbeResult:
        async with RawServer(answer) as url, Fetcher() as fetcher:
            return await fetcher.fetch(make_page(url, max_body_bytes=2500))

    result = asyncio.run(main())
    assert (result.result, result.error_kind) == (Result.DOWN, ErrorKind.TOO_LARGE)


# ---- unit cases (one function each; MockTransport where a transport is needed) --------------------


def mock_fetch(handler: Callable[[httpx.Request], httpx.Response], **page: Any) -> ProbeResult:
    return fetch(make_page("http://portal.example/", **page), {"transport": httpx.MockTransport(handler)})


def test_retry_after_http_date_and_bad_values() -> None:
    now = 1_800_000_000.0
    date = "Fri, 15 Jan 2027 08:00:00 GMT"
    expected = dt.datetime(2027, 1, 15, 8, tzinfo=dt.UTC).timestamp() - now
    assert parse_retry_after(date, now) == pytest.approx(expected)
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0.0  # in the past: retry now
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after(" 30 ", now) == 30.0


def test_retry_after_date_through_fetch() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"})

    result = mock_fetch(handler)
    assert result.error_kind is ErrorKind.HTTP_STATUS and (result.retry_after_s or 0) > 1e9


def test_an_unexpected_exception_is_result_error_with_its_type() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise ZeroDivisionError("a bug")

    result = mock_fetch(handler)
    assert (result.result, result.error_kind) == (Result.ERROR, None)
    assert result.error == "internal error: ZeroDivisionError"


def test_redirect_without_location_is_http_status() -> None:
    result = mock_fetch(lambda request: httpx.Response(302))
    assert (result.result, result.error_kind) == (Result.DOWN, ErrorKind.HTTP_STATUS)


class RawStream(httpx.AsyncByteStream):
    """A body as it comes off the wire (a Response built with `content=` is decoded up front)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.raw


def wire_response(raw: bytes, encoding: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, headers={"Content-Encoding": encoding}, stream=RawStream(raw))


def test_unsupported_content_encoding_is_decode() -> None:
    result = mock_fetch(wire_response(b"x", "br"))
    assert (result.result, result.error_kind) == (Result.DOWN, ErrorKind.DECODE)


def test_corrupt_gzip_is_decode_and_good_gzip_is_up() -> None:
    assert mock_fetch(wire_response(b"not gzip", "gzip")).error_kind is ErrorKind.DECODE
    good = mock_fetch(wire_response(gzip.compress("通知公告".encode()), "gzip"))
    assert (good.result, good.body) == (Result.UP, "通知公告".encode())


Encoder = Callable[[bytes], bytes]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib header
        ("identity", lambda data: data),
        (None, lambda data: data),
    ],
)
def test_capped_body_decodes_supported_encodings(encoding: str | None, encode: Encoder) -> None:
    text = "工作动态 2026-11-20 ".encode() * 5000
    body = CappedBody(encoding, cap=len(text))
    wire = encode(text)
    for start in range(0, len(wire), 1000):
        body.feed(wire[start : start + 1000])
    assert body.value() == text


def test_capped_body_stops_one_byte_past_the_cap() -> None:
    body = CappedBody("gzip", cap=1000)
    with pytest.raises(BodyTooLarge):
        body.feed(gzip.compress(bytes(10_000_000)))
    assert body.size == 1001


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 4096, 1 << 20])
def test_capped_body_joins_gzip_members_whatever_the_chunking(chunk: int) -> None:
    parts = [b"<p>" * 3000, b"", "第二部分".encode(), b"end"]
    raw = b"".join(gzip.compress(part) for part in parts) + b"\0" * 8  # trailing padding is ignored
    body = CappedBody("gzip", cap=CAP)
    for start in range(0, len(raw), chunk):
        body.feed(raw[start : start + chunk])
    assert body.value() == b"".join(parts)


def test_a_stream_of_empty_gzip_members_is_decode_and_costs_little() -> None:
    body = CappedBody("gzip", cap=CAP)
    started = time.monotonic()
    with pytest.raises(BodyDecodeError, match="more than 1000 members"):
        body.feed(gzip.compress(b"") * 200_000)
    assert time.monotonic() - started < 0.5


def test_capped_body_rejects_corrupt_streams() -> None:
    with pytest.raises(BodyDecodeError):
        CappedBody("gzip", cap=1000).feed(b"this is not gzip at all")


RUISHU = (
    b'<html><head><meta content="abc" r="m"><script r=\'m\'>$_ts=window[\'$_ts\'];$_ts.cd="x";</script>'
    b"</head><body></body></html>"
)
JIASULE = b"<html><script>document.cookie=('__jsl_clearance=1|0|x');location.href=location.pathname</script></html>"
CLOUDFLARE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<noscript>Enable JavaScript</noscript>"
    b'<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script></body></html>'
)
PANYUN = (
    '<html><head><title>请稍候... | 磐云</title></head><body><div id="challenge">'
    "<p>正在获取内容，请稍候...</p>"
    '<img src="//www.360panyun.net/__panyun/spinner.gif"/></div><script>eval(1)</script></body></html>'
).encode()
WAIT_GBK = "<p>请稍候，正在验证您的浏览器</p><script>setTimeout(1)</script>".encode("gbk")
ARTICLE_WITH_RUISHU_MARKER = RUISHU.replace(b"<body></body>", "<p>正文内容很多。</p>".encode() * 40)
ARTICLE_ABOUT_COOKIES = (
    "<html><body><h1>网站隐私声明</h1><p>本网站使用 document.cookie 保存您的偏好设置。</p>"
    "<script>if (!document.cookie) { location.hash = '#top'; }</script>" + "<p>正文段落。</p>" * 60 + "</body></html>"
).encode()


@pytest.mark.parametrize(
    ("body", "vendor"),
    [
        (RUISHU, "ruishu"),
        (JIASULE, "jiasule"),
        (CLOUDFLARE, "cloudflare"),
        (PANYUN, "panyun"),
        (WAIT_GBK, "interstitial"),
        (ARTICLE_WITH_RUISHU_MARKER, None),
        (ARTICLE_ABOUT_COOKIES, None),
        (b"<html><body>" + b"x" * 100_000 + b"$_ts r='m'<script></body></html>", None),
        (b"", None),
    ],
)
def test_challenge_detection_is_specific(body: bytes, vendor: str | None) -> None:
    assert challenge_vendor(body) == vendor


def test_challenge_detection_on_the_real_corpus() -> None:
    pages = corpus_pages_dir()
    if not pages.is_dir():
        pytest.skip(f"the shared corpus is not at {pages} (set MONITOR_CORPUS)")
    flagged = {path.name for path in pages.glob("*.html") if challenge_vendor(path.read_bytes())}
    # 014 is a 瑞数 challenge, 021 a 磐云 one; 013 and 018 carry 瑞数 markers but are real pages.
    assert flagged == {"014.html", "021.html"}


@pytest.mark.parametrize(("fault", "paused_s"), [("429:30", 30.0), ("503:120", 60.0), ("429", 5.0)])
def test_a_page_check_told_to_wait_pauses_the_hosts_link_checks(sim: SimPortal, fault: str, paused_s: float) -> None:
    """A 429 (or a 503 with Retry-After) to a page check is the host asking *us* to slow down: the
    link checks sharing its budget wait too (Retry-After, capped at the page's interval; the page's
    retry delay without one), while the next page check is not held back (its visit grid moves)."""
    sim.fault(fault, COLUMN)
    clock = FixedClock(t=1_790_000_000.0)
    page = make_page(sim.url(COLUMN), interval_s=60.0, retry_delay_s=5.0)

    async def run() -> tuple[float, float]:
        async with Fetcher(clock=clock) as fetcher:
            await fetcher.fetch(page)
            return fetcher.budget.paused_s("127.0.0.1"), fetcher.budget.paused_s("other.invalid")

    assert asyncio.run(run()) == (paused_s, 0.0)


def test_an_answer_that_asks_nothing_pauses_no_link_checks(sim: SimPortal) -> None:
    sim.fault("500", COLUMN)
    clock = FixedClock(t=1_790_000_000.0)

    async def run() -> float:
        async with Fetcher(clock=clock) as fetcher:
            await fetcher.fetch(make_page(sim.url(COLUMN)))
            return fetcher.budget.paused_s("127.0.0.1")

    assert asyncio.run(run()) == 0.0
