"""Wall-clock steps: noticed by comparing the wall clock with the monotonic clock, and a step back
compensated by moving every scheduled job back by the step."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.models import Clock

log = logging.getLogger("monitor.daemon")

CLOCK_CHECK_S = 1.0
"""How often the wall clock is compared with the monotonic clock, to notice steps."""
CLOCK_STEP_S = 1.0
"""A wall-clock step larger than this is logged (and, backwards, compensated); NTP's slewing is far slower."""


class ClockWatch:
    """Watches `clock` for steps and keeps `scheduler`'s jobs on time across a step back."""

    def __init__(self, scheduler: AsyncIOScheduler, clock: Clock) -> None:
        self._scheduler = scheduler
        self._clock = clock

    async def watch(self) -> None:
        """APScheduler 3 waits for wall-clock times: after the clock steps back, every job would wait
        out the step (an hour back, an hour without checks). Move the jobs back by the step instead.

        A step forward needs nothing: each overdue job runs once (coalesced), then keeps its interval.
        """
        offset = self._clock.now() - self._clock.monotonic()
        while True:
            await asyncio.sleep(CLOCK_CHECK_S)
            current = self._clock.now() - self._clock.monotonic()
            step, offset = current - offset, current
            if abs(step) > CLOCK_STEP_S:
                log.warning("the wall clock stepped %+.1fs", step)
            if step < -CLOCK_STEP_S:
                self.move_jobs(step)

    def move_jobs(self, step: float) -> None:
        """Move every scheduled job's next run by `step` seconds."""
        self._scheduler.pause()  # one wake-up at the end, not one per job
        for job in self._scheduler.get_jobs():
            if job.next_run_time is not None:
                job.modify(next_run_time=job.next_run_time + timedelta(seconds=step))
        self._scheduler.resume()
        log.info("moved every scheduled check %+.1fs with the clock", step)
