"""The systemd notify protocol (sd_notify) spoken directly over the `NOTIFY_SOCKET` datagram socket.

Tells systemd when the daemon is ready, reloading or stopping, what it is doing, and that it is alive
(watchdog). No dependency on libsystemd; no decision about *when* to notify: that is the daemon's.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["Notifier"]


@dataclass(frozen=True)
class Notifier:
    """Sends sd_notify messages; a no-op when systemd gave no notify socket.

    Every method returns None when the message was sent (or there is nowhere to send it) and a
    one-line reason when it could not be sent. It never raises: a failed notification must not
    take the daemon down, but the daemon should log the reason (systemd will act on the missing
    READY=1 or WATCHDOG=1 itself: time out the start, or kill and restart the service).
    """

    address: str | None
    """`NOTIFY_SOCKET` as given: an absolute path, or `@name` for the abstract namespace."""
    watchdog_usec: int | None = None
    """The watchdog timeout systemd set for this process, or None when no watchdog applies."""
    monotonic_ns: Callable[[], int] = field(default=time.monotonic_ns, repr=False, compare=False)
    """CLOCK_MONOTONIC in ns (systemd compares MONOTONIC_USEC with its own CLOCK_MONOTONIC)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, pid: int | None = None) -> Notifier:
        """Read `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` (default: this process's environment).

        The watchdog applies only when `WATCHDOG_PID` is unset or names this process, as sd_watchdog_enabled
        does: a child that inherited the environment must not think it is being watched.
        """
        env = os.environ if environ is None else environ
        this_pid = os.getpid() if pid is None else pid
        return cls(address=env.get("NOTIFY_SOCKET") or None, watchdog_usec=_watchdog_usec(env, this_pid))

    @property
    def enabled(self) -> bool:
        """True when systemd asked for notifications."""
        return self.address is not None

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often to call `watchdog()`: half the timeout, as systemd advises; None without a watchdog."""
        if self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2 / 1_000_000

    def ready(self) -> str | None:
        """Startup (or a reload) is complete: `Type=notify` units become active now."""
        return self.send("READY=1")

    def reloading(self) -> str | None:
        """A reload started; call `ready()` when it is done.

        MONOTONIC_USEC lets systemd ≥ 253 (`Type=notify-reload`) tell this reload from an older one;
        older systemd ignores the field.
        """
        return self.send(f"RELOADING=1\nMONOTONIC_USEC={self.monotonic_ns() // 1000}")

    def stopping(self) -> str | None:
        """Shutdown started."""
        return self.send("STOPPING=1")

    def status(self, text: str) -> str | None:
        """A one-line status for `systemctl status`; line breaks become spaces, since each line is a field."""
        return self.send("STATUS=" + " ".join(text.splitlines()))

    def watchdog(self) -> str | None:
        """Still alive: resets the `WatchdogSec=` timer."""
        return self.send("WATCHDOG=1")

    def send(self, message: str) -> str | None:
        """Send one datagram of `KEY=value` lines; None when sent or disabled, else why it was not."""
        if self.address is None:
            return None
        target = _socket_address(self.address)
        if target is None:
            return f"NOTIFY_SOCKET={self.address!r} is neither an absolute path nor an abstract '@' name"
        # A status text with undecodable file names in it must still go out, not raise.
        datagram = message.encode("utf-8", errors="replace")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                # Called from the event loop: a full receive queue must not block it. systemd drains
                # the queue quickly; a lost WATCHDOG=1 is covered by sending at half the timeout.
                sock.setblocking(False)
                sock.sendto(datagram, target)
        except (OSError, ValueError) as exc:
            return f"cannot notify systemd at {self.address!r}: {getattr(exc, 'strerror', None) or exc}"
        return None


def _socket_address(address: str) -> bytes | None:
    """`@name` -> abstract socket address (leading NUL); `/path` -> the path; anything else -> None."""
    # os.fsencode: the environment may hold bytes that are not UTF-8 (surrogate-escaped by Python).
    if address.startswith("@") and len(address) > 1:
        return b"\0" + os.fsencode(address[1:])
    if address.startswith("/"):
        return os.fsencode(address)
    return None


def _watchdog_usec(env: Mapping[str, str], pid: int) -> int | None:
    """A positive `WATCHDOG_USEC` meant for `pid`, else None (absent, malformed or for another process)."""
    watchdog_pid = env.get("WATCHDOG_PID")
    if watchdog_pid is not None and watchdog_pid.strip() != str(pid):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec if usec > 0 else None
