"""config.yaml -> validated `Config` with every page's settings resolved.

Every problem is reported with the dotted path of the key (`sites[0].pages[2].interval: …`);
unknown keys are errors. No network or database access here.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from monitor.models import Category, Page, PageKind
from monitor.origins import basic_authorization, same_site, without_userinfo
from monitor.shard import Shard, parse_shard
from monitor.units import format_duration, parse_duration, parse_size

MAX_CONFIG_BYTES = 1024 * 1024
"""A config larger than this is refused unread: no real portal needs it, and YAML can explode."""

MIN_QUIET_INTERVAL_S = 60.0
"""Intervals below this are accepted (tests, demos) but warned about."""

MAX_INTERVAL_S = 7 * 86400.0
"""Longest check and retry interval: a week, the national rules' longest window of evidence."""
MAX_TIMEOUT_S = 600.0
"""Longest check timeout: the national rule fails a visit after 15 s; ten minutes is generous."""
MAX_JITTER_S = 86400.0
"""Longest jitter (and at most half of a page's interval, see `_jitter_problems`)."""
MAX_RETENTION_S = 100 * 366 * 86400.0
"""Longest raw retention: a century (larger values only risk overflowing date arithmetic)."""

DEFAULT_USER_AGENT = "portal-monitor/0.1 (government portal availability and freshness monitor)"

_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]+$")
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class ConfigError(Exception):
    """The configuration cannot be used; `problems` are one line each, prefixed by the key path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _duration_at_most(limit_s: float, *, positive: bool = False) -> Callable[[Any], float]:
    """A validator: a duration, bounded above (a year-long interval overflows the scheduler's dates)."""

    def check(value: Any) -> float:
        seconds = parse_duration(value)
        if positive:
            _positive(seconds)
        if seconds > limit_s:
            raise ValueError(f"must be at most {format_duration(limit_s)}, got {format_duration(seconds)}")
        return seconds

    return check


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("must be greater than zero")
    return seconds


def _request_headers(headers: dict[str, str]) -> dict[str, str]:
    """Names must be HTTP tokens, values free of control characters (a CR/LF would inject headers).

    Messages never repeat a value: these are where tokens and cookies live.
    """
    for name, value in headers.items():
        if not _HEADER_NAME_RE.match(name):
            raise ValueError(f"{name!r} is not a valid HTTP header name")
        if _CONTROL_RE.search(value):
            raise ValueError(f"the value of header {name!r} contains a control character (CR, LF, NUL…)")
    return headers


def _no_nul(text: str) -> str:
    if "\0" in text:
        raise ValueError("contains a NUL character")
    return text


Interval = Annotated[float, BeforeValidator(_duration_at_most(MAX_INTERVAL_S, positive=True))]
Timeout = Annotated[float, BeforeValidator(_duration_at_most(MAX_TIMEOUT_S, positive=True))]
Jitter = Annotated[float, BeforeValidator(_duration_at_most(MAX_JITTER_S))]
Retention = Annotated[float, BeforeValidator(_duration_at_most(MAX_RETENTION_S, positive=True))]
Size = Annotated[int, BeforeValidator(parse_size)]
Headers = Annotated[dict[str, str], AfterValidator(_request_headers)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class IntervalByKind(_Strict):
    """Check interval per page kind."""

    homepage: Interval = 600.0
    catalogue: Interval = 3600.0
    column: Interval = 3600.0
    page: Interval = 3600.0


def _interval_by_kind(value: Any) -> Any:
    """A single duration applies to every kind; a mapping sets kinds one by one."""
    if isinstance(value, dict | IntervalByKind):
        return value
    seconds = _duration_at_most(MAX_INTERVAL_S, positive=True)(value)
    return {kind.value: seconds for kind in PageKind}


MAX_SWEEP_EVERY_S = 366 * 86400.0
"""Longest sweep cadence: a year (the inspectors' cycle is a month or a quarter)."""
MAX_LINK_SPACING_S = 60.0
"""Longest pause between two link requests to one host."""
_TIME_OF_DAY_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _time_of_day(value: Any) -> str:
    """'HH:MM' in the config's time zone (YAML may read 02:30 as a sexagesimal int: refuse it clearly)."""
    if not isinstance(value, str) or not _TIME_OF_DAY_RE.match(value.strip()):
        raise ValueError(f'expected a time of day like "02:30" (quoted), got {value!r}')
    hours, minutes = value.strip().split(":")
    return f"{int(hours):02d}:{minutes}"


def _exclude_patterns(patterns: list[str]) -> list[str]:
    """Link exclusion patterns: a shell glob over the whole URL, or `re:` and a regular expression."""
    for pattern in patterns:
        if not pattern:
            raise ValueError("an exclusion pattern cannot be empty")
        if pattern.startswith("re:"):
            try:
                re.compile(pattern[3:])
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    return patterns


TimeOfDay = Annotated[str, BeforeValidator(_time_of_day)]
SweepEvery = Annotated[float, BeforeValidator(_duration_at_most(MAX_SWEEP_EVERY_S, positive=True))]
LinkSpacing = Annotated[float, BeforeValidator(_duration_at_most(MAX_LINK_SPACING_S))]
ExcludePatterns = Annotated[list[str], AfterValidator(_exclude_patterns)]


class LinksConfig(_Strict):
    """Link availability (链接可用性): the daily homepage pass and the periodic site sweep."""

    enabled: bool = True
    homepage_at: TimeOfDay = "02:00"
    sweep_every: SweepEvery = 7 * 86400.0
    max_depth: int = Field(3, ge=0, le=50)
    max_pages: int = Field(5000, ge=1, le=1_000_000)
    max_links: int = Field(100_000, ge=1, le=10_000_000)
    concurrency: int = Field(2, ge=1, le=100)
    spacing: LinkSpacing = 0.5
    suspect_passes: int = Field(3, ge=1, le=100)
    respect_robots: bool = True
    exclude: ExcludePatterns = Field(default_factory=list)


class SiteLinks(_Strict):
    """A site's partial override of `defaults.links` (`exclude` adds to the global patterns)."""

    enabled: bool | None = None
    homepage_at: TimeOfDay | None = None
    sweep_every: SweepEvery | None = None
    max_depth: int | None = Field(None, ge=0, le=50)
    max_pages: int | None = Field(None, ge=1, le=1_000_000)
    max_links: int | None = Field(None, ge=1, le=10_000_000)
    concurrency: int | None = Field(None, ge=1, le=100)
    spacing: LinkSpacing | None = None
    suspect_passes: int | None = Field(None, ge=1, le=100)
    respect_robots: bool | None = None
    exclude: ExcludePatterns | None = None


class Defaults(_Strict):
    """Probe settings that pages inherit (top-level `defaults:`, overridable per site)."""

    interval: Annotated[IntervalByKind, BeforeValidator(_interval_by_kind)] = IntervalByKind()
    timeout: Timeout = 15.0
    failure_threshold: int = Field(2, ge=1, le=100)
    retry_delay: Interval = 30.0
    max_body: Size = 5 * 1024 * 1024
    per_host_concurrency: int = Field(2, ge=1, le=1000)
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1, max_length=512)
    jitter: Jitter = 0.0
    verify_tls: bool = True
    max_redirects: int = Field(10, ge=0, le=50)
    blocked_is_down: bool = False
    headers: Headers = Field(default_factory=dict)
    links: LinksConfig = LinksConfig()


class SiteDefaults(_Strict):
    """A site's partial override of `defaults` (only the keys given replace the global ones)."""

    interval: Annotated[IntervalByKind, BeforeValidator(_interval_by_kind)] | None = None
    timeout: Timeout | None = None
    failure_threshold: int | None = Field(None, ge=1, le=100)
    retry_delay: Interval | None = None
    max_body: Size | None = None
    per_host_concurrency: int | None = Field(None, ge=1, le=1000)
    user_agent: str | None = Field(None, min_length=1, max_length=512)
    jitter: Jitter | None = None
    verify_tls: bool | None = None
    max_redirects: int | None = Field(None, ge=0, le=50)
    blocked_is_down: bool | None = None
    headers: Headers | None = None


class Selectors(_Strict):
    """CSS selectors for a page the extractor's heuristics cannot read."""

    item: str = Field(min_length=1)
    date: str | None = None


class PageConfig(_Strict):
    """One monitored page of a site."""

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2000)
    kind: PageKind = PageKind.PAGE
    interval: Interval | None = None
    timeout: Timeout | None = None
    category: Category | None = None
    stale_days: int | None = Field(None, ge=1, le=36500)
    expect: str | None = Field(None, min_length=1)
    selectors: Selectors | None = None
    verify_tls: bool | None = None
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _custom_needs_days(self) -> PageConfig:
        if self.category is Category.CUSTOM and self.stale_days is None:
            raise ValueError("category 'custom' needs stale_days")
        return self


class ColumnPin(_Strict):
    """Settings pinned to a discovered column, matched by its name."""

    category: Category | None = None
    stale_days: int | None = Field(None, ge=1, le=36500)
    tags: list[str] = Field(default_factory=list)


class Discovery(_Strict):
    """How columns found on catalogue pages are monitored."""

    exclude: list[str] = Field(default_factory=list)
    columns: dict[str, ColumnPin] = Field(default_factory=dict)
    max_columns: int = Field(200, ge=0, le=5000)


_SITE_CODE_RE = re.compile(r"^(?:bm\d{8}|\d{10})$")


def _site_code(value: str) -> str:
    """The expected 网站标识码: 10 digits (local sites) or `bm` + 8 digits (State Council departments)."""
    code = value.strip().lower()
    if code and not _SITE_CODE_RE.match(code):
        raise ValueError(f"a 网站标识码 is 10 digits or bm + 8 digits, got {value!r}")
    return code


class SiteIdentity(_Strict):
    """The site's identity fields of the 政府网站工作年度报表, as the office knows them (the
    monitor fills these cells of the form from here; it never guesses them). The 网站标识码 is
    the site's `site_code`, which the integrity checks also compare with the page."""

    sponsor: str | None = Field(None, min_length=1, max_length=200, description="主办单位")
    icp: str | None = Field(None, min_length=1, max_length=100, description="ICP备案号")
    police: str | None = Field(None, min_length=1, max_length=100, description="公安机关备案号")


class SiteConfig(_Strict):
    """One portal."""

    name: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    base_url: str
    defaults: SiteDefaults = SiteDefaults()
    allowed_hosts: list[str] = Field(default_factory=list)
    discover: bool = True
    discovery: Discovery = Discovery()
    links: SiteLinks = SiteLinks()
    pages: list[PageConfig] = Field(min_length=1)
    site_code: Annotated[str, AfterValidator(_site_code)] = ""
    """The 网站标识码 the site's pages must show ("" : not checked against a configured value)."""
    identity: SiteIdentity = SiteIdentity()
    ipv6: bool = True
    """Read the homepage over IPv6 too (AAAA lookup, fetch, IPv4/IPv6 consistency) on `ipv6.interval`."""


class StorageConfig(_Strict):
    path: Annotated[str, AfterValidator(_no_nul)] = Field("monitor.db", min_length=1)
    raw_retention: Retention = 400 * 86400.0
    max_backlog: int = Field(200_000, ge=100, le=10_000_000)


class MetricsConfig(_Strict):
    listen: str = "127.0.0.1:9813"
    per_page: Literal["all", "homepages"] = "all"
    """Which pages export per-page series: every page, or homepages only (per-site totals always)."""


_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def _domain_name(value: str) -> str:
    """A domain name like hm.baidu.com (lower-cased, no scheme, path or port)."""
    name = value.strip().strip(".").lower()
    if not _DOMAIN_RE.match(name):
        raise ValueError(f"not a domain name like hm.baidu.com: {value!r}")
    return name


class IntegrityConfig(_Strict):
    """Integrity and identity checks of each site's homepage (docs/integrity.md)."""

    enabled: bool = True
    words: Annotated[str, AfterValidator(_no_nul)] = ""
    """Word list replacing the shipped one ("" keeps it); relative to this file's directory."""
    change_share: float = Field(0.5, gt=0.0, lt=1.0)
    sweep_interval: Annotated[float, BeforeValidator(_duration_at_most(MAX_INTERVAL_S, positive=True))] = 3600.0
    """How often each homepage is fetched as other visitors (cloaking) and its linked domains looked up."""
    lookups_per_sweep: int = Field(200, ge=1, le=100_000)
    """Most linked outside domains looked up in DNS per sweep, all sites together (the rest wait)."""
    lookup_ttl: Annotated[float, BeforeValidator(_duration_at_most(MAX_INTERVAL_S, positive=True))] = 86400.0
    """How long a DNS answer about a linked domain is trusted before it is asked again."""
    accepted_domains: list[Annotated[str, AfterValidator(_domain_name)]] = Field(default_factory=list, max_length=1000)
    """Outside domains the office reviewed and accepts (an analytics or CDN host): scripts loaded from
    them and redirects to them stay events, never findings; an open one resolves at the next reading."""


def _ipv6_address(value: str) -> str:
    """An IPv6 address (`2001:db8::1`), normalised."""
    try:
        return str(ipaddress.IPv6Address(value.strip().strip("[]")))
    except ValueError:
        raise ValueError(f"not an IPv6 address: {value!r}") from None


class Ipv6Config(_Strict):
    """IPv6 readings of each site's homepage, a series of their own (docs/integrity.md#ipv6)."""

    enabled: bool = True
    interval: Annotated[float, BeforeValidator(_duration_at_most(MAX_INTERVAL_S, positive=True))] = 3600.0
    """How often each homepage's host is looked up for AAAA records and the page read over IPv6 and IPv4."""
    links: int = Field(20, ge=0, le=1000)
    """Internal page links (ok in the latest link passes) read over IPv6 after the homepage; 0: none."""
    hosts: dict[str, list[Annotated[str, AfterValidator(_ipv6_address)]]] = Field(default_factory=dict)
    """AAAA answers given here instead of DNS, by host name (an IPv6 front end checked before its
    AAAA record is published; tests): like `curl --resolve`, for IPv6 readings only."""


_ADDRESS_RE = re.compile(r"^[^@\s<>,;\x00-\x1f\x7f]+@[^@\s<>,;\x00-\x1f\x7f]+\.[^@\s<>,;\x00-\x1f\x7f]+$")


def _address(value: str) -> str:
    """A bare mail address (local@domain.tld): no display name, no list, no control characters."""
    if not _ADDRESS_RE.match(value):
        raise ValueError(f"not a mail address like name@example.gov.cn: {value!r}")
    return value


MailAddress = Annotated[str, AfterValidator(_address)]


class SmtpConfig(_Strict):
    """How `monitor digest` sends mail. The password comes from a file or an environment
    variable, never from config.yaml, and is never logged."""

    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-\[\]:]+$")
    port: int = Field(465, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str | None = Field(None, min_length=1, max_length=320)
    password_file: Annotated[str, AfterValidator(_no_nul)] | None = None
    password_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout: Timeout = 30.0

    @model_validator(mode="after")
    def _one_password_source(self) -> SmtpConfig:
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give password_file or password_env, not both")
        if self.username is not None and self.password_file is None and self.password_env is None:
            raise ValueError("username needs password_file or password_env")
        return self


class DigestConfig(_Strict):
    """The daily digest mail (`monitor digest`, run by systemd/portal-monitor-digest.timer)."""

    to: list[MailAddress] = Field(min_length=1, max_length=100)
    sender: MailAddress
    smtp: SmtpConfig


class RawConfig(_Strict):
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


@dataclass(frozen=True)
class Config:
    """The validated configuration: raw settings plus resolved pages and paths."""

    raw: RawConfig
    source: Path | None
    db_path: Path
    listen_host: str
    listen_port: int
    warnings: tuple[str, ...]
    shard: Shard | None = None
    """The shard in force (its sites only, its own database), or None: every site."""

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.raw.timezone)

    @property
    def sites(self) -> list[SiteConfig]:
        return self.raw.sites

    def site(self, name: str) -> SiteConfig:
        for site in self.raw.sites:
            if site.name == name:
                return site
        raise KeyError(name)

    def pages(self) -> list[Page]:
        """Every configured page with defaults applied (discovered columns are added elsewhere)."""
        return [resolve_page(self.raw, site, page) for site in self.raw.sites for page in site.pages]


def effective_defaults(raw: RawConfig, site: SiteConfig) -> Defaults:
    """Global defaults with the site's overrides applied."""
    overrides = {k: v for k, v in site.defaults.model_dump(exclude_none=True).items()}
    merged = raw.defaults.model_dump()
    merged.update(overrides)
    return Defaults.model_validate(merged)


def site_links(raw: RawConfig, site: SiteConfig) -> LinksConfig:
    """The site's link settings: `defaults.links` with the site's `links:` applied; the site's
    `exclude` patterns add to the global ones."""
    merged = raw.defaults.links.model_dump()
    overrides = site.links.model_dump(exclude_none=True)
    merged["exclude"] = [*merged["exclude"], *overrides.pop("exclude", [])]
    merged.update(overrides)
    return LinksConfig.model_validate(merged)


def resolve_page(raw: RawConfig, site: SiteConfig, page: PageConfig) -> Page:
    """A configured page's settings as the checker uses them."""
    d = effective_defaults(raw, site)
    return build_page(
        d,
        site,
        name=page.name,
        url=urljoin(site.base_url, page.url),
        kind=page.kind,
        interval_s=page.interval,
        timeout_s=page.timeout,
        category=page.category,
        stale_days=page.stale_days,
        expect=page.expect,
        item_selector=page.selectors.item if page.selectors else None,
        date_selector=page.selectors.date if page.selectors else None,
        verify_tls=page.verify_tls,
        tags=tuple(page.tags),
    )


def build_page(
    d: Defaults,
    site: SiteConfig,
    *,
    name: str,
    url: str,
    kind: PageKind,
    interval_s: float | None = None,
    timeout_s: float | None = None,
    verify_tls: bool | None = None,
    **fields: Any,
) -> Page:
    """A Page from effective defaults plus the page's own settings (None = inherit).

    Credentials in the URL (`user:password@`, the page's own or the site base URL's for pages on
    the same site) are sent as an `Authorization: Basic` header, which is never logged, exported or
    stored, and taken out of the URL, which is (pages table, items, events, reports).
    """
    return Page(
        site=site.name,
        name=name,
        url=without_userinfo(url),
        kind=kind,
        interval_s=interval_s if interval_s is not None else getattr(d.interval, kind.value),
        timeout_s=timeout_s if timeout_s is not None else d.timeout,
        failure_threshold=d.failure_threshold,
        retry_delay_s=d.retry_delay,
        max_body_bytes=d.max_body,
        per_host_concurrency=d.per_host_concurrency,
        user_agent=d.user_agent,
        jitter_s=d.jitter,
        verify_tls=verify_tls if verify_tls is not None else d.verify_tls,
        allowed_hosts=site_hosts(site),
        max_redirects=d.max_redirects,
        headers=_headers(d, site, url),
        blocked_is_down=d.blocked_is_down,
        **fields,
    )


def _headers(d: Defaults, site: SiteConfig, url: str) -> tuple[tuple[str, str], ...]:
    """Configured headers, plus Basic authorization from URL credentials unless one is configured."""
    headers = dict(d.headers)
    if not any(name.lower() == "authorization" for name in headers):
        own = basic_authorization(url)
        inherited = basic_authorization(site.base_url) if same_site(url, site.base_url) else None
        if own or inherited:
            headers["Authorization"] = own or inherited or ""
    return tuple(sorted(headers.items()))


def integrity_words(config: Config) -> str:
    """The integrity word list's path ("" for the shipped list), relative ones against the file's directory."""
    words = config.raw.integrity.words
    if not words:
        return ""
    base_dir = config.source.resolve().parent if config.source is not None else Path.cwd()
    return str(base_dir / Path(words).expanduser())


def site_base_url(site: SiteConfig) -> str:
    """The site's base URL as stored and shown: without credentials."""
    return without_userinfo(site.base_url)


def site_hosts(site: SiteConfig) -> tuple[str, ...]:
    """Hosts requests of this site may go to: the base URL's host plus `allowed_hosts`."""
    base_host = (urlsplit(site.base_url).hostname or "").lower()
    return tuple(dict.fromkeys([base_host, *(h.lower() for h in site.allowed_hosts)]))


def load_config(
    path: str | os.PathLike[str], *, state_directory: str | None = None, shard: Shard | None = None
) -> Config:
    """Read, parse and validate a config file; raise ConfigError listing every problem. `shard`
    (from `--shard`) wins over the file's `shard:`."""
    source = Path(path)
    text = _read_text(source)
    try:
        document = _load_yaml(text, source)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: YAML syntax error: {_yaml_problem(exc)}"]) from None
    except RecursionError:
        raise ConfigError([f"{source}: YAML nested too deeply"]) from None
    document, origins = _with_includes(document, source)
    try:
        return parse_config(document, source=source, state_directory=state_directory, shard=shard)
    except ConfigError as exc:
        raise ConfigError([_where(problem, origins, source) for problem in exc.problems]) from None


SiteOrigin = tuple[Path, int]
"""The file a site came from and its index in that file's `sites:`."""


def _with_includes(document: Any, source: Path) -> tuple[Any, list[SiteOrigin]]:
    """The document with the `sites:` of every file in its `include:` appended to its own (paths
    relative to the including file; an included file holds only `sites:`), and where each site
    came from, so a problem names the file and the site's index in it."""
    if not isinstance(document, dict) or "include" not in document:
        return document, []
    includes = document.pop("include")
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) and i for i in includes):
        raise ConfigError([f"{source}: include: give a file name or a list of file names"])
    own = document.get("sites")
    sites = list(own) if isinstance(own, list) else []
    origins = [(source, i) for i in range(len(sites))]
    problems: list[str] = []
    for name in includes:
        path = source.parent / Path(name).expanduser()
        try:
            found = _included_sites(path)
        except ConfigError as exc:
            problems += exc.problems
            continue
        sites += found
        origins += [(path, i) for i in range(len(found))]
    if problems:
        raise ConfigError(problems)
    return {**document, "sites": sites}, origins


def _included_sites(path: Path) -> list[Any]:
    """The `sites:` list of one included file (ConfigError naming the file otherwise)."""
    try:
        included = _load_yaml(_read_text(path), path)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: YAML syntax error: {_yaml_problem(exc)}"]) from None
    if included is None:
        return []
    if not isinstance(included, dict) or set(included) - {"sites"}:
        keys = ", ".join(sorted(map(str, included))) if isinstance(included, dict) else type(included).__name__
        raise ConfigError([f"{path}: an included file holds only a 'sites:' list (found: {keys})"])
    found = included.get("sites") or []
    if not isinstance(found, list):
        raise ConfigError([f"{path}: sites: must be a list of sites"])
    return found


_SITE_PROBLEM = re.compile(r"sites\[(\d+)\](.*)", re.DOTALL)


def _where(problem: str, origins: list[SiteOrigin], source: Path) -> str:
    """'sites[12].base_url: …' of the merged document as 'FILE: sites[3].base_url: …' of the file
    the site came from (problems of the main file keep their plain form)."""
    match = _SITE_PROBLEM.match(problem)
    if not match or int(match.group(1)) >= len(origins):
        return problem
    path, index = origins[int(match.group(1))]
    return problem if path == source else f"{path}: sites[{index}]{match.group(2)}"


def parse_config(
    document: Any, *, source: Path | None = None, state_directory: str | None = None, shard: Shard | None = None
) -> Config:
    """Validate an already parsed YAML document; `shard` wins over its `shard:`."""
    if not isinstance(document, dict):
        where = f"{source}: " if source else ""
        raise ConfigError([f"{where}the config must be a mapping with a 'sites' key"])
    try:
        raw = RawConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc)) from None
    base_dir = source.resolve().parent if source else Path.cwd()
    problems = _semantic_problems(raw) + _words_problems(raw, base_dir)
    if problems:
        raise ConfigError(problems)
    host, port = _parse_listen(raw.metrics.listen)
    config = Config(
        raw=raw,
        source=source,
        db_path=_db_path(raw.storage.path, base_dir, state_directory),
        listen_host=host,
        listen_port=port,
        warnings=tuple(_warnings(raw)),
    )
    if shard is None and raw.shard is not None:
        shard = parse_shard(raw.shard)
    return config if shard is None else with_shard(config, shard)


def with_shard(config: Config, shard: Shard) -> Config:
    """The config as shard `shard` runs it: only the sites it owns, and its own database beside the
    configured one (so shards sharing one config.yaml never share a file). A site named in no shard
    cannot happen: every site hashes to exactly one."""
    raw = config.raw.model_copy(update={"sites": [s for s in config.raw.sites if shard.owns(s.name)]})
    return dataclasses.replace(config, raw=raw, db_path=shard.db_path(config.db_path), shard=shard)


def _words_problems(raw: RawConfig, base_dir: Path) -> list[str]:
    """The integrity word list must be a readable file (its format is checked when it is loaded)."""
    words = raw.integrity.words
    if not words or not raw.integrity.enabled:
        return []
    path = base_dir / Path(words).expanduser()
    return [] if path.is_file() else [f"integrity.words: {path}: no such file"]


def _read_text(source: Path) -> str:
    try:
        info = source.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            # A FIFO would block forever, /dev/zero never end: only regular files are read.
            raise ConfigError([f"{source}: not a regular file (a FIFO, device or socket cannot be a config)"])
        with source.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)  # the size may have changed since stat()
        if len(data) > MAX_CONFIG_BYTES:
            size = max(info.st_size, len(data))
            raise ConfigError([f"{source}: config file is {size} bytes, larger than the {MAX_CONFIG_BYTES} allowed"])
        return data.decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([f"{source}: config file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{source}: is a directory, not a config file"]) from None
    except PermissionError:
        raise ConfigError([f"{source}: permission denied"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{source}: not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read: {exc.strerror or exc}"]) from None


_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it: a nation's 250,000 pages are read by every shard at start
and reload, and the pure-Python parser spends ~3.4 s of CPU per 20,000 pages (libyaml 0.7 s)."""


def _load_yaml(text: str, source: Path) -> Any:
    """Parse YAML, refusing a key given twice in one mapping: PyYAML keeps the last silently, so a
    pasted block could override a setting nobody sees. A syntax error is reported as the
    pure-Python parser words it (its line numbers point at the mistake; libyaml's may not)."""
    try:
        return _parse_yaml(_SAFE_LOADER, text, source)
    except yaml.YAMLError:
        if _SAFE_LOADER is yaml.SafeLoader:
            raise
        return _parse_yaml(yaml.SafeLoader, text, source)


def _parse_yaml(loader_class: type[yaml.SafeLoader], text: str, source: Path) -> Any:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicates = list(_duplicate_keys(node, "", set()))
        if duplicates:
            raise ConfigError([f"{source}: {problem}" for problem in duplicates])
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _duplicate_keys(node: yaml.Node, path: str, seen: set[int]) -> Iterator[str]:
    """'sites[0].pages[1].url: duplicate key (line 12; first on line 10)' for each repeated key.

    Walks the composed node graph once: an alias reuses a node, and `seen` keeps a billion-laughs
    document from being walked a billion times."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            child = f"{path}.{name}" if path else name
            if name in first and name != "<<":
                yield f"{child}: duplicate key (line {key.start_mark.line + 1}; first on line {first[name]})"
            first.setdefault(name, key.start_mark.line + 1)
            yield from _duplicate_keys(value, child, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{path}[{index}]", seen)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def _dotted(loc: tuple[int | str, ...]) -> str:
    """('sites', 0, 'pages', 2, 'interval') -> 'sites[0].pages[2].interval'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "lax-", "json-")) or part in {"literal", "str", "int", "float"}:
            continue
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def _format_validation(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "required key is missing"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{_dotted(error['loc'])}: {message}")
    return list(dict.fromkeys(problems))


def _semantic_problems(raw: RawConfig) -> list[str]:
    """Checks that span several keys: names, URLs, timezone, listen address."""
    problems: list[str] = []
    try:
        ZoneInfo(raw.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone: unknown time zone {raw.timezone!r}")
    try:
        _parse_listen(raw.metrics.listen)
    except ValueError as exc:
        problems.append(f"metrics.listen: {exc}")
    if raw.shard is not None:
        try:
            parse_shard(raw.shard)
        except ValueError as exc:
            problems.append(f"shard: {exc}")
    try:
        Path(raw.storage.path).expanduser()
    except RuntimeError:  # "~nosuchuser/x.db": pathlib cannot find that home directory
        user = raw.storage.path.split("/", 1)[0]
        problems.append(f"storage.path: cannot expand {user!r}: no such user, or no home directory")
    seen_sites: set[str] = set()
    for i, site in enumerate(raw.sites):
        problems += _site_problems(f"sites[{i}]", site, seen_sites)
    if not problems:
        problems += _jitter_problems(raw)
    return problems


def _jitter_problems(raw: RawConfig) -> list[str]:
    """Jitter delays each visit by up to `jitter` after its place on the interval grid; more than half
    the interval would bring visits closer than half an interval together (the V1 rule wants spaced
    visits). Configured pages, and the column interval discovered columns will get."""
    problems = []
    for i, site in enumerate(raw.sites):
        pages = [(f"sites[{i}].pages[{j}]", page) for j, page in enumerate(resolve_all(raw, site))]
        if site.discover:
            d = effective_defaults(raw, site)
            column = build_page(d, site, name="-", url=site.base_url, kind=PageKind.COLUMN)
            pages.append((f"sites[{i}] (discovered columns)", column))
        for path, page in pages:
            if page.jitter_s > page.interval_s / 2:
                problems.append(
                    f"{path}: jitter {format_duration(page.jitter_s)} is more than half of the interval"
                    f" {format_duration(page.interval_s)}; lower defaults.jitter or lengthen the interval"
                )
    return list(dict.fromkeys(problems))


def _site_problems(path: str, site: SiteConfig, seen_sites: set[str]) -> list[str]:
    problems = []
    if not _NAME_RE.match(site.name):
        problems.append(f"{path}.name: use letters, digits, '-', '_' or '.' only, got {site.name!r}")
    if site.name in seen_sites:
        problems.append(f"{path}.name: duplicate site name {site.name!r}")
    seen_sites.add(site.name)
    url_problem = _url_problem(site.base_url)
    if url_problem:
        problems.append(f"{path}.base_url: {url_problem}")
    seen_pages: set[str] = set()
    for j, page in enumerate(site.pages):
        page_path = f"{path}.pages[{j}]"
        if not _NAME_RE.match(page.name):
            problems.append(f"{page_path}.name: use letters, digits, '-', '_' or '.' only, got {page.name!r}")
        if page.name in seen_pages:
            problems.append(f"{page_path}.name: duplicate page name {page.name!r} in site {site.name!r}")
        seen_pages.add(page.name)
        if not url_problem:
            page_url_problem = _url_problem(urljoin(site.base_url, page.url))
            if page_url_problem:
                problems.append(f"{page_path}.url: {page_url_problem}")
    return problems


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL"
        return f"not a valid URL ({exc}): {without_userinfo(url)!r}"
    shown = without_userinfo(url)
    if parts.scheme not in ("http", "https"):
        return f"must be an http:// or https:// URL, got {shown!r}"
    if not parts.hostname:
        return f"has no host: {shown!r}"
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return f"has an invalid port: {shown!r}"
    return None


def _parse_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:9813' / '[::1]:9813' / ':9813' -> (host, port)."""
    match = re.match(r"^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]*)):(\d{1,5})$", listen.strip())
    if not match:
        raise ValueError(f"expected host:port like 127.0.0.1:9813, got {listen!r}")
    host = match.group(1) or match.group(2) or "0.0.0.0"
    port = int(match.group(3))
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} out of range")
    return host, port


SYSTEM_CONFIG_ROOT = Path("/etc")
SYSTEM_STATE_ROOT = Path("/var/lib")


def _db_path(configured: str, base_dir: Path, state_directory: str | None) -> Path:
    """Where a relative storage.path lives: under $STATE_DIRECTORY when systemd sets it (the
    daemon); else, for a config in /etc/NAME/, under /var/lib/NAME/ — the unit's StateDirectory
    for its ConfigurationDirectory, so `monitor status -c /etc/portal-monitor/config.yaml` run
    by hand reads the daemon's database; else beside the config file."""
    path = Path(configured).expanduser()
    if path.is_absolute():
        return path
    if state_directory:
        return Path(state_directory.split(":")[0]) / path
    if base_dir.parent == SYSTEM_CONFIG_ROOT:
        return SYSTEM_STATE_ROOT / base_dir.name / path
    return base_dir / path


FORM_TAGS = ("概况类", "政务动态", "信息公开目录", "专栏专题", "政策解读")
"""Column tags the 政府网站工作年度报表 counts (monitor/report/_annual.py; docs/reports.md)."""
_FORM_TAG_STEMS = ("概况", "动态", "公开", "专栏", "专题", "解读")


def _tag_warnings(raw: RawConfig) -> list[str]:
    """A tag that looks like a 年度报表 tag but is not one (专题专栏, 政策解读类) counts nowhere:
    say so, since the form would silently show 0."""
    out = []
    for site in raw.sites:
        tagged = [(page.name, page.tags) for page in site.pages]
        tagged += [(name, pin.tags) for name, pin in site.discovery.columns.items()]
        for name, tags in tagged:
            for tag in tags:
                if tag not in FORM_TAGS and any(stem in tag for stem in _FORM_TAG_STEMS):
                    out.append(
                        f"{site.name}/{name}: tag {tag!r} is not one the 年度报表 counts ({', '.join(FORM_TAGS)})"
                    )
    return out


def _warnings(raw: RawConfig) -> list[str]:
    warnings = _tag_warnings(raw)
    for site in raw.sites:
        for page in resolve_all(raw, site):
            if page.interval_s < MIN_QUIET_INTERVAL_S:
                warnings.append(
                    f"{page.site}/{page.name}: interval {page.interval_s:g}s is below {MIN_QUIET_INTERVAL_S:g}s; "
                    "fine for tests and demos, too aggressive for a real portal"
                )
            if page.timeout_s > page.interval_s:
                warnings.append(
                    f"{page.site}/{page.name}: timeout {page.timeout_s:g}s is longer than the interval"
                    f" {page.interval_s:g}s; a visit still running when the next is due makes that one skipped"
                )
            if not page.verify_tls:
                warnings.append(f"{page.site}/{page.name}: TLS certificate verification is off")
    return warnings


def resolve_all(raw: RawConfig, site: SiteConfig) -> list[Page]:
    return [resolve_page(raw, site, page) for page in site.pages]


ListenScope = Literal["loopback", "other"]


def listen_scope(host: str) -> ListenScope:
    """Whether the metrics address is loopback only (the safe default)."""
    return "loopback" if host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.") else "other"
