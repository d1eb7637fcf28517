"""Province: 1,000 sites x 20 pages (20,000 pages) on one daemon, time-compressed like bench.scale.

Usage: python3 -m bench.province [--sites 1000] [--pages-per-site 20] [--compress 10] [--window SECONDS]
       [--per-page homepages] [--scrape-every 15]
A province checks homepages every 10 min and columns hourly: ~6.9 checks/s. `--compress 10` runs
the same pages ten times faster (homepages every 60 s, columns every 360 s: ~69 checks/s) against
a local nginx. After a warm-up of one column interval (every page checked once: the first round
reads every list) one window of a column interval is measured while /metrics is scraped every 15 s
(`--scrape-every`): checks/s, CPU per check, RSS and VmHWM, the daemon's scheduling-lag histogram, and each
scrape's CPU (as the daemon times it: portal_monitor_scrape_cpu_seconds); then the first round's spread (every
page's first check after the daemon was spawned, from the database).
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass

from bench._common import Daemon, DaemonSettings, Nginx, build_docroot, machine_facts, workspace
from tests.support.daemon_harness import db_rows
from tests.support.procfs import cpu_seconds, memory_kb
from tests.support.stats import bucket_delta, buckets, histogram_quantile

LAG = "portal_monitor_scheduler_lag_seconds"
SCRAPE_CPU = "portal_monitor_scrape_cpu_seconds"


@dataclass
class ProvinceResult:
    checks: int
    wall_s: float
    cpu_s: float
    rss_mb: tuple[float, float]
    hwm_mb: float
    lag_p50: float
    lag_p99: float
    scrape_cpu_s: list[float]
    """CPU of each scrape in the window (the metrics thread's), checks going on between them."""
    scrape_bytes: int
    scrape_samples: int
    first_round: FirstRound


@dataclass(frozen=True)
class FirstRound:
    """When each page was first checked, counted from the daemon's start."""

    first_s: float
    last_s: float
    peak_per_s: int
    """Most first checks started in any one second."""


def first_round(daemon: Daemon, spawned: float) -> FirstRound:
    """The first round's spread, from the database (every page's earliest check)."""
    rows = db_rows(daemon.db, "SELECT min(ts_ms) FROM checks GROUP BY page_id")
    firsts = sorted(int(row[0]) / 1000 - spawned for row in rows)
    per_second = collections.Counter(int(t) for t in firsts)
    return FirstRound(firsts[0], firsts[-1], max(per_second.values()))


def measure(daemon: Daemon, spawned: float, warmup_s: float, window_s: float, every_s: float) -> ProvinceResult:
    """Warm up, then one window with a scrape every `every_s` (0: none between its edges), each
    one's CPU as the daemon timed it in its metrics thread, with the checks going on between them,
    as Prometheus would see it. The first scrape (before the window) formats everything: its CPU
    is the first value."""
    time.sleep(warmup_s)
    before, _, _ = daemon.scrape()
    t0, cpu0 = time.time(), cpu_seconds(daemon.pid)
    rss, scrapes = [], []
    end = time.monotonic() + window_s
    while time.monotonic() < end:
        rss.append(memory_kb(daemon.pid)[0] / 1024)
        if every_s:
            samples, _, _ = daemon.scrape()
            scrapes.append(samples[(SCRAPE_CPU, ())])  # the previous scrape's, as the daemon timed it
        time.sleep(max(0.0, min(every_s or 15.0, end - time.monotonic())))
    t1, cpu1 = time.time(), cpu_seconds(daemon.pid)
    last, _, size = daemon.scrape()
    scrapes.append(last[(SCRAPE_CPU, ())])
    lag = bucket_delta(buckets(before, LAG), buckets(last, LAG))
    hwm = memory_kb(daemon.pid)[1] / 1024
    checks, _ = daemon.checks_between(t0, t1)
    return ProvinceResult(
        checks, t1 - t0, cpu1 - cpu0, (min(rss), max(rss)), hwm,
        histogram_quantile(lag, 0.5), histogram_quantile(lag, 0.99), scrapes, size, len(last),
        first_round(daemon, spawned),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--pages-per-site", type=int, default=20)
    parser.add_argument("--compress", type=float, default=10.0, help="time compression (10: 10x the real rate)")
    parser.add_argument("--window", type=float, default=None, help="seconds measured (default: a column interval)")
    parser.add_argument("--per-page", choices=["all", "homepages"], default="homepages")
    parser.add_argument("--scrape-every", type=float, default=15.0, help="seconds between scrapes (0: none)")
    args = parser.parse_args()
    pages = args.sites * args.pages_per_site
    home_s, column_s = 600 / args.compress, 3600 / args.compress
    window_s = column_s if args.window is None else args.window
    settings = DaemonSettings(
        pages=pages, interval_s=column_s, concurrency=8, sites=args.sites, homepage_interval_s=home_s,
        per_page=args.per_page,
    )  # fmt: skip
    with workspace("bench-province-") as tmp:
        build_docroot(tmp / "www", pages)
        with Nginx(tmp / "nginx", tmp / "www") as nginx:
            spawned = time.time()
            with Daemon(tmp / "daemon", nginx.base_url, settings) as daemon:
                print(f"warming up {column_s:g} s", file=sys.stderr)
                r = measure(daemon, spawned, column_s, window_s, args.scrape_every)
    offered = args.sites / home_s + (pages - args.sites) / column_s
    facts = machine_facts()
    print(
        f"\n{args.sites} sites x {args.pages_per_site} pages = {pages}, homepages every {home_s:g} s, "
        f"columns every {column_s:g} s ({args.compress:g}x), metrics.per_page {args.per_page}"
    )
    print(f"machine: {facts['nproc']} CPUs, {facts['cpu']}, Python {facts['python']}, {facts['date']}\n")
    later = r.scrape_cpu_s[1:] or [math.nan]  # none with --scrape-every 0
    rows = [
        ("checks/s in the window (offered)", f"{r.checks / r.wall_s:.1f} ({offered:.1f})"),
        (f"CPU-ms per check (scrapes every {args.scrape_every:g} s included)",
         f"{1000 * r.cpu_s / max(1, r.checks):.2f}"),
        ("CPU share of one core in the window", f"{100 * r.cpu_s / r.wall_s:.0f}%"),
        ("... at the real rate (/ compression)", f"{100 * r.cpu_s / r.wall_s / args.compress:.1f}%"),
        ("RSS in the window min / max", f"{r.rss_mb[0]:.0f} / {r.rss_mb[1]:.0f} MB"),
        ("VmHWM", f"{r.hwm_mb:.0f} MB"),
        ("scheduling lag p50 / p99 (daemon histogram)", f"{r.lag_p50:.3f} / {r.lag_p99:.3f} s"),
        ("/metrics: CPU of the first scrape; of the later ones median / max; bytes, samples",
         f"{r.scrape_cpu_s[0]:.3f} s; {statistics.median(later):.3f} / {max(later):.3f} s; "
         f"{r.scrape_bytes / 1e6:.1f} MB, {r.scrape_samples:,}"),
        ("first round: first / last page's first check after spawn, peak first checks per second",
         f"{r.first_round.first_s:.1f} / {r.first_round.last_s:.1f} s, {r.first_round.peak_per_s}"),
        ("load average (1 / 5 / 15 min) at the end", " / ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]  # fmt: skip
    print("| measure | value |\n|---|---|")
    print("\n".join(f"| {k} | {v} |" for k, v in rows))


if __name__ == "__main__":
    main()
