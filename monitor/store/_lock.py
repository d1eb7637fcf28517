"""One writer per database: an advisory flock(2) on `<database>.lock`, beside the file.

Two daemons on one database would store every check and every outage twice. The kernel drops a
flock when its process ends, however it ends (kill -9 included), so a lock left by a dead process
never blocks the next start. Readers (status, report) never take it. No SQL here.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOCK_SUFFIX = ".lock"
ONE_SHOT = "check --record"
"""The holder name of a one-shot writer: others wait for it to finish instead of being refused."""
ONE_SHOT_WAIT_S = 45.0
"""How long a writer waits for a one-shot `check --record` to finish (under systemd's
TimeoutStartSec=60s, so a daemon started meanwhile still starts)."""
_POLL_S = 0.1


class LockHeld(Exception):
    """Another process writes to the database; the message is one line for the user."""


@dataclass
class WriterLock:
    """The held lock; `release` (or the end of the process) lets the next writer in."""

    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + LOCK_SUFFIX)


def acquire(
    db_path: Path,
    holder: str,
    *,
    wait_s: float = ONE_SHOT_WAIT_S,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WriterLock:
    """Take the writer lock of `db_path` as `holder` (`run`, `check --record`).

    A daemon holding it is refused at once (LockHeld); a one-shot holder is waited for, up to
    `wait_s`. OSError when the lock file cannot be created (the caller reports it)."""
    path = lock_path(db_path)
    fd = _open(path)
    deadline = monotonic() + wait_s
    try:
        while not _try_lock(fd):
            other = _holder(fd)
            if (other is not None and other[1] != ONE_SHOT) or monotonic() >= deadline:
                raise LockHeld(_refusal(db_path, other))
            sleep(_POLL_S)
        _write_holder(fd, holder)
    except BaseException:
        os.close(fd)
        raise
    return WriterLock(path, fd)


def _open(path: Path) -> int:
    """The lock file, created if needed. flock needs no write access: a lock file made by another user
    (root running `check --record` once) is opened read-only rather than blocking the service."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def _write_holder(fd: int, holder: str) -> None:
    """Say who holds the lock, for the refusal message of the next writer (best effort)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {holder}\n".encode(), 0)
    except OSError:
        pass  # opened read-only: the next writer's message says "unknown process"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> tuple[int, str] | None:
    """(pid, holder) as the lock's owner wrote them; None while it has not yet written them."""
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    pid, _, name = text.partition(" ")
    return (int(pid), name) if pid.isdigit() and name else None


def _refusal(db_path: Path, other: tuple[int, str] | None) -> str:
    who = f"pid {other[0]}, `monitor {other[1]}`" if other else "unknown process"
    return (
        f"another portal-monitor ({who}) is writing to {db_path}: a second writer would record every check"
        " twice; stop it first (status and report may read meanwhile)"
    )
