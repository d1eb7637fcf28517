"""logs.py: every line reaching the journal carries its syslog priority, in text and in JSON.

journald strips a leading `<N>` (SyslogLevelPrefix=yes, its default) and records N as PRIORITY, so
`journalctl -p warning` selects by it. journald itself is not run here (no systemd in the test
sandbox): the tests pin the bytes written to stderr and whether stderr is taken for the journal.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.logs import JsonFormatter, TextFormatter, stderr_is_journal, syslog_priority
from monitor.sim import SimPortal
from tests.support.daemon_harness import REPO, sim_config, sim_pages

LEVELS = [
    (logging.DEBUG, 7),
    (logging.INFO, 6),
    (logging.WARNING, 4),
    (logging.ERROR, 3),
    (logging.CRITICAL, 2),
    (logging.WARNING + 5, 4),  # a custom level between two takes the lower one's priority
]


def record(levelno: int, message: str = "page %s is down") -> logging.LogRecord:
    return logging.LogRecord("monitor.daemon", levelno, __file__, 1, message, ("sim/home",), None)


@pytest.mark.parametrize(("levelno", "priority"), LEVELS)
def test_json_lines_to_the_journal_carry_the_priority_and_stay_json(levelno: int, priority: int) -> None:
    line = JsonFormatter(journald=True).format(record(levelno))
    prefix = f"<{priority}>"
    assert line.startswith(prefix)
    entry = json.loads(line.removeprefix(prefix))  # what journald stores once it strips the prefix
    assert entry["msg"] == "page sim/home is down" and entry["logger"] == "monitor.daemon"
    assert entry["level"] == logging.getLevelName(levelno).lower()


@pytest.mark.parametrize(("levelno", "priority"), LEVELS)
def test_text_lines_to_the_journal_carry_the_priority(levelno: int, priority: int) -> None:
    assert TextFormatter(journald=True).format(record(levelno)) == f"<{priority}>monitor.daemon: page sim/home is down"
    assert syslog_priority(levelno) == priority


def test_lines_elsewhere_have_no_prefix() -> None:
    assert json.loads(JsonFormatter().format(record(logging.ERROR)))["level"] == "error"
    text = TextFormatter(journald=False).format(record(logging.ERROR))
    assert not text.startswith("<") and " ERROR   monitor.daemon: page sim/home is down" in text


def test_a_traceback_stays_on_the_one_prefixed_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failing = logging.LogRecord("monitor.daemon", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    for formatter in (TextFormatter(journald=True), JsonFormatter(journald=True)):
        line = formatter.format(failing)
        assert line.startswith("<3>") and "\n" not in line and "RuntimeError: boom" in line


def test_stderr_is_the_journal_only_when_its_device_and_inode_match(tmp_path: Path) -> None:
    with (tmp_path / "stderr").open("w") as stream:
        info = os.fstat(stream.fileno())
        assert stderr_is_journal({"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}, stream)
        # inherited by a child whose stderr was redirected: not the journal
        assert not stderr_is_journal({"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino + 1}"}, stream)
        assert not stderr_is_journal({}, stream)
        assert not stderr_is_journal({"JOURNAL_STREAM": "garbage"}, stream)
    assert not stderr_is_journal({"JOURNAL_STREAM": "1:2"}, io.StringIO())  # no file descriptor


def run_with_journal_stderr(tmp_path: Path, *args: str, stop_after: str | None = None) -> tuple[int, list[str]]:
    """`monitor ARGS` with stderr a file that JOURNAL_STREAM names, as systemd would set it up."""
    err_path = tmp_path / "journal-stream"
    with err_path.open("wb") as err:
        info = os.fstat(err.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}
        process = subprocess.Popen([sys.executable, "-m", "monitor", *args], cwd=REPO, stderr=err, env=env)
        deadline = time.monotonic() + 20
        while stop_after and stop_after not in err_path.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, err_path.read_text()
            time.sleep(0.05)
        if stop_after:
            process.send_signal(signal.SIGTERM)
        code = process.wait(20)
    return code, err_path.read_text(encoding="utf-8").splitlines()


def test_the_daemon_writes_prioritised_json_to_the_journal(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), interval="1s")
        code, lines = run_with_journal_stderr(
            tmp_path, "run", "-c", str(config), "--log-format", "json", stop_after="metrics on"
        )
    assert code == 0 and lines, lines
    for line in lines:
        assert line[:3] in ("<6>", "<4>", "<3>", "<7>"), line
        json.loads(line[3:])
    warnings = [json.loads(line[3:])["msg"] for line in lines if line.startswith("<4>")]
    assert any("interval 1s is below 60s" in message for message in warnings), lines


def test_a_refused_start_tells_the_journal_it_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("sites: [", encoding="utf-8")
    code, lines = run_with_journal_stderr(tmp_path, "run", "-c", str(config))
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("<3>config error: ") and "YAML syntax error" in lines[0]


def info_record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("monitor.daemon", logging.INFO, __file__, 1, message, args, None)


@pytest.mark.parametrize("formatter", [TextFormatter(journald=False), TextFormatter(journald=True), JsonFormatter()])
def test_control_characters_from_remote_urls_are_escaped(formatter: logging.Formatter) -> None:
    url = "http://portal.example/\x1b[2J\x07\x9b31m/"
    line = formatter.format(info_record("%s: column added %s %s", "sim", "工作动态", url))
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line), repr(line)
    assert "\\u001b[2J\\u0007\\u009b31m" in line
    if isinstance(formatter, JsonFormatter):
        assert json.loads(line)["msg"].endswith(url)
