"""A simulated bureau portal on 127.0.0.1 for tests, benchmarks and `monitor demo`.

`with SimPortal(clock=...) as sim:` runs it in a thread; `python -m monitor.sim` in the foreground,
driven by another process through `/_sim/` (fault, publish, reset, state). Binds loopback only by default.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from monitor.models import Clock, SystemClock
from monitor.sim._faults import Fault
from monitor.sim._server import SimServer
from monitor.sim._site import CATALOGUE_PATH, NO_CHARSET_SUFFIX, SimItem, Site

__all__ = ["SimItem", "SimPage", "SimPortal", "ipv6_loopback", "main"]

_T = TypeVar("_T")
_P = ParamSpec("_P")
CALL_TIMEOUT_S = 30.0
"""How long a control call from the test thread may wait for the server's loop."""


@dataclass(frozen=True)
class SimPage:
    """A page of the simulated portal worth monitoring (what a demo config lists)."""

    name: str
    url: str
    kind: str
    category: str | None = None


class SimPortal:
    """The simulated portal running in a background thread with its own event loop.

    All state lives in that loop; the methods here hand work to it and wait, so they are safe to
    call from tests. `tls=(certfile, keyfile)` serves https. `control_port` (0 = any) adds a
    control-only listener that stays up while the portal `refuse`s connections. `catalogue_links`
    are (name, URL) links the catalogue lists after its own columns (e.g. another site's column).
    `dead_links=True` adds a block of dead links to the homepage (see `DEAD_LINKS_BLOCK`) and one of
    hostile link targets (`HOSTILE_LINKS`: HEAD-hostile, slow, 429 with Retry-After, anti-bot answers).
    `ipv6=True` also listens on `[::1]` on the same port (`ipv6:MODE` faults; see `ipv6_loopback`).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[str, str] | None = None,
        control_port: int | None = None,
        catalogue_links: tuple[tuple[str, str], ...] = (),
        dead_links: bool = False,
        ipv6: bool = False,
    ) -> None:
        self.site = Site(clock or SystemClock(), seed, catalogue_links, dead_links)
        self._server = SimServer(
            self.site, host=host, port=port, control_port=control_port, ssl_context=_server_tls(tls), ipv6=ipv6
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SimPortal:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> SimPortal:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sim-portal", daemon=True)
        self._thread.start()
        self._call(self._server.start())
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._call(self._server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT_S)
        self._loop.close()
        self._loop = self._thread = None

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/` (https with `tls`)."""
        return f"{self._server.scheme}://{self._server.host}:{self._server.port}/"

    @property
    def control_url(self) -> str:
        """Control API root: on the control port when there is one, else on the portal's port."""
        port = self._server.control_port if self._server.control_port is not None else self._server.port
        scheme = "http" if self._server.control_port is not None else self._server.scheme
        return f"{scheme}://{self._server.host}:{port}/_sim/"

    def url(self, path: str = "/") -> str:
        return self.base_url + path.lstrip("/")

    def fault(self, mode: str, path: str | None = None) -> None:
        """Switch a fault on for `path` (or the whole site); `ok` switches it off. See _sim_faults."""
        self._call(self._server.apply(Fault.parse(mode), path))

    def reset(self) -> None:
        """All faults off and listening again."""
        self._call(self._server.reset())

    def publish(self, column: str, title: str) -> SimItem:
        """Add an item dated today (by the sim's clock) at the top of `column` (a slug, e.g. `gzdt`)."""
        return self._call(_run(self.site.publish, column, title))

    def retire(self, column: str) -> None:
        """Remove `column` (a slug) from the catalogue; its pages answer 404 (a column that disappears)."""
        self._call(_run(self.site.retire, column))

    def state(self) -> dict[str, Any]:
        return self._call(_run(self._server.state))

    def hits(self, path: str) -> list[float]:
        """Monotonic arrival times of the requests to one of the hostile link targets (`/links/...`)."""
        return self._call(_run(lambda: list(self._server.hits.get(path, []))))

    def pages(self) -> list[SimPage]:
        """Homepage, catalogue and every column (the GBK one twice: with/without header charset)."""
        pages = [
            SimPage("home", self.url("/"), "homepage"),
            SimPage("catalogue", self.url(CATALOGUE_PATH), "catalogue"),
        ]
        for spec in self.site.columns.values():
            pages.append(SimPage(spec.slug, self.url(spec.path), "column", spec.category))
            if spec.encoding != "utf-8":
                url = self.url(spec.path + NO_CHARSET_SUFFIX)
                pages.append(SimPage(f"{spec.slug}-nocharset", url, "column", spec.category))
        return pages

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._loop is None:
            coroutine.close()
            raise RuntimeError("the SimPortal is not running (use it as a context manager or call start())")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT_S)


async def _run(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run a plain call on the server's loop (the only thread that touches the site's state)."""
    return function(*args, **kwargs)


def ipv6_loopback() -> str:
    """ "" when this machine can listen on ::1, else why not (tests skip IPv6 with this reason)."""
    if not socket.has_ipv6:
        return "Python was built without IPv6 (socket.has_ipv6 is False)"
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        return f"cannot bind [::1]: {exc}"
    return ""


def _server_tls(tls: tuple[str, str] | None) -> ssl.SSLContext | None:
    if tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls)
    return context


def main(argv: list[str] | None = None) -> None:
    """`python -m monitor.sim [--port N]`: serve until SIGINT/SIGTERM; first stdout line is the URL."""
    parser = argparse.ArgumentParser(prog="python -m monitor.sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="portal port (default: any free port)")
    parser.add_argument("--control-port", type=int, default=0, help="control-only port (default: any)")
    parser.add_argument("--seed", type=int, default=1, help="content seed (default 1)")
    parser.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    parser.add_argument("--tls-key", help="private key of --tls-cert (PEM)")
    args = parser.parse_args(argv)
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    try:
        asyncio.run(_serve(args.host, args.port, args.control_port, args.seed, tls))
    except OSError as exc:
        sys.exit(f"monitor.sim: cannot listen: {exc}")


async def _serve(host: str, port: int, control_port: int, seed: int, tls: tuple[str, str] | None) -> None:
    server = SimServer(
        Site(SystemClock(), seed),
        host=host,
        port=port,
        control_port=control_port,
        ssl_context=_server_tls(tls),
    )
    await server.start()
    print(f"{server.scheme}://{host}:{server.port}/", flush=True)
    print(f"control: http://{host}:{server.control_port}/_sim/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await server.stop()
