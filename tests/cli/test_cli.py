"""The `monitor` command as users run it: exit codes, JSON shapes, one-line errors, --help.

Runs the real CLI in a subprocess against the simulated portal and real files.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from monitor.config import load_config
from monitor.sim import SimPortal
from tests.support.daemon_harness import REPO, db_rows, sim_config, sim_pages

GOLDEN = REPO / "tests" / "extract" / "golden"


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


def test_extract_prints_a_json_list_with_half_an_emoji(tmp_path: Path) -> None:
    page = tmp_path / "list.html"
    records = json.dumps(
        [{"title": f"通知{n}", "url": f"/c/{n}.html", "pubDate": f"2026-09-2{n}"} for n in range(3)]
    ).replace("\\u901a", "\\ud83d")  # the 通 of each title escaped as half an emoji
    page.write_text(f"<html><body><script>var list = {records};</script></body></html>", encoding="utf-8")
    for args in ((), ("--json",)):
        done = monitor("extract", str(page), "--base-url", "https://www.example.gov.cn/", *args)
        assert done.returncode == 0, done.stderr
        assert "\ufffd\u77e52" in done.stdout and "Traceback" not in done.stderr


def test_discover_prints_columns_and_yaml(sim: SimPortal) -> None:
    table = monitor("discover", "--no-crawl", sim.url("/xxgk/"))
    assert table.returncode == 0 and "工作动态" in table.stdout and "news" in table.stdout
    pasted = monitor("discover", "--yaml", sim.url("/xxgk/"))
    assert pasted.returncode == 0
    assert "- name: 工作动态" in pasted.stdout and "kind: column" in pasted.stdout
    nothing = monitor("discover", sim.url("/xxgk/gzdt/202611/none.html"))
    assert nothing.returncode == 2 and "error:" in nothing.stderr


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records every path asked of it (a host and port a catalogue must not steer requests to)."""

    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<html><body>secret</body></html>")

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def recorder(host: str) -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer((host, 0), Recorder)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", server.paths  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def test_discover_reads_only_columns_on_the_catalogues_site() -> None:
    with recorder("127.0.0.1") as (other_port, asked_port), recorder("127.0.0.2") as (other_host, asked_host):
        links = (("管理后台", f"{other_port}/admin/users/"), ("元数据", f"{other_host}/latest/meta-data/iam/"))
        with SimPortal(catalogue_links=links) as portal:
            table = monitor("discover", portal.url("/xxgk/"))
            pasted = monitor("discover", "--yaml", portal.url("/xxgk/"))
    assert (asked_port, asked_host) == ([], [])
    assert table.returncode == 0 and "工作动态" in table.stdout
    for name in ("管理后台", "元数据"):
        assert re.search(f"another site: not read +{name}", table.stdout), table.stdout
        assert name not in pasted.stdout


PASSWORD = "pa55-w0rd-9d1f"


def test_credentials_in_base_url_are_sent_but_never_stored_or_printed(tmp_path: Path, sim: SimPortal) -> None:
    sim.reset()
    secret_base = sim.base_url.replace("http://", f"http://inspector:{PASSWORD}@")
    config = sim_config(tmp_path, sim, site={"base_url": secret_base, "discover": True})
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    for page in document["sites"][0]["pages"]:  # relative, so each inherits the base URL's credentials
        page["url"] = urlsplit(page["url"]).path
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    outputs = [
        monitor("check", "--record", "-c", str(config)),
        monitor("check", "--json", "--debug", "-c", str(config)),
        monitor("status", "-c", str(config)),
        monitor("report", "-c", str(config), "--last", "1d"),
        monitor("discover", secret_base + "xxgk/"),
        monitor("extract", secret_base + "xxgk/gzdt/"),
        monitor("extract", secret_base + "f/missing/"),
    ]
    assert outputs[0].returncode == 0 and "工作动态" in outputs[4].stdout and "items" in outputs[5].stdout
    for done in outputs:
        assert PASSWORD not in done.stdout + done.stderr, done.args
    with contextlib.closing(sqlite3.connect(tmp_path / "monitor.db")) as conn:
        dump = "\n".join(conn.iterdump())
    assert PASSWORD not in dump and "inspector@" not in dump
    assert f"{sim.base_url}xxgk/gzdt/" in dump  # the pages and items are there, without credentials


def test_credentials_in_a_url_become_a_basic_authorization_header(tmp_path: Path, sim: SimPortal) -> None:
    config = sim_config(tmp_path, sim, site={"base_url": sim.base_url.replace("http://", "http://u%40x:p@")})
    pages = load_config(config).pages()
    assert all("@" not in page.url for page in pages)
    assert all(dict(page.headers)["Authorization"] == "Basic dUB4OnA=" for page in pages)  # "u@x:p"


TERMINAL_TRICKS = "\a\x1b[2J\x1b]0;owned\x07\x9b31m\u202e"
"""BEL, clear screen, set window title, an 8-bit CSI and a right-to-left override."""


def assert_no_control_characters(text: str) -> None:
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text), repr(text)


def test_remote_text_never_reaches_the_terminal_raw(tmp_path: Path, sim: SimPortal) -> None:
    records = [
        {"title": f"通知{n}{TERMINAL_TRICKS}", "url": f"/c/{n}.html", "pubDate": f"2026-09-2{n}"} for n in range(3)
    ]
    page = tmp_path / "list.html"
    page.write_text(f"<script>var list = {json.dumps(records)};</script>", encoding="utf-8")
    config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), site={"title": f"某局{TERMINAL_TRICKS}"})
    assert monitor("check", "--record", "-c", str(config)).returncode == 0
    outputs = [
        monitor("extract", str(page)),
        monitor("extract", str(page), "--json"),
        monitor("status", "-c", str(config)),
        monitor("status", "-c", str(config), "--json"),
        *(
            monitor("report", "-c", str(config), "--last", "1d", "--format", f)
            for f in ("table", "markdown", "csv", "zh")
        ),
        monitor("report", "-c", str(config), "--last", "1d", "--format", "json"),
    ]
    for done in outputs:
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
        assert_no_control_characters(done.stdout)
    assert "通知1\\u0007\\u001b[2J" in outputs[0].stdout  # shown escaped, not dropped
    assert json.loads(outputs[1].stdout)["items"][1]["title"] == f"通知1{TERMINAL_TRICKS}"  # JSON means the same
    assert json.loads(outputs[-1].stdout)["sites"][0]["title"] == f"某局{TERMINAL_TRICKS}"


def test_status_after_record(config: Path) -> None:
    assert monitor("check", "--record", "-c", str(config)).returncode == 0
    done = monitor("status", "-c", str(config))
    assert done.returncode in (0, 1), done.stderr
    assert "V1" in done.stdout and "blank      jyta" in done.stdout
    as_json = json.loads(monitor("status", "--json", "-c", str(config)).stdout)
    assert as_json[0]["site"] == "sim" and [r["rule"] for r in as_json[0]["rules"]] == ["V1", "V2", "V3"]


def test_one_failed_visit_after_install_is_insufficient_data_not_a_veto(tmp_path: Path, sim: SimPortal) -> None:
    sim.reset()
    config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"))
    assert monitor("check", "--record", "-c", str(config)).returncode == 0
    sim.fault("500", "/")
    assert monitor("check", "--record", "-c", str(config)).returncode == 1
    sim.reset()
    done = monitor("status", "-c", str(config))
    v1_line = next(line for line in done.stdout.splitlines() if line.startswith("  V1 "))
    assert "insufficient data" in v1_line and "1/2 homepage visits failed in 7 days (50.0%) so far" in v1_line
    assert "VETO" not in done.stdout and done.returncode == 0, done.stdout
    rules = json.loads(monitor("status", "--json", "-c", str(config)).stdout)[0]["rules"]
    assert [(r["rule"], r["state"], r["veto"]) for r in rules] == [
        ("V1", "insufficient_data", False),
        ("V2", "ok", False),
        ("V3", "insufficient_data", False),  # no column configured, none read
    ]


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
        "sites import",
    ],
)
def test_help(command: str) -> None:
    done = monitor(*command.split(), "--help")
    assert done.returncode == 0 and "Usage:" in done.stdout


def test_db_migrate(config: Path) -> None:
    first = monitor("db", "migrate", "-c", str(config))
    assert first.returncode == 0 and "applied 0001_initial" in first.stdout
    assert "up to date" in monitor("db", "migrate", "-c", str(config)).stdout
