"""Reading config files: a bounded regular UTF-8 file, YAML with duplicate keys refused."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from monitor.config._errors import ConfigError

MAX_CONFIG_BYTES = 1024 * 1024
"""A config larger than this is refused unread: no real portal needs it, and YAML can explode."""


def read_text(source: Path) -> str:
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


def load_yaml(text: str, source: Path) -> Any:
    """Parse YAML, refusing a key given twice in one mapping: PyYAML keeps the last silently, so a
    pasted block could override a setting nobody sees. A syntax error is reported as the
    pure-Python parser words it (its line numbers point at the mistake; libyaml's may not)."""
    try:
        return parse_yaml(_SAFE_LOADER, text, source)
    except yaml.YAMLError:
        if _SAFE_LOADER is yaml.SafeLoader:
            raise
        return parse_yaml(yaml.SafeLoader, text, source)


def parse_yaml(loader_class: type[yaml.SafeLoader], text: str, source: Path) -> Any:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicates = list(_duplicate_keys(node, "", set()))
        if duplicates:
            raise ConfigError([f"{source}: {problem}" for problem in duplicates])
        try:
            return _plain(loader, node, set())
        except _NotPlain:
            return loader.construct_document(node)
    finally:
        loader.dispose()


_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"


class _NotPlain(Exception):
    """The document uses what only PyYAML's own constructor handles (an alias, a merge key, a
    key that is not a plain string, a tag other than the standard ones)."""


def _plain(loader: yaml.SafeLoader, node: yaml.Node, seen: set[int]) -> Any:
    """The document as `construct_document` makes it, for the common case of mappings,
    sequences and scalars without aliases: PyYAML's constructor takes ~0.4 s for a 5,000-site
    config (one generator per collection), this a fraction. Scalars other than strings (numbers,
    booleans, null, dates) are PyYAML's; anything else raises _NotPlain and PyYAML constructs
    the whole document (tests/config/test_config_yaml.py compares both on every shipped config)."""
    if id(node) in seen:
        raise _NotPlain  # an alias: PyYAML shares the object (and may recurse)
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        return node.value if node.tag == _STR else loader.construct_object(node)
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_plain(loader, item, seen) for item in node.value]
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        mapping = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag != _STR or key.value == "<<":
                raise _NotPlain
            mapping[key.value] = _plain(loader, value, seen)
        return mapping
    raise _NotPlain


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


def yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)
