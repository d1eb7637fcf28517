"""One budget per host, shared by the page checks and the link checks: requests in flight, spacing
between link-check starts, and back-off pauses.

The daemon builds one `HostBudget` and gives it to the page fetcher and to the link runner, so a
host sees one budget, not two (issue 12). Page checks come first: they take a free slot ahead of
any queued link check, never wait for the spacing or a link back-off (their visits are on their
own grid, and a `Retry-After` moves those), and `host_limits` keeps one slot of each host out of
the link checks' reach, so a sweep cannot hold every slot when a visit falls due. Link checks wait
for their turn (spacing after the last start, page or link; a back-off pause) holding no slot, then
for a slot of their share.

Time comes from the injected clock and waits go through the injected `sleep`, so tests run on a
fixed clock. No network I/O here (it lives in check/ so that links/, above it, can share it).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from monitor.config import Config, effective_defaults, site_hosts, site_links
from monitor.models import Clock, SystemClock

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class HostLimits:
    """A host's budget: `concurrency` requests in flight, page and link checks together, of which
    link checks hold at most `link_concurrency`; link checks start at least `spacing_s` apart."""

    concurrency: int = 2
    link_concurrency: int = 2
    spacing_s: float = 0.5

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.link_concurrency < 1 or self.spacing_s < 0:
            raise ValueError("concurrency must be >= 1 and spacing_s >= 0")


@dataclass
class _Host:
    """Mutable state of one host: requests in flight, the queues, the earliest next link start, a pause."""

    limits: HostLimits
    in_flight: int = 0
    links_in_flight: int = 0
    pages_waiting: deque[asyncio.Future[None]] = field(default_factory=deque)
    links_waiting: deque[asyncio.Future[None]] = field(default_factory=deque)
    next_start: float = 0.0
    paused_until: float = 0.0
    waited_s: float = 0.0
    peak: int = 0

    def page_may_start(self) -> bool:
        return self.in_flight < self.limits.concurrency

    def link_may_start(self) -> bool:
        # A page check waiting goes first: a link never takes the slot it is waiting for.
        cap = min(self.limits.link_concurrency, self.limits.concurrency)
        return not self.pages_waiting and self.in_flight < self.limits.concurrency and self.links_in_flight < cap

    def take(self, link: bool) -> None:
        self.in_flight += 1
        self.links_in_flight += int(link)
        self.peak = max(self.peak, self.in_flight)


class HostBudget:
    """Per-host concurrency and minimum spacing (lychee's 10 in flight / 50 ms, W3C's 1 s apart).

    `concurrency` and `spacing_s` make the limits of a host not in `limits` (all of them link
    checks' too: a budget without page checks, as in `monitor links --sweep`, needs no reserve).
    """

    def __init__(
        self,
        *,
        concurrency: int = 2,
        spacing_s: float = 0.5,
        limits: Mapping[str, HostLimits] | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.default = HostLimits(concurrency, concurrency, spacing_s)
        self.concurrency = concurrency
        self.spacing_s = spacing_s
        self._limits = {host.lower(): value for host, value in (limits or {}).items()}
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}

    def configure(self, limits: Mapping[str, HostLimits]) -> None:
        """New per-host limits (a reloaded config); requests in flight keep their slots."""
        self._limits = {host.lower(): value for host, value in limits.items()}
        for key, state in self._hosts.items():
            state.limits = self._limits.get(key, self.default)
            self._grant(state)

    @asynccontextmanager
    async def page_slot(self, host: str, concurrency: int | None = None) -> AsyncIterator[None]:
        """Hold one of the host's slots for one page check: ahead of queued link checks, no spacing.

        `concurrency` is the limit of a host this budget has no limits for (the first page sets it).
        """
        state = self._host(host, concurrency)
        await self._acquire(state, link=False)
        try:
            state.next_start = max(state.next_start, self._clock.monotonic() + state.limits.spacing_s)
            yield
        finally:
            self._release(state, link=False)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of the host's link-check slots for one request, starting no sooner than its turn.

        The turn (spacing, back-off pause) is waited for without a slot: a link check backing off
        must not keep a slot from the page checks. If another request took the turn meanwhile, the
        slot goes back and the wait starts again.
        """
        state = self._host(host)
        while True:
            await self._wait_turn(state)
            await self._acquire(state, link=True)
            if self._claim_turn(state):
                break
            self._release(state, link=True)
        try:
            yield
        finally:
            self._release(state, link=True)

    def back_off(self, host: str, seconds: float) -> None:
        """Start no link check on `host` for `seconds` (a 429 or 5xx answer: every request waits, not one)."""
        state = self._host(host)
        state.paused_until = max(state.paused_until, self._clock.monotonic() + max(0.0, seconds))

    def paused_s(self, host: str) -> float:
        """Seconds from now until link checks to `host` may start again after a back-off (0: none)."""
        return max(0.0, self._host(host).paused_until - self._clock.monotonic())

    def waited_s(self, host: str) -> float:
        """Seconds link checks to `host` have waited for their turn so far (spacing and pauses)."""
        return self._host(host).waited_s

    def peak_in_flight(self, host: str) -> int:
        """The most requests, page and link checks together, that were ever in flight to `host`."""
        return self._host(host).peak

    def _host(self, host: str, concurrency: int | None = None) -> _Host:
        key = host.lower()
        state = self._hosts.get(key)
        if state is None:
            limits = self._limits.get(key)
            if limits is None:
                limits = self.default if concurrency is None else HostLimits(concurrency, concurrency, self.spacing_s)
            state = self._hosts[key] = _Host(limits)
        return state

    async def _acquire(self, state: _Host, *, link: bool) -> None:
        """Take a slot now if the host's limits allow and nobody is ahead, else queue for one."""
        queue = state.links_waiting if link else state.pages_waiting
        free = state.link_may_start() if link else state.page_may_start()
        if free and not queue:
            state.take(link)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter  # `_grant` takes the slot for us before waking us
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(state, link=link)  # granted, then cancelled before we ran: give it back
            else:
                if waiter in queue:
                    queue.remove(waiter)
                self._grant(state)  # a page check gone from the queue may let a link check start
            raise

    def _release(self, state: _Host, *, link: bool) -> None:
        state.in_flight -= 1
        state.links_in_flight -= int(link)
        self._grant(state)

    def _grant(self, state: _Host) -> None:
        """Hand free slots to the waiters: every page check that fits first, then link checks."""
        for queue, link, may_start in (
            (state.pages_waiting, False, state.page_may_start),
            (state.links_waiting, True, state.link_may_start),
        ):
            while queue and may_start():
                waiter = queue.popleft()
                if not waiter.done():
                    state.take(link)
                    waiter.set_result(None)

    async def _wait_turn(self, state: _Host) -> None:
        """Wait until both the spacing and any pause allow a start (claiming nothing)."""
        while True:
            now = self._clock.monotonic()
            start = max(state.next_start, state.paused_until)
            if start <= now:
                return
            state.waited_s += start - now
            await self._sleep(start - now)

    def _claim_turn(self, state: _Host) -> bool:
        """Take the start turn if it is still free now (the next link check starts `spacing_s` later)."""
        now = self._clock.monotonic()
        if max(state.next_start, state.paused_until) > now:
            return False
        state.next_start = now + state.limits.spacing_s
        return True


def host_limits(config: Config) -> dict[str, HostLimits]:
    """Each configured host's budget: a site's `per_host_concurrency` in flight in all, link checks
    at most `links.concurrency` of them and never the last one (kept for page checks, unless the
    limit is 1), `links.spacing` apart. A host shared by sites gets the gentlest of their settings."""
    limits: dict[str, HostLimits] = {}
    for site in config.sites:
        total = effective_defaults(config.raw, site).per_host_concurrency
        links = site_links(config.raw, site)
        own = HostLimits(total, min(links.concurrency, max(1, total - 1)), links.spacing)
        for host in site_hosts(site):
            known = limits.get(host)
            limits[host] = own if known is None else _gentlest(known, own)
    return limits


def _gentlest(a: HostLimits, b: HostLimits) -> HostLimits:
    return HostLimits(
        min(a.concurrency, b.concurrency), min(a.link_concurrency, b.link_concurrency), max(a.spacing_s, b.spacing_s)
    )
