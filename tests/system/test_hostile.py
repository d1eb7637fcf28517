"""Hostile pages (issue 10, B11): reading any page is bounded, and never on the daemon's event loop.

Pages of several shapes go through `monitor extract`, through the read workers with a small budget,
and through the real daemon next to ordinary pages: /healthz stays 200, the other pages keep
their schedule, SIGTERM stops it promptly.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import yaml

from monitor.check import Previous, ReadPool, judge_body
from monitor.models import ErrorKind, ExtractKind, Page, PageKind, ProbeResult, Result
from monitor.sim import SimPortal
from monitor.store import Store, migrate_file
from tests.support.daemon_harness import REPO, RunningDaemon, db_rows, sim_config, sim_pages
from tests.support.hostile_pages import SHAPES, PageServer, deep_divs, nested_lists

TODAY = date(2026, 1, 1)
EXTRACT_LIMIT_S = 10.0
"""A 300 KB page of any shape reads in a few seconds (quadratic code took 15 s to minutes)."""


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_extract_reads_a_hostile_page_in_bounded_time(tmp_path: Path, shape: str) -> None:
    path = tmp_path / f"{shape}.html"
    path.write_bytes(SHAPES[shape](300_000))
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "extract", str(path), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert json.loads(run.stdout)["kind"] in {"list", "other"}
    assert elapsed < EXTRACT_LIMIT_S, f"{shape}: {elapsed:.1f}s"


def probe_of(body: bytes) -> ProbeResult:
    return ProbeResult(
        "http://127.0.0.1/col/", 0.0, Result.UP, status=200, body=body, content_type="text/html; charset=utf-8"
    )


def test_a_body_past_the_read_budget_is_up_and_too_complex_and_its_worker_replaced() -> None:
    page = Page("s", "col", "http://127.0.0.1/col/", PageKind.COLUMN)
    pool = ReadPool(workers=1, budget_s=0.5)

    async def scenario() -> list[tuple[float, object]]:
        timed = []
        for body in (deep_divs(2_000_000), nested_lists(20_000), deep_divs(2_000_000)):
            started = time.monotonic()
            outcome = await pool.judge(page, probe_of(body), Previous(), TODAY)
            timed.append((time.monotonic() - started, outcome))
        return timed

    try:
        (slow, hostile), (_, normal), (again_s, again) = asyncio.run(scenario())
    finally:
        pool.close()
    assert (hostile.result, hostile.error_kind) == (Result.UP, ErrorKind.TOO_COMPLEX)  # type: ignore[attr-defined]
    assert hostile.extraction.kind is ExtractKind.OTHER  # type: ignore[attr-defined]
    assert hostile.content_hash is None  # type: ignore[attr-defined]
    assert "too complex" in hostile.error  # type: ignore[attr-defined]
    assert slow < 5.0
    assert normal.error_kind is None and len(normal.extraction.items) > 100  # type: ignore[attr-defined]
    assert again.error_kind is ErrorKind.TOO_COMPLEX and again_s < 0.3  # type: ignore[attr-defined]


def test_a_worker_reads_a_body_as_this_process_does() -> None:
    """The JSON round trip loses nothing: items, dates, columns, content problems, plain pages."""
    column = Page("s", "col", "http://127.0.0.1/col/", PageKind.COLUMN)
    plain = Page("s", "page", "http://127.0.0.1/p/", PageKind.PAGE)
    soft404 = "<html><head><title>页面不存在</title></head><body>404</body></html>".encode()
    binary = b"\x00\x01" * 99
    cases = [(column, nested_lists(30_000)), (column, soft404), (plain, nested_lists(5_000)), (column, binary)]
    pool = ReadPool(workers=1)

    async def scenario() -> list[object]:
        return [await pool.judge(page, probe_of(body), Previous(), TODAY) for page, body in cases]

    try:
        from_worker = asyncio.run(scenario())
    finally:
        pool.close()
    assert from_worker == [judge_body(page, probe_of(body), Previous(), TODAY) for page, body in cases]


def test_migration_names_the_new_error_kind(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    migrate_file(db)
    Store.open(db).close()
    assert db_rows(db, "SELECT name FROM error_kind_names WHERE code = 12") == [("too_complex",)]
    # A database from before the kind existed: 0005 adds the name.
    import sqlite3

    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM error_kind_names WHERE code = 12")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0005_error_kind_too_complex'")
    conn.close()
    assert migrate_file(db) == ["0005_error_kind_too_complex"]
    assert db_rows(db, "SELECT name FROM error_kind_names WHERE code = 12") == [("too_complex",)]


def hostile_config(tmp_path: Path, sim: SimPortal, server: PageServer, paths: list[str]) -> Path:
    """The sim's ordinary pages every second, plus a second site of hostile columns."""
    config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home", "gzdt"))
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["sites"].append(
        {
            "name": "hostile",
            "title": "敌意站点",
            "base_url": server.base_url + "/",
            "discover": False,
            "pages": [{"name": path.strip("/"), "url": path, "kind": "column"} for path in paths],
        }
    )
    config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config


def health_latencies(daemon: RunningDaemon, seconds: float) -> list[tuple[int, float]]:
    """(status, seconds) of /healthz asked every half second for `seconds`."""
    answers = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        status, _ = daemon.get("/healthz")
        answers.append((status, time.monotonic() - started))
        time.sleep(0.5)
    return answers


@pytest.mark.timing
def test_daemon_stays_responsive_while_hostile_pages_are_checked(tmp_path: Path) -> None:
    cap = 5 * 1024 * 1024 - 4096
    bodies = {"/deep/": deep_divs(cap), "/lists/": nested_lists(cap)}
    with SimPortal() as sim, PageServer(bodies) as server:
        config = hostile_config(tmp_path, sim, server, list(bodies))
        with RunningDaemon(config) as daemon:
            answers = health_latencies(daemon, 24.0)
            unreadable = daemon.value("portal_page_unreadable", site="hostile", page="deep", kind="column")
            code, took = daemon.terminate()
    log = daemon.log()
    assert code == 0 and took < 10.0, log[-3000:]
    assert "Traceback" not in log
    assert all(status == 200 for status, _ in answers), answers
    assert max(latency for _, latency in answers) < 2.0, answers
    db = tmp_path / "monitor.db"
    per_page = dict(
        db_rows(
            db,
            "SELECT pages.name, count(*) FROM checks JOIN pages ON pages.id = checks.page_id GROUP BY pages.name",
        )
    )
    assert per_page.get("gzdt", 0) >= 12, per_page  # every second for ~24 s, a read or two delayed
    complex_rows = db_rows(db, "SELECT result FROM checks WHERE error_kind = 12")
    assert complex_rows and {row[0] for row in complex_rows} == {0}  # up (code 0), content unknown
    assert unreadable == 1
