"""Log set-up: one line per event on stderr, as text with a level prefix or as JSON.

Under systemd (JOURNAL_STREAM set) text lines carry the `<N>` syslog priority prefix so
journald records the right level. Secrets never reach a log line: header values are redacted;
control characters (from remote URLs) are escaped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Literal

from monitor._text import printable

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


class TextFormatter(logging.Formatter):
    def __init__(self, journald: bool) -> None:
        super().__init__()
        self._journald = journald

    def format(self, record: logging.LogRecord) -> str:
        message = printable(redact(record.getMessage()))
        if record.exc_info:
            message += " | " + redact(self.formatException(record.exc_info)).replace("\n", " | ")
        if self._journald:
            return f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>{record.name}: {message}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        return f"{stamp} {record.levelname:<7} {record.name}: {message}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return printable(json.dumps(entry, ensure_ascii=False))


def setup_logging(level: str = "info", fmt: LogFormat = "text") -> None:
    """Configure the root logger once for the process."""
    handler = logging.StreamHandler(sys.stderr)
    journald = bool(os.environ.get("JOURNAL_STREAM"))
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(journald))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
