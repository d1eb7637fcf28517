"""Integrity findings for people: `monitor findings` (table, JSON, CSV), the open findings `monitor
status` shows per site, and the integrity/identity summary of a report (docs/integrity.md).

Reads what the daemon stored (monitor.store: findings, events, each site's baseline); pure
formatting otherwise. Evidence is printed as stored (at most 300 characters, made printable by
the caller).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from monitor.integrity import Element, Kind, Level, SiteState
from monitor.store import Store, StoredFinding, load_events, load_findings, load_states

FORMATS = ("table", "json", "csv")
COLUMNS = (
    "site",
    "kind",
    "level",
    "score",
    "page",
    "technique",
    "target",
    "first_seen",
    "last_seen",
    "resolved",
    "evidence",
)
LEVEL_ZH = {Level.HIGH: "高", Level.LOW: "低"}
ELEMENT_ZH = {
    Element.SITE_CODE: "网站标识码",
    Element.ICP: "ICP备案号",
    Element.POLICE: "公安机关备案号",
    Element.CONAC: "党政机关网站标识",
    Element.JIUCUO: "找错入口",
    Element.ORGANISER: "主办单位",
}


def _when(ts: float | None, tz: tzinfo) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def finding_row(row: StoredFinding, tz: tzinfo) -> dict[str, object]:
    """One finding as a flat dict (JSON, CSV and the table read it)."""
    t, f = row.tracked, row.tracked.finding
    return {
        "site": row.site,
        "kind": f.kind.value,
        "level": f.level.value,
        "score": f.score,
        "page": f.page,
        "technique": f.technique,
        "target": f.target,
        "first_seen": _when(t.first_seen, tz),
        "last_seen": _when(t.last_seen, tz),
        "resolved": _when(t.resolved_at, tz),
        "evidence": f.evidence,
    }


def render_findings(rows: Sequence[StoredFinding], fmt: str, tz: tzinfo) -> str:
    """`monitor findings` output in `fmt` (table, json or csv)."""
    flat = [finding_row(row, tz) for row in rows]
    if fmt == "json":
        import json

        return json.dumps(flat, ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        return out.getvalue().rstrip("\n")
    return _table(flat)


def _table(flat: list[dict[str, object]]) -> str:
    if not flat:
        return "no findings"
    lines = []
    for r in flat:
        state = f"resolved {r['resolved']}" if r["resolved"] else "open"
        lines.append(
            f"{r['site']}  {r['level']:<4} {r['kind']}/{r['technique']}  {r['target']}  ({state};"
            f" first {r['first_seen']}, last {r['last_seen']})"
        )
        lines.append(f"    page: {r['page']}")
        lines.append(f"    evidence: {r['evidence']}")
    return "\n".join(lines)


@dataclass(frozen=True)
class IntegritySummary:
    """One site's integrity over a period: open findings, findings resolved in it, identity now."""

    site: str
    open: tuple[StoredFinding, ...]
    resolved: tuple[StoredFinding, ...]
    events: Counter[str]
    identity: dict[Element, bool] | None
    """Identity elements the homepage carried at its latest reading (None: never inspected)."""
    shown: dict[str, str] = field(default_factory=dict)
    """The 年度报表 identity values that reading showed (主办单位, 标识码, ICP, 公安备案), by form key."""

    @property
    def open_high(self) -> int:
        return sum(1 for row in self.open if row.tracked.finding.level is Level.HIGH)

    @property
    def observed(self) -> bool:
        """Whether the integrity checks have looked at the site: its identity read, or a finding or
        event. A site without (integrity off, or before the first homepage reading) has no
        安全与标识 sheet rows and no digest line, rather than zeros that look like a clean bill."""
        return self.identity is not None or bool(self.open or self.resolved or self.events)

    @property
    def missing(self) -> list[Element]:
        return [element for element, present in (self.identity or {}).items() if not present]


def integrity_summaries(store: Store, sites: Sequence[str], start: float, end: float) -> list[IntegritySummary]:
    """Per site: findings open now, findings resolved within [start, end), events in it, identity now."""
    states = load_states(store)
    ids = store.site_ids()
    summaries = []
    for site in sites:
        rows = load_findings(store, site=site)
        open_rows = tuple(row for row in rows if row.tracked.open)
        resolved = tuple(
            row for row in rows if row.tracked.resolved_at is not None and start <= row.tracked.resolved_at < end
        )
        events = Counter(e.event.kind.value for e in load_events(store, site=site, since=start) if e.ts < end)
        state = states.get(ids.get(site, -1), SiteState())
        identity = state.identity.present() if state.identity is not None else None
        shown = state.identity.form_values() if state.identity is not None else {}
        summaries.append(IntegritySummary(site, open_rows, resolved, events, identity, shown))
    return summaries


def summary_json(summary: IntegritySummary, tz: tzinfo) -> dict[str, object]:
    """A summary as JSON-ready data (reports and status)."""
    return {
        "open": [finding_row(row, tz) for row in summary.open],
        "open_high": summary.open_high,
        "resolved_in_period": [finding_row(row, tz) for row in summary.resolved],
        "events": dict(sorted(summary.events.items())),
        "identity": None
        if summary.identity is None
        else {element.value: present for element, present in summary.identity.items()},
    }


def summary_lines(summary: IntegritySummary) -> list[str]:
    """Plain-text lines for status and table/markdown reports."""
    counts = Counter(row.tracked.finding.level for row in summary.open)
    head = f"integrity: {counts[Level.HIGH]} high, {counts[Level.LOW]} low open"
    head += f"; {len(summary.resolved)} resolved in the period" if summary.resolved else ""
    lines = [head]
    if summary.identity is None:
        lines.append("identity: homepage not inspected yet")
    else:
        missing = ", ".join(element.value for element in summary.missing)
        lines.append(f"identity: missing {missing}" if missing else "identity: complete")
    for row in summary.open:
        f = row.tracked.finding
        lines.append(f"  {f.level.value:<4} {f.kind.value}/{f.technique} {f.target}: {f.evidence[:120]}")
    return lines


def summary_zh(summary: IntegritySummary) -> str:
    """The one zh sentence of a report about integrity and identity."""
    if summary.identity is None:
        identity = "网站标识尚未检测"
    elif summary.missing:
        identity = "网站标识缺少" + "、".join(ELEMENT_ZH[element] for element in summary.missing)
    else:
        identity = "网站标识齐全"
    hidden = [row for row in summary.open if row.tracked.finding.kind is Kind.HIDDEN_LINK]
    removed = [row for row in summary.resolved if row.tracked.finding.kind is Kind.HIDDEN_LINK]
    sentence = f"{identity}；现有安全与标识问题{len(summary.open)}项（高风险{summary.open_high}项）"
    if hidden or removed:
        sentence += f"，其中暗链{len(hidden)}处，本期已清除{len(removed)}处"
    return sentence + "。"
