"""An httpx transport that keeps idle connections per origin and gives each to one request at a time.

httpx's default pool re-examines every connection for every queued request (and asks each socket
whether it is readable), which costs more CPU than checking a link; a link checker with a fixed
number of workers only needs "take an idle connection or open one, give it back when done". A
connection that turns out stale (the server closed it while idle) is replaced once, transparently.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpcore
import httpx

IDLE_KEEP_S = 4.0
"""Idle connections older than this are closed rather than reused (servers drop them from 5 s on)."""

MAX_IDLE_PER_ORIGIN = 64

_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.NetworkError, httpx.NetworkError),
)
_STALE = (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError)

Key = tuple[bytes, bytes, int]


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's exceptions as httpx's, so callers see one hierarchy."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise next(new for old, new in _ERRORS if isinstance(exc, old))(str(exc)) from exc
    except Exception as exc:
        mapped = next((new for old, new in _ERRORS if isinstance(exc, old)), None)
        if mapped is None:
            raise
        raise mapped(str(exc)) from exc


class KeepAlivePool(httpx.AsyncBaseTransport):
    """Idle HTTP/1.1 connections per (scheme, host, port), last in first out."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context
        self._idle: dict[Key, list[tuple[float, httpcore.AsyncHTTPConnection]]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port or (443 if url.raw_scheme == b"https" else 80))
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=key[0], host=key[1], port=key[2], target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        connection, reused = await self._take(key)
        with _as_httpx_errors():
            try:
                response = await connection.handle_async_request(core)
            except _STALE:
                await connection.aclose()
                if not reused:
                    raise
                connection = self._open(key)
                response = await connection.handle_async_request(core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Stream(self, key, connection, response),
            extensions=response.extensions,
        )

    async def _take(self, key: Key) -> tuple[httpcore.AsyncHTTPConnection, bool]:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            released, connection = idle.pop()
            if now - released < IDLE_KEEP_S and connection.is_idle():
                return connection, True
            await connection.aclose()
        return self._open(key), False

    def _open(self, key: Key) -> httpcore.AsyncHTTPConnection:
        return httpcore.AsyncHTTPConnection(origin=httpcore.Origin(*key), ssl_context=self._ssl)

    async def give_back(self, key: Key, connection: httpcore.AsyncHTTPConnection) -> None:
        idle = self._idle.setdefault(key, [])
        if connection.is_idle() and len(idle) < MAX_IDLE_PER_ORIGIN:
            idle.append((time.monotonic(), connection))
        else:
            await connection.aclose()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for _, connection in idle:
                await connection.aclose()
        self._idle.clear()


class _Stream(httpx.AsyncByteStream):
    """The response body; closing it returns the connection to the pool (or closes a spent one)."""

    def __init__(
        self, pool: KeepAlivePool, key: Key, connection: httpcore.AsyncHTTPConnection, response: httpcore.Response
    ):
        self._pool = pool
        self._key = key
        self._connection = connection
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for part in self._response.aiter_stream():
                yield part

    async def aclose(self) -> None:
        with _as_httpx_errors():
            await self._response.aclose()
        await self._pool.give_back(self._key, self._connection)
