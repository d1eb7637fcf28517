"""`monitor demo`: the newcomer's whole tour runs offline, quickly, and shows every part."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.sim._demo import SITE, TITLE, write_config
from monitor.sim._history import HistorySpec, site_pages
from monitor.sim._portal import SimPortal
from tests.support.daemon_harness import REPO, db_rows

pytestmark = pytest.mark.slow


def test_demo_shows_history_a_live_outage_status_and_reports(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--dir", str(tmp_path), "--days", "3", "--live", "12"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "generated 3 days of history" in out
    assert "taking the homepage down" in out and "homepage back up" in out
    for heading in ("== monitor status ==", "== monitor report --last 3d ==", "== monitor report --format zh =="):
        assert heading in out
    assert "V1" in out and "V2" in out and "V3" in out
    assert "门户网站首页" in out and "可用率" in out
    # Link availability (issue 12): the sim's dead homepage links, in status, the report and zh.
    # The sim's six dead homepage links, and the injected hidden gambling link (issue 13), whose
    # .invalid domain does not resolve: seven broken links.
    assert "homepage links checked: 7 broken of" in out and "homepage links today: 7 broken of" in out
    assert "Link availability (链接可用性)" in out and "首页不可用链接平均每日7.0条、最多7条" in out
    findings = out.split("== monitor findings --open ==")[1]
    assert "high hidden_link/display_none  casino-portal.invalid  (open;" in findings
    assert "integrity: 1 high" in out and "暗链1处" in out
    assert "Traceback" not in done.stderr
    assert took < 60
    live_outages = db_rows(
        tmp_path / "monitor.db",
        "SELECT count(*) FROM outages o JOIN pages p ON p.id = o.page_id WHERE p.name = 'homepage' AND o.started > ?",
        [time.time() - 120],
    )
    assert live_outages == [(1,)]
    assert (tmp_path / "config.yaml").exists()
    assert f"workbook: {tmp_path / 'report.xlsx'}" in out and f"printable page: {tmp_path / 'report.html'}" in out
    assert (tmp_path / "report.xlsx").read_bytes()[:2] == b"PK"
    assert "监测报告" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_demo_config_gives_every_page_its_own_url_and_its_history_s_state(tmp_path: Path) -> None:
    """Two columns (政策文件 and 媒体聚焦) used to share /xxgk/hydt/: one page checked twice. Each page
    has its own URL now, and the columns the history lets go stale read a column that is stale."""
    with SimPortal() as sim:
        spec = HistorySpec(start=time.time(), days=1, site=SITE, title=TITLE, base_url=sim.base_url, seed=7)
        pages = load_config(write_config(tmp_path, sim, spec)).pages()
        urls = [page.url for page in pages]
        assert len(set(urls)) == len(urls) == len(site_pages(spec))
        slugs = {page.name: page.url.removeprefix(sim.base_url).strip("/").split("/")[-1] for page in pages}
        today = date.today()
        for name in ("政策文件", "媒体聚焦"):
            newest = max(item.day for item in sim.site.items(slugs[name]))
            assert (today - newest).days > 14, name
        assert sim.site.items(slugs["规划计划"]) == []
