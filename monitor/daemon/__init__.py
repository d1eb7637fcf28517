"""The long-running monitor: one check job per page, and everything that keeps it running.
See docs/architecture.md.

Public surface (everything else is private to the package):

- `Daemon(config, store=, fetcher=, clock=, ...)`: `run()`, `request_stop()`, `reload()`,
  `health()`, `listening` (where /metrics and /healthz answer).
- `next_checks(page, now=, next_visit=, failing=, retry_after_s=) -> NextChecks`, `retry_after_cap`,
  `job_id`, `retry_job_id`: when a page is visited and retried (pure planning).
- `malloc_trim()` and `HeapTrim`: glibc's hand-back of freed heap memory, the daemon's
  `heap-trim` job every `TRIM_EVERY_S` (docs/benchmarks.md, "Where the memory went").
- The daemon's timing constants (`HEARTBEAT_S`, `RETRY_AFTER_CAP_S`, `GIL_SWITCH_INTERVAL_S`, ...).
"""

from monitor.daemon._clock import CLOCK_CHECK_S, CLOCK_STEP_S
from monitor.daemon._core import (
    CHECKS_AT_ONCE,
    GIL_SWITCH_INTERVAL_S,
    PARKED_S,
    PRUNE_EVERY_S,
    READ_WORKERS_WAIT_S,
    ROLLUP_EVERY_S,
    SHUTDOWN_GRACE_S,
    STARTUP_RATE,
    WRITER_FLUSH_S,
    Daemon,
    Listening,
)
from monitor.daemon._health import HEARTBEAT_S
from monitor.daemon._ipv6 import IPV6_FIRST_S, IPV6_WINDOW_S
from monitor.daemon._links import LINKS_TICK_S
from monitor.daemon._memory import TRIM_EVERY_S, HeapTrim, malloc_trim
from monitor.daemon._visits import (
    RETRY_AFTER_CAP_INTERVALS,
    RETRY_AFTER_CAP_S,
    RETRY_JOB_SUFFIX,
    NextChecks,
    job_id,
    next_checks,
    retry_after_cap,
    retry_job_id,
)

__all__ = [
    "CHECKS_AT_ONCE",
    "CLOCK_CHECK_S",
    "CLOCK_STEP_S",
    "GIL_SWITCH_INTERVAL_S",
    "HEARTBEAT_S",
    "IPV6_FIRST_S",
    "IPV6_WINDOW_S",
    "LINKS_TICK_S",
    "PARKED_S",
    "PRUNE_EVERY_S",
    "READ_WORKERS_WAIT_S",
    "RETRY_AFTER_CAP_INTERVALS",
    "RETRY_AFTER_CAP_S",
    "RETRY_JOB_SUFFIX",
    "ROLLUP_EVERY_S",
    "SHUTDOWN_GRACE_S",
    "STARTUP_RATE",
    "TRIM_EVERY_S",
    "WRITER_FLUSH_S",
    "Daemon",
    "HeapTrim",
    "Listening",
    "NextChecks",
    "job_id",
    "malloc_trim",
    "next_checks",
    "retry_after_cap",
    "retry_job_id",
]
