"""Does homepage integrity keep the daemon's event loop responsive? (a measurement, not a test)

Usage: python -m bench.integrity_loop [--pages DIR] [--rounds N]
Judges the corpus homepages through the daemon's ReadPool (worker processes) with and without
`inspect`, while a ticker on the event loop sleeps 1 ms at a time and records how late it wakes;
then times the part that runs on the loop (`IntegrityTracker.homepage`: the baseline comparison,
`track`, building store operations) on each page's inspection. Prints the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bench._common import CORPUS, machine_facts
from bench.integrity_cost import pages
from monitor.check import Previous, ReadPool
from monitor.integrity import Domains, load_vocabulary
from monitor.models import Page, PageKind, ProbeResult, Result
from monitor.store import Store
from monitor.track import IntegrityTracker

TODAY = date(2026, 11, 27)


async def ticker(stop: asyncio.Event, lags: list[float]) -> None:
    """Sleep 1 ms at a time; record how late each wake-up is."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append(time.perf_counter() - before - 0.001)


async def judged(pool: ReadPool, bodies: list[tuple[str, str, bytes]], rounds: int, inspect: str | None) -> dict:
    """Judge every body `rounds` times; loop lag and wall time, and the inspections got."""
    stop, lags = asyncio.Event(), []
    task = asyncio.create_task(ticker(stop, lags))
    started, inspections = time.perf_counter(), []
    for _ in range(rounds):
        for _, url, body in bodies:
            page = Page("bench", "home", url, PageKind.HOMEPAGE)
            probe = ProbeResult(url, 0.0, Result.UP, status=200, final_url=url, content_type="text/html", body=body)
            outcome = await pool.judge(page, probe, Previous(), TODAY, inspect=inspect)
            inspections.append(outcome.inspection)
    wall = time.perf_counter() - started
    stop.set()
    await task
    return {"wall_s": wall, "lag_max_ms": max(lags) * 1000, "lag_p99_ms": _p99(lags) * 1000, "got": inspections}


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 100 else max(values)


def on_loop_ms(inspections: list, rounds: int) -> list[float]:
    """Milliseconds `IntegrityTracker.homepage` takes per reading (what runs on the event loop)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        store.sync_pages([("bench", "bench", "http://bench.example/")], [], 0.0)
        store.writer.start()
        domains = Domains()
        domains.registrable("www.gov.cn")  # as the daemon does at start
        tracker = IntegrityTracker(store, domains, load_vocabulary())
        site = store.site_ids()["bench"]
        times = []
        for n, inspection in enumerate(inspections):
            before = time.perf_counter()
            tracker.homepage(site, inspection, float(n))
            times.append((time.perf_counter() - before) * 1000)
        store.close()
    return times


async def main_async(directory: Path, rounds: int) -> None:
    bodies = pages(directory, every=False)
    pool = ReadPool()
    pool.warm_up()
    await judged(pool, bodies, 1, "")  # workers started and warm
    plain = await judged(pool, bodies, rounds, None)
    inspected = await judged(pool, bodies, rounds, "")
    pool.close()
    print(f"{len(bodies)} homepages x {rounds} rounds; {machine_facts()}")
    for name, result in (("without inspect", plain), ("with inspect", inspected)):
        print(
            f"{name:>16}: wall {result['wall_s']:.2f} s, loop lag max {result['lag_max_ms']:.1f} ms,"
            f" p99 {result['lag_p99_ms']:.2f} ms"
        )
    times = on_loop_ms([i for i in inspected["got"] if i is not None], rounds)
    print(
        f"on the loop (IntegrityTracker.homepage): median {statistics.median(times):.2f} ms,"
        f" max {max(times):.2f} ms (reading {times.index(max(times)) + 1} of {len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=CORPUS / "pages")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main_async(args.pages, args.rounds))


if __name__ == "__main__":
    main()
