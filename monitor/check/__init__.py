"""One probe of one page -> CheckOutcome: fetch (with links/, the only httpx users), body limits, TLS expiry,
anti-bot answers, then decode and extract. Target-side problems come back as data, never exceptions.
`HostBudget` (with `HostLimits`, `host_limits(config)`) is the one per-host budget that page checks
and link checks share. See docs/architecture.md.
"""

from monitor.check._bodies import BodyDecodeError, BodyTooLarge, CappedBody
from monitor.check._budget import HostBudget, HostLimits, Sleep, host_limits
from monitor.check._fetch import ERROR_MAX_CHARS, Fetcher, parse_retry_after
from monitor.check._hashing import content_hash
from monitor.check._ipv6 import Ipv6Probe, Ipv6Prober, aaaa_resolver
from monitor.check._pipeline import CheckOutcome, Judge, PageFetcher, Previous, judge_body, judge_here, run_check
from monitor.check._readpool import READ_BUDGET_S, ReadPool
from monitor.check._sweep import dns_resolver, visit_as, visits

__all__ = [
    "ERROR_MAX_CHARS",
    "READ_BUDGET_S",
    "BodyDecodeError",
    "BodyTooLarge",
    "CappedBody",
    "CheckOutcome",
    "Fetcher",
    "HostBudget",
    "HostLimits",
    "Ipv6Probe",
    "Ipv6Prober",
    "Judge",
    "PageFetcher",
    "Previous",
    "ReadPool",
    "Sleep",
    "aaaa_resolver",
    "content_hash",
    "dns_resolver",
    "host_limits",
    "judge_body",
    "judge_here",
    "parse_retry_after",
    "run_check",
    "visit_as",
    "visits",
]
