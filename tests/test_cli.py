"""The `monitor` command as users run it: exit codes, JSON shapes, one-line errors, --help.

Runs the real CLI in a subprocess against the simulated portal and real files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.sim import SimPortal
from tests.daemon_harness import REPO, db_rows, sim_config, sim_pages

GOLDEN = REPO / "tests" / "golden"


def monitor(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[SimPortal]:
    with SimPortal() as portal:
        yield portal


@pytest.fixture
def config(tmp_path: Path, sim: SimPortal) -> Path:
    sim.reset()
    return sim_config(tmp_path, sim, pages=sim_pages(sim, "home", "gzdt", "jyta"))


def test_check_all_up_exits_0_and_writes_nothing(config: Path) -> None:
    done = monitor("check", "-c", str(config))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(" UP " in line for line in lines)
    assert not (config.parent / "monitor.db").exists()


def test_check_json_has_the_documented_keys(config: Path, sim: SimPortal) -> None:
    sim.fault("503", "/xxgk/gzdt/")
    done = monitor("check", "--json", "-c", str(config))
    assert done.returncode == 1
    results = json.loads(done.stdout)
    assert [r["page"] for r in results] == ["home", "gzdt", "jyta"]
    for entry in results:
        assert {"site", "page", "url", "result", "error_kind", "status", "duration_s"} <= entry.keys()
    gzdt = results[1]
    assert (gzdt["result"], gzdt["error_kind"], gzdt["status"]) == ("down", "http_status", 503)
    assert results[2]["content"] == {"kind": "list", "items": 0, "columns": 0, "newest_date": None}


def test_check_selected_pages_and_record(config: Path) -> None:
    done = monitor("check", "--record", "-c", str(config), "gzdt", "sim/home")
    assert done.returncode == 0, done.stderr
    rows = db_rows(
        config.parent / "monitor.db",
        "SELECT p.name, c.result FROM checks c JOIN pages p ON p.id = c.page_id ORDER BY p.name",
    )
    assert rows == [("gzdt", 0), ("home", 0)]
    items = db_rows(config.parent / "monitor.db", "SELECT count(*) FROM items")
    assert items[0][0] > 0


def test_check_debug_shows_settings_without_secrets(config: Path, tmp_path: Path) -> None:
    text = config.read_text(encoding="utf-8").replace(
        "jitter: 0", "jitter: 0\n  headers: {Authorization: Bearer s3cr3t}"
    )
    config.write_text(text, encoding="utf-8")
    done = monitor("check", "--debug", "-c", str(config), "home")
    assert done.returncode == 0, done.stderr
    assert "settings:" in done.stdout and "phases:" in done.stdout and "extraction: homepage" in done.stdout
    assert "s3cr3t" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "nope"), "error: no page named 'nope' in the config"),
        (("check", "--bogus"), "No such option '--bogus'"),
        (("status",), "no such database file"),
    ],
)
def test_usage_errors_exit_2_with_one_line(config: Path, args: tuple[str, ...], message: str) -> None:
    done = monitor(*args[:1], "-c", str(config), *args[1:])
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_bad_config_exits_2_with_the_key_path(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text(
        "sites:\n  - name: a\n    title: t\n    base_url: http://x/\n    pages:\n"
        "      - {name: h, url: /, interval: -1s}\n",
        encoding="utf-8",
    )
    for command in ("check", "run", "status", "report", "config validate"):
        done = monitor(*command.split(), "-c", str(bad))
        assert done.returncode == 2, command
        assert done.stderr.startswith("config error: sites[0].pages[0].interval: expected a duration"), command
    missing = monitor("config", "validate", "-c", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "config file not found" in missing.stderr


def test_config_validate_ok_and_monitor_config_env(config: Path) -> None:
    done = monitor("config", "validate", "-c", str(config))
    assert done.returncode == 0 and "OK — 1 site(s), 3 page(s)" in done.stdout
    assert "below 60s" in done.stderr
    via_env = monitor("config", "validate", env={"MONITOR_CONFIG": str(config), "PATH": "/usr/bin:/bin"})
    assert via_env.returncode == 0, via_env.stderr


def test_extract_a_file_and_a_url(sim: SimPortal) -> None:
    done = monitor("extract", str(GOLDEN / "022.html"), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["kind"] == "list"
    done = monitor("extract", sim.url("/xxgk/gzdt/"), "--json")
    result = json.loads(done.stdout)
    assert result["kind"] == "list" and len(result["items"]) == 20 and result["pages_total"] == 3
    assert set(result) == {"kind", "encoding", "items", "newest_date", "columns", "pages_total", "blocks", "next_url"}
    missing = monitor("extract", "/nonexistent/page.html")
    assert missing.returncode == 2 and missing.stderr.strip().endswith("No such file or directory")


def test_discover_prints_columns_and_yaml(sim: SimPortal) -> None:
    table = monitor("discover", "--no-crawl", sim.url("/xxgk/"))
    assert table.returncode == 0 and "工作动态" in table.stdout and "news" in table.stdout
    pasted = monitor("discover", "--yaml", sim.url("/xxgk/"))
    assert pasted.returncode == 0
    assert "- name: 工作动态" in pasted.stdout and "kind: column" in pasted.stdout
    nothing = monitor("discover", sim.url("/xxgk/gzdt/202611/none.html"))
    assert nothing.returncode == 2 and "error:" in nothing.stderr


def test_status_after_record(config: Path) -> None:
    assert monitor("check", "--record", "-c", str(config)).returncode == 0
    done = monitor("status", "-c", str(config))
    assert done.returncode in (0, 1), done.stderr
    assert "V1" in done.stdout and "blank      jyta" in done.stdout
    as_json = json.loads(monitor("status", "--json", "-c", str(config)).stdout)
    assert as_json[0]["site"] == "sim" and [r["rule"] for r in as_json[0]["rules"]] == ["V1", "V2", "V3"]


@pytest.mark.parametrize(
    "command",
    [
        "",
        "run",
        "check",
        "status",
        "extract",
        "discover",
        "report",
        "demo",
        "config validate",
        "db migrate",
        "db prune",
        "db vacuum",
        "db rollup",
    ],
)
def test_help(command: str) -> None:
    done = monitor(*command.split(), "--help")
    assert done.returncode == 0 and "Usage:" in done.stdout


def test_db_migrate(config: Path) -> None:
    first = monitor("db", "migrate", "-c", str(config))
    assert first.returncode == 0 and "applied 0001_initial" in first.stdout
    assert "up to date" in monitor("db", "migrate", "-c", str(config)).stdout
