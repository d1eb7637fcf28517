"""A `sleep` for code that waits through an injected one (the host budget, the link runner):
it moves a fixed clock instead of sleeping, and records each wait."""

from __future__ import annotations

import asyncio

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
