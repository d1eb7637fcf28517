"""systemd/portal-monitor.service: `systemd-analyze verify` is clean, `security` rates it ≤ 2.0,
the directives the daemon relies on are there, and the Python stack runs under
MemoryDenyWriteExecute. Running the unit for real needs systemd as PID 1, which tests do not have.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from monitor.daemon import HEARTBEAT_S

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "portal-monitor.service"
DEPLOY = UNIT.parent.parent / "docs" / "deploy.md"
MAX_EXPOSURE = 2.0
OFFLINE_SECURITY_SINCE = 250

REQUIRED = {
    "Type": "notify",
    "NotifyAccess": "main",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "Restart": "on-failure",
    "TimeoutStopSec": "15s",
    "DynamicUser": "yes",
    "StateDirectory": "portal-monitor",
    "ConfigurationDirectory": "portal-monitor",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "SystemCallArchitectures": "native",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "ProtectProc": "invisible",
    "ProcSubset": "pid",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "UMask": "0077",
}
PRESENT = ["WatchdogSec", "RestartSec", "MemoryMax", "LimitNOFILE"]


def service_directives(text: str) -> dict[str, list[str]]:
    """[Service] key -> every value it is given, in order (systemd allows repeated keys)."""
    directives: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            directives.setdefault(key.strip(), []).append(value.strip())
    return directives


def unit_for_verify(tmp_path: Path, text: str) -> Path:
    """The unit with ExecStart's binary replaced by a stub: verify insists that the binary exists."""
    stub = tmp_path / "bin" / "monitor"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    rewritten = re.sub(r"^ExecStart=\S+", f"ExecStart={stub}", text, count=1, flags=re.MULTILINE)
    unit = tmp_path / "portal-monitor.service"
    unit.write_text(rewritten)
    return unit


def verify_problems(analyze: str, unit: Path) -> list[str]:
    """Lines `systemd-analyze verify` prints about this unit; it exits 0 even for unknown keys."""
    result = subprocess.run(
        [analyze, "verify", "--man=no", "--generators=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = (result.stdout + result.stderr).splitlines()
    problems = [line for line in lines if unit.name in line or str(unit.parent) in line]
    if result.returncode != 0 and not problems:
        problems = lines or [f"exit status {result.returncode}"]
    return problems


def overall_exposure(analyze: str, unit: Path) -> float:
    """The 'Overall exposure level' of `systemd-analyze security --offline=true` (0 best, 10 worst)."""
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert match, f"no overall exposure in output:\n{result.stdout}\n{result.stderr}"
    return float(match.group(1))


@pytest.fixture
def analyze(require_tool: Callable[[str], str], tool_unavailable: Callable[[str], NoReturn]) -> str:
    path = require_tool("systemd-analyze")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.match(r"systemd (\d+)", version)
    if not match or int(match.group(1)) < OFFLINE_SECURITY_SINCE:
        tool_unavailable(f"systemd-analyze {version.splitlines()[:1]} predates `security --offline` (v250)")
    return path


def test_unit_has_the_directives_the_daemon_relies_on() -> None:
    directives = service_directives(UNIT.read_text())
    wrong = {key: directives.get(key) for key, value in REQUIRED.items() if directives.get(key) != [value]}
    assert wrong == {}, f"expected {[(k, REQUIRED[k]) for k in wrong]}"
    assert [key for key in PRESENT if not directives.get(key, [""])[0]] == []
    assert "@system-service" in directives["SystemCallFilter"]


def test_exec_start_runs_the_daemon_with_the_etc_config() -> None:
    (exec_start,) = service_directives(UNIT.read_text())["ExecStart"]
    binary, *args = exec_start.split()
    assert binary.startswith("/") and binary.endswith("/monitor")
    assert args == ["run", "-c", "/etc/portal-monitor/config.yaml"]


def test_no_ip_address_allow_list() -> None:
    """The monitor must reach arbitrary portals; IPAddressAllow/Deny would silently break checks."""
    directives = service_directives(UNIT.read_text())
    assert "IPAddressDeny" not in directives
    assert "IPAddressAllow" not in directives


def test_watchdog_and_stop_timeouts_fit_the_daemon() -> None:
    directives = service_directives(UNIT.read_text())
    watchdog_s = int(directives["WatchdogSec"][0].removesuffix("s"))
    stop_s = int(directives["TimeoutStopSec"][0].removesuffix("s"))
    assert watchdog_s >= 6 * HEARTBEAT_S, "the daemon pings at each heartbeat from its event loop; keep slack"
    assert stop_s > 10, "the daemon may take up to 10 s to flush after SIGTERM"


def test_systemd_analyze_verify_is_clean(analyze: str, tmp_path: Path) -> None:
    unit = unit_for_verify(tmp_path, UNIT.read_text())
    assert verify_problems(analyze, unit) == []


def test_verify_check_catches_a_misspelt_directive(analyze: str, tmp_path: Path) -> None:
    """Guards the test above: verify reports unknown keys on stderr but still exits 0."""
    text = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict")
    problems = verify_problems(analyze, unit_for_verify(tmp_path, text))
    assert any("ProtectSytem" in line for line in problems), problems


def test_systemd_analyze_security_rates_the_unit_ok(analyze: str, tmp_path: Path) -> None:
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text())
    exposure = overall_exposure(analyze, unit)
    assert exposure <= MAX_EXPOSURE, f"exposure {exposure} > {MAX_EXPOSURE}"


def test_the_unit_and_deploy_md_state_the_real_score_and_watchdog_period(analyze: str, tmp_path: Path) -> None:
    """The unit's comment said 1.2 and deploy.md "WATCHDOG=1 every 30 s"; the score is what
    systemd-analyze says, and the daemon pings at its heartbeat (HEARTBEAT_S), not WatchdogSec/2."""
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text())
    score = f"{overall_exposure(analyze, unit):.1f}"
    stated_in_unit = re.findall(r"rates this (?:about )?(\d\.\d)", UNIT.read_text())
    stated_in_docs = re.findall(r"rates it (?:about )?(\d\.\d)", DEPLOY.read_text(encoding="utf-8"))
    assert stated_in_unit == stated_in_docs == [score]
    pings = re.findall(r"`WATCHDOG=1` every (\d+) s", " ".join(DEPLOY.read_text(encoding="utf-8").split()))
    assert pings == [f"{HEARTBEAT_S:.0f}"]
    assert f"every {HEARTBEAT_S:.0f} s" in UNIT.read_text()


def test_security_check_sees_an_unhardened_unit_as_exposed(analyze: str, tmp_path: Path) -> None:
    """Guards the test above: the parser reads the real score, not a constant."""
    unit = tmp_path / "bare.service"
    unit.write_text("[Service]\nExecStart=/bin/true\n")
    assert overall_exposure(analyze, unit) > 5.0


MDWE_PROBE = textwrap.dedent(
    """
    import ctypes, importlib, mmap, pkgutil, sqlite3, sys, tempfile
    PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
    if sys.argv[1] == "mdwe":
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
            sys.exit(77)
        try:
            mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
            sys.exit("MDWE is not in force: a writable+executable mapping was allowed")
        except OSError:
            pass
    import monitor
    names = ["ssl", "asyncio", "httpx", "pydantic", "yaml", "prometheus_client", "click",
             "apscheduler.schedulers.asyncio", "sqlite_utils", "selectolax.lexbor"]
    names += ["monitor." + m.name for m in pkgutil.iter_modules(monitor.__path__) if m.name != "__main__"]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            print("cannot import", name, type(exc).__name__)
    import ssl, yaml
    ssl.create_default_context()
    yaml.load("a: [1, 2]", Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(d + "/t.db")
        db.execute("pragma journal_mode=wal")
        db.execute("create table t(x)")
        db.execute("insert into t values (1)")
        db.commit()
    print("ok")
    """
)


def run_probe(mode: str) -> subprocess.CompletedProcess[str]:
    root = UNIT.parent.parent
    return subprocess.run(
        [sys.executable, "-c", MDWE_PROBE, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_python_stack_runs_under_memory_deny_write_execute(
    tool_unavailable: Callable[[str], NoReturn],
) -> None:
    """MemoryDenyWriteExecute=yes is the prctl PR_SET_MDWE rule (Linux ≥ 6.3): apply it, import everything.

    Compared with a run without MDWE, so that a module missing on this branch or machine is not
    blamed on MDWE, and one that breaks only under MDWE is caught.
    """
    baseline = run_probe("baseline")
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    hardened = run_probe("mdwe")
    if hardened.returncode == 77:
        tool_unavailable("this kernel has no PR_SET_MDWE (needs Linux ≥ 6.3)")
    assert hardened.returncode == 0, hardened.stdout + hardened.stderr
    assert hardened.stdout == baseline.stdout
    assert hardened.stdout.strip().endswith("ok")


def test_deploy_md_matches_the_unit() -> None:
    """docs/deploy.md tells where to put the program and config; it must agree with ExecStart."""
    deploy = (UNIT.parent.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    (exec_start,) = service_directives(UNIT.read_text())["ExecStart"]
    binary, *_ = exec_start.split()
    assert binary in deploy
    assert "/etc/portal-monitor/config.yaml" in deploy
    assert "/var/lib/private/portal-monitor" in deploy
