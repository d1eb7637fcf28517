"""Which linked domains the integrity sweep looks up in DNS now, and what recent lookups said.

A site sweep can link thousands of outside domains (issue 13 §2, docs/integrity.md): each integrity
sweep looks up at most `per_sweep` of them (never asked first, then the longest ago), and an answer
stays fresh for `ttl_s`, so a domain is asked about once a TTL however many sites and sweeps link
it. A timeout (UNKNOWN) is recorded but never fresh: it is asked again at a later sweep. Pure
bookkeeping: the caller does the lookups (off the event loop) and passes the time in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from monitor.integrity._drift import Resolution

LOOKUP_TTL_S = 86_400.0
"""How long a DNS answer about a linked domain is trusted (the default of `integrity.lookup_ttl`)."""

LOOKUPS_PER_SWEEP = 200
"""Most domains looked up per integrity sweep, all sites together (`integrity.lookups_per_sweep`)."""

MAX_ANSWERS = 50_000
"""Most answers remembered; the oldest are forgotten first."""


@dataclass
class DomainLookups:
    """Recent DNS answers per registrable domain, shared by every site, and the sweep's budget."""

    ttl_s: float = LOOKUP_TTL_S
    per_sweep: int = LOOKUPS_PER_SWEEP
    answers: dict[str, tuple[Resolution, float]] = field(default_factory=dict)
    """domain -> (answer, when asked), oldest first."""
    left: int = 0
    """Lookups this sweep may still make (`begin_sweep` refills it)."""

    def __post_init__(self) -> None:
        self.left = self.per_sweep

    def begin_sweep(self) -> None:
        """A new integrity sweep: its full budget of lookups."""
        self.left = self.per_sweep

    def fresh(self, domain: str, now: float) -> Resolution:
        """The answer a lookup gave within the TTL; UNKNOWN when there is none (or it was UNKNOWN)."""
        answer = self.answers.get(domain)
        if answer is None or now - answer[1] >= self.ttl_s:
            return Resolution.UNKNOWN
        return answer[0]

    def due(self, candidates: Sequence[str], now: float) -> list[str]:
        """The candidates to look up now, in order: never asked (in the caller's order of priority),
        then asked longest ago; only those without a fresh answer; within what is left of the budget."""
        stale = [domain for domain in dict.fromkeys(candidates) if self.fresh(domain, now) is Resolution.UNKNOWN]
        never = [domain for domain in stale if domain not in self.answers]
        again = sorted((domain for domain in stale if domain in self.answers), key=lambda d: self.answers[d][1])
        chosen = (never + again)[: max(self.left, 0)]
        self.left -= len(chosen)
        return chosen

    def record(self, answers: Mapping[str, Resolution], now: float) -> None:
        """Remember lookups made at `now`; forget the oldest beyond `MAX_ANSWERS`."""
        for domain, answer in answers.items():
            self.answers.pop(domain, None)
            self.answers[domain] = (answer, now)
        while len(self.answers) > MAX_ANSWERS:
            del self.answers[next(iter(self.answers))]

    def known(self, domains: Iterable[str], now: float) -> dict[str, Resolution]:
        """The fresh answers about `domains` (those without one are left out)."""
        found = {domain: self.fresh(domain, now) for domain in domains}
        return {domain: answer for domain, answer in found.items() if answer is not Resolution.UNKNOWN}
