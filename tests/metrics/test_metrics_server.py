"""The metrics port under connection exhaustion (issue 10, B12): idle and slowloris connections.

A thread per connection and no read timeout let ~125 idle connections use up the unit's TasksMax,
after which /metrics and /healthz went unanswered. Against the real daemon: 300 idle connections
and a few trickling partial requests; scrapes and health checks still answer, the idle ones are
closed, the daemon's thread count stays small, and checks go on.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from monitor.metrics._server import MAX_CONNECTIONS, REQUEST_TIMEOUT_S
from monitor.sim import SimPortal
from tests.support.daemon_harness import RunningDaemon, db_rows, sim_config, sim_pages

IDLE_CONNECTIONS = 300
SLOW_CONNECTIONS = 20
MAX_THREADS = 24
"""The daemon's threads: main, database writer, metrics server, read-worker feeders, a few more."""


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line")


def gzdt_checks(db: Path) -> int:
    sql = "SELECT count(*) FROM checks JOIN pages ON pages.id = checks.page_id WHERE pages.name = 'gzdt'"
    return int(db_rows(db, sql)[0][0])


def trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    """Slowloris: a request line, then one header byte every half second, never the blank line."""
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
    while not stop.wait(0.5):
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.sendall(b"a")


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether the other end closes the connection before the socket's timeout."""
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def timed_get(daemon: RunningDaemon, path: str) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = daemon.get(path)
    return status, time.monotonic() - started


@pytest.mark.timing
def test_idle_and_slowloris_connections_do_not_starve_metrics_or_health(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home", "gzdt"))
        with RunningDaemon(config) as daemon:
            address = urlsplit(daemon.metrics_url)
            before = daemon.wait_for(lambda: gzdt_checks(tmp_path / "monitor.db"), what="a first check")
            idle = [socket.create_connection((address.hostname, address.port)) for _ in range(IDLE_CONNECTIONS)]
            slow = [socket.create_connection((address.hostname, address.port)) for _ in range(SLOW_CONNECTIONS)]
            stop = threading.Event()
            slowloris = threading.Thread(target=trickle, args=(slow, stop), daemon=True)
            slowloris.start()
            try:
                time.sleep(1.0)
                answers = [timed_get(daemon, path) for path in ("/metrics", "/healthz") * 3]
                threads = threads_of(daemon.process.pid)
                last = idle[-1]  # among the newest: never closed to make room, so it must time out
                last.settimeout(REQUEST_TIMEOUT_S + 5.0)
                closed = closed_by_peer(last)
                after = gzdt_checks(tmp_path / "monitor.db")
                still = [timed_get(daemon, path) for path in ("/metrics", "/healthz")]
            finally:
                stop.set()
                slowloris.join()
                for sock in idle + slow:
                    sock.close()
            code, _ = daemon.terminate()
    assert all(status == 200 and seconds < 3.0 for status, seconds in answers + still), answers + still
    assert threads <= MAX_THREADS, threads
    assert closed, "an idle connection was kept open past the request deadline"
    assert after > before, "checks stopped while the metrics port was under attack"
    assert code == 0
    log = daemon.log()
    assert "Traceback" not in log and "can't start new thread" not in log
    assert MAX_CONNECTIONS < IDLE_CONNECTIONS  # the test does exceed the cap
