"""monitor.links sweeps in a child process: recorded as a sweep on the loop records them, every
request the child makes waits for the daemon's own host budget, a stop kills the child and leaves
the pass incomplete, and a child that fails or talks nonsense fails the pass; any pass writes its
rows in bounded batches, each committed before the next is submitted. Real child processes,
real loopback servers, real SQLite files, a fixed clock."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from monitor.check import HostBudget, HostLimits
from monitor.links import SWEEP, LinkCache, Outcome, PassOutcome, SweepChildError, pass_plan, sweep_in_child
from monitor.links import _passes as passes_module
from monitor.links._isolated import _converse, _Lender
from monitor.links._sweepworker import plan_to_json
from monitor.store import LinkResultsWritten, Store, WriteOp
from tests.links.links_site import LinkSite, Reply, html, serving
from tests.links.test_links_passes import DAY, Passes, config_for, portal
from tests.support.paths import REPO
from tests.support.sleeps import FakeSleep


def in_child(passes: Passes, budget: HostBudget | None = None, cache: LinkCache | None = None) -> PassOutcome:
    """One sweep of the one site in a child process, recorded through `passes.store`."""
    site = passes.config.sites[0]
    plan = pass_plan(passes.config, site, SWEEP)
    store, clock, cache = passes.store, passes.clock, cache or LinkCache()

    async def main() -> PassOutcome:
        lent = budget or HostBudget(concurrency=2, spacing_s=0.0, clock=clock, sleep=FakeSleep(clock))
        return await sweep_in_child(plan, budget=lent, cache=cache, store=store, clock=clock, submit=store.submit)

    outcome = asyncio.run(main())
    assert store.writer.flush()
    passes.clock.advance(DAY)
    return outcome


def children() -> list[int]:
    """This process's live child processes."""
    pid = os.getpid()
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_sweep_in_a_child_records_what_a_sweep_on_the_loop_records(tmp_path: Path) -> None:
    (tmp_path / "loop").mkdir()
    (tmp_path / "child").mkdir()
    with serving(portal()) as base:
        loop = Passes(config_for(base, tmp_path / "loop", suspect_passes=2))
        child = Passes(config_for(base, tmp_path / "child", suspect_passes=2))
        expected = [loop.run(SWEEP), loop.run(SWEEP)]
        got = [in_child(child), in_child(child)]
    assert [o.counts() for o in got] == [o.counts() for o in expected]
    assert got[1].counts()["broken"] == 4  # /flaky.html, suspect twice in a row, escalated by the child
    assert child.state() == loop.state()
    recorded = [child.store.links().passes(), loop.store.links().passes()]
    assert [(p.links, p.occurrences, p.counts, p.pages_read, p.completed) for p in recorded[0]] == [
        (p.links, p.occurrences, p.counts, p.pages_read, p.completed) for p in recorded[1]
    ]
    (where,) = child.store.links().occurrences(recorded[0][1].id, base + "/img/none.png")
    assert (where.parent_url, where.anchor_text, where.element) == (base + "/", "图", "img")
    first_pass = recorded[0][0].started  # the child's clock is the daemon's (a fixed one here, moved by
    broken = child.store.links().states(classes=["broken"])  # the seconds the child took)
    assert sorted(round((row.broken_since or 0) - first_pass) // 60 for row in broken) == [0, 0, 0, 1440]
    assert children() == []


class StartsBudget(HostBudget):
    """The daemon's budget, noting when (on its clock) each link check got its slot, per host."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.starts: dict[str, list[float]] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        async with super().slot(host):
            self.starts.setdefault(host, []).append(self._clock.monotonic())
            yield


def test_every_request_of_the_child_waits_for_the_daemons_budget(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        clock = passes.clock
        budget = StartsBudget(concurrency=1, spacing_s=2.0, clock=clock, sleep=FakeSleep(clock))
        in_child(passes, budget)
    requests = len(site.log)
    assert requests >= 6  # every URL of the site, some with HEAD then GET
    starts = budget.starts["127.0.0.1"]
    assert len(starts) == requests  # every request had a slot of the daemon's budget
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 2.0  # one start every 2 s at most
    assert budget.waited_s("127.0.0.1") >= 2.0 * (requests - 1)
    assert "localhost" not in budget.starts  # refused before any request: no slot asked


def test_the_childs_requests_are_link_checks_of_the_shared_budget(tmp_path: Path) -> None:
    """The host allows 3 requests in flight, link checks 1 of them: the child's sweep (its crawl
    runs several workers) never has more than one request out, whatever it asks for."""
    site = portal()
    site.routes["/col/news.html"] = Reply(body=html('<a href="/gone.html">旧文</a>'), delay_s=0.3)
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path, concurrency=4))
        clock = passes.clock
        limits = {"127.0.0.1": HostLimits(concurrency=3, link_concurrency=1, spacing_s=0.0)}
        budget = HostBudget(limits=limits, clock=clock, sleep=FakeSleep(clock))
        outcome = in_child(passes, budget)
    assert outcome.links == 6 and len(site.log) >= 6
    assert budget.peak_in_flight("127.0.0.1") == 1


def test_a_page_check_goes_before_the_childs_queued_link_checks(tmp_path: Path) -> None:
    """One slot for the host: a page check asked for while the child's link check is out gets the
    slot when that one ends, before any link check the child has queued meanwhile."""
    site = portal()
    site.routes["/col/news.html"] = Reply(body=html('<a href="/gone.html">旧文</a>'), delay_s=0.5)
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path, concurrency=4))
        plan = pass_plan(passes.config, passes.config.sites[0], SWEEP)
        store = passes.store
        limits = {"127.0.0.1": HostLimits(concurrency=1, link_concurrency=1, spacing_s=0.0)}
        budget = HostBudget(limits=limits, clock=passes.clock, sleep=FakeSleep(passes.clock))

        async def main() -> tuple[int, int]:
            sweeping = asyncio.ensure_future(
                sweep_in_child(
                    plan, budget=budget, cache=LinkCache(), store=store, clock=passes.clock, submit=store.submit
                )
            )
            while not site.requests("/col/news.html"):
                await asyncio.sleep(0.01)
            asked = len(site.log)  # /col/news.html is out (0.5 s), the child's other checks queue
            async with budget.page_slot("127.0.0.1"):
                granted = len(site.log)
            await sweeping
            return asked, granted

        asked, granted = asyncio.run(main())
        assert store.writer.flush()
    assert granted == asked  # no link check of the child started between the ask and the grant
    assert len(site.log) > granted  # the sweep went on after the page check


def test_a_sweep_in_a_child_whose_homepage_fails_is_not_completed(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path, suspect_passes=1))
        site.routes["/"] = Reply(500, html("error"))
        outcome = in_child(passes)
    assert outcome.failure is not None and "homepage could not be read (HTTP 500" in outcome.failure
    assert outcome.counts()["broken"] == outcome.counts()["suspect"] == 0
    assert passes.state() == {}  # the homepage is not a broken (nor a suspect) link of itself
    (recorded,) = passes.store.links().passes("bureau", SWEEP)
    assert (recorded.completed, recorded.links, recorded.counts["broken"]) == (False, 0, 0)
    assert children() == []


def test_a_parent_page_failing_in_a_child_sweep_removes_nothing(tmp_path: Path) -> None:
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        in_child(passes)
        assert passes.state()["/gone.html"] == "broken"
        # /col/news.html (the only other parent of /gone.html) now fails, and the homepage
        # no longer links /gone.html: the sweep cannot tell whether the link is still there.
        site.routes["/col/news.html"] = Reply(503, html("busy"))
        home = site.routes["/"]
        site.routes["/"] = Reply(body=home.body.replace(b'<a href="/gone.html">', b'<a href="/col/news.html">'))
        outcome = in_child(passes)
    assert outcome.failure is None and outcome.sweep.partial and outcome.recorded.partial
    state = passes.state()
    assert state["/gone.html"] == "broken" and state["/col/news.html"] == "suspect"
    assert passes.store.links().fixed("bureau", 0.0, passes.clock.now()) == 0
    (_, recorded) = passes.store.links().passes("bureau", SWEEP)
    assert recorded.completed


def test_a_stopped_sweep_kills_its_child_and_stays_incomplete(tmp_path: Path) -> None:
    site = portal()
    site.routes["/col/news.html"] = Reply(body=html("slow"), delay_s=30.0)
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        plan = pass_plan(passes.config, passes.config.sites[0], SWEEP)
        store = passes.store

        async def stopped() -> list[int]:
            budget = HostBudget(concurrency=2, spacing_s=0.0, clock=passes.clock)
            task = asyncio.ensure_future(
                sweep_in_child(
                    plan, budget=budget, cache=LinkCache(), store=store, clock=passes.clock, submit=store.submit
                )
            )
            while not site.requests("/col/news.html"):
                await asyncio.sleep(0.02)
            running = children()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return running

        assert len(asyncio.run(stopped())) == 1
        assert store.writer.flush()
    assert children() == []
    last = store.links().last_pass("bureau", SWEEP)
    assert last is not None and not last.completed and last.ended is None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([b'{"error": "StoreError: cannot use database"}\n'], "sweep child failed: StoreError: cannot use database"),
        ([b'{"rows": [["only", "two"]]}\n'], "sweep child said something unexpected: ValueError"),
        ([b"not json\n"], "sweep child said something unexpected: JSONDecodeError"),
        ([b'{"acquire": [1, "127.0.0.1"]}\n'], "sweep child ended without finishing the sweep"),
    ],
)
def test_a_child_that_fails_or_talks_nonsense_fails_the_pass(tmp_path: Path, lines: list[bytes], message: str) -> None:
    config = config_for("http://127.0.0.1:9", tmp_path)
    plan = pass_plan(config, config.sites[0], SWEEP)
    store = Store.open(config.db_path)

    async def main() -> None:
        reader = asyncio.StreamReader()
        for line in lines:
            reader.feed_data(line)
        reader.feed_eof()
        budget = HostBudget(concurrency=1, spacing_s=0.0)
        lender = _Lender(budget, lambda message: None)
        try:
            await _converse(reader, lender, budget, LinkCache(), plan, 0.0, store, store.submit)
        finally:
            await lender.aclose()

    with pytest.raises(SweepChildError) as failed:
        asyncio.run(main())
    assert str(failed.value) == message


def test_a_pass_writes_its_rows_in_bounded_batches_each_committed_before_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passes_module, "RESULTS_PER_BATCH", 2)
    with serving(portal()) as base:
        passes = Passes(config_for(base, tmp_path))
        store = passes.store
        submitted: list[tuple[int, int]] = []  # (rows in the batch, rows already in the database)
        real_submit = store.submit

        def submit(ops: Iterable[WriteOp]) -> None:
            for op in ops:
                if isinstance(op, LinkResultsWritten):
                    submitted.append((len(op.results), store.query("SELECT count(*) FROM link_results")[0][0]))
            real_submit(ops)

        monkeypatch.setattr(store, "submit", submit)
        outcome = passes.run(SWEEP)
    sizes = [size for size, _ in submitted]
    assert sum(sizes) == outcome.links == 6 and max(sizes) <= 2
    assert [already for _, already in submitted] == [sum(sizes[:n]) for n in range(len(sizes))]
    (recorded,) = store.links().passes()
    assert (recorded.links, recorded.counts, recorded.completed) == (6, outcome.counts(), True)
    assert recorded.occurrences == 7  # counted from the stored rows by the closing operation


def test_the_child_uses_and_feeds_the_daemons_cache_of_external_results(tmp_path: Path) -> None:
    """An external URL is checked once a day across sites: the child starts from the daemon's
    fresh external results and hands back the ones it checked."""
    cached, new = "http://localhost:9/cached.html", "http://localhost:9/new.html"
    site = LinkSite({"/": Reply(body=html(f'<a href="{cached}">已查过</a><a href="{new}">新的</a>'))})
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        cache = LinkCache()
        cache.put(cached, passes.clock.now() - 3600, Outcome(status=404, method="HEAD"))
        in_child(passes, cache=cache)
    rows = {row.url: row for row in passes.store.links().states()}
    assert (rows[cached].status, rows[cached].link_class) == (404, "suspect")  # the daemon's answer, not asked again
    fresh = cache.get(new, passes.clock.now() - DAY)
    assert fresh is not None and fresh[1].refused is not None  # localhost is not this site's: refused, and cached
    assert rows[new].link_class == "excluded"


def test_the_child_waits_for_grants_ignores_sigterm_and_ends_when_the_daemon_is_gone(tmp_path: Path) -> None:
    """systemd's stop signals every process of the unit: the child leaves stopping to the daemon,
    and ends by itself when the daemon's end of the pipe closes (a daemon killed outright)."""
    site = portal()
    with serving(site) as base:
        passes = Passes(config_for(base, tmp_path))
        plan = pass_plan(passes.config, passes.config.sites[0], SWEEP)
        request = {"plan": plan_to_json(plan), "db": str(passes.store.path), "clock_offset_s": 0.0, "cache": []}
        with subprocess.Popen(
            [sys.executable, "-m", "monitor.links._sweepmain"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        ) as child:
            assert child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write(json.dumps(request).encode() + b"\n")
                child.stdin.flush()
                asked = json.loads(child.stdout.readline())
                child.send_signal(signal.SIGTERM)
                with pytest.raises(subprocess.TimeoutExpired):
                    child.wait(0.5)  # no grant, no request: it waits, and SIGTERM did not end it
                child.stdin.close()
                assert child.wait(10) == 1
            finally:
                child.kill()
    assert asks_for_a_slot(asked)
    assert site.log == []  # nothing was requested without a slot


def asks_for_a_slot(asked: dict[str, list[object]]) -> bool:
    """The child's first line asks the daemon's budget for a slot of the site's host."""
    return list(asked) == ["acquire"] and asked["acquire"][1] == "127.0.0.1"
