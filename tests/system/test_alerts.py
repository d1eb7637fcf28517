"""dashboards/alerts.yml and prometheus.yml: promtool accepts them, every alert is unit-tested both
ways in alerts.test.yml, and every alert carries a severity and English + Chinese annotations.
`promtool check metrics` accepts the daemon's real /metrics.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.sim import SimPortal
from tests.support.daemon_harness import RunningDaemon, sim_config, sim_pages

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
ALERTS = DASHBOARDS / "alerts.yml"
ALERT_TESTS = DASHBOARDS / "alerts.test.yml"
HOMEPAGES_TESTS = DASHBOARDS / "alerts.homepages.test.yml"
"""The same rules with `metrics.per_page: homepages` (only homepages have per-page series)."""
SCRAPE_CONFIG = DASHBOARDS / "prometheus.yml"
SEVERITIES = {"critical", "warning"}
ANNOTATIONS = {"summary", "summary_zh", "description", "description_zh", "runbook_url", "dashboard"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


def rule_tests() -> list[dict[str, Any]]:
    cases = []
    for path in (ALERT_TESTS, HOMEPAGES_TESTS):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        cases += [case for group in document["tests"] for case in group.get("alert_rule_test", [])]
    return cases


def run_promtool(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [promtool, *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def promtool(require_tool: Callable[[str], str]) -> str:
    return require_tool("promtool")


def test_promtool_check_rules(promtool: str) -> None:
    result = run_promtool(promtool, "check", "rules", str(ALERTS), cwd=DASHBOARDS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_promtool_test_rules(promtool: str) -> None:
    result = run_promtool(promtool, "test", "rules", ALERT_TESTS.name, HOMEPAGES_TESTS.name, cwd=DASHBOARDS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 2


def test_shard_recording_rules_and_alerts_across_three_shards(promtool: str, tmp_path: Path) -> None:
    """shards.rules.yml aggregates three shards into one view (each site counted once) and a
    site's alert fires once, from its shard; prometheus-shards.yml and its file_sd targets load."""
    result = run_promtool(promtool, "test", "rules", "shards.rules.test.yml", cwd=DASHBOARDS)
    assert result.returncode == 0, result.stdout + result.stderr
    checked = run_promtool(promtool, "check", "config", str(DASHBOARDS / "prometheus-shards.yml"), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 2 rule files found" in checked.stdout
    targets = yaml.safe_load((DASHBOARDS / "shards.targets.yml").read_text(encoding="utf-8"))
    assert [group["labels"]["shard"] for group in targets] == ["1/3", "2/3", "3/3"]


def test_promtool_check_config_finds_the_rules_next_to_it(promtool: str, tmp_path: Path) -> None:
    """Run from elsewhere: rule_files must resolve against the config file's directory, not the cwd."""
    result = run_promtool(promtool, "check", "config", str(SCRAPE_CONFIG), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_scrape_config_targets_the_daemon_default_address() -> None:
    config = yaml.safe_load(SCRAPE_CONFIG.read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "portal-monitor"]
    assert job["static_configs"] == [{"targets": ["127.0.0.1:9813"]}]


def test_every_alert_has_a_firing_and_a_quiet_test_case() -> None:
    firing = {case["alertname"] for case in rule_tests() if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in rule_tests() if not case.get("exp_alerts")}
    names = {rule["alert"] for rule in alert_rules()}
    assert sorted(names - firing) == [], "alerts without a test case where they fire"
    assert sorted(names - quiet) == [], "alerts without a test case where they stay quiet"
    assert sorted((firing | quiet) - names) == [], "test cases for alerts that do not exist"


def test_firing_cases_check_the_rendered_annotations() -> None:
    """promtool compares annotations only when given; give them, so templates are tested too."""
    expected = [alert for case in rule_tests() for alert in case.get("exp_alerts") or []]
    assert expected
    assert [a["exp_labels"] for a in expected if set(a.get("exp_annotations", {})) != ANNOTATIONS] == []


def test_alert_names_are_unique() -> None:
    names = [rule["alert"] for rule in alert_rules()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_has_severity_and_bilingual_annotations(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert set(annotations) == ANNOTATIONS
    for key in ("summary", "description"):
        assert not CJK.search(annotations[key]), f"{key} should be English"
        assert CJK.search(annotations[f"{key}_zh"]), f"{key}_zh should be Chinese"


def test_every_alert_is_explained_in_deploy_md() -> None:
    deploy = (DASHBOARDS.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in deploy.splitlines() if line.startswith("| Portal")}
    assert rows == {rule["alert"] for rule in alert_rules()}


@pytest.mark.slow
def test_promtool_check_metrics_passes_on_the_daemons_exposition(promtool: str, tmp_path: Path) -> None:
    """The real /metrics of a running daemon (homepage, column, compliance and the monitor's own
    families) passes promtool's linter: names, units, suffixes, HELP and TYPE."""
    with SimPortal() as sim:
        config = sim_config(tmp_path, sim, pages=sim_pages(sim, "home", "gzdt", "jyta"))
        with RunningDaemon(config) as daemon:
            daemon.wait_for(
                lambda: daemon.value("portal_homepage_checks_7d", site="sim"), what="a homepage visit counted"
            )
            status, text = daemon.get("/metrics")
            daemon.terminate()
    assert status == 200 and "portal_compliance_insufficient_data" in text
    assert "portal_homepage_low_visit_day_count_7d" in text and "insufficient_days" not in text
    linted = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=120, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def markdown_anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown text: lower case, punctuation dropped,
    spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_every_alert_links_its_runbook_section_and_a_dashboard() -> None:
    """The person paged gets a runbook section (docs/runbook.md, one per alert) and a dashboard
    that exists, opened on the alert's site when it has one."""
    runbook = DASHBOARDS.parent / "docs" / "runbook.md"
    anchors = markdown_anchors(runbook.read_text(encoding="utf-8"))
    uids = {json.loads(path.read_text(encoding="utf-8"))["uid"] for path in DASHBOARDS.glob("*.json")}
    for rule in alert_rules():
        annotations = rule["annotations"]
        assert annotations["runbook_url"] == f"docs/runbook.md#{rule['alert'].lower()}", rule["alert"]
        assert rule["alert"].lower() in anchors, f"docs/runbook.md has no section {rule['alert']}"
        match = re.fullmatch(r"/d/([\w-]+)(\?var-site=\{\{ \$labels\.site \}\})?", annotations["dashboard"])
        assert match and match.group(1) in uids, annotations["dashboard"]
        per_site = "$labels.site" in annotations["summary"] + annotations["description"]
        assert bool(match.group(2)) == per_site, f"{rule['alert']}: open the dashboard on the alert's site"


def alertmanager_snippet() -> str:
    """The alertmanager.yml given in docs/deploy.md: the ```yaml block starting with `route:`."""
    deploy = (DASHBOARDS.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    (snippet,) = [block for block in re.findall(r"```yaml\n(.*?)```", deploy, flags=re.DOTALL) if "route:" in block]
    return snippet


def test_the_alertmanager_snippet_in_deploy_md_is_a_valid_config(
    require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    """Copied as documented, the snippet must load: it used to have no `receivers:`, which
    `amtool check-config` rejects. Needs amtool (Debian: prometheus-alertmanager)."""
    amtool = require_tool("amtool")
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_snippet(), encoding="utf-8")
    result = subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    receivers = {r["name"] for r in yaml.safe_load(alertmanager_snippet())["receivers"]}
    assert {"ops", "ops-pager"} <= receivers
