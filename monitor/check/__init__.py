"""One probe of one page -> CheckOutcome: fetch (the only httpx user), body limits, TLS expiry,
anti-bot answers, then decode and extract. Target-side problems come back as data, never exceptions.
See docs/architecture.md.
"""

from monitor.check._fetch import ERROR_MAX_CHARS, Fetcher
from monitor.check._hashing import content_hash
from monitor.check._pipeline import CheckOutcome, Judge, PageFetcher, Previous, judge_body, judge_here, run_check
from monitor.check._readpool import READ_BUDGET_S, ReadPool

__all__ = [
    "ERROR_MAX_CHARS",
    "READ_BUDGET_S",
    "CheckOutcome",
    "Fetcher",
    "Judge",
    "PageFetcher",
    "Previous",
    "ReadPool",
    "content_hash",
    "judge_body",
    "judge_here",
    "run_check",
]
