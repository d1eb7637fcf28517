"""`load_config`: a config file and the files its `include:` names -> `Config`, every problem
named by the file it is in."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from monitor.config._errors import ConfigError
from monitor.config._parse import parse_config
from monitor.config._resolve import Config
from monitor.config._yaml import load_yaml, read_text, yaml_problem
from monitor.shard import Shard


def load_config(
    path: str | os.PathLike[str], *, state_directory: str | None = None, shard: Shard | None = None
) -> Config:
    """Read, parse and validate a config file; raise ConfigError listing every problem. `shard`
    (from `--shard`) wins over the file's `shard:`."""
    source = Path(path)
    text = read_text(source)
    try:
        document = load_yaml(text, source)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: YAML syntax error: {yaml_problem(exc)}"]) from None
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
        included = load_yaml(read_text(path), path)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: YAML syntax error: {yaml_problem(exc)}"]) from None
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
