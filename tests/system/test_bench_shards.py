"""The shard benchmarks' machinery, at tiny sizes: bench.shards starts N shards and one daemon on
a local nginx and measures each, and bench.report_shards splits a synthetic history across shard
databases and sees a merged report equal to (and only to) the single database's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import report_shards, shards
from monitor.daemon import STARTUP_RATE

pytestmark = pytest.mark.slow


def test_shards_bench_measures_every_shard_and_one_daemon(capsys: pytest.CaptureFixture[str]) -> None:
    tiny = ["--sites", "8", "--pages-per-site", "2", "--shards", "2", "--compress", "600"]
    shards.main([*tiny, "--window", "3", "--warmup-max", "60", "--stagger", "1"])
    out = capsys.readouterr().out
    rows = {m.group(1): m.group(2).split(" | ") for m in re.finditer(r"^\| ([^|]+?) \| (.*) \|$", out, re.MULTILINE)}
    plan = shards.Plan(8, 2, 2, 600, 3, 60)
    for k, pages in enumerate(plan.shard_pages(), start=1):
        assert int(rows[f"shard {k}/2"][0]) == pages
    assert int(rows["**2 shards, sum**"][0]) == int(rows["one daemon"][0]) == 16
    for name in ("shard 1/2", "shard 2/2", "one daemon"):
        pages, warm, rate, cpu_ms, _, rss, tree_rss, pss = rows[name][:8]
        assert "not all pages" not in warm, name
        # Counted from the daemon's own spawn to its last first check (from its database).
        assert 0 < float(warm.removesuffix(" s")) < 60, name
        assert float(rate) > 0 and float(cpu_ms) > 0, name
        assert float(tree_rss) > float(rss) > 0, f"{name}: the read workers are counted"
        assert float(pss) > 0
    assert "shards / one daemon: CPU per check" in out
    assert "shards spawned 1 s apart" in out
    assert "load average" in out


def test_shards_are_spawned_one_first_round_apart_unless_told() -> None:
    plan = shards.Plan(5000, 20, 4, 6, 600, 900)
    assert plan.stagger() == max(plan.shard_pages()) / STARTUP_RATE  # 25,400 pages at 200 a second
    assert shards.Plan(5000, 20, 4, 6, 600, 900, stagger_s=0).stagger() == 0
    # A daemon that did not finish its first round says how far it got.
    cold = shards.Measured("one daemon", 100_000, warmup_s=900, warm=False, checked=93_206)
    assert "900 s (not all pages: 93,206 checked)" in shards.row(cold)


def test_report_bench_compares_merged_and_single_reports(tmp_path: Path) -> None:
    layout = report_shards.Layout(tmp_path, report_shards.site_names(6), 3)
    checks = report_shards.generate_history(layout, pages_per_site=3, days=2)
    report_shards.write_config(layout)
    timing = report_shards.time_format(layout, "json", runs=1)
    assert checks > 0 and timing.equal is True
    assert timing.single_s > 0 and timing.merged_s > 0
    # The comparison is not vacuous: a shard left out changes the figures.
    _, whole = report_shards.run_report(layout, [layout.whole], ["--year", "2018", "--format", "json"])
    _, part = report_shards.run_report(layout, layout.shard_dbs[:-1], ["--year", "2018", "--format", "json"])
    assert report_shards.comparable("json", whole) != report_shards.comparable("json", part)
