"""Link availability metrics (issue 12): per site and pass kind (`kind`: homepage or sweep), the
distinct links of the last complete pass by class (`result`), links checked, the pass's duration,
when it ended, whether the latest pass completed, and since when consecutive passes found broken
links. No per-link labels. `LinkMetrics` is thread-safe: the daemon writes, the scrape reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.store import PASS_KINDS, LinkPassRow, Store

CLASSES = ("ok", "broken", "soft_404", "suspect", "blocked", "excluded")


@dataclass(frozen=True)
class LinkPassFacts:
    """A site's passes of one kind as the metrics show them."""

    counts: Mapping[str, int] = field(default_factory=dict)
    """Distinct links by class in the last complete pass."""
    duration_s: float | None = None
    ended: float | None = None
    completed: bool = True
    """The latest pass (complete or not) finished."""
    broken_since: float | None = None
    """Start of the first of the consecutive complete passes, up to the last, that found broken links."""


def facts_from_passes(passes: Iterable[LinkPassRow]) -> LinkPassFacts:
    """Facts from a site's stored passes of one kind, oldest first (daemon start)."""
    facts = LinkPassFacts()
    for row in passes:
        if row.completed and row.ended is not None:
            facts = next_facts(facts, row.counts, row.started, row.ended)
        else:
            facts = replace(facts, completed=False)
    return facts


def next_facts(before: LinkPassFacts, counts: Mapping[str, int], started: float, ended: float) -> LinkPassFacts:
    """The facts after a complete pass (pure): a streak of broken passes keeps its start."""
    broken = counts.get("broken", 0) > 0
    since = (before.broken_since or started) if broken else None
    return LinkPassFacts(dict(counts), max(0.0, ended - started), ended, True, since)


class LinkMetrics(Collector):
    """The latest facts per (site, kind) plus links checked since the daemon started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facts: dict[tuple[str, str], LinkPassFacts] = {}
        self._checked: dict[tuple[str, str], int] = {}

    def restore(self, store: Store, sites: Iterable[str]) -> None:
        """Seed from the database (the last passes of every site), so a restart keeps the story."""
        queries = store.links()
        with self._lock:
            for site in sites:
                for kind in PASS_KINDS:
                    passes = queries.passes(site, kind)[-30:]
                    if passes:
                        self._facts[(site, kind)] = facts_from_passes(passes)

    def passed(self, site: str, kind: str, counts: Mapping[str, int], started: float, ended: float) -> None:
        """A pass completed."""
        with self._lock:
            key = (site, kind)
            self._facts[key] = next_facts(self._facts.get(key, LinkPassFacts()), counts, started, ended)
            self._checked[key] = self._checked.get(key, 0) + sum(counts.values())

    def failed(self, site: str, kind: str) -> None:
        """A pass was cut short or failed: its results are not recorded."""
        with self._lock:
            self._facts[(site, kind)] = replace(self._facts.get((site, kind), LinkPassFacts()), completed=False)

    def keep_sites(self, sites: Iterable[str]) -> None:
        """Forget sites no longer configured (a reload)."""
        wanted = set(sites)
        with self._lock:
            self._facts = {k: v for k, v in self._facts.items() if k[0] in wanted}
            self._checked = {k: v for k, v in self._checked.items() if k[0] in wanted}

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            facts, checked = sorted(self._facts.items()), dict(self._checked)
        yield _links_family(facts)
        yield _gauge("portal_link_pass_duration_seconds", "Duration of the last complete link pass.", facts,
                     lambda f: f.duration_s)  # fmt: skip
        yield _gauge("portal_link_pass_last_timestamp_seconds", "When the last complete link pass ended.", facts,
                     lambda f: f.ended)  # fmt: skip
        yield _gauge("portal_link_pass_completed", "1 if the latest link pass completed, 0 if it was cut short.",
                     facts, lambda f: float(f.completed))  # fmt: skip
        yield _gauge(
            "portal_link_broken_since_timestamp_seconds",
            "Start of the run of consecutive complete passes that found broken links (absent: none now).",
            facts,
            lambda f: f.broken_since,
        )
        counter = CounterMetricFamily(
            "portal_link_checks", "Distinct links checked by complete passes since the daemon started.",
            labels=["site", "kind"],
        )  # fmt: skip
        for (site, kind), _ in facts:
            counter.add_metric([site, kind], checked.get((site, kind), 0))
        yield counter


def _links_family(facts: list[tuple[tuple[str, str], LinkPassFacts]]) -> Metric:
    family = GaugeMetricFamily(
        "portal_links",
        "Distinct links of the last complete pass by class (result): broken is the inspectors' count.",
        labels=["site", "kind", "result"],
    )
    for (site, kind), f in facts:
        if f.ended is None:
            continue
        for name in CLASSES:
            family.add_metric([site, kind, name], f.counts.get(name, 0))
    return family


def _gauge(
    name: str,
    doc: str,
    facts: list[tuple[tuple[str, str], LinkPassFacts]],
    read: Callable[[LinkPassFacts], float | None],
) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=["site", "kind"])
    for (site, kind), f in facts:
        value = read(f)
        if value is not None:
            family.add_metric([site, kind], value)
    return family
