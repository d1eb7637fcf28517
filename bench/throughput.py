"""Check throughput and CPU per check of `monitor run`, beside a bare httpx loop on the same pages.

Usage: python3 -m bench.throughput [--pages 1000] [--rates 300,600] [--concurrency 8] [--reps 3]
Both sides fetch the same N pages from a local nginx with the same concurrency and a fresh connection
per request at the same offered rate, one after the other, alternating, `--reps` times.
Prints a markdown table of medians and the overhead ratio (daemon CPU per check / bare CPU per request).
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench._common import Daemon, DaemonSettings, Nginx, build_docroot, machine_facts, stop_process, workspace
from tests.support.paths import REPO
from tests.support.procfs import cpu_seconds
from tests.support.stats import bucket_delta, buckets, histogram_quantile, markdown_table

BARE_WARMUP_S = 3.0
"""The bare loop has no first round to recover from: a few seconds open the connections' code paths."""
SKIPPED = "skipped: maximum number of running instances reached"
"""APScheduler's warning when a page's next run comes while its previous check is still going."""


@dataclass(frozen=True)
class Run:
    """One measuring window of one side."""

    side: str
    offered: float
    requests: int
    ok: int
    wall_s: float
    cpu_s: float
    nginx_cpu_s: float
    lag_p99_s: float = float("nan")
    skipped: int = 0

    @property
    def per_s(self) -> float:
        return self.requests / self.wall_s

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_s / max(1, self.requests)

    @property
    def nginx_ms(self) -> float:
        return 1000 * self.nginx_cpu_s / max(1, self.requests)


def daemon_run(nginx: Nginx, args: argparse.Namespace, rate: float, workdir: Path, tree: Path, side: str) -> Run:
    """The real daemon with N pages at interval N/rate; the window opens after every page was read once
    and spans whole intervals (each page checked the same number of times)."""
    interval = args.pages / rate
    settings = DaemonSettings(pages=args.pages, interval_s=interval, concurrency=args.concurrency)
    with Daemon(workdir, nginx.base_url, settings, tree) as daemon:
        # The first round reads every list (extraction) and runs late; the rounds after it catch up.
        time.sleep(max(args.warmup, 4 * interval + 5))
        before, _, _ = daemon.scrape()
        skipped0 = daemon.log().count(SKIPPED)
        cpu0, nginx0, t0 = cpu_seconds(daemon.pid), nginx.cpu_seconds(), time.time()
        time.sleep(math.ceil(args.window / interval) * interval)
        cpu1, nginx1, t1 = cpu_seconds(daemon.pid), nginx.cpu_seconds(), time.time()
        after, _, _ = daemon.scrape()
        skipped = daemon.log().count(SKIPPED) - skipped0
    checks, up = daemon.checks_between(t0, t1)
    lag = bucket_delta(
        buckets(before, "portal_monitor_scheduler_lag_seconds"), buckets(after, "portal_monitor_scheduler_lag_seconds")
    )
    return Run(
        side=side,
        offered=rate,
        requests=checks,
        ok=up,
        wall_s=t1 - t0,
        cpu_s=cpu1 - cpu0,
        nginx_cpu_s=nginx1 - nginx0,
        lag_p99_s=histogram_quantile(lag, 0.99),
        skipped=skipped,
    )


def bare_run(nginx: Nginx, args: argparse.Namespace, rate: float) -> Run:
    """The bare httpx loop in its own process, its CPU read from /proc at the window's edges."""
    command = [
        sys.executable,
        str(Path(__file__).resolve().parent / "_bare_httpx.py"),
        f"--url-template={nginx.base_url}p/{{i}}.html",
        f"--pages={args.pages}",
        f"--rate={rate}",
        f"--concurrency={args.concurrency}",
        f"--warmup={BARE_WARMUP_S}",
        f"--window={args.window}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        start = process.stdout.readline().split()
        cpu0, nginx0, t0 = cpu_seconds(process.pid), nginx.cpu_seconds(), time.monotonic()
        end = process.stdout.readline().split()
        cpu1, nginx1, t1 = cpu_seconds(process.pid), nginx.cpu_seconds(), time.monotonic()
        process.wait(60)
    finally:
        stop_process(process)
    if len(start) < 3 or len(end) < 3:
        raise RuntimeError("the bare httpx loop failed (see its output above)")
    return Run(
        side="bare httpx",
        offered=rate,
        requests=int(end[1]) - int(start[1]),
        ok=int(end[2]) - int(start[2]),
        wall_s=t1 - t0,
        cpu_s=cpu1 - cpu0,
        nginx_cpu_s=nginx1 - nginx0,
    )


def daemon_sides(args: argparse.Namespace) -> list[tuple[str, Path]]:
    sides = [("monitor run", REPO)]
    if args.baseline_tree:
        sides.append((f"monitor run @ {args.baseline_tree.name}", args.baseline_tree))
    return sides


def measure(nginx: Nginx, args: argparse.Namespace, tmp: Path) -> dict[tuple[str, float], list[Run]]:
    """Alternate the sides so a noisy neighbour hits them alike."""
    runs: dict[tuple[str, float], list[Run]] = {}
    for rep in range(args.reps):
        for rate in args.rates:
            done = [
                daemon_run(nginx, args, rate, tmp / f"daemon-{rate:g}-{rep}-{i}", tree, side)
                for i, (side, tree) in enumerate(daemon_sides(args))
            ]
            done.append(bare_run(nginx, args, rate))
            for run in done:
                runs.setdefault((run.side, rate), []).append(run)
                print(
                    f"rep {rep + 1} rate {rate:g}: {run.side}: {run.per_s:.0f}/s, {run.cpu_ms:.2f} CPU-ms",
                    file=sys.stderr,
                )
    return runs


def med(runs: list[Run], attr: str) -> float:
    return statistics.median(getattr(run, attr) for run in runs)


def spread(runs: list[Run], attr: str, fmt: str = ".2f") -> str:
    values = [getattr(run, attr) for run in runs]
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def table(runs: dict[tuple[str, float], list[Run]], args: argparse.Namespace) -> str:
    headers = [
        "offered rate",
        "side",
        "checks/s",
        "CPU-ms per check",
        "CPU % of one core",
        "nginx CPU-ms per request",
        "up %",
        "sched. lag p99 (s)",
        "runs skipped",
    ]
    rows = []
    daemons = [side for side, _ in daemon_sides(args)]
    for rate in args.rates:
        for side in [*daemons, "bare httpx"]:
            group = runs[(side, rate)]
            offered = f"{rate:g}/s"
            requests = sum(r.requests for r in group)
            up = 100 * sum(r.ok for r in group) / max(1, requests)
            lag = med(group, "lag_p99_s") if side in daemons else float("nan")
            rows.append(
                [
                    offered,
                    side,
                    spread(group, "per_s", ".0f"),
                    spread(group, "cpu_ms"),
                    f"{100 * med(group, 'cpu_s') / med(group, 'wall_s'):.0f}",
                    f"{med(group, 'nginx_ms'):.2f}",
                    f"{up:.1f}",
                    "–" if lag != lag else f"{lag:.2f}",
                    sum(r.skipped for r in group) if side in daemons else "–",
                ]
            )
        bare = med(runs[("bare httpx", rate)], "cpu_ms")
        for side in daemons:
            ratio = med(runs[(side, rate)], "cpu_ms") / bare
            rows.append([offered, f"**overhead ratio** {side} / bare", "", f"**{ratio:.2f}×**", "", "", "", "", ""])
    return markdown_table(headers, rows)


def parse_rates(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pages", type=int, default=1000, help="distinct URLs (default 1000)")
    parser.add_argument("--rates", type=parse_rates, default=[300.0, 600.0], help="offered checks/s")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (per_host_concurrency)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before the window (at least 4 rounds)")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured")
    parser.add_argument(
        "--baseline-tree", type=Path, help="also run the daemon from this checkout (before/after a change)"
    )
    args = parser.parse_args()
    with workspace("bench-throughput-") as tmp:
        served = build_docroot(tmp / "www", args.pages)
        with Nginx(tmp / "nginx", tmp / "www") as nginx:
            runs = measure(nginx, args, tmp)
    facts = machine_facts()
    print(f"\n{args.pages} pages ({served}), concurrency {args.concurrency}, {args.reps} reps × {args.window:g} s")
    print(f"machine: {facts['nproc']} CPUs, {facts['cpu']}, Python {facts['python']}, {facts['date']}\n")
    print(table(runs, args))


if __name__ == "__main__":
    main()
