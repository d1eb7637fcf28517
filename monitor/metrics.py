"""Prometheus exposition: the daemon's latest state per page, turned into metric families.

`MonitorState` holds the facts the daemon records after each check; `PortalCollector`
rebuilds every family from it at scrape time (freshness and compliance are derived then, from
the clock passed in). `MetricsServer` serves /metrics and /healthz on the configured address.
"""

from __future__ import annotations

import collections
import logging
import platform
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from monitor import __version__
from monitor._exposition import exposition
from monitor.compliance import V1_WINDOW_S, SiteAssessment, assess_site
from monitor.freshness import Freshness, page_freshness
from monitor.models import PHASES, Clock, ContentFacts, ErrorKind, Page, PageKind, Result
from monitor.store import WriterStats

log = logging.getLogger("monitor.metrics")

PAGE_LABELS = ("site", "page", "kind")
CONTENT_LABELS = (*PAGE_LABELS, "category")


class WriterView(Protocol):
    """The database writer's counters, as the metrics need them."""

    def stats(self) -> WriterStats: ...
    def take_batch_seconds(self) -> list[float]: ...


@dataclass
class PageSeries:
    """Latest facts of one page."""

    page: Page
    last_ts: float | None = None
    result: Result | None = None
    duration_s: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    status: int = 0
    bytes: int = 0
    redirects: int = 0
    tls_expiry: float | None = None
    checks: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    outage_started: float | None = None
    outages_total: int = 0
    blips_total: int = 0
    items_new_total: int = 0
    content: ContentFacts = field(default_factory=ContentFacts)


@dataclass(frozen=True)
class CheckFacts:
    """The part of a check outcome the metrics need."""

    ts: float
    result: Result
    error_kind: ErrorKind | None
    duration_s: float
    phases: dict[str, float]
    status: int | None
    bytes: int
    redirects: int
    tls_expiry: float | None


class MonitorState:
    """Thread-safe latest state, written by the daemon and read by the collector."""

    def __init__(self, clock: Clock) -> None:
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, str], PageSeries] = {}
        self._homepage_checks: dict[str, collections.deque[tuple[float, bool]]] = {}
        self.started = clock.now()
        self.last_check: float | None = None
        self.reloads: collections.Counter[str] = collections.Counter()

    def set_pages(self, pages: Iterable[Page]) -> None:
        """Keep the series of pages still monitored (updating settings), add new ones, drop the rest."""
        with self._lock:
            wanted = {page.key: page for page in pages}
            for key in list(self._pages):
                if key not in wanted:
                    del self._pages[key]
            for key, page in wanted.items():
                if key in self._pages:
                    self._pages[key].page = page
                else:
                    self._pages[key] = PageSeries(page)

    def restore(
        self, key: tuple[str, str], *, outage_started: float | None, outages_total: int, content: ContentFacts
    ) -> None:
        """Seed a page's state from the database after a restart."""
        with self._lock:
            series = self._pages[key]
            series.outage_started = outage_started
            series.outages_total = outages_total
            series.content = content

    def seed_homepage_checks(self, site: str, checks: Iterable[tuple[float, bool]]) -> None:
        with self._lock:
            self._homepage_checks[site] = collections.deque(sorted(checks))

    def record_check(self, key: tuple[str, str], facts: CheckFacts, *, scheduled: bool) -> None:
        with self._lock:
            series = self._pages.get(key)
            if series is None:
                return
            series.last_ts = facts.ts
            series.result = facts.result
            series.duration_s = facts.duration_s
            series.phases = dict(facts.phases)
            series.status = facts.status or 0
            series.bytes = facts.bytes
            series.redirects = facts.redirects
            if facts.tls_expiry is not None:
                series.tls_expiry = facts.tls_expiry
            series.checks[facts.result.value] += 1
            if facts.error_kind is not None:
                series.errors[facts.error_kind.value] += 1
            self.last_check = max(self.last_check or 0.0, facts.ts + facts.duration_s)
            if scheduled and series.page.kind is PageKind.HOMEPAGE and facts.result is not Result.ERROR:
                self._note_homepage_check(series.page.site, facts)

    def _note_homepage_check(self, site: str, facts: CheckFacts) -> None:
        checks = self._homepage_checks.setdefault(site, collections.deque())
        checks.append((facts.ts, facts.result is Result.DOWN))
        while checks and checks[0][0] < facts.ts - V1_WINDOW_S:
            checks.popleft()

    def record_outage(
        self, key: tuple[str, str], *, started: float | None, opened: bool = False, blip: bool = False
    ) -> None:
        with self._lock:
            series = self._pages.get(key)
            if series is None:
                return
            series.outage_started = started
            series.outages_total += int(opened)
            series.blips_total += int(blip)

    def record_content(self, key: tuple[str, str], content: ContentFacts, new_items: int) -> None:
        with self._lock:
            series = self._pages.get(key)
            if series is None:
                return
            series.content = content
            series.items_new_total += new_items

    def record_reload(self, applied: bool) -> None:
        with self._lock:
            self.reloads["applied" if applied else "rejected"] += 1

    def snapshot(self) -> tuple[list[PageSeries], dict[str, list[tuple[float, bool]]]]:
        """Copies for the collector, so a scrape never holds the lock while formatting."""
        with self._lock:
            pages = [
                PageSeries(
                    **{
                        **s.__dict__,
                        "checks": collections.Counter(s.checks),
                        "errors": collections.Counter(s.errors),
                        "phases": dict(s.phases),
                    }
                )
                for s in self._pages.values()
            ]
            checks = {site: list(d) for site, d in self._homepage_checks.items()}
        return pages, checks


def freshness_of(series: PageSeries, today: date) -> Freshness:
    return page_freshness(series.page, series.content, today)


def assess(
    pages: list[PageSeries], homepage_checks: dict[str, list[tuple[float, bool]]], now: float, tz: ZoneInfo
) -> dict[str, SiteAssessment]:
    """Freshness and compliance per site, from the state at `now`."""
    today = datetime.fromtimestamp(now, tz).date()
    by_site: dict[str, list[PageSeries]] = collections.defaultdict(list)
    for series in pages:
        by_site[series.page.site].append(series)
    result = {}
    for site, members in by_site.items():
        columns = [(s.page.name, freshness_of(s, today)) for s in members if s.page.kind is PageKind.COLUMN]
        homepages = [freshness_of(s, today) for s in members if s.page.kind is PageKind.HOMEPAGE]
        result[site] = assess_site(columns, homepages[0] if homepages else None, homepage_checks.get(site, []), now, tz)
    return result


class SelfMetrics:
    """The monitor's own histograms, registered on the given registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.scheduler_lag = Histogram(
            "portal_monitor_scheduler_lag_seconds",
            "How late checks started against their scheduled time.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "portal_monitor_db_write_batch_seconds",
            "Time to write one batch to SQLite.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
            registry=registry,
        )


class PortalCollector(Collector):
    """Builds every `portal_*` family from `MonitorState` at scrape time."""

    def __init__(
        self,
        state: MonitorState,
        *,
        clock: Clock,
        tz: ZoneInfo,
        writer: WriterView,
        self_metrics: SelfMetrics,
    ) -> None:
        self._state = state
        self._clock = clock
        self._tz = tz
        self._writer = writer
        self._self_metrics = self_metrics

    def collect(self) -> Iterator[Metric]:
        pages, homepage_checks = self._state.snapshot()
        now = self._clock.now()
        yield from _availability(pages)
        today = datetime.fromtimestamp(now, self._tz).date()
        yield from _content(pages, today, self._tz)
        yield from _sites(assess(pages, homepage_checks, now, self._tz))
        yield from self._own(pages)

    def _own(self, pages: list[PageSeries]) -> Iterator[Metric]:
        stats = self._writer.stats()
        for seconds in self._writer.take_batch_seconds():
            self._self_metrics.batch_seconds.observe(seconds)
        yield _gauge("portal_monitor_up", "Always 1 while the daemon serves metrics.", [], [((), 1)])
        yield _gauge(
            "portal_monitor_build_info",
            "Version of the running monitor.",
            ["version", "python"],
            [((__version__, platform.python_version()), 1)],
        )
        yield _gauge(
            "portal_monitor_start_timestamp_seconds",
            "When the daemon started.",
            [],
            [((), self._state.started)],
        )
        if self._state.last_check is not None:
            yield _gauge(
                "portal_monitor_last_check_timestamp_seconds",
                "When any check last finished.",
                [],
                [((), self._state.last_check)],
            )
        per_site = collections.Counter(s.page.site for s in pages)
        yield _gauge(
            "portal_monitor_pages",
            "Pages being monitored.",
            ["site"],
            [((site,), n) for site, n in sorted(per_site.items())],
        )
        yield _counter(
            "portal_monitor_db_write_errors",
            "Failed database writes (rows are kept and retried).",
            [],
            [((), stats.write_errors)],
        )
        yield _gauge("portal_monitor_db_backlog", "Rows waiting to be written.", [], [((), stats.backlog)])
        yield _counter(
            "portal_monitor_db_rows_written", "Rows committed to the database.", [], [((), stats.ops_written)]
        )
        yield _counter(
            "portal_monitor_db_checks_written",
            "Checks committed to the database (each one counted is on disk).",
            [],
            [((), stats.checks_written)],
        )
        yield _counter(
            "portal_monitor_db_rows_dropped",
            "Rows dropped, oldest first, because the backlog was full (lost).",
            [],
            [((), stats.ops_dropped)],
        )
        yield _counter(
            "portal_monitor_config_reloads",
            "SIGHUP reloads by result.",
            ["result"],
            [((r,), self._state.reloads.get(r, 0)) for r in ("applied", "rejected")],
        )


def _labels(series: PageSeries) -> tuple[str, str, str]:
    return (series.page.site, series.page.name, series.page.kind.value)


def _gauge(name: str, doc: str, labels: list[str], samples: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def _counter(name: str, doc: str, labels: list[str], samples: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def _availability(pages: list[PageSeries]) -> Iterator[Metric]:
    checked = [s for s in pages if s.result is not None]
    labels = list(PAGE_LABELS)
    yield _gauge(
        "portal_probe_success",
        "1 if the latest check was up.",
        labels,
        [(_labels(s), float(s.result is Result.UP)) for s in checked],
    )
    yield _gauge(
        "portal_probe_blocked",
        "1 if the latest check got an anti-bot answer.",
        labels,
        [(_labels(s), float(s.result is Result.BLOCKED)) for s in checked],
    )
    yield _gauge(
        "portal_probe_duration_seconds",
        "Total duration of the latest check.",
        labels,
        [(_labels(s), s.duration_s) for s in checked],
    )
    yield _gauge(
        "portal_probe_phase_duration_seconds",
        "Latest check's time per phase.",
        [*labels, "phase"],
        [((*_labels(s), phase), s.phases[phase]) for s in checked for phase in PHASES if phase in s.phases],
    )
    yield _gauge(
        "portal_probe_http_status_code",
        "HTTP status of the latest check (0: no response).",
        labels,
        [(_labels(s), s.status) for s in checked],
    )
    yield _gauge(
        "portal_probe_content_bytes",
        "Body bytes read by the latest check.",
        labels,
        [(_labels(s), s.bytes) for s in checked],
    )
    yield _gauge(
        "portal_probe_redirects",
        "Redirects followed by the latest check.",
        labels,
        [(_labels(s), s.redirects) for s in checked],
    )
    yield _counter(
        "portal_checks",
        "Checks by result.",
        [*labels, "result"],
        [((*_labels(s), r.value), s.checks.get(r.value, 0)) for s in pages for r in Result],
    )
    yield _counter(
        "portal_probe_errors",
        "Failed checks by error kind.",
        [*labels, "error_kind"],
        [((*_labels(s), kind), n) for s in pages for kind, n in sorted(s.errors.items())],
    )
    yield from _outages(pages, labels)
    yield _gauge(
        "portal_last_check_timestamp_seconds",
        "When the latest check started.",
        labels,
        [(_labels(s), s.last_ts) for s in checked if s.last_ts is not None],
    )
    yield _gauge(
        "portal_page_interval_seconds",
        "Configured check interval.",
        labels,
        [(_labels(s), s.page.interval_s) for s in pages],
    )
    yield _gauge(
        "portal_tls_cert_expiry_timestamp_seconds",
        "notAfter of the server certificate.",
        labels,
        [(_labels(s), s.tls_expiry) for s in pages if s.tls_expiry is not None],
    )
    yield _gauge(
        "portal_tls_verify_enabled",
        "1 when certificate verification is on.",
        labels,
        [(_labels(s), float(s.page.verify_tls)) for s in pages],
    )


def _outages(pages: list[PageSeries], labels: list[str]) -> Iterator[Metric]:
    yield _gauge(
        "portal_outage_active",
        "1 while a confirmed outage is open.",
        labels,
        [(_labels(s), float(s.outage_started is not None)) for s in pages],
    )
    yield _gauge(
        "portal_outage_started_timestamp_seconds",
        "Start of the open outage.",
        labels,
        [(_labels(s), s.outage_started) for s in pages if s.outage_started is not None],
    )
    yield _counter(
        "portal_outages", "Confirmed outages opened.", labels, [(_labels(s), s.outages_total) for s in pages]
    )
    yield _counter(
        "portal_blips",
        "Single failures the retry did not confirm.",
        labels,
        [(_labels(s), s.blips_total) for s in pages],
    )


def _content(pages: list[PageSeries], today: date, tz: ZoneInfo) -> Iterator[Metric]:
    listed = [s for s in pages if s.page.kind in (PageKind.HOMEPAGE, PageKind.CATALOGUE, PageKind.COLUMN)]
    labels = list(CONTENT_LABELS)
    judged = [(s, freshness_of(s, today)) for s in listed]
    verdicts = [(s, f, (*_labels(s), f.rule.category.value)) for s, f in judged]
    read = [(s, f, lv) for s, f, lv in verdicts if f.checked and not f.unreadable]
    yield _gauge(
        "portal_column_newest_item_timestamp_seconds",
        "Publish date of the newest dated item.",
        labels,
        [(lv, _midnight(f.newest, tz)) for _, f, lv in read if f.newest is not None],
    )
    yield _gauge(
        "portal_column_items",
        "Items on the list.",
        labels,
        [(lv, f.item_count) for _, f, lv in read if f.item_count is not None],
    )
    yield _gauge(
        "portal_column_stale",
        "1 when the newest dated item is older than the window.",
        labels,
        [(lv, float(f.stale)) for _, f, lv in read],
    )
    yield _gauge(
        "portal_column_blank",
        "1 when the list has no item at all.",
        labels,
        [(lv, float(f.blank)) for _, f, lv in read],
    )
    yield _gauge(
        "portal_column_freshness_window_seconds",
        "The category's staleness window.",
        labels,
        [(lv, f.rule.window_days * 86400.0) for _, f, lv in verdicts if f.rule.window_days is not None],
    )
    yield _counter(
        "portal_items_new",
        "Items seen for the first time.",
        labels,
        [(lv, s.items_new_total) for s, _, lv in verdicts],
    )
    yield _gauge(
        "portal_content_last_change_timestamp_seconds",
        "When the page's content last changed.",
        list(PAGE_LABELS),
        [(_labels(s), s.content.last_change) for s in listed if s.content.last_change is not None],
    )
    yield _gauge(
        "portal_page_unreadable",
        "1 when the page's list could not be read.",
        list(PAGE_LABELS),
        [(_labels(s), float(f.unreadable)) for s, f, _ in verdicts if f.checked],
    )


def _midnight(day: date, tz: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def _sites(assessments: dict[str, SiteAssessment]) -> Iterator[Metric]:
    items = sorted(assessments.items())
    yield _gauge(
        "portal_site_stale_columns",
        "Stale columns.",
        ["site"],
        [((site,), a.v3_facts.stale) for site, a in items],
    )
    yield _gauge(
        "portal_site_stale_key_columns",
        "Stale news, notice and policy columns.",
        ["site"],
        [((site,), a.v3_facts.stale_key) for site, a in items],
    )
    yield _gauge(
        "portal_site_blank_columns",
        "Blank columns.",
        ["site"],
        [((site,), a.v3_facts.blank) for site, a in items],
    )
    yield _gauge(
        "portal_homepage_unavailable_ratio_7d",
        "Failed / all homepage checks over 7 days.",
        ["site"],
        [((site,), a.v1_facts.ratio) for site, a in items if a.v1_facts.ratio is not None],
    )
    yield _gauge(
        "portal_homepage_checks_7d",
        "Homepage checks over the last 7 days.",
        ["site"],
        [((site,), a.v1_facts.checks) for site, a in items],
    )
    yield _gauge(
        "portal_homepage_insufficient_days_7d",
        "Days of the last 7 with fewer than 20 homepage checks.",
        ["site"],
        [((site,), a.v1_facts.insufficient_days) for site, a in items],
    )
    yield _gauge(
        "portal_compliance_veto",
        "1 when the rule is violated.",
        ["site", "rule"],
        [((site, v.rule), float(v.veto)) for site, a in items for v in a.verdicts],
    )
    yield _gauge(
        "portal_compliance_warning",
        "1 when the rule's early-warning level is reached.",
        ["site", "rule"],
        [((site, v.rule), float(v.warning)) for site, a in items for v in a.verdicts],
    )


def build_registry(
    state: MonitorState, *, clock: Clock, tz: ZoneInfo, writer: WriterView
) -> tuple[CollectorRegistry, SelfMetrics]:
    """A private registry with the portal collector and the monitor's own histograms."""
    registry = CollectorRegistry(auto_describe=False)
    self_metrics = SelfMetrics(registry)
    registry.register(PortalCollector(state, clock=clock, tz=tz, writer=writer, self_metrics=self_metrics))
    return registry, self_metrics


class MetricsServer:
    """/metrics and /healthz on one address, served from a background thread."""

    def __init__(self, registry: CollectorRegistry, healthy: Callable[[], tuple[bool, str]]) -> None:
        self._registry = registry
        self._healthy = healthy
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str, port: int) -> tuple[str, int]:
        """Bind and serve; returns the bound address (port 0 picks a free one). Raises OSError."""
        handler = _handler_class(self._registry, self._healthy)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics-http", daemon=True)
        self._thread.start()
        bound = self._server.server_address
        return str(bound[0]), int(bound[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _handler_class(
    registry: CollectorRegistry, healthy: Callable[[], tuple[bool, str]]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "portal-monitor"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, exposition(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok, reason = healthy()
                self._send(200 if ok else 503, (reason + "\n").encode(), "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found: try /metrics or /healthz\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http %s", format % args)

    return Handler
