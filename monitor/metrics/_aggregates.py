"""Per-site aggregates of the per-page facts, and the choice of which pages keep per-page series.

`metrics.per_page` (config.yaml) says which pages export the per-page families: `all` (every
page) or `homepages` (one page a site: 20,000 pages make ~20 series a site instead of ~500). The
families here are exported in both modes, one sample (or one per result/error kind) per site, so
the dashboards' totals and the alerts that count pages work whatever the per-page setting; the
alerts subtract what the per-page series already show (docs/metrics.md#site-totals-and-cardinality-one-series-per-site).
Private to `monitor.metrics`; pure, no I/O.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from monitor.metrics._exposition import LabelText
from monitor.metrics._families import PageView, Sample
from monitor.models import PageKind, Result

PerPage = Literal["all", "homepages"]
PER_PAGE_MODES: tuple[PerPage, ...] = ("all", "homepages")


def per_page_views(views: list[PageView], per_page: PerPage) -> list[PageView]:
    """The pages that export per-page series in this mode."""
    if per_page == "all":
        return views
    return [v for v in views if v.series.page.kind is PageKind.HOMEPAGE]


@dataclass
class SiteTotals:
    """One site's pages, counted."""

    pages_checked: int = 0
    pages_up: int = 0
    pages_blocked: int = 0
    outages_active: int = 0
    unreadable: int = 0
    verify_disabled: int = 0
    cert_expiry: float | None = None
    checks: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, view: PageView) -> None:
        """Count one page's latest state in."""
        s = view.series
        if s.result is not None:
            self.pages_checked += 1
            self.pages_up += s.result is Result.UP
            self.pages_blocked += s.result is Result.BLOCKED
        self.outages_active += s.outage_started is not None
        f = view.freshness
        self.unreadable += f is not None and f.checked and f.unreadable
        self.verify_disabled += not s.page.verify_tls
        if s.tls_expiry is not None:
            self.cert_expiry = s.tls_expiry if self.cert_expiry is None else min(self.cert_expiry, s.tls_expiry)
        self.checks.update(s.checks)
        self.errors.update(s.errors)

    def remove(self, view: PageView) -> None:
        """Count one page's state (as `add` counted it) out again; `cert_expiry` (a minimum) is
        left for the caller to recompute from the remaining pages."""
        s = view.series
        if s.result is not None:
            self.pages_checked -= 1
            self.pages_up -= s.result is Result.UP
            self.pages_blocked -= s.result is Result.BLOCKED
        self.outages_active -= s.outage_started is not None
        f = view.freshness
        self.unreadable -= f is not None and f.checked and f.unreadable
        self.verify_disabled -= not s.page.verify_tls
        _subtract(self.checks, s.checks)
        _subtract(self.errors, s.errors)


def _subtract(total: collections.Counter[str], part: collections.Counter[str]) -> None:
    """`total -= part`, dropping the keys that reach zero (as if never counted)."""
    for key, n in part.items():
        left = total[key] - n
        if left:
            total[key] = left
        else:
            del total[key]


def site_totals(views: Iterable[PageView]) -> list[tuple[str, SiteTotals]]:
    """Every site's totals, sorted by site."""
    by_site: dict[str, SiteTotals] = collections.defaultdict(SiteTotals)
    for view in views:
        by_site[view.series.page.site].add(view)
    return sorted(by_site.items())


@dataclass(frozen=True)
class TotalFamily:
    name: str
    type: Literal["gauge", "counter"]
    doc: str
    extra: tuple[str, ...]
    samples: Callable[[SiteTotals], list[Sample]]


def _count(name: str, doc: str, read: Callable[[SiteTotals], float | None]) -> TotalFamily:
    def samples(t: SiteTotals) -> list[Sample]:
        value = read(t)
        return [] if value is None else [((), value)]

    return TotalFamily(name, "gauge", doc, (), samples)


TOTAL_FAMILIES: tuple[TotalFamily, ...] = (
    _count("portal_site_pages_checked", "Pages checked at least once.", lambda t: t.pages_checked),
    _count("portal_site_pages_up", "Pages whose latest check was up.", lambda t: t.pages_up),
    _count("portal_site_pages_blocked", "Pages whose latest check got an anti-bot answer.", lambda t: t.pages_blocked),
    _count("portal_site_outages_active", "Pages with an open confirmed outage, the homepage included.",
           lambda t: t.outages_active),
    _count("portal_site_unreadable_pages", "Pages whose list could not be read.", lambda t: t.unreadable),
    _count("portal_site_tls_verify_disabled_pages", "Pages checked with certificate verification off.",
           lambda t: t.verify_disabled),
    _count("portal_site_tls_cert_expiry_timestamp_seconds", "Earliest notAfter of the site's certificates.",
           lambda t: t.cert_expiry),
    TotalFamily("portal_site_checks", "counter", "Checks of all the site's pages by result.", ("result",),
                lambda t: [((r.value,), float(t.checks.get(r.value, 0))) for r in Result]),
    TotalFamily("portal_site_probe_errors", "counter", "Failed checks of all the site's pages by error kind.",
                ("error_kind",), lambda t: [((k,), float(n)) for k, n in sorted(t.errors.items())]),
)  # fmt: skip


def _sample_name(family: TotalFamily) -> str:
    return family.name + ("_total" if family.type == "counter" else "")


def totals_as_metrics(totals: list[tuple[str, SiteTotals]]) -> Iterator[Metric]:
    """The per-site families as prometheus_client families (the registry's way)."""
    for family in TOTAL_FAMILIES:
        kind = GaugeMetricFamily if family.type == "gauge" else CounterMetricFamily
        metric = kind(family.name, family.doc, labels=["site", *family.extra])
        for site, t in totals:
            for extra, value in family.samples(t):
                metric.add_metric([site, *extra], value)
        yield metric


def totals_headers(text: LabelText) -> list[str]:
    """Each per-site family's HELP and TYPE lines."""
    out = []
    for family in TOTAL_FAMILIES:
        name = _sample_name(family)
        out.append(f"# HELP {name} {text.doc(family.doc)}\n# TYPE {name} {family.type}\n")
    return out


def totals_lines(site: str, totals: SiteTotals, text: LabelText) -> list[str]:
    """One site's sample lines in every family of `TOTAL_FAMILIES` (one string each)."""
    out = []
    for family in TOTAL_FAMILIES:
        name = _sample_name(family)
        labels = ("site", *family.extra)
        out.append(
            "".join(
                f"{name}{text.labels(labels, (site, *extra))} {text.value_text(value)}\n"
                for extra, value in family.samples(totals)
            )
        )
    return out


def totals_as_text(totals: list[tuple[str, SiteTotals]], text: LabelText) -> Iterator[str]:
    """The per-site families in the text format, byte for byte what `totals_as_metrics` gives."""
    for family in TOTAL_FAMILIES:
        name = _sample_name(family)
        lines = [f"# HELP {name} {text.doc(family.doc)}\n# TYPE {name} {family.type}\n"]
        labels = ("site", *family.extra)
        for site, t in totals:
            for extra, value in family.samples(t):
                lines.append(f"{name}{text.labels(labels, (site, *extra))} {text.value_text(value)}\n")
        yield "".join(lines)
