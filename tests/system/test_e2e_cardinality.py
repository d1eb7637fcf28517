"""End to end with `metrics.per_page: homepages`: the real daemon exports per-page series for the
homepage only, the per-site totals for every page, and a real Prometheus scraping it evaluates the
alerts that take over for the pages without series (PortalSitePagesDown, PortalSiteUnreadablePages)
to the right site and count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from monitor.sim import SimPortal
from tests.support.daemon_harness import REPO, RunningDaemon, sim_config
from tests.support.promtools import query, start_prometheus, wait_for_samples

pytestmark = pytest.mark.slow

ALERTS = REPO / "dashboards" / "alerts.yml"
DOWN_COLUMN = "hydt"
BLOCKED_COLUMN = "ghjh"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    tmp_path = tmp_path_factory.mktemp("homepages")
    with SimPortal() as portal:
        portal.fault("500", f"/xxgk/{DOWN_COLUMN}/")
        portal.fault("challenge", f"/xxgk/{BLOCKED_COLUMN}/")
        config = sim_config(tmp_path, portal, interval="1s")
        document = yaml.safe_load(config.read_text(encoding="utf-8"))
        document["metrics"]["per_page"] = "homepages"
        config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        with RunningDaemon(config) as running:
            running.wait_for(lambda: _settled(running), timeout_s=60, what="every page checked, outage confirmed")
            yield running
            running.terminate()


def _settled(daemon: RunningDaemon) -> bool:
    checked = daemon.value("portal_site_pages_checked", site="sim")
    outage = daemon.value("portal_site_outages_active", site="sim")
    return checked == daemon.value("portal_monitor_pages", site="sim") and outage == 1


def test_per_page_series_for_the_homepage_only_and_totals_for_every_page(daemon: RunningDaemon) -> None:
    samples = daemon.samples()
    pages = {dict(labels).get("page") for (name, labels) in samples if name.startswith("portal_") and labels}
    assert pages - {None} == {"home"}
    assert daemon.value("portal_probe_success", site="sim", page="home", kind="homepage") == 1
    assert daemon.value("portal_site_pages_checked", site="sim") == daemon.value("portal_monitor_pages", site="sim")
    assert daemon.value("portal_site_unreadable_pages", site="sim") == 1  # the anti-bot page's list
    assert daemon.value("portal_site_probe_errors_total", site="sim", error_kind="http_status") >= 2


def test_prometheus_evaluates_the_per_site_alerts(
    daemon: RunningDaemon, tmp_path_factory: Any, require_tool: Any
) -> None:
    require_tool("prometheus")
    target = daemon.metrics_url.removeprefix("http://")
    with start_prometheus(tmp_path_factory.mktemp("prom"), [target], "1s", [ALERTS]) as handle:
        wait_for_samples(handle, "portal_site_outages_active", count=2)
        rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
        exprs = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
        down = query(handle, exprs["PortalSitePagesDown"])
        assert [(r["metric"]["site"], r["value"][1]) for r in down] == [("sim", "1")]
        unreadable = query(handle, exprs["PortalSiteUnreadablePages"])
        assert [(r["metric"]["site"], r["value"][1]) for r in unreadable] == [("sim", "1")]
        assert query(handle, exprs["PortalPageDown"]) == []  # no per-page series for the column
