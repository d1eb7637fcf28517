"""The Finding and Event value types, and the pure lifecycle that opens and resolves findings.

A Finding is what a detector says about one page now; a Tracked finding adds first/last seen and
when it was resolved. `track` turns successive detections into that history without a store, a
clock or any I/O, so the daemon (phase 2) only has to persist what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

MAX_EVIDENCE_CHARS = 300
"""Longest evidence snippet kept on a finding or event (hostile pages can be megabytes on one line)."""

MAX_TARGET_CHARS = 200
"""Longest target (URL, domain, element name) kept."""

HIGH_SCORE = 50
"""A score at or above this makes a finding `high` (高); below it, `low` (低)."""


class Level(StrEnum):
    """Severity of a finding (stable strings: stored and exported). 低 = low, 高 = high."""

    LOW = "low"
    HIGH = "high"


class Kind(StrEnum):
    """What a finding or event is about (stable strings: stored and exported as labels)."""

    HIDDEN_LINK = "hidden_link"
    HIDDEN_TEXT = "hidden_text"
    ZERO_WIDTH = "zero_width"
    NEW_DOMAIN = "new_domain"
    LAPSED_DOMAIN = "lapsed_domain"
    TITLE_CHANGED = "title_changed"
    NEW_SCRIPT_DOMAIN = "new_script_domain"
    OFFSITE_REDIRECT = "offsite_redirect"
    TEXT_CHANGED = "text_changed"
    CLOAKING = "cloaking"
    IDENTITY_MISSING = "identity_missing"
    IDENTITY_MISMATCH = "identity_mismatch"
    IDENTITY_CHANGED = "identity_changed"
    PAGE_TAG = "page_tag"
    IPV6_INCONSISTENT = "ipv6_inconsistent"


def level_for(score: int) -> Level:
    """The level a score earns (one threshold for every detector)."""
    return Level.HIGH if score >= HIGH_SCORE else Level.LOW


def bounded(text: str, limit: int = MAX_EVIDENCE_CHARS) -> str:
    """Whitespace-collapsed text cut to `limit` characters, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Finding:
    """One problem seen on one page now. `(kind, page, technique, target)` identifies it over time."""

    kind: Kind
    level: Level
    score: int
    page: str
    technique: str
    target: str
    evidence: str

    @staticmethod
    def make(kind: Kind, score: int, page: str, technique: str, target: str, evidence: str) -> Finding:
        """A finding with its level from the score and its strings bounded."""
        return Finding(
            kind, level_for(score), score, page, technique, bounded(target, MAX_TARGET_CHARS), bounded(evidence)
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form with the enums as their stable strings."""
        return {
            "kind": self.kind.value,
            "level": self.level.value,
            "score": self.score,
            "page": self.page,
            "technique": self.technique,
            "target": self.target,
            "evidence": self.evidence,
        }

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity across checks: the same problem seen again keeps its first-seen time."""
        return (self.kind.value, self.page, self.technique, self.target)


@dataclass(frozen=True)
class Event:
    """A change worth recording that is not (yet) a problem: a new partner domain, a new title."""

    kind: Kind
    page: str
    target: str
    before: str
    after: str

    @staticmethod
    def make(kind: Kind, page: str, target: str, before: str, after: str) -> Event:
        """An event with every string bounded."""
        return Event(kind, page, bounded(target, MAX_TARGET_CHARS), bounded(before), bounded(after))


@dataclass(frozen=True)
class Tracked:
    """A finding with its history: first and last seen (epoch seconds UTC), resolved when it went away."""

    finding: Finding
    first_seen: float
    last_seen: float
    resolved_at: float | None = None

    @property
    def open(self) -> bool:
        """True while the finding was seen on the latest check of its page."""
        return self.resolved_at is None


def track(previous: Iterable[Tracked], current: Sequence[Finding], now: float, pages: Iterable[str]) -> list[Tracked]:
    """Successive detections -> findings with first/last seen; `pages` are the pages just checked.

    A finding seen again keeps its first-seen time and takes the new evidence, score and level; an
    open finding of a checked page that is not seen now is resolved at `now`; a resolved one that
    comes back opens anew. Findings of pages not checked now are carried over untouched, so a
    failed fetch never resolves anything.
    """
    checked = set(pages)
    seen = {finding.key: finding for finding in current}
    result: list[Tracked] = []
    for old in previous:
        key = old.finding.key
        if key in seen and old.open:
            result.append(Tracked(seen.pop(key), old.first_seen, now))
        elif old.open and old.finding.page in checked:
            result.append(replace(old, resolved_at=now))
        else:
            result.append(old)
    result.extend(Tracked(finding, now, now) for finding in seen.values())
    return result
