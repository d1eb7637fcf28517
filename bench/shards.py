"""Shards: N daemons (`monitor run --shard K/N`) on one machine against one daemon with the same pages.

Usage: python3 -m bench.shards [--sites 5000] [--pages-per-site 20] [--shards 4] [--compress 6]
       [--stagger SECONDS] [--window SECONDS] [--warmup-max SECONDS] [--single yes|no] [--corpus] [--smoke]
The same config (sites of 20 pages, the first of each its homepage: homepages every 10 min and
columns hourly, compressed like bench.province) is run first as N shards side by side, each
monitoring the sites rendezvous hashing gives it, then as one daemon with every page. The shards
start --stagger seconds apart (by default the length of one shard's first round at the daemon's
STARTUP_RATE, as an operator rolls them out: each first round while the others are steady; 0:
all at once). Each side warms up until every page has been checked once (the first round reads
every list; --warmup-max caps the wait, counted from the last daemon's spawn), then one window is
measured while each daemon's /metrics is scraped every 15 s:
checks, CPU of each daemon with its read workers (/proc, all threads and child processes), RSS
(main process, and with the read workers; PSS, which counts shared pages once), VmHWM, the
scheduling-lag histogram's p50/p99 per daemon, and afterwards the CPU of one scrape.
The window is one column interval unless --window says otherwise.
--smoke: tiny sizes and a short window, to see the machinery work (about a minute).
Pages are small generated list pages unless --corpus (real gov.cn pages: the first round then
extracts every page, ~10 ms of CPU each, too slow for 100,000 pages here).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench._common import Daemon, DaemonSettings, Nginx, build_docroot, fetch_text, machine_facts, workspace
from monitor.daemon import STARTUP_RATE
from monitor.shard import shard_of
from tests.support.daemon_harness import db_rows
from tests.support.procfs import cpu_seconds, main_thread_cpu_seconds, memory_kb
from tests.support.stats import Samples, bucket_delta, buckets, histogram_quantile

LAG = "portal_monitor_scheduler_lag_seconds"
SCRAPE_EVERY_S = 15.0
SAMPLE_EVERY_S = 5.0


# -- a process and its read workers in /proc ---------------------------------------------------


def descendants(pid: int) -> list[int]:
    """The process's children, theirs, and so on (the daemon's read workers)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *descendants(int(child))]
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of the process and its living descendants."""
    total = 0.0
    for each in (pid, *descendants(pid)):
        with contextlib.suppress(OSError):
            total += cpu_seconds(each)
    return total


def pss_kb(pid: int) -> int:
    """Proportional set size: resident pages, each shared page split among its sharers."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


@dataclass(frozen=True)
class Memory:
    """One sample, in kB: the main process's RSS, with its descendants' RSS, and their PSS."""

    rss: int
    tree_rss: int
    tree_pss: int


def memory_sample(pid: int) -> Memory:
    rss = memory_kb(pid)[0]
    others = descendants(pid)
    tree = rss
    for each in others:
        with contextlib.suppress(OSError):
            tree += memory_kb(each)[0]
    return Memory(rss, tree, sum(pss_kb(p) for p in (pid, *others)))


# -- one daemon's window ---------------------------------------------------------------------------


@dataclass
class Measured:
    """What one daemon did in the window."""

    name: str
    pages: int
    warmup_s: float = 0.0
    warm: bool = False
    checked: int = 0
    """Pages checked at least once when the warm-up ended (all of them when `warm`)."""
    warmup_cpu_s: float = 0.0
    """CPU from spawn to the end of the warm-up: start-up and the first round."""
    spawned: float = 0.0
    spawned_epoch: float = 0.0
    checks: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    memory: list[Memory] = field(default_factory=list)
    hwm_kb: int = 0
    lag: list[tuple[float, float]] = field(default_factory=list)
    scrape_cpu_s: float = 0.0
    samples: int = 0
    t0: float = 0.0
    cpu0: float = 0.0
    before: Samples | None = None

    def peak(self, attr: str) -> float:
        """The largest sample of `attr` in MB."""
        return max((getattr(m, attr) for m in self.memory), default=0) / 1024


def pages_checked(db: Path) -> int:
    """Distinct pages with at least one check (0 before the database has its tables)."""
    try:
        return int(db_rows(db, "SELECT count(DISTINCT page_id) FROM checks")[0][0])
    except Exception:  # not created yet, or locked for a moment: not warm yet
        return 0


def warm_up(daemons: Sequence[Daemon], results: Sequence[Measured], limit_s: float) -> None:
    """Wait until every daemon has checked each of its pages once, or `limit_s` has passed since the
    last one's spawn; each daemon's warm-up is counted from its own spawn."""
    waiting = set(range(len(daemons)))
    deadline = max(r.spawned for r in results) + limit_s
    while waiting and time.monotonic() < deadline:
        time.sleep(2.0)
        for i in sorted(waiting):
            results[i].checked = pages_checked(daemons[i].db)
            if results[i].checked >= results[i].pages:
                mark_warm(daemons[i], results[i], warm=True)
                waiting.discard(i)
    for i in waiting:
        mark_warm(daemons[i], results[i], warm=False)
    time.sleep(2.0)  # the last pages' writes


def mark_warm(daemon: Daemon, r: Measured, warm: bool) -> None:
    """The warm-up's end: when the database's last first check started (polling begins only once
    every shard listens, so a shard spawned early may have been warm for minutes); the CPU is read
    now (an early shard's includes its steady checks since)."""
    r.warmup_s, r.warm = time.monotonic() - r.spawned, warm
    if warm:
        r.warmup_s = min(r.warmup_s, last_first_check(daemon.db) - r.spawned_epoch)
    r.warmup_cpu_s = tree_cpu_seconds(daemon.pid)


def last_first_check(db: Path) -> float:
    """Epoch seconds of the latest first check of a page (the end of the first round)."""
    rows = db_rows(db, "SELECT max(first) FROM (SELECT min(ts_ms) AS first FROM checks GROUP BY page_id)")
    return float(rows[0][0]) / 1000


def window(daemons: Sequence[Daemon], results: Sequence[Measured], window_s: float) -> None:
    """Measure every daemon over the same `window_s`, scraping each every 15 s."""
    for daemon, r in zip(daemons, results, strict=True):
        r.before, _, _ = daemon.scrape()
        r.t0, r.cpu0 = time.time(), tree_cpu_seconds(daemon.pid)
    end = time.monotonic() + window_s
    next_scrape = time.monotonic() + SCRAPE_EVERY_S
    while (now := time.monotonic()) < end:
        for daemon, r in zip(daemons, results, strict=True):
            r.memory.append(memory_sample(daemon.pid))
        if now >= next_scrape:
            for daemon in daemons:
                fetch_text(daemon.metrics_url)  # the load of a Prometheus scrape; not parsed here
            next_scrape += SCRAPE_EVERY_S
        time.sleep(min(SAMPLE_EVERY_S, max(0.0, end - time.monotonic())))
    for daemon, r in zip(daemons, results, strict=True):
        r.cpu_s, r.wall_s = tree_cpu_seconds(daemon.pid) - r.cpu0, time.time() - r.t0
    for daemon, r in zip(daemons, results, strict=True):
        last, _, _ = daemon.scrape()
        assert r.before is not None
        r.lag, r.samples = bucket_delta(buckets(r.before, LAG), buckets(last, LAG)), len(last)
        r.scrape_cpu_s = scrape_cost(daemon)
        r.hwm_kb = memory_kb(daemon.pid)[1]


def scrape_cost(daemon: Daemon, count: int = 3) -> float:
    """CPU seconds of one /metrics scrape: the threads other than the event loop during back-to-back
    scrapes (each scrape renders on a thread of its own)."""
    total0, loop0 = cpu_seconds(daemon.pid), main_thread_cpu_seconds(daemon.pid)
    for _ in range(count):
        daemon.scrape()
    total1, loop1 = cpu_seconds(daemon.pid), main_thread_cpu_seconds(daemon.pid)
    return ((total1 - total0) - (loop1 - loop0)) / count


# -- the two sides -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    sites: int
    pages_per_site: int
    shards: int
    compress: float
    window_s: float
    warmup_max_s: float
    stagger_s: float | None = None
    """Seconds between the shards' spawns; None: one shard's first round (its pages at STARTUP_RATE)."""

    @property
    def pages(self) -> int:
        return self.sites * self.pages_per_site

    @property
    def settings(self) -> DaemonSettings:
        return DaemonSettings(
            pages=self.pages, interval_s=3600 / self.compress, concurrency=8, sites=self.sites,
            homepage_interval_s=600 / self.compress, per_page="homepages",
        )  # fmt: skip

    def shard_pages(self) -> list[int]:
        """Pages each shard monitors: its sites' (named as bench._common names them) times 20."""
        owners = [shard_of(f"bench{s}", self.shards) for s in range(self.sites)]
        return [owners.count(k) * self.pages_per_site for k in range(1, self.shards + 1)]

    def stagger(self) -> float:
        if self.stagger_s is not None:
            return self.stagger_s
        return max(self.shard_pages()) / STARTUP_RATE

    def offered(self) -> float:
        """Checks per second the pages ask for."""
        return (self.sites / 600 + (self.pages - self.sites) / 3600) * self.compress


def run_side(root: Path, base_url: str, plan: Plan, sharded: bool) -> list[Measured]:
    """Start the side's daemons together, warm them up, measure one window; checks come from each
    database after its daemon stopped."""
    if sharded:
        names = [f"shard {k}/{plan.shards}" for k in range(1, plan.shards + 1)]
        results = [Measured(n, p) for n, p in zip(names, plan.shard_pages(), strict=True)]
    else:
        results = [Measured("one daemon", plan.pages)]
    begun = time.monotonic()
    daemons: list[Daemon] = []

    def start(k: int) -> Daemon:
        if sharded:  # rolled out one after another: this shard's first round while the others run steady
            time.sleep(max(0.0, begun + (k - 1) * plan.stagger() - time.monotonic()))
        results[k - 1].spawned, results[k - 1].spawned_epoch = time.monotonic(), time.time()
        workdir = root / (f"shard-{k}" if sharded else "single")
        shard = f"{k}/{plan.shards}" if sharded else None
        daemon = Daemon(workdir, base_url, plan.settings, shard=shard, listen_timeout_s=plan.warmup_max_s)
        daemons.append(daemon)  # stopped in `finally` even when another one failed to start
        return daemon

    try:
        with ThreadPoolExecutor(len(results)) as pool:  # side by side: each reads the whole config
            daemons[:] = list(pool.map(start, range(1, len(results) + 1)))
        print(f"{results[0].name}…: listening after {time.monotonic() - begun:.0f} s", file=sys.stderr)
        warm_up(daemons, results, plan.warmup_max_s)
        window(daemons, results, plan.window_s)
    finally:  # every daemon stopped (its writer flushed) whatever happened
        for daemon in daemons:
            daemon.__exit__(None, None, None)
    for daemon, r in zip(daemons, results, strict=True):
        r.checks = daemon.checks_between(r.t0, r.t0 + r.wall_s)[0]
    return results


# -- the tables ------------------------------------------------------------------------------------


def row(r: Measured, pages: int | None = None) -> str:
    cpu_ms = 1000 * r.cpu_s / max(1, r.checks)
    lag = f"{histogram_quantile(r.lag, 0.5):.3f} / {histogram_quantile(r.lag, 0.99):.3f}" if r.lag else "–"
    warm = f"{r.warmup_s:.0f} s" + ("" if r.warm else f" (not all pages: {r.checked:,} checked)")
    return (
        f"| {r.name} | {pages if pages is not None else r.pages:,} | {warm} | {r.checks / max(r.wall_s, 1e-9):.1f} | "
        f"{cpu_ms:.2f} | {100 * r.cpu_s / max(r.wall_s, 1e-9):.0f}% | {r.peak('rss'):.0f} | {r.peak('tree_rss'):.0f} | "
        f"{r.peak('tree_pss'):.0f} | {r.hwm_kb / 1024:.0f} | {lag} | {r.scrape_cpu_s:.2f} | {r.samples:,} | "
        f"{r.warmup_cpu_s:.0f} |"
    )


def total(results: Sequence[Measured], name: str) -> Measured:
    """The shards as one: sums of pages, checks, CPU and memory (per sample); the longest warm-up."""
    memory = [
        Memory(sum(m.rss for m in ms), sum(m.tree_rss for m in ms), sum(m.tree_pss for m in ms))
        for ms in zip(*(r.memory for r in results), strict=False)
    ]
    return Measured(
        name, sum(r.pages for r in results), warmup_s=max(r.warmup_s for r in results),
        warm=all(r.warm for r in results), checked=sum(r.checked for r in results),
        warmup_cpu_s=sum(r.warmup_cpu_s for r in results), checks=sum(r.checks for r in results),
        wall_s=max(r.wall_s for r in results), cpu_s=sum(r.cpu_s for r in results), memory=memory,
        hwm_kb=sum(r.hwm_kb for r in results), scrape_cpu_s=sum(r.scrape_cpu_s for r in results),
        samples=sum(r.samples for r in results),
    )  # fmt: skip


HEADER = (
    "| daemon | pages | warm-up (every page checked once) | checks/s in window | CPU-ms per check | "
    "CPU % of one core | RSS max MB | RSS with read workers MB | PSS with read workers MB | VmHWM MB | "
    "sched. lag p50 / p99 s | CPU s per scrape | samples per scrape | CPU s to warm (start-up, first round) |\n"
    + "|---" * 14
    + "|"
)


def report(plan: Plan, shards: Sequence[Measured], single: Sequence[Measured], facts: dict[str, str]) -> str:
    lines = [
        f"{plan.sites:,} sites x {plan.pages_per_site} pages = {plan.pages:,} pages, homepages every "
        f"{600 / plan.compress:g} s and columns every {3600 / plan.compress:g} s ({plan.compress:g}x compressed), "
        f"offered {plan.offered():.1f} checks/s; metrics.per_page homepages; window {plan.window_s:g} s, "
        f"/metrics scraped every {SCRAPE_EVERY_S:g} s; shards spawned {plan.stagger():.0f} s apart",
        f"machine: {facts['nproc']} CPUs, {facts['cpu']}, Python {facts['python']}, {facts['date']}",
        "",
        HEADER,
        *(row(r) for r in shards),
        row(total(shards, f"**{len(shards)} shards, sum**")),
        *(row(r) for r in single),
    ]
    if single:
        s, one = total(shards, ""), single[0]
        lines += [
            "",
            f"shards / one daemon: CPU per check {ratio(s.cpu_s / max(1, s.checks), one.cpu_s / max(1, one.checks))}, "
            f"RSS {ratio(s.peak('rss'), one.peak('rss'))}, PSS with read workers "
            f"{ratio(s.peak('tree_pss'), one.peak('tree_pss'))}, CPU per scrape (all shards) "
            f"{ratio(s.scrape_cpu_s, one.scrape_cpu_s)}",
        ]
    s = total(shards, "")
    lines.append(
        f"per page, shards: {1024 * s.peak('rss') / s.pages:.1f} kB RSS, {1024 * s.peak('tree_pss') / s.pages:.1f} kB "
        f"PSS with read workers (idle daemons included)"
    )
    if single and len(shards) > 1:
        lines.append(per_page_split(s, single[0], len(shards)))
    return "\n".join(lines)


def per_page_split(shards: Measured, one: Measured, count: int) -> str:
    """Memory as a fixed cost per daemon plus a cost per page, from the two sides of one run:
    N daemons hold (N - 1) more fixed costs than one daemon with the same pages."""
    parts = []
    for attr, name in (("rss", "RSS"), ("tree_pss", "PSS with read workers")):
        fixed = (shards.peak(attr) - one.peak(attr)) / (count - 1)
        per_page = 1024 * (one.peak(attr) - fixed) / one.pages
        parts.append(f"{name} {fixed:.0f} MB a daemon + {per_page:.2f} kB a page")
    return "fixed + per page (from the two sides): " + "; ".join(parts)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    plan = Plan(
        args.sites, args.pages_per_site, args.shards, args.compress, args.window, args.warmup_max, args.stagger
    )  # fmt: skip
    facts = machine_facts()
    loads = [load_average()]
    with workspace("bench-shards-") as tmp:
        served = build_docroot(tmp / "www", plan.pages, corpus=args.corpus)
        with Nginx(tmp / "nginx", tmp / "www") as nginx:
            shards = run_side(tmp, nginx.base_url, plan, sharded=True)
            loads.append(load_average())
            single = run_side(tmp, nginx.base_url, plan, sharded=False) if args.single == "yes" else []
            loads.append(load_average())
    print(f"\npages: {served}")
    print(report(plan, shards, single, facts))
    print(f"load average (1, 5, 15 min) at start / after the shards / at the end: {' / '.join(loads)}")


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=5000)
    parser.add_argument("--pages-per-site", type=int, default=20)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--compress", type=float, default=6.0, help="time compression (6: 6x the real rate)")
    parser.add_argument(
        "--stagger", type=float, default=None, help="seconds between the shards' spawns (default: one first round)"
    )
    parser.add_argument("--window", type=float, default=None, help="seconds measured on each side (a column interval)")
    parser.add_argument(
        "--warmup-max", type=float, default=900.0, help="longest wait for start-up and the first round (s)"
    )
    parser.add_argument("--single", choices=["yes", "no"], default="yes", help="also run one daemon with every page")
    parser.add_argument("--corpus", action="store_true", help="serve real gov.cn pages (slow first round)")
    parser.add_argument("--smoke", action="store_true", help="40 sites x 5 pages, 300x, 10 s windows")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sites, args.pages_per_site, args.compress, args.window = 40, 5, 300.0, 12.0
    if args.window is None:
        # A whole column interval: the start-up stagger checks every page in the first minutes and
        # each keeps its phase, so a shorter window may see the homepages only.
        args.window = 3600 / args.compress
    return args


if __name__ == "__main__":
    main()
