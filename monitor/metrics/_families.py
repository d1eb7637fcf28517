"""The per-page and per-site metric families, as tables: name, type, help, labels, and how to read
each sample from a page's latest state or a site's assessment.

One table serves both ways of exporting: as prometheus_client families (for the registry and tests)
and straight to the text format, without building a Sample per value (10,000 pages make ~270,000
samples a scrape). Private to `monitor.metrics`; pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from monitor.metrics._exposition import LabelText
from monitor.metrics._series import PageSeries
from monitor.models import PHASES, Result
from monitor.rules import Freshness, SiteAssessment

PAGE_LABELS = ("site", "page", "kind")
CONTENT_LABELS = (*PAGE_LABELS, "category")
Sample = tuple[tuple[str, ...], float]
"""(values of the family's extra labels, value)."""


@dataclass(frozen=True)
class PageView:
    """One page at one scrape: its state, label values, and freshness (None: a page without a list)."""

    series: PageSeries
    labels: tuple[str, ...]
    """site, page, kind."""
    freshness: Freshness | None
    tz: ZoneInfo

    def label_values(self, family: PageFamily) -> tuple[str, ...]:
        """The page's label values for `family`: content families add the category."""
        if family.content and self.freshness is not None:
            return (*self.labels, self.freshness.rule.category.value)
        return self.labels

    @property
    def read(self) -> bool:
        """Its list was read (freshness facts mean something)."""
        f = self.freshness
        return f is not None and f.checked and not f.unreadable


@dataclass(frozen=True)
class Family:
    name: str
    type: Literal["gauge", "counter"]
    doc: str
    labels: tuple[str, ...]
    """Every label name, the page's or site's first."""


@dataclass(frozen=True)
class PageFamily(Family):
    samples: Callable[[PageView], Iterable[Sample]]
    extra: tuple[str, ...] = ()
    """The labels each sample adds after the page's (phase, result, error_kind)."""
    content: bool = False
    """A freshness family: the page's labels include its category."""


@dataclass(frozen=True)
class SiteFamily(Family):
    samples: Callable[[SiteAssessment], Iterable[Sample]]


def _one(value: float | None) -> list[Sample]:
    return [] if value is None else [((), value)]


def _latest(read: Callable[[PageSeries], float | None]) -> Callable[[PageView], list[Sample]]:
    """A value of the latest check (nothing before the first check)."""
    return lambda v: _one(read(v.series)) if v.series.result is not None else []


def _always(read: Callable[[PageSeries], float | None]) -> Callable[[PageView], list[Sample]]:
    return lambda v: _one(read(v.series))


def _content(
    read: Callable[[PageView], float | None], *, unread_too: bool = False
) -> Callable[[PageView], list[Sample]]:
    """A freshness value: only pages with a list, and (unless `unread_too`) only once it was read."""
    return lambda v: _one(read(v)) if v.freshness is not None and (unread_too or v.read) else []


def _midnight(view: PageView) -> float | None:
    newest = view.freshness.newest if view.freshness else None
    if newest is None:
        return None
    return datetime(newest.year, newest.month, newest.day, tzinfo=view.tz).timestamp()


def _window(view: PageView) -> float | None:
    days = view.freshness.rule.window_days if view.freshness else None
    return None if days is None else days * 86400.0


def _unreadable(view: PageView) -> float | None:
    f = view.freshness
    return float(f.unreadable) if f is not None and f.checked else None


def _gauge(
    name: str,
    doc: str,
    samples: Callable[[PageView], Iterable[Sample]],
    *extra: str,
    labels: tuple[str, ...] = PAGE_LABELS,
) -> PageFamily:
    return PageFamily(name, "gauge", doc, (*labels, *extra), samples, extra, labels == CONTENT_LABELS)


def _counter(
    name: str,
    doc: str,
    samples: Callable[[PageView], Iterable[Sample]],
    *extra: str,
    labels: tuple[str, ...] = PAGE_LABELS,
) -> PageFamily:
    return PageFamily(name, "counter", doc, (*labels, *extra), samples, extra, labels == CONTENT_LABELS)


PAGE_FAMILIES: tuple[PageFamily, ...] = (
    _gauge("portal_probe_success", "1 if the latest check was up.", _latest(lambda s: float(s.result is Result.UP))),
    _gauge("portal_probe_blocked", "1 if the latest check got an anti-bot answer.",
           _latest(lambda s: float(s.result is Result.BLOCKED))),
    _gauge("portal_probe_duration_seconds", "Total duration of the latest check.", _latest(lambda s: s.duration_s)),
    _gauge("portal_probe_phase_duration_seconds", "Latest check's time per phase.",
           lambda v: [((p,), v.series.phases[p]) for p in PHASES if p in v.series.phases]
           if v.series.result is not None else [], "phase"),
    _gauge("portal_probe_http_status_code", "HTTP status of the latest check (0: no response).",
           _latest(lambda s: s.status)),
    _gauge("portal_probe_content_bytes", "Body bytes read by the latest check.", _latest(lambda s: s.bytes)),
    _gauge("portal_probe_redirects", "Redirects followed by the latest check.", _latest(lambda s: s.redirects)),
    _counter("portal_checks", "Checks by result.",
             lambda v: [((r.value,), v.series.checks.get(r.value, 0)) for r in Result], "result"),
    _counter("portal_probe_errors", "Failed checks by error kind.",
             lambda v: [((kind,), n) for kind, n in sorted(v.series.errors.items())], "error_kind"),
    _gauge("portal_outage_active", "1 while a confirmed outage is open.",
           _always(lambda s: float(s.outage_started is not None))),
    _gauge("portal_outage_started_timestamp_seconds", "Start of the open outage.",
           _always(lambda s: s.outage_started)),
    _counter("portal_outages", "Confirmed outages opened.", _always(lambda s: s.outages_total)),
    _counter("portal_blips", "Single failures the retry did not confirm.", _always(lambda s: s.blips_total)),
    _gauge("portal_last_check_timestamp_seconds", "When the latest check started.", _latest(lambda s: s.last_ts)),
    _gauge("portal_page_interval_seconds", "Configured check interval.", _always(lambda s: s.page.interval_s)),
    _gauge("portal_tls_cert_expiry_timestamp_seconds", "notAfter of the server certificate.",
           _always(lambda s: s.tls_expiry)),
    _gauge("portal_tls_verify_enabled", "1 when certificate verification is on.",
           _always(lambda s: float(s.page.verify_tls))),
    _gauge("portal_column_newest_item_timestamp_seconds", "Publish date of the newest dated item.",
           _content(_midnight), labels=CONTENT_LABELS),
    _gauge("portal_column_items", "Items on the list.",
           _content(lambda v: v.freshness.item_count if v.freshness else None), labels=CONTENT_LABELS),
    _gauge("portal_column_stale", "1 when the newest dated item is older than the window.",
           _content(lambda v: float(v.freshness.stale) if v.freshness else None), labels=CONTENT_LABELS),
    _gauge("portal_column_blank", "1 when the list has no item at all.",
           _content(lambda v: float(v.freshness.blank) if v.freshness else None), labels=CONTENT_LABELS),
    _gauge("portal_column_freshness_window_seconds", "The category's staleness window.",
           _content(_window, unread_too=True), labels=CONTENT_LABELS),
    _counter("portal_items_new", "Items seen for the first time.",
             _content(lambda v: v.series.items_new_total, unread_too=True), labels=CONTENT_LABELS),
    _gauge("portal_content_last_change_timestamp_seconds", "When the page's content last changed.",
           _content(lambda v: v.series.content.last_change, unread_too=True)),
    _gauge("portal_page_unreadable", "1 when the page's list could not be read.",
           _content(_unreadable, unread_too=True)),
)  # fmt: skip


def _site(name: str, doc: str, read: Callable[[SiteAssessment], float | None]) -> SiteFamily:
    return SiteFamily(name, "gauge", doc, ("site",), lambda a: _one(read(a)))


def _rule(name: str, doc: str, read: Callable[[SiteAssessment], Iterable[tuple[str, bool]]]) -> SiteFamily:
    return SiteFamily(name, "gauge", doc, ("site", "rule"), lambda a: [((r,), float(on)) for r, on in read(a)])


SITE_FAMILIES: tuple[SiteFamily, ...] = (
    _site("portal_site_stale_columns", "Stale columns.", lambda a: a.v3_facts.stale),
    _site("portal_site_stale_key_columns", "Stale news, notice and policy columns.", lambda a: a.v3_facts.stale_key),
    _site("portal_site_blank_columns", "Blank columns.", lambda a: a.v3_facts.blank),
    _site("portal_homepage_unavailable_ratio_7d", "Failed / all homepage visits over 7 days (retries excluded).",
          lambda a: a.v1_facts.ratio),
    _site("portal_homepage_checks_7d", "Homepage visits over the last 7 days (retries excluded).",
          lambda a: a.v1_facts.checks),
    _site("portal_homepage_low_visit_day_count_7d",
          "Of the last 7 x 24 hours, how many hold fewer than 20 homepage visits.",
          lambda a: a.v1_facts.low_visit_days),
    _rule("portal_compliance_veto", "1 when the rule is violated (never while its evidence is insufficient).",
          lambda a: [(v.rule, v.veto) for v in a.verdicts]),
    _rule("portal_compliance_warning", "1 when the rule's early-warning level is reached.",
          lambda a: [(v.rule, v.warning) for v in a.verdicts]),
    _rule("portal_compliance_insufficient_data", "1 while the rule lacks the evidence for a verdict.",
          lambda a: [(v.rule, not v.known) for v in a.verdicts]),
)  # fmt: skip


Scrape = tuple[list[PageView], list[tuple[str, SiteAssessment]]]


def as_metrics(pages: list[PageView], sites: list[tuple[str, SiteAssessment]]) -> Iterator[Metric]:
    """Every table family as a prometheus_client family (the registry's way)."""
    for family in PAGE_FAMILIES:
        metric = _new_metric(family)
        for view in pages:
            for extra, value in family.samples(view):
                metric.add_metric([*view.label_values(family), *extra], value)
        yield metric
    for site_family in SITE_FAMILIES:
        metric = _new_metric(site_family)
        for site, assessment in sites:
            for extra, value in site_family.samples(assessment):
                metric.add_metric([site, *extra], value)
        yield metric


def _new_metric(family: Family) -> GaugeMetricFamily | CounterMetricFamily:
    kind = GaugeMetricFamily if family.type == "gauge" else CounterMetricFamily
    return kind(family.name, family.doc, labels=list(family.labels))


def as_text(pages: list[PageView], sites: list[tuple[str, SiteAssessment]], text: LabelText) -> Iterator[str]:
    """Every table family in the text format (one string a family), byte for byte what `as_metrics`
    and generate_latest give. A page's label pairs are formatted once, not once per family."""
    per_page = [page_lines(view, text) for view in pages]
    for i, family in enumerate(PAGE_FAMILIES):
        yield header(family, text) + "".join(lines[i] for lines in per_page)
    per_site = [site_lines(site, assessment, text) for site, assessment in sites]
    for i, site_family in enumerate(SITE_FAMILIES):
        yield header(site_family, text) + "".join(lines[i] for lines in per_site)


def page_lines(view: PageView, text: LabelText) -> list[str]:
    """One page's sample lines in every family of `PAGE_FAMILIES` (one string each, "" for none):
    the scrape keeps them until the page changes."""
    plain = tuple(text.pair(n, v) for n, v in zip(PAGE_LABELS, view.labels, strict=True))
    content = (*plain, text.pair("category", view.freshness.rule.category.value)) if view.freshness else plain
    plain_text = text.braced(plain, _PLAIN_ORDER)
    content_text = text.braced(content, _CONTENT_ORDER) if view.freshness else ""
    out = []
    for family, name, order in _PAGE_FORMATS:
        pairs, labels = (content, content_text) if family.content else (plain, plain_text)
        lines = []
        for extra, value in family.samples(view):
            sample_labels = labels
            if extra:
                extra_pairs = tuple(text.pair(n, x) for n, x in zip(family.extra, extra, strict=True))
                sample_labels = text.braced(pairs + extra_pairs, order)
            lines.append(f"{name}{sample_labels} {text.value_text(value)}\n")
        out.append("".join(lines))
    return out


def site_lines(site: str, assessment: SiteAssessment, text: LabelText) -> list[str]:
    """One site's sample lines in every family of `SITE_FAMILIES` (one string each)."""
    out = []
    for family in SITE_FAMILIES:
        name = _sample_name(family)
        out.append(
            "".join(
                f"{name}{text.labels(family.labels, (site, *extra))} {text.value_text(value)}\n"
                for extra, value in family.samples(assessment)
            )
        )
    return out


def _order(names: tuple[str, ...]) -> tuple[int, ...]:
    """Positions of `names` in sorted order: the text format writes labels sorted by name."""
    return tuple(sorted(range(len(names)), key=names.__getitem__))


def _sample_name(family: Family) -> str:
    return family.name + ("_total" if family.type == "counter" else "")


def header(family: Family, text: LabelText) -> str:
    """The family's HELP and TYPE lines."""
    name = _sample_name(family)
    return f"# HELP {name} {text.doc(family.doc)}\n# TYPE {name} {family.type}\n"


_PLAIN_ORDER, _CONTENT_ORDER = _order(PAGE_LABELS), _order(CONTENT_LABELS)
_PAGE_FORMATS = tuple((family, _sample_name(family), _order(family.labels)) for family in PAGE_FAMILIES)
"""Each per-page family with its sample name and its labels' sorted order."""
