"""The simulated portal's HTTP/1.1 vocabulary: parsed requests, responses, head encoding, dates.

Pure data and byte formatting shared by the site, the faults and the server; no sockets here.
Only what the sim needs: GET/HEAD/POST without request bodies of interest, no pipelining tricks.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import parse_qsl, unquote, urlsplit

REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    521: "Web Server Is Down",
}
SERVER_NAME = "monitor-sim"


class BadRequest(Exception):
    """The bytes received are not an HTTP/1.x request the sim understands."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    keep_alive: bool

    @classmethod
    def parse(cls, head: bytes) -> Request:
        """Request line and headers (everything before the blank line) -> Request."""
        try:
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise BadRequest("malformed request line") from None
        if not version.startswith("HTTP/1."):
            raise BadRequest("unsupported HTTP version")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        parts = urlsplit(target)
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return cls(method.upper(), unquote(parts.path) or "/", query, headers, keep_alive)


@dataclass
class Response:
    """What to send. A `stream` body is sent with `length` as Content-Length, or chunked if None."""

    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterable[bytes] | None = None
    length: int | None = None

    def head(self, *, keep_alive: bool) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}", f"Server: {SERVER_NAME}"]
        if self.content_type and self.status != 304:
            lines.append(f"Content-Type: {self.content_type}")
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.stream is None:
            lines.append(f"Content-Length: {len(self.body)}")
        elif self.length is not None:
            lines.append(f"Content-Length: {self.length}")
        else:
            lines.append("Transfer-Encoding: chunked")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def wire(self, *, keep_alive: bool) -> bytes:
        """Head and body as sent (bodies only; streams are written by the server)."""
        return self.head(keep_alive=keep_alive) + self.body


def text_response(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode(), content_type)


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def parse_http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
