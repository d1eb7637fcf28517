"""sd_notify: the exact datagrams sent to a real AF_UNIX socket (filesystem and abstract namespace)."""

from __future__ import annotations

import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.notify import Notifier

FIXED_MONOTONIC_NS = 123_456_789_999


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short temp dir: AF_UNIX paths are limited to 107 bytes, pytest's tmp_path can be longer."""
    with tempfile.TemporaryDirectory(prefix="nfy") as name:
        yield Path(name)


@pytest.fixture(params=["path", "abstract"])
def receiver(request: pytest.FixtureRequest, short_dir: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket playing systemd, and the NOTIFY_SOCKET value that reaches it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.settimeout(2.0)
    if request.param == "path":
        path = short_dir / "notify.sock"
        sock.bind(str(path))
        address = str(path)
    else:
        name = f"portal-monitor-test-{uuid.uuid4().hex}"
        sock.bind(b"\0" + name.encode())
        address = "@" + name
    with sock:
        yield sock, address


CASES: list[tuple[str, Callable[[Notifier], str | None], bytes]] = [
    ("ready", lambda n: n.ready(), b"READY=1"),
    ("stopping", lambda n: n.stopping(), b"STOPPING=1"),
    ("watchdog", lambda n: n.watchdog(), b"WATCHDOG=1"),
    ("reloading", lambda n: n.reloading(), b"RELOADING=1\nMONOTONIC_USEC=123456789"),
    ("status", lambda n: n.status("checking 12 pages"), b"STATUS=checking 12 pages"),
    ("status utf-8", lambda n: n.status("正在检查 12 个页面"), "STATUS=正在检查 12 个页面".encode()),
    ("status one line", lambda n: n.status("a\nREADY=1\r\nb"), b"STATUS=a READY=1 b"),
    ("status undecodable", lambda n: n.status("file \udcff.html"), b"STATUS=file ?.html"),
]


@pytest.mark.parametrize(("name", "call", "expected"), CASES, ids=[c[0] for c in CASES])
def test_sends_exact_datagram(
    receiver: tuple[socket.socket, str], name: str, call: Callable[[Notifier], str | None], expected: bytes
) -> None:
    sock, address = receiver
    notifier = Notifier(address=address, monotonic_ns=lambda: FIXED_MONOTONIC_NS)
    assert call(notifier) is None
    assert sock.recv(4096) == expected


def test_reloading_uses_clock_monotonic(receiver: tuple[socket.socket, str]) -> None:
    sock, address = receiver
    before_us = time.monotonic_ns() // 1000
    assert Notifier(address=address).reloading() is None
    after_us = time.monotonic_ns() // 1000
    first, second = sock.recv(4096).decode().split("\n")
    assert first == "RELOADING=1"
    key, value = second.split("=")
    assert key == "MONOTONIC_USEC"
    assert before_us <= int(value) <= after_us


def test_messages_arrive_in_order_as_separate_datagrams(receiver: tuple[socket.socket, str]) -> None:
    sock, address = receiver
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": address})
    assert notifier.status("starting") is None
    assert notifier.ready() is None
    assert notifier.stopping() is None
    assert [sock.recv(4096) for _ in range(3)] == [b"STATUS=starting", b"READY=1", b"STOPPING=1"]


def test_without_notify_socket_everything_is_a_silent_no_op() -> None:
    notifier = Notifier.from_environ({})
    assert not notifier.enabled
    assert notifier.watchdog_interval_s is None
    calls = [notifier.ready(), notifier.reloading(), notifier.stopping(), notifier.status("x")]
    assert [*calls, notifier.watchdog()] == [None] * 5


def test_from_environ_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "@portal-monitor-env")
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notifier = Notifier.from_environ()
    assert notifier.enabled
    assert notifier.address == "@portal-monitor-env"
    assert notifier.watchdog_interval_s == 30.0


@pytest.mark.parametrize(
    ("env", "expected_s"),
    [
        ({"WATCHDOG_USEC": "60000000"}, 30.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "4242"}, 30.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "4243"}, None),
        ({"WATCHDOG_USEC": "1500000"}, 0.75),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "sixty"}, None),
        ({"WATCHDOG_USEC": ""}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_the_timeout_for_this_pid(env: dict[str, str], expected_s: float | None) -> None:
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": "@x", **env}, pid=4242)
    assert notifier.watchdog_interval_s == expected_s


def test_missing_socket_returns_reason_instead_of_raising(short_dir: Path) -> None:
    reason = Notifier(address=str(short_dir / "gone.sock")).ready()
    assert reason is not None
    assert "cannot notify systemd" in reason
    assert "gone.sock" in reason


def test_undecodable_address_from_the_environment_does_not_raise() -> None:
    reason = Notifier.from_environ({"NOTIFY_SOCKET": "/run/\udcff/notify"}).ready()
    assert reason is not None
    assert "cannot notify systemd" in reason


@pytest.mark.parametrize("address", ["relative/notify.sock", "@", "vsock:2:1234"])
def test_unsupported_address_returns_reason(address: str) -> None:
    reason = Notifier(address=address).watchdog()
    assert reason is not None
    assert "neither an absolute path nor an abstract" in reason


def test_full_receive_queue_does_not_block(short_dir: Path) -> None:
    """systemd not reading must cost a lost message and a reason, never a stalled event loop."""
    path = short_dir / "full.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        notifier = Notifier(address=str(path))
        started = time.monotonic()
        reasons = [notifier.watchdog() for _ in range(2000)]
        elapsed_s = time.monotonic() - started
    failures = [r for r in reasons if r is not None]
    assert failures, "the receive queue never filled up"
    assert reasons[0] is None
    assert "cannot notify systemd" in failures[0]
    assert elapsed_s < 5
