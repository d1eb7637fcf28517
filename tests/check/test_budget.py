"""monitor.check HostBudget: concurrency and spacing per host, back-off pauses, page checks first, on a fixed clock."""

from __future__ import annotations

import asyncio

import pytest

from monitor.check import HostBudget, HostLimits, host_limits
from monitor.config import parse_config
from monitor.models import FixedClock
from tests.support.sleeps import FakeSleep


def _budget(**kwargs: object) -> tuple[HostBudget, FixedClock, FakeSleep]:
    clock = FixedClock()
    sleep = FakeSleep(clock)
    return HostBudget(clock=clock, sleep=sleep, **kwargs), clock, sleep  # type: ignore[arg-type]


def test_requests_to_one_host_start_spacing_apart_and_other_hosts_do_not_wait() -> None:
    budget, clock, _ = _budget(concurrency=4, spacing_s=0.5)
    starts: list[tuple[str, float]] = []

    async def one(host: str) -> None:
        async with budget.slot(host):
            starts.append((host, clock.monotonic()))

    async def main() -> None:
        await asyncio.gather(*(one("a.gov.cn") for _ in range(3)), one("b.gov.cn"))

    asyncio.run(main())
    a_times = [t - 1000.0 for host, t in starts if host == "a.gov.cn"]
    assert a_times == pytest.approx([0.0, 0.5, 1.0])
    assert budget.waited_s("b.gov.cn") == 0.0


def test_concurrency_caps_requests_in_flight_per_host() -> None:
    budget, _, _ = _budget(concurrency=2, spacing_s=0.0)
    in_flight, peak = [0], [0]

    async def one() -> None:
        async with budget.slot("h"):
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            await asyncio.sleep(0.01)
            in_flight[0] -= 1

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(6)))

    asyncio.run(main())
    assert peak[0] == 2


def test_back_off_pauses_every_request_to_the_host() -> None:
    budget, _, sleep = _budget(concurrency=1, spacing_s=0.0)

    async def main() -> None:
        budget.back_off("h", 30.0)
        async with budget.slot("h"):
            pass
        async with budget.slot("other"):
            pass

    asyncio.run(main())
    assert sleep.calls == [30.0]


def test_limits_override_one_host() -> None:
    budget, _, sleep = _budget(concurrency=10, spacing_s=0.0, limits={"slow.gov.cn": HostLimits(1, 1, 2.0)})

    async def main() -> None:
        for _ in range(2):
            async with budget.slot("SLOW.gov.cn"):
                pass
            async with budget.slot("fast.gov.cn"):
                pass

    asyncio.run(main())
    assert sleep.calls == [2.0]


def test_bad_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="concurrency must be >= 1"):
        HostBudget(concurrency=0)


def test_a_page_check_takes_the_next_free_slot_ahead_of_queued_link_checks() -> None:
    budget, _, _ = _budget(concurrency=1, spacing_s=0.0)
    order: list[str] = []

    async def link(n: int, hold: asyncio.Event | None = None) -> None:
        async with budget.slot("h"):
            order.append(f"link{n}")
            if hold is not None:
                await hold.wait()

    async def page() -> None:
        async with budget.page_slot("h"):
            order.append("page")

    async def main() -> None:
        hold = asyncio.Event()
        first = asyncio.create_task(link(0, hold))
        await asyncio.sleep(0)
        queued = [asyncio.create_task(link(n)) for n in (1, 2)]
        await asyncio.sleep(0)
        visit = asyncio.create_task(page())
        await asyncio.sleep(0)
        hold.set()
        await asyncio.gather(first, *queued, visit)

    asyncio.run(main())
    assert order == ["link0", "page", "link1", "link2"]


def test_page_checks_do_not_wait_for_the_spacing_or_a_link_back_off() -> None:
    budget, _, sleep = _budget(concurrency=2, spacing_s=5.0)

    async def main() -> None:
        budget.back_off("h", 60.0)
        for _ in range(3):
            async with budget.page_slot("h"):
                pass

    asyncio.run(main())
    assert sleep.calls == []


def test_a_page_check_start_counts_for_the_link_checks_spacing() -> None:
    budget, _, sleep = _budget(concurrency=2, spacing_s=1.0)

    async def main() -> None:
        async with budget.page_slot("h"):
            pass
        async with budget.slot("h"):
            pass

    asyncio.run(main())
    assert sleep.calls == [1.0]


def test_link_checks_keep_to_their_share_and_the_reserved_slot_stays_free_for_pages() -> None:
    budget, _, _ = _budget(limits={"h": HostLimits(concurrency=3, link_concurrency=2, spacing_s=0.0)})
    links_in, peak, page_waited = [0], [0], [True]

    async def link() -> None:
        async with budget.slot("h"):
            links_in[0] += 1
            peak[0] = max(peak[0], links_in[0])
            await asyncio.sleep(0.01)
            links_in[0] -= 1

    async def page() -> None:
        await asyncio.sleep(0.002)  # while two link checks are in flight and four are queued
        started = asyncio.get_running_loop().time()
        async with budget.page_slot("h"):
            page_waited[0] = asyncio.get_running_loop().time() - started > 0.005

    async def main() -> None:
        await asyncio.gather(*(link() for _ in range(6)), page())

    asyncio.run(main())
    assert peak[0] == 2 and not page_waited[0]
    assert budget.peak_in_flight("h") == 3


def test_a_cancelled_waiter_gives_its_place_to_the_next() -> None:
    budget, _, _ = _budget(concurrency=1, spacing_s=0.0)
    done: list[str] = []

    async def hold_then(name: str, hold: asyncio.Event | None) -> None:
        async with budget.slot("h"):
            if hold is not None:
                await hold.wait()
            done.append(name)

    async def main() -> None:
        hold = asyncio.Event()
        first = asyncio.create_task(hold_then("first", hold))
        await asyncio.sleep(0)
        page = asyncio.create_task(budget.page_slot("h").__aenter__())
        gone = asyncio.create_task(hold_then("gone", None))
        last = asyncio.create_task(hold_then("last", None))
        await asyncio.sleep(0)
        page.cancel()  # a page check given up while queued must not keep link checks waiting
        gone.cancel()
        hold.set()
        await asyncio.gather(first, last, page, gone, return_exceptions=True)

    asyncio.run(main())
    assert done == ["first", "last"]


def test_reconfiguring_changes_the_limits_of_known_hosts_in_place() -> None:
    budget, _, sleep = _budget(concurrency=2, spacing_s=0.0)

    async def main() -> None:
        async with budget.slot("h"):
            pass
        budget.configure({"h": HostLimits(2, 1, 3.0)})
        async with budget.slot("h"):
            pass
        async with budget.slot("h"):
            pass

    asyncio.run(main())
    assert sleep.calls == [3.0]


def test_host_limits_keep_one_slot_of_each_host_for_page_checks() -> None:
    config = parse_config(
        {
            "defaults": {"per_host_concurrency": 3, "links": {"concurrency": 5, "spacing": "200ms"}},
            "sites": [
                {
                    "name": "a",
                    "title": "A",
                    "base_url": "http://a.gov.cn/",
                    "allowed_hosts": ["cdn.gov.cn"],
                    "pages": [{"name": "h", "url": "/"}],
                },
                {
                    "name": "b",
                    "title": "B",
                    "base_url": "http://b.gov.cn/",
                    "allowed_hosts": ["cdn.gov.cn"],
                    "defaults": {"per_host_concurrency": 1},
                    "pages": [{"name": "h", "url": "/"}],
                },
            ],
        }
    )
    limits = host_limits(config)
    assert limits["a.gov.cn"] == HostLimits(3, 2, 0.2)
    assert limits["b.gov.cn"] == HostLimits(1, 1, 0.2)  # a host of one slot: page checks wait one link at most
    assert limits["cdn.gov.cn"] == HostLimits(1, 1, 0.2)  # shared by two sites: the gentlest


def test_a_link_check_backing_off_holds_no_slot_a_page_check_could_use() -> None:
    order: list[str] = []

    async def main() -> None:
        gate = asyncio.Event()

        async def paused(seconds: float) -> None:  # the pause lasts until the test ends it
            await gate.wait()
            clock.advance(seconds)

        clock = FixedClock()
        budget = HostBudget(concurrency=1, spacing_s=0.0, clock=clock, sleep=paused)

        async def link() -> None:
            async with budget.slot("h"):
                order.append("link")

        async def page() -> None:
            async with budget.page_slot("h"):
                order.append("page")

        budget.back_off("h", 30.0)
        waiting = asyncio.create_task(link())
        await asyncio.sleep(0)  # the link check is now waiting out the pause
        await asyncio.wait_for(page(), 2.0)  # with the slot held by the paused link check: a timeout
        gate.set()
        await waiting

    asyncio.run(main())
    assert order == ["page", "link"]
