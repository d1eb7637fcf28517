"""`monitor links` as users run it (subprocess, real loopback site, real SQLite): a pass now, the
current state, the fix list in every format, the writer lock, one-line usage errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from monitor.store import acquire
from tests.links.links_site import LinkSite, Reply, html, serving
from tests.support.daemon_harness import REPO


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def portal() -> LinkSite:
    return LinkSite(
        {
            "/": Reply(body=html('<a href="/news/">新闻</a><a href="/gone.html">办事指南</a>', "某某局")),
            "/news/": Reply(body=html('<a href="/gone.html">旧链接</a><a href="/files/x.pdf">附件</a>', "新闻")),
        }
    )


@pytest.fixture
def site() -> Iterator[str]:
    with serving(portal()) as base:
        yield base


@pytest.fixture
def config(tmp_path: Path, site: str) -> Path:
    doc = {
        "storage": {"path": str(tmp_path / "monitor.db")},
        "defaults": {"timeout": "3s", "links": {"spacing": 0}},
        "sites": [
            {
                "name": "bureau",
                "title": "某某局",
                "base_url": site + "/",
                "pages": [{"name": "home", "url": "/", "kind": "homepage"}],
            }
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_sweep_records_a_pass_and_the_fix_list_says_where_to_fix(config: Path, site: str) -> None:
    done = monitor("links", "--sweep", "-c", str(config))
    assert done.returncode == 1, done.stderr  # broken links found
    assert done.stdout.startswith("bureau: sweep pass, 2 pages read, 4 links in ")
    assert "2 broken" in done.stdout and "\r" not in done.stderr  # no progress bar when not a terminal

    listed = monitor("links", "--broken", "--format", "json", "-c", str(config))
    assert listed.returncode == 1
    entries = json.loads(listed.stdout)
    assert [(e["url"], e["type"], e["status"], e["days_broken"]) for e in entries] == [
        (site + "/files/x.pdf", "attachment", 404, 1),
        (site + "/gone.html", "page", 404, 1),
    ]
    places = {(o["parent_url"], o["anchor_text"]) for o in entries[1]["occurrences"]}
    assert places == {(site + "/", "办事指南"), (site + "/news/", "旧链接")}

    rows = list(csv.reader(io.StringIO(monitor("links", "--broken", "--format", "csv", "-c", str(config)).stdout)))
    assert rows[0][:3] == ["site", "url", "type"] and len(rows) == 1 + 3  # one row per place

    table = monitor("links", "-c", str(config)).stdout
    assert f"bureau  ok       page       internal 200  {site}/news/" in table


def test_homepage_only_pass_checks_the_homepage_links(config: Path, site: str) -> None:
    done = monitor("links", "--sweep", "--homepage-only", "-c", str(config))
    assert done.stdout.startswith("bureau: homepage pass, 1 pages read, 3 links in "), done.stderr
    table = monitor("links", "--broken", "-c", str(config)).stdout
    assert f"on {site}/  《某某局》  “办事指南” <a href>" in table
    assert "files/x.pdf" not in table  # only the homepage's links


def test_a_running_daemon_refuses_a_sweep_in_one_line(config: Path, tmp_path: Path) -> None:
    lock = acquire(tmp_path / "monitor.db", "run")
    try:
        done = monitor("links", "--sweep", "-c", str(config))
    finally:
        lock.release()
    assert done.returncode == 2
    assert done.stderr.startswith("error: another portal-monitor") and len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--homepage-only",), "error: --homepage-only is used only with --sweep"),
        (("--site", "nope"), "error: no site named 'nope' in the config (known: bureau)"),
        (("--sweep", "--db", "x.db"), "error: --db reads another database; --sweep records into the config's database"),
    ],
)
def test_bad_usage_is_one_line(config: Path, args: tuple[str, ...], message: str) -> None:
    done = monitor("links", *args, "-c", str(config))
    assert (done.returncode, done.stderr.strip()) == (2, message)


def test_listing_before_any_pass_says_how_to_get_one(config: Path) -> None:
    assert monitor("db", "migrate", "-c", str(config)).returncode == 0
    done = monitor("links", "-c", str(config))
    assert done.returncode == 0 and "monitor links --sweep" in done.stdout
    assert monitor("links", "--broken", "-c", str(config)).stdout.strip() == "no broken links"


def test_progress_line_on_a_terminal(config: Path) -> None:
    import os
    import pty

    master, slave = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "links", "--sweep", "-c", str(config)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=slave, text=True, timeout=60,
        )  # fmt: skip
        os.close(slave)
        shown = os.read(master, 65536).decode()
    finally:
        os.close(master)
    assert done.returncode == 1
    assert "\rbureau: 1 pages read, 1 links checked" in shown and shown.endswith("\r\n")
