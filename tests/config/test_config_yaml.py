"""config.yaml is read with libyaml's parser when PyYAML has it (every shard reads a nation's
250,000 pages at start and reload): the same document and the same duplicate-key lines as the
pure-Python parser, whose wording a syntax error keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.config import ConfigError, load_config
from monitor.config._yaml import load_yaml, parse_yaml
from tests.support.paths import REPO

needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")


@needs_libyaml
def test_both_parsers_read_the_shipped_config_alike() -> None:
    path = REPO / "config.yaml"
    text = path.read_text(encoding="utf-8")
    assert parse_yaml(yaml.CSafeLoader, text, path) == parse_yaml(yaml.SafeLoader, text, path)
    assert load_yaml(text, path) == parse_yaml(yaml.SafeLoader, text, path)


@needs_libyaml
def test_duplicate_keys_are_found_on_the_same_lines(tmp_path: Path) -> None:
    text = "timezone: Asia/Shanghai\nsites:\n  - name: a\n    title: A\n    name: b\n"
    problems = []
    for loader in (yaml.CSafeLoader, yaml.SafeLoader):
        with pytest.raises(ConfigError) as info:
            parse_yaml(loader, text, tmp_path / "config.yaml")
        problems.append(info.value.problems)
    assert problems[0] == problems[1]
    assert "sites[0].name: duplicate key (line 5; first on line 3)" in problems[0][0]


def test_a_syntax_error_keeps_the_pure_python_wording(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("sites: [")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "YAML syntax error: line 1" in info.value.problems[0]


PLAIN_AND_NOT = [
    "sites:\n  - {name: a, title: 甲, base_url: 'http://a.example/', pages: [{name: homepage, url: /}]}\n",
    "defaults: {timeout: 15, jitter: 0.5, verify_tls: no, user_agent: null}\nstarted: 2018-01-01\n",
    "defaults: &d {timeout: 15s}\nsites: [{name: a, defaults: *d}]\n",  # an alias: PyYAML shares it
    "base: &b {title: 甲}\nsite: {<<: *b, name: a}\n",  # a merge key
    "a: &x [1, *x]\n",  # a recursive alias
    "? a\n: an explicit key\n",
    "true: boolean key\n",  # a key that is not a string
    "1: integer key\nnull: null key\n",
    "tagged: !!str 12\nbinary: !!binary aGk=\nset: !!set {a: null}\nomap: !!omap [{a: 1}]\n",
    "",
    "just a string\n",
]


@pytest.mark.parametrize("text", PLAIN_AND_NOT)
def test_the_fast_construction_is_pyyamls(text: str, tmp_path: Path) -> None:
    """A national config is built from its nodes directly (PyYAML's constructor took ~0.4 s for
    5,000 sites); anything but plain mappings, lists and scalars goes to PyYAML's: the same
    document either way."""
    path = tmp_path / "config.yaml"
    expected = yaml.load(text, Loader=yaml.SafeLoader)
    for loader in (yaml.CSafeLoader, yaml.SafeLoader) if yaml.__with_libyaml__ else (yaml.SafeLoader,):
        got = parse_yaml(loader, text, path)
        assert repr(got) == repr(expected) and type(got) is type(expected)


def test_the_fast_construction_reads_the_shipped_config() -> None:
    path = REPO / "config.yaml"
    text = path.read_text(encoding="utf-8")
    assert load_yaml(text, path) == yaml.load(text, Loader=yaml.SafeLoader)
