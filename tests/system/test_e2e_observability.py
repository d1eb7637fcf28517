"""End to end: what the real daemon exports, checked against docs/metrics.md, both Grafana dashboards
and the alert rules, through a real Prometheus scraping it every second.

One daemon run serves every test here: the simulated portal over http (every column; one down,
one behind an anti-bot challenge so its list cannot be read) and a second one over https with a
self-signed certificate (verification off), so that every documented metric has a reason to exist.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.sim import SimPortal, ipv6_loopback
from tests.support.certs import write_certs
from tests.support.daemon_harness import REPO, RunningDaemon, sim_config
from tests.support.promtools import (
    PrometheusHandle,
    documented_metrics,
    panel_queries,
    query,
    start_prometheus,
    wait_for_samples,
)

pytestmark = pytest.mark.slow

DASHBOARDS = sorted((REPO / "dashboards").glob("portal-*.json"))
ALERTS = REPO / "dashboards" / "alerts.yml"
DOWN_COLUMN = "hydt"
LATER_DOWN_COLUMN = "rsxx"
BLOCKED_COLUMN = "ghjh"
_SELECTOR = re.compile(r"\b(portal_\w+|up)\s*(\{[^}]*\})?")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count", "_created")
NO_IPV6 = ipv6_loopback()
IPV6_FAMILIES = {
    "portal_ipv6_aaaa_present",
    "portal_ipv6_up",
    "portal_ipv6_success_ratio_24h",
    "portal_ipv6_consistent",
    "portal_ipv6_last_reading_timestamp_seconds",
    "portal_ipv6_internal_links_reachable_ratio",
}
"""Exposed only for a site read over IPv6: the portal on [::1] (skipped, with the reason, without it)."""


def add_ipv6_site(config: Path, portal: SimPortal) -> None:
    """The same portal as `localhost`, read over IPv6 every second; `ipv6.hosts` gives localhost the
    AAAA record ::1 (no DNS), its A record is 127.0.0.1 from /etc/hosts."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["ipv6"] = {"enabled": True, "interval": "1s", "links": 3, "hosts": {"localhost": ["::1"]}}
    document["sites"].append(
        {
            "name": "sim-v6",
            "title": "模拟市（IPv6）",
            "base_url": f"http://localhost:{portal.port}/",
            "discover": False,
            "pages": [{"name": "home", "url": "/", "kind": "homepage"}],
        }
    )
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def add_https_site(config: Path, secure: SimPortal) -> None:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["sites"].append(
        {
            "name": "sim-tls",
            "title": "模拟市（https）",
            "base_url": secure.base_url,
            "discover": False,
            "pages": [{"name": "home", "url": "/", "kind": "homepage", "verify_tls": False}],
        }
    )
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def portal() -> Iterator[SimPortal]:
    with SimPortal(ipv6=not NO_IPV6) as sim:
        yield sim


@pytest.fixture(scope="module")
def daemon(portal: SimPortal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    tmp_path = tmp_path_factory.mktemp("observability")
    with SimPortal(tls=write_certs(tmp_path).pairs["self_signed"]) as secure:
        portal.fault("500", f"/xxgk/{DOWN_COLUMN}/")
        portal.fault("challenge", f"/xxgk/{BLOCKED_COLUMN}/")
        # Link passes on (a homepage pass and a shallow sweep at start): their metrics are documented too.
        config = sim_config(
            tmp_path, portal, interval="1s", defaults={"links": {"spacing": 0, "max_depth": 1, "max_pages": 30}}
        )
        add_https_site(config, secure)
        if not NO_IPV6:
            add_ipv6_site(config, portal)
        with RunningDaemon(config) as running:
            running.wait_for(lambda: _settled(running), timeout_s=60, what="every page checked, outage confirmed")
            yield running
            running.terminate()


def _settled(daemon: RunningDaemon) -> bool:
    samples = daemon.samples()
    checked = {dict(labels)["page"] for (name, labels) in samples if name == "portal_last_check_timestamp_seconds"}
    outage = samples.get(("portal_outage_active", (("kind", "column"), ("page", DOWN_COLUMN), ("site", "sim"))))
    swept = samples.get(("portal_link_broken_since_timestamp_seconds", (("kind", "sweep"), ("site", "sim"))))
    links6 = samples.get(("portal_ipv6_internal_links_reachable_ratio", (("site", "sim-v6"),)))
    return len(checked) >= 12 and outage == 1.0 and swept is not None and (links6 is not None or bool(NO_IPV6))


def exposed_families(daemon: RunningDaemon) -> set[str]:
    names = set()
    for name, _ in daemon.samples():
        for suffix in _HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in documented_metrics():
                name = name.removesuffix(suffix)
        names.add(name.removesuffix("_total") if name.removesuffix("_total") in documented_metrics() else name)
    return {n for n in names if n.startswith("portal_")}


def test_docs_and_exposition_list_the_same_metrics(daemon: RunningDaemon) -> None:
    documented = set(documented_metrics()) - (IPV6_FAMILIES if NO_IPV6 else set())
    exposed = exposed_families(daemon)
    assert exposed - documented == set(), "exposed but not in docs/metrics.md"
    assert documented - exposed == set(), "documented but never exposed by a running daemon"


def test_documented_labels_match_the_exposition(daemon: RunningDaemon) -> None:
    docs = documented_metrics()
    for name, labels in daemon.samples():
        family = name
        for suffix in (*_HISTOGRAM_SUFFIXES, "_total"):
            if family.removesuffix(suffix) in docs:
                family = family.removesuffix(suffix)
        if family in docs:
            names = {key for key, _ in labels} - {"le"}
            assert names == set(docs[family].labels), (name, labels)


def test_sample_values_tell_the_story(daemon: RunningDaemon) -> None:
    value = daemon.value
    assert value("portal_probe_success", site="sim", page="home", kind="homepage") == 1
    assert value("portal_outage_active", site="sim", page=DOWN_COLUMN, kind="column") == 1
    assert value("portal_column_blank", site="sim", page="jyta", kind="column", category="policy") == 1
    assert value("portal_column_stale", site="sim", page="gzdt", kind="column", category="news") == 0
    assert value("portal_page_unreadable", site="sim", page=BLOCKED_COLUMN, kind="column") == 1
    assert value("portal_probe_blocked", site="sim", page=BLOCKED_COLUMN, kind="column") == 1
    assert value("portal_tls_verify_enabled", site="sim-tls", page="home", kind="homepage") == 0
    expiry = value("portal_tls_cert_expiry_timestamp_seconds", site="sim-tls", page="home", kind="homepage")
    seconds_left = (expiry or 0) - dt.datetime.now().timestamp()
    assert 25 * 86400 < seconds_left < 31 * 86400  # the self_signed certificate lives 30 days


@pytest.fixture(scope="module")
def prometheus(
    portal: SimPortal, daemon: RunningDaemon, tmp_path_factory: pytest.TempPathFactory, require_tool: Any
) -> Iterator[PrometheusHandle]:
    require_tool("prometheus")
    target = daemon.metrics_url.removeprefix("http://")
    with start_prometheus(tmp_path_factory.mktemp("prom"), [target], "1s", [ALERTS]) as handle:
        wait_for_samples(handle, "portal_checks_total", count=3)
        _outage_while_scraped(portal, daemon, handle)
        yield handle


def _outage_while_scraped(portal: SimPortal, daemon: RunningDaemon, handle: PrometheusHandle) -> None:
    """An outage that starts while Prometheus watches, so `increase(portal_outages_total[…])` sees it."""
    portal.fault("502", f"/xxgk/{LATER_DOWN_COLUMN}/")
    labels = {"site": "sim", "page": LATER_DOWN_COLUMN, "kind": "column"}
    daemon.wait_for(lambda: daemon.value("portal_outages_total", **labels) == 1, what="a second outage")
    seen = f'increase(portal_outages_total{{page="{LATER_DOWN_COLUMN}"}}[1m]) > 0'
    daemon.wait_for(lambda: query(handle, seen), what="Prometheus to scrape the second outage")


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_query_returns_data(prometheus: PrometheusHandle, dashboard: Path) -> None:
    queries = panel_queries(json.loads(dashboard.read_text(encoding="utf-8")))
    assert queries
    empty = [(title, expr) for title, expr in queries if not query(prometheus, expr)]
    assert empty == []


def alert_expressions() -> list[tuple[str, str]]:
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [(rule["alert"], rule["expr"]) for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


@pytest.mark.parametrize(
    ("alert", "expr"), alert_expressions(), ids=lambda v: v if isinstance(v, str) and v.startswith("Portal") else ""
)
def test_every_alert_expression_parses_and_reads_live_series(
    prometheus: PrometheusHandle, alert: str, expr: str
) -> None:
    query(prometheus, expr)  # raises on a parse or evaluation error
    selectors = {m.group(0) for m in _SELECTOR.finditer(expr) if not _is_function(expr, m)}
    assert selectors, alert
    for selector in selectors:
        assert query(prometheus, selector), f"{alert}: {selector} has no series"


def _is_function(expr: str, match: re.Match[str]) -> bool:
    """`portal_x(` would be a function call, not a series (there are none, but stay honest)."""
    return expr[match.end() :].lstrip().startswith("(") and match.group(2) is None
