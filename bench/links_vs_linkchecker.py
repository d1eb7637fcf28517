"""Link checking side by side with LinkChecker 10.x on one static site served by nginx on 127.0.0.1.

    python3 -m bench.links_vs_linkchecker [--pages 2000] [--threads 10] [--memory-links 100000]

Generates PAGES pages x 20 links (plus images, attachments and some broken targets), serves them
with nginx (a `LinkChecker` response header lifts LinkChecker's self-imposed 10 requests/s), runs
LinkChecker and our crawler (monitor.links) as child processes with the same concurrency and no
rate limit, and compares the broken URLs found, distinct URLs per second and CPU per distinct URL
(children's CPU from getrusage). Then measures the RSS a sweep of MEMORY_LINKS distinct links adds.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench._common import machine_facts, stop_process, wait_port, workspace
from monitor.heap import release_free_heap
from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.procfs import memory_kb
from tests.support.stats import markdown_table

LINKS_PER_PAGE = 20
IMAGES, MISSING_IMAGES = 200, 10
ATTACHMENTS, MISSING_ATTACHMENTS = 40, 5
MISSING_PAGES = 30

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    default_type text/html;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {docroot};
        # LinkChecker paces itself to 10 requests/s per host unless the server names it.
        add_header LinkChecker "no-rate-limit" always;
        # The memory run's targets: any path under /x/ exists, without 100,000 files on disk.
        location /x/ {{ return 200 "x"; }}
    }}
}}
"""


def page_html(i: int, links: list[str]) -> str:
    anchors = "\n".join(f'<li><a href="{href}">链接 {i}-{n}</a></li>' for n, href in enumerate(links))
    return f"<!doctype html><html><head><title>页面 {i}</title></head><body><ul>\n{anchors}\n</ul></body></html>\n"


def page_links(i: int, pages: int, rng: random.Random) -> list[str]:
    """20 links: the next page (so every page is reachable), pages, 2 images, 1 attachment, rare misses."""
    links = [f"/p/{(i + 1) % pages}.html"]
    links += [f"/p/{rng.randrange(pages)}.html" for _ in range(14)]
    links += [f"/img/{rng.randrange(IMAGES + MISSING_IMAGES)}.png" for _ in range(2)]
    links.append(f"/doc/{rng.randrange(ATTACHMENTS + MISSING_ATTACHMENTS)}.pdf")
    for _ in range(2):
        missing = rng.random() < 0.02
        links.append(
            f"/p/missing-{rng.randrange(MISSING_PAGES)}.html" if missing else f"/p/{rng.randrange(pages)}.html"
        )
    return links


def build_site(root: Path, pages: int, seed: int = 12) -> tuple[int, set[str]]:
    """Write the site; returns (link occurrences, broken URL paths)."""
    rng = random.Random(seed)
    for folder in ("p", "img", "doc"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for k in range(IMAGES):
        (root / "img" / f"{k}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    for k in range(ATTACHMENTS):
        (root / "doc" / f"{k}.pdf").write_bytes(b"%PDF-1.4\n" + bytes(20_000))
    occurrences, targets = 0, set()
    (root / "index.html").write_text(page_html(-1, [f"/p/{k}.html" for k in range(LINKS_PER_PAGE)]), "utf-8")
    for i in range(pages):
        links = page_links(i, pages, rng)
        occurrences += len(links)
        targets.update(links)
        (root / "p" / f"{i}.html").write_text(page_html(i, links), "utf-8")
    broken = {t for t in targets if not (root / t.lstrip("/")).exists()}
    return occurrences, broken


def build_memory_site(root: Path, links: int) -> None:
    """links/20 pages under /m/, each with 20 distinct targets under /x/ (all answer 200)."""
    (root / "m").mkdir(parents=True, exist_ok=True)
    pages = links // LINKS_PER_PAGE
    index = [f"/m/{k}.html" for k in range(0, pages, pages // 100 or 1)]
    (root / "m" / "index.html").write_text(page_html(-1, index), "utf-8")
    for i in range(pages):
        targets = [f"/x/{i}-{n}.pdf" for n in range(LINKS_PER_PAGE - 1)] + [f"/m/{(i + 1) % pages}.html"]
        (root / "m" / f"{i}.html").write_text(page_html(i, targets), "utf-8")


@contextmanager
def nginx(prefix: Path, docroot: Path) -> Iterator[str]:
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, docroot=docroot))
    process = subprocess.Popen(
        ["/usr/sbin/nginx", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def timed_child(command: list[str], cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run a child to completion: (its result, wall seconds, its user+system CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env, cwd=cwd)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


LINKCHECKER_RC = """\
[checking]
# With the server's LinkChecker header, this lifts LinkChecker's own pacing (10 requests/s per host).
maxrequestspersecond=1000000
"""


def run_linkchecker(base: str, threads: int, out: Path) -> dict[str, Any]:
    """LinkChecker over the site; its text report gives the distinct URLs and the failed ones."""
    (out / "linkcheckerrc").write_text(LINKCHECKER_RC)
    command = ["linkchecker", "-f", "linkcheckerrc", "--threads", str(threads), "--no-status", "--no-warnings"]
    done, wall, cpu = timed_child([*command, "-o", "text", f"{base}/index.html"], cwd=out)
    summary = re.search(r"(\d+) links? in (\d+) URLs? checked", done.stdout)
    if summary is None:
        raise RuntimeError(f"no LinkChecker summary in its output:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return {"wall_s": wall, "cpu_s": cpu, "distinct": int(summary.group(2)), "broken": failed_urls(done.stdout)}


def failed_urls(report: str) -> list[str]:
    """The `Real URL` of every block of LinkChecker's text report whose `Result` is an error."""
    failed = set()
    for block in report.split("\n\n"):
        real = re.search(r"^Real URL\s+(\S+)", block, re.MULTILINE)
        if real and re.search(r"^Result\s+Error", block, re.MULTILINE):
            failed.add(real.group(1))
    return sorted(failed)


def run_ours(base: str, threads: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child-crawl", f"{base}/index.html", "--threads", str(threads)]
    done, wall, cpu = timed_child(command)
    if done.returncode != 0:
        raise RuntimeError(f"our crawler failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    return {"wall_s": wall, "cpu_s": cpu, "distinct": report["distinct"], "broken": report["broken"]}


def bench_settings(threads: int) -> Any:
    """Same concurrency as LinkChecker's threads, no rate limit, no depth or size limits."""
    from monitor.links import LinkSettings

    return LinkSettings(
        concurrency=threads,
        spacing_s=0.0,
        private_hosts=frozenset({"127.0.0.1"}),
        max_depth=10_000,
        max_pages=1_000_000,
        max_links=1_000_000,
    )


def child_crawl(start: str, threads: int) -> None:
    """In the child: sweep the whole site, print the distinct count and the broken URLs as JSON."""
    from monitor.links import LinkChecker, LinkClass, SiteScope, crawl

    async def sweep() -> dict[str, Any]:
        async with LinkChecker(bench_settings(threads)) as checker:
            result = await crawl(checker, SiteScope.of([start]), [start])
        broken = [r.url for r in result.results.values() if r.link_class is LinkClass.BROKEN]
        return {"distinct": len(result.results), "broken": sorted(broken), "pages": result.pages_read}

    print(json.dumps(asyncio.run(sweep())))


def child_memory(start: str, threads: int) -> None:
    """In the child, which plays the daemon: its RSS before, at the peak of and after recorded sweeps
    of every link under `start` (two in a sweep child process, as the daemon runs them, then one on
    its own loop, as before), and the sweep child's peak; as JSON."""
    from monitor.check import HostBudget
    from monitor.links import (
        SWEEP,
        Exclusions,
        LinkCache,
        LinkChecker,
        PassPlan,
        SiteScope,
        run_pass,
        sweep_in_child,
    )
    from monitor.models import SystemClock
    from monitor.store import Store

    clock, me = SystemClock(), os.getpid()
    settings = bench_settings(threads)
    plan = PassPlan("bench", SWEEP, (start,), SiteScope.of([start]), Exclusions(), settings, settings.max_depth)
    peaks = {"self": 0, "child": 0}

    async def sample() -> None:
        while True:
            peaks["self"] = max(peaks["self"], memory_kb(me)[0])
            peaks["child"] = max([peaks["child"], *(memory_kb(pid)[0] for pid in _children(me))])
            await asyncio.sleep(0.2)

    async def sweep(store: Store, in_child: bool) -> int:
        sampler = asyncio.create_task(sample())
        budget = HostBudget(concurrency=threads, spacing_s=0.0, clock=clock)
        if in_child:
            outcome = await sweep_in_child(
                plan, budget=budget, cache=LinkCache(), store=store, clock=clock, submit=store.submit
            )
        else:
            async with LinkChecker(settings, budget=budget, clock=clock) as checker:
                outcome = await run_pass(plan, checker, store, store.submit)
        sampler.cancel()
        store.writer.flush(600)
        return outcome.links

    async def warm_up(store: Store) -> None:
        """A daemon that has run a while: imports, the event loop, the database's caches and a first
        child of each kind of pass used (homepage-deep passes, recorded): not the sweep's memory."""
        shallow = dataclasses.replace(plan, max_depth=0)
        budget = HostBudget(concurrency=threads, spacing_s=0.0, clock=clock)
        await sweep_in_child(shallow, budget=budget, cache=LinkCache(), store=store, clock=clock, submit=store.submit)
        async with LinkChecker(settings, budget=budget, clock=clock) as checker:
            await run_pass(shallow, checker, store, store.submit)
        store.writer.flush(60)

    with workspace("links-memory-") as work:
        store = Store.open(work / "bench.db")
        store.sync_pages([("bench", "bench", start)], [], clock.now())
        store.writer.start()
        asyncio.run(warm_up(store))
        gc.collect()
        report: dict[str, Any] = {"before_kb": memory_kb(me)[0], "sweeps": []}
        for in_child in (True, True, False):  # the second child sweep: does the daemon stay put?
            started = time.perf_counter()
            distinct = asyncio.run(sweep(store, in_child))
            wall = time.perf_counter() - started
            gc.collect()
            after = memory_kb(me)[0]
            sweep_kb = {"peak_kb": peaks["self"], "after_kb": after, "child_peak_kb": peaks["child"]}
            report["sweeps"].append({"in_child": in_child, "distinct": distinct, "wall_s": wall, **sweep_kb})
            peaks.update(self=0, child=0)
            if not in_child:
                continue
            report["sweeps"][-1]["trimmed_kb"] = _malloc_trim()  # what of "after" the allocator still holds
        store.close()
    print(json.dumps({**report, "trimmed_kb": _malloc_trim()}))


def _children(pid: int) -> list[int]:
    """The live child processes of `pid` (the sweep child, while it runs)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _malloc_trim() -> int | None:
    """RSS after glibc hands its free heap pages back (what a long-running daemon can do after a sweep)."""
    if not release_free_heap():
        return None
    return memory_kb(os.getpid())[0]


def compare(
    args: argparse.Namespace, base: str, occurrences: int, expected: set[str], out: Path
) -> tuple[float, float]:
    load = os.getloadavg()[0]
    theirs = run_linkchecker(base, args.threads, out)
    ours = run_ours(base, args.threads)
    load = max(load, os.getloadavg()[0])
    expected_urls = {base + path for path in expected}
    rows = []
    for name, side in (("LinkChecker 10.6", theirs), ("monitor.links", ours)):
        distinct, wall, cpu, found = side["distinct"], side["wall_s"], side["cpu_s"], set(side["broken"])
        verdict = "= expected" if found == expected_urls else "DIFFERS"
        rows.append([name, distinct, f"{wall:.2f}", f"{cpu:.2f}", f"{distinct / wall:.0f}",
                     f"{1000 * cpu / distinct:.2f}", f"{len(found)} ({verdict})"])  # fmt: skip
    speed = (ours["distinct"] / ours["wall_s"]) / (theirs["distinct"] / theirs["wall_s"])
    cpu_ratio = (ours["cpu_s"] / ours["distinct"]) / (theirs["cpu_s"] / theirs["distinct"])
    print(f"site: {args.pages} pages, {occurrences} link occurrences, {len(expected)} broken targets; "
          f"{args.threads} threads each\n")  # fmt: skip
    print(markdown_table(["checker", "distinct URLs", "wall s", "CPU s", "URLs/s", "CPU ms/URL", "broken found"], rows))
    print(f"\nours / LinkChecker: {speed:.1f}x the distinct URLs per second, {cpu_ratio:.2f}x the CPU per URL"
          f" (load average up to {load:.1f} during the run)")  # fmt: skip
    if set(theirs["broken"]) != set(ours["broken"]):
        print("broken sets differ:", sorted(set(theirs["broken"]) ^ set(ours["broken"])))
    return speed, cpu_ratio


def memory(args: argparse.Namespace, base: str) -> None:
    command = [sys.executable, __file__, "--child-memory", f"{base}/m/index.html", "--threads", str(args.threads)]
    load = os.getloadavg()
    done, _, cpu = timed_child(command)
    if done.returncode != 0:
        raise RuntimeError(f"memory sweep failed:\n{done.stderr[-3000:]}")
    r = json.loads(done.stdout)

    def mib(kb: int, relative: bool = True) -> str:
        return f"{kb / 1024:.0f} MiB ({(kb - r['before_kb']) / 1024:+.0f})" if relative else f"{kb / 1024:.0f} MiB"

    print(f"\nmemory: recorded sweeps of {r['sweeps'][0]['distinct']} distinct URLs ({cpu:.0f}s CPU in all, "
          f"load average {load[0]:.1f} at the start); daemon RSS before {r['before_kb'] / 1024:.0f} MiB")  # fmt: skip
    rows = [[f"{n}: {'child process' if s['in_child'] else 'daemon loop'}", f"{s['wall_s']:.0f}", mib(s["peak_kb"]),
             mib(s["after_kb"]), mib(s["trimmed_kb"]) if s.get("trimmed_kb") else "-",
             mib(s["child_peak_kb"], False) if s["in_child"] else "-"]
            for n, s in enumerate(r["sweeps"], 1)]  # fmt: skip
    header = ["sweep", "wall s", "daemon peak RSS", "daemon RSS after", "after malloc_trim", "sweep child peak RSS"]
    print(markdown_table(header, rows))
    trimmed = mib(r["trimmed_kb"]) if r["trimmed_kb"] is not None else "n/a"
    print(f"after all and malloc_trim: {trimmed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="side-by-side runs (the median ratios are printed)")
    parser.add_argument("--memory-links", type=int, default=100_000, help="0 skips the memory run")
    parser.add_argument("--child-crawl", help=argparse.SUPPRESS)
    parser.add_argument("--child-memory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_crawl:
        return child_crawl(args.child_crawl, args.threads)
    if args.child_memory:
        return child_memory(args.child_memory, args.threads)
    print(" ".join(f"{k}={v}" for k, v in machine_facts().items()))
    with workspace("links-bench-") as work:
        docroot = work / "site"
        occurrences, expected = build_site(docroot, args.pages)
        if args.memory_links:
            build_memory_site(docroot, args.memory_links)
        with nginx(work / "nginx", docroot) as base:
            ratios = [compare(args, base, occurrences, expected, work) for _ in range(args.runs)]
            speeds, cpus = sorted(r[0] for r in ratios), sorted(r[1] for r in ratios)
            if ratios:
                median_speed, median_cpu = speeds[len(speeds) // 2], cpus[len(cpus) // 2]
                print(
                    f"\nmedian of {args.runs} runs: {median_speed:.1f}x the URLs/s, {median_cpu:.2f}x the CPU per URL"
                )
            if args.memory_links:
                memory(args, base)


if __name__ == "__main__":
    main()
