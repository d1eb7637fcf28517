"""End to end: three real daemons (`monitor run --shard K/3`) share one config.yaml of six sites,
each monitors its own sites in its own database, and a real Prometheus scraping the three sees
every site once: the recording rules count six sites and the down site's alert expression
matches once, from its shard. A shard that owns no site still runs and serves /metrics.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.shard import shard_of
from monitor.sim import SimPortal
from tests.support.daemon_harness import REPO, RunningDaemon, sim_config
from tests.support.promtools import query, start_prometheus, wait_for_samples

pytestmark = pytest.mark.slow

SITES = ("s0", "s1", "s2", "s3", "s4", "bad")
DOWN = "/xxgk/hydt/"


def write_config(tmp_path: Path, portal: SimPortal) -> Path:
    """Six sites on the simulated portal, one page each; site `bad`'s homepage answers 500."""
    config = sim_config(tmp_path, portal, interval="1s")
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["sites"] = [
        {"name": site, "title": f"站点{site}", "base_url": portal.base_url, "discover": False,
         "pages": [{"name": "home", "url": DOWN if site == "bad" else "/", "kind": "homepage"}]}
        for site in SITES
    ]  # fmt: skip
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RunningDaemon]]:
    tmp_path = tmp_path_factory.mktemp("shards")
    with SimPortal() as portal, contextlib.ExitStack() as stack:
        portal.fault("500", DOWN)
        config = write_config(tmp_path, portal)
        daemons = [
            stack.enter_context(RunningDaemon(config, "--shard", f"{k}/3", log_name=f"shard{k}.log")) for k in (1, 2, 3)
        ]
        for k, daemon in enumerate(daemons, start=1):
            mine = [s for s in SITES if shard_of(s, 3) == k]
            daemon.wait_for(
                lambda d=daemon, m=mine: all(d.value("portal_site_pages_checked", site=s) == 1 for s in m),
                what=f"shard {k}'s sites checked",
            )
        yield daemons


def test_each_site_is_monitored_by_exactly_one_shard(shards: list[RunningDaemon]) -> None:
    owners: dict[str, list[int]] = {}
    for k, daemon in enumerate(shards, start=1):
        for (name, labels), _ in daemon.samples().items():
            if name == "portal_monitor_pages":
                owners.setdefault(dict(labels)["site"], []).append(k)
    assert owners == {site: [shard_of(site, 3)] for site in SITES}
    assert {p.name for p in shards[0].config.parent.glob("monitor.shard-*-of-3.db")} == {
        f"monitor.shard-{k}-of-3.db" for k in (1, 2, 3)
    }


def test_prometheus_over_three_shards_counts_each_site_once(
    shards: list[RunningDaemon], tmp_path_factory: Any, require_tool: Any
) -> None:
    require_tool("prometheus")
    bad = shards[shard_of("bad", 3) - 1]
    bad.wait_for(lambda: bad.value("portal_outage_active", site="bad", page="home", kind="homepage") == 1,
                 what="the outage of site bad confirmed")  # fmt: skip
    targets = [d.metrics_url.removeprefix("http://") for d in shards]
    rules = [REPO / "dashboards" / "alerts.yml", REPO / "dashboards" / "shards.rules.yml"]
    with start_prometheus(tmp_path_factory.mktemp("prom"), targets, "1s", rules) as handle:
        wait_for_samples(handle, "portal_outage_active", count=2)
        bad.wait_for(lambda: query(handle, "portal:sites:count"), what="the recording rules evaluated")
        assert query(handle, "portal:sites:count")[0]["value"][1] == "6"
        per_shard = {r["metric"]["instance"]: r["value"][1] for r in query(handle, "portal:sites:count_by_instance")}
        assert sorted(per_shard.values()) == sorted(str(sum(shard_of(s, 3) == k for s in SITES)) for k in (1, 2, 3))
        alerts = yaml.safe_load(rules[0].read_text(encoding="utf-8"))
        expr = next(r["expr"] for g in alerts["groups"] for r in g["rules"] if r.get("alert") == "PortalHomepageDown")
        firing = query(handle, expr)
        assert [(r["metric"]["site"], r["metric"]["instance"]) for r in firing] == [("bad", targets[shards.index(bad)])]


def test_a_shard_without_sites_still_runs(tmp_path: Path) -> None:
    with SimPortal() as portal:
        config = write_config(tmp_path, portal)
        empty = next(k for k in range(1, 21) if all(shard_of(s, 20) != k for s in SITES))
        with RunningDaemon(config, "--shard", f"{empty}/20") as daemon:
            assert daemon.get("/healthz")[0] == 200
            status, text = daemon.get("/metrics")
            assert status == 200 and "portal_monitor_up 1.0" in text and "portal_monitor_pages{" not in text
            daemon.terminate()
