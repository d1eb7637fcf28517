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

FINDINGS_OPEN = "portal_integrity_findings_open"
IDENTITY_PRESENT = "portal_identity_element_present"


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
    findings = GaugeMetricFamily(
        FINDINGS_OPEN,
        "Integrity findings open now (hidden links, lapsed domains, cloaking, identity, …) by kind and level.",
        labels=["site", "kind", "level"],
    )
    present = GaugeMetricFamily(
        IDENTITY_PRESENT,
        "1 when the homepage carries the identity element (网站标识码, ICP, 公安备案, CONAC, 找错, 主办单位).",
        labels=["site", "element"],
    )
    for site, state in sorted(sites.items()):
        for kind in Kind:
            for level in Level:
                findings.add_metric([site, kind.value, level.value], state.open.get((kind, level), 0))
        if state.identity is not None:
            for element in Element:
                present.add_metric([site, element.value], int(state.identity.get(element, False)))
    yield findings
    yield present
