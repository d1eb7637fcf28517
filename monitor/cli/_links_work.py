"""The work behind `monitor links`: list the current link state or the fix list (table, JSON, CSV),
and run a recorded pass now (`--sweep`, `--homepage-only`) with a progress line on a terminal.

Functions return data or text; the command module (_links.py) prints it and picks the exit code.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from monitor.check import HostBudget
from monitor.config import Config, SiteConfig, site_base_url
from monitor.links import HOMEPAGE, SWEEP, LinkChecker, PassOutcome, PassPlan, pass_plan, run_pass
from monitor.models import SystemClock
from monitor.store import LinkOccurrenceRow, LinkStateRow, Store

FIX_COLUMNS = (
    "site", "url", "type", "scope", "status", "reason", "broken_since", "days_broken",
    "parent_url", "parent_title", "anchor_text", "element", "attribute", "depth",
)  # fmt: skip
"""CSV columns of the fix list: one row per place a broken link appears."""
STATE_COLUMNS = ("site", "url", "class", "type", "scope", "status", "reason", "first_seen", "last_checked")
PROGRESS_EVERY_S = 0.2


@dataclass(frozen=True)
class FixEntry:
    """One broken URL of the fix list and every place it appears (in the pass that last saw it)."""

    state: LinkStateRow
    since: str
    days: int
    places: tuple[LinkOccurrenceRow, ...]


def fix_list(config: Config, store: Store, sites: Sequence[str], now: float) -> list[FixEntry]:
    """The broken links to fix: since when (local date), consecutive days broken, where they appear."""
    queries, tz = store.links(), config.timezone
    today = datetime.fromtimestamp(now, tz).date()
    entries = []
    for row in queries.states(sites, classes=["broken"]):
        start = datetime.fromtimestamp(row.broken_since or row.last_checked, tz).date()
        places = tuple(queries.occurrences(row.last_pass_id, row.url))
        entries.append(FixEntry(row, start.isoformat(), (today - start).days + 1, places))
    return entries


def render_fix_list(entries: Sequence[FixEntry], fmt: str) -> str:
    """The fix list as a table (one block per URL), JSON (nested places) or CSV (one row per place)."""
    if fmt == "json":
        return json.dumps([_fix_json(e) for e in entries], ensure_ascii=False, indent=2)
    if fmt == "csv":
        rows = [_fix_csv(e, place) for e in entries for place in (e.places or (None,))]
        return _csv(FIX_COLUMNS, rows)
    if not entries:
        return "no broken links"
    lines = []
    for e in entries:
        s = e.state
        lines.append(f"{s.site}  {s.url}  [{s.rtype}, {s.scope}] {s.reason}; since {e.since} ({e.days} days)")
        lines += [f"    on {p.parent_url}  《{p.parent_title}》  “{p.anchor_text}” <{p.element} {p.attribute}>"
                  for p in e.places]  # fmt: skip
    return "\n".join(lines)


def _fix_json(e: FixEntry) -> dict[str, Any]:
    s = e.state
    places = [
        {"parent_url": p.parent_url, "parent_title": p.parent_title, "anchor_text": p.anchor_text,
         "element": p.element, "attribute": p.attribute, "depth": p.depth}
        for p in e.places
    ]  # fmt: skip
    return {
        "site": s.site, "url": s.url, "type": s.rtype, "scope": s.scope, "status": s.status,
        "error_kind": s.error_kind, "reason": s.reason, "broken_since": e.since, "days_broken": e.days,
        "occurrences": places,
    }  # fmt: skip


def _fix_csv(e: FixEntry, p: LinkOccurrenceRow | None) -> list[Any]:
    s = e.state
    where = [p.parent_url, p.parent_title, p.anchor_text, p.element, p.attribute, p.depth] if p else [""] * 6
    return [s.site, s.url, s.rtype, s.scope, s.status or "", s.reason, e.since, e.days, *where]


def render_states(config: Config, rows: Sequence[LinkStateRow], fmt: str) -> str:
    """Every link's current verdict (all classes) as a table, JSON or CSV."""
    tz = config.timezone

    def when(ts: float) -> str:
        return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")

    records = [
        [r.site, r.url, r.link_class, r.rtype, r.scope, r.status, r.reason, when(r.first_seen), when(r.last_checked)]
        for r in rows
    ]
    if fmt == "json":
        return json.dumps([dict(zip(STATE_COLUMNS, rec, strict=True)) for rec in records], ensure_ascii=False, indent=2)
    if fmt == "csv":
        return _csv(STATE_COLUMNS, records)
    if not records:
        return "no links recorded yet (the daemon checks them daily, or run `monitor links --sweep`)"
    return "\n".join(f"{r[0]}  {r[2]:<8} {r[3]:<10} {r[4]:<8} {r[5] or '-':>3}  {r[1]}  {r[6]}" for r in records)


def _csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().rstrip("\n")


# -- a pass now ------------------------------------------------------------------------------------


def sweep_now(
    config: Config, store: Store, sites: Sequence[SiteConfig], kind: str, stream: TextIO
) -> list[PassOutcome]:
    """Run one recorded pass per site now (the caller holds the writer lock), in `sites` order."""
    clock = SystemClock()
    store.sync_pages([(s.name, s.title, site_base_url(s)) for s in config.sites], config.pages(), clock.now(),
                     retire_others=False)  # fmt: skip
    store.writer.start()
    outcomes = []
    try:
        for site in sites:
            plan = pass_plan(config, site, kind)
            progress = _progress_line(site.name, stream) if stream.isatty() else None
            outcomes.append(asyncio.run(_one_pass(plan, store, clock, progress)))
            if progress is not None:
                stream.write("\n")
    finally:
        store.close()
    return outcomes


async def _one_pass(
    plan: PassPlan, store: Store, clock: SystemClock, progress: Callable[[int, int], None] | None
) -> PassOutcome:
    settings = plan.settings
    budget = HostBudget(concurrency=settings.concurrency, spacing_s=settings.spacing_s, clock=clock)
    async with LinkChecker(settings, budget=budget, clock=clock) as checker:
        return await run_pass(plan, checker, store, store.submit, progress=progress)


def _progress_line(site: str, stream: TextIO) -> Callable[[int, int], None]:
    """A progress feed that rewrites one terminal line at most five times a second."""
    last = [0.0]

    def show(pages: int, links: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            stream.write(f"\r{site}: {pages} pages read, {links} links checked")
            stream.flush()

    return show


def summary_line(outcome: PassOutcome) -> str:
    """'bureau: sweep, 12 pages, 240 links in 3.2 s: 5 broken, 1 soft_404, ...'."""
    r = outcome.recorded
    site, kind = r.site, r.kind
    counts = ", ".join(f"{n} {name}" for name, n in outcome.counts().items() if n and name != "ok")
    budget = " (budget reached: not the whole site)" if r.budget_hit else ""
    if outcome.failure is not None:
        return f"{site}: {kind} pass not completed: {outcome.failure}"
    return (
        f"{site}: {kind} pass, {r.pages_read} pages read, {outcome.links} links in {r.ended - r.started:.1f} s: "
        f"{counts or 'all ok'}{budget}"
    )


def pass_kind(homepage_only: bool) -> str:
    return HOMEPAGE if homepage_only else SWEEP


def default_stream() -> TextIO:
    return sys.stderr
