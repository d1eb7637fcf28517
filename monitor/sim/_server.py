"""The simulated portal's asyncio HTTP/1.1 server: connections, fault delivery, control API.

Minimal and byte-exact, so a mid-response RST or one byte a second is easy and keep-alive pages are
fast. Content comes from `_sim_site`, substitute answers from `_sim_faults`; only sockets here.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
import time
from functools import partial
from typing import Any, TypeAlias

from monitor.sim._faults import (
    ANSWER_MODES,
    DELIVERY_MODES,
    IPV6_STALE_PAGE,
    LINK_TARGET_FAULTS,
    Fault,
    FaultAnswers,
    FaultTable,
)
from monitor.sim._http import BadRequest, Request, Response, http_date, parse_http_date, text_response
from monitor.sim._site import Site, not_found_page

CONTROL_PREFIX = "/_sim/"
MAX_REQUEST_BODY_BYTES = 64 * 1024
STREAM_READ_BYTES = 64 * 1024
LISTEN_BACKLOG = 1024
IPV6_LOOPBACK = "::1"
PORT_TRIES = 20
"""Free ports tried until one is free on both 127.0.0.1 and ::1 (a portal with `ipv6=True`)."""


class SimServer:
    """Serves a `Site` on one port (plus an optional control-only port that `refuse` leaves up).

    With `ipv6=True` it also listens on `[::1]` on the same port, where `ipv6:MODE` faults apply
    (an IPv6 front that serves other content, errors or refuses while IPv4 is fine)."""

    def __init__(
        self,
        site: Site,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
        ipv6: bool = False,
    ) -> None:
        self.site = site
        self.ipv6 = ipv6
        self.ipv6_mode = "same"
        self._listener6: asyncio.Server | None = None
        self.host = host
        self.port = port
        self.control_port = control_port
        self.faults = FaultTable(LINK_TARGET_FAULTS if site.dead_links else None)
        self.hits: dict[str, list[float]] = {}
        """Monotonic arrival times of the requests to each built-in link target (tests read the pacing)."""
        self.refused = False
        self._ssl = ssl_context
        self._answers = FaultAnswers(site)
        self._listener: asyncio.Server | None = None
        self._control_listener: asyncio.Server | None = None
        self._site_writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def scheme(self) -> str:
        return "https" if self._ssl else "http"

    async def start(self) -> None:
        await self._listen()
        if self.control_port is not None:
            handler = partial(self._connection, control_only=True)
            self._control_listener = await asyncio.start_server(
                handler, self.host, self.control_port, reuse_address=True
            )
            self.control_port = self._control_listener.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for listener in (self._listener, self._listener6, self._control_listener):
            if listener is not None:
                listener.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def apply(self, fault: Fault, path: str | None = None) -> None:
        """Switch a fault on (or off with `ok`) for one path or, without a path, the whole site."""
        if fault.mode == "ipv6":
            await self._apply_ipv6(fault.arg)
            return
        if fault.mode == "refuse":
            if path:
                raise ValueError("refuse is site-wide: it stops the listener (omit path)")
            await self._refuse()
            return
        self.faults.set(fault, path)
        if fault.mode == "ok" and not path and self.refused:
            await self._listen()

    async def reset(self) -> None:
        """Every fault off, listening again."""
        self.faults.clear()
        if self.ipv6:
            await self._apply_ipv6("same")
        if self.refused:
            await self._listen()

    async def _listen(self) -> None:
        # The same port as before (`refuse` then `ok` must come back where clients look for it).
        for _ in range(PORT_TRIES):
            listener = await asyncio.start_server(
                self._connection, self.host, self.port, ssl=self._ssl, reuse_address=True, backlog=LISTEN_BACKLOG
            )
            port = listener.sockets[0].getsockname()[1]
            try:
                await self._listen_ipv6(port)
            except OSError:
                listener.close()
                if self.port:
                    raise
                continue  # a free port on 127.0.0.1 taken on ::1: try another
            self._listener, self.port, self.refused = listener, port, False
            return
        raise OSError(f"no port free on both {self.host} and [{IPV6_LOOPBACK}] in {PORT_TRIES} tries")

    async def _listen_ipv6(self, port: int) -> None:
        """The [::1] listener on `port` (a portal with `ipv6=True`, unless `ipv6:refuse` is on)."""
        if not self.ipv6 or self.ipv6_mode == "refuse" or self._listener6 is not None:
            return
        handler = partial(self._connection, over_ipv6=True)
        self._listener6 = await asyncio.start_server(
            handler, IPV6_LOOPBACK, port, ssl=self._ssl, reuse_address=True, backlog=LISTEN_BACKLOG
        )

    async def _apply_ipv6(self, mode: str) -> None:
        """`ipv6:MODE`: what the [::1] listener serves; `refuse` closes it, any other mode reopens it."""
        if not self.ipv6:
            raise ValueError("ipv6 faults need a portal listening on ::1 (SimPortal(ipv6=True))")
        self.ipv6_mode = mode
        if mode == "refuse" and self._listener6 is not None:
            self._listener6.close()
            self._listener6 = None
            for writer in [w for w in self._site_writers if _over_ipv6(w)]:
                writer.transport.abort()
        elif mode != "refuse" and self._listener is not None:
            await self._listen_ipv6(self.port)

    async def _refuse(self) -> None:
        """Stop listening and drop open site connections: connecting now fails with ECONNREFUSED."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for writer in list(self._site_writers):
            writer.transport.abort()
        self.refused = True

    async def _connection(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        control_only: bool = False,
        over_ipv6: bool = False,
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        if not control_only:
            self._site_writers.add(writer)
        try:
            await self._serve_requests(reader, writer, control_only, over_ipv6)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass  # the client went away or the fault cut the connection: nothing to answer
        except asyncio.CancelledError:
            pass  # stop() cancels handlers parked in a fault; ending quietly is the point
        finally:
            self._site_writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _serve_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, control_only: bool, over_ipv6: bool = False
    ) -> None:
        while True:
            try:
                request = await _read_request(reader)
            except BadRequest as exc:
                await _send(writer, text_response(400, f"{exc}\n"), keep_alive=False)
                return
            if request is None:
                return
            if request.path.startswith(CONTROL_PREFIX):
                response = await self._control(request)
            elif control_only:
                response = text_response(404, "this port serves only /_sim/\n")
            elif over_ipv6 and self.ipv6_mode in ("different", "500"):
                response = _ipv6_answer(self.ipv6_mode)
            else:
                response = self._answer(request)
                fault = self.faults.lookup(request.path)
                if fault is not None and fault.mode in DELIVERY_MODES:
                    await _DELIVERIES[fault.mode](fault, response, reader, writer)
                    return
            keep_alive = request.keep_alive and response.stream is None and not self.refused
            await _send(writer, response, keep_alive=keep_alive, head_only=request.method == "HEAD")
            if not keep_alive:
                return

    def _answer(self, request: Request) -> Response:
        if self.site.dead_links and request.path in LINK_TARGET_FAULTS:
            self.hits.setdefault(request.path, []).append(time.monotonic())
        if request.method not in ("GET", "HEAD"):
            return text_response(405, "method not allowed\n")
        fault = self.faults.lookup(request.path)
        if fault is not None and fault.mode in ANSWER_MODES:
            return self._answers.answer(fault, request)
        return self._page(request)

    def _page(self, request: Request) -> Response:
        document = self.site.document(request.path)
        if document is None:
            return Response(404, not_found_page().encode())
        headers = [("ETag", document.etag), ("Last-Modified", http_date(document.last_modified))]
        if _not_modified(request, document.etag, document.last_modified):
            return Response(304, headers=headers)
        return Response(200, document.body, document.content_type, headers)

    async def _control(self, request: Request) -> Response:
        """`GET /_sim/state`, `POST /_sim/fault?mode=M[&path=P]`, `POST /_sim/publish?column=C&title=T`,
        `POST /_sim/retire?column=C`."""
        route = request.path.removeprefix(CONTROL_PREFIX)
        try:
            if route == "state" and request.method == "GET":
                return _json(200, self.state())
            if request.method != "POST":
                return _json(405, {"error": "use POST (GET only for /_sim/state)"})
            if route == "fault":
                fault = Fault.parse(request.query.get("mode", ""))
                await self.apply(fault, request.query.get("path") or None)
            elif route == "reset":
                await self.reset()
            elif route == "publish":
                return self._publish(request.query)
            elif route == "retire":
                self.site.retire(request.query.get("column", ""))
            else:
                return _json(404, {"error": f"unknown control route {route!r}"})
        except (KeyError, ValueError) as exc:
            return _json(400, {"error": f"{type(exc).__name__}: {exc}"})
        return _json(200, self.state())

    def _publish(self, query: dict[str, str]) -> Response:
        item = self.site.publish(query.get("column", ""), query.get("title") or "新发布信息")
        return _json(200, {"id": item.id, "title": item.title, "date": item.day.isoformat(), "path": item.path})

    def state(self) -> dict[str, Any]:
        return {
            "base_url": f"{self.scheme}://{self.host}:{self.port}/",
            "refused": self.refused,
            "ipv6": self.ipv6_mode if self.ipv6 else None,
            "faults": self.faults.snapshot(),
            "columns": [
                {"slug": spec.slug, "name": spec.name, "category": spec.category, "path": spec.path,
                 "items": len(items), "newest": items[0].day.isoformat() if items else None,
                 "retired": spec.slug in self.site.retired}
                for spec in self.site.columns.values()
                for items in [self.site.items(spec.slug)]
            ],
        }  # fmt: skip


def _over_ipv6(writer: asyncio.StreamWriter) -> bool:
    peer = writer.get_extra_info("sockname")
    return isinstance(peer, tuple) and len(peer) == 4


def _ipv6_answer(mode: str) -> Response:
    """What the [::1] listener serves under `ipv6:different` (another page) or `ipv6:500`."""
    if mode == "500":
        return text_response(500, "IPv6 front end error\n")
    return Response(200, IPV6_STALE_PAGE.encode(), "text/html; charset=utf-8")


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection, or None at a clean end of stream."""
    first = await reader.read(1)
    if not first:
        return None
    if not first.isalpha():
        # e.g. a TLS ClientHello on the plain port: answer at once, as real servers do.
        raise BadRequest("not an HTTP request")
    try:
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BadRequest("incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest("request head too large") from None
    request = Request.parse(head[:-4])
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_REQUEST_BODY_BYTES:
        raise BadRequest("unsupported request body")
    await reader.readexactly(int(length))  # bodies carry nothing for us; read them to stay in sync
    return request


async def _send(writer: asyncio.StreamWriter, response: Response, *, keep_alive: bool, head_only: bool = False) -> None:
    writer.write(response.head(keep_alive=keep_alive))
    if head_only:
        pass
    elif response.stream is None:
        writer.write(response.body)
    else:
        chunked = response.length is None
        async for chunk in response.stream:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()  # back-pressure: a slow reader holds the stream, not our memory
        if chunked:
            writer.write(b"0\r\n\r\n")
    await writer.drain()


def _not_modified(request: Request, etag: str, last_modified: float) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = parse_http_date(request.headers.get("if-modified-since", ""))
    return since is not None and int(last_modified) <= since


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json")


# ---- delivery faults: the normal answer, sent badly -----------------------------------------

Reader: TypeAlias = asyncio.StreamReader
Writer: TypeAlias = asyncio.StreamWriter


async def _hang(fault: Fault, response: Response, reader: Reader, writer: Writer) -> None:
    """Accept, read the request, never answer; wait until the client gives up."""
    while await reader.read(STREAM_READ_BYTES):
        pass


async def _slow(fault: Fault, response: Response, reader: Reader, writer: Writer) -> None:
    await asyncio.sleep(fault.seconds)
    await _send(writer, response, keep_alive=False)


async def _trickle(fault: Fault, response: Response, reader: Reader, writer: Writer) -> None:
    """The whole answer, status line included, one byte every `fault.seconds`."""
    wire = response.wire(keep_alive=False)
    for index in range(len(wire)):
        writer.write(wire[index : index + 1])
        await writer.drain()
        await asyncio.sleep(fault.seconds)


async def _reset(fault: Fault, response: Response, reader: Reader, writer: Writer) -> None:
    """Head and half the body, then a TCP RST (SO_LINGER 0 makes close() abort the connection)."""
    head = response.head(keep_alive=False)
    writer.write(head + response.body[: len(response.body) // 2])
    await writer.drain()
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


_DELIVERIES = {"hang": _hang, "slow": _slow, "trickle": _trickle, "reset": _reset}
