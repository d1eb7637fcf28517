"""A parsed YAML document -> `Config`: schema errors as dotted key paths, the cross-key problems,
the database path, the shard in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.config._document import RawConfig, parse_listen
from monitor.config._errors import ConfigError
from monitor.config._problems import semantic_problems, words_problems
from monitor.config._resolve import Config, with_pages, with_shard
from monitor.config._warnings import config_warnings
from monitor.models import Page
from monitor.shard import Shard, parse_shard


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
    resolved: list[list[Page]] = []  # every site's pages, resolved once for the checks and the Config
    problems = semantic_problems(raw, resolved) + words_problems(raw, base_dir)
    if problems:
        raise ConfigError(problems)
    pages = tuple(page for site_pages in resolved for page in site_pages)
    host, port = parse_listen(raw.metrics.listen)
    config = Config(
        raw=raw,
        source=source,
        db_path=_db_path(raw.storage.path, base_dir, state_directory),
        listen_host=host,
        listen_port=port,
        warnings=tuple(config_warnings(raw, pages)),
    )
    config = with_pages(config, pages)
    if shard is None and raw.shard is not None:
        shard = parse_shard(raw.shard)
    return config if shard is None else with_shard(config, shard)


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
