"""The package layout holds: layers and purity (import-linter contracts in pyproject.toml), no
import cycles, `_` modules private to their package, and each package's public surface pinned.

docs/architecture.md explains the layout; this test keeps it true.
"""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import REPO

PACKAGES = (
    "check",
    "extract",
    "track",
    "rules",
    "store",
    "metrics",
    "report",
    "cli",
    "sim",
    "links",
    "integrity",
    "daemon",
    "config",
)


def modules() -> dict[str, Path]:
    """Dotted name -> file of every module under monitor/."""
    found = {}
    for path in sorted((REPO / "monitor").rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module or module.name) of every absolute import in a file: `from a import b` gives
    `a.b` (a submodule, or a name of `a`: callers tell them apart with the module list)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def owner(module: str) -> str | None:
    """The package a monitor module belongs to (None for top-level modules and non-monitor code)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "monitor" and parts[1] in PACKAGES else None


def private_part(module: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in module.split(".")[2:])


def test_import_linter_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports is not installed (pip install '.[test]' brings import-linter)")
    done = subprocess.run([lint], cwd=REPO, capture_output=True, text=True, env={"PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stdout + done.stderr


def test_private_modules_are_used_only_inside_their_package() -> None:
    """`_` means private to the package: other packages, top-level modules, bench and system tests
    use the package's __init__; a package's own unit tests (tests/<package>/) may look inside."""
    files = list((REPO / "monitor").rglob("*.py")) + list((REPO / "bench").glob("*.py"))
    files += list((REPO / "tests").rglob("*.py"))
    problems = []
    for path in files:
        rel = path.relative_to(REPO).parts
        mine = rel[1] if rel[0] in ("monitor", "tests") and len(rel) > 2 and rel[1] in PACKAGES else None
        for line, module in imported(path):
            pkg = owner(module)
            if pkg is not None and pkg != mine and private_part(module):
                problems.append(f"{path.relative_to(REPO)}:{line}: {module}")
    assert sorted(set(problems)) == []


def test_no_import_cycles_between_modules() -> None:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for _, module in imported(path):
            target = module if module in known else module.rpartition(".")[0]
            if target in known and target != name:
                graph[name].add(target)
    cycles = [scc for scc in strongly_connected(graph) if len(scc) > 1]
    assert cycles == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    result.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return result


@pytest.mark.parametrize("package", PACKAGES)
def test_package_surface_is_what_it_exports(package: str) -> None:
    """Every name in __all__ exists, and __all__ is exactly the pinned surface below: growing or
    shrinking a package's public surface is a deliberate change to this list."""
    module = importlib.import_module(f"monitor.{package}")
    exported = set(getattr(module, "__all__", ()))
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []
    assert exported == SURFACES[package], f"monitor.{package}.__all__ changed: update SURFACES deliberately"


def test_every_package_has_a_docstring_pointing_to_the_architecture_page() -> None:
    for package in PACKAGES:
        doc = importlib.import_module(f"monitor.{package}").__doc__ or ""
        assert "docs/architecture.md" in doc, package
    assert (REPO / "docs" / "architecture.md").is_file()


def test_nothing_cites_a_design_document_outside_the_repository() -> None:
    for path in (REPO / "monitor").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "DESIGN.md" not in text, path


SURFACES: dict[str, set[str]] = {
    "config": {
        "ColumnPin",
        "Config",
        "ConfigError",
        "DEFAULT_USER_AGENT",
        "Defaults",
        "DigestConfig",
        "Discovery",
        "ExcludePatterns",
        "FORM_TAGS",
        "Headers",
        "IntegrityConfig",
        "Interval",
        "IntervalByKind",
        "Ipv6Config",
        "Jitter",
        "LinkSpacing",
        "LinksConfig",
        "ListenScope",
        "MAX_CONFIG_BYTES",
        "MAX_INTERVAL_S",
        "MAX_JITTER_S",
        "MAX_LINK_SPACING_S",
        "MAX_RETENTION_S",
        "MAX_SWEEP_EVERY_S",
        "MAX_TIMEOUT_S",
        "MIN_QUIET_INTERVAL_S",
        "MailAddress",
        "MetricsConfig",
        "PageConfig",
        "RawConfig",
        "Retention",
        "SYSTEM_CONFIG_ROOT",
        "SYSTEM_STATE_ROOT",
        "Selectors",
        "SiteConfig",
        "SiteDefaults",
        "SiteIdentity",
        "SiteLinks",
        "SiteOrigin",
        "Size",
        "SmtpConfig",
        "StorageConfig",
        "SweepEvery",
        "TimeOfDay",
        "Timeout",
        "build_page",
        "effective_defaults",
        "integrity_words",
        "listen_scope",
        "load_config",
        "parse_config",
        "resolve_all",
        "resolve_page",
        "site_base_url",
        "site_hosts",
        "site_links",
        "with_shard",
    },
    "daemon": {
        "CHECKS_AT_ONCE",
        "CLOCK_CHECK_S",
        "CLOCK_STEP_S",
        "Daemon",
        "GIL_SWITCH_INTERVAL_S",
        "HEARTBEAT_S",
        "IPV6_FIRST_S",
        "IPV6_WINDOW_S",
        "LINKS_TICK_S",
        "Listening",
        "NextChecks",
        "PARKED_S",
        "PRUNE_EVERY_S",
        "READ_WORKERS_WAIT_S",
        "RETRY_AFTER_CAP_INTERVALS",
        "RETRY_AFTER_CAP_S",
        "RETRY_JOB_SUFFIX",
        "ROLLUP_EVERY_S",
        "SHUTDOWN_GRACE_S",
        "STARTUP_RATE",
        "TRIM_EVERY_S",
        "WRITER_FLUSH_S",
        "HeapTrim",
        "job_id",
        "malloc_trim",
        "next_checks",
        "retry_after_cap",
        "retry_job_id",
    },
    "check": {
        "Ipv6Probe",
        "Ipv6Prober",
        "aaaa_resolver",
        "BodyDecodeError",
        "BodyTooLarge",
        "CappedBody",
        "CheckOutcome",
        "ERROR_MAX_CHARS",
        "Fetcher",
        "HostBudget",
        "HostLimits",
        "Judge",
        "PageFetcher",
        "Previous",
        "READ_BUDGET_S",
        "ReadPool",
        "Sleep",
        "content_hash",
        "dns_resolver",
        "host_limits",
        "judge_body",
        "judge_here",
        "parse_retry_after",
        "run_check",
        "visit_as",
        "visits",
    },
    "extract": {
        "CHALLENGE_MAX_BYTES",
        "body_mentions_not_found",
        "title_says_not_found",
        "challenge_vendor",
        "decode",
        "extract",
        "extract_document",
        "visible_text_bytes",
    },
    "track": {
        "record_ipv6",
        "COLUMN_GONE_READS",
        "IntegrityRead",
        "IntegrityTracker",
        "PageRuntime",
        "Recorded",
        "RemovalConfirmation",
        "Tracker",
        "discovered_pages",
        "monitored_pages",
        "outage",
        "page_name",
        "remembered_columns",
        "restore_runtime",
    },
    "rules": {
        "BLOCKED",
        "Check",
        "DOWN",
        "ERROR",
        "FOREVER_MS",
        "Freshness",
        "HOUR_MS",
        "PageHistory",
        "Rule",
        "STAT_FIELDS",
        "SiteAssessment",
        "Span",
        "Stats",
        "UP",
        "V1Facts",
        "V1Window",
        "V1_MIN_DAILY_CHECKS",
        "V1_VETO_RATIO",
        "V1_WARN_RATIO",
        "V1_WINDOW_S",
        "VerdictState",
        "assess_site",
        "bucket_stats",
        "evaluate",
        "guess_category",
        "hour_ceil",
        "hour_floor",
        "judge_site",
        "page_freshness",
        "page_rule",
        "total",
        "v1",
        "v1_facts",
        "v1_facts_until",
    },
    "store": {
        "Ipv6CheckRow",
        "Ipv6Summary",
        "PruneIpv6",
        "ipv6_link_sample",
        "ipv6_summaries",
        "recent_readings",
        "BlipRow",
        "CheckRow",
        "EventRow",
        "ExternalLink",
        "external_links",
        "link_parents",
        "links_mark",
        "FindingsTracked",
        "Heartbeat",
        "History",
        "IncrementalVacuum",
        "IntegrityEvents",
        "IntegrityStateRow",
        "ItemsSeen",
        "ItemsTouched",
        "LinkOccurrenceRow",
        "LinkPassRecorded",
        "LinkPassRow",
        "LinkPassStarted",
        "LinkPrune",
        "LinkQueries",
        "LinkResultRow",
        "LinkResultsWritten",
        "LinkStateRow",
        "LockHeld",
        "OCCURRENCES_KEPT",
        "ONE_SHOT",
        "OpenOutage",
        "OutageClosed",
        "OutageOpened",
        "OutageProgress",
        "PASS_KINDS",
        "PageRow",
        "PageStateRow",
        "Prune",
        "PruneIntegrity",
        "RESULT_CODES",
        "RollupMark",
        "RollupTick",
        "RunStopped",
        "Store",
        "StoreError",
        "StoredEvent",
        "StoredFinding",
        "WriteOp",
        "WriterSettings",
        "WriterStats",
        "acquire",
        "day_bounds",
        "load_events",
        "load_findings",
        "load_states",
        "migrate_file",
        "open_tracked",
        "to_ms",
    },
    "metrics": {
        "CheckFacts",
        "LinkMetrics",
        "MetricsServer",
        "MonitorState",
        "build_registry",
    },
    "report": {
        "CSV_COLUMNS",
        "Digest",
        "FINDINGS_FORMATS",
        "Overview",
        "Period",
        "Report",
        "ReportError",
        "Selection",
        "TemplateError",
        "build_digest",
        "build_overview",
        "build_report",
        "digest_html",
        "digest_text",
        "merge_reports",
        "parse_period",
        "render",
        "render_findings",
        "render_overview",
        "render_status",
        "site_statuses",
        "status_json",
        "vetoed",
        "write_file",
    },
    "cli": {
        "check_pages",
        "cli",
        "main",
    },
    "sim": {
        "ipv6_loopback",
        "COLUMNS",
        "DemoPlan",
        "Fault",
        "HIDDEN_LINK_TARGET",
        "HistorySpec",
        "SimPage",
        "SimPortal",
        "generate",
        "render_bench",
        "run_demo",
    },
    "links": {
        "Exclusions",
        "Found",
        "HOMEPAGE",
        "Harvest",
        "Inspection",
        "LinkCache",
        "LinkChecker",
        "LinkClass",
        "LinkResult",
        "LinkRunner",
        "LinkSettings",
        "Occurrence",
        "Outcome",
        "PassOutcome",
        "PassPlan",
        "ResourceType",
        "SWEEP",
        "Scope",
        "SiteScope",
        "SkipReason",
        "Skipped",
        "Sweep",
        "SweepChildError",
        "classify",
        "crawl",
        "due_kinds",
        "escalate",
        "harvest",
        "link_settings",
        "pass_plan",
        "resource_type",
        "result_rows",
        "run_pass",
        "slot_before",
        "sweep_in_child",
    },
    "integrity": {
        "IPV6_KINDS",
        "AaaaAnswer",
        "AaaaResolver",
        "Answer",
        "Ipv6Reading",
        "Ipv6State",
        "consistency_findings",
        "page_text",
        "Assessment",
        "CHANGE_SHARE",
        "CRAWLER",
        "DomainLookups",
        "LOOKUPS_PER_SWEEP",
        "LOOKUP_TTL_S",
        "carried_cloaking",
        "lapsed_from_answers",
        "link_domains",
        "link_sweep_domains",
        "lookup",
        "lookup_candidates",
        "Domains",
        "Element",
        "Event",
        "Fetch",
        "Finding",
        "Identity",
        "Inspection",
        "Kind",
        "Level",
        "MOBILE",
        "NORMAL",
        "Resolution",
        "Resolver",
        "SEARCH_REFERER",
        "SWEEP_KINDS",
        "SiteState",
        "Snapshot",
        "TagProfile",
        "Target",
        "Tracked",
        "VISITORS",
        "Visit",
        "Visitor",
        "Vocabulary",
        "VocabularyError",
        "assess_homepage",
        "changed_since",
        "check_cloaking",
        "compare_visits",
        "drift_findings",
        "finding_from_json",
        "hidden_links",
        "identity_findings",
        "inspect_page",
        "inspection_from_json",
        "inspection_to_json",
        "lapsed_findings",
        "load_vocabulary",
        "new_domain_events",
        "outbound_domains",
        "parse_vocabulary",
        "read_identity",
        "snapshot",
        "split_by_source",
        "tag_findings",
        "tamper_changes",
        "track",
        "visible_text",
        "zero_width_findings",
    },
}

if __name__ == "__main__":  # print the current surfaces, to paste into SURFACES after a review
    sys.path.insert(0, str(REPO))
    for name in PACKAGES:
        print(f'    "{name}": {sorted(importlib.import_module(f"monitor.{name}").__all__)!r},')
