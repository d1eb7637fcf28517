"""Check one URL politely: resolve and vet the address, HEAD first with GET fallback, follow
redirects, retry what is worth retrying, detect challenge and soft-404 pages -> `Inspection`.

Failures are data (`Outcome.error_kind`), never exceptions out of `LinkChecker.inspect`; httpx's
exceptions are translated here and nowhere else in the package. Bodies are read only for internal
pages (to crawl them and judge soft-404s), never whole for anything else.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.check import BodyDecodeError, BodyTooLarge, CappedBody, HostBudget, parse_retry_after
from monitor.extract import CHALLENGE_MAX_BYTES, challenge_vendor, decode
from monitor.links._classify import Exclusions, SiteScope, classify, resource_type
from monitor.links._harvest import clean_url
from monitor.links._net import Resolver, refused_address
from monitor.links._soft404 import Shape, is_homepage, missing_sibling, redirected_home, says_not_found, shape_of
from monitor.links._transport import KeepAlivePool
from monitor.links._types import LinkResult, LinkSettings, Outcome, ResourceType, Scope
from monitor.models import Clock, ErrorKind, SystemClock

logger = logging.getLogger(__name__)

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})
"""Answers worth asking again (never a 404: it will not come back by itself)."""
HEAD_FALLBACK_SKIP = frozenset({429})
"""A HEAD answered with any other error status is asked again with GET (servers mishandle HEAD)."""
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RANGE = "bytes=0-1023"
DRAIN_MAX_BYTES = 16 * 1024
"""An unwanted body up to this long (declared) is read to keep the connection, not dropped with it."""


class _Failed(Exception):
    """A request ended without an HTTP answer (or was refused before it was sent)."""

    def __init__(self, kind: ErrorKind | None, message: str, *, name_missing: bool = False, refused: bool = False):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.name_missing = name_missing
        self.refused = refused


@dataclass
class _Hop:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str
    attempts: int = 1


@dataclass(frozen=True)
class Inspection:
    """A classified result plus the body of an internal page (empty for everything else)."""

    result: LinkResult
    body: bytes = b""
    content_type: str | None = None


class LinkCache:
    """Outcomes of external URLs, shared across sites: one check per URL per `ttl_s` (a day)."""

    def __init__(self, ttl_s: float = 86400.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Outcome]] = {}

    def get(self, url: str, now: float) -> tuple[float, Outcome] | None:
        """(checked_at, outcome) of a fresh entry, or None when absent or older than the TTL."""
        entry = self._entries.get(url)
        return entry if entry is not None and now - entry[0] < self.ttl_s else None

    def put(self, url: str, checked_at: float, outcome: Outcome) -> None:
        """Remember what `url` answered at `checked_at`."""
        self._entries[url] = (checked_at, outcome)

    def fresh(self, now: float) -> list[tuple[str, float, Outcome]]:
        """(url, checked_at, outcome) of every entry younger than the TTL (handed to a sweep child)."""
        return [(url, at, outcome) for url, (at, outcome) in self._entries.items() if now - at < self.ttl_s]

    def prune(self, now: float) -> None:
        """Forget entries older than the TTL (called between passes to bound memory)."""
        self._entries = {url: entry for url, entry in self._entries.items() if now - entry[0] < self.ttl_s}


class LinkChecker:
    """Checks links under one `HostBudget`; owns an httpx client (keep-alive pool, HTTP/1.1).

    `transport` replaces the network (unit tests); `sleep` is what backing off waits with.
    """

    def __init__(
        self,
        settings: LinkSettings,
        *,
        budget: HostBudget | None = None,
        clock: Clock | None = None,
        cache: LinkCache | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        ca_file: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.budget = budget or HostBudget(
            concurrency=settings.concurrency, spacing_s=settings.spacing_s, clock=self.clock
        )
        self.cache = cache or LinkCache(settings.external_ttl_s)
        self._resolver = Resolver()
        context = ssl_context or ssl_context_for(settings.verify_tls, ca_file)
        self._transport = transport or KeepAlivePool(context)
        self._probes: dict[str, asyncio.Future[Shape | None]] = {}

    async def __aenter__(self) -> LinkChecker:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def check(
        self, url: str, site: SiteScope, *, element: str = "a", exclusions: Exclusions | None = None
    ) -> LinkResult:
        """Check one link of `site` found on element `element` (homepage pass, CLI)."""
        return (await self.inspect(url, site, element=element, exclusions=exclusions)).result

    async def inspect(
        self, url: str, site: SiteScope, *, element: str = "a", exclusions: Exclusions | None = None
    ) -> Inspection:
        """Check `url` and classify it for `site`; internal pages come back with their body."""
        scope, rtype = site.scope_of(url), resource_type(url, element)
        excluded = exclusions.match(url) if exclusions else None
        if excluded:
            return Inspection(self._result(url, scope, rtype, Outcome(refused=f"excluded by {excluded!r}")))
        cached = self.cache.get(url, self.clock.now()) if scope is Scope.EXTERNAL else None
        if cached is not None:
            return Inspection(self._result(url, scope, rtype, cached[1], cached[0]))
        started, checked_at = self.clock.monotonic(), self.clock.now()
        want_body = scope is Scope.INTERNAL and rtype is ResourceType.PAGE
        outcome, body, content_type = await self._observe(url, rtype, want_body)
        if want_body and outcome.status == 200 and not outcome.challenge:
            outcome = replace(outcome, soft_404=await self._soft_404(url, outcome, body, content_type))
        outcome = replace(outcome, duration_s=max(0.0, self.clock.monotonic() - started))
        if scope is Scope.EXTERNAL:
            self.cache.put(url, checked_at, outcome)
        return Inspection(self._result(url, scope, rtype, outcome, checked_at), body, content_type)

    async def fetch_text(self, url: str) -> str | None:
        """The text at `url` when it answers 200 (robots.txt), else None; budgeted like any request."""
        try:
            hop = await self._follow(url, "GET", ResourceType.OTHER, True)
        except _Failed:
            return None
        return decode(hop.body, hop.headers.get("content-type")).text if hop.status == 200 else None

    def _result(
        self, url: str, scope: Scope, rtype: ResourceType, outcome: Outcome, at: float | None = None
    ) -> LinkResult:
        link_class, reason = classify(outcome, scope)
        return LinkResult(url, scope, rtype, link_class, outcome, self.clock.now() if at is None else at, reason)

    async def _observe(self, url: str, rtype: ResourceType, want_body: bool) -> tuple[Outcome, bytes, str | None]:
        """HEAD (or GET when the body is wanted), then GET when the HEAD answer is not to be trusted."""
        method = "GET" if want_body else "HEAD"
        try:
            hop = await self._follow(url, method, rtype, want_body)
            if method == "HEAD" and hop.status >= 400 and hop.status not in HEAD_FALLBACK_SKIP:
                method = "GET"
                hop = await self._follow(url, method, rtype, want_body)
        except _Failed as failure:
            return _failed_outcome(failure, method), b"", None
        except Exception as exc:  # a bug here must cost one link's result, not the pass
            logger.exception("link check: internal error on %s", url)
            return Outcome(error_kind=ErrorKind.CONNECT, error=f"internal error: {type(exc).__name__}"), b"", None
        vendor = challenge_vendor(hop.body) if 200 <= hop.status < 300 and hop.body else None
        outcome = Outcome(status=hop.status, final_url=hop.url, challenge=vendor, method=method, attempts=hop.attempts)
        return outcome, hop.body, hop.headers.get("content-type")

    async def _follow(self, url: str, method: str, rtype: ResourceType, want_body: bool) -> _Hop:
        """Request `url`, following redirects by hand (each hop vetted and budgeted like the first)."""
        current, seen = url, {url}
        for _ in range(self.settings.max_redirects + 1):
            hop = await self._with_retries(current, method, rtype, want_body)
            location = hop.headers.get("location") if hop.status in _REDIRECTS else None
            if not location:
                return hop
            target = _redirect_target(current, location)
            if target in seen:
                raise _Failed(ErrorKind.REDIRECT, "redirect loop")
            seen.add(target)
            current = target
        raise _Failed(ErrorKind.REDIRECT, f"more than {self.settings.max_redirects} redirects")

    async def _with_retries(self, url: str, method: str, rtype: ResourceType, want_body: bool) -> _Hop:
        """One request, asked again after a pause on 5xx/408/429/timeouts, `retries` times at most."""
        host = _Target.of(url).host
        for attempt in range(1, self.settings.retries + 2):
            last = attempt > self.settings.retries
            try:
                hop = await self._request(url, method, rtype, want_body)
            except _Failed as failure:
                if failure.kind is not ErrorKind.TIMEOUT or last:
                    raise
                self.budget.back_off(host, self._backoff_s(attempt, None))
                continue
            hop.attempts = attempt
            if hop.status not in RETRY_STATUSES or last:
                return hop
            self.budget.back_off(host, self._backoff_s(attempt, hop.headers.get("retry-after")))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff_s(self, attempt: int, retry_after: str | None) -> float:
        """Exponential back-off, or the server's Retry-After when it says more, within the cap."""
        exponential = self.settings.backoff_s * 2.0 ** (attempt - 1)
        asked = parse_retry_after(retry_after, self.clock.now()) or 0.0
        return min(max(exponential, asked), self.settings.retry_after_cap_s)

    async def _request(self, url: str, method: str, rtype: ResourceType, want_body: bool) -> _Hop:
        """Resolve, vet the address, wait for the host's turn, send; try each address on refusal."""
        target = _Target.of(url)
        resolved = await self._resolver.resolve(target.host, target.port)
        if resolved.error is not None:
            raise _Failed(ErrorKind.DNS, resolved.error, name_missing=resolved.missing)
        refused = refused_address(target.host, resolved.addresses, self.settings.private_hosts)
        if refused:
            raise _Failed(None, refused, refused=True)
        for address in resolved.addresses[:-1]:
            try:
                return await self._budgeted(target, address, method, rtype, want_body)
            except _Failed as failure:
                if failure.kind is not ErrorKind.CONNECT:
                    raise
        return await self._budgeted(target, resolved.addresses[-1], method, rtype, want_body)

    async def _budgeted(self, target: _Target, address: str, method: str, rtype: ResourceType, want: bool) -> _Hop:
        async with self.budget.slot(target.host):
            try:
                async with asyncio.timeout(self.settings.timeout_s):
                    return await self._send(target, address, method, rtype, want)
            except TimeoutError:
                raise _Failed(ErrorKind.TIMEOUT, f"no answer within {self.settings.timeout_s:g}s") from None
            except httpx.HTTPError as exc:
                raise _translate(exc) from None

    async def _send(self, target: _Target, address: str, method: str, rtype: ResourceType, want: bool) -> _Hop:
        """One request straight to the transport (the client's auth/cookie/redirect layers are not needed)."""
        headers = [
            ("Host", target.netloc),
            ("User-Agent", self.settings.user_agent),
            ("Accept", ACCEPT),
            ("Accept-Encoding", "gzip, deflate"),
        ]
        extensions: dict[str, Any] = {}
        if target.scheme == "https":
            # The pool is keyed by address: a TLS connection named for one host must not serve another.
            headers.append(("Connection", "close"))
            extensions["sni_hostname"] = target.host
        if method == "GET" and not want:
            headers.append(("Range", _RANGE))  # an attachment is never downloaded whole
        request = httpx.Request(method, target.at(address), headers=headers, extensions=extensions)
        response = await self._transport.handle_async_request(request)
        try:
            want = want and _is_markup(response.headers.get("content-type"))
            cap = self.settings.max_body_bytes if want else CHALLENGE_MAX_BYTES
            readable = method == "GET" and _readable(response.status_code, rtype, want)
            body = await _read(response, cap) if readable else b""
            if not readable:
                await _drain(response, method)
        finally:
            await response.aclose()
        return _Hop(response.status_code, response.headers, body, target.url)

    async def _soft_404(self, url: str, outcome: Outcome, body: bytes, content_type: str | None) -> bool:
        """A 200 internal page that is really "not found" (never judged on a homepage)."""
        if is_homepage(url):
            return False
        if redirected_home(url, outcome.final_url) or says_not_found(body, content_type):
            return True
        if not self.settings.soft_404_probe:
            return False
        probe = await self._probe_shape(url)
        return probe is not None and shape_of(body, content_type).like(probe)

    async def _probe_shape(self, url: str) -> Shape | None:
        """What the host answers for a surely-missing sibling: a Shape if 200 (soft-404 host), else None."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        known = self._probes.get(origin)
        if known is None:
            known = self._probes[origin] = asyncio.ensure_future(self._ask_missing(url))
        return await asyncio.shield(known)

    async def _ask_missing(self, url: str) -> Shape | None:
        try:
            hop = await self._follow(missing_sibling(url), "GET", ResourceType.PAGE, True)
        except _Failed:
            return None
        return shape_of(hop.body, hop.headers.get("content-type")) if hop.status == 200 else None


def _is_markup(content_type: str | None) -> bool:
    """A body worth reading whole: HTML or XML, or undeclared (a `/download?id=` link may be a 50 MB file)."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return not kind or kind.startswith("text/") or "html" in kind or "xml" in kind


def _readable(status: int, rtype: ResourceType, want: bool) -> bool:
    """Bodies worth reading: a wanted page's, or the start of any 2xx (to spot a challenge page)."""
    return 200 <= status < 300 and (want or rtype is not ResourceType.ATTACHMENT)


async def _read(response: httpx.Response, cap: int) -> bytes:
    """The (decoded) body up to `cap` bytes; the rest is not read (the connection is dropped)."""
    try:
        body = CappedBody(None if response.is_stream_consumed else response.headers.get("content-encoding"), cap)
    except BodyDecodeError:
        return b""
    try:
        async for chunk in _raw_chunks(response):
            body.feed(chunk)
    except (BodyTooLarge, BodyDecodeError):
        pass  # a truncated page still has links worth reading; a link is judged by its status
    return body.value()[:cap]


async def _drain(response: httpx.Response, method: str) -> None:
    """Read the end of an answer whose body is not wanted when that is cheap (a HEAD answer, a short
    error page), so its keep-alive connection can serve the next request: a connection closed with
    its answer unread cannot, and a new one costs a connect (and a TLS handshake) per link."""
    length = response.headers.get("content-length", "")
    if method != "HEAD" and not (length.isdigit() and int(length) <= DRAIN_MAX_BYTES):
        return
    async for _ in _raw_chunks(response):
        pass


async def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _redirect_target(current: str, location: str) -> str:
    try:
        target = clean_url(urljoin(current, location.strip()))
    except ValueError:
        raise _Failed(ErrorKind.REDIRECT, "redirect to a malformed URL") from None
    if not isinstance(target, str):
        raise _Failed(ErrorKind.REDIRECT, f"redirect to a non-HTTP URL ({target.value})")
    return target


def _failed_outcome(failure: _Failed, method: str) -> Outcome:
    if failure.refused:
        return Outcome(refused=failure.message, method=method)
    return Outcome(error_kind=failure.kind, error=failure.message, name_missing=failure.name_missing, method=method)


def _translate(exc: httpx.HTTPError) -> _Failed:
    """httpx's exception -> error kind (the one place this package looks at httpx's hierarchy)."""
    if isinstance(exc, httpx.TimeoutException):
        return _Failed(ErrorKind.TIMEOUT, "timed out")
    if _caused_by(exc, ssl.SSLError):
        return _Failed(ErrorKind.TLS, "TLS handshake failed")
    if isinstance(exc, httpx.ConnectError):
        return _Failed(ErrorKind.CONNECT, f"cannot connect: {str(exc)[:120]}")
    if isinstance(exc, httpx.DecodingError):
        return _Failed(ErrorKind.DECODE, "cannot decode the response")
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return _Failed(None, "malformed URL", refused=True)
    return _Failed(ErrorKind.CONNECT, "connection closed or invalid HTTP")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def ssl_context_for(verify: bool, ca_file: str | None = None) -> ssl.SSLContext:
    """The system trust store (or `ca_file`), or no verification at all when the site says so.

    Each context holds its own copy of the trust store (~0.8 MB of native memory): the daemon's
    passes share one per verification mode (`LinkChecker(ssl_context=)`) rather than one each."""
    context = ssl.create_default_context(cafile=ca_file)
    if ca_file is None and not context.cert_store_stats()["x509_ca"]:
        import certifi  # no system CA bundle (minimal images): httpx ships certifi

        context.load_verify_locations(certifi.where())
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True)
class _Target:
    """A URL split once for a request: where to connect, what to name in Host and SNI."""

    url: str
    scheme: str
    host: str
    port: int
    netloc: str
    rest: str

    @classmethod
    def of(cls, url: str) -> _Target:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").encode("idna").decode("ascii")
            port = parts.port or _default_port(parts.scheme)
        except (ValueError, UnicodeError):
            raise _Failed(None, "malformed URL", refused=True) from None
        if not host or parts.scheme not in ("http", "https"):
            raise _Failed(None, "malformed URL", refused=True)
        netloc = host if port == _default_port(parts.scheme) else f"{host}:{port}"
        rest = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(url, parts.scheme, host, port, netloc if ":" not in host else f"[{host}]:{port}", rest)

    def at(self, address: str) -> str:
        """This URL with the host replaced by the address to connect to."""
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}{self.rest}"


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
