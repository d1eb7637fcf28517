"""Benchmark: a year's report merged from 4 shard databases of 25,000 pages each (issue 16: a
report merged from the 4 databases for a simulated year in < 5 s).

A year of raw checks for 100,000 pages is about 1.1 billion checks: too many to write here. So
the history is generated at rollup level. A few template sites live a simulated year through the
real path (`monitor.sim.generate`: raw checks through the store's writer, rolled up by the
daemon's `RollupTick`, so every daily and monthly row, quantile, outage, blip and item is what a
daemon would keep). Each shard's sites are then copies of a template (its pages, rollup rows,
rollup state, outages, blips, items and page state, under the site's own name), with the hourly
rows of the hours the outages touch and of the last two days (the only hours a report reads: the
full hourly table is 24 rows a page-day, left out to keep the files writable here) and the raw
checks of the last day only: what rollups plus `storage.raw_retention` leave, minus older raw checks a
final year's report never reads. `--validate` checks that claim on a small size: every copied
site's report equals its template's, and the template's (from rollups) equals --raw's.

Usage: python3 -m bench.report_national [--pages 100000] [--shards 4] [--templates 4] [--runs 1]
       [--dir /tmp/bench-report-national] [--keep] [--formats json,zh,...]
       python3 -m bench.report_national --validate [--dir ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.report_shards import START, run_report_cpu, site_names, spec
from bench.report_shards import Layout as ShardLayout
from monitor.models import Page
from monitor.report import build_report, parse_period, render
from monitor.shard import shard_of
from monitor.sim import generate
from monitor.store import RollupTick, Store, WriterSettings

YEAR = "2018"
DAYS = 366.0
"""A year and a day: the checks of 2019-01-01 make 2018-12-31 final, as a daemon that keeps running does."""
RAW_WINDOW_S = 86400.0
"""Raw checks kept in the copies (before the end of the history)."""
PER_SITE = ("pages", "page_intervals", "page_state", "rollup_state", "rollup_daily", "rollup_monthly", "outages")


@dataclass(frozen=True)
class Layout(ShardLayout):
    """bench.report_shards' shard databases and config, and the templates' database beside them
    (no whole database: the sites are copies)."""

    @property
    def templates(self) -> Path:
        return self.root / "templates.db"


def make_templates(path: Path, count: int, pages_per_site: int, days: float) -> list[str]:
    """`count` sites, each its own seed, through the real write and rollup path; their names."""
    settings = WriterSettings(batch_max=20_000, linger_s=0.0, max_backlog=5_000_000)
    store = Store.open(path, writer_settings=settings)
    names = [f"template{i}" for i in range(count)]
    pages: list[Page] = []
    for index, name in enumerate(names):
        made = generate(store, spec(index, name, pages_per_site - 2, days), max_backlog=400_000)
        pages += made.pages
        print(f"  template {index + 1}/{count}: {made.checks:,} checks", file=sys.stderr)
    end = START + days * 86400
    store.sync_pages([(n, f"基准{i}局", f"http://{n}.example/") for i, n in enumerate(names)], pages, end)
    store.run_task(RollupTick(end + 3600))
    store.close()
    return names


def copy_sites(layout: Layout, sites: Sequence[str], templates: Sequence[str], end: float) -> None:
    """Each shard's sites as copies of the templates (site i copies template i mod count)."""
    for k in range(1, layout.shards + 1):
        Store.open(layout.shard(k)).close()  # the schema, through every migration
        conn = sqlite3.connect(layout.shard(k))
        conn.execute("ATTACH DATABASE ? AS t", (str(layout.templates),))
        mine = [(i, s) for i, s in enumerate(sites) if shard_of(s, layout.shards) == k]
        conn.execute("INSERT INTO main.monitor_runs SELECT * FROM t.monitor_runs")
        for t, template in enumerate(templates):
            _copy_template(conn, template, [(i, s) for i, s in mine if i % len(templates) == t], end)
        conn.commit()
        conn.close()
        print(f"  shard {k}: {len(mine)} sites", file=sys.stderr)


def _copy_template(conn: sqlite3.Connection, template: str, clones: list[tuple[int, str]], end: float) -> None:
    """The template's rows once per clone, page ids mapped through a temporary table."""
    conn.execute("DROP TABLE IF EXISTS temp.map")
    conn.execute("CREATE TEMP TABLE map (old INTEGER NOT NULL, new INTEGER PRIMARY KEY, site_id INTEGER NOT NULL)")
    old_ids = [r[0] for r in conn.execute(
        "SELECT p.id FROM t.pages p JOIN t.sites s ON s.id = p.site_id WHERE s.name = ? ORDER BY p.id", (template,)
    )]  # fmt: skip
    base_url = f"http://{template}.example/"
    for index, site in clones:
        conn.execute(
            "INSERT INTO sites (id, name, title, base_url) VALUES (?, ?, ?, ?)",
            (index + 1, site, f"基准{index}局", f"http://{site}.example/"),
        )
        first = index * len(old_ids) + 1
        conn.executemany(
            "INSERT INTO map VALUES (?, ?, ?)", [(old, first + j, index + 1) for j, old in enumerate(old_ids)]
        )
    cols = {table: _columns(conn, table) for table in PER_SITE}
    url = f"replace(x.url, '{base_url}', 'http://' || (SELECT name FROM sites WHERE id = m.site_id) || '.example/')"
    values = {"id": "m.new", "site_id": "m.site_id", "url": url}
    selected = ", ".join(values.get(c, f"x.{c}") for c in cols["pages"])
    conn.execute(
        f"INSERT INTO pages ({', '.join(cols['pages'])}) SELECT {selected}"
        " FROM map m JOIN t.pages x ON x.id = m.old ORDER BY m.new"
    )
    for table in PER_SITE[1:]:
        names = [c for c in cols[table] if c != "id"]
        conn.execute(
            f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(_mapped(c) for c in names)}"
            f" FROM map m JOIN t.{table} x ON x.page_id = m.old ORDER BY m.new"
        )
    conn.execute(
        "INSERT INTO blips SELECT m.new, x.ts, x.cause FROM map m JOIN t.blips x ON x.page_id = m.old ORDER BY m.new"
    )
    conn.execute(
        "INSERT INTO items (page_id, url, title, published, first_seen, last_seen) SELECT m.new,"
        " x.url, x.title, x.published, x.first_seen, x.last_seen FROM map m JOIN t.items x ON x.page_id = m.old"
        " ORDER BY m.new"
    )
    _copy_hours_and_raw(conn, end)


def _copy_hours_and_raw(conn: sqlite3.Connection, end: float) -> None:
    """The hourly rows of the hours outages touch and of the last two days (days not final yet
    are summed from them), and the raw checks of the last RAW_WINDOW_S."""
    hourly = _columns(conn, "rollup_hourly")
    conn.execute(
        f"INSERT OR IGNORE INTO rollup_hourly SELECT {', '.join(_mapped(c) for c in hourly)}"
        " FROM map m JOIN t.outages o ON o.page_id = m.old JOIN t.rollup_hourly x ON x.page_id = m.old"
        " AND x.hour_ms >= CAST(o.started * 1000 AS INTEGER) - 3600000"
        " AND x.hour_ms < coalesce(CAST(o.ended * 1000 AS INTEGER), 1e18) ORDER BY m.new"
    )
    conn.execute(
        f"INSERT OR IGNORE INTO rollup_hourly SELECT {', '.join(_mapped(c) for c in hourly)}"
        " FROM map m JOIN t.rollup_hourly x ON x.page_id = m.old AND x.hour_ms >= ? ORDER BY m.new, x.hour_ms",
        (round((end - 2 * 86400) * 1000),),
    )
    checks = _columns(conn, "checks")
    conn.execute(
        f"INSERT INTO checks ({', '.join(checks)}) SELECT {', '.join(_mapped(c) for c in checks)}"
        " FROM map m JOIN t.checks x ON x.page_id = m.old AND x.ts_ms >= ? ORDER BY m.new, x.ts_ms",
        (round((end - RAW_WINDOW_S) * 1000),),
    )


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})")]


def _mapped(column: str) -> str:
    return "m.new" if column in ("page_id", "id") else f"x.{column}"


def write_config(layout: Layout, sites: Sequence[str]) -> None:
    lines = ["timezone: Asia/Shanghai", "sites:"]
    for index, site in enumerate(sites):
        lines += [f"  - name: {site}", f"    title: 基准{index}局", f"    base_url: http://{site}.example/",
                  "    pages:", "      - {name: homepage, url: /, kind: homepage}",
                  "      - {name: xxgk, url: /xxgk/, kind: catalogue}"]  # fmt: skip
    layout.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(layout: Layout, pages: int, pages_per_site: int, templates: int, days: float) -> list[str]:
    """Templates, then the shards; the sites' names."""
    shutil.rmtree(layout.root, ignore_errors=True)
    layout.root.mkdir(parents=True)
    started = time.monotonic()
    names = make_templates(layout.templates, templates, pages_per_site, days)
    print(f"templates in {time.monotonic() - started:.0f} s", file=sys.stderr)
    sites = list(site_names(pages // pages_per_site))
    started = time.monotonic()
    copy_sites(layout, sites, names, START + days * 86400)
    print(f"{len(sites)} sites copied in {time.monotonic() - started:.0f} s", file=sys.stderr)
    write_config(layout, sites)
    return sites


def validate(layout: Layout) -> bool:
    """On a small size: each copied site's report equals its template's, which equals --raw's."""
    sites = build(layout, pages=60, pages_per_site=5, templates=2, days=40)
    ok = compare(layout, sites, templates=2, now=START + 45 * 86400)
    print(f"validation ({len(sites)} copied sites, 2 periods): {'equal' if ok else 'DIFFERENT'}")
    return ok


def compare(layout: Layout, sites: Sequence[str], templates: int, now: float) -> bool:
    """Whether every copied site's report (a month read from monthly rows; a period cut inside
    months that may run past the history's end, into days summed from hourly rows and raw
    checks) equals its template's with rollups, and the template's equals its raw-only report."""
    periods = [
        parse_period(tz_name="Asia/Shanghai", now=now, month="2018-01"),
        parse_period(tz_name="Asia/Shanghai", now=now, date_from="2017-12-25", date_to="2018-02-08"),
    ]
    ok = True
    for period in periods:
        store = Store.open(layout.templates, readonly=True)
        rolled = build_report(store, period, now=now)
        ok &= rolled.sites == build_report(store, period, now=now, rollups=False).sites
        store.close()
        expected = {f"template{t}": _site_json(rolled, f"template{t}") for t in range(templates)}
        for k in range(1, layout.shards + 1):
            store = Store.open(layout.shard(k), readonly=True)
            copied = build_report(store, period, now=now)
            store.close()
            for site in copied.sites:
                index = sites.index(site.name)
                t = index % templates
                mine = _site_json(copied, site.name).replace(site.name, f"template{t}")
                ok &= mine.replace(f"基准{index}局", f"基准{t}局") == expected[f"template{t}"]
    return ok


def _site_json(report: object, name: str) -> str:
    data = json.loads(render(report, "json"))  # type: ignore[arg-type]
    return json.dumps(next(s for s in data["sites"] if s["name"] == name), sort_keys=True, ensure_ascii=False)


def measure(layout: Layout, formats: Sequence[str], runs: int) -> list[tuple[str, float, float, int, str]]:
    """(label, wall s, CPU s, output bytes, load average) of each report on the merged shards."""
    results = []
    for fmt in formats:
        overview = fmt.endswith("-overview")
        name = fmt.removesuffix("-overview")
        out = layout.root / f"report.{name}"
        args = ["--year", YEAR, "--format", name, *(["--overview"] if overview else [])]
        args += ["-o", str(out)] if name in ("xlsx", "html") and not overview else []
        best: tuple[float, float, int] | None = None
        for _ in range(runs):
            wall, cpu, stdout = run_report_cpu_at(layout, args)
            size = out.stat().st_size if "-o" in args else len(stdout)
            best = (wall, cpu, size) if best is None or cpu < best[1] else best
        assert best is not None
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        label = f"`--year {YEAR} --format {name}{' --overview' if overview else ''}`"
        results.append((label, *best, load))
        print(f"{label}: {best[0]:.2f} s wall, {best[1]:.2f} s CPU, {best[2]:,} bytes, load {load}", file=sys.stderr)
    return results


def run_report_cpu_at(layout: Layout, args: Sequence[str]) -> tuple[float, float, bytes]:
    return run_report_cpu(layout, layout.shard_dbs, args)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    layout = Layout(Path(args.dir), (), args.shards)
    if args.validate:
        sys.exit(0 if validate(layout) else 1)
    if not (args.keep and layout.shard(1).exists()):
        build(layout, args.pages, args.pages_per_site, args.templates, DAYS)
    counts = [sqlite3.connect(db).execute("SELECT count(*) FROM pages").fetchone()[0] for db in layout.shard_dbs]
    sizes = " + ".join(f"{db.stat().st_size / 1e9:.2f}" for db in layout.shard_dbs)
    print(f"pages per shard: {counts}; files {sizes} GB")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    print("| report (4 shards merged) | wall | CPU | output | load average |\n|---|---|---|---|---|")
    for label, wall, cpu, size, load in measure(layout, args.formats.split(","), args.runs):
        print(f"| {label} | {wall:.2f} s | {cpu:.2f} s | {size / 1e6:,.1f} MB | {load} |")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--pages-per-site", type=int, default=20)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--templates", type=int, default=4, help="sites generated from raw checks, then copied")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--formats", default="json-overview,zh-overview,json,zh", help="comma-separated; X-overview")
    parser.add_argument("--dir", default="/tmp/bench-report-national")
    parser.add_argument("--keep", action="store_true", help="reuse the databases in --dir")
    parser.add_argument("--validate", action="store_true", help="small size: copies equal templates equal --raw")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
