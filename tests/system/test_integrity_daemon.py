"""Issue 13 end to end: the real daemon checks the simulated portal's homepage, and each integrity
signal the portal injects (`integrity:SIGNAL`, `hidden_links`) becomes a stored finding or event,
with metrics, and goes away (resolved) when the portal is clean again.

In-process daemon (real HTTP on 127.0.0.1, real SQLite, real read workers); the only fake is the
DNS resolver, which answers NXDOMAIN for the sim's lapsed `.invalid` partner and UNKNOWN (a
timeout) for everything else, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from monitor.check import Fetcher
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.integrity import Resolution
from monitor.models import SystemClock
from monitor.sim import SimPortal
from monitor.store import Store
from tests.support.daemon_harness import db_rows, sim_config, sim_pages

LAPSED = "lapsed-partner.invalid"


def fake_resolver(asked: list[str]) -> Callable[[str], Resolution]:
    def resolve(domain: str) -> Resolution:
        asked.append(domain)
        return Resolution.NXDOMAIN if domain == LAPSED else Resolution.UNKNOWN

    return resolve


def config_with_integrity(tmp_path: Path, sim: SimPortal) -> Path:
    path = sim_config(tmp_path, sim, pages=sim_pages(sim, "home"), site={"site_code": "0000000000"})
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["integrity"] = {"sweep_interval": "1s"}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def metrics(daemon: Daemon) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    assert daemon.listening is not None
    url = f"http://{daemon.listening.host}:{daemon.listening.port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def until(condition: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = await asyncio.to_thread(condition)
        if result:
            return result
        await asyncio.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def open_findings(db: Path) -> set[tuple[str, str, str, str]]:
    rows = db_rows(db, "SELECT kind, level, technique, target FROM integrity_findings WHERE resolved_at IS NULL")
    return {(str(a), str(b), str(c), str(d)) for a, b, c, d in rows}


def test_every_injected_signal_is_found_stored_and_resolved(tmp_path: Path) -> None:
    with SimPortal() as sim:
        asyncio.run(scenario(config_with_integrity(tmp_path, sim), sim))


async def scenario(config_path: Path, sim: SimPortal) -> None:
    config = load_config(config_path)
    store = Store.open(config.db_path)
    asked: list[str] = []
    clock = SystemClock()
    daemon = Daemon(config, store=store, fetcher=Fetcher(clock=clock), clock=clock, resolver=fake_resolver(asked))
    task = asyncio.create_task(daemon.run(install_signals=False))
    try:
        while daemon.listening is None:
            assert not task.done(), task
            await asyncio.sleep(0.02)
        await steps(daemon, config.db_path, sim, asked)
    finally:
        daemon.request_stop("test over")
        assert await asyncio.wait_for(task, 15) == 0
        store.close()


async def signal_found(db: Path, sim: SimPortal, fault: str, wanted: tuple[str, str, str, str]) -> None:
    """Inject `fault` on the homepage, wait for the open finding, clean the page, wait for it to resolve."""
    sim.fault(fault, "/")
    await until(lambda: wanted in open_findings(db), f"{wanted} open after {fault}")
    sim.fault("ok", "/")
    await until(lambda: wanted not in open_findings(db), f"{wanted} resolved after {fault} went")


async def steps(daemon: Daemon, db: Path, sim: SimPortal, asked: list[str]) -> None:
    await until(lambda: db_rows(db, "SELECT count(*) FROM integrity_state")[0][0] == 1, "the homepage baseline")
    assert not any(level == "high" for _, level, _, _ in open_findings(db))  # the clean sim portal
    home = sim.url("/")
    await signal_found(db, sim, "hidden_links", ("hidden_link", "high", "display_none", "casino-portal.invalid"))
    await signal_found(db, sim, "integrity:tampered_title", ("title_changed", "high", "spam_title", "title"))
    await signal_found(db, sim, "integrity:foreign_script", ("new_script_domain", "high", "new_script", "203.0.113.7"))
    sim.fault("integrity:no_site_code", "/")
    gone = ("identity_missing", "high", "disappeared", "site_code")
    await until(lambda: gone in open_findings(db), "the 标识码 gone")
    samples = await asyncio.to_thread(metrics, daemon)
    assert samples[("portal_identity_element_present", (("element", "site_code"), ("site", "sim")))] == 0
    high = (("kind", "identity_missing"), ("level", "high"), ("site", "sim"))
    assert samples[("portal_integrity_findings_open", high)] == 1
    sim.fault("ok", "/")
    await until(lambda: gone not in open_findings(db), "the 标识码 back")

    sim.fault("integrity:new_domain", "/")
    events = "SELECT kind, page, target FROM integrity_events WHERE kind = 'new_domain'"
    await until(lambda: ("new_domain", home, "new-partner.invalid") in db_rows(db, events), "the new-domain event")
    # The lookup runs on the integrity sweep, not the page check: wait for it before the page changes.
    await until(lambda: "new-partner.invalid" in asked, "the sweep looking the new domain up")
    sim.fault("integrity:lapsed_domain", "/")
    await until(lambda: ("lapsed_domain", "high", "nxdomain", LAPSED) in open_findings(db), "the lapsed domain")
    # new-partner.invalid was looked up and answered UNKNOWN (a timeout): never a finding.
    assert not any(target == "new-partner.invalid" for *_, target in open_findings(db))
    sim.fault("integrity:referer_cloak", "/")
    cloaked = ("cloaking", "high", "search_referer:offsite", "casino-portal.invalid")
    await until(lambda: cloaked in open_findings(db), "referrer cloaking")
    sim.fault("ok", "/")
    await until(lambda: cloaked not in open_findings(db), "cloaking resolved")
    evidence = db_rows(db, "SELECT evidence FROM integrity_findings WHERE kind = 'cloaking'")[0][0]
    assert "casino-portal.invalid" in evidence
    # The crawler User-Agent and the phone variants, each alone, found and resolved the same way.
    await signal_found(db, sim, "integrity:crawler_cloak", ("cloaking", "high", "crawler:spam_text", "澳门威尼斯人"))
    await signal_found(
        db, sim, "integrity:mobile_cloak", ("cloaking", "high", "mobile:offsite", "casino-portal.invalid")
    )
