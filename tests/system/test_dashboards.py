"""Grafana dashboards in dashboards/: JSON structure (schema version, stable uids, datasource and
site/page variables, units), thresholds matching the inspection rules, every metric documented in
docs/metrics.md, and every panel query answered by a real Prometheus scraping an exposition with
the documented names and labels. Grafana itself is not run here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.promtools import (
    DEFAULT_VARIABLES,
    PrometheusHandle,
    documented_metrics,
    panel_queries,
    query,
    serve_exposition,
    start_prometheus,
    synthetic_exposition,
    wait_for_samples,
)

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = {path.name: path for path in sorted((ROOT / "dashboards").glob("*.json"))}
EXPECTED_UIDS = {
    "portal-availability.json": "portal-availability",
    "portal-freshness.json": "portal-freshness",
}
SCHEMA_VERSION = 41
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PANEL_TYPES = {"timeseries", "state-timeline", "stat", "bargauge", "table"}
GRAFANA_BUILTINS = {"__range", "__range_s", "__rate_interval", "__interval"}
METRIC_NAME = re.compile(r"\bportal_\w+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
LABEL_VALUES = re.compile(r"^label_values\((.+),\s*(\w+)\)$")


def load(name: str) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARDS[name].read_text(encoding="utf-8"))
    return dashboard


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that shows data (rows excluded, collapsed rows opened)."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in dashboard["templating"]["list"]}


def variable_query(variable: dict[str, Any]) -> str:
    query_ = variable["query"]
    return str(query_["query"] if isinstance(query_, dict) else query_)


def all_exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = [target["expr"] for panel in panels(dashboard) for target in panel["targets"]]
    return exprs + [variable_query(v) for v in variables(dashboard).values() if v["type"] == "query"]


def alert_exprs() -> list[str]:
    document = yaml.safe_load((ROOT / "dashboards" / "alerts.yml").read_text(encoding="utf-8"))
    return [rule["expr"] for group in document["groups"] for rule in group["rules"]]


def threshold_values(panel: dict[str, Any]) -> list[float | None]:
    return [step["value"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def panel_by_title(dashboard: dict[str, Any], title: str) -> dict[str, Any]:
    (panel,) = [p for p in panels(dashboard) if p["title"] == title]
    return panel


def test_both_dashboards_exist_with_stable_unique_uids() -> None:
    assert {name: load(name)["uid"] for name in DASHBOARDS} == EXPECTED_UIDS


@pytest.fixture(params=sorted(EXPECTED_UIDS))
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.param)


def test_dashboard_header(dashboard: dict[str, Any]) -> None:
    assert dashboard["schemaVersion"] == SCHEMA_VERSION
    assert dashboard["id"] is None, "provisioned dashboards must not carry a database id"
    assert dashboard["title"] and dashboard["description"]
    assert "portal-monitor" in dashboard["tags"]


def test_datasource_site_and_page_variables(dashboard: dict[str, Any]) -> None:
    found = variables(dashboard)
    assert found["datasource"]["type"] == "datasource"
    assert found["datasource"]["query"] == "prometheus"
    for name in ("site", "page"):
        variable = found[name]
        assert variable["type"] == "query"
        assert variable["datasource"] == DATASOURCE
        assert LABEL_VALUES.match(variable_query(variable)), variable_query(variable)
        assert variable["multi"] and variable["includeAll"] and variable["allValue"] == ".*"
    page_query = variable_query(found["page"])
    assert page_query.startswith("label_values(portal_") and "$site" in page_query


def test_every_panel_uses_the_datasource_variable_and_has_queries(dashboard: dict[str, Any]) -> None:
    for panel in panels(dashboard):
        assert panel["type"] in PANEL_TYPES, panel["title"]
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        assert panel["description"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_every_panel_sets_its_units(dashboard: dict[str, Any]) -> None:
    for panel in panels(dashboard):
        assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]
        for override in panel["fieldConfig"]["overrides"]:
            for prop in override["properties"]:
                assert prop["id"] != "unit" or prop["value"], panel["title"]


def test_panel_ids_and_layout(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]


def test_only_defined_variables_are_used(dashboard: dict[str, Any]) -> None:
    defined = {name: ".*" for name in variables(dashboard)} | {name: "1m" for name in GRAFANA_BUILTINS}
    assert panel_queries(dashboard, defined)  # raises KeyError naming any undefined variable
    for variable in variables(dashboard).values():
        if variable["type"] == "query":
            for used in re.findall(r"\$(\w+)", variable_query(variable)):
                assert used in defined


def test_every_metric_used_is_documented() -> None:
    documented = documented_metrics()
    exprs = alert_exprs() + [expr for name in DASHBOARDS for expr in all_exprs(load(name))]
    used = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    assert used
    undocumented = sorted(name for name in used if not is_documented(name, documented))
    assert undocumented == [], "add them to docs/metrics.md (the metric contract) first"


def is_documented(name: str, documented: dict[str, Any]) -> bool:
    if name in documented:
        return True
    for suffix in HISTOGRAM_SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and base in documented and documented[base].type == "histogram":
            return True
    return False


@pytest.mark.parametrize(
    ("file", "title", "expected"),
    [
        ("portal-availability.json", "Homepage unavailable, 7 days (V1)", [None, 0.03, 0.05]),
        ("portal-availability.json", "Homepage unavailable ratio, 7 days", [None, 0.03, 0.05]),
        ("portal-availability.json", "TLS certificate, days left", [None, 14, 30]),
        ("portal-freshness.json", "Days since the homepage's newest item", [None, 10, 14]),
        ("portal-freshness.json", "Stale columns", [None, 7, 10]),
        ("portal-freshness.json", "Stale news / notice / policy columns", [None, 5]),
        ("portal-freshness.json", "Blank columns", [None, 3, 5]),
        ("portal-freshness.json", "Item age / category window", [None, 0.7, 1]),
    ],
)
def test_thresholds_follow_the_inspection_rules(file: str, title: str, expected: list[float | None]) -> None:
    """V1 3% / 5%; V2 10 / 14 days; V3 warn > 6 stale, > 2 blank, veto 10 stale, 5 key, 5 blank."""
    assert threshold_values(panel_by_title(load(file), title)) == expected


def test_days_since_newest_item_is_coloured_per_category_window() -> None:
    panel = panel_by_title(load("portal-freshness.json"), "Days since newest item")
    windows = {}
    for override in panel["fieldConfig"]["overrides"]:
        ref_id = override["matcher"]["options"]
        (steps,) = [p["value"]["steps"] for p in override["properties"] if p["id"] == "thresholds"]
        windows[ref_id] = steps[-1]["value"]
    targets = {target["refId"]: target["expr"] for target in panel["targets"]}
    assert windows == {"A": 14, "B": 180, "C": 365}
    assert 'category="news"' in targets["A"]
    assert 'category=~"notice|policy"' in targets["B"]
    assert 'category=~"personnel|plan"' in targets["C"]


@pytest.fixture(scope="module")
def contract_prometheus(
    require_tool: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusHandle]:
    """Prometheus scraping every documented metric (synthetic values; not the daemon's real output)."""
    require_tool("prometheus")
    metrics = list(documented_metrics().values())
    with serve_exposition(lambda n: synthetic_exposition(metrics, n)) as target:
        handle = start_prometheus(tmp_path_factory.mktemp("prom"), [target])
        with handle:
            wait_for_samples(handle, "portal_monitor_up", count=2)
            yield handle


@pytest.mark.slow
@pytest.mark.parametrize("file", sorted(EXPECTED_UIDS))
def test_every_panel_query_returns_data_for_the_documented_metrics(
    contract_prometheus: PrometheusHandle, file: str
) -> None:
    """Catches PromQL errors, matchers the contract cannot satisfy and vector matching errors."""
    queries = panel_queries(load(file))
    empty = [(title, expr) for title, expr in queries if not query(contract_prometheus, expr)]
    assert empty == []


@pytest.mark.slow
@pytest.mark.parametrize("file", sorted(EXPECTED_UIDS))
def test_every_variable_query_finds_values(contract_prometheus: PrometheusHandle, file: str) -> None:
    for variable in variables(load(file)).values():
        if variable["type"] != "query":
            continue
        match = LABEL_VALUES.match(variable_query(variable))
        assert match, variable_query(variable)
        selector = match.group(1).replace("$site", DEFAULT_VARIABLES["site"])
        assert query(contract_prometheus, f"count by ({match.group(2)}) ({selector})"), variable["name"]


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_grafana_provisioning_files() -> None:
    provisioning = ROOT / "dashboards" / "provisioning"
    datasources = read_yaml(provisioning / "datasources" / "prometheus.yml")
    (datasource,) = datasources["datasources"]
    assert datasources["apiVersion"] == 1
    assert datasource["type"] == "prometheus" and datasource["url"].startswith("http://127.0.0.1:")
    scrape = read_yaml(ROOT / "dashboards" / "prometheus.yml")
    assert datasource["jsonData"]["timeInterval"] == scrape["global"]["scrape_interval"]
    providers = read_yaml(provisioning / "dashboards" / "portal-monitor.yml")
    (provider,) = providers["providers"]
    assert providers["apiVersion"] == 1
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")


def test_the_datasource_variable_defaults_to_the_provisioned_data_source(dashboard: dict[str, Any]) -> None:
    """With `current` empty Grafana picked its default Prometheus, not the provisioned one."""
    provisioned = read_yaml(ROOT / "dashboards" / "provisioning" / "datasources" / "prometheus.yml")
    (datasource,) = provisioned["datasources"]
    current = variables(dashboard)["datasource"]["current"]
    assert current["value"] == datasource["uid"]
    assert current["text"] == datasource["name"]


def test_dashboards_link_each_other_the_docs_and_the_report_commands(dashboard: dict[str, Any]) -> None:
    links = {link["url"]: link for link in dashboard["links"]}
    others = {f"/d/{uid}" for uid in EXPECTED_UIDS.values()} - {f"/d/{dashboard['uid']}"}
    assert others <= set(links)
    for other in others:
        assert links[other]["includeVars"] and links[other]["keepTime"]
    docs = {url.removeprefix("${docs}/") for url in links if url.startswith("${docs}/")}
    assert docs == {"runbook.md", "metrics.md", "reports.md"}
    assert all((ROOT / "docs" / name).is_file() for name in docs)
    assert "monitor report" in links["${docs}/reports.md"]["tooltip"]
    assert variables(dashboard)["docs"]["type"] == "constant"


def in_range_targets() -> list[tuple[str, str]]:
    """(title, expr) of every panel that counts events over the dashboard's time range."""
    return [
        (title, expr)
        for name in sorted(EXPECTED_UIDS)
        for title, expr in panel_queries(load(name))
        if "in range" in title
    ]


@pytest.mark.slow
def test_counts_in_range_are_whole_and_exact(contract_prometheus: PrometheusHandle) -> None:
    """Every synthetic counter gains 1 a scrape, so the exact count over a range is its samples
    there minus one. increase() extrapolated to the range's edges (54.69 for 53 outages)."""
    assert len(in_range_targets()) == 6
    wait_for_samples(contract_prometheus, "portal_outages_total", count=5)
    at = query(contract_prometheus, "time()")[0]["value"][1]
    for title, expr in in_range_targets():
        values = [float(series["value"][1]) for series in query(contract_prometheus, expr, time=float(at))]
        assert values and all(value == round(value) for value in values), (title, values)
    (outages,) = query(contract_prometheus, in_range_targets()[0][1], time=float(at))
    (truth,) = query(contract_prometheus, "sum(count_over_time(portal_outages_total[1h]) - 1)", time=float(at))
    assert in_range_targets()[0][0] == "Outages in range"
    assert float(outages["value"][1]) == float(truth["value"][1]) > 0
