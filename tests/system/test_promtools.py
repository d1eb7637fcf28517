"""The Prometheus test harness in tests/support/promtools.py: variable substitution, and a real Prometheus
that starts, scrapes a tiny static exposition served from this test, answers queries and stops.
This proves the harness, not the daemon: the end-to-end test against `monitor run` is separate.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.promtools import (
    PrometheusError,
    PrometheusHandle,
    panel_queries,
    query,
    query_range,
    serve_exposition,
    start_prometheus,
    wait_for_samples,
)

ALERTS = Path(__file__).resolve().parents[2] / "dashboards" / "alerts.yml"


def tiny_exposition(scrape_number: int) -> str:
    return (
        "# TYPE portal_monitor_up gauge\n"
        "portal_monitor_up 1\n"
        "# TYPE portal_probe_success gauge\n"
        'portal_probe_success{site="demo",page="首页",kind="homepage"} 1\n'
        'portal_probe_success{site="demo",page="通知公告",kind="column"} 0\n'
        "# TYPE portal_checks_total counter\n"
        f'portal_checks_total{{site="demo",page="首页",kind="homepage",result="up"}} {scrape_number}\n'
    )


DASHBOARD: dict[str, Any] = {
    "panels": [
        {
            "title": "top",
            "targets": [
                {"expr": 'portal_probe_success{site=~"$site", page=~"${page}"}'},
                {"expr": "", "refId": "B"},
            ],
        },
        {
            "type": "row",
            "title": "collapsed row",
            "panels": [
                {
                    "title": "inside",
                    "targets": [
                        {"expr": 'increase(portal_items_new_total{category=~"[[category]]"}[$__range])'},
                        {"expr": "rate(portal_checks_total[$__rate_interval]) * ${__range_s:raw}"},
                    ],
                },
            ],
        },
        {"type": "text", "title": "no targets"},
    ]
}


def test_panel_queries_substitutes_every_variable_form() -> None:
    assert panel_queries(DASHBOARD) == [
        ("top", 'portal_probe_success{site=~".*", page=~".*"}'),
        ("inside", 'increase(portal_items_new_total{category=~".*"}[1h])'),
        ("inside", "rate(portal_checks_total[15s]) * 3600"),
    ]


def test_panel_queries_takes_overrides() -> None:
    queries = panel_queries(DASHBOARD, {"site": "jtj", "__range": "7d"})
    assert queries[0] == ("top", 'portal_probe_success{site=~"jtj", page=~".*"}')
    assert queries[1] == ("inside", 'increase(portal_items_new_total{category=~".*"}[7d])')


def test_panel_queries_rejects_unknown_variables() -> None:
    dashboard = {"panels": [{"title": "typo", "targets": [{"expr": 'up{site=~"$stie"}'}]}]}
    with pytest.raises(KeyError, match=r"\$stie"):
        panel_queries(dashboard)


@pytest.fixture(scope="module")
def prometheus(
    require_tool: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PrometheusHandle, str]]:
    """One Prometheus for the module: its first scrape comes ~5 s after start (discovery batching)."""
    require_tool("prometheus")
    with serve_exposition(tiny_exposition) as target:
        handle = start_prometheus(tmp_path_factory.mktemp("prom"), [target], rule_files=[ALERTS])
        with handle:
            wait_for_samples(handle, "portal_monitor_up", count=2)
            yield handle, target


@pytest.mark.slow
def test_prometheus_scrapes_and_answers(prometheus: tuple[PrometheusHandle, str]) -> None:
    handle, target = prometheus
    (sample,) = query(handle, 'portal_probe_success{page="首页"}')
    assert sample["metric"] == {
        "__name__": "portal_probe_success",
        "site": "demo",
        "page": "首页",
        "kind": "homepage",
        "job": "portal-monitor",
        "instance": target,
    }
    assert sample["value"][1] == "1"
    assert [s["value"][1] for s in query(handle, 'up{job="portal-monitor"}')] == ["1"]


@pytest.mark.slow
def test_counters_increase_between_scrapes(prometheus: tuple[PrometheusHandle, str]) -> None:
    handle, _ = prometheus
    (sample,) = query(handle, "rate(portal_checks_total[15s])")
    assert float(sample["value"][1]) > 0
    (now,) = query(handle, "time()")
    series = query_range(handle, "portal_monitor_up", float(now["value"][0]) - 10, float(now["value"][0]), 1)
    assert len(series) == 1 and len(series[0]["values"]) >= 2


@pytest.mark.slow
def test_query_at_a_given_time_and_scalar_results(prometheus: tuple[PrometheusHandle, str]) -> None:
    handle, _ = prometheus
    assert query(handle, "time()", time=1000.0) == [{"metric": {}, "value": [1000, "1000"]}]


@pytest.mark.slow
def test_bad_query_raises_with_prometheus_message(prometheus: tuple[PrometheusHandle, str]) -> None:
    handle, _ = prometheus
    with pytest.raises(PrometheusError, match=r"bad_data.*parse error"):
        query(handle, "sum(portal_probe_success")


@pytest.mark.slow
def test_rule_files_are_loaded(prometheus: tuple[PrometheusHandle, str]) -> None:
    handle, _ = prometheus
    with urllib.request.urlopen(f"{handle.url}/api/v1/rules", timeout=10) as response:
        groups = json.load(response)["data"]["groups"]
    names = {group["name"] for group in groups}
    assert names == {"portal-availability", "portal-freshness", "portal-integrity", "portal-monitor", "portal-links"}


@pytest.mark.slow
def test_close_stops_prometheus(require_tool: Callable[[str], str], tmp_path: Path) -> None:
    require_tool("prometheus")
    handle = start_prometheus(tmp_path, ["127.0.0.1:9"])
    port = int(handle.url.rsplit(":", 1)[1])
    handle.close()
    assert handle.process.returncode is not None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
    handle.close()
