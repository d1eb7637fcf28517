"""Is the daemon well: /healthz's answer, the heartbeat's systemd watchdog and status line, and
sd_notify failures logged once each."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.notify import Notifier
from monitor.store import Store
from monitor.track import PageRuntime

log = logging.getLogger("monitor.daemon")

HEARTBEAT_S = 5.0


def notified(problem: str | None) -> None:
    """sd_notify never raises; a message that could not be sent is worth one log line."""
    if problem is not None:
        log.warning("systemd notification failed: %s", problem)


class Health:
    """The scheduler ticks (`tick` on each heartbeat) and the database writer thread is alive.
    `runtimes` is the daemon's monitored pages (shared, live)."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        store: Store,
        notifier: Notifier,
        runtimes: Mapping[tuple[str, str], PageRuntime],
    ) -> None:
        self._scheduler = scheduler
        self._store = store
        self._notifier = notifier
        self._runtimes = runtimes
        self._last_tick = time.monotonic()

    def tick(self) -> None:
        """The scheduler ran the heartbeat: it is not stalled."""
        self._last_tick = time.monotonic()

    def health(self) -> tuple[bool, str]:
        """(healthy, reason) for /healthz: the scheduler ticks and the database writer thread is alive."""
        healthy, problem = self.condition()
        return healthy, f"ok; {len(self._runtimes)} pages" if problem is None else problem

    def condition(self) -> tuple[bool, str | None]:
        """(healthy, what is wrong or None): the one judgement behind /healthz and the status line."""
        tick_age = time.monotonic() - self._last_tick
        if not self._scheduler.running or tick_age > 3 * HEARTBEAT_S + 5:
            return False, f"scheduler stalled ({tick_age:.0f}s since last tick)"
        if not self._store.writer.alive:
            return False, "database writer stopped"
        stats = self._store.writer.stats()
        if stats.last_error:
            return True, f"ok; database writes failing ({stats.last_error}), {stats.backlog} rows kept"
        return True, None

    def notify(self) -> None:
        """Tell systemd: the watchdog ping while healthy, and the status line always."""
        healthy, problem = self.condition()
        if healthy:
            notified(self._notifier.watchdog())
        notified(self._notifier.status(self.status_line(problem)))

    def status_line(self, problem: str | None) -> str:
        """`systemctl status`'s line: pages and open outages, then the problem if any, each said once
        ("11 pages, 0 in outage; ok", not "...; ok; 11 pages")."""
        down = sum(1 for rt in self._runtimes.values() if rt.health.outage_started is not None)
        return f"{len(self._runtimes)} pages, {down} in outage; {problem or 'ok'}"
