"""One budget per host: requests in flight, spacing between request starts, and back-off pauses.

Made to be shared: the link checker takes one `HostBudget`, and the daemon's page checks can take
the same object later, so a host sees one budget, not two. Time comes from the injected clock and
waits go through the injected `sleep`, so tests run on a fixed clock. No network I/O here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from monitor.models import Clock, SystemClock

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Host:
    """Mutable state of one host: its slots, the earliest next start, a pause after 429/5xx."""

    slots: asyncio.Semaphore
    spacing_s: float
    next_start: float = 0.0
    paused_until: float = 0.0
    waited_s: float = 0.0


class HostBudget:
    """Per-host concurrency and minimum spacing (lychee's 10 in flight / 50 ms, W3C's 1 s apart).

    `limits` overrides the defaults for named hosts (a site configured more gently than others).
    """

    def __init__(
        self,
        *,
        concurrency: int = 2,
        spacing_s: float = 0.5,
        limits: dict[str, tuple[int, float]] | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if concurrency < 1 or spacing_s < 0:
            raise ValueError("concurrency must be >= 1 and spacing_s >= 0")
        self.concurrency = concurrency
        self.spacing_s = spacing_s
        self._limits = dict(limits or {})
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of the host's slots for one request, starting no sooner than its turn."""
        state = self._host(host)
        async with state.slots:
            await self._wait_turn(state)
            yield

    def back_off(self, host: str, seconds: float) -> None:
        """Start nothing on `host` for `seconds` (a 429 or 5xx answer: every request waits, not one)."""
        state = self._host(host)
        state.paused_until = max(state.paused_until, self._clock.monotonic() + max(0.0, seconds))

    def waited_s(self, host: str) -> float:
        """Seconds requests to `host` have waited for their turn so far (spacing and pauses)."""
        return self._host(host).waited_s

    def _host(self, host: str) -> _Host:
        key = host.lower()
        state = self._hosts.get(key)
        if state is None:
            concurrency, spacing = self._limits.get(key, (self.concurrency, self.spacing_s))
            state = self._hosts[key] = _Host(asyncio.Semaphore(concurrency), spacing)
        return state

    async def _wait_turn(self, state: _Host) -> None:
        """Wait until both the spacing and any pause allow a start, then claim the next start time."""
        while True:
            now = self._clock.monotonic()
            start = max(state.next_start, state.paused_until)
            if start <= now:
                state.next_start = now + state.spacing_s
                return
            state.waited_s += start - now
            await self._sleep(start - now)
