"""Prometheus exposition: the daemon's latest state per page, turned into metric families.

`MonitorState` holds the facts the daemon records after each check; `PortalCollector`
rebuilds every family from it at scrape time (freshness and compliance are derived then, from
the clock passed in). `MetricsServer` serves /metrics and /healthz on the configured address.
"""

from __future__ import annotations

import collections
import logging
import os
import platform
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor import __version__
from monitor.integrity import Identity, Ipv6Reading, Tracked
from monitor.metrics._aggregates import PerPage, per_page_views, site_totals, totals_as_metrics, totals_as_text
from monitor.metrics._exposition import LabelText, exposition
from monitor.metrics._families import PageView, as_metrics, as_text
from monitor.metrics._integrity import SiteIntegrity, integrity_metrics, site_integrity
from monitor.metrics._ipv6 import SiteIpv6, ipv6_metrics
from monitor.metrics._links import LinkMetrics
from monitor.metrics._series import CheckFacts, PageSeries, check_facts
from monitor.metrics._server import MetricsServer as MetricsServer
from monitor.models import LISTED_KINDS, Clock, ContentFacts, Page, PageKind, Result
from monitor.rules import SiteAssessment, V1Window, assess_site, page_freshness
from monitor.store import WriterStats
from monitor.track import Recorded, outage

log = logging.getLogger("monitor.metrics")


class WriterView(Protocol):
    """The database writer's counters, as the metrics need them."""

    def stats(self) -> WriterStats: ...
    def take_batch_seconds(self) -> list[float]: ...


class MonitorState:
    """Thread-safe latest state, written by the daemon and read by the collector."""

    def __init__(self, clock: Clock) -> None:
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, str], PageSeries] = {}
        self._homepage_checks: dict[str, V1Window] = {}
        self.started = clock.now()
        self.last_check: float | None = None
        self.reloads: collections.Counter[str] = collections.Counter()
        self._integrity: dict[str, SiteIntegrity] = {}
        self._ipv6: dict[str, SiteIpv6] = {}

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
            self._homepage_checks[site] = V1Window(checks)

    def apply(self, key: tuple[str, str], recorded: Recorded) -> None:
        """Everything one recorded check changed: its probe, outage transitions, content facts."""
        if recorded.outcome is not None:
            self.record_check(key, check_facts(recorded.outcome), scheduled=recorded.visit)
        for event in recorded.events:
            if isinstance(event, outage.OutageStart):
                self.record_outage(key, started=event.started, opened=True)
            elif isinstance(event, outage.OutageEnd):
                self.record_outage(key, started=None)
            elif isinstance(event, outage.Blip):
                self.record_outage(key, started=None, blip=True)
        if recorded.content is not None:
            self.record_content(key, recorded.content, recorded.new_items)

    def record_check(self, key: tuple[str, str], facts: CheckFacts, *, scheduled: bool) -> None:
        """Latest facts of a check; a scheduled homepage visit (not a retry) is also a sample of rule V1."""
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
        self._homepage_checks.setdefault(site, V1Window()).add(facts.ts, facts.result is Result.DOWN)

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

    def apply_integrity(self, site: str, open_findings: Iterable[Tracked], identity: Identity | None) -> None:
        """A site's open integrity findings and its homepage's identity, after an integrity reading."""
        state = site_integrity(open_findings, identity)
        with self._lock:
            self._integrity[site] = state

    def integrity(self) -> dict[str, SiteIntegrity]:
        """Per-site integrity state (a copy: the values are frozen)."""
        with self._lock:
            return dict(self._integrity)

    def apply_ipv6(self, site: str, readings: Iterable[Ipv6Reading]) -> None:
        """A site's IPv6 readings, oldest first (one after each reading; the last 24 h at start)."""
        with self._lock:
            state = self._ipv6.setdefault(site, SiteIpv6())
            for reading in readings:
                state.add(reading)

    def ipv6_families(self, now: float) -> list[Metric]:
        """The IPv6 families (built under the lock: the 24-hour windows are trimmed as they are read)."""
        with self._lock:
            return list(ipv6_metrics(self._ipv6, now))

    def record_reload(self, applied: bool) -> None:
        with self._lock:
            self.reloads["applied" if applied else "rejected"] += 1

    def snapshot(self) -> tuple[list[PageSeries], dict[str, V1Window]]:
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
            checks = {site: window.copy() for site, window in self._homepage_checks.items()}
        return pages, checks


def page_views(pages: list[PageSeries], today: date, tz: ZoneInfo) -> list[PageView]:
    """Each page with its labels and (for pages with a list) its freshness today, computed once."""
    views = []
    for series in pages:
        page = series.page
        freshness = page_freshness(page, series.content, today) if page.kind in LISTED_KINDS else None
        views.append(PageView(series, (page.site, page.name, page.kind.value), freshness, tz))
    return views


def assess(
    views: list[PageView], homepage_checks: dict[str, V1Window], now: float, tz: ZoneInfo
) -> list[tuple[str, SiteAssessment]]:
    """Compliance per site (sorted by site), from the pages' freshness at `now`."""
    by_site: dict[str, list[PageView]] = collections.defaultdict(list)
    for view in views:
        by_site[view.series.page.site].append(view)
    result = []
    for site, members in sorted(by_site.items()):
        columns = [
            (v.series.page.name, v.freshness)
            for v in members
            if v.series.page.kind is PageKind.COLUMN and v.freshness is not None
        ]
        homepages = [v.freshness for v in members if v.series.page.kind is PageKind.HOMEPAGE]
        homepage = homepages[0] if homepages else None
        result.append((site, assess_site(columns, homepage, homepage_checks.get(site, V1Window()), now, tz)))
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
        self.send_lag = Histogram(
            "portal_monitor_check_send_lag_seconds",
            "How late checks got to send their request against their scheduled time (scheduler lag"
            " plus the wait for a slot of the host's budget, which link checks share).",
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
        db_path: Path | None = None,
        per_page: PerPage = "all",
    ) -> None:
        self._state = state
        self._per_page: PerPage = per_page
        self._clock = clock
        self._tz = tz
        self._writer = writer
        self._self_metrics = self_metrics
        self._db_path = db_path

    def collect(self) -> Iterator[Metric]:
        views, sites = self._scrape()
        yield from as_metrics(per_page_views(views, self._per_page), sites)
        yield from totals_as_metrics(site_totals(views))
        yield from self._own([v.series for v in views])

    def text(self) -> list[bytes]:
        """What `collect` + generate_latest would write, family by family, without building a
        Sample per value (the parts are sent one after another: no second copy of the whole)."""
        views, sites = self._scrape()
        text = LabelText()
        out = [family.encode() for family in as_text(per_page_views(views, self._per_page), sites, text)]
        out.extend(family.encode() for family in totals_as_text(site_totals(views), text))
        out.append(exposition(_Families(list(self._own([v.series for v in views])))))
        return out

    def _scrape(self) -> tuple[list[PageView], list[tuple[str, SiteAssessment]]]:
        pages, homepage_checks = self._state.snapshot()
        now = self._clock.now()
        views = page_views(pages, datetime.fromtimestamp(now, self._tz).date(), self._tz)
        return views, assess(views, homepage_checks, now, self._tz)

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
        yield from integrity_metrics(self._state.integrity())
        yield from self._state.ipv6_families(self._clock.now())
        yield from db_file_metrics(self._db_path)


def db_file_metrics(db_path: Path | None) -> Iterator[Metric]:
    """The database's size on disk (main file + WAL) and the space left on its file system, read at
    scrape time (one stat and one statvfs), so the disk-filling alert sees the daemon's own volume
    without a node exporter. A value that cannot be read is left out, never a scrape error."""
    if db_path is None:
        return
    size = _file_bytes(db_path)
    if size is not None:
        size += _file_bytes(db_path.with_name(db_path.name + "-wal")) or 0
        yield _gauge("portal_monitor_db_size_bytes", "Database file plus its WAL, in bytes.", [], [((), size)])
    try:
        fs = os.statvfs(db_path.parent)
    except OSError:
        return
    yield _gauge(
        "portal_monitor_db_filesystem_avail_bytes",
        "Bytes free for the daemon on the database's file system.",
        [],
        [((), fs.f_bavail * fs.f_frsize)],
    )


def _file_bytes(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


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


class _Families(Collector):
    """Already built families, for the exposition writer."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


@dataclass(frozen=True)
class Exporter:
    """The metrics of one daemon: the registry (for tests and client tools), the scheduler-lag and
    send-lag histograms the daemon observes, and `render` for /metrics: the registry's text, in parts."""

    registry: CollectorRegistry
    scheduler_lag: Histogram
    render: Callable[[], list[bytes]]
    send_lag: Histogram


def build_registry(
    state: MonitorState,
    *,
    clock: Clock,
    tz: ZoneInfo,
    writer: WriterView,
    db_path: Path | None = None,
    links: LinkMetrics | None = None,
    per_page: PerPage = "all",
) -> Exporter:
    """A private registry with the portal collector and the monitor's own histograms; `db_path`
    (the database file) adds its size and its file system's free space, `links` the link passes';
    `per_page` says which pages export per-page series (`all` or `homepages`; per-site totals always)."""
    registry = CollectorRegistry(auto_describe=False)
    self_metrics = SelfMetrics(registry)
    collector = PortalCollector(
        state, clock=clock, tz=tz, writer=writer, self_metrics=self_metrics, db_path=db_path, per_page=per_page
    )
    registry.register(collector)
    if links is not None:
        registry.register(links)

    def render() -> list[bytes]:
        collected = collector.text()  # first: it observes the batch durations into their histogram
        own = _Families(
            [
                *self_metrics.scheduler_lag.collect(),
                *self_metrics.send_lag.collect(),
                *self_metrics.batch_seconds.collect(),
            ]
        )
        linked = [exposition(_Families(list(links.collect())))] if links is not None else []
        return [exposition(own), *collected, *linked]

    return Exporter(registry, self_metrics.scheduler_lag, render, self_metrics.send_lag)
