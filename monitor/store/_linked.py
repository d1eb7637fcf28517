"""The outside links the link-availability work found on a site, as the integrity sweep reads them.

The link passes (monitor/links/, tables of migration `0006_links`) keep each URL's current class in
`link_state` and, for links that were not ok, where they appear (`link_occurrences`). The integrity
sweep (docs/integrity.md) takes the external ones' registrable domains for its lapsed-domain lookups
and new-domain events, and the pages that link a lapsed domain as evidence. Reads only; bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

MAX_EXTERNAL_LINKS = 20_000
"""Most external link URLs read per site and sweep (a site sweep's `links.max_links` is 20,000 by default)."""

PARENTS_KEPT = 5
"""Pages read per link URL as evidence."""


class Reader(Protocol):
    """What the reads need: `Store.query` (parameters only)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]: ...


@dataclass(frozen=True)
class ExternalLink:
    """An external link URL a link pass found on the site and still finds (not `removed`)."""

    url: str
    name_missing: bool
    """The link checker's latest answer was "the domain does not resolve" (class broken, DNS)."""


def external_links(store: Reader, site_id: int, limit: int = MAX_EXTERNAL_LINKS) -> list[ExternalLink]:
    """The site's current external link URLs, those whose name did not resolve first."""
    rows = store.query(
        "SELECT url, class = 'broken' AND error_kind = 'dns' AS missing FROM link_state"
        " WHERE site_id = ? AND scope = 'external' AND class != 'removed' ORDER BY missing DESC, url LIMIT ?",
        (site_id, limit),
    )
    return [ExternalLink(str(url), bool(missing)) for url, missing in rows]


def links_mark(store: Reader, site_id: int) -> tuple[int, float]:
    """What changes when a link pass is recorded (its row id, its end): `external_links` need not
    be read again while this stays the same."""
    rows = store.query(
        "SELECT coalesce(max(id), 0), coalesce(max(ended), 0) FROM link_passes WHERE site_id = ?", (site_id,)
    )
    return int(rows[0][0]), float(rows[0][1])


def link_parents(store: Reader, site_id: int, urls: Sequence[str]) -> dict[str, list[str]]:
    """The pages each URL appeared on in its latest pass (kept only for links that were not ok)."""
    parents: dict[str, list[str]] = {}
    for url in urls:
        rows = store.query(
            "SELECT o.parent_url FROM link_state l JOIN link_occurrences o"
            " ON o.pass_id = l.last_pass_id AND o.url = l.url"
            " WHERE l.site_id = ? AND l.url = ? ORDER BY o.depth, o.parent_url LIMIT ?",
            (site_id, url, PARENTS_KEPT),
        )
        parents[url] = list(dict.fromkeys(str(row[0]) for row in rows))
    return parents
