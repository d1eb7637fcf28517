"""Integrity families: open findings by site, kind and level, and identity elements present per site.

No per-finding labels (a URL or a domain as a label would grow the series without bound): a
finding's evidence is in the database (`monitor findings`). Sites appear once their homepage has
been inspected; every kind and level is exported (0 when none is open) so alerts compare values,
not absent series.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric

from monitor.integrity import Element, Identity, Kind, Level, Tracked
from monitor.metrics._exposition import LabelText

FINDINGS_OPEN = "portal_integrity_findings_open"
IDENTITY_PRESENT = "portal_identity_element_present"
_FINDINGS_DOC = "Integrity findings open now (hidden links, lapsed domains, cloaking, identity, …) by kind and level."
_IDENTITY_DOC = "1 when the homepage carries the identity element (网站标识码, ICP, 公安备案, CONAC, 找错, 主办单位)."


@dataclass(frozen=True)
class SiteIntegrity:
    """What the metrics keep of a site's integrity: counts of open findings and identity elements."""

    open: Mapping[tuple[Kind, Level], int]
    identity: Mapping[Element, bool] | None


def site_integrity(open_findings: Iterable[Tracked], identity: Identity | None) -> SiteIntegrity:
    """Counts of open findings by (kind, level), and which identity elements the homepage carries."""
    counts = collections.Counter((one.finding.kind, one.finding.level) for one in open_findings if one.open)
    return SiteIntegrity(dict(counts), None if identity is None else identity.present())


def integrity_metrics(sites: Mapping[str, SiteIntegrity]) -> Iterator[Metric]:
    """The two families from the per-site integrity state."""
    findings = GaugeMetricFamily(FINDINGS_OPEN, _FINDINGS_DOC, labels=["site", "kind", "level"])
    present = GaugeMetricFamily(IDENTITY_PRESENT, _IDENTITY_DOC, labels=["site", "element"])
    for site, state in sorted(sites.items()):
        for kind in Kind:
            for level in Level:
                findings.add_metric([site, kind.value, level.value], state.open.get((kind, level), 0))
        if state.identity is not None:
            for element in Element:
                present.add_metric([site, element.value], int(state.identity.get(element, False)))
    yield findings
    yield present


IntegrityLines = tuple[SiteIntegrity, bytes, bytes]
"""A site's state and its lines in the two families, as the last scrape formatted them."""


def integrity_text(sites: Mapping[str, SiteIntegrity], kept: dict[str, IntegrityLines], text: LabelText) -> bytes:
    """The two families in the text format, byte for byte what `integrity_metrics` gives; a site's
    lines are formatted again only when its state changed (34 lines a site). `kept` is updated."""
    for site in [site for site in kept if site not in sites]:
        del kept[site]
    ordered = sorted(sites.items())
    for site, state in ordered:
        lines = kept.get(site)
        if lines is None or lines[0] is not state:
            kept[site] = (state, *_site_lines(site, state, text))
    findings = b"".join([kept[site][1] for site, _ in ordered])
    present = b"".join([kept[site][2] for site, _ in ordered])
    return b"".join(
        [_header(FINDINGS_OPEN, _FINDINGS_DOC), findings, _header(IDENTITY_PRESENT, _IDENTITY_DOC), present]
    )


def _site_lines(site: str, state: SiteIntegrity, text: LabelText) -> tuple[bytes, bytes]:
    findings = [
        f"{FINDINGS_OPEN}{text.labels(_FINDING_LABELS, (site, kind.value, level.value))} "
        f"{text.value_text(state.open.get((kind, level), 0))}\n"
        for kind in Kind
        for level in Level
    ]
    present = (
        []
        if state.identity is None
        else [
            f"{IDENTITY_PRESENT}{text.labels(_ELEMENT_LABELS, (site, element.value))} "
            f"{text.value_text(int(state.identity.get(element, False)))}\n"
            for element in Element
        ]
    )
    return "".join(findings).encode(), "".join(present).encode()


_FINDING_LABELS = ("site", "kind", "level")
_ELEMENT_LABELS = ("site", "element")


def _header(name: str, doc: str) -> bytes:
    return f"# HELP {name} {LabelText.doc(doc)}\n# TYPE {name} gauge\n".encode()
