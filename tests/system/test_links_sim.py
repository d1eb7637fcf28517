"""Link availability end to end against the simulated portal with its dead links: `monitor links
--sweep` (the real CLI, real SQLite) finds every kind of fault the portal has, and the real daemon
runs the daily pass in the background and exports it (no per-link labels)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.sim import SimPortal
from tests.support.daemon_harness import REPO, RunningDaemon, sim_config, sim_pages

LINKS = {"spacing": 0, "max_depth": 1, "max_pages": 40}


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[SimPortal]:
    with SimPortal(dead_links=True) as portal:
        yield portal


def test_homepage_pass_finds_every_kind_of_dead_link(sim: SimPortal, tmp_path: Path) -> None:
    config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), defaults={"links": LINKS})
    busy_before = len(sim.hits("/links/busy.html"))
    done = monitor("links", "--sweep", "--homepage-only", "-c", str(config))
    assert done.returncode == 1, done.stderr
    listed = monitor("links", "--format", "json", "-c", str(config))
    by_path = {row["url"].removeprefix(sim.base_url.rstrip("/")): row for row in json.loads(listed.stdout)}
    verdicts = {path: (row["class"], row["type"], row["scope"]) for path, row in by_path.items()}
    assert verdicts["/xxgk/old/t20190301_1.html"] == ("broken", "page", "internal")
    assert verdicts["/uploads/2019/bszn.pdf"] == ("broken", "attachment", "internal")
    assert verdicts["/uploads/2019/banner.jpg"] == ("broken", "image", "internal")
    assert verdicts["/images/logo.png"] == ("broken", "image", "internal")
    assert verdicts["/zt/2019cyzt/"] == ("soft_404", "page", "internal")
    assert verdicts["http://www.mnsjtj-old.invalid/"] == ("broken", "page", "external")
    assert verdicts["/xxgk/gzdt/"][0] == "ok"
    # The hostile link targets (HOSTILE_LINKS): none of them is a dead link.
    assert verdicts["/links/head405.html"] == ("ok", "page", "internal")  # HEAD 405, GET 200
    assert verdicts["/links/head501.pdf"] == ("ok", "attachment", "internal")  # HEAD 501, ranged GET
    assert verdicts["/links/head404.html"] == ("ok", "page", "internal")  # HEAD answers a wrong status
    for path in ("/links/busy.html", "/links/rs412.html", "/links/jsl521.html", "/links/challenge.html"):
        assert verdicts[path][0] == "blocked", path
    slow = by_path["/links/slow.html"]
    assert (slow["class"], slow["status"], slow["reason"]) == ("suspect", None, "no answer within 2s")  # a timeout
    # 429 with Retry-After: 2, asked three times (two retries), each retry at least 2 s after the answer
    # before it (the back-off alone would wait 1 s first), within the cap.
    busy = sim.hits("/links/busy.html")[busy_before:]
    assert len(busy) == 3 and all(later - earlier >= 1.9 for earlier, later in itertools.pairwise(busy)), busy
    fix = json.loads(monitor("links", "--broken", "--format", "json", "-c", str(config)).stdout)
    old = next(e for e in fix if e["url"].endswith("/t20190301_1.html"))
    assert [(o["parent_title"], o["anchor_text"]) for o in old["occurrences"]] == [
        ("模拟市交通运输局", "2019年春运工作安排（旧链接）")
    ]


def test_the_daemon_runs_the_passes_in_the_background_and_exports_them(sim: SimPortal, tmp_path: Path) -> None:
    config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home", "gzdt"), interval="1s", defaults={"links": LINKS})
    with RunningDaemon(config) as daemon:
        ended = daemon.wait_for(
            lambda: daemon.value("portal_link_pass_last_timestamp_seconds", site="sim", kind="sweep"),
            timeout_s=60,
            what="a homepage pass and a sweep",
        )
        broken = daemon.value("portal_links", site="sim", kind="homepage", result="broken")
        soft = daemon.value("portal_links", site="sim", kind="homepage", result="soft_404")
        completed = daemon.value("portal_link_pass_completed", site="sim", kind="sweep")
        checks = daemon.value("portal_probe_success", site="sim", page="home", kind="homepage")
        # Page checks share each host's budget with the passes: how late they got to send, observed.
        sent = daemon.value("portal_monitor_check_send_lag_seconds_count")
        started = daemon.value("portal_monitor_scheduler_lag_seconds_count")
        daemon.terminate()
    assert ended and broken == 6 and soft == 1 and completed == 1 and checks == 1
    assert sent and started and sent <= started


def test_an_unreachable_homepage_is_an_availability_failure_not_broken_links(tmp_path: Path) -> None:
    with SimPortal(dead_links=True) as down:
        down.fault("503", "/")
        config = sim_config(tmp_path, down, pages=sim_pages(down, "home"), defaults={"links": LINKS})
        with RunningDaemon(config) as daemon:
            daemon.wait_for(
                lambda: daemon.value("portal_link_pass_completed", site="sim", kind="homepage") == 0,
                timeout_s=30,
                what="a homepage pass that could not complete",
            )
            broken = daemon.value("portal_links", site="sim", kind="homepage", result="broken")
            up = daemon.value("portal_probe_success", site="sim", page="home", kind="homepage")
            daemon.terminate()
        swept = monitor("links", "--sweep", "--homepage-only", "-c", str(config))
    assert up == 0 and not broken
    assert (
        swept.returncode == 1
        and "homepage pass not completed: the homepage could not be read (HTTP 503" in swept.stdout
    )
    listed = json.loads(monitor("links", "--format", "json", "-c", str(config)).stdout)
    assert listed == []  # the homepage is not its own broken (or suspect) link
