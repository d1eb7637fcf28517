"""Issue 13 §2 with the link work: a lapsed domain linked only from a column page (not the homepage)
is found by the link passes' site sweep, looked up by the integrity sweep and becomes a high
`lapsed_domain` finding that names the column page; a new outside domain there is an event.

In-process daemon with its LinkRunner (real HTTP on 127.0.0.1, real SQLite); the only fake is the
DNS resolver (NXDOMAIN for the sim's lapsed `.invalid` partner, a timeout for everything else).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from monitor.check import Fetcher
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.links import LinkRunner
from monitor.models import SystemClock
from monitor.sim import SimPortal
from monitor.store import Store
from tests.support.daemon_harness import db_rows, sim_config, sim_pages
from tests.system.test_integrity_daemon import LAPSED, fake_resolver, open_findings, until

COLUMN = "/xxgk/gzdt/"


def config_with_links(tmp_path: Path, sim: SimPortal) -> Path:
    links = {"enabled": True, "homepage_at": "00:00", "max_depth": 1, "max_pages": 20, "spacing": 0}
    path = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), interval="1h", defaults={"links": links})
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["integrity"] = {"sweep_interval": "1s", "lookups_per_sweep": 5}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_a_lapsed_domain_linked_from_a_column_page_is_found_through_the_link_sweep(tmp_path: Path) -> None:
    with SimPortal() as sim:
        sim.fault("integrity:lapsed_domain", COLUMN)  # the column links it; the homepage does not
        asyncio.run(scenario(config_with_links(tmp_path, sim), sim))


async def scenario(config_path: Path, sim: SimPortal) -> None:
    config = load_config(config_path)
    store = Store.open(config.db_path)
    asked: list[str] = []
    clock = SystemClock()
    links = LinkRunner(config, store, clock)
    daemon = Daemon(
        config, store=store, fetcher=Fetcher(clock=clock), clock=clock, resolver=fake_resolver(asked), links=links
    )
    task = asyncio.create_task(daemon.run(install_signals=False))
    try:
        db = config.db_path
        wanted = ("lapsed_domain", "high", "nxdomain", LAPSED)
        await until(lambda: wanted in open_findings(db), "the lapsed domain of the column page", timeout_s=60)
        [(evidence,)] = db_rows(db, "SELECT evidence FROM integrity_findings WHERE kind = 'lapsed_domain'")
        assert sim.url(COLUMN) in evidence and "the homepage" not in evidence
        # The link checker counted the same link broken ("the domain does not resolve"): one broken
        # link in 链接可用性 and one finding here, the two measures of docs/integrity.md.
        broken = "SELECT url, reason FROM link_state WHERE class = 'broken' AND url LIKE '%lapsed-partner%'"
        assert [reason for _, reason in db_rows(db, broken)] == ["the domain does not resolve"]
    finally:
        daemon.request_stop("test over")
        assert await asyncio.wait_for(task, 15) == 0
        store.close()
