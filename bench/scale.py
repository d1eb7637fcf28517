"""Scale: `monitor run` with 10,000 pages on a local nginx, beside Debian's blackbox_exporter.

Usage: python3 -m bench.scale [--pages 10000] [--interval 100] [--window 100] [--blackbox-window 60]
The daemon checks every page once per interval; after a warm-up interval (the first round reads
every list) one window is measured: checks/s, CPU per check, RSS, scheduling lag, write batches,
with /metrics scraped every 15 s as Prometheus would (--scrape-every). Then prometheus-blackbox-exporter probes the
same pages at the same rate and concurrency, driven through /probe. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench._common import (
    Daemon,
    DaemonSettings,
    Nginx,
    build_docroot,
    machine_facts,
    stop_process,
    wait_port,
    workspace,
)
from tests.support.daemon_harness import db_rows
from tests.support.ports import free_port
from tests.support.procfs import cpu_seconds, main_thread_cpu_seconds, memory_kb
from tests.support.stats import bucket_delta, buckets, histogram_quantile, markdown_table, percentile

LAG = "portal_monitor_scheduler_lag_seconds"
BATCH = "portal_monitor_db_write_batch_seconds"

BLACKBOX_CONFIG = """\
modules:
  http_2xx:
    prober: http
    timeout: 15s
    http:
      preferred_ip_protocol: ip4
"""


@dataclass
class DaemonResult:
    checks: int = 0
    up: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    scrape_cpu_s: float = 0.0
    scrapes_in_window: int = 0
    rss_kb: list[int] = field(default_factory=list)
    rss_unscraped_kb: int = 0
    hwm_kb: int = 0
    start_s: float = 0.0
    lag_hist: list[tuple[float, float]] = field(default_factory=list)
    batch_hist: list[tuple[float, float]] = field(default_factory=list)
    db_lags: list[float] = field(default_factory=list)
    scrape_s: list[float] = field(default_factory=list)
    scrape_bytes: int = 0
    scrape_series: int = 0


@dataclass
class BlackboxResult:
    probes: int = 0
    ok: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    rss_kb: int = 0


# -- the daemon side ----------------------------------------------------------------------------


def run_daemon(nginx: Nginx, args: argparse.Namespace, workdir: Path) -> DaemonResult:
    result = DaemonResult()
    settings = DaemonSettings(pages=args.pages, interval_s=args.interval, concurrency=args.concurrency)
    started = time.monotonic()
    with Daemon(workdir, nginx.base_url, settings) as daemon:
        result.start_s = time.monotonic() - started
        print(f"daemon listening after {result.start_s:.1f} s; warming up {args.warmup:g} s", file=sys.stderr)
        time.sleep(args.warmup)
        result.rss_unscraped_kb = memory_kb(daemon.pid)[0]
        before, _, _ = daemon.scrape()
        t0, cpu0 = time.time(), cpu_seconds(daemon.pid)
        sample_window(daemon, args.window, args.scrape_every, result)
        t1, cpu1 = time.time(), cpu_seconds(daemon.pid)
        result.wall_s, result.cpu_s = t1 - t0, cpu1 - cpu0
        # One more scrape closes the window: the histograms then hold every observation made in it.
        last, seconds, size = daemon.scrape()
        result.scrape_s.append(seconds)
        result.scrape_bytes, result.scrape_series = size, len(last)
        result.lag_hist = bucket_delta(buckets(before, LAG), buckets(last, LAG))
        result.batch_hist = bucket_delta(buckets(before, BATCH), buckets(last, BATCH))
        result.scrape_cpu_s = scrape_cost(daemon, result)
        result.hwm_kb = memory_kb(daemon.pid)[1]
    result.checks, result.up = daemon.checks_between(t0, t1)
    result.db_lags = schedule_lags(daemon.db, args.interval, t0, t1)
    return result


def sample_window(daemon: Daemon, window_s: float, scrape_every_s: float, result: DaemonResult) -> None:
    """Sleep through the window, reading RSS every 5 s and scraping /metrics every `scrape_every_s`."""
    end = time.monotonic() + window_s
    next_scrape = time.monotonic() + scrape_every_s if scrape_every_s > 0 else float("inf")
    while (now := time.monotonic()) < end:
        result.rss_kb.append(memory_kb(daemon.pid)[0])
        if now >= next_scrape:
            samples, seconds, size = daemon.scrape()
            result.scrape_s.append(seconds)
            result.scrape_bytes, result.scrape_series = size, len(samples)
            result.scrapes_in_window += 1
            next_scrape += scrape_every_s
        time.sleep(min(5.0, max(0.0, end - time.monotonic())))


def scrape_cost(daemon: Daemon, result: DaemonResult, count: int = 5) -> float:
    """Daemon CPU seconds per /metrics scrape: what threads other than the event loop used during
    back-to-back scrapes (each scrape runs on a thread of its own; the writer's share is small)."""
    total0, loop0 = cpu_seconds(daemon.pid), main_thread_cpu_seconds(daemon.pid)
    for _ in range(count):
        _, seconds, _ = daemon.scrape()
        result.scrape_s.append(seconds)
    total1, loop1 = cpu_seconds(daemon.pid), main_thread_cpu_seconds(daemon.pid)
    return ((total1 - total0) - (loop1 - loop0)) / count


def schedule_lags(db: Path, interval_s: float, since: float, until: float) -> list[float]:
    """How late each scheduled check in the window started, against its page's own schedule.

    APScheduler schedules a page's next run one interval after the previous *scheduled* time, so a
    page's checks lie on a grid t_i + k * interval; t_i is taken from the page's least late check
    (the daemon does not store it), which makes these lags a lower bound. The check's time is when
    its request started, so waiting for a per-host slot counts as lag, as it does for a reader.
    """
    rows = db_rows(db, "SELECT page_id, ts_ms / 1000.0 FROM checks WHERE attempt = 0 ORDER BY page_id, ts_ms")
    by_page: dict[int, list[float]] = {}
    for page_id, ts in rows:
        by_page.setdefault(page_id, []).append(ts)
    lags = []
    for times in by_page.values():
        grid = [ts - round((ts - times[0]) / interval_s) * interval_s for ts in times]
        origin = min(grid)
        lags += [g - origin for g, ts in zip(grid, times, strict=True) if since <= ts < until]
    return lags


# -- the blackbox_exporter side -----------------------------------------------------------------


def run_blackbox(nginx: Nginx, args: argparse.Namespace, workdir: Path) -> BlackboxResult:
    exporter = shutil.which("prometheus-blackbox-exporter")
    if exporter is None:
        raise SystemExit("prometheus-blackbox-exporter is not installed (apt-get install prometheus-blackbox-exporter)")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "blackbox.yml").write_text(BLACKBOX_CONFIG)
    port = free_port()
    command = [
        exporter,
        f"--config.file={workdir / 'blackbox.yml'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, process)
        return drive_blackbox(nginx, args, process.pid, port)
    finally:
        stop_process(process)


def drive_blackbox(nginx: Nginx, args: argparse.Namespace, pid: int, port: int) -> BlackboxResult:
    """Hit /probe for every page at the daemon's rate and concurrency; read the exporter's CPU at the window."""
    target = f"{nginx.base_url}p/{{i}}.html"
    command = [
        sys.executable,
        str(Path(__file__).resolve().parent / "_bare_httpx.py"),
        f"--url-template=http://127.0.0.1:{port}/probe?module=http_2xx&target={target}",
        f"--pages={args.pages}",
        f"--rate={args.pages / args.interval}",
        f"--concurrency={args.concurrency}",
        "--warmup=5",
        f"--window={args.blackbox_window}",
        "--keepalive",
        "--expect=\nprobe_success 1",
    ]
    load = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert load.stdout is not None
        start = load.stdout.readline().split()
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        end = load.stdout.readline().split()
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        rss = memory_kb(pid)[0]
        load.wait(60)
    finally:
        stop_process(load)
    if len(start) < 3 or len(end) < 3:
        raise RuntimeError("the load loop driving blackbox_exporter failed")
    return BlackboxResult(
        probes=int(end[1]) - int(start[1]),
        ok=int(end[2]) - int(start[2]),
        wall_s=t1 - t0,
        cpu_s=cpu1 - cpu0,
        rss_kb=rss,
    )


# -- report -------------------------------------------------------------------------------------


def comparison_table(d: DaemonResult, b: BlackboxResult) -> str:
    scrape_share = d.scrape_cpu_s * d.scrapes_in_window
    daemon_ms = 1000 * (d.cpu_s - scrape_share) / max(1, d.checks)
    blackbox_ms = 1000 * b.cpu_s / max(1, b.probes)
    rows = [
        [
            "monitor run",
            f"{d.checks / d.wall_s:.1f}",
            f"{100 * d.up / max(1, d.checks):.1f}",
            f"{daemon_ms:.2f}",
            f"{1000 * d.cpu_s / max(1, d.checks):.2f}",
            f"{max(d.rss_kb) / 1024:.0f}",
        ],
        [
            "blackbox_exporter",
            f"{b.probes / b.wall_s:.1f}",
            f"{100 * b.ok / max(1, b.probes):.1f}",
            f"{blackbox_ms:.2f}",
            "–",
            f"{b.rss_kb / 1024:.0f}",
        ],
        ["**ratio** (monitor / blackbox)", "", "", f"**{daemon_ms / blackbox_ms:.2f}×**", "", ""],
    ]
    headers = ["side", "checks/s", "up %", "CPU-ms per check", "… incl. /metrics scrapes", "RSS MB"]
    return markdown_table(headers, rows)


def daemon_table(d: DaemonResult, args: argparse.Namespace) -> str:
    ms = [1000 * s for s in d.scrape_s]
    rows = [
        ["pages / interval", f"{args.pages} / {args.interval:g} s (offered {args.pages / args.interval:g} checks/s)"],
        ["start-up (spawn to /metrics listening)", f"{d.start_s:.1f} s"],
        ["RSS after warm-up, before any /metrics scrape", f"{d.rss_unscraped_kb / 1024:.0f} MB"],
        [
            "RSS during the window (min / max), VmHWM",
            f"{min(d.rss_kb) / 1024:.0f} / {max(d.rss_kb) / 1024:.0f} MB, {d.hwm_kb / 1024:.0f} MB",
        ],
        ["checks in the window (offered: pages)", f"{d.checks:,} ({args.window / args.interval * args.pages:,.0f})"],
        ["scheduling lag p50 / p99 / max (DB, vs each page's grid)", lag_cell(d.db_lags)],
        [
            "scheduling lag p50 / p99 (daemon histogram)",
            f"{histogram_quantile(d.lag_hist, 0.5):.3f} / {histogram_quantile(d.lag_hist, 0.99):.3f} s",
        ],
        [
            "write batches in window; p50 / p99 (histogram)",
            f"{int(d.batch_hist[-1][1]) if d.batch_hist else 0}; {histogram_quantile(d.batch_hist, 0.5) * 1000:.1f} / "
            f"{histogram_quantile(d.batch_hist, 0.99) * 1000:.1f} ms",
        ],
        [
            "/metrics scrape: wall p50 / max, size, samples",
            f"{statistics.median(ms):.0f} / {max(ms):.0f} ms, {d.scrape_bytes / 1e6:.1f} MB, {d.scrape_series:,}",
        ],
        ["/metrics scrape: daemon CPU per scrape", f"{1000 * d.scrape_cpu_s:.0f} ms"],
    ]
    return markdown_table(["measure", "value"], rows)


def lag_cell(lags: list[float]) -> str:
    if not lags:
        return "no checks"
    return f"{percentile(lags, 0.5):.3f} / {percentile(lags, 0.99):.3f} / {max(lags):.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=100.0, help="seconds (10,000 / 100 s = 100 checks/s)")
    parser.add_argument("--concurrency", type=int, default=8, help="per_host_concurrency, and the probe loop's")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before the window (default: 1.5 intervals)")
    parser.add_argument("--window", type=float, default=None, help="seconds measured (default: interval)")
    parser.add_argument("--blackbox-window", type=float, default=60.0)
    parser.add_argument(
        "--scrape-every", type=float, default=15.0, help="seconds between /metrics scrapes in the window (0: none)"
    )
    args = parser.parse_args()
    # The first round reads every page (extraction) and runs late at 10,000 pages; half an
    # interval more lets it finish before the window opens.
    args.warmup = 1.5 * args.interval if args.warmup is None else args.warmup
    args.window = args.interval if args.window is None else args.window
    with workspace("bench-scale-") as tmp:
        served = build_docroot(tmp / "www", args.pages)
        with Nginx(tmp / "nginx", tmp / "www") as nginx:
            daemon = run_daemon(nginx, args, tmp / "daemon")
            print("blackbox_exporter ...", file=sys.stderr)
            blackbox = run_blackbox(nginx, args, tmp / "blackbox")
    facts = machine_facts()
    print(f"\n{args.pages} pages ({served}), concurrency {args.concurrency}, window {args.window:g} s")
    print(f"machine: {facts['nproc']} CPUs, {facts['cpu']}, Python {facts['python']}, {facts['date']}\n")
    print(daemon_table(daemon, args))
    print()
    print(comparison_table(daemon, blackbox))


if __name__ == "__main__":
    main()
