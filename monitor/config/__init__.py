"""config.yaml -> validated `Config` with every page's settings resolved. See docs/architecture.md.

Every problem is reported with the dotted path of the key (`sites[0].pages[2].interval: …`);
unknown keys are errors. No network or database access here.

Public surface (everything else is private to the package):

- `load_config(path, state_directory=, shard=)` (a file and its `include:` files) and
  `parse_config(document, ...)` (an already parsed document) -> `Config`, or `ConfigError` listing
  every problem.
- `Config` and the per-page resolution: `resolve_page`, `resolve_all`, `build_page`,
  `effective_defaults`, `site_links`, `site_hosts`, `site_base_url`, `integrity_words`, `with_shard`.
- The schema, one pydantic model per section (`RawConfig`, `SiteConfig`, `PageConfig`, `Defaults`,
  `LinksConfig`, `IntegrityConfig`, `Ipv6Config`, `DigestConfig`, ...), its field types (`Interval`,
  `Timeout`, `Size`, ...) and limits (`MAX_INTERVAL_S`, ...), `FORM_TAGS`, `listen_scope`.
"""

from monitor.config._digest import DigestConfig, MailAddress, SmtpConfig
from monitor.config._document import ListenScope, MetricsConfig, RawConfig, StorageConfig, listen_scope
from monitor.config._errors import ConfigError
from monitor.config._fields import (
    MAX_INTERVAL_S,
    MAX_JITTER_S,
    MAX_RETENTION_S,
    MAX_TIMEOUT_S,
    Headers,
    Interval,
    Jitter,
    Retention,
    Size,
    Timeout,
)
from monitor.config._integrity import IntegrityConfig, Ipv6Config
from monitor.config._links import (
    MAX_LINK_SPACING_S,
    MAX_SWEEP_EVERY_S,
    ExcludePatterns,
    LinksConfig,
    LinkSpacing,
    SiteLinks,
    SweepEvery,
    TimeOfDay,
)
from monitor.config._load import SiteOrigin, load_config
from monitor.config._parse import SYSTEM_CONFIG_ROOT, SYSTEM_STATE_ROOT, parse_config
from monitor.config._resolve import (
    Config,
    build_page,
    effective_defaults,
    integrity_words,
    resolve_all,
    resolve_page,
    site_base_url,
    site_hosts,
    site_links,
    with_shard,
)
from monitor.config._sites import (
    DEFAULT_USER_AGENT,
    ColumnPin,
    Defaults,
    Discovery,
    IntervalByKind,
    PageConfig,
    Selectors,
    SiteConfig,
    SiteDefaults,
    SiteIdentity,
)
from monitor.config._warnings import FORM_TAGS, MIN_QUIET_INTERVAL_S
from monitor.config._yaml import MAX_CONFIG_BYTES

__all__ = [
    "DEFAULT_USER_AGENT",
    "FORM_TAGS",
    "MAX_CONFIG_BYTES",
    "MAX_INTERVAL_S",
    "MAX_JITTER_S",
    "MAX_LINK_SPACING_S",
    "MAX_RETENTION_S",
    "MAX_SWEEP_EVERY_S",
    "MAX_TIMEOUT_S",
    "MIN_QUIET_INTERVAL_S",
    "SYSTEM_CONFIG_ROOT",
    "SYSTEM_STATE_ROOT",
    "ColumnPin",
    "Config",
    "ConfigError",
    "Defaults",
    "DigestConfig",
    "Discovery",
    "ExcludePatterns",
    "Headers",
    "IntegrityConfig",
    "Interval",
    "IntervalByKind",
    "Ipv6Config",
    "Jitter",
    "LinkSpacing",
    "LinksConfig",
    "ListenScope",
    "MailAddress",
    "MetricsConfig",
    "PageConfig",
    "RawConfig",
    "Retention",
    "Selectors",
    "SiteConfig",
    "SiteDefaults",
    "SiteIdentity",
    "SiteLinks",
    "SiteOrigin",
    "Size",
    "SmtpConfig",
    "StorageConfig",
    "SweepEvery",
    "TimeOfDay",
    "Timeout",
    "build_page",
    "effective_defaults",
    "integrity_words",
    "listen_scope",
    "load_config",
    "parse_config",
    "resolve_all",
    "resolve_page",
    "site_base_url",
    "site_hosts",
    "site_links",
    "with_shard",
]
