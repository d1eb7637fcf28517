"""bench.report_national at a tiny size: sites copied from templates at rollup level (no raw
checks but the last day's) report exactly what their templates report from raw-backed rollups,
and a copy that differs is caught."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench import report_national
from bench.report_shards import START

pytestmark = pytest.mark.slow


def test_copied_sites_report_what_their_templates_do(tmp_path: Path) -> None:
    layout = report_national.Layout(tmp_path, (), 2)
    sites = report_national.build(layout, pages=30, pages_per_site=5, templates=2, days=35)
    now = START + 40 * 86400
    assert report_national.compare(layout, sites, templates=2, now=now)
    conn = sqlite3.connect(layout.shard(1))
    copied = conn.execute("SELECT count(*) FROM rollup_daily").fetchone()[0]
    raw = conn.execute("SELECT min(ts_ms) FROM checks").fetchone()[0]
    conn.execute("UPDATE rollup_monthly SET down_ms = down_ms + 1 WHERE month = '2018-01'")
    conn.commit()
    conn.close()
    assert copied > 0 and raw >= (START + 34 * 86400) * 1000  # rollups copied, raw only the last day
    assert not report_national.compare(layout, sites, templates=2, now=now)
