"""Benchmark: a year of minutely checks of 50 pages through the store's write path, then
`monitor report` timings (the real CLI, median of several runs), DB bytes per check, the
rollups-vs-raw ratio, and the longest transaction of a retention prune.

Writes the "Reports" section of docs/benchmarks.md. The database is left outside the repository.
Usage: python3 -m bench.report_bench [--days 365] [--pages 50] [--interval 60] [--dir /tmp/bench-report]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from monitor.sim import HistorySpec, generate
from monitor.store import Prune, Store, WriterSettings
from tests.support.paths import REPO as ROOT

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
BEGIN, END = "<!-- reports:begin -->", "<!-- reports:end -->"


def main() -> None:
    args = _arguments()
    workdir = Path(args.dir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    db = workdir / "monitor.db"
    spec = HistorySpec(start=START, days=args.days, columns=args.pages - 2, interval_s=args.interval, chunk_s=3600)
    rows: list[tuple[str, str]] = []
    checks, seconds, longest_batch = _generate(db, spec)
    rows.append(("generated checks (through the store's WriteOps and writer thread)", f"{checks:,}"))
    rows.append(("write rate (checks/s, incl. rollup ticks every simulated hour)", f"{checks / seconds:,.0f}"))
    rows.append(("longest writer transaction during generation", f"{longest_batch * 1000:.0f} ms"))
    rows += _sizes(db, checks)
    config = _config(workdir, db)
    year, month = "2018", "2018-06"
    timings = {
        f"--year {year}": _median(config, ["--year", year, "--format", "json"], args.runs),
        f"--month {month}": _median(config, ["--month", month, "--format", "json"], args.runs),
        f"--year {year} --format zh": _median(config, ["--year", year, "--format", "zh"], args.runs),
    }
    raw = _median(config, ["--year", year, "--format", "json", "--raw"], 1)
    for name, value in timings.items():
        rows.append((f"`monitor report {name}` (median of {args.runs})", f"{value:.3f} s"))
    rows.append((f"`--year {year} --raw` (raw checks only, 1 run)", f"{raw:.1f} s"))
    rows.append(("raw-only / rollups (same DB, same machine)", f"{raw / timings[f'--year {year}']:,.0f}×"))
    rows += _prune(db, config, spec)
    _write(rows, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", default="/tmp/bench-report")
    parser.add_argument("--no-write", action="store_true", help="Print the table only.")
    return parser.parse_args()


def _generate(db: Path, spec: HistorySpec) -> tuple[int, float, float]:
    settings = WriterSettings(batch_max=20_000, linger_s=0.0, max_backlog=5_000_000)
    store = Store.open(db, writer_settings=settings)
    started = time.monotonic()
    made = generate(store, spec, max_backlog=400_000)
    seconds = time.monotonic() - started
    longest = max(store.writer.take_batch_seconds(), default=0.0)
    store.close()
    print(f"generated {made.checks:,} checks in {seconds:.0f} s", file=sys.stderr)
    return made.checks, seconds, longest


def _sizes(db: Path, checks: int) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tables = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    conn.close()
    rollups = sum(v for k, v in tables.items() if k.startswith("rollup_"))
    size = db.stat().st_size
    return [
        ("DB file size", f"{size / 1e6:,.0f} MB"),
        ("file bytes per raw check", f"{size / checks:.1f} B"),
        ("`checks` table bytes per raw check (dbstat)", f"{tables['checks'] / checks:.1f} B"),
        ("rollup tables (dbstat)", f"{rollups / 1e6:.1f} MB ({rollups / size:.1%} of the file)"),
    ]


def _config(workdir: Path, db: Path) -> Path:
    path = workdir / "config.yaml"
    path.write_text(
        f"storage: {{path: {db}}}\nsites:\n  - name: demo\n    title: 示例市交通运输局\n"
        "    base_url: http://bureau.example/\n    pages:\n      - {name: homepage, url: /, kind: homepage}\n",
        encoding="utf-8",
    )
    return path


def _median(config: Path, args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        command = [sys.executable, "-m", "monitor", "report", "-c", str(config), *args]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - started)
    return statistics.median(times)


def _prune(db: Path, config: Path, spec: HistorySpec) -> list[tuple[str, str]]:
    """Retention of half the year, as `monitor db prune` runs it (one transaction per step)."""
    before = _report_json(config)
    store = Store.open(db)
    rows = sum(c.rows for c in store.prune_candidates(spec.end, spec.days * 86400 / 2))
    started = time.monotonic()
    steps = store.run_task(Prune(spec.end, spec.days * 86400 / 2))
    seconds = time.monotonic() - started
    store.close()
    same = "yes" if _report_json(config) == before else "NO"
    return [
        ("prune: raw checks deleted (half the year)", f"{rows:,} in {seconds:.0f} s, {len(steps):,} steps"),
        ("prune: longest single transaction", f"{max(steps) * 1000:.0f} ms"),
        ("`--year` report identical after the prune", same),
    ]


def _report_json(config: Path) -> str:
    """The --year report without what rollups cannot keep across a prune: the generation time
    and the daily latency quantiles, which come from raw checks (docs/reports.md)."""
    command = [sys.executable, "-m", "monitor", "report", "-c", str(config), "--year", "2018", "--format", "json"]
    data = json.loads(subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    data.pop("generated", None)
    for site in data["sites"]:
        for day in site.get("homepage_days", []):
            day.pop("median_ms", None)
            day.pop("p95_ms", None)
    return json.dumps(data, sort_keys=True)


def _write(rows: list[tuple[str, str]], args: argparse.Namespace) -> None:
    command = "python3 -m bench.report_bench" + (
        f" --days {args.days:g} --pages {args.pages} --interval {args.interval:g}" if args.days != 365 else ""
    )
    table = ["| measure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}"
    )
    section = "\n".join(
        [
            BEGIN,
            "## Reports",
            "",
            f"{args.days:g} days of history for {args.pages} pages checked every {args.interval:g} s,",
            "generated by `monitor.history` through the store's own write path (its WriteOps, applied",
            "by the store's writer thread), then the real CLI timed as a subprocess.",
            f"Command: `{command}` ({machine}).",
            "",
            *table,
            END,
        ]
    )
    print(section)
    if not args.no_write:
        _replace_section(ROOT / "docs" / "benchmarks.md", section)


def _replace_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
