"""systemd/portal-monitor-digest.{timer,service}: `systemd-analyze verify` is clean on both (the
service's binary replaced by a stub, as for the daemon's unit), the timer fires daily, and the
service runs `monitor digest` with the packaged config path."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

UNITS = Path(__file__).resolve().parents[2] / "systemd"


def test_the_digest_timer_and_service_verify(tmp_path: Path, require_tool: Callable[[str], str]) -> None:
    analyze = require_tool("systemd-analyze")
    stub = tmp_path / "bin" / "monitor"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    service = (UNITS / "portal-monitor-digest.service").read_text()
    assert re.search(r"^ExecStart=\S+/monitor digest -c /etc/portal-monitor/config.yaml$", service, re.M)
    # The daemon's dynamic user: another UID would re-own the state directory (the database).
    assert re.search(r"^User=portal-monitor$", service, re.M) and re.search(
        r"^StateDirectory=portal-monitor$", service, re.M
    )
    (tmp_path / "portal-monitor-digest.service").write_text(
        re.sub(r"^ExecStart=\S+", f"ExecStart={stub}", service, count=1, flags=re.M)
    )
    timer = (UNITS / "portal-monitor-digest.timer").read_text()
    assert re.search(r"^OnCalendar=\*-\*-\* 08:00:00$", timer, re.M)
    (tmp_path / "portal-monitor-digest.timer").write_text(timer)
    for name in ("portal-monitor-digest.service", "portal-monitor-digest.timer"):
        result = subprocess.run(
            [analyze, "verify", "--man=no", "--generators=no", str(tmp_path / name)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        problems = [line for line in (result.stdout + result.stderr).splitlines() if str(tmp_path) in line]
        assert result.returncode == 0 and problems == [], (name, result.stdout + result.stderr)


def test_the_timer_calendar_is_valid(require_tool: Callable[[str], str]) -> None:
    analyze = require_tool("systemd-analyze")
    result = subprocess.run(
        [analyze, "calendar", "*-*-* 08:00:00"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "Next elapse" in result.stdout
