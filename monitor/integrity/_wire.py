"""An Inspection as JSON and back: the read worker inspects the homepage and answers in JSON.

The daemon never unpickles what a process that parsed a hostile page produced (monitor.check's
read pool); it rebuilds the Inspection from plain strings and numbers, and anything malformed
raises KeyError, TypeError or ValueError for the pool to report. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.integrity._findings import Finding, Kind, Level
from monitor.integrity._identity import Identity
from monitor.integrity._inspect import Inspection
from monitor.integrity._tamper import Snapshot


def inspection_to_json(inspection: Inspection) -> dict[str, Any]:
    """JSON-ready form of everything one page gave."""
    return {
        "page": inspection.page,
        "findings": [finding.as_dict() for finding in inspection.findings],
        "identity": inspection.identity.as_dict(),
        "outbound": sorted(inspection.outbound),
        "snapshot": inspection.snapshot.as_dict(),
        "error": inspection.error,
    }


def inspection_from_json(data: Mapping[str, Any]) -> Inspection:
    """The inverse of `inspection_to_json`; raises on anything malformed."""
    if not isinstance(data["identity"], Mapping) or not isinstance(data["snapshot"], Mapping):
        raise TypeError("identity and snapshot must be objects")
    return Inspection(
        page=str(data["page"]),
        findings=tuple(finding_from_json(one) for one in data["findings"]),
        identity=Identity.from_dict(data["identity"]),
        outbound=frozenset(str(domain) for domain in data["outbound"]),
        snapshot=Snapshot.from_dict(data["snapshot"]),
        error=str(data["error"]),
    )


def finding_from_json(data: Mapping[str, Any]) -> Finding:
    """A Finding from `Finding.as_dict` (strings bounded again: the other side is not trusted)."""
    finding = Finding.make(
        Kind(data["kind"]),
        int(data["score"]),
        str(data["page"]),
        str(data["technique"]),
        str(data["target"]),
        str(data["evidence"]),
    )
    if finding.level is not Level(data["level"]):
        raise ValueError("level does not match the score")
    return finding
