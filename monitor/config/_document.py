"""The document as written (`RawConfig`): its top-level sections, with `storage:` and `metrics:`
(and the metrics listen address) here."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from monitor.config._digest import DigestConfig
from monitor.config._fields import Retention, Strict, no_nul
from monitor.config._integrity import IntegrityConfig, Ipv6Config
from monitor.config._sites import Defaults, SiteConfig


class StorageConfig(Strict):
    path: Annotated[str, AfterValidator(no_nul)] = Field("monitor.db", min_length=1)
    raw_retention: Retention = 400 * 86400.0
    max_backlog: int = Field(200_000, ge=100, le=10_000_000)


class MetricsConfig(Strict):
    listen: str = "127.0.0.1:9813"
    per_page: Literal["all", "homepages"] = "all"
    """Which pages export per-page series: every page, or homepages only (per-site totals always)."""


class RawConfig(Strict):
    """The YAML document as written."""

    timezone: str = "Asia/Shanghai"
    storage: StorageConfig = StorageConfig()
    metrics: MetricsConfig = MetricsConfig()
    defaults: Defaults = Defaults()
    sites: list[SiteConfig] = Field(min_length=1)
    integrity: IntegrityConfig = IntegrityConfig()
    ipv6: Ipv6Config = Ipv6Config()
    shard: str | None = None
    """`K/N`: monitor only the sites rendezvous hashing gives shard K of N (monitor/shard.py)."""
    digest: DigestConfig | None = None


def parse_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:9813' / '[::1]:9813' / ':9813' -> (host, port)."""
    match = re.match(r"^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]*)):(\d{1,5})$", listen.strip())
    if not match:
        raise ValueError(f"expected host:port like 127.0.0.1:9813, got {listen!r}")
    host = match.group(1) or match.group(2) or "0.0.0.0"
    port = int(match.group(3))
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} out of range")
    return host, port


ListenScope = Literal["loopback", "other"]


def listen_scope(host: str) -> ListenScope:
    """Whether the metrics address is loopback only (the safe default)."""
    return "loopback" if host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.") else "other"
