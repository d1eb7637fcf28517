"""The HTTP side of /metrics and /healthz: one background thread running its own asyncio loop.

No thread per connection (the unit's TasksMax would run out, and "can't start new thread" would
leave scrapes unanswered), a cap on open connections (the oldest still-unfinished one makes room
for a new one) and a deadline on reading a request, so idle or slowloris connections cannot keep
the scrape or the health check out. Each answer closes its connection. Private to monitor.metrics.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus

from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("monitor.metrics")

MAX_CONNECTIONS = 64
"""Open connections at most; a new one closes the oldest that has not finished its request."""

REQUEST_TIMEOUT_S = 5.0
"""Time to send the request line and headers after connecting (Prometheus needs milliseconds)."""

WRITE_TIMEOUT_S = 10.0
"""Time for the client to take the answer."""

MAX_REQUEST_BYTES = 16 * 1024
"""Longest request line or header line."""

MAX_HEADER_LINES = 100
"""More header lines than this is not a scrape."""

_TEXT = "text/plain; charset=utf-8"


class MetricsServer:
    """/metrics and /healthz on one address, served from a background thread."""

    def __init__(self, render: Callable[[], list[bytes]], healthy: Callable[[], tuple[bool, str]]) -> None:
        self._render = render
        self._healthy = healthy
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._open: dict[asyncio.StreamWriter, None] = {}

    def start(self, host: str, port: int) -> tuple[str, int]:
        """Bind and serve; returns the bound address (port 0 picks a free one). Raises OSError."""
        sock = socket.create_server((host, port))
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(sock, ready), name="metrics-http", daemon=True)
        self._thread.start()
        ready.wait()
        bound = sock.getsockname()
        return str(bound[0]), int(bound[1])

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(asyncio.start_server(self._connection, sock=sock, limit=MAX_REQUEST_BYTES))
        finally:
            ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one request within the deadline, answer it, close."""
        if len(self._open) >= MAX_CONNECTIONS:
            next(iter(self._open)).close()  # its reader sees EOF, and its handler ends
        self._open[writer] = None
        try:
            target = await _request_target(reader)
            self._open.pop(writer, None)  # answering: no longer the one to make room
            if target is not None:
                status, parts, content_type = self._answer(target)
                writer.write(_head(status, sum(len(part) for part in parts), content_type))
                writer.writelines(parts)
                await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT_S)
        except (TimeoutError, ConnectionError, ValueError, asyncio.IncompleteReadError):
            pass  # the client went quiet, away or wrote nonsense: nothing to answer
        finally:
            self._open.pop(writer, None)
            writer.close()

    def _answer(self, target: tuple[str, str]) -> tuple[HTTPStatus, list[bytes], str]:
        method, path = target
        log.debug("http %s %s", method, path)
        if not method:
            return HTTPStatus.BAD_REQUEST, [b"bad request\n"], _TEXT
        if method != "GET":
            return HTTPStatus.NOT_IMPLEMENTED, [f"unsupported method {method!r}\n".encode()], _TEXT
        path = path.split("?", 1)[0]
        if path == "/metrics":
            return HTTPStatus.OK, self._render(), CONTENT_TYPE_LATEST
        if path == "/healthz":
            ok, reason = self._healthy()
            return (HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE), [(reason + "\n").encode()], _TEXT
        return HTTPStatus.NOT_FOUND, [b"not found: try /metrics or /healthz\n"], _TEXT


async def _request_target(reader: asyncio.StreamReader) -> tuple[str, str] | None:
    """(method, path) of the request, read within REQUEST_TIMEOUT_S: ("", "") when it is not HTTP,
    None when the client sent nothing (or too many header lines) and gets no answer.

    Raises TimeoutError for a client too slow, ValueError for a line over MAX_REQUEST_BYTES."""
    async with asyncio.timeout(REQUEST_TIMEOUT_S):
        line = await reader.readline()
        for _ in range(MAX_HEADER_LINES):
            header = await reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
        else:
            return None
    if not line.strip():
        return None
    words = line.decode("latin-1").split()
    if len(words) != 3 or not words[2].startswith("HTTP/"):
        return "", ""
    return words[0], words[1]


def _head(status: HTTPStatus, length: int, content_type: str) -> bytes:
    lines = [
        f"HTTP/1.1 {status.value} {status.phrase}",
        "Server: portal-monitor",
        f"Date: {formatdate(usegmt=True)}",
        f"Content-Type: {content_type}",
        f"Content-Length: {length}",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
