"""Where the daemon's memory goes: bench.province's set-up, smaller and readable from outside.

Usage: python3 -m bench.memory [--sites 100] [--pages-per-site 20] [--compress 60] [--at 30,90,150]
       [--trace] [--off links,ipv6,integrity] [--per-page homepages] [--scrape-every 15] [--scrape-from 0] [--top 25]
The daemon runs as `python -m bench._memchild run` (the `monitor` command with a SIGUSR2 hook).
At each `--at` second after spawn it reads: RSS and its anonymous part (/proc smaps_rollup),
glibc's heap (mallinfo2: bytes held, in use, free inside it), the Python objects tracemalloc
sees (`--trace`: every allocation is traced, ~2x slower and more memory, so compare RSS without
it), the count of some kinds of object, and the read workers' RSS. Then the lines and files
holding the most traced memory in the last reading. `--off` turns features off by config to compare
what each one holds: links (link availability), ipv6, integrity.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import Daemon, DaemonSettings, Nginx, build_docroot, workspace
from tests.support.procfs import memory_kb

FEATURES = {
    "links": {"defaults": {"links": {"enabled": False}}},
    "ipv6": {"ipv6": {"enabled": False}},
    "integrity": {"integrity": {"enabled": False}},
}
"""`--off` names and the config that turns each feature off."""


def smaps(pid: int) -> dict[str, int]:
    """/proc/<pid>/smaps_rollup's kB fields (Rss, Anonymous, ...)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name] = int(rest.split()[0])
    return fields


def mappings_mb(pid: int) -> dict[str, float]:
    """Resident anonymous memory by kind of mapping (/proc/<pid>/smaps), in MB: the main heap
    (`[heap]`, brk), glibc's other arenas (anonymous mappings of 64 MiB reserved, one per thread
    group) and the rest (pymalloc's 1 MiB arenas, big malloc blocks, thread stacks)."""
    kinds = {"heap": 0, "arenas": 0, "other anon": 0}
    name, size_kb = "", 0
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and not head[0].endswith(":"):
            low, high = (int(x, 16) for x in head[0].split("-"))
            name, size_kb = (head[5] if len(head) > 5 else ""), (high - low) // 1024
        elif head and head[0] == "Anonymous:":
            kb = int(head[1])
            if name == "[heap]":
                kinds["heap"] += kb
            elif name:
                continue
            elif size_kb >= 60 * 1024 and size_kb <= 64 * 1024 + 4:
                kinds["arenas"] += kb
            else:
                kinds["other anon"] += kb
    return {k: v / 1024 for k, v in kinds.items()}


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def children_rss_mb(pid: int) -> list[float]:
    """RSS of the process's children (the read workers, a sweep child) in MB."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [memory_kb(child)[0] / 1024 for child in pids if Path(f"/proc/{child}").exists()]


def reading(daemon: Daemon, folder: Path, number: int, timeout_s: float = 120.0) -> dict[str, Any]:
    """Signal the daemon and wait for its reading `number`, with /proc's view added."""
    rollup = smaps(daemon.pid)
    os.kill(daemon.pid, signal.SIGUSR2)
    path = folder / f"{number}.json"
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no reading {number} from the daemon in {timeout_s:g} s")
        time.sleep(0.2)
    data: dict[str, Any] = json.loads(path.read_text())
    data["rss_kb"], data["hwm_kb"] = memory_kb(daemon.pid)
    data["anon_kb"] = rollup.get("Anonymous", 0)
    data["children_mb"] = children_rss_mb(daemon.pid)
    data["mappings_mb"] = mappings_mb(daemon.pid)
    data["threads"] = threads(daemon.pid)
    return data


def row(t: float, r: dict[str, Any], pages: int) -> str:
    m = r["mallinfo"]
    mb = 1024 * 1024
    heap = (m.get("arena", 0) + m.get("hblkhd", 0)) / mb
    traced = r.get("traced_total", 0) / mb
    py = r.get("pymalloc", {})
    children = "+".join(f"{c:.0f}" for c in r["children_mb"])
    return (
        f"| {t:.0f} | {r['rss_kb'] / 1024:.0f} | {r['hwm_kb'] / 1024:.0f} | {r['anon_kb'] / 1024:.0f} | {heap:.0f} "
        f"| {m.get('uordblks', 0) / mb:.0f} | {m.get('fordblks', 0) / mb:.0f} | {traced:.0f} "
        f"| {r['rss_kb'] * 1024 / pages / 1000:.1f} | {r['gc_objects']:,} | {children} | {r['threads']} "
        f"| {' / '.join(f'{v:.0f}' for v in r['mappings_mb'].values())} "
        f"| {py.get('arena_bytes', 0) / mb:.0f} / {py.get('allocated_blocks', 0) / mb:.0f} |"
    )


def report(readings: list[tuple[float, dict[str, Any]]], pages: int, top: int) -> None:
    print(
        "| s after spawn | RSS MB | VmHWM | anon | malloc heap | in use | free in heap | traced (Python) "
        "| RSS kB/page | gc objects | children RSS MB | threads | anon MB: heap / arenas / other "
        "| pymalloc arenas / in blocks |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t, r in readings:
        print(row(t, r, pages))
    last = readings[-1][1]
    print("\nobjects:", json.dumps(last["objects"]))
    for key, title in (("traced_files", "files"), ("traced_top", "lines")):
        if key in last:
            print(f"\ntraced memory by {title} (last reading): MB, count")
            for name, size, count in last[key][:top]:
                print(f"  {size / 1048576:8.2f} {count:9,}  {name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--pages-per-site", type=int, default=20)
    parser.add_argument("--compress", type=float, default=60.0)
    parser.add_argument("--at", default="30,90,150", help="seconds after spawn of each reading")
    parser.add_argument("--trace", action="store_true", help="trace Python allocations (tracemalloc)")
    parser.add_argument("--off", default="", help=f"features turned off: {','.join(FEATURES)}")
    parser.add_argument("--per-page", choices=["all", "homepages"], default="homepages")
    parser.add_argument("--scrape-every", type=float, default=15.0, help="seconds between scrapes (0: none)")
    parser.add_argument("--scrape-from", type=float, default=0.0, help="first scrape this long after spawn")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    pages = args.sites * args.pages_per_site
    overrides: dict[str, Any] = {}
    for name in filter(None, args.off.split(",")):
        for section, value in FEATURES[name].items():
            overrides[section] = {**overrides.get(section, {}), **value}
    settings = DaemonSettings(
        pages=pages, interval_s=3600 / args.compress, concurrency=8, sites=args.sites,
        homepage_interval_s=600 / args.compress, per_page=args.per_page, overrides=overrides,
    )  # fmt: skip
    times = [float(t) for t in args.at.split(",")]
    with workspace("bench-memory-") as tmp:
        build_docroot(tmp / "www", pages)
        folder = tmp / "readings"
        folder.mkdir()
        env = {"MEMCHILD_DIR": str(folder), **({"MEMCHILD_TRACE": "1"} if args.trace else {})}
        with Nginx(tmp / "nginx", tmp / "www") as nginx:
            spawned = time.time()
            with Daemon(tmp / "daemon", nginx.base_url, settings, module="bench._memchild", env=env) as daemon:
                readings = run(daemon, folder, spawned, times, args.scrape_every, args.scrape_from)
    print(f"\n{args.sites} sites x {args.pages_per_site} pages = {pages}, compress {args.compress:g}, "
          f"off: {args.off or '-'}, per_page {args.per_page}, trace {args.trace}\n")  # fmt: skip
    report(readings, pages, args.top)
    print("\nload average:", " / ".join(f"{x:.2f}" for x in os.getloadavg()))


def run(daemon: Daemon, folder: Path, spawned: float, times: list[float], every_s: float, from_s: float) -> list[Any]:
    """Readings at `times` after `spawned`, scraping /metrics every `every_s` from `from_s` after it
    (bench.province scrapes from the end of its warm-up)."""
    readings = []
    next_scrape = spawned + from_s
    for number, at in enumerate(times, start=1):
        while time.time() < spawned + at:
            if every_s and time.time() >= next_scrape:
                daemon.scrape()
                next_scrape = time.time() + every_s
            time.sleep(max(0.0, min(1.0, spawned + at - time.time())))
        readings.append((time.time() - spawned, reading(daemon, folder, number)))
        print(row(readings[-1][0], readings[-1][1], 1), file=sys.stderr)
    return readings


if __name__ == "__main__":
    main()
