"""logs.py: one line per event, secrets redacted, remote control characters escaped."""

from __future__ import annotations

import json
import logging

import pytest

from monitor.logs import JsonFormatter, TextFormatter


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("monitor.daemon", logging.INFO, __file__, 1, message, args, None)


@pytest.mark.parametrize("formatter", [TextFormatter(journald=False), TextFormatter(journald=True), JsonFormatter()])
def test_control_characters_from_remote_urls_are_escaped(formatter: logging.Formatter) -> None:
    url = "http://portal.example/\x1b[2J\x07\x9b31m/"
    line = formatter.format(record("%s: column added %s %s", "sim", "工作动态", url))
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line), repr(line)
    assert "\\u001b[2J\\u0007\\u009b31m" in line
    if isinstance(formatter, JsonFormatter):
        assert json.loads(line)["msg"].endswith(url)
