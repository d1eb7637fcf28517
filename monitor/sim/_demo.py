"""`monitor demo`: the whole product in under a minute, without internet.

Starts the simulated portal (with dead links on its homepage), writes a config for it, generates a
month of history through the store (outages, blips, a daemon stop, stale and blank columns), runs the
real daemon against the portal for a few seconds while the homepage goes down and comes back with
hidden gambling links injected (暗链, issue 13; its link passes run meanwhile), then prints status,
the report and the integrity findings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor.check import Fetcher, HostBudget
from monitor.config import Config, load_config
from monitor.daemon import Daemon
from monitor.links import LinkRunner
from monitor.models import Page, SystemClock
from monitor.report import (
    build_report,
    parse_period,
    render,
    render_findings,
    render_status,
    site_statuses,
    write_file,
)
from monitor.sim._history import HistorySpec, generate, site_pages
from monitor.sim._portal import SimPortal
from monitor.store import Store, load_findings

SITE = "demo"
TITLE = "示例市交通运输局（演示）"
SIM_PATHS = ("/", "/xxgk/", "/xxgk/gzdt/", "/xxgk/tzgg/", "/xxgk/hydt/", "/xxgk/jggk/", "/xxgk/rsxx/",
             "/xxgk/ghjh/", "/xxgk/jyta/", "/xxgk/zcwj/")  # fmt: skip
"""Where each generated page lives on the simulated portal, in `history.site_pages` order, so the live
checks continue the generated history: the columns the history lets go stale read columns whose newest
item is older than their window (政策文件 the portal's 200-day-old column, 媒体聚焦, a news column, the
plan column whose newest item is 20 days old or more), the one it leaves blank (规划计划) the blank
column. One URL per page: two pages on one URL would be one page checked twice."""


@dataclass(frozen=True)
class DemoPlan:
    workdir: Path
    days: int = 30
    live_s: float = 20.0
    outage_s: float = 6.0


def run_demo(plan: DemoPlan, say: Callable[[str], None]) -> None:
    """Everything `monitor demo` does; `say` prints a line for the user."""
    plan.workdir.mkdir(parents=True, exist_ok=True)
    with SimPortal(dead_links=True) as sim:
        say(f"simulated portal: {sim.base_url}")
        spec = HistorySpec(
            start=time.time() - plan.days * 86400, days=plan.days, site=SITE, title=TITLE, base_url=sim.base_url, seed=7
        )
        config_path = write_config(plan.workdir, sim, spec)
        config = load_config(config_path)
        say(f"config: {config_path}\ndatabase: {config.db_path}")
        _generate(config, spec, say)
        asyncio.run(_live(config, sim, plan, say))
    _summary(config, plan, say)


def write_config(workdir: Path, sim: SimPortal, spec: HistorySpec) -> Path:
    """A config whose pages are the generated ones, pointed at the simulated portal."""
    pages = [_entry(page, sim.url(path)) for page, path in zip(site_pages(spec), SIM_PATHS, strict=True)]
    document = {
        "timezone": spec.timezone,
        "storage": {"path": "monitor.db"},
        "metrics": {"listen": "127.0.0.1:0"},
        "defaults": {
            "interval": "3s",
            "timeout": "2s",
            "retry_delay": "1s",
            "jitter": 0,
            # The portal is simulated on this machine: no pause between link requests, a shallow sweep.
            "links": {"spacing": 0, "max_depth": 1, "max_pages": 40},
        },
        "sites": [{"name": SITE, "title": TITLE, "base_url": sim.base_url, "discover": False, "pages": pages}],
    }
    path = workdir / "config.yaml"
    path.write_text(
        "# Written by `monitor demo` for the simulated portal.\n"
        + yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def _entry(page: Page, url: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": page.name, "url": url, "kind": page.kind.value}
    if page.category is not None:
        entry["category"] = page.category.value
    if page.tags:
        entry["tags"] = list(page.tags)
    return entry


def _generate(config: Config, spec: HistorySpec, say: Callable[[str], None]) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{config.db_path}{suffix}").unlink(missing_ok=True)
    store = Store.open(config.db_path)
    try:
        made = generate(store, spec)
    finally:
        store.close()
    say(
        f"generated {spec.days:g} days of history: {made.checks} checks, {made.outages} outages, "
        f"{made.blips} blips, {made.items} items"
    )


async def _live(config: Config, sim: SimPortal, plan: DemoPlan, say: Callable[[str], None]) -> None:
    """The real daemon for `live_s` seconds; the homepage goes down in the middle."""
    store = Store.open(config.db_path)
    clock = SystemClock()
    budget = HostBudget(clock=clock)  # one per host, shared by page and link checks
    links = LinkRunner(config, store, clock, budget=budget)
    daemon = Daemon(config, store=store, fetcher=Fetcher(clock=clock, budget=budget), clock=clock, links=links)
    logging.getLogger("monitor").setLevel(logging.INFO)
    sim.fault("hidden_links", "/")  # 暗链 in the homepage from the start: the integrity findings
    task = asyncio.create_task(daemon.run(install_signals=False))
    try:
        await _wait_listening(daemon, task)
        assert daemon.listening is not None
        say(f"daemon running: http://{daemon.listening.host}:{daemon.listening.port}/metrics")
        say(await _first_link_pass(store))
        say("the homepage carries hidden gambling links (暗链), as on a hacked portal")
        quiet = max(0.0, (plan.live_s - plan.outage_s) / 2)
        await asyncio.sleep(quiet)
        say(f"taking the homepage down for {plan.outage_s:g} s ...")
        sim.fault("503", "/")
        await asyncio.sleep(plan.outage_s)
        sim.fault("hidden_links", "/")
        say("homepage back up")
        await asyncio.sleep(quiet)
    finally:
        daemon.request_stop("demo over")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, 15)
        store.close()


LINK_PASS_WAIT_S = 30.0
"""How long the demo waits at most for the daemon's first homepage link pass before the outage (its
hostile links: a slow one timing out with retries, a rate-limited one honouring Retry-After, take ~10 s)."""


async def _first_link_pass(store: Store) -> str:
    """Wait for the first homepage link pass (the daemon starts it a second after start), so the
    outage that follows does not hide the homepage's links from it; one line saying what it found."""
    deadline = time.monotonic() + LINK_PASS_WAIT_S
    while time.monotonic() < deadline:
        done = store.links().last_pass(SITE, "homepage", completed=True)
        if done is not None:
            return f"homepage links checked: {done.counts['broken']} broken of {done.links} (monitor links --broken)"
        await asyncio.sleep(0.1)
    return "homepage links: still being checked"


async def _wait_listening(daemon: Daemon, task: asyncio.Task[int]) -> None:
    while daemon.listening is None:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)


def _summary(config: Config, plan: DemoPlan, say: Callable[[str], None]) -> None:
    now = time.time()
    store = Store.open(config.db_path, readonly=True)
    try:
        say("\n== monitor status ==\n" + render_status(site_statuses(config, store, now)))
        period = parse_period(tz_name=config.raw.timezone, now=now, last=f"{plan.days}d")
        built = build_report(store, period, now=now, configured=config.pages())
        say(f"\n== monitor report --last {plan.days}d ==\n" + render(built, "table"))
        say("\n== monitor report --format zh ==\n" + render(built, "zh"))
        rows = load_findings(store, open_only=True)
        say("\n== monitor findings --open ==\n" + render_findings(rows, "table", config.timezone))
        for fmt in ("xlsx", "html"):
            path = plan.workdir / f"report.{fmt}"
            write_file(built, fmt, path)
            say(f"{'workbook' if fmt == 'xlsx' else 'printable page'}: {path}")
    finally:
        store.close()
    say(
        f"\nEverything is in {plan.workdir}: run `monitor report -c {config.source} --format json`, "
        f"`monitor status -c {config.source}`, or query {config.db_path} with sqlite3 (views: docs/reports.md)."
    )
