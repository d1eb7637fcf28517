"""Link availability (链接可用性): harvest a page's links, check them politely, classify them, sweep a site.
See docs/architecture.md.

Public surface (everything else is private to the package):

- `harvest(body, url, content_type=None) -> Harvest`: every link of a page, and the skipped ones.
- `SiteScope.of(urls, aliases)`, `resource_type(url, element)`, `classify(outcome, scope)`,
  `escalate(history, suspect_passes)`, `Exclusions(patterns)`: the pure verdicts.
- `LinkChecker(settings, budget=, clock=, cache=)`: `check(url, site)` -> `LinkResult`,
  `inspect(...)` -> `Inspection` (with an internal page's body); `LinkCache` shares external results.
  Its `budget` is monitor.check's `HostBudget`, the one the daemon's page checks share.
- `crawl(checker, site, start_urls, max_depth=0 for the homepage pass) -> Sweep`.
- `pass_plan(config, site, kind)`, `link_settings(config, site)`, `run_pass(plan, checker, store,
  submit) -> PassOutcome`, `result_rows(sweep, previous, suspect_passes)`: a recorded pass
  (homepage or sweep), escalated from the site's stored state and written through store ops.
- `sweep_in_child(plan, budget=, store=, clock=, submit=) -> PassOutcome`: a pass crawled in a
  child process under the caller's budget, recorded by the caller (the daemon's sweeps).
- `LinkRunner(config, store, clock)`: the daemon's background passes (`tick` each minute);
  `slot_before`, `due_kinds`: when they are due (daily slot per site, sweep cadence).

Network I/O happens in the checker only; no SQL, metrics or config parsing in this package.
"""

from monitor.links._checker import Inspection, LinkCache, LinkChecker
from monitor.links._classify import Exclusions, SiteScope, classify, escalate, resource_type
from monitor.links._crawl import Sweep, crawl
from monitor.links._harvest import harvest
from monitor.links._isolated import SweepChildError, sweep_in_child
from monitor.links._passes import (
    HOMEPAGE,
    SWEEP,
    PassOutcome,
    PassPlan,
    link_settings,
    pass_plan,
    result_rows,
    run_pass,
)
from monitor.links._schedule import LinkRunner, due_kinds, slot_before
from monitor.links._types import (
    Found,
    Harvest,
    LinkClass,
    LinkResult,
    LinkSettings,
    Occurrence,
    Outcome,
    ResourceType,
    Scope,
    Skipped,
    SkipReason,
)

__all__ = [
    "HOMEPAGE",
    "SWEEP",
    "Exclusions",
    "Found",
    "Harvest",
    "Inspection",
    "LinkCache",
    "LinkChecker",
    "LinkClass",
    "LinkResult",
    "LinkRunner",
    "LinkSettings",
    "Occurrence",
    "Outcome",
    "PassOutcome",
    "PassPlan",
    "ResourceType",
    "Scope",
    "SiteScope",
    "SkipReason",
    "Skipped",
    "Sweep",
    "SweepChildError",
    "classify",
    "crawl",
    "due_kinds",
    "escalate",
    "harvest",
    "link_settings",
    "pass_plan",
    "resource_type",
    "result_rows",
    "run_pass",
    "slot_before",
    "sweep_in_child",
]
