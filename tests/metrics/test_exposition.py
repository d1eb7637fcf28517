"""_exposition.py: the fast text format is byte for byte what prometheus_client writes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from monitor.metrics._exposition import exposition
from monitor.metrics._state import MonitorState, build_registry
from monitor.models import ContentFacts, ErrorKind, FixedClock, Page, PageKind, Result
from tests.metrics.test_metrics import NOW, TZ, Writer, facts


class Frozen(Collector):
    """The families of one collection, so both writers format exactly the same input."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> list[Metric]:
        return self._families


def test_odd_label_values_and_numbers() -> None:
    gauge = GaugeMetricFamily("portal_odd", 'help with \\ and\nnewline and "quotes"', labels=["site", "page"])
    for i, value in enumerate([0.0, -0.0, 1, True, math.nan, math.inf, -math.inf, 1.795813227942e9, 12345678.5]):
        gauge.add_metric(["s", f'p{i} "q" \\ \n 工作动态'], value)
    gauge.add_metric(["s", "again"], -0.0)
    gauge.add_metric(["s", "again2"], 0.0)
    counter = CounterMetricFamily("portal_things", "Things.", labels=["b", "a"])
    counter.add_metric(["x", "y"], 3)
    counter.add_metric(["y", "x"], 4)
    unlabelled = GaugeMetricFamily("portal_plain", "No labels.", value=7)
    info = InfoMetricFamily("portal_info", "Goes the slow way.", value={"v": "1"})
    registry = CollectorRegistry()
    histogram = Histogram("portal_h_seconds", "A histogram goes the slow way.", registry=registry)
    histogram.observe(0.3)
    frozen = Frozen([gauge, counter, unlabelled, info, *registry.collect()])
    assert exposition(frozen) == generate_latest(frozen)


def test_the_daemons_collector() -> None:
    pages = [
        Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE, interval_s=600),
        *(Page("bureau", f"栏目{i}", f"http://bureau.example/c{i}/", PageKind.COLUMN) for i in range(20)),
    ]
    state = MonitorState(FixedClock(NOW - 3600))
    state.set_pages(pages)
    for i, page in enumerate(pages):
        state.record_check(page.key, facts(NOW - i, Result.UP if i % 3 else Result.DOWN), scheduled=True)
        state.record_content(page.key, ContentFacts(True, None, i, NOW - 60), new_items=i)
    exporter = build_registry(state, clock=FixedClock(NOW), tz=TZ, writer=Writer())
    frozen = Frozen(exporter.registry.collect())
    assert exposition(frozen) == generate_latest(frozen)


def test_the_daemons_metrics_endpoint_writes_what_the_registry_holds() -> None:
    """/metrics renders the tables straight to text; it must equal the registry's exposition."""
    pages = [
        Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE, interval_s=600),
        Page("bureau", "app", "http://bureau.example/app", PageKind.PAGE),
        Page("bureau", "xxgk", "http://bureau.example/xxgk/", PageKind.CATALOGUE),
        *(Page("bureau", f"栏目{i}", f"http://bureau.example/c{i}/", PageKind.COLUMN) for i in range(20)),
        Page("other", "never-checked", "http://other.example/", PageKind.COLUMN),
    ]
    state = MonitorState(FixedClock(NOW - 3600))
    state.set_pages(pages)
    for i, page in enumerate(pages[:-1]):
        result = (Result.UP, Result.DOWN, Result.BLOCKED, Result.ERROR)[i % 4]
        state.record_check(
            page.key, facts(NOW - i, result, ErrorKind.TIMEOUT if result is Result.DOWN else None), scheduled=True
        )
        newest = date(2026, 11, 1 + i % 25) if i % 5 else None
        state.record_content(page.key, ContentFacts(i % 7 != 3, newest, i % 6, NOW - 60), new_items=i)
        if i % 6 == 1:
            state.record_outage(page.key, started=NOW - 100 * i, opened=True)
    state.record_reload(True)
    exporter = build_registry(state, clock=FixedClock(NOW), tz=TZ, writer=Writer())
    exporter.scheduler_lag.observe(0.02)
    rendered = b"".join(exporter.render())
    assert rendered == generate_latest(exporter.registry)
    assert b"portal_column_stale{" in rendered and b'phase="ttfb"' in rendered
