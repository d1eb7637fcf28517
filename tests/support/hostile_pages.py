"""Test helpers (not tests): hostile HTML pages of a given size, and a loopback server for them.

Each shape attacks a different part of reading a page: nesting depth (lexbor's tree building and
every ancestor walk), nested lists (records widening over each other), wide tables (column
headers), many attributes on one element, and one huge line of dated text. Used by
tests/system/test_hostile.py and bench/hostile.py. Nothing here asserts; callers do.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

_HEAD = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>栏目 - 模拟</title></head><body>"
_TAIL = "</body></html>"


def _fit(page: Callable[[int], bytes], size: int) -> bytes:
    """`page(count)` with about the largest count that stays within `size` bytes."""
    one, hundred_one = len(page(1)), len(page(101))
    count = max(1, int((size - one) * 100 / max(1, hundred_one - one)) + 1)
    body = page(count)
    while len(body) > size and count > 1:
        count = max(1, count * size // len(body) - 1)
        body = page(count)
    return body


def _fill(unit: Callable[[int], str], close: str, size: int) -> bytes:
    """`unit(i)` repeated (with `close` once per unit at the end), the page at most `size` bytes."""
    return _fit(lambda count: (_HEAD + "".join(unit(i) for i in range(count)) + close * count + _TAIL).encode(), size)


def deep_divs(size: int) -> bytes:
    """Unclosed `<div>`s nested as deep as the size allows, a dated link at the bottom."""
    depth = max(1, (size - 200) // 11)
    bottom = "<a href='/a/1.html'>通知公告标题</a> 2024-01-02"
    return (_HEAD + "<div>" * depth + bottom + "</div>" * depth + _TAIL).encode()


def nested_lists(size: int) -> bytes:
    """`<ul><li>` nested in each other, each with a dated link: every record inside every other."""
    return _fill(lambda i: f"<ul><li><a href='/t/{i}.html'>关于做好工作的通知{i}</a> 2024-01-02", "</li></ul>", size)


def wide_table(size: int) -> bytes:
    """One table row after another, each thousands of dated cells wide."""
    row = "<tr>" + "".join(f"<td><a href='/x/{i}.html'>标题{i}</a> 2024-01-{i % 28 + 1:02d}</td>" for i in range(2000))
    rows = max(1, (size - 200) // len((row + "</tr>").encode()))
    header = "<tr><th>标题</th><th>发布日期</th></tr>"
    return (_HEAD + "<table>" + header + (row + "</tr>") * rows + "</table>" + _TAIL).encode()


def many_attributes(size: int) -> bytes:
    """One element carrying as many attributes as the size allows."""

    def page(count: int) -> bytes:
        attributes = " ".join(f"a{i}='v{i}'" for i in range(count))
        return (_HEAD + f"<div {attributes}><a href='/a.html'>标题标题</a> 2024-01-02</div>" + _TAIL).encode()

    return _fit(page, size)


def single_line(size: int) -> bytes:
    """One paragraph of dated text without a single line break or tag."""
    unit = "2024-01-02 关于印发 "
    return (_HEAD + "<p>" + unit * max(1, (size - 200) // len(unit.encode())) + "</p>" + _TAIL).encode()


SHAPES: dict[str, Callable[[int], bytes]] = {
    "deep_divs": deep_divs,
    "nested_lists": nested_lists,
    "wide_table": wide_table,
    "many_attributes": many_attributes,
    "single_line": single_line,
}


class PageServer:
    """Serves fixed bodies by path (`text/html; charset=utf-8`) on 127.0.0.1 in a background thread."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        handler = _handler(bodies)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="hostile-pages", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(bodies: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            with contextlib.suppress(ConnectionError):  # a client over its body cap hangs up
                self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
