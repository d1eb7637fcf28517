"""`monitor report --db A --db B ...` (or a glob): shard databases merged into one report that
equals the report of one database holding the same history, in every format."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli._main import cli
from monitor.shard import shard_of
from monitor.sim import HistorySpec, generate
from monitor.store import Store

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
SITES = ("jtj", "gaj", "zjj", "wsj", "sfj")
SHARDS = 2


def spec(index: int, site: str) -> HistorySpec:
    """Each site's own outages, blips and items; the daemon's runs (never stopped here) are the
    same for every site, as they are for the sites of one daemon."""
    return HistorySpec(
        start=START, days=10, columns=3, seed=10 + index, site=site, title=f"{site}局",
        base_url=f"http://{site}.example/", chunk_s=86400.0, stops=0, crash=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database with every site (as one daemon would have it) and one per shard, each with its
    sites' same synthetic history."""
    root = tmp_path_factory.mktemp("shards")
    whole = Store.open(root / "whole.db")
    shards = {k: Store.open(root / f"monitor.shard-{k}-of-{SHARDS}.db") for k in range(1, SHARDS + 1)}
    everything = []
    for index, site in enumerate(SITES):
        everything += generate(whole, spec(index, site)).pages
        generate(shards[shard_of(site, SHARDS)], spec(index, site))
    # Each generate() retired the pages of the sites before it: one daemon monitors them all.
    whole.sync_pages([(s, f"{s}局", f"http://{s}.example/") for s in SITES], everything, START + 10 * 86400)
    for store in (whole, *shards.values()):
        store.close()
    (root / "config.yaml").write_text(_config(), encoding="utf-8")
    return root


def _config() -> str:
    lines = ["sites:"]
    for site in SITES:
        lines += [f"  - name: {site}", f"    title: {site}局", f"    base_url: http://{site}.example/",
                  "    pages:", "      - {name: homepage, url: /, kind: homepage}",
                  "      - {name: xxgk, url: /xxgk/, kind: catalogue}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def report(root: Path, *args: str) -> Result:
    period = ("--from", "2018-01-01", "--to", "2018-01-10")
    return CliRunner().invoke(cli, ["report", "-c", str(root / "config.yaml"), *period, *args])


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv", "zh"])
def test_merged_shards_equal_one_database(databases: Path, fmt: str) -> None:
    whole = report(databases, "--db", str(databases / "whole.db"), "--format", fmt)
    shards = [str(databases / f"monitor.shard-{k}-of-{SHARDS}.db") for k in range(1, SHARDS + 1)]
    merged = report(databases, *(arg for db in shards for arg in ("--db", db)), "--format", fmt)
    assert whole.exit_code == 0, whole.output
    assert merged.exit_code == 0, merged.output
    assert merged.output == whole.output
    assert all(site in whole.output for site in SITES)


def test_a_glob_names_the_shards(databases: Path) -> None:
    merged = report(databases, "--db", str(databases / "monitor.shard-*.db"), "--format", "json")
    whole = report(databases, "--db", str(databases / "whole.db"), "--format", "json")
    assert merged.exit_code == 0 and merged.output == whole.output
    nothing = report(databases, "--db", str(databases / "nope-*.db"))
    assert nothing.exit_code == 2 and "no file matches" in nothing.output


def test_a_site_in_two_databases_is_refused(databases: Path) -> None:
    both = report(databases, "--db", str(databases / "whole.db"), "--db", str(databases / "monitor.shard-1-of-2.db"))
    assert both.exit_code == 2 and "is in both" in both.output
    assert "Traceback" not in both.output
