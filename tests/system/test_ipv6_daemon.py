"""Issue 13 §5 end to end: the real daemon reads the simulated portal's homepage over IPv6 (the sim
listening on [::1] as well as 127.0.0.1) on `ipv6.interval`, stores the readings in their own series,
exports them, and turns an IPv6 front serving other content into an `ipv6_inconsistent` finding that
resolves when the two agree again. IPv6 failures never touch the checks behind V1 and uptime.

In-process daemon (real HTTP, real SQLite, real read workers); the only fake is DNS: `localhost` has
the AAAA record ::1 (its A record, 127.0.0.1, comes from /etc/hosts), so nothing leaves the machine.
Skipped, with the reason, where the machine cannot listen on ::1.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import yaml

from monitor.check import Fetcher, Ipv6Prober
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.integrity import AaaaAnswer
from monitor.models import SystemClock
from monitor.sim import SimPortal, ipv6_loopback
from monitor.store import LinkPassRecorded, LinkResultRow, Store
from tests.support.daemon_harness import db_rows, sim_config, sim_pages
from tests.system.test_integrity_daemon import metrics, until

NO_IPV6 = ipv6_loopback()
pytestmark = pytest.mark.skipif(bool(NO_IPV6), reason=f"no IPv6 loopback on this machine: {NO_IPV6}")


def localhost_aaaa(host: str) -> AaaaAnswer:
    return AaaaAnswer(("::1",)) if host == "localhost" else AaaaAnswer()


def config_with_ipv6(tmp_path: Path, sim: SimPortal) -> Path:
    path = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"))
    named = f"localhost:{sim.port}"
    text = path.read_text(encoding="utf-8").replace(f"127.0.0.1:{sim.port}", named)
    document = yaml.safe_load(text)
    document["ipv6"] = {"enabled": True, "interval": "1s"}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def readings(db: Path) -> list[tuple[str, str, object]]:
    rows = db_rows(db, "SELECT state, error_kind, consistent FROM ipv6_checks ORDER BY id")
    return [(str(a), str(b), c) for a, b, c in rows]


def open_ipv6_findings(db: Path) -> set[tuple[str, str]]:
    sql = "SELECT technique, level FROM integrity_findings WHERE kind = 'ipv6_inconsistent' AND resolved_at IS NULL"
    return {(str(a), str(b)) for a, b in db_rows(db, sql)}


def test_ipv6_series_consistency_finding_and_v1_untouched(tmp_path: Path) -> None:
    with SimPortal(ipv6=True) as sim:
        asyncio.run(scenario(config_with_ipv6(tmp_path, sim), sim))


async def scenario(config_path: Path, sim: SimPortal) -> None:
    config = load_config(config_path)
    store = Store.open(config.db_path)
    clock = SystemClock()
    prober = Ipv6Prober(resolver=localhost_aaaa, clock=clock)
    daemon = Daemon(config, store=store, fetcher=Fetcher(clock=clock), clock=clock, ipv6=prober)
    task = asyncio.create_task(daemon.run(install_signals=False))
    try:
        while daemon.listening is None:
            assert not task.done(), task
            await asyncio.sleep(0.02)
        await steps(daemon, config.db_path, sim)
        await link_share(daemon, store, config.db_path, sim)
    finally:
        daemon.request_stop("test over")
        assert await asyncio.wait_for(task, 15) == 0
        store.close()


async def steps(daemon: Daemon, db: Path, sim: SimPortal) -> None:
    site = (("site", "sim"),)
    await until(lambda: ("ok", "", 1) in readings(db), "an IPv6 reading, consistent with IPv4")
    samples = await asyncio.to_thread(metrics, daemon)
    assert samples[("portal_ipv6_aaaa_present", site)] == 1
    assert samples[("portal_ipv6_up", site)] == 1
    assert samples[("portal_ipv6_consistent", site)] == 1
    assert samples[("portal_ipv6_success_ratio_24h", site)] == 1.0

    sim.fault("ipv6:different")
    await until(lambda: ("content", "low") in open_ipv6_findings(db), "the IPv6 front's other page found")
    samples = await asyncio.to_thread(metrics, daemon)
    assert samples[("portal_ipv6_consistent", site)] == 0
    assert samples[("portal_integrity_findings_open", (("kind", "ipv6_inconsistent"), ("level", "low"), *site))] == 1

    checks_before = db_rows(db, "SELECT count(*) FROM checks")[0][0]
    sim.fault("ipv6:refuse")
    await until(lambda: readings(db)[-3:] == [("down", "connect", None)] * 3, "three refused IPv6 readings")
    # Not compared while IPv6 fails: the finding stays open, neither resolved nor seen again.
    assert ("content", "low") in open_ipv6_findings(db)
    samples = await asyncio.to_thread(metrics, daemon)
    assert samples[("portal_ipv6_up", site)] == 0
    assert 0 < samples[("portal_ipv6_success_ratio_24h", site)] < 1
    # IPv4 checks went on, all up: IPv6 failures are not visits, V1 and uptime do not see them.
    failed = db_rows(db, "SELECT count(*) FROM checks c JOIN result_names r ON r.code = c.result WHERE r.name != 'up'")
    assert failed[0][0] == 0 and db_rows(db, "SELECT count(*) FROM checks")[0][0] > checks_before
    assert samples[("portal_homepage_unavailable_ratio_7d", site)] == 0
    home = [v for (name, labels), v in samples.items() if name == "portal_probe_success" and ("page", "home") in labels]
    success = home
    assert success == [1]

    sim.fault("ipv6:same")
    await until(lambda: not open_ipv6_findings(db), "the finding resolved when IPv4 and IPv6 agree again")
    samples = await asyncio.to_thread(metrics, daemon)
    assert samples[("portal_ipv6_consistent", site)] == 1


async def link_share(daemon: Daemon, store: Store, db: Path, sim: SimPortal) -> None:
    """With link passes stored (internal pages found ok), each reading reads them over IPv6 too."""
    base = f"http://localhost:{sim.port}"
    now = time.time()
    rows = tuple(
        LinkResultRow(base + path, "internal", "page", "ok", "ok", 200, None, "", now, 0.1, 0, now, None, 1)
        for path in ("/xxgk/gzdt/", "/xxgk/tzgg/", "/gone/")
    )
    store.submit([LinkPassRecorded("sim", "homepage", now - 60, now, True, False, 1, rows)])
    sql = "SELECT links_checked, links_ok FROM ipv6_checks ORDER BY id DESC LIMIT 1"
    await until(lambda: db_rows(db, sql) == [(3, 2)], "the internal links read over IPv6 (one is a 404)")
    samples = await asyncio.to_thread(metrics, daemon)
    assert samples[("portal_ipv6_internal_links_reachable_ratio", (("site", "sim"),))] == 2 / 3
