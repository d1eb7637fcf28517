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
from dataclasses import dataclass
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


SCRAPE_EVERY_S = 15.0


@dataclass
class Traffic:
    """The checks a province's daemon records between two scrapes, `compress` times the real rate
    (homepages every 10 min, columns hourly), each the next page due in turn."""

    state: MonitorState
    pages: list[Page]
    compress: float
    now: float = NOW
    _next_home: int = 0
    _next_column: int = 0

    def advance(self, seconds: float) -> int:
        """Move the clock on and record the checks due meanwhile; returns how many."""
        self.now += seconds
        homes = [p for p in self.pages if p.kind is PageKind.HOMEPAGE]
        columns = [p for p in self.pages if p.kind is not PageKind.HOMEPAGE]
        n_home = round(len(homes) * seconds * self.compress / 600)
        n_column = round(len(columns) * seconds * self.compress / 3600)
        for k in range(n_home):
            self._check(homes[(self._next_home + k) % len(homes)], k)
        for k in range(n_column):
            self._check(columns[(self._next_column + k) % len(columns)], k)
        self._next_home += n_home
        self._next_column += n_column
        return n_home + n_column

    def _check(self, page: Page, k: int) -> None:
        down = k % 97 == 0
        result = Result.DOWN if down else Result.UP
        facts = CheckFacts(self.now - 1, result, ErrorKind.TIMEOUT if down else None, 0.08, PHASES,
                           None if down else 200, 30_000, 0, NOW + 90 * 86400)  # fmt: skip
        self.state.record_check(page.key, facts, scheduled=True)
        newest = datetime.fromtimestamp(self.now, TZ).date() - timedelta(days=k % 30)
        self.state.record_content(page.key, ContentFacts(True, newest, 20, self.now - 3600), new_items=k % 2)


def measure(sites: int, pages: int, per_page: str, repeat: int, compress: float) -> Measured:
    """CPU seconds of the first render and of each later one (`compress` x a province's checks and
    15 s of clock between them; 0: nothing changes), the bytes and sample lines of the last; and
    whether the last equals the render computed from scratch."""
    state = province_state(sites, pages)
    traffic = Traffic(state, [_page(s, p) for s in range(sites) for p in range(pages)], compress)
    clock = MovingClock(traffic)
    exporter = build_registry(state, clock=clock, tz=TZ, writer=_Writer(), per_page=per_page)  # type: ignore[arg-type]
    started = time.process_time()
    body = b"".join(exporter.render())
    first = time.process_time() - started
    cpu = []
    for _ in range(repeat):
        checks = traffic.advance(SCRAPE_EVERY_S) if compress else 0
        started = time.process_time()
        body = b"".join(exporter.render())
        cpu.append(time.process_time() - started)
    samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    fresh = b"".join(exporter.fresh_render())
    return Measured(first, cpu, len(body), samples, checks if compress else 0, fresh == body)


@dataclass
class Measured:
    first: float
    later: list[float]
    bytes: int
    samples: int
    checks: int
    equal: bool


@dataclass
class MovingClock:
    """The traffic's clock."""

    traffic: Traffic

    def now(self) -> float:
        return self.traffic.now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=20, help="pages per site, the homepage included")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compress", type=float, nargs="*", default=[0, 1, 15],
                        help="checks between scrapes: 15 s of a province at this many times the real rate")  # fmt: skip
    args = parser.parse_args()
    print(f"{args.sites} sites x {args.pages} pages = {args.sites * args.pages} pages, {args.repeat} renders each")
    print("| metrics.per_page | checks between scrapes | CPU s per scrape (median) | max | first | bytes | samples |")
    print("|---|---|---|---|---|---|---|")
    for mode in ("homepages", "all"):
        for compress in args.compress:
            m = measure(args.sites, args.pages, mode, args.repeat, compress)
            if not m.equal:
                raise SystemExit(f"{mode}, {compress}x: the cached render differs from the fresh one")
            print(f"| {mode} | {m.checks} ({compress:g}x) | {statistics.median(m.later):.3f} | {max(m.later):.3f} "
                  f"| {m.first:.3f} | {m.bytes / 1e6:.1f} MB | {m.samples:,} |")  # fmt: skip


if __name__ == "__main__":
    main()
