"""Loopback ports: a free one to listen on, and ones that misbehave at the TCP level (fetch- and
daemon-level tests).

`closed_port()` is a port nothing listens on (connecting is refused); `unanswered_syn_port()` is one
whose SYNs are never answered (connecting hangs, as towards a silent firewall). 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A port that was free a moment ago and has nothing listening on it now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def unanswered_syn_port() -> Iterator[int | None]:
    """A loopback port whose SYNs go unanswered: backlog 0, its one queue slot already taken.

    Linux drops a SYN when the listener's accept queue is full, so connect() hangs exactly as it
    does towards a silent firewall, without leaving 127.0.0.1. Yields None if the kernel answers
    anyway (the caller skips).
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.settimeout(0.2)
            fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                yield port
                return
        yield None
    finally:
        for sock in [*fillers, listener]:
            sock.close()
