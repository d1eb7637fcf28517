"""monitor.links HostBudget: concurrency and spacing per host, back-off pauses, on a fixed clock."""

from __future__ import annotations

import asyncio

import pytest

from monitor.links import HostBudget
from monitor.models import FixedClock


class FakeSleep:
    """Records each wait and moves the fixed clock by it instead of sleeping."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(round(seconds, 6))
        self.clock.advance(seconds)
        await asyncio.sleep(0)


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
    budget, _, sleep = _budget(concurrency=10, spacing_s=0.0, limits={"slow.gov.cn": (1, 2.0)})

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
