"""Which shard monitors which site: rendezvous (highest-random-weight) hashing of the site name.

`monitor run --shard K/N` (or `shard: K/N` in config.yaml) keeps only the sites whose highest
weight among shards 1..N is shard K. Every site is monitored by exactly one shard, and going from
N to N+1 shards moves only the sites the new shard now wins (~1/(N+1) of them); no other site
changes hands. The weight is a keyed BLAKE2b of the shard number and the site name: stable across
processes, machines and Python versions (unlike `hash()`). Pure; docs/deploy.md#shards.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MAX_SHARDS = 1000
_SPEC = re.compile(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, site: str) -> bool:
        """This shard monitors `site`."""
        return shard_of(site, self.count) == self.index

    def db_path(self, path: Path) -> Path:
        """Each shard's own database beside the configured one: monitor.db -> monitor.shard-2-of-3.db."""
        return path.with_name(f"{path.stem}.shard-{self.index}-of-{self.count}{path.suffix}")


def parse_shard(spec: str) -> Shard:
    """`K/N` with 1 <= K <= N <= 1000, else ValueError saying so."""
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise ValueError(f"{spec!r} is not K/N (e.g. 2/4: the second of four shards)")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"{spec!r}: the number of shards must be 1 to {MAX_SHARDS}")
    if not 1 <= index <= count:
        raise ValueError(f"{spec!r}: the shard must be 1 to {count}")
    return Shard(index, count)


def weight(site: str, shard: int) -> int:
    """The site's weight on one shard (64 bits)."""
    digest = hashlib.blake2b(site.encode("utf-8"), digest_size=8, key=str(shard).encode("ascii")).digest()
    return int.from_bytes(digest, "big")


def shard_of(site: str, count: int) -> int:
    """The shard (1..count) with the site's highest weight."""
    return max(range(1, count + 1), key=lambda k: weight(site, k))
