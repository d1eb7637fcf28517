"""Page checks stay on time while a link sweep runs in the daemon (issue 12: scheduler lag p99 < 1 s).

    python3 -m bench.links_lag [--bench-pages 200] [--depth 3] [--max-pages 2000]

Runs the real daemon (`monitor run`, a child process) against the simulated portal with dead links:
the portal's pages plus BENCH_PAGES more, every one checked every second, and link passes on with no
spacing (the hardest case for the event loop: the sweep never waits). Reads the daemon's
`portal_monitor_scheduler_lag_seconds` histogram when the daemon is ready and again when the sweep
has ended, and prints the quantiles of the checks that started in between (bucket upper bounds).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from monitor.sim import SimPage, SimPortal
from tests.support.daemon_harness import RunningDaemon, sim_config

LAG = "portal_monitor_scheduler_lag_seconds"


def buckets(daemon: RunningDaemon) -> dict[float, float]:
    """Cumulative bucket counts by upper bound."""
    out = {}
    for (name, labels), value in daemon.samples().items():
        if name == f"{LAG}_bucket":
            out[float(dict(labels)["le"])] = value
    return out


def quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding the q-quantile of the observations in between."""
    bounds = sorted(after)
    total = after[bounds[-1]] - before.get(bounds[-1], 0.0)
    for bound in bounds:
        if after[bound] - before.get(bound, 0.0) >= q * total:
            return bound
    return float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-pages", type=int, default=200)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--max-pages", type=int, default=2000)
    args = parser.parse_args()
    with SimPortal(dead_links=True) as sim, tempfile.TemporaryDirectory() as tmp:
        pages = sim.pages() + [SimPage(f"b{i}", sim.url(f"/bench/{i}.html"), "page") for i in range(args.bench_pages)]
        links = {"spacing": 0, "max_depth": args.depth, "max_pages": args.max_pages}
        config = sim_config(Path(tmp), sim, pages=pages, interval="1s", defaults={"links": links})
        with RunningDaemon(config) as daemon:
            before, started = buckets(daemon), time.monotonic()
            daemon.wait_for(
                lambda: daemon.value("portal_link_pass_last_timestamp_seconds", site="sim", kind="sweep"),
                timeout_s=900,
                what="the sweep",
            )
            after, took = buckets(daemon), time.monotonic() - started
            links_checked = sum(
                v for (n, labels), v in daemon.samples().items() if n == "portal_links" and ("kind", "sweep") in labels
            )
            daemon.terminate()
    checks = after[max(after)] - before.get(max(after), 0.0)
    print(f"pages checked every 1 s: {len(pages)}; sweep: {links_checked:.0f} distinct links in {took:.1f} s")
    print(f"checks started during the sweep: {checks:.0f}")
    for q in (0.5, 0.9, 0.99):
        print(f"  scheduler lag p{round(q * 100)} <= {quantile(before, after, q)} s")


if __name__ == "__main__":
    main()
