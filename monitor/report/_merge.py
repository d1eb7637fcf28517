"""One report from the reports of several shard databases (`monitor report --db A --db B ...`).

Each shard database holds its own sites (docs/deploy.md#shards), so the merged report is the
shards' site sections side by side, sorted by site as a single database's report is: equal to
the report one daemon would have written on the same history. A site found in two databases (its
shard changed with N) is refused rather than counted twice. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.report._build import Report, ReportError


def merge_reports(reports: Sequence[Report], names: Sequence[str]) -> Report:
    """The reports of the databases `names` (same period), as one."""
    if not reports:
        raise ReportError("no database to report on")
    first = reports[0]
    seen: dict[str, str] = {}
    for report, name in zip(reports, names, strict=True):
        if report.period != first.period:
            raise ReportError(f"{name}: built for another period")
        for site in report.sites:
            if site.name in seen:
                raise ReportError(
                    f"site {site.name!r} is in both {seen[site.name]} and {name}"
                    " (was it moved to another shard? report on each database apart)"
                )
            seen[site.name] = name
    sites = sorted((site for report in reports for site in report.sites), key=lambda s: s.name)
    sources = {report.source for report in reports}
    generated = [report.generated_ms for report in reports if report.generated_ms is not None]
    source = sources.pop() if len(sources) == 1 else "mixed"
    return Report(first.period, tuple(sites), source, max(generated) if generated else None)
