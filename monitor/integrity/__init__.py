"""Site integrity and identity: hidden links, outbound drift, tampering, cloaking, 网站标识.
See docs/architecture.md and docs/integrity.md.

The detection engine only: pure functions over page text and earlier readings, no network I/O
(DNS lookups and cloaking fetches are passed in), no store, bounded on hostile pages. The daemon,
store, report and metrics integration (issue 13 phase 2) calls this surface:

- `inspect_page(html, url, domains=, vocabulary=)` -> `Inspection` (hidden-link and zero-width
  findings, `Identity`, outside domains, tamper `Snapshot`) from the homepage bytes already fetched;
- `identity_findings` / `tag_findings` on an `Identity`; `tamper_changes(before, after)`;
  `new_domain_events` / `drift_findings` / `lapsed_findings(resolver)`;
  `check_cloaking(fetch)` / `compare_visits`;
- `consistency_findings(page, ipv4, ipv6)` (IPv4/IPv6 answers compared; `Ipv6Reading`, `AaaaAnswer`);
- `track(previous, current, now, pages)` turns successive findings into open/resolved history;
- the sweep: `link_domains` / `link_sweep_domains` (the link work's outside domains),
  `DomainLookups` (which to look up now, cached answers), `lapsed_from_answers`, `carried_cloaking`.

`Domains()` (offline Public Suffix List) and `load_vocabulary()` are built once and passed in.
"""

from monitor.integrity._cloak import (
    CRAWLER,
    MOBILE,
    NORMAL,
    SEARCH_REFERER,
    VISITORS,
    Fetch,
    Visit,
    Visitor,
    carried_cloaking,
    check_cloaking,
    compare_visits,
)
from monitor.integrity._domains import Domains, Target
from monitor.integrity._drift import (
    Resolution,
    Resolver,
    drift_findings,
    lapsed_findings,
    lapsed_from_answers,
    link_domains,
    lookup,
    lookup_candidates,
    new_domain_events,
    outbound_domains,
)
from monitor.integrity._findings import Event, Finding, Kind, Level, Tracked, track
from monitor.integrity._hidden import hidden_links, zero_width_findings
from monitor.integrity._homepage import (
    IPV6_KINDS,
    SWEEP_KINDS,
    Assessment,
    SiteState,
    assess_homepage,
    changed_since,
    link_sweep_domains,
    split_by_source,
)
from monitor.integrity._identity import Element, Identity, TagProfile, read_identity
from monitor.integrity._identity_rules import identity_findings, tag_findings
from monitor.integrity._inspect import Inspection, inspect_page
from monitor.integrity._ipv6 import (
    AaaaAnswer,
    AaaaResolver,
    Answer,
    Ipv6Reading,
    Ipv6State,
    consistency_findings,
    page_text,
)
from monitor.integrity._lookups import LOOKUP_TTL_S, LOOKUPS_PER_SWEEP, DomainLookups
from monitor.integrity._tamper import CHANGE_SHARE, Snapshot, snapshot, tamper_changes
from monitor.integrity._text import visible_text
from monitor.integrity._wire import finding_from_json, inspection_from_json, inspection_to_json
from monitor.integrity._words import Vocabulary, VocabularyError, load_vocabulary, parse_vocabulary

__all__ = [
    "CHANGE_SHARE",
    "CRAWLER",
    "IPV6_KINDS",
    "LOOKUPS_PER_SWEEP",
    "LOOKUP_TTL_S",
    "MOBILE",
    "NORMAL",
    "SEARCH_REFERER",
    "SWEEP_KINDS",
    "VISITORS",
    "AaaaAnswer",
    "AaaaResolver",
    "Answer",
    "Assessment",
    "DomainLookups",
    "Domains",
    "Element",
    "Event",
    "Fetch",
    "Finding",
    "Identity",
    "Inspection",
    "Ipv6Reading",
    "Ipv6State",
    "Kind",
    "Level",
    "Resolution",
    "Resolver",
    "SiteState",
    "Snapshot",
    "TagProfile",
    "Target",
    "Tracked",
    "Visit",
    "Visitor",
    "Vocabulary",
    "VocabularyError",
    "assess_homepage",
    "carried_cloaking",
    "changed_since",
    "check_cloaking",
    "compare_visits",
    "consistency_findings",
    "drift_findings",
    "finding_from_json",
    "hidden_links",
    "identity_findings",
    "inspect_page",
    "inspection_from_json",
    "inspection_to_json",
    "lapsed_findings",
    "lapsed_from_answers",
    "link_domains",
    "link_sweep_domains",
    "load_vocabulary",
    "lookup",
    "lookup_candidates",
    "new_domain_events",
    "outbound_domains",
    "page_text",
    "parse_vocabulary",
    "read_identity",
    "snapshot",
    "split_by_source",
    "tag_findings",
    "tamper_changes",
    "track",
    "visible_text",
    "zero_width_findings",
]
