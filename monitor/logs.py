"""Log set-up: one line per event on stderr, as text with a level prefix or as JSON.

When stderr is the journal (systemd's JOURNAL_STREAM names its device and inode), every line, text
or JSON, starts with the sd-daemon `<N>` syslog priority prefix: journald strips it (its default
SyslogLevelPrefix=yes) and records the level, so `journalctl -p warning` works and the message
stored is the plain text or valid JSON. Secrets never reach a log line: header values are redacted;
control characters (from remote URLs) are escaped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from typing import Literal, TextIO

from monitor.text import printable

LogFormat = Literal["text", "json"]

_SYSLOG_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}
_SECRET = re.compile(r"(?i)\b(authorization|cookie|token|password|passwd|secret|api[-_]?key)\b(\s*[:=]\s*)([^\s,;]+)")


def redact(text: str) -> str:
    """Blank the value of anything that looks like a credential."""
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


def syslog_priority(levelno: int) -> int:
    """The syslog priority of a logging level (a custom level between two takes the lower one's)."""
    for level in sorted(_SYSLOG_PRIORITY, reverse=True):
        if levelno >= level:
            return _SYSLOG_PRIORITY[level]
    return _SYSLOG_PRIORITY[logging.DEBUG]


def stderr_is_journal(environ: Mapping[str, str], stream: TextIO) -> bool:
    """JOURNAL_STREAM is `device:inode` of the journal's socket; it is inherited by children whose
    stderr goes elsewhere (a pipe, a file), so it counts only when stderr is that very socket."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # closed, or a stream with no file descriptor
        return False
    return f"{info.st_dev}:{info.st_ino}" == f"{device}:{inode}"


class TextFormatter(logging.Formatter):
    """`2024-01-01T12:00:00 WARNING monitor.daemon: message`; to the journal `<4>monitor.daemon: message`
    (the journal has its own timestamps)."""

    def __init__(self, journald: bool) -> None:
        super().__init__()
        self._journald = journald

    def format(self, record: logging.LogRecord) -> str:
        message = printable(redact(record.getMessage()))
        if record.exc_info:
            message += " | " + redact(self.formatException(record.exc_info)).replace("\n", " | ")
        if self._journald:
            return f"<{syslog_priority(record.levelno)}>{record.name}: {message}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        return f"{stamp} {record.levelname:<7} {record.name}: {message}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; to the journal behind the `<N>` priority prefix, which journald removes."""

    def __init__(self, journald: bool = False) -> None:
        super().__init__()
        self._journald = journald

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        line = printable(json.dumps(entry, ensure_ascii=False))
        return f"<{syslog_priority(record.levelno)}>{line}" if self._journald else line


def setup_logging(level: str = "info", fmt: LogFormat = "text") -> None:
    """Configure the root logger once for the process."""
    handler = logging.StreamHandler(sys.stderr)
    journald = stderr_is_journal(os.environ, sys.stderr)
    handler.setFormatter(JsonFormatter(journald) if fmt == "json" else TextFormatter(journald))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
