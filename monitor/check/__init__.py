"""One probe of one page -> CheckOutcome: fetch (the only httpx user), body limits, TLS expiry,
anti-bot answers, then decode and extract. Target-side problems come back as data, never exceptions.
See docs/architecture.md.
"""

from monitor.check._fetch import ERROR_MAX_CHARS, Fetcher
from monitor.check._pipeline import CheckOutcome, PageFetcher, Previous, run_check

__all__ = [
    "ERROR_MAX_CHARS",
    "CheckOutcome",
    "Fetcher",
    "PageFetcher",
    "Previous",
    "run_check",
]
