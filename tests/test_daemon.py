"""The daemon in-process against the simulated portal, with a clock the test can move forward.

Content tracking (new items found once, stale and blank columns, GBK pages, the V2/V3 verdicts),
catalogue discovery (columns that appear and disappear become events) and SIGHUP-style reloads.
Real HTTP, a real SQLite file and the real metrics endpoint; only "today" is the test's to move.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sqlite3
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from monitor.check import Fetcher
from monitor.cli import check_pages
from monitor.config import Config, load_config
from monitor.daemon import Daemon
from monitor.notify import Notifier
from monitor.report import site_statuses
from monitor.sim import SimPortal
from monitor.store import Store
from tests.support.daemon_harness import db_rows, sim_config, sim_pages

DAY_S = 86400.0


@dataclass
class ShiftedClock:
    """The real clock, shifted by `offset` seconds that the test may increase ("days pass")."""

    offset: float = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Running:
    daemon: Daemon
    store: Store
    config_path: Path
    db: Path

    def samples(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        assert self.daemon.listening is not None
        url = f"http://{self.daemon.listening.host}:{self.daemon.listening.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples().get((name, tuple(sorted(labels.items()))))

    async def until(self, condition: Callable[[], Any], what: str, timeout_s: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = await asyncio.to_thread(condition)
            if result:
                return result
            await asyncio.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}")


@asynccontextmanager
async def running(
    config_path: Path,
    clock: ShiftedClock,
    *,
    notifier: Notifier | None = None,
    reload_config: Callable[[], Config] | None = None,
) -> AsyncIterator[Running]:
    config = load_config(config_path)
    store = Store.open(config.db_path)
    daemon = Daemon(
        config,
        store=store,
        fetcher=Fetcher(clock=clock),
        clock=clock,
        notifier=notifier,
        reload_config=reload_config or (lambda: load_config(config_path)),
    )
    task = asyncio.create_task(daemon.run(install_signals=False))
    await asyncio.sleep(0)
    try:
        while daemon.listening is None:
            assert not task.done(), task
            await asyncio.sleep(0.02)
        yield Running(daemon, store, config_path, config.db_path)
    finally:
        daemon.request_stop("test over")
        assert await asyncio.wait_for(task, 15) == 0
        store.close()


def column(page: str, category: str, kind: str = "column") -> dict[str, str]:
    return {"site": "sim", "page": page, "kind": kind, "category": category}


CONTENT_PAGES = ("home", "gzdt", "tzgg", "hydt", "jyta", "tjxx", "tjxx-nocharset")


def test_content_is_tracked_new_items_once_stale_blank_and_verdicts(tmp_path: Path) -> None:
    clock = ShiftedClock()
    with SimPortal(clock=clock) as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, *CONTENT_PAGES))
        asyncio.run(content_scenario(config, sim, clock))


async def content_scenario(config: Path, sim: SimPortal, clock: ShiftedClock) -> None:
    async with running(config, clock) as r:
        await r.until(
            lambda: all(
                r.value("portal_column_items", **column(p, c)) is not None
                for p, c in [
                    ("gzdt", "news"),
                    ("jyta", "policy"),
                    ("tjxx", "plan"),
                    ("tjxx-nocharset", "plan"),
                    ("hydt", "news"),
                ]
            ),
            "every list read",
        )
        assert r.value("portal_column_blank", **column("jyta", "policy")) == 1
        assert r.value("portal_column_stale", **column("hydt", "news")) == 1
        assert r.value("portal_column_stale", **column("gzdt", "news")) == 0
        assert r.value("portal_column_items", **column("tjxx", "plan")) == 12
        assert r.value("portal_column_items", **column("tjxx-nocharset", "plan")) == 12
        gbk_titles = db_rows(
            r.db, "SELECT i.title FROM items i JOIN pages p ON p.id = i.page_id WHERE p.name = 'tjxx-nocharset'"
        )
        assert len(gbk_titles) == 12 and all("模拟市" in t or "年" in t for (t,) in gbk_titles), gbk_titles
        assert r.value("portal_items_new_total", **column("gzdt", "news")) == 0  # the first read is the baseline

        sim.publish("gzdt", "模拟市交通运输局召开新闻发布会")
        await r.until(lambda: r.value("portal_items_new_total", **column("gzdt", "news")) == 1, "the new item")
        await r.until(
            lambda: r.value("portal_items_new_total", **column("home", "news", "homepage")) == 1,
            "the new item on the homepage",
        )
        checks_before = r.value("portal_checks_total", site="sim", page="gzdt", kind="column", result="up") or 0
        await r.until(
            lambda: (
                (r.value("portal_checks_total", site="sim", page="gzdt", kind="column", result="up") or 0)
                >= checks_before + 3
            ),
            "three more checks",
        )
        assert r.value("portal_items_new_total", **column("gzdt", "news")) == 1  # detected once
        rows = db_rows(
            r.db,
            "SELECT i.published, i.first_seen FROM items i JOIN pages p ON p.id = i.page_id"
            " WHERE p.name = 'gzdt' AND i.title = '模拟市交通运输局召开新闻发布会'",
        )
        assert len(rows) == 1 and abs(rows[0][1] - clock.now()) < 30

        assert r.value("portal_compliance_veto", site="sim", rule="V2") == 0
        clock.advance(30 * DAY_S)  # a month without publishing anything
        assert r.value("portal_column_stale", **column("gzdt", "news")) == 1
        assert r.value("portal_column_stale", **column("home", "news", "homepage")) == 1
        assert r.value("portal_compliance_veto", site="sim", rule="V2") == 1
        assert r.value("portal_site_stale_key_columns", site="sim") == 2  # gzdt, hydt (tzgg: 180-day window)
        assert r.value("portal_site_blank_columns", site="sim") == 1

        await r.until(lambda: r.store.writer.flush(5), "writes flushed")
        reader = Store.open(r.db, readonly=True)
        status = site_statuses(load_config(config), reader, clock.now())[0]
        reader.close()
        assert [v.veto for v in status.assessment.verdicts][1:] == [True, False]
        assert {name for name, f in status.assessment.columns if f.stale} == {"gzdt", "hydt"}


def test_catalogue_discovery_monitors_columns_and_records_changes(tmp_path: Path) -> None:
    clock = ShiftedClock()
    with SimPortal(clock=clock) as sim:
        config = sim_config(
            tmp_path,
            sim,
            pages=sim_pages(sim, "catalogue"),
            site={
                "discover": True,
                "discovery": {"exclude": ["机构概况"], "columns": {"统计信息": {"category": "plan"}}},
            },
        )
        asyncio.run(discovery_scenario(config, sim))


async def discovery_scenario(config: Path, sim: SimPortal) -> None:
    async with running(config, ShiftedClock()) as r:
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 9, "8 discovered columns")
        pages = db_rows(r.db, "SELECT name, kind, category, discovered_by FROM pages WHERE removed IS NULL ORDER BY id")
        assert ("统计信息", "column", "plan", "catalogue") in pages
        assert ("工作动态", "column", "news", "catalogue") in pages
        assert not any(name == "机构概况" for name, *_ in pages)
        await r.until(
            lambda: r.value("portal_column_items", site="sim", page="工作动态", kind="column", category="news"),
            "a discovered column read",
        )

        sim.retire("hydt")
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 8, "the retired column dropped")
        await r.until(lambda: r.store.writer.flush(5), "writes flushed")
        events = db_rows(r.db, "SELECT kind, detail FROM events ORDER BY id")
        assert [k for k, _ in events].count("column_added") == 8
        assert [d for k, d in events if k == "column_removed"] == [f"行业动态 {sim.url('/xxgk/hydt/')}"]
        assert db_rows(r.db, "SELECT removed IS NOT NULL FROM pages WHERE name = '行业动态'") == [(1,)]


def test_a_column_missing_from_one_truncated_catalogue_read_is_kept(tmp_path: Path) -> None:
    """A half-written catalogue page must not retire columns: removal needs two reads in a row."""
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "catalogue"), site={"discover": True}, interval="2s")
        asyncio.run(truncated_catalogue_scenario(config, sim))


async def truncated_catalogue_scenario(config: Path, sim: SimPortal) -> None:
    def catalogue_reads() -> float:
        return r.value("portal_checks_total", site="sim", page="catalogue", kind="catalogue", result="up") or 0

    async with running(config, ShiftedClock()) as r:
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "9 discovered columns")
        sim.fault("malformed", "/xxgk/")  # cut at 3/4: six columns missing, nav links in their place
        reads = catalogue_reads()
        await r.until(lambda: catalogue_reads() > reads, "one truncated catalogue read")
        sim.fault("ok", "/xxgk/")
        assert r.value("portal_page_interval_seconds", site="sim", page="统计信息", kind="column") == 2
        reads = catalogue_reads()
        await r.until(lambda: catalogue_reads() >= reads + 2, "two whole catalogue reads")
        await r.until(lambda: r.store.writer.flush(5), "writes flushed")
        removed = [d.split()[0] for k, d in db_rows(r.db, "SELECT kind, detail FROM events") if k == "column_removed"]
        originals = {c.name for c in sim.site.live_columns()}
        assert originals.isdisjoint(removed), removed
        monitored = {n for (n,) in db_rows(r.db, "SELECT name FROM pages WHERE removed IS NULL")}
        assert originals <= monitored


def test_reload_adds_removes_and_reschedules_and_rejects_a_bad_config(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home", "gzdt"), interval="1s")
        asyncio.run(reload_scenario(config, sim))


async def reload_scenario(config: Path, sim: SimPortal) -> None:
    async with running(config, ShiftedClock()) as r:
        await r.until(
            lambda: r.value("portal_last_check_timestamp_seconds", site="sim", page="gzdt", kind="column"),
            "gzdt checked",
        )
        document = yaml.safe_load(config.read_text(encoding="utf-8"))
        original = config.read_text(encoding="utf-8")

        config.write_text("sites: [", encoding="utf-8")
        r.daemon.reload()
        assert r.value("portal_monitor_config_reloads_total", result="rejected") == 1
        assert r.value("portal_monitor_pages", site="sim") == 2

        config.write_text(original, encoding="utf-8")
        pages = document["sites"][0]["pages"]
        pages[:] = [p for p in pages if p["name"] != "gzdt"] + [
            {"name": "tzgg", "url": sim.url("/xxgk/tzgg/"), "kind": "column", "interval": "2h"}
        ]
        pages[0]["interval"] = "5m"
        config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        r.daemon.reload()
        assert r.value("portal_monitor_config_reloads_total", result="applied") == 1
        assert r.value("portal_page_interval_seconds", site="sim", page="home", kind="homepage") == 300
        assert r.value("portal_page_interval_seconds", site="sim", page="tzgg", kind="column") == 7200
        assert r.value("portal_page_interval_seconds", site="sim", page="gzdt", kind="column") is None
        await r.until(
            lambda: r.value("portal_last_check_timestamp_seconds", site="sim", page="tzgg", kind="column"),
            "the added page checked",
        )
        await r.until(lambda: r.store.writer.flush(5), "writes flushed")
        kept = db_rows(r.db, "SELECT count(*) FROM checks c JOIN pages p ON p.id = c.page_id WHERE p.name = 'gzdt'")
        assert kept[0][0] >= 1  # history of the removed page is kept
        assert db_rows(r.db, "SELECT removed IS NOT NULL FROM pages WHERE name = 'gzdt'") == [(1,)]


def test_a_reload_that_raises_anything_is_rejected_counted_and_ready_follows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`storage.path: ~nosuchuser/x.db` once raised out of the SIGHUP callback: no "reload rejected",
    no count, and systemd left in RELOADING. Any exception from reading the config is a rejection."""
    with (
        SimPortal() as sim,
        tempfile.TemporaryDirectory(dir="/tmp") as short,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd,
    ):
        systemd.bind(f"{short}/notify")
        systemd.setblocking(False)
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), interval="1h")
        caplog.set_level(logging.INFO, logger="monitor.daemon")
        asyncio.run(rejected_reloads(config, Notifier(address=f"{short}/notify")))
        states = [m for m in received(systemd) if m.startswith(("READY", "RELOADING"))]
    assert [m.split("\n")[0] for m in states] == ["READY=1", *["RELOADING=1", "READY=1"] * 2]
    rejected = [r.getMessage() for r in caplog.records if "reload rejected" in r.getMessage()]
    assert rejected == [
        "reload rejected, keeping the running config: storage.path: cannot expand '~nosuchuser':"
        " no such user, or no home directory",
        "reload rejected, keeping the running config: RuntimeError: a bug while reading the config",
    ]


async def rejected_reloads(config_path: Path, notifier: Notifier) -> None:
    broken = False

    def reload_config() -> Config:
        if broken:
            raise RuntimeError("a bug while reading the config")
        return load_config(config_path)

    async with running(config_path, ShiftedClock(), notifier=notifier, reload_config=reload_config) as r:
        document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        document["storage"]["path"] = "~nosuchuser/x.db"
        config_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        r.daemon.reload()
        assert r.value("portal_monitor_config_reloads_total", result="rejected") == 1
        broken = True
        r.daemon.reload()
        assert r.value("portal_monitor_config_reloads_total", result="rejected") == 2
        assert r.value("portal_monitor_pages", site="sim") == 1


def received(sock: socket.socket) -> list[str]:
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except BlockingIOError:
            return messages


def test_stop_is_clean_and_the_first_check_runs_at_start(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), interval="1h")

        async def scenario() -> None:
            async with running(config, ShiftedClock()) as r:
                await r.until(
                    lambda: r.value("portal_last_check_timestamp_seconds", site="sim", page="home", kind="homepage"),
                    "the first check at start",
                )

        asyncio.run(scenario())
    runs = db_rows(tmp_path / "monitor.db", "SELECT stopped IS NOT NULL, stop_reason FROM monitor_runs")
    assert runs == [(1, "test over")]


def test_the_status_line_says_each_fact_once(tmp_path: Path) -> None:
    """The STATUS= line systemd shows: page count and outages, then "ok", without the health reason
    repeating the page count ("1 pages, 0 in outage; ok; 1 pages" before)."""
    with (
        SimPortal() as sim,
        tempfile.TemporaryDirectory(prefix="nfy") as short,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd,
    ):
        address = str(Path(short) / "notify.sock")  # AF_UNIX paths are limited to 107 bytes
        systemd.bind(address)
        systemd.settimeout(0.5)
        config_path = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), interval="1h")
        config = load_config(config_path)
        store = Store.open(config.db_path)
        clock = ShiftedClock()
        daemon = Daemon(config, store=store, fetcher=Fetcher(clock=clock), clock=clock, notifier=Notifier(address))

        async def scenario() -> list[str]:
            task = asyncio.create_task(daemon.run(install_signals=False))
            statuses: list[str] = []
            deadline = time.monotonic() + 20
            while not statuses and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    message = (await asyncio.to_thread(systemd.recv, 4096)).decode()
                    statuses += [line for line in message.splitlines() if line.startswith("STATUS=")]
            daemon.request_stop("test over")
            assert await asyncio.wait_for(task, 15) == 0
            return statuses

        try:
            statuses = asyncio.run(scenario())
        finally:
            store.close()
    assert statuses[0] == "STATUS=1 pages, 0 in outage; ok"


# ---- discovered columns survive one-shot commands, toggles and restarts ----------------------------


def discovering_config(tmp_path: Path, sim: SimPortal, **discovery: Any) -> Path:
    site: dict[str, Any] = {"discover": True, "discovery": discovery} if discovery else {"discover": True}
    return sim_config(tmp_path, sim, pages=sim_pages(sim, "catalogue"), site=site)


def monitored_columns(db: Path) -> set[str]:
    return {n for (n,) in db_rows(db, "SELECT name FROM pages WHERE discovered_by IS NOT NULL AND removed IS NULL")}


def rewrite(config: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    change(document["sites"][0])
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def test_check_record_between_runs_keeps_the_discovered_columns(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = discovering_config(tmp_path, sim)
        asyncio.run(record_between_runs_scenario(config))


async def record_between_runs_scenario(config: Path) -> None:
    async with running(config, ShiftedClock()) as r:
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "9 discovered columns")
    store = Store.open(load_config(config).db_path)
    outcomes = await check_pages(load_config(config), load_config(config).pages(), store)  # check --record
    assert [o.page.name for o in outcomes] == ["catalogue"]
    assert len(monitored_columns(tmp_path_of(config))) == 9  # not retired by the one-shot command
    async with running(config, ShiftedClock()) as r:
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "the columns after a restart")


def tmp_path_of(config: Path) -> Path:
    return config.parent / "monitor.db"


def test_a_catalogue_out_of_step_with_the_database_is_read_again_at_start(tmp_path: Path) -> None:
    """A database whose columns an older version retired (its catalogue remembered as unchanged)."""
    with SimPortal() as sim:
        config = discovering_config(tmp_path, sim)
        asyncio.run(out_of_step_scenario(config))


async def out_of_step_scenario(config: Path) -> None:
    async with running(config, ShiftedClock()) as r:
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "9 discovered columns")
    with sqlite3.connect(tmp_path_of(config)) as conn:  # what `check --record` left before this fix
        conn.execute("UPDATE pages SET removed = 1 WHERE discovered_by IS NOT NULL")
    conn.close()
    async with running(config, ShiftedClock()) as r:
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "the columns found again")
        await r.until(lambda: r.store.writer.flush(5), "writes flushed")
        assert len(monitored_columns(r.db)) == 9


def test_turning_discovery_off_and_on_by_reload_brings_the_columns_back(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = discovering_config(tmp_path, sim)
        asyncio.run(toggle_scenario(config))


async def toggle_scenario(config: Path) -> None:
    async with running(config, ShiftedClock()) as r:
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "9 discovered columns")
        rewrite(config, lambda site: site.update(discover=False))
        r.daemon.reload()
        assert r.value("portal_monitor_pages", site="sim") == 1
        rewrite(config, lambda site: site.update(discover=True))
        r.daemon.reload()
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "the columns back after the toggle")
    async with running(config, ShiftedClock()) as r:  # and after a restart
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "the columns after a restart")


def test_exclude_applies_to_columns_already_discovered(tmp_path: Path) -> None:
    with SimPortal() as sim:
        config = discovering_config(tmp_path, sim)
        asyncio.run(exclude_scenario(config))


async def exclude_scenario(config: Path) -> None:
    def gzdt_pages() -> float | None:
        return r.value("portal_page_interval_seconds", site="sim", page="工作动态", kind="column")

    async with running(config, ShiftedClock()) as r:
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "9 discovered columns")
        rewrite(config, lambda site: site.setdefault("discovery", {}).update(exclude=["工作动态"]))
        r.daemon.reload()
        assert (r.value("portal_monitor_pages", site="sim"), gzdt_pages()) == (9, None)  # at once, on reload
        rewrite(config, lambda site: site.setdefault("discovery", {}).update(exclude=[]))
        r.daemon.reload()
        await r.until(lambda: r.value("portal_monitor_pages", site="sim") == 10, "the column back when allowed")
    rewrite(config, lambda site: site.setdefault("discovery", {}).update(exclude=["统计信息"]))
    async with running(config, ShiftedClock()) as r:  # on restart
        assert r.value("portal_monitor_pages", site="sim") == 9
        reads = r.value("portal_checks_total", site="sim", page="catalogue", kind="catalogue", result="up") or 0
        await r.until(
            lambda: (
                (r.value("portal_checks_total", site="sim", page="catalogue", kind="catalogue", result="up") or 0)
                > reads + 1
            ),
            "two catalogue reads",
        )
        assert r.value("portal_monitor_pages", site="sim") == 9
        assert "统计信息" not in monitored_columns(r.db)


@pytest.mark.timing
def test_first_checks_are_spread_from_when_the_start_up_lets_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """600 pages, and a start-up that holds the event loop 2 s after the jobs are made (at 20,000
    pages, config, database and link scheduling took seconds): the first checks still start at most
    STARTUP_RATE a second, counted from when the loop is free, not ~400 at once for the 2 s lost."""
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), interval="1h")
        rewrite(config, lambda site: site["pages"].extend(
            {"name": f"p{n}", "url": f"/?n={n}", "kind": "column"} for n in range(600)
        ))  # fmt: skip
        started: list[float] = []

        async def check_job(self: Daemon, key: tuple[str, str], attempt: int = 0) -> None:
            started.append(time.monotonic())

        real_start_server = Daemon._start_server

        def slow_start_server(self: Daemon) -> None:
            time.sleep(2.0)  # the rest of a large start-up, holding the loop
            real_start_server(self)

        monkeypatch.setattr(Daemon, "_check_job", check_job)
        monkeypatch.setattr(Daemon, "_start_server", slow_start_server)

        async def scenario() -> None:
            async with running(config, ShiftedClock()):
                deadline = time.monotonic() + 30
                while len(started) < 400 and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)

        asyncio.run(scenario())
    assert len(started) >= 400
    first = min(started)
    in_first_half_second = sum(1 for t in started if t - first < 0.5)
    assert in_first_half_second <= 0.5 * 200 + 20, in_first_half_second
