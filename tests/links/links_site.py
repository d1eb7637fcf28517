"""Small real HTTP servers on loopback for the link-engine tests: a route table, every request logged.

A route answers GET and HEAD alike unless it says otherwise (`head` answers HEAD differently: the
HEAD-hostile servers), can wait before answering (slow links) and can answer a sequence (429 then
200). `fallback` answers unknown paths (404 by default; a soft-404 host answers 200 everywhere).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    delay_s: float = 0.0
    head: Reply | None = None
    then: list[Reply] = field(default_factory=list)
    """Answers for the following requests, in order (the last one repeats)."""


def html(body: str, title: str = "页面") -> bytes:
    return f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>".encode()


NOT_FOUND = Reply(404, html("<h1>404</h1>", "404 Not Found"))


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]


class LinkSite:
    """A route table served on 127.0.0.1 (or another loopback address) by a thread per connection."""

    def __init__(self, routes: dict[str, Reply], fallback: Callable[[str], Reply] | None = None) -> None:
        self.routes = routes
        self.fallback = fallback or (lambda path: NOT_FOUND)
        self.log: list[Logged] = []
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0
        """Requests being answered at once, now and at most (the budget tests' witness)."""

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def answer(self, method: str, path: str, headers: dict[str, str]) -> Reply:
        with self._lock:
            self.log.append(Logged(method, path, headers))
            reply = self.routes.get(path) or self.fallback(path)
            if reply.then:
                served = self._served.get(path, 0)
                self._served[path] = served + 1
                chain = [reply, *reply.then]
                reply = chain[min(served, len(chain) - 1)]
        return reply.head if method == "HEAD" and reply.head is not None else reply

    def requests(self, path: str, method: str | None = None) -> list[Logged]:
        return [r for r in self.log if r.path == path and (method is None or r.method == method)]


def _handler(site: LinkSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._reply(send_body=True)

        def do_HEAD(self) -> None:
            self._reply(send_body=False)

        def _reply(self, send_body: bool) -> None:
            site.begin()
            try:
                reply = site.answer(self.command, self.path, dict(self.headers))
                if reply.delay_s:
                    time.sleep(reply.delay_s)
            finally:
                # Counted out before the answer leaves: once the client has it, it may send its next
                # request at once, which must not overlap this one's count (a loaded machine saw a
                # peak of 2 with one slot, this thread not yet back from sending).
                site.end()
            self._send(reply, send_body)

        def _send(self, reply: Reply, send_body: bool) -> None:
            try:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@contextmanager
def serving(site: LinkSite, host: str = "127.0.0.1", tls: tuple[str, str] | None = None) -> Iterator[str]:
    """Serve `site` on `host` (https with `tls=(cert, key)`); yields its base URL (`http://host:port`)."""
    server = ThreadingHTTPServer((host, 0), _handler(site))
    server.daemon_threads = True
    scheme = "http"
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
