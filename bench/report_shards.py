"""Benchmark: a year's report merged from shard databases (`monitor report --db A --db B ...`)
against the report of one database holding the same history (issue 16: under 5 s).

A simulated year of the sites' checks (`monitor.sim.generate`, the generator of bench.report_bench:
homepages every 10 min, the catalogue and columns hourly, each site its own outages, blips and
items) is written twice: every site into one database, as one daemon would keep it, and each site
into the database of the shard that rendezvous hashing gives it. Then the real CLI is timed as a
subprocess on both, in each format (wall and CPU time: on a shared machine wall time is mostly
waiting for a core), and the figures are compared: the bench fails (exit 1) when a merged report
differs from the single-database one (generation time aside), or takes --goal CPU seconds or more.

Usage: python3 -m bench.report_shards [--sites 20] [--pages-per-site 20] [--shards 4] [--days 365]
       [--runs 3] [--dir /tmp/bench-report-shards] [--keep]
The databases are generated again unless --keep finds them in --dir.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.models import Page
from monitor.shard import shard_of
from monitor.sim import HistorySpec, generate
from monitor.store import Store, WriterSettings
from tests.support.generated import without_generation_time
from tests.support.paths import REPO

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
YEAR = "2018"
TEXT_FORMATS = ("json", "zh", "table", "csv")
FILE_FORMATS = ("xlsx", "html")
_HTML_GENERATED = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?([+-]\d\d:\d\d)?")


@dataclass(frozen=True)
class Layout:
    """Where the history is: one database with every site, and one per shard."""

    root: Path
    sites: tuple[str, ...]
    shards: int

    @property
    def whole(self) -> Path:
        return self.root / "whole.db"

    def shard(self, k: int) -> Path:
        return self.root / f"monitor.shard-{k}-of-{self.shards}.db"

    @property
    def shard_dbs(self) -> list[Path]:
        return [self.shard(k) for k in range(1, self.shards + 1)]

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"


def site_names(count: int) -> tuple[str, ...]:
    return tuple(f"site{i:04d}" for i in range(count))


def spec(index: int, site: str, columns: int, days: float) -> HistorySpec:
    """Each site its own troubles (seed); the daemon's runs (no stop, no crash) are the same for
    every site, as they are for the sites of one daemon."""
    return HistorySpec(
        start=START, days=days, columns=columns, seed=100 + index, site=site, title=f"基准{index}局",
        base_url=f"http://{site}.example/", chunk_s=86400.0, stops=0, crash=False,
    )  # fmt: skip


def generate_history(layout: Layout, pages_per_site: int, days: float) -> int:
    """Write every site's history into the whole database and into its shard's; returns the
    number of raw checks in the whole database (the shards hold the same)."""
    settings = WriterSettings(batch_max=20_000, linger_s=0.0, max_backlog=5_000_000)
    whole = Store.open(layout.whole, writer_settings=settings)
    shards = {k: Store.open(layout.shard(k), writer_settings=settings) for k in range(1, layout.shards + 1)}
    pages: dict[str, list[Page]] = {}
    checks = 0
    for index, site in enumerate(layout.sites):
        one = spec(index, site, pages_per_site - 2, days)
        made = generate(whole, one, max_backlog=400_000)
        pages[site], checks = list(made.pages), checks + made.checks
        generate(shards[shard_of(site, layout.shards)], one, max_backlog=400_000)
        print(f"  {index + 1}/{len(layout.sites)} sites, {checks:,} checks", file=sys.stderr)
    # Each generate() retired the pages of the sites before it in its database: a daemon monitors
    # all of its sites at once.
    end = START + days * 86400
    for k, store in ((0, whole), *shards.items()):
        mine = [s for s in layout.sites if k in (0, shard_of(s, layout.shards))]
        store.sync_pages([(s, f"基准{layout.sites.index(s)}局", f"http://{s}.example/") for s in mine],
                         [p for s in mine for p in pages[s]], end)  # fmt: skip
    for store in (whole, *shards.values()):
        store.close()
    return checks


def write_config(layout: Layout) -> None:
    """The sites as the config names them (the report takes titles and the sites' list from it)."""
    lines = ["timezone: Asia/Shanghai", "sites:"]
    for index, site in enumerate(layout.sites):
        lines += [f"  - name: {site}", f"    title: 基准{index}局", f"    base_url: http://{site}.example/",
                  "    pages:", "      - {name: homepage, url: /, kind: homepage}",
                  "      - {name: xxgk, url: /xxgk/, kind: catalogue}"]  # fmt: skip
    layout.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def db_args(dbs: Sequence[Path]) -> list[str]:
    return [arg for db in dbs for arg in ("--db", str(db))]


def run_report(layout: Layout, dbs: Sequence[Path], args: Sequence[str]) -> tuple[float, bytes]:
    """(seconds, stdout) of one `monitor report` subprocess."""
    seconds, _, stdout = run_report_cpu(layout, dbs, args)
    return seconds, stdout


def run_report_cpu(layout: Layout, dbs: Sequence[Path], args: Sequence[str]) -> tuple[float, float, bytes]:
    """(wall seconds, CPU seconds, stdout) of one `monitor report` subprocess: CPU time does not
    depend on what else the shared machine runs, wall time does."""
    command = [sys.executable, "-m", "monitor", "report", "-c", str(layout.config), *db_args(dbs), *args]
    cpu0, started = _children_cpu(), time.monotonic()
    done = subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return time.monotonic() - started, _children_cpu() - cpu0, done.stdout


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def comparable(fmt: str, output: bytes) -> str:
    """What must be equal between the merged and the single-database report."""
    text = output.decode("utf-8-sig")
    if fmt == "json":
        data = json.loads(text)
        data.pop("generated", None)
        return json.dumps(data, sort_keys=True, ensure_ascii=False)
    if fmt == "html":
        return _HTML_GENERATED.sub("<time>", text)
    return without_generation_time(text)


@dataclass(frozen=True)
class Timing:
    label: str
    single_s: float
    merged_s: float
    single_cpu_s: float
    merged_cpu_s: float
    equal: bool | None
    """None: not compared (a binary workbook carries its creation time)."""


def time_format(layout: Layout, fmt: str, runs: int, extra: Sequence[str] = ()) -> Timing:
    """Median seconds of `runs` reports on the whole database and on the shards, alternating."""
    out = layout.root / f"report.{fmt}"
    args = ["--year", YEAR, "--format", fmt, *extra, *(["-o", str(out)] if fmt in FILE_FORMATS else [])]
    times: dict[str, list[tuple[float, float]]] = {"single": [], "merged": []}
    outputs: dict[str, bytes] = {}
    for _ in range(runs):
        for name, dbs in (("single", [layout.whole]), ("merged", layout.shard_dbs)):
            seconds, cpu, stdout = run_report_cpu(layout, dbs, args)
            times[name].append((seconds, cpu))
            outputs[name] = out.read_bytes() if fmt in FILE_FORMATS else stdout
    equal = None if fmt == "xlsx" else comparable(fmt, outputs["single"]) == comparable(fmt, outputs["merged"])
    label = f"`--year {YEAR} --format {fmt}{' ' + ' '.join(extra) if extra else ''}`"
    wall = {name: statistics.median(t for t, _ in pairs) for name, pairs in times.items()}
    cpu = {name: statistics.median(c for _, c in pairs) for name, pairs in times.items()}
    return Timing(label, wall["single"], wall["merged"], cpu["single"], cpu["merged"], equal)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    layout = Layout(Path(args.dir), site_names(args.sites), args.shards)
    if not (args.keep and layout.whole.exists()):
        shutil.rmtree(layout.root, ignore_errors=True)
        layout.root.mkdir(parents=True)
        started = time.monotonic()
        checks = generate_history(layout, args.pages_per_site, args.days)
        print(f"generated {checks:,} checks twice in {time.monotonic() - started:.0f} s", file=sys.stderr)
    write_config(layout)
    timings = [time_format(layout, fmt, args.runs) for fmt in (*TEXT_FORMATS, *FILE_FORMATS)]
    timings.append(time_format(layout, "json", args.runs, ["--overview"]))
    timings.append(time_format(layout, "zh", args.runs, ["--overview"]))
    print_results(layout, args, timings)
    if any(t.equal is False for t in timings) or max(t.merged_cpu_s for t in timings) >= args.goal:
        sys.exit(1)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--pages-per-site", type=int, default=20, help="homepage, catalogue and columns (>= 2)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--goal", type=float, default=5.0, help="CPU seconds a merged report may take at most")
    parser.add_argument("--dir", default="/tmp/bench-report-shards")
    parser.add_argument("--keep", action="store_true", help="reuse the databases in --dir")
    return parser.parse_args(argv)


def print_results(layout: Layout, args: argparse.Namespace, timings: list[Timing]) -> None:
    rows = [sqlite3.connect(db).execute("SELECT count(*) FROM checks").fetchone()[0] for db in layout.shard_dbs]
    sites = [sum(shard_of(s, layout.shards) == k for s in layout.sites) for k in range(1, layout.shards + 1)]
    sizes = [db.stat().st_size / 1e6 for db in layout.shard_dbs]
    print(f"\n{len(layout.sites)} sites x {args.pages_per_site} pages, {args.days:g} days, {layout.shards} shards")
    print(
        f"raw checks per shard: {', '.join(f'{n:,}' for n in rows)} (sites {sites}; whole.db "
        f"{layout.whole.stat().st_size / 1e6:.0f} MB, shards {' + '.join(f'{s:.0f}' for s in sizes)} MB)"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    print(
        f"| report (median of {args.runs}) | one database: wall / CPU | {layout.shards} shard databases merged: "
        "wall / CPU | merged / one (CPU) | figures equal |"
    )
    print("|---|---|---|---|---|")
    for t in timings:
        same = "not compared (binary)" if t.equal is None else ("yes" if t.equal else "**NO**")
        print(
            f"| {t.label} | {t.single_s:.2f} / {t.single_cpu_s:.2f} s | {t.merged_s:.2f} / {t.merged_cpu_s:.2f} s | "
            f"{t.merged_cpu_s / t.single_cpu_s:.2f}× | {same} |"
        )


if __name__ == "__main__":
    main()
