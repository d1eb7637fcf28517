"""The CPU, bytes and samples of one /metrics scrape at province scale, offline, in both
`metrics.per_page` modes.

A province runs ~1,000 sites x 20 pages (issue 16): 20,000 pages. This fills the daemon's own
`MonitorState` with that many pages as a running daemon would hold them (every page checked, the
lists read, a few outages open, a week of homepage visits for rule V1) and times the very function
/metrics calls (`Exporter.render`), several times, in process CPU time. No network, no daemon:
what it measures is the formatting, which is what scales with the number of series.

    python -m bench.scrape_cost [--sites 1000] [--pages 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.metrics import CheckFacts, MonitorState, build_registry
from monitor.models import ContentFacts, ErrorKind, FixedClock, Page, PageKind, Result
from monitor.store import WriterStats

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=TZ).timestamp()
PHASES = {"dns": 0.001, "connect": 0.002, "tls": 0.01, "ttfb": 0.05, "transfer": 0.02}


class _Writer:
    """The writer's counters as a quiet daemon has them."""

    def stats(self) -> WriterStats:
        return WriterStats()

    def take_batch_seconds(self) -> list[float]:
        return []


def province_state(sites: int, pages: int) -> MonitorState:
    """`sites` x `pages` pages (one homepage each, the rest columns), checked and read."""
    state = MonitorState(FixedClock(NOW - 7 * 86400))
    all_pages = [_page(s, p) for s in range(sites) for p in range(pages)]
    state.set_pages(all_pages)
    for i, page in enumerate(all_pages):
        down = i % 97 == 0
        result = Result.DOWN if down else Result.UP
        facts = CheckFacts(NOW - i % 600, result, ErrorKind.TIMEOUT if down else None, 0.08, PHASES,
                           None if down else 200, 30_000, 0, NOW + 90 * 86400)  # fmt: skip
        state.record_check(page.key, facts, scheduled=True)
        newest = date(2026, 11, 27) - timedelta(days=i % 200)
        state.record_content(page.key, ContentFacts(True, newest, 20, NOW - 3600), new_items=i % 3)
        if down:
            state.record_outage(page.key, started=NOW - 600, opened=True)
    for s in range(sites):
        visits = [(NOW - k * 600.0, k % 50 == 0) for k in range(7 * 144)]
        state.seed_homepage_checks(f"site{s:04d}", visits)
    return state


def _page(site: int, index: int) -> Page:
    name = f"site{site:04d}"
    if index == 0:
        return Page(name, "首页", f"https://{name}.gov.cn/", PageKind.HOMEPAGE, interval_s=600)
    return Page(name, f"栏目{index}", f"https://{name}.gov.cn/c{index}/", PageKind.COLUMN, interval_s=3600)


def measure(state: MonitorState, per_page: str, repeat: int) -> tuple[list[float], int, int]:
    """CPU seconds of each render, the bytes and the sample lines of the last."""
    exporter = build_registry(state, clock=FixedClock(NOW), tz=TZ, writer=_Writer(), per_page=per_page)  # type: ignore[arg-type]
    cpu = []
    body = b""
    for _ in range(repeat):
        started = time.process_time()
        body = b"".join(exporter.render())
        cpu.append(time.process_time() - started)
    samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return cpu, len(body), samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=20, help="pages per site, the homepage included")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    state = province_state(args.sites, args.pages)
    print(f"{args.sites} sites x {args.pages} pages = {args.sites * args.pages} pages, {args.repeat} renders each")
    print("| metrics.per_page | CPU s per scrape (median) | min | max | bytes | samples |")
    print("|---|---|---|---|---|---|")
    for mode in ("homepages", "all"):
        cpu, size, samples = measure(state, mode, args.repeat)
        median, low, high = statistics.median(cpu), min(cpu), max(cpu)
        print(f"| {mode} | {median:.3f} | {low:.3f} | {high:.3f} | {size / 1e6:.1f} MB | {samples:,} |")


if __name__ == "__main__":
    main()
