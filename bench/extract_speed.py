"""Extraction speed over a directory of saved pages (a measurement, not a test).

Usage: python3 -m bench.extract_speed [PAGES_DIR] [--rounds N]
Default PAGES_DIR is the shared corpus. Prints ms per page (median and p90 over rounds, decode
included), overall pages/s, and the per-page time normalised to 50 KB of input.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

from monitor.extract import extract_document
from tests.support.paths import corpus_pages_dir

DEFAULT_PAGES = corpus_pages_dir()
TODAY = date(2026, 11, 27)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = sorted(path for path in args.pages.iterdir() if path.suffix in (".html", ".json"))
    bodies = {path.name: path.read_bytes() for path in pages}
    timings: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(args.rounds):
        for name, body in bodies.items():
            started = time.perf_counter()
            extract_document(body, base_url="https://example.gov.cn/col/", today=TODAY)
            timings[name].append(time.perf_counter() - started)
    report(bodies, timings)


def report(bodies: dict[str, bytes], timings: dict[str, list[float]]) -> None:
    print(f"{'page':<12}{'KB':>8}{'ms':>9}")
    medians = {name: statistics.median(runs) for name, runs in timings.items()}
    for name, seconds in sorted(medians.items(), key=lambda pair: -pair[1])[:10]:
        print(f"{name:<12}{len(bodies[name]) / 1024:>8.0f}{seconds * 1000:>9.2f}")
    per_page = sorted(medians.values())
    total_bytes = sum(len(body) for body in bodies.values())
    total_seconds = sum(per_page)
    print(f"\n{len(bodies)} pages, {total_bytes / 1024:.0f} KB")
    p90 = per_page[int(0.9 * len(per_page))]
    print(f"median {statistics.median(per_page) * 1000:.2f} ms/page, p90 {p90 * 1000:.2f} ms")
    mean = total_seconds / len(per_page)
    print(f"mean {mean * 1000:.2f} ms/page, {len(per_page) / total_seconds:.0f} pages/s")
    print(f"{total_seconds / total_bytes * 50 * 1024 * 1000:.2f} ms per 50 KB of page")


if __name__ == "__main__":
    main()
