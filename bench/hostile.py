"""Event-loop stalls while hostile pages are checked (a measurement, not a test).

Usage: python3 -m bench.hostile [--size BYTES] [--rounds N] [--budget S] [--in-process]
Serves the corpus's list pages and one 5 MiB page of each hostile shape (tests/support/hostile_pages.py) on
127.0.0.1, then checks them the way the daemon does (`run_check` with the real fetcher and the read
workers) while a ticker on the same event loop measures how late it wakes up (every 10 ms).
Prints, per set of pages, the stall p50/p99/max and the wall time and verdict of each check; the
normal pages' stalls are the baseline measured in the same run. `--in-process` reads bodies on
the event loop instead (`judge_here`, what the daemon did before the read workers): use it with a
small `--size`, as it is unbounded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from monitor.check import READ_BUDGET_S, CheckOutcome, Fetcher, Judge, Previous, ReadPool, judge_here, run_check
from monitor.models import Page, PageKind
from tests.support.hostile_pages import SHAPES, PageServer

CORPUS = Path("/work/shared/corpus/pages")
TODAY = date(2026, 11, 27)
TICK_S = 0.01
MAX_BODY = 5 * 1024 * 1024


@dataclass
class Run:
    """One set of checks: each check's wall time and verdict, and the loop's stalls meanwhile."""

    name: str
    checks: list[tuple[str, float, CheckOutcome]]
    stalls: list[float]


async def ticker(stalls: list[float], stop: asyncio.Event) -> None:
    """Sleep TICK_S again and again; how much later than asked each wake-up came is a stall."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(TICK_S)
        stalls.append(max(0.0, time.perf_counter() - started - TICK_S))


async def check_all(name: str, base: str, paths: list[str], judge: Judge, fetcher: Fetcher) -> Run:
    """Check the pages two at a time (the pool's width) with the ticker running."""
    stalls: list[float] = []
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(stalls, stop))
    checks = []
    for first in range(0, len(paths), 2):
        batch = paths[first : first + 2]
        timed = await asyncio.gather(*(timed_check(base, path, judge, fetcher) for path in batch))
        checks += timed
    stop.set()
    await tick
    return Run(name, checks, stalls)


async def timed_check(base: str, path: str, judge: Judge, fetcher: Fetcher) -> tuple[str, float, CheckOutcome]:
    page = Page("bench", path, base + path, PageKind.COLUMN, timeout_s=60.0, max_body_bytes=MAX_BODY)
    started = time.perf_counter()
    outcome = await run_check(fetcher, page, Previous(), TODAY, judge)
    return path, time.perf_counter() - started, outcome


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(runs: list[Run], size: int, budget: float) -> None:
    print(f"pages of {size / 1024 / 1024:.2f} MiB, read budget {budget:g} s, ticker every {TICK_S * 1000:.0f} ms\n")
    print("| pages | checks | stall p50 ms | stall p99 ms | stall max ms | check median s | check max s |")
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        seconds = [took for _, took, _ in run.checks]
        print(
            f"| {run.name} | {len(run.checks)} | {percentile(run.stalls, 0.5) * 1000:.1f} "
            f"| {percentile(run.stalls, 0.99) * 1000:.1f} | {max(run.stalls, default=0) * 1000:.1f} "
            f"| {statistics.median(seconds):.2f} | {max(seconds):.2f} |"
        )
    print("\n| hostile page | KB | s | result | error_kind | kind | items |")
    print("|---|---|---|---|---|---|---|")
    for run in runs[1:]:
        for path, took, outcome in run.checks:
            x = outcome.extraction
            kind, items = (x.kind.value, len(x.items)) if x is not None else ("-", 0)
            error_kind = outcome.error_kind.value if outcome.error_kind else "-"
            kb = outcome.probe.bytes // 1024
            print(f"| {path} | {kb} | {took:.2f} | {outcome.result.value} | {error_kind} | {kind} | {items} |")


async def measure(args: argparse.Namespace) -> list[Run]:
    normal = {f"/corpus/{p.name}": p.read_bytes() for p in sorted(CORPUS.glob("*.html"))}
    hostile = {f"/hostile/{name}.html": make(args.size) for name, make in SHAPES.items()}
    pool = ReadPool(budget_s=args.budget)
    fetcher = Fetcher()
    runs = []
    try:
        with PageServer({**normal, **hostile}) as server:
            base = server.base_url
            await check_all("warm-up (worker start)", base, list(normal)[:2], pool.judge, fetcher)
            for round_ in range(args.rounds):
                judge = judge_here if args.in_process else pool.judge
                runs.append(await check_all(f"normal, round {round_ + 1}", base, list(normal), judge, fetcher))
                pool.close()  # a fresh pool: it would answer bodies it found too complex at once
                pool = ReadPool(budget_s=args.budget)
                judge = judge_here if args.in_process else pool.judge
                runs.append(await check_all(f"hostile, round {round_ + 1}", base, list(hostile), judge, fetcher))
    finally:
        pool.close()
        await fetcher.aclose()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=MAX_BODY - 4096)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--budget", type=float, default=READ_BUDGET_S)
    parser.add_argument("--in-process", action="store_true", help="read on the event loop (the old way)")
    args = parser.parse_args()
    runs = asyncio.run(measure(args))
    normal = [run for run in runs if run.name.startswith("normal")]
    hostile = [run for run in runs if run.name.startswith("hostile")]
    merged = [
        Run("normal (corpus)", [c for r in normal for c in r.checks], [s for r in normal for s in r.stalls]),
        Run("hostile (5 shapes)", [c for r in hostile for c in r.checks], [s for r in hostile for s in r.stalls]),
    ]
    report(merged, args.size, 0.0 if args.in_process else args.budget)


if __name__ == "__main__":
    main()
