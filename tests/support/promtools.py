"""Test helpers (not tests) for running a real Prometheus: start one on a free loopback port that
scrapes given targets, query it over the HTTP API, list a Grafana dashboard's panel queries with
the template variables filled in, and build an exposition shaped like docs/metrics.md.
Nothing here asserts; callers do. Needs the `prometheus` binary (Debian package `prometheus`).
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import re
import shutil
import subprocess
import threading
import time as clock
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from tests.support.ports import free_port

METRICS_DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"

DEFAULT_VARIABLES: Mapping[str, str] = {
    "datasource": "prometheus",
    "site": ".*",
    "page": ".*",
    "category": ".*",
    "__range": "1h",
    "__range_s": "3600",
    "__rate_interval": "15s",
    "__interval": "1s",
}
"""Values for Grafana variables: `.*` selects every site/page/category (the variables are used with =~);
the intervals suit a Prometheus scraping every second for a few seconds."""

_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)")
_READY_TIMEOUT_S = 30.0


class PrometheusError(Exception):
    """Prometheus failed to start, or answered a query with an error."""


@dataclass
class PrometheusHandle:
    """A running Prometheus; `close()` (or leaving a `with` block) stops it."""

    url: str
    process: subprocess.Popen[bytes]
    config_path: Path
    log_path: Path

    def log(self) -> str:
        """Prometheus's own log so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> PrometheusHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def start_prometheus(
    tmp_path: Path,
    targets: Sequence[str],
    scrape_interval: str = "1s",
    rule_files: Sequence[Path] = (),
    *,
    job: str = "portal-monitor",
    binary: str = "prometheus",
) -> PrometheusHandle:
    """Start Prometheus on 127.0.0.1 scraping `targets` ("host:port") as `job`; return once it is ready.

    Its config, TSDB and log live under `tmp_path`. Rule files are referenced by absolute path, so
    alert rules can be evaluated too.
    """
    executable = shutil.which(binary)
    if executable is None:
        raise PrometheusError(f"{binary} is not on PATH")
    workdir = tmp_path / "prometheus"
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "prometheus.yml"
    config_path.write_text(_config_yaml(targets, scrape_interval, rule_files, job))
    # The port is free when chosen but could be taken before Prometheus binds it: try again then.
    for attempt in itertools.count(1):
        handle = _launch(executable, workdir, config_path, free_port())
        try:
            _wait_ready(handle)
            return handle
        except PrometheusError:
            handle.close()
            if attempt >= 3 or "address already in use" not in handle.log():
                raise
    raise AssertionError("unreachable")


def query(handle: PrometheusHandle, promql: str, time: float | None = None) -> list[dict[str, Any]]:
    """Evaluate an instant query; the `result` list (vector), or [{"value": [...]}] for a scalar."""
    params = {"query": promql}
    if time is not None:
        params["time"] = f"{time:.3f}"
    data = _api(handle, "query", params)
    if data["resultType"] in ("scalar", "string"):
        return [{"metric": {}, "value": data["result"]}]
    result: list[dict[str, Any]] = data["result"]
    return result


def query_range(handle: PrometheusHandle, promql: str, start: float, end: float, step_s: float) -> list[dict[str, Any]]:
    """Evaluate a range query (as Grafana does for time series panels); the `result` matrix."""
    params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step_s}"}
    result: list[dict[str, Any]] = _api(handle, "query_range", params)["result"]
    return result


def wait_for_samples(handle: PrometheusHandle, metric: str, count: int = 2, timeout_s: float = 30.0) -> None:
    """Block until every target of `metric` has at least `count` samples (rates need two or more)."""
    promql = f"min(count_over_time({metric}[5m])) >= {count}"
    deadline = clock.monotonic() + timeout_s
    while not query(handle, promql):
        if clock.monotonic() > deadline:
            raise PrometheusError(f"fewer than {count} samples of {metric} after {timeout_s}s:\n{handle.log()}")
        clock.sleep(0.2)


def panel_queries(dashboard: Mapping[str, Any], variables: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(panel title, PromQL) for every target of every panel, rows included, variables substituted.

    `variables` override DEFAULT_VARIABLES; an unknown variable raises KeyError, so a typo in a
    dashboard shows up here rather than as an empty Grafana panel.
    """
    values = {**DEFAULT_VARIABLES, **(variables or {})}
    return [
        (panel.get("title", ""), substitute_variables(target["expr"], values))
        for panel in _walk_panels(dashboard.get("panels", []))
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def substitute_variables(expr: str, values: Mapping[str, str]) -> str:
    """Replace `$name`, `${name}`, `${name:format}` and `[[name]]` with `values[name]`."""

    def replace(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name not in values:
            raise KeyError(f"unknown Grafana variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


@dataclass(frozen=True)
class DocumentedMetric:
    """One row of a docs/metrics.md table."""

    name: str
    type: str
    labels: tuple[str, ...]


def documented_metrics(path: Path = METRICS_DOC) -> dict[str, DocumentedMetric]:
    """Every metric in the tables of docs/metrics.md, by name."""
    metrics = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"`portal_\w+`", cells[0]):
            name = cells[0].strip("`")
            labels = tuple(label.strip() for label in cells[2].split(",") if label.strip())
            metrics[name] = DocumentedMetric(name, cells[1], labels)
    return metrics


SYNTHETIC_PAGES = (
    {"site": "jtj", "page": "首页", "kind": "homepage", "category": "news"},
    {"site": "jtj", "page": "通知公告", "kind": "column", "category": "notice"},
    {"site": "jtj", "page": "人事信息", "kind": "column", "category": "personnel"},
    {"site": "jtj", "page": "机构概况", "kind": "column", "category": "static"},
)
SYNTHETIC_LABEL_VALUES: Mapping[str, tuple[str, ...]] = {
    "phase": ("dns", "connect", "tls", "ttfb", "transfer"),
    "result": ("up", "down", "broken"),
    "error_kind": ("timeout",),
    "rule": ("V1", "V2", "V3"),
    "version": ("0.1.0",),
    "python": ("3.11",),
    "level": ("low", "high"),
    "element": ("site_code", "conac"),
}


def synthetic_exposition(metrics: Iterable[DocumentedMetric], scrape_number: int) -> str:
    """A text exposition with every documented metric for four pages of one site: gauges are 1,
    counters and histogram counts equal `scrape_number` (so rates and increases are positive).

    It has the documented names and labels, nothing more: it checks queries against the contract,
    not against what the daemon really exports.
    """
    lines = []
    for metric in metrics:
        lines.append(f"# TYPE {metric.name} {metric.type}")
        for labels in _label_sets(metric.labels):
            lines += _samples(metric, labels, scrape_number)
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def serve_exposition(render: Callable[[int], str]) -> Iterator[str]:
    """Serve `render(n)` (n = 1, 2, ... per request) as /metrics on a free loopback port; yield host:port."""
    scrapes = itertools.count(1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = render(next(scrapes)).encode("utf-8")
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a scrape a second would flood the test output."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _label_sets(names: Sequence[str]) -> Iterator[dict[str, str]]:
    page_names = [name for name in names if name in SYNTHETIC_PAGES[0]]
    others = [name for name in names if name not in SYNTHETIC_PAGES[0]]
    pages = list({tuple((n, p[n]) for n in page_names): None for p in SYNTHETIC_PAGES})
    for page in pages:
        for combo in itertools.product(*(SYNTHETIC_LABEL_VALUES[name] for name in others)):
            yield {**dict(page), **dict(zip(others, combo, strict=True))}


def _samples(metric: DocumentedMetric, labels: dict[str, str], scrape_number: int) -> list[str]:
    if metric.type == "counter":
        return [_sample(metric.name, labels, scrape_number)]
    if metric.type == "histogram":
        buckets = [_sample(f"{metric.name}_bucket", {**labels, "le": le}, scrape_number) for le in ("0.1", "1", "+Inf")]
        return [
            *buckets,
            _sample(f"{metric.name}_sum", labels, scrape_number * 0.05),
            _sample(f"{metric.name}_count", labels, scrape_number),
        ]
    return [_sample(metric.name, labels, 1)]


def _sample(name: str, labels: Mapping[str, str], value: float) -> str:
    rendered = ",".join(f'{key}="{value_}"' for key, value_ in labels.items())
    return f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}"


def _walk_panels(panels: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Panels in order; a collapsed row keeps its panels inside it."""
    for panel in panels:
        yield panel
        yield from _walk_panels(panel.get("panels", []))


def _config_yaml(targets: Sequence[str], scrape_interval: str, rule_files: Sequence[Path], job: str) -> str:
    config = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "rule_files": [str(Path(path).resolve()) for path in rule_files],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": list(targets)}]}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def _launch(executable: str, workdir: Path, config_path: Path, port: int) -> PrometheusHandle:
    log_path = workdir / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                executable,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return PrometheusHandle(f"http://127.0.0.1:{port}", process, config_path, log_path)


def _wait_ready(handle: PrometheusHandle) -> None:
    deadline = clock.monotonic() + _READY_TIMEOUT_S
    while clock.monotonic() < deadline:
        if handle.process.poll() is not None:
            raise PrometheusError(f"prometheus exited with {handle.process.returncode}:\n{handle.log()}")
        try:
            with urllib.request.urlopen(f"{handle.url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        clock.sleep(0.1)
    raise PrometheusError(f"prometheus not ready after {_READY_TIMEOUT_S}s:\n{handle.log()}")


def _api(handle: PrometheusHandle, endpoint: str, params: Mapping[str, str]) -> dict[str, Any]:
    url = f"{handle.url}/api/v1/{endpoint}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        body = json.load(exc)
    if body.get("status") != "success":
        raise PrometheusError(f"{params.get('query')}: {body.get('errorType')}: {body.get('error')}")
    data: dict[str, Any] = body["data"]
    return data
