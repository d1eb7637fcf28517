"""Page checks stay on time while a link sweep runs in the daemon (issue 12: scheduler lag p99 < 1 s).

    python3 -m bench.links_lag [--bench-pages 50] [--site-pages 2000] [--depth 30] [--max-pages 5000]

Runs the real daemon (`monitor run`, a child process) against two sites: the simulated portal with
dead links (its pages plus BENCH_PAGES more, every one checked every second) and a generated site of
SITE_PAGES pages x 20 links (served from this process, its homepage checked every second too), with
link passes on and no spacing (the hardest case for the event loop: the sweeps never wait). Reads the
daemon's `portal_monitor_scheduler_lag_seconds` histogram when the daemon is ready and again when the
generated site's sweep has ended, and prints the quantiles of the checks that started in between
(bucket upper bounds). The scheduler's lag ends when a check starts; a page check then waits for a
slot of its host's budget, which it shares with the link checks (issue 12: one budget per host), so
the bench also prints `portal_monitor_check_send_lag_seconds` (scheduled time to the request going
out), and the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import yaml

from monitor.sim import SimPage, SimPortal
from tests.support.daemon_harness import RunningDaemon, sim_config
from tests.support.static_site import serving

LAG = "portal_monitor_scheduler_lag_seconds"
SEND_LAG = "portal_monitor_check_send_lag_seconds"


def generated_site(pages: int, seed: int = 12) -> dict[str, bytes]:
    """PAGES pages of 20 links each (the next page, 14 random pages, 3 images, 2 missing pages)."""
    rng = random.Random(seed)
    site = {}
    for i in range(pages):
        targets = [f"/p/{(i + 1) % pages}.html", *(f"/p/{rng.randrange(pages)}.html" for _ in range(14))]
        targets += [f"/img/{rng.randrange(100)}.png" for _ in range(3)]
        targets += [f"/gone/{rng.randrange(50)}.html" for _ in range(2)]
        links = "".join(f'<li><a href="{t}">链接{n}</a></li>' for n, t in enumerate(targets))
        site[f"/p/{i}.html"] = f"<html><head><title>页面{i}</title></head><body><ul>{links}</ul></body></html>".encode()
    site["/"] = site["/p/0.html"]
    site.update({f"/img/{k}.png": b"\x89PNG" for k in range(100)})
    return site


def add_site(config: Path, base_url: str) -> None:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["sites"].append(
        {"name": "big", "title": "生成站点", "base_url": base_url, "discover": False,
         "pages": [{"name": "home", "url": "/", "kind": "homepage"}]}
    )  # fmt: skip
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def buckets(daemon: RunningDaemon, family: str = LAG) -> dict[float, float]:
    """Cumulative bucket counts by upper bound."""
    out = {}
    for (name, labels), value in daemon.samples().items():
        if name == f"{family}_bucket":
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
    parser.add_argument("--bench-pages", type=int, default=50)
    parser.add_argument("--site-pages", type=int, default=2000)
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--max-pages", type=int, default=5000)
    args = parser.parse_args()
    big = generated_site(args.site_pages)
    with SimPortal(dead_links=True) as sim, serving(big) as base, tempfile.TemporaryDirectory() as tmp:
        pages = sim.pages() + [SimPage(f"b{i}", sim.url(f"/bench/{i}.html"), "page") for i in range(args.bench_pages)]
        links = {"spacing": 0, "max_depth": args.depth, "max_pages": args.max_pages, "concurrency": 4}
        # One budget per host (both sites live on 127.0.0.1): 6 in flight, the link checks' 4 and at
        # least 2 for the page checks, the totals of the two separate budgets this replaced.
        defaults = {"links": links, "per_host_concurrency": 6}
        config = sim_config(Path(tmp), sim, pages=pages, interval="1s", defaults=defaults)
        add_site(config, base)
        with RunningDaemon(config) as daemon:
            before, started, sent_before = buckets(daemon), time.monotonic(), buckets(daemon, SEND_LAG)
            load_before = os.getloadavg()[0]
            daemon.wait_for(
                lambda: daemon.value("portal_link_pass_last_timestamp_seconds", site="big", kind="sweep"),
                timeout_s=900,
                what="the sweep",
            )
            after, took, sent_after = buckets(daemon), time.monotonic() - started, buckets(daemon, SEND_LAG)
            load_after = os.getloadavg()[0]
            swept = sum(
                v for (n, labels), v in daemon.samples().items() if n == "portal_links" and ("kind", "sweep") in labels
            )
            daemon.terminate()
    checks = after[max(after)] - before.get(max(after), 0.0)
    print(f"pages checked every 1 s: {len(pages) + 1}; sweeps: {swept:.0f} distinct links in {took:.1f} s")
    print(f"checks started during the sweep: {checks:.0f}")
    for q in (0.5, 0.9, 0.99):
        print(f"  scheduler lag p{round(q * 100)} <= {quantile(before, after, q)} s")
    for q in (0.5, 0.9, 0.99):
        print(f"  send lag (scheduler + host slot) p{round(q * 100)} <= {quantile(sent_before, sent_after, q)} s")
    print(f"load average (1 min) at start / end: {load_before:.2f} / {load_after:.2f}")


if __name__ == "__main__":
    main()
