"""One check of one page: DNS, connect, TLS, request, capped body, redirects -> `ProbeResult`.

With monitor/links, the only code importing httpx. Failures become data (`error_kind`), never exceptions out of
`Fetcher.fetch`; no HTML parsing or charset decoding here, and no config header value in a result or log.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.check._bodies import SUPPORTED_ENCODINGS, BodyDecodeError, BodyTooLarge, CappedBody
from monitor.check._budget import HostBudget
from monitor.check._certs import cert_not_after
from monitor.extract import challenge_vendor
from monitor.models import Clock, ErrorKind, Page, ProbeResult, Result, SystemClock, sendable_validator
from monitor.origins import host_port, origin, same_site, without_userinfo

logger = logging.getLogger(__name__)

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "zh-CN,zh;q=0.9,en;q=0.5"
ERROR_MAX_CHARS = 200
"""`ProbeResult.error` is one line of at most this many characters."""

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_BLOCKED_STATUSES = frozenset({412, 521})  # 瑞数 answers 412, 加速乐 521, to clients without their cookie
_RATE_LIMITED = 429

Lookup = Callable[[str, int], Awaitable[list[str]]]
"""The addresses to connect to for (host, port), in order; raises OSError when there are none."""


class _Failure(Exception):
    """The target failed the check (a fact about the site, not a bug in the monitor)."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = _one_line(message)


@dataclass
class _Hop:
    """The answer to one request of a check (a redirect chain has several)."""

    status: int
    headers: httpx.Headers
    body: bytes = b""


@dataclass
class _Check:
    """Mutable state of one check: timings from httpcore trace events, redirects, sizes."""

    page: Page
    clock: Clock
    started_mono: float
    phases: dict[str, float] = field(default_factory=dict)
    stage: str = "dns"
    final_url: str = ""
    redirects: int = 0
    status: int | None = None
    size: int = 0
    tls_expiry: float | None = None
    _opened: dict[str, float] = field(default_factory=dict)

    def begin(self, phase: str) -> None:
        self.stage = phase
        self._opened[phase] = self.clock.monotonic()

    def end(self, phase: str) -> None:
        started = self._opened.pop(phase, None)
        if started is not None:
            # Redirect hops add up, so the phases of a chain sum to roughly its duration.
            self.phases[phase] = self.phases.get(phase, 0.0) + max(0.0, self.clock.monotonic() - started)

    async def on_trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore `trace` extension callback."""
        if event == "connection.start_tls.complete":
            self._note_certificate(info.get("return_value"))
        phase_edge = _TRACE_EDGES.get(event)
        if phase_edge is not None:
            phase, starting = phase_edge
            if starting:
                self.begin(phase)
            else:
                self.end(phase)

    def _note_certificate(self, stream: Any) -> None:
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            return
        try:
            expiry = cert_not_after(der)
        except ValueError:
            logger.warning("%s/%s: cannot read the certificate's notAfter", self.page.site, self.page.name)
            return
        # The soonest expiry among the certificates of a redirect chain is the one to act on.
        self.tls_expiry = expiry if self.tls_expiry is None else min(self.tls_expiry, expiry)


_DOING = {
    "dns": "resolving the name",
    "connect": "connecting",
    "tls": "in the TLS handshake",
    "ttfb": "waiting for the response",
    "transfer": "reading the body",
}
_TRACE_EDGES: dict[str, tuple[str, bool]] = {
    "connection.connect_tcp.started": ("connect", True),
    "connection.connect_tcp.complete": ("connect", False),
    "connection.start_tls.started": ("tls", True),
    "connection.start_tls.complete": ("tls", False),
    "http11.send_request_headers.started": ("ttfb", True),
    "http11.receive_response_headers.complete": ("ttfb", False),
}


class Fetcher:
    """Owns the httpx clients; waits for a page slot of the host budget. With monitor/links, the only httpx user.

    Each check opens fresh connections (no keep-alive between checks), so every check measures
    DNS, connect and TLS the way an inspector's first visit does; a reused socket would show 0 s.
    `ca_file` replaces the system trust store (tests use their own CA). With a `transport` given
    (unit tests: `httpx.MockTransport`), requests go to it as they are: no DNS step, no dns phase.
    With `lookup`, hosts (IP literals included) are resolved by it instead of the system resolver:
    the IPv6 probe passes its AAAA lookup, so every connection goes to an IPv6 address of the host
    while the Host header, TLS SNI and certificate check still name the host (`_extensions`).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        ca_file: str | None = None,
        lookup: Lookup | None = None,
        budget: HostBudget | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._resolve_hosts = transport is None
        self._lookup = lookup
        self._clients = {
            True: _client(transport, _verifying_context(ca_file)),
            False: _client(transport, _non_verifying_context()),
        }
        self.budget = budget or HostBudget(clock=self._clock)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def fetch(self, page: Page, *, etag: str | None = None, last_modified: str | None = None) -> ProbeResult:
        """Check `page` once. Never raises (except cancellation): failures are in the result."""
        try:
            host = (urlsplit(page.url).hostname or "").lower()
            async with self.budget.page_slot(host, page.per_host_concurrency):
                probe = await self._check(page, _conditional_headers(etag, last_modified), etag)
            pause = link_pause_s(page, probe)
            if pause:
                self.budget.back_off(host, pause)
            return probe
        except Exception as exc:  # a bug in the monitor must cost one result, not the daemon
            logger.exception("%s/%s: internal error in fetch", page.site, page.name)
            return ProbeResult(
                url=page.url,
                started_at=self._clock.now(),
                result=Result.ERROR,
                error=f"internal error: {type(exc).__name__}",
            )

    async def _check(self, page: Page, conditional: dict[str, str], etag: str | None) -> ProbeResult:
        # Started after the host slot is ours: queueing behind other checks is not the site's time.
        started_at = self._clock.now()
        check = _Check(page=page, clock=self._clock, started_mono=self._clock.monotonic(), final_url=page.url)
        try:
            async with asyncio.timeout(page.timeout_s):
                hop = await self._follow(check, conditional)
        except TimeoutError:
            message = f"no complete answer within {page.timeout_s:g}s (timed out {_DOING[check.stage]})"
            return _failed(check, started_at, _Failure(ErrorKind.TIMEOUT, message))
        except _Failure as failure:
            return _failed(check, started_at, failure)
        return _answered(check, started_at, hop, etag)

    async def _follow(self, check: _Check, conditional: dict[str, str]) -> _Hop:
        """Request the page, following redirects by hand within the page's limits."""
        page, url, seen = check.page, check.page.url, {check.page.url}
        while True:
            hop = await self._request(check, url, conditional)
            location = hop.headers.get("location") if hop.status in _REDIRECT_STATUSES else None
            if not location:
                return hop
            if check.redirects >= page.max_redirects:
                raise _Failure(ErrorKind.REDIRECT, f"more than {page.max_redirects} redirects")
            url = urljoin(url, location.strip())
            check.redirects += 1
            check.final_url = url
            _check_redirect(page, url, seen)
            seen.add(url)

    async def _request(self, check: _Check, url: str, conditional: dict[str, str]) -> _Hop:
        """One request to `url`, trying each resolved address in turn while connecting is refused."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            raise _Failure(ErrorKind.REDIRECT, "redirect to an invalid URL") from None
        addresses = await self._resolve(check, target.host, target.port or _default_port(target.scheme))
        for address in addresses[:-1]:
            try:
                return await self._send(check, target, address, conditional)
            except _Failure as failure:
                if failure.kind is not ErrorKind.CONNECT or check.stage != "connect":
                    raise
        return await self._send(check, target, addresses[-1], conditional)

    async def _resolve(self, check: _Check, host: str, port: int) -> list[str | None]:
        """Addresses to try (None: let the transport resolve). Timed as the `dns` phase."""
        if self._lookup is not None:
            return await self._looked_up(check, self._lookup, host, port)
        if not self._resolve_hosts or _is_ip(host):
            check.stage = "connect"
            return [None]
        check.begin("dns")
        try:
            if host == "invalid" or host.endswith(".invalid"):
                # RFC 6761: the reserved TLD never resolves; answer without asking the network.
                raise socket.gaierror(socket.EAI_NONAME, "reserved .invalid name (RFC 6761)")
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise _Failure(ErrorKind.DNS, f"cannot resolve {host}: {_reason(exc)}") from None
        check.end("dns")
        return ipv4_addresses([(info[0], str(info[4][0])) for info in infos]) or [None]

    async def _looked_up(self, check: _Check, lookup: Lookup, host: str, port: int) -> list[str | None]:
        check.begin("dns")
        try:
            addresses: list[str | None] = list(dict.fromkeys(await lookup(host, port)))
        except OSError as exc:
            raise _Failure(ErrorKind.DNS, f"cannot resolve {host}: {_reason(exc)}") from None
        if not addresses:
            raise _Failure(ErrorKind.DNS, f"cannot resolve {host}: no address")
        check.end("dns")
        return addresses

    async def _send(self, check: _Check, target: httpx.URL, address: str | None, conditional: dict[str, str]) -> _Hop:
        page = check.page
        client = self._clients[page.verify_tls]
        request = client.build_request(
            "GET",
            target.copy_with(host=address) if address else target,
            headers=_request_headers(page, target, conditional),
            extensions=_extensions(check, target, address),
        )
        try:
            response = await client.send(request, stream=True)
            try:
                return await _read(check, response)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise _transport_failure(exc, check.stage) from None


async def _read(check: _Check, response: httpx.Response) -> _Hop:
    """Read a 2xx body under the cap (timed as `transfer`); other answers need no body."""
    hop = _Hop(status=response.status_code, headers=response.headers)
    check.status = hop.status
    if not 200 <= response.status_code < 300:
        return hop
    check.begin("transfer")
    cap = check.page.max_body_bytes
    declared = response.headers.get("content-length", "")
    if "content-encoding" not in response.headers and declared.isdigit() and int(declared) > cap:
        raise _Failure(ErrorKind.TOO_LARGE, f"Content-Length {declared} is over the {cap}-byte cap")
    body = _capped_body(response, cap)
    try:
        async for chunk in _raw_chunks(response):
            body.feed(chunk)
    except BodyTooLarge:
        raise _Failure(ErrorKind.TOO_LARGE, f"body is over the {cap}-byte cap") from None
    except BodyDecodeError as exc:
        raise _Failure(ErrorKind.DECODE, str(exc)) from None
    finally:
        check.size = body.size
    check.end("transfer")
    hop.body = body.value()
    return hop


def _capped_body(response: httpx.Response, cap: int) -> CappedBody:
    # A response built in memory (MockTransport in unit tests) arrives already read and decoded.
    encoding = None if response.is_stream_consumed else response.headers.get("content-encoding")
    try:
        return CappedBody(encoding, cap)
    except BodyDecodeError as exc:
        raise _Failure(ErrorKind.DECODE, str(exc)) from None


async def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as received (still compressed): we decode it ourselves, in bounded steps."""
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _answered(check: _Check, started_at: float, hop: _Hop, etag: str | None) -> ProbeResult:
    """The result of a check that got a final HTTP answer."""
    page, status, headers = check.page, hop.status, hop.headers
    result, kind, error = _verdict(page, hop)
    return ProbeResult(
        url=page.url,
        started_at=started_at,
        result=result,
        error_kind=kind,
        error=error,
        status=status,
        final_url=without_userinfo(check.final_url),
        redirects=check.redirects,
        duration_s=_elapsed(check),
        phases=check.phases,
        bytes=len(hop.body),
        body=hop.body if result is Result.UP else b"",
        content_type=headers.get("content-type"),
        etag=sendable_validator(headers.get("etag")) or (etag if status == 304 else None),
        last_modified=sendable_validator(headers.get("last-modified")),
        not_modified=status == 304,
        tls_expiry=check.tls_expiry,
        retry_after_s=_retry_after(result, headers, started_at),
    )


def link_pause_s(page: Page, probe: ProbeResult) -> float | None:
    """How long link checks to the page's host must wait after this check (None: not at all).

    A 429, or any failure carrying `Retry-After`, is the host asking this monitor to slow down; the
    link checks sharing its budget honour it as their own 429s do (issue 12). The wait is the
    Retry-After (the page's retry delay for a 429 without one), capped at the page's interval: a
    link check must not be kept from a host longer than the page's own next visit is.
    """
    asked = probe.retry_after_s
    if asked is None and probe.error_kind is ErrorKind.RATE_LIMITED:
        asked = page.retry_delay_s
    if asked is None:
        return None
    return min(max(asked, 0.0), page.interval_s)


def _retry_after(result: Result, headers: httpx.Headers, now: float) -> float | None:
    return None if result is Result.UP else parse_retry_after(headers.get("retry-after"), now)


def _verdict(page: Page, hop: _Hop) -> tuple[Result, ErrorKind | None, str | None]:
    """Map a final answer: 2xx/304 up, 412/521/challenge/429 blocked, anything else down.

    429 is the server refusing *us* for a while, not the site failing its visitors: it is recorded
    like an anti-bot answer (`blocked`, or down with `blocked_is_down`), with its own error_kind.
    """
    status = hop.status
    if status == _RATE_LIMITED:
        return (Result.DOWN if page.blocked_is_down else Result.BLOCKED), ErrorKind.RATE_LIMITED, "HTTP 429"
    vendor = challenge_vendor(hop.body) if 200 <= status < 300 else None
    if vendor or status in _BLOCKED_STATUSES:
        blocked = Result.DOWN if page.blocked_is_down else Result.BLOCKED
        reason = f"anti-bot challenge page ({vendor})" if vendor else f"anti-bot answer HTTP {status}"
        return blocked, ErrorKind.BLOCKED, reason
    if status == 304 or 200 <= status < 300:
        return Result.UP, None, None
    return Result.DOWN, ErrorKind.HTTP_STATUS, f"HTTP {status}"


def _failed(check: _Check, started_at: float, failure: _Failure) -> ProbeResult:
    """The result of a check that ended without a usable answer."""
    return ProbeResult(
        url=check.page.url,
        started_at=started_at,
        result=Result.DOWN,
        error_kind=failure.kind,
        error=failure.message,
        status=check.status,
        final_url=without_userinfo(check.final_url),
        redirects=check.redirects,
        duration_s=_elapsed(check),
        phases=check.phases,
        bytes=check.size,
        tls_expiry=check.tls_expiry,
    )


def _elapsed(check: _Check) -> float:
    return max(0.0, check.clock.monotonic() - check.started_mono)


def _check_redirect(page: Page, url: str, seen: set[str]) -> None:
    """Refuse a redirect that loops, leaves http(s) or leaves the site (scheme, host and port; see
    `monitor.origins`). A page without allowed_hosts (one-off commands) may go anywhere."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _Failure(ErrorKind.REDIRECT, f"redirect to a non-HTTP URL ({parts.scheme or 'no scheme'})")
    target = origin(url)
    if target is None:
        raise _Failure(ErrorKind.REDIRECT, "redirect to an invalid URL")
    if page.allowed_hosts and not same_site(url, page.url, page.allowed_hosts):
        own = origin(page.url)
        if own is not None and own[1] == target[1]:
            where = f"{target[0]}://{host_port(target)}"
            raise _Failure(ErrorKind.REDIRECT, f"redirect to {where}, another port or scheme than the site's")
        raise _Failure(ErrorKind.REDIRECT, f"redirect to {target[1]}, a host not in allowed_hosts")
    if url in seen:
        raise _Failure(ErrorKind.REDIRECT, "redirect loop")


def _transport_failure(exc: httpx.HTTPError, stage: str) -> _Failure:
    """httpx's exception -> error_kind, using the phase the trace reached to tell TLS from TCP.

    Running out of time is `timeout` in every phase, connecting included (the national rule is
    "not loaded in 15 s"; the message names the phase); `connect` means a definite refusal, reset
    or unreachable network.
    """
    if isinstance(exc, httpx.TimeoutException):
        return _Failure(ErrorKind.TIMEOUT, f"timed out {_DOING[stage]}")
    if stage == "tls" or _caused_by(exc, ssl.SSLError):
        return _Failure(ErrorKind.TLS, f"TLS handshake failed: {_reason(exc)}")
    if isinstance(exc, httpx.ConnectError):
        return _Failure(ErrorKind.CONNECT, f"cannot connect: {_reason(exc)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        # h11's message can quote the server's bytes; say what happened without them.
        return _Failure(ErrorKind.CONNECT, f"connection closed or invalid HTTP {_DOING[stage]}")
    if isinstance(exc, httpx.NetworkError):
        return _Failure(ErrorKind.CONNECT, f"connection broken {_DOING[stage]}: {_reason(exc)}")
    if isinstance(exc, httpx.DecodingError):
        return _Failure(ErrorKind.DECODE, "cannot decode the response")
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return _Failure(ErrorKind.REDIRECT, "invalid URL")
    raise exc


def _request_headers(page: Page, target: httpx.URL, conditional: dict[str, str]) -> httpx.Headers:
    headers = httpx.Headers(
        {
            "Host": target.netloc.decode("ascii"),
            "User-Agent": page.user_agent,
            "Accept": ACCEPT,
            "Accept-Language": ACCEPT_LANGUAGE,
            "Accept-Encoding": ", ".join(SUPPORTED_ENCODINGS),
            "Connection": "close",
        }
    )
    for name, value in page.headers:
        headers[name] = value
    headers.update(conditional)
    return headers


def _extensions(check: _Check, target: httpx.URL, address: str | None) -> dict[str, Any]:
    # The httpx timeouts are a backstop only: the check's deadline is enforced around the whole check.
    timeout = check.page.timeout_s
    extensions: dict[str, Any] = {
        "trace": check.on_trace,
        "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout},
    }
    if address is not None and target.scheme == "https":
        # We connect to the resolved address; TLS must still name (and verify) the real host.
        extensions["sni_hostname"] = target.host
    return extensions


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    etag, last_modified = sendable_validator(etag), sendable_validator(last_modified)
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After (delay-seconds or HTTP-date) -> seconds from `now`, never negative; None if absent/bad."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def ipv4_addresses(resolved: list[tuple[int, str]]) -> list[str | None]:
    """The addresses a page check tries: the host's IPv4 ones, in resolver order. Availability and
    rule V1 are the IPv4 series (IPv6 is read apart, check/_ipv6.py), so on a dual-stack monitor a
    broken or healthy IPv6 path must not decide them; only a host without any A record (IPv6 only)
    is tried over IPv6, since that is all it serves."""
    ipv4 = [address for family, address in resolved if family == socket.AF_INET]
    return list(dict.fromkeys(ipv4 or [address for _, address in resolved]))


def _client(transport: httpx.AsyncBaseTransport | None, context: ssl.SSLContext) -> httpx.AsyncClient:
    transport = transport or httpx.AsyncHTTPTransport(
        verify=context,
        # No keep-alive between checks (see the module docstring); no cap on connections either:
        # the per-host slots limit concurrency, and a pool queue would count as the site's time.
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
        trust_env=False,
        retries=0,
    )
    # trust_env=False: a proxy from the environment would measure the proxy, not the portal.
    return httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=False)


def _verifying_context(ca_file: str | None) -> ssl.SSLContext:
    """The system trust store (what a visitor's OS trusts), or `ca_file` instead when given."""
    context = ssl.create_default_context(cafile=ca_file)
    if ca_file is None and not context.cert_store_stats()["x509_ca"]:
        # No system CA bundle installed (minimal images): fall back to certifi, which httpx ships with.
        import certifi

        context.load_verify_locations(certifi.where())
    return context


def _non_verifying_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: BaseException) -> str:
    """The most specific message in an exception chain (httpx wraps the OS/ssl error)."""
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 5:
        messages.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return next((m for m in reversed(messages) if m), type(exc).__name__)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= ERROR_MAX_CHARS else line[: ERROR_MAX_CHARS - 1] + "…"
