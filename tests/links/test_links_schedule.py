"""monitor.links schedule: the daily slot per site (time of day, spread, DST), which passes are due
(homepage daily, sweep on its cadence, an incomplete sweep retried at the next slot), and the
runner's background passes on a real loop against a loopback site with a real SQLite file."""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor.config import parse_config
from monitor.links import HOMEPAGE, SWEEP, LinkRunner, PassOutcome, due_kinds, slot_before
from monitor.links._schedule import HOMEPAGE_PASSES_AT_ONCE, SWEEPS_AT_ONCE, LastPasses
from monitor.models import FixedClock
from monitor.store import Store
from tests.links.links_site import serving
from tests.links.test_links_passes import config_for, portal
from tests.support.sleeps import FakeSleep

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = 86400.0


def at(text: str, tz: ZoneInfo = SHANGHAI) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def test_slot_is_the_latest_local_time_of_day_plus_the_site_spread() -> None:
    assert slot_before(at("2026-03-10 02:30"), SHANGHAI, "02:00", 0) == at("2026-03-10 02:00")
    assert slot_before(at("2026-03-10 01:59"), SHANGHAI, "02:00", 0) == at("2026-03-09 02:00")
    assert slot_before(at("2026-03-10 02:30"), SHANGHAI, "02:00", 600) == at("2026-03-10 02:10")
    assert slot_before(at("2026-03-10 02:05"), SHANGHAI, "02:00", 600) == at("2026-03-09 02:10")


def test_slot_on_a_day_whose_time_does_not_exist_still_comes() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # 2026-03-29 02:30 does not exist (clocks go 02:00 -> 03:00)
    slot = slot_before(at("2026-03-29 12:00", berlin), berlin, "02:30", 0)
    assert at("2026-03-28 12:00", berlin) < slot <= at("2026-03-29 12:00", berlin)


def test_homepage_daily_sweep_on_its_cadence() -> None:
    slot, week = at("2026-03-10 02:00"), 7 * DAY
    never = LastPasses(None, None, None)
    assert due_kinds(slot + 5, slot, week, never) == [HOMEPAGE, SWEEP]
    done_today = LastPasses(slot + 5, slot + 60, slot + 60)
    assert due_kinds(slot + 3600, slot, week, done_today) == []
    yesterday = LastPasses(slot - DAY + 5, slot - DAY + 60, slot - DAY + 60)
    assert due_kinds(slot + 1, slot, week, yesterday) == [HOMEPAGE]
    a_week_ago = LastPasses(slot - DAY, slot - 7 * DAY + 60, slot - 7 * DAY + 60)
    assert due_kinds(slot + 1, slot, week, a_week_ago) == [HOMEPAGE, SWEEP]


def test_an_incomplete_sweep_is_tried_again_at_the_next_slot_not_before() -> None:
    slot, week = at("2026-03-10 02:00"), 7 * DAY
    cut_short_today = LastPasses(slot + 5, slot + 60, slot - 7 * DAY)
    assert due_kinds(slot + 3600, slot, week, cut_short_today) == []
    cut_short_yesterday = LastPasses(slot - DAY, slot - DAY + 60, slot - 8 * DAY)
    assert due_kinds(slot + 1, slot, week, cut_short_yesterday) == [HOMEPAGE, SWEEP]


def test_runner_runs_due_passes_in_the_background_once_per_slot(tmp_path: Path) -> None:
    finished: list[tuple[str, str, dict[str, int] | None]] = []

    def done(site: str, kind: str, outcome: PassOutcome | None) -> None:
        finished.append((site, kind, outcome.counts() if outcome else None))

    with serving(portal()) as base:
        config = config_for(base, tmp_path, suspect_passes=1)
        clock = FixedClock(t=at("2026-03-10 09:00"))
        store = Store.open(config.db_path)
        store.sync_pages([("bureau", "某某局", base + "/")], config.pages(), clock.now())
        store.writer.start()

        async def main() -> list[str]:
            runner = LinkRunner(config, store, clock, finished=done, sleep=FakeSleep(clock))
            runner.tick()
            running = runner.running
            while runner.running:
                await asyncio.sleep(0.01)
            assert store.writer.flush()
            runner.tick()  # the same slot: nothing more is due
            again = runner.running
            await runner.aclose()
            return running + again

        assert asyncio.run(main()) == ["bureau"]
    assert [(site, kind) for site, kind, _ in finished] == [("bureau", HOMEPAGE), ("bureau", SWEEP)]
    assert all(counts is not None and counts["broken"] == 4 for _, _, counts in finished)
    assert [p.kind for p in store.links().passes()] == [HOMEPAGE, SWEEP]


def test_runner_passes_share_one_tls_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A TLS context holds its own copy of the trust store (~0.8 MB): a province's 1,000 sites'
    first passes, all due at start, held ~0.9 GB when each pass made its own."""
    made: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    with serving(portal()) as base:
        config = config_for(base, tmp_path, suspect_passes=1)
        clock = FixedClock(t=at("2026-03-10 09:00"))
        store = Store.open(config.db_path)
        store.sync_pages([("bureau", "某某局", base + "/")], config.pages(), clock.now())
        store.writer.start()

        async def main() -> LinkRunner:
            runner = LinkRunner(config, store, clock, sleep=FakeSleep(clock))
            runner.tick()
            while runner.running:
                await asyncio.sleep(0.01)
            await runner.aclose()
            return runner

        runner = asyncio.run(main())
        assert store.writer.flush()
        assert [p.kind for p in store.links().passes()] == [HOMEPAGE, SWEEP]
        store.close()
    assert len(made) == 1
    assert runner.ssl_context(True) is made[0] is runner.ssl_context(True)
    assert runner.ssl_context(False).verify_mode == ssl.CERT_NONE


def test_a_province_start_runs_a_few_passes_and_one_sweep_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At start every site's homepage pass and sweep are due at once: 30 sites must not run 30
    passes (nor start 30 sweep children, ~240 MB each) together, but all of them do run."""
    document = {
        "storage": {"path": str(tmp_path / "monitor.db")},
        "defaults": {"links": {"spacing": 0}},
        "sites": [
            {"name": f"s{n}", "title": f"站{n}", "base_url": f"http://s{n}.example/",
             "pages": [{"name": "home", "url": "/", "kind": "homepage"}]}
            for n in range(30)
        ],
    }  # fmt: skip
    config = parse_config(document)
    in_flight = {HOMEPAGE: 0, SWEEP: 0}
    peak = {HOMEPAGE: 0, SWEEP: 0}
    ran: list[tuple[str, str]] = []

    async def fake_pass(self: LinkRunner, plan: Any) -> Any:
        in_flight[plan.kind] += 1
        peak[plan.kind] = max(peak[plan.kind], in_flight[plan.kind])
        await asyncio.sleep(0.01)
        in_flight[plan.kind] -= 1
        ran.append((plan.site, plan.kind))
        raise RuntimeError("no pass in this test")  # recorded as a failed pass, as a bug would be

    monkeypatch.setattr(LinkRunner, "_pass", fake_pass)
    store = Store.open(config.db_path)

    async def main() -> None:
        runner = LinkRunner(config, store, FixedClock(t=at("2026-03-10 09:00")))
        runner.tick()
        while runner.running:
            await asyncio.sleep(0.01)
        await runner.aclose()

    asyncio.run(main())
    store.close()
    assert peak == {HOMEPAGE: HOMEPAGE_PASSES_AT_ONCE, SWEEP: SWEEPS_AT_ONCE}
    assert sorted(ran) == sorted((f"s{n}", kind) for n in range(30) for kind in (HOMEPAGE, SWEEP))
