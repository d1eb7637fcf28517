"""daemon.py's integrity settings: read once at start; a reload that changes them says so."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from monitor.check import Fetcher
from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.integrity import Kind, Resolution, SiteState
from monitor.models import ErrorKind, FixedClock, Page, ProbeResult, Result
from monitor.sim import SimPortal
from monitor.store import Store, load_findings


def document(tmp_path: Path, **integrity: Any) -> dict[str, Any]:
    site = {"name": "bureau", "title": "某某局", "base_url": "http://bureau.example/"}
    site["pages"] = [{"name": "home", "url": "/", "kind": "homepage"}]
    return {"storage": {"path": str(tmp_path / "monitor.db")}, "sites": [site], "integrity": integrity}


def test_a_reload_changing_integrity_settings_warns_they_need_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(tmp_path / "monitor.db")
    clock = FixedClock()
    daemon = Daemon(parse_config(document(tmp_path)), store=store, fetcher=Fetcher(clock=clock), clock=clock)
    with caplog.at_level(logging.WARNING, logger="monitor.daemon"):
        daemon._warn_restart_only(parse_config(document(tmp_path)))
        assert "integrity settings changed" not in caplog.text
        daemon._warn_restart_only(parse_config(document(tmp_path, sweep_interval="2h")))
    assert "integrity settings changed: they take effect at the next restart" in caplog.text
    store.close()


# -- the sweep: a sweep without evidence either way resolves nothing ------------------------------

LAPSED = "lapsed-partner.invalid"


class RefusingForVisitor:
    """The real fetcher, except that requests carrying `header` get a timeout (the visitor has no usable visit)."""

    def __init__(self, inner: Fetcher, header: str) -> None:
        self.inner, self.header, self.refusing = inner, header, False

    async def fetch(self, page: Page, *, etag: str | None = None, last_modified: str | None = None) -> ProbeResult:
        if self.refusing and any(name == self.header for name, _ in page.headers):
            return ProbeResult(page.url, 0.0, Result.DOWN, ErrorKind.TIMEOUT, "timed out")
        return await self.inner.fetch(page, etag=etag, last_modified=last_modified)


def sweeping_daemon(tmp_path: Path, sim: SimPortal, fetcher: RefusingForVisitor, answers: dict[str, Resolution]):
    site = {"name": "sim", "title": "模拟局", "base_url": sim.base_url}
    site["pages"] = [{"name": "home", "url": "/", "kind": "homepage"}]
    config = parse_config({"storage": {"path": str(tmp_path / "monitor.db")}, "sites": [site]})
    store = Store.open(config.db_path)
    store.sync_pages([("sim", "模拟局", sim.base_url)], config.pages(), 0.0)
    store.writer.start()
    clock = FixedClock(t=1_000.0)
    daemon = Daemon(
        config, store=store, fetcher=fetcher, clock=clock, resolver=lambda d: answers.get(d, Resolution.UNKNOWN)
    )
    daemon._integrity = daemon._integrity_work()
    return daemon, store, clock, config.pages()[0]


def open_sweep_findings(store: Store) -> set[tuple[str, str]]:
    assert store.writer.flush()
    return {
        (row.tracked.finding.kind.value, row.tracked.finding.technique)
        for row in load_findings(store, open_only=True)
        if row.tracked.finding.kind in (Kind.LAPSED_DOMAIN, Kind.CLOAKING)
    }


def test_a_sweep_without_evidence_either_way_leaves_open_findings_open(tmp_path: Path) -> None:
    """A lapsed domain whose lookup times out, and a cloaking visitor whose visit fails, keep their
    findings open; an answer that the domain resolves, or the visitor's clean page, resolves them."""
    answers = {LAPSED: Resolution.NXDOMAIN}
    lapsed, cloaked = ("lapsed_domain", "nxdomain"), ("cloaking", "search_referer:offsite")
    with SimPortal() as sim:
        fetcher = RefusingForVisitor(Fetcher(clock=FixedClock()), "Referer")
        daemon, store, clock, home = sweeping_daemon(tmp_path, sim, fetcher, answers)
        assert daemon._integrity is not None
        site_id = store.site_ids()["sim"]
        daemon._integrity.tracker.states[site_id] = SiteState(linked=frozenset({LAPSED}))  # what the homepage links
        sim.fault("integrity:referer_cloak", "/")

        async def sweeps() -> list[set[tuple[str, str]]]:
            seen = []
            for step in ("open", "timeouts", "clean"):
                if step == "timeouts":
                    answers[LAPSED], fetcher.refusing = Resolution.UNKNOWN, True
                if step == "clean":
                    answers[LAPSED], fetcher.refusing = Resolution.RESOLVES, False
                    sim.fault("ok", "/")
                clock.t += 2 * 86_400.0  # past any cached answer: every sweep asks again
                await daemon._integrity.sweep(home)
                seen.append(open_sweep_findings(store))
            return seen

        opened, timeouts, cleaned = asyncio.run(sweeps())
    store.close()
    assert {lapsed, cloaked} <= opened
    assert {lapsed, cloaked} <= timeouts  # no evidence either way: still open
    assert not {lapsed, cloaked} & cleaned
