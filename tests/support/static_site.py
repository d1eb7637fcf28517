"""A small static site on 127.0.0.1 for link and budget tests and benches: paths to bytes, a thread
per connection, keep-alive, 404 for anything else."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(
    site: Mapping[str, bytes], *, delay_s: float = 0.0, preparing: AbstractContextManager[object] | None = None
) -> Iterator[str]:
    """Serve `site` (query strings ignored); yields the base URL.

    Each answer is prepared `delay_s` late inside `preparing` (e.g. a counter of requests in
    flight), which is left before the answer is sent: once a client has its answer, its next
    request may arrive at once and must not overlap this one inside `preparing`.
    """
    held = preparing if preparing is not None else contextlib.nullcontext()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, body: bool) -> None:
            with held:
                time.sleep(delay_s)
                data = site.get(self.path.split("?")[0])
            self.send_response(200 if data is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            if body and data:
                self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
