"""When a page is checked: its visits on the interval grid, and the retries between them (pure planning).

A page's interval job (`site/page`) is its schedule of visits: it runs on its grid whatever
happens, outage or not, and each run is one sample of rule V1 (attempt 0). A retry is a one-off
job (`site/page#retry`, attempt n > 0) that only feeds the outage machine between two visits; it
never replaces or adds a visit. See `next_checks` for when a retry is dropped and how
`Retry-After` defers visits on their grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from apscheduler.triggers.interval import IntervalTrigger

from monitor.models import Page

RETRY_AFTER_CAP_S = 3600.0
RETRY_AFTER_CAP_INTERVALS = 4
"""A server's `Retry-After` defers a page's next visit by at most min(4 x interval, 1 h): a site
asking for a day's pause must not stop its monitoring for a day."""
RETRY_JOB_SUFFIX = "#retry"


def job_id(key: tuple[str, str]) -> str:
    """The id of a page's interval job: its visits."""
    return f"{key[0]}/{key[1]}"


def retry_job_id(key: tuple[str, str]) -> str:
    """The id of a page's pending one-off retry (at most one per page)."""
    return job_id(key) + RETRY_JOB_SUFFIX


@dataclass(frozen=True)
class NextChecks:
    """When a page is checked next: its next visit (on its grid) and a retry before it, if any."""

    visit_at: float
    retry_at: float | None


def retry_after_cap(page: Page) -> float:
    """The longest a `Retry-After` may defer the page's next visit."""
    return min(RETRY_AFTER_CAP_INTERVALS * page.interval_s, RETRY_AFTER_CAP_S)


def next_checks(page: Page, *, now: float, next_visit: float, failing: bool, retry_after_s: float | None) -> NextChecks:
    """Plan a page's next checks after one finished at `now` (pure: epoch seconds in and out).

    - `Retry-After` (capped by `retry_after_cap`) makes `now + delay` the earliest next check. A
      visit due before that moves to the first point of its own grid (`next_visit` + k x interval)
      at or after it, so the visits after it stay on the grid (no drift).
    - While the page is failing, a retry follows after `retry_delay` (and not before Retry-After
      allows), but only if it can finish (`timeout`) before the next visit: otherwise the visit,
      due anyway, confirms or clears the failure and no page is probed twice at once.
    """
    earliest = now + min(max(retry_after_s, 0.0), retry_after_cap(page)) if retry_after_s is not None else now
    visit_at = next_visit
    if visit_at < earliest:
        visit_at += math.ceil((earliest - visit_at) / page.interval_s) * page.interval_s
    retry_at = None
    if failing:
        candidate = max(now + min(page.retry_delay_s, page.interval_s), earliest)
        if candidate + page.timeout_s <= visit_at:
            retry_at = candidate
    return NextChecks(visit_at, retry_at)


def visit_trigger(page: Page) -> IntervalTrigger:
    """The page's visit grid: every `interval`, with its jitter."""
    return IntervalTrigger(seconds=page.interval_s, jitter=int(page.jitter_s) or None)
