"""config.py: parsing, defaults inheritance, and one clear message per problem with the key path."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from monitor.config import ConfigError, RawConfig, load_config, parse_config, parse_duration, parse_size
from monitor.models import Category, PageKind

REPO = Path(__file__).resolve().parent.parent


def minimal(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "sites": [
            {
                "name": "bureau",
                "title": "某某局",
                "base_url": "http://bureau.example/",
                "pages": [{"name": "home", "url": "/", "kind": "homepage"}],
            }
        ]
    }
    doc.update(overrides)
    return doc


def problems_of(doc: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(doc)
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("10m", 600),
        ("1h", 3600),
        ("7d", 604800),
        ("1w", 604800),
        ("500ms", 0.5),
        (45, 45),
        ("1.5h", 5400),
        (" 2m ", 120),
    ],
)
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["abc", "-5s", "10 minutes", "", True, None, [1]])
def test_bad_durations(text: Any) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [("5MiB", 5 * 1024**2), ("512KiB", 524288), (1000, 1000), ("2kb", 2000), ("1GiB", 1024**3)],
)
def test_sizes(text: Any, size: int) -> None:
    assert parse_size(text) == size


def test_shipped_config_is_valid_and_monitors_the_reference_portal() -> None:
    config = load_config(REPO / "config.yaml")
    pages = config.pages()
    assert [p.kind for p in pages] == [PageKind.HOMEPAGE, PageKind.CATALOGUE]
    assert all(p.url.startswith("http://jtj.liuzhou.gov.cn/") for p in pages)
    assert pages[0].interval_s == 600 and pages[1].interval_s == 3600
    assert pages[0].timeout_s == 15 and pages[0].failure_threshold == 2 and pages[0].retry_delay_s == 30
    assert pages[0].max_body_bytes == 5 * 1024 * 1024 and pages[0].per_host_concurrency == 2
    assert "portal-monitor" in pages[0].user_agent
    assert config.db_path == REPO / "monitor.db"
    assert (config.listen_host, config.listen_port) == ("127.0.0.1", 9813)
    assert config.raw.timezone == "Asia/Shanghai"


def all_keys(model: type[BaseModel]) -> set[str]:
    """Every key the config schema accepts, recursively."""
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(name)
        for arg in typing.get_args(field.annotation) or (field.annotation,):
            for inner in typing.get_args(arg) or (arg,):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    keys |= all_keys(inner)
    return keys


def test_shipped_config_documents_every_key() -> None:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    missing = [key for key in sorted(all_keys(RawConfig)) if f"{key}:" not in text and f"{{{key}:" not in text]
    assert missing == []
    assert text.count("#") > 40


def test_defaults_are_inherited_and_sites_override_them() -> None:
    doc = minimal(defaults={"timeout": "10s", "interval": "5m", "jitter": 3})
    doc["sites"][0]["defaults"] = {"timeout": "4s"}
    doc["sites"][0]["pages"].append({"name": "news", "url": "news/", "kind": "column", "interval": "2h"})
    home, news = parse_config(doc).pages()
    assert home.timeout_s == 4 and home.interval_s == 300 and home.jitter_s == 3
    assert news.interval_s == 7200 and news.url == "http://bureau.example/news/"


def test_interval_per_kind_mapping() -> None:
    doc = minimal(defaults={"interval": {"homepage": "1s", "column": "2h"}})
    doc["sites"][0]["pages"].append({"name": "c", "url": "c/", "kind": "column"})
    home, column = parse_config(doc).pages()
    assert (home.interval_s, column.interval_s) == (1, 7200)


def test_short_interval_is_accepted_with_a_warning() -> None:
    config = parse_config(minimal(defaults={"interval": "1s"}))
    assert config.pages()[0].interval_s == 1
    assert any("below 60s" in w for w in config.warnings)


def test_state_directory_hosts_a_relative_db(tmp_path: Path) -> None:
    config = parse_config(minimal(), source=tmp_path / "config.yaml", state_directory="/var/lib/portal-monitor")
    assert config.db_path == Path("/var/lib/portal-monitor/monitor.db")
    config = parse_config(minimal(), source=tmp_path / "config.yaml")
    assert config.db_path == tmp_path / "monitor.db"


BROKEN = [
    ({"sites": []}, ["sites: List should have at least 1 item after validation, not 0"]),
    ({"site": []}, ["sites: required key is missing", "site: unknown key"]),
    (
        minimal(defaults={"timeout": "abc"}),
        ["defaults.timeout: expected a duration like 30s, 10m, 1h, 7d or a number of seconds, got 'abc'"],
    ),
    (
        minimal(defaults={"failure_threshold": 0}),
        ["defaults.failure_threshold: Input should be greater than or equal to 1"],
    ),
    (
        minimal(defaults={"max_body": "lots"}),
        ["defaults.max_body: expected a size like 5MiB, 512KiB or a number of bytes, got 'lots'"],
    ),
    (
        minimal(defaults={"interval": "-5m"}),
        ["defaults.interval: expected a duration like 30s, 10m, 1h, 7d or a number of seconds, got '-5m'"],
    ),
    (minimal(defaults={"interval": 0}), ["defaults.interval: must be greater than zero"]),
    (
        minimal(metrics={"listen": "localhost"}),
        ["metrics.listen: expected host:port like 127.0.0.1:9813, got 'localhost'"],
    ),
    (minimal(timezone="Mars/Olympus"), ["timezone: unknown time zone 'Mars/Olympus'"]),
    (minimal(storage={"path": "x.db", "retention": "1d"}), ["storage.retention: unknown key"]),
]


@pytest.mark.parametrize(("doc", "expected"), BROKEN)
def test_broken_configs_give_the_key_path(doc: dict[str, Any], expected: list[str]) -> None:
    assert problems_of(doc) == expected


def page_problems(**page: Any) -> list[str]:
    doc = minimal()
    doc["sites"][0]["pages"].append({"name": "p", "url": "p/", **page})
    return problems_of(doc)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            {"interval": "-1s"},
            "sites[0].pages[1].interval: expected a duration like 30s, 10m, 1h, 7d or a number of seconds, got '-1s'",
        ),
        (
            {"kind": "blog"},
            "sites[0].pages[1].kind: Input should be 'homepage', 'catalogue', 'column' or 'page'",
        ),
        ({"intervall": "1h"}, "sites[0].pages[1].intervall: unknown key"),
        ({"category": "custom"}, "sites[0].pages[1]: category 'custom' needs stale_days"),
        ({"url": "ftp://x/"}, "sites[0].pages[1].url: must be an http:// or https:// URL, got 'ftp://x/'"),
        ({"url": "http://:80/"}, "sites[0].pages[1].url: has no host: 'http://:80/'"),
        ({"name": "home"}, "sites[0].pages[1].name: duplicate page name 'home' in site 'bureau'"),
        ({"name": "a b"}, "sites[0].pages[1].name: use letters, digits, '-', '_' or '.' only, got 'a b'"),
        ({"selectors": {"date": "span"}}, "sites[0].pages[1].selectors.item: required key is missing"),
    ],
)
def test_broken_pages(page: dict[str, Any], expected: str) -> None:
    assert page_problems(**page) == [expected]


def test_every_problem_is_reported_at_once() -> None:
    doc = minimal(defaults={"timeout": "x", "jitter": "y"})
    doc["sites"][0]["pages"].append({"name": "p", "url": "/p", "interval": "z", "colour": "red"})
    assert len(problems_of(doc)) == 4


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("sites: [", "YAML syntax error: line 1"),
        ("- just\n- a list\n", "the config must be a mapping"),
        ("", "the config must be a mapping"),
    ],
)
def test_unparseable_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.problems) == 1 and expected in info.value.problems[0]


def test_missing_huge_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"#" * (10 * 1024 * 1024))
    with pytest.raises(ConfigError, match="larger than"):
        load_config(huge)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_category_and_selectors_reach_the_page(tmp_path: Path) -> None:
    doc = minimal()
    doc["sites"][0]["pages"].append(
        {
            "name": "tz",
            "url": "tz/",
            "kind": "column",
            "category": "custom",
            "stale_days": 30,
            "selectors": {"item": "li", "date": "span"},
            "tags": ["信息公开目录"],
            "verify_tls": False,
        }
    )
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    config = load_config(path)
    page = config.pages()[1]
    assert (page.category, page.stale_days, page.item_selector, page.date_selector) == (
        Category.CUSTOM,
        30,
        "li",
        "span",
    )
    assert page.tags == ("信息公开目录",) and not page.verify_tls
    assert any("verification is off" in w for w in config.warnings)


@pytest.mark.parametrize(
    ("source", "state_directory", "expected"),
    [
        # run by hand on a deployed host (no $STATE_DIRECTORY): the unit's StateDirectory
        ("/etc/portal-monitor/config.yaml", None, "/var/lib/portal-monitor/monitor.db"),
        ("/etc/other-name/config.yaml", None, "/var/lib/other-name/monitor.db"),
        # the daemon under systemd
        ("/etc/portal-monitor/config.yaml", "/var/lib/portal-monitor", "/var/lib/portal-monitor/monitor.db"),
        # anywhere else: beside the config
        ("/srv/monitor/config.yaml", None, "/srv/monitor/monitor.db"),
        ("/etc/config.yaml", None, "/etc/monitor.db"),
        ("/etc/a/b/config.yaml", None, "/etc/a/b/monitor.db"),
    ],
)
def test_a_config_in_etc_finds_the_daemons_database(source: str, state_directory: str | None, expected: str) -> None:
    config = parse_config(minimal(), source=Path(source), state_directory=state_directory)
    assert config.db_path == Path(expected)
