"""Soak: `monitor run` for 10 minutes at 10x a real bureau's load, sampling RSS and open descriptors.

Usage: python3 -m bench.soak [--minutes 10] [--csv docs/soak.csv]     (quick check: --minutes 1)
A real portal is ~50 pages: the homepage every 10 min, columns hourly (~55 checks an hour). Here:
10 such sites (500 pages) with time compressed 60x (homepages every 10 s, columns every 60 s), so
10 minutes hold the checks of 10 portals over 10 hours. Pages keep changing (new items) and
/metrics is scraped every 15 s. Passes when neither RSS nor descriptors trend upwards.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench._common import Daemon, DaemonSettings, Nginx, build_docroot, db_rows, machine_facts, workspace
from tests.support.procfs import cpu_seconds, memory_kb, open_fds
from tests.support.stats import markdown_table, slope_per_hour

SITES = 10
PAGES_PER_SITE = 50
HOMEPAGE_INTERVAL_S = 10.0
COLUMN_INTERVAL_S = 60.0
SAMPLE_EVERY_S = 10.0
SCRAPE_EVERY_S = 15.0
CHANGES_PER_SAMPLE = 10
"""Pages given one new item every sample (1 a second, ~3 a page an hour): keeps extraction and
item inserts going all along."""
ITEM_EPOCH = date(2026, 1, 1)
"""Item n of a generated column is dated ITEM_EPOCH + n days."""
WARMUP_S = COLUMN_INTERVAL_S
"""The first round reads every list and loads the item sets: growth then is not a leak."""
MIN_STEADY_SAMPLES = 12
"""A trend needs two minutes of samples after the warm-up; shorter runs are a quick check only."""
RSS_PASS_FRACTION_PER_DAY = 0.10
"""Pass: the fitted RSS slope, run for a day, adds less than this share of the mean RSS."""


@dataclass(frozen=True)
class Sample:
    t_s: float
    rss_kb: int
    fds: int
    cpu_s: float


def publish(docroot: Path, page: int, version: int) -> None:
    """Replace page `page` with its list at `version`: one new item on top, the older ones below
    (a column that was just updated; the item that drops off the end stays in the database)."""
    # An item's URL and date depend on its number only, so a publish adds exactly one new URL.
    numbers = range(version, version - 20, -1)
    items = "".join(
        f'<li><a href="./t{ITEM_EPOCH + timedelta(days=n):%Y%m%d}_{page}_{n}.html" title="第{n}号通知">'
        f"第{n}号通知</a><span>{ITEM_EPOCH + timedelta(days=n):%Y-%m-%d}</span></li>"
        for n in numbers
    )
    path = docroot / "p" / f"{page}.html"
    # No page number in the title: "栏目404" trips the soft-404 test (a small page titled "…404…").
    head = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告</title></head>'
    body = f"{head}<body><ul>{items}</ul></body></html>"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)


def soak(daemon: Daemon, docroot: Path, args: argparse.Namespace) -> list[Sample]:
    rng = random.Random(1)
    started = time.monotonic()
    next_scrape = started + SCRAPE_EVERY_S
    samples: list[Sample] = []
    versions = dict.fromkeys(range(SITES * PAGES_PER_SITE), 100)
    while (elapsed := time.monotonic() - started) <= args.minutes * 60:
        rss, _ = memory_kb(daemon.pid)
        samples.append(Sample(round(elapsed, 1), rss, open_fds(daemon.pid), cpu_seconds(daemon.pid)))
        print(f"{elapsed:6.0f} s  RSS {rss / 1024:6.1f} MB  fds {samples[-1].fds}", file=sys.stderr)
        for page in rng.sample(range(SITES * PAGES_PER_SITE), CHANGES_PER_SAMPLE):
            versions[page] += 1
            publish(docroot, page, versions[page])
        while time.monotonic() < started + len(samples) * SAMPLE_EVERY_S:
            if time.monotonic() >= next_scrape:
                daemon.scrape()
                next_scrape += SCRAPE_EVERY_S
            time.sleep(0.5)
    return samples


def verdict(samples: list[Sample]) -> tuple[list[list[str]], bool | None]:
    """Summary rows and pass/fail, judged on the samples after the warm-up round (None: too few).

    A leak grows at the same rate all along; caches that fill up (SQLite's page cache, the
    allocator's arenas) grow less and less. So the slope is fitted on each half of the steady
    samples, and the verdict reads the second half's.
    """
    steady = [s for s in samples if s.t_s >= WARMUP_S]
    if len(steady) < MIN_STEADY_SAMPLES:
        return [], None
    half = len(steady) // 2
    early, late = steady[:half], steady[half:]
    mean_rss = sum(s.rss_kb for s in steady) / len(steady) / 1024
    rss_slopes = [slope_per_hour([(s.t_s, s.rss_kb / 1024) for s in part]) for part in (early, late)]
    fd_slopes = [slope_per_hour([(s.t_s, s.fds) for s in part]) for part in (early, late)]
    rss_ok = rss_slopes[1] * 24 < RSS_PASS_FRACTION_PER_DAY * mean_rss
    # In-flight checks and scrapes hold a socket or two at any sample: compare medians, not maxima.
    fds_ok = statistics.median(s.fds for s in late) <= statistics.median(s.fds for s in early)
    rows = [
        _row("RSS (MB)", [s.rss_kb / 1024 for s in samples], steady[0].rss_kb / 1024, rss_slopes, rss_ok, ".1f"),
        _row("open fds", [float(s.fds) for s in samples], float(steady[0].fds), fd_slopes, fds_ok, ".0f"),
    ]
    return rows, rss_ok and fds_ok


def _row(name: str, values: list[float], settled: float, slopes: list[float], ok: bool, fmt: str) -> list[str]:
    return [
        name,
        f"{values[0]:{fmt}}",
        f"{settled:{fmt}}",
        f"{values[-1]:{fmt}}",
        f"{max(values):{fmt}}",
        f"{slopes[0]:+.2f} / {slopes[1]:+.2f}",
        "pass" if ok else "FAIL",
    ]


def failures(db: Path) -> str:
    """Checks that were not up, by result and error kind (the soak expects none)."""
    rows = db_rows(
        db,
        "SELECT r.name, coalesce(e.name, '-'), count(*) FROM checks c JOIN result_names r ON r.code = c.result"
        " LEFT JOIN error_kind_names e ON e.code = c.error_kind WHERE r.name != 'up' GROUP BY 1, 2",
    )
    return ", ".join(f"{n} {result}/{kind}" for result, kind, n in rows) or "none"


def write_csv(path: Path, samples: list[Sample]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t_s", "rss_kb", "open_fds", "cpu_s"])
        writer.writerows([[s.t_s, s.rss_kb, s.fds, round(s.cpu_s, 2)] for s in samples])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--csv", type=Path, help="write the sampled series here")
    args = parser.parse_args()
    pages = SITES * PAGES_PER_SITE
    settings = DaemonSettings(
        pages=pages,
        interval_s=COLUMN_INTERVAL_S,
        concurrency=2,
        jitter_s=0.0,
        sites=SITES,
        homepage_interval_s=HOMEPAGE_INTERVAL_S,
    )
    with workspace("bench-soak-") as tmp:
        build_docroot(tmp / "www", pages)
        with Nginx(tmp / "nginx", tmp / "www") as nginx, Daemon(tmp / "daemon", nginx.base_url, settings) as daemon:
            samples = soak(daemon, tmp / "www", args)
        checks, up = daemon.checks_between(0, time.time() + 1)
        failed = failures(daemon.db)
    if args.csv:
        write_csv(args.csv, samples)
    rows, passed = verdict(samples)
    if passed is None:
        last = samples[-1]
        print(f"\nquick check: {checks} checks, {up} up (not up: {failed})")
        print(f"RSS {last.rss_kb / 1024:.1f} MB, {last.fds} open fds")
        print("too short to judge a trend (run at least 3 minutes)")
        return 0 if checks and up == checks else 1
    facts = machine_facts()
    print(
        f"\n{SITES} sites x {PAGES_PER_SITE} pages, homepages every {HOMEPAGE_INTERVAL_S:g} s, columns every "
        f"{COLUMN_INTERVAL_S:g} s; {args.minutes:g} min, {len(samples)} samples;"
        f" {checks} checks, {up} up (not up: {failed})"
    )
    print(f"machine: {facts['nproc']} CPUs, {facts['cpu']}, Python {facts['python']}, {facts['date']}\n")
    headers = [
        "series",
        "first",
        f"after warm-up ({WARMUP_S:g} s)",
        "last",
        "max",
        "slope per hour, 1st / 2nd half",
        "verdict",
    ]
    print(markdown_table(headers, rows))
    print("\nPASS: no upward trend in RSS or open descriptors" if passed else "\nFAIL: an upward trend (see the table)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
