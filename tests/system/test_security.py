"""Security properties of the real daemon and CLI: what listens, where requests go, what is never shown.

Requests stay on configured hosts (off-site redirects and discovered columns need `allowed_hosts`);
configured header values (tokens, cookies) never reach logs (text and JSON, debug level), metrics,
the database or `monitor check` output; binding metrics off loopback is logged. Static checks:
SQL is built from parameters and fixed names only; nothing in `monitor/` executes what it fetches.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.sim import SimPortal
from tests.support.daemon_harness import REPO, RunningDaemon, db_rows
from tests.support.procfs import Listener, listeners

pytestmark = pytest.mark.slow

SECRET = "s3cr3t-Bearer-7f9c2a"
COOKIE = "SESSIONID=c00k1e-51d3"
API_KEY = "k3y-0f-the-api-42"
SECRETS = (SECRET, COOKIE.split("=")[1], API_KEY)
HEADERS = {"Authorization": f"Bearer {SECRET}", "Cookie": COOKIE, "X-Api-Key": API_KEY}
OFFSITE_HOST = "www.offsite-portal.invalid"
OFFSITE_COLUMN = f"http://{OFFSITE_HOST}/gkml/"
ALLOWED = [OFFSITE_HOST]


def site(name: str, sim: SimPortal, pages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"name": name, "title": name, "base_url": sim.base_url, "discover": True, "pages": pages, **extra}


def config_for(tmp_path: Path, own: SimPortal, other: SimPortal, listen: str) -> Path:
    """Two sites serving the same catalogue (which lists an off-site column); only one allows that host."""
    faults = [
        {"name": "http-500", "url": "/f/500/"},
        {"name": "offsite", "url": "/f/offsite/"},
        {"name": "hang", "url": "/f/hang/", "timeout": "1s"},
        {"name": "reset", "url": "/xxgk/tzgg/"},
    ]
    catalogue = {"name": "catalogue", "url": "/xxgk/", "kind": "catalogue"}
    document = {
        "storage": {"path": str(tmp_path / "monitor.db")},
        "metrics": {"listen": listen},
        "defaults": {"interval": "1s", "timeout": "2s", "retry_delay": "1s", "jitter": 0, "headers": HEADERS},
        "sites": [
            site("own", own, [{"name": "home", "url": "/", "kind": "homepage"}, catalogue, *faults]),
            site(
                "allowing", other, [catalogue, {"name": "offsite", "url": "/f/offsite/"}], allowed_hosts=[OFFSITE_HOST]
            ),
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@contextlib.contextmanager
def portals() -> Iterator[tuple[SimPortal, SimPortal]]:
    links = (("外站栏目", OFFSITE_COLUMN),)
    with SimPortal(catalogue_links=links) as own, SimPortal(catalogue_links=links) as other:
        for sim in (own, other):
            sim.fault("redirect_offsite", "/f/offsite/")
        own.fault("500", "/f/500/")
        own.fault("hang", "/f/hang/")
        own.fault("reset", "/xxgk/tzgg/")
        yield own, other


@dataclass(frozen=True)
class Run:
    tmp_path: Path
    config: Path
    log: str
    metrics: str
    listeners: list[Listener]
    listening: str


def run_daemon(tmp_path: Path, *args: str, listen: str = "127.0.0.1:0") -> Run:
    with portals() as (own, other):
        config = config_for(tmp_path, own, other, listen)
        with RunningDaemon(config, "--log-level", "debug", *args) as daemon:
            daemon.wait_for(lambda: settled(daemon), what="discovery, an outage and the off-site checks")
            metrics, sockets = daemon.get("/metrics")[1], listeners(daemon.process.pid)
            daemon.terminate()
    return Run(tmp_path, config, daemon.log(), metrics, sockets, daemon.metrics_url)


def settled(daemon: RunningDaemon) -> bool:
    samples = daemon.samples()
    offsite = {"site": "allowing", "page": "外站栏目", "kind": "column", "error_kind": "dns"}
    outage = {"site": "own", "page": "offsite", "kind": "page"}
    return bool(
        samples.get(("portal_probe_errors_total", tuple(sorted(offsite.items()))))
        and samples.get(("portal_outage_active", tuple(sorted(outage.items())))) == 1
    )


@pytest.fixture(scope="module")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_daemon(tmp_path_factory.mktemp("text"), listen="0.0.0.0:0")


@pytest.fixture(scope="module")
def json_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_daemon(tmp_path_factory.mktemp("json"), "--log-format", "json")


# ---- where requests go ---------------------------------------------------------------------------------


def page_urls(db: Path, site: str) -> list[str]:
    return [
        url
        for (url,) in db_rows(db, "SELECT p.url FROM pages p JOIN sites s ON s.id = p.site_id WHERE s.name = ?", [site])
    ]


def test_discovered_columns_on_other_hosts_are_monitored_only_when_allowed(text_run: Run) -> None:
    db = text_run.tmp_path / "monitor.db"
    own, allowing = page_urls(db, "own"), page_urls(db, "allowing")
    assert len(own) == 6 + 8  # configured pages, and the catalogue's nine columns but tzgg (configured)
    assert not any(OFFSITE_HOST in url for url in own)
    assert OFFSITE_COLUMN in allowing


def test_offsite_redirects_are_recorded_and_followed_only_when_allowed(text_run: Run) -> None:
    db = text_run.tmp_path / "monitor.db"
    query = (
        "SELECT DISTINCT e.name FROM checks c JOIN pages p ON p.id = c.page_id JOIN sites s ON s.id = p.site_id"
        " JOIN error_kind_names e ON e.code = c.error_kind WHERE s.name = ? AND p.name = 'offsite'"
    )
    assert db_rows(db, query, ["own"]) == [("redirect",)]  # recorded, not followed
    assert db_rows(db, query, ["allowing"]) == [("dns",)]  # followed to the allowed (unresolvable) host
    evidence = db_rows(db, "SELECT last_error FROM outages o JOIN pages p ON p.id = o.page_id WHERE p.name = 'offsite'")
    assert (f"redirect to {OFFSITE_HOST}, a host not in allowed_hosts",) in evidence


# ---- what listens ----------------------------------------------------------------------------------------


def test_listening_off_loopback_is_an_explicit_logged_choice(text_run: Run, json_run: Run) -> None:
    port = int(text_run.listening.rsplit(":", 1)[1])
    assert text_run.listeners == [Listener("tcp", "0.0.0.0", port)]
    assert "reachable from other hosts (metrics.listen)" in text_run.log
    port = int(json_run.listening.rsplit(":", 1)[1])
    assert json_run.listeners == [Listener("tcp", "127.0.0.1", port)]
    assert "reachable from other hosts" not in json_run.log


def test_the_default_listen_address_is_loopback() -> None:
    from monitor.config import parse_config

    document = {"sites": [{"name": "s", "title": "t", "base_url": "http://x/", "pages": [{"name": "h", "url": "/"}]}]}
    assert parse_config(document).listen_host == "127.0.0.1"


# ---- what is never shown ------------------------------------------------------------------------------------


def assert_no_secret(where: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret!r} appears in {where}"


def test_header_values_never_reach_logs_metrics_or_the_database(text_run: Run, json_run: Run) -> None:
    for run in (text_run, json_run):
        assert "DEBUG" in run.log.upper()  # the most talkative level was on
        assert_no_secret("the log", run.log)
        assert_no_secret("/metrics", run.metrics)
        for file in sorted(run.tmp_path.glob("monitor.db*")):
            assert_no_secret(file.name, file.read_bytes())
        for (dump,) in db_rows(run.tmp_path / "monitor.db", "SELECT group_concat(sql, ';') FROM sqlite_master"):
            assert_no_secret("the schema", dump)


def test_json_logs_are_one_object_per_line(json_run: Run) -> None:
    lines = [line for line in json_run.log.splitlines() if line.startswith("{")]
    assert len(lines) > 20
    for line in lines:
        entry = json.loads(line)
        assert {"ts", "level", "logger", "msg"} <= entry.keys()


@pytest.mark.parametrize("flags", [("--json",), ("--debug",), ("--json", "--debug")])
def test_check_output_never_shows_header_values(text_run: Run, flags: tuple[str, ...]) -> None:
    with portals() as (own, other):
        directory = text_run.tmp_path / f"check{'-'.join(flags)}"
        directory.mkdir()
        config = config_for(directory, own, other, "127.0.0.1:0")
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "check", "-c", str(config), *flags],
            capture_output=True,
            cwd=REPO,
            timeout=60,
        )
    assert done.returncode == 1  # some pages are down, as configured
    assert_no_secret("check's stdout", done.stdout)
    assert_no_secret("check's stderr", done.stderr)
    if "--debug" in flags:
        assert b"[redacted]" in done.stdout and b"Authorization" in done.stdout


def test_a_rejected_header_value_is_not_repeated_in_the_error(tmp_path: Path) -> None:
    document = {
        "defaults": {"headers": {"Authorization": f"Bearer {SECRET}\nX-Injected: 1"}},
        "sites": [{"name": "s", "title": "t", "base_url": "http://x/", "pages": [{"name": "h", "url": "/"}]}],
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(document), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "config", "validate", "-c", str(config)],
        capture_output=True,
        cwd=REPO,
        timeout=30,
    )
    assert done.returncode == 2 and b"Authorization" in done.stderr
    assert_no_secret("the config error", done.stderr)


# ---- static checks over monitor/ --------------------------------------------------------------------------

SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|FROM|WHERE)\b")
"""SQL keywords as the code writes them (in capitals, so messages saying "from" are not SQL)."""
FIXED_SQL_PARTS = {
    # (file, interpolated expression): why it is not a runtime value
    ("store/_ops.py", "columns"): "PageStateRow's own dataclass field names",
    ("store/_ops.py", "marks"): "one '?' per PageStateRow field",
    ("store/_store.py", "', '.join(PAGE_STATE_COLUMNS)"): "PageStateRow's own dataclass field names",
    ("store/_store.py", "table"): "a fixed tuple of table names, or checked against a fixed set in count()",
    ("store/_store.py", "', '.join(columns)"): "column names read from a fixed table's cursor.description",
    ("store/_store.py", "', '.join(('?' for _ in columns))"): "one '?' per column",
    ("store/_writer.py", "int(self._settings.busy_timeout_ms)"): "an int from WriterSettings",
    ("store/_store.py", "p"): "a fixed tuple of PRAGMA names in file_pages()",
    ("store/_rollup.py", "_STAT_DDL"): "column definitions built from the constant STAT_FIELDS",
    ("store/_rollup.py", "_DAY_SUMS"): "sums over the constant STAT_FIELDS",
    ("store/_rollup.py", "columns"): "the constant STAT_FIELDS and fixed key columns",
    ("store/_rollup.py", "marks"): "one '?' per column",
    ("store/_queries.py", "_STAT_COLUMNS"): "the constant STAT_FIELDS",
    ("store/_queries.py", "_SUMS"): "sums over the constant STAT_FIELDS",
    ("store/_queries.py", "marks"): "one '?' per page id",
    ("store/_links.py", "REMOVED"): "the constant class name 'removed'",
    ("store/_links.py", "_STATE_COLUMNS"): "a constant column list",
    ("store/_links.py", "_PASS_COLUMNS"): "a constant column list",
    ("store/_links.py", "self._pass_columns"): "_PASS_COLUMNS and a fixed failure column (or '' before 0010)",
    ("store/_queries.py", "table"): "'rollup_daily' or 'rollup_monthly': any other name fails the key lookup first",
    ("store/_queries.py", "key"): "'day' or 'month', looked up by the table name",
    ("store/_queries.py", "only"): "a fixed page-kind clause, the kind as a ? parameter",
    ("store/_links.py", "table"): "a fixed tuple of table names in LinkPrune.step()",
    ("store/_integrity.py", "_FINDING_COLUMNS"): "a constant list of integrity_findings columns",
    ("store/_integrity.py", "where"): "fixed clauses joined by _filters, values as ? parameters",
    ("store/_ipv6.py", "_READING_COLUMNS"): "a constant list of ipv6_checks columns",
    ("store/_ipv6.py", "where"): "a fixed period clause and a fixed site clause, values as ? parameters",
}


def formatted_sql(tree: ast.AST) -> Iterator[tuple[str, str]]:
    """(SQL-looking template text, interpolated expression) for f-strings, .format() and %-formatting."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    yield text, ast.unparse(value.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            if isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
                yield node.func.value.value, ".format(...)"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            yield str(node.left.value), "% ..."


def test_sql_is_built_only_from_parameters_and_fixed_names() -> None:
    found = set()
    for path in sorted((REPO / "monitor").rglob("*.py")):
        for text, expression in formatted_sql(ast.parse(path.read_text(encoding="utf-8"))):
            if SQL.search(text):
                found.add((path.relative_to(REPO / "monitor").as_posix(), expression))
    unexpected = found - FIXED_SQL_PARTS.keys()
    assert not unexpected, f"SQL built from runtime values (use ? parameters, or review and list it): {unexpected}"


BUILTINS_THAT_RUN_CODE = {"eval", "exec", "compile", "__import__"}
OS_CALLS_THAT_RUN_PROGRAMS = {"system", "popen", "execv", "execve", "execvp", "spawnv", "spawnl", "posix_spawn"}
FORBIDDEN_MODULES = {"subprocess", "pickle", "marshal", "shelve", "ctypes", "js2py", "py_mini_racer", "quickjs"}
REVIEWED_IMPORTS = {
    # The read workers (issue 10, B11): a fixed command line, `python -m monitor.check._readmain`; bodies
    # go to them over a pipe and their readings come back as JSON, never pickles.
    ("_readpool.py", "subprocess"),
    # The daemon every minute and after a link sweep child ends (issues 12, 16): `malloc_trim(0)`, glibc's
    # call to return free heap pages; a constant argument, nothing fetched reaches it. (The sweep
    # child itself is started like the read workers, `python -m monitor.links._sweepmain`, through
    # asyncio, and answers in JSON lines, never pickles.)
    ("heap.py", "ctypes"),
}


def test_nothing_fetched_is_ever_executed() -> None:
    """Pages are parsed (selectolax, regexes), never run: no eval/exec, no subprocess, no JS engine."""
    problems = []
    for path in sorted((REPO / "monitor").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                forbidden = [n for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
                problems += [f"{path.name}: imports {n}" for n in forbidden if (path.name, n) not in REVIEWED_IMPORTS]
            elif isinstance(node, ast.Call) and runs_code(node.func):
                problems.append(f"{path.name}:{node.lineno}: {ast.unparse(node.func)}")
    assert problems == []


def runs_code(function: ast.expr) -> bool:
    if isinstance(function, ast.Name):
        return function.id in BUILTINS_THAT_RUN_CODE
    if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
        return function.value.id == "os" and function.attr in OS_CALLS_THAT_RUN_PROGRAMS
    return False
