"""monitor.config: parsing, defaults inheritance, and one clear message per problem with the key path."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from monitor.config import ConfigError, RawConfig, load_config, parse_config
from monitor.models import Category, PageKind
from monitor.units import parse_duration, parse_size

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
    (
        minimal(storage={"path": "~nosuchuser/x.db"}),
        ["storage.path: cannot expand '~nosuchuser': no such user, or no home directory"],
    ),
    (minimal(defaults={"interval": 1.0e15}), ["defaults.interval: must be at most 7d, got 1e+15s"]),
    (minimal(defaults={"interval": {"homepage": "8d"}}), ["defaults.interval.homepage: must be at most 7d, got 8d"]),
    (minimal(defaults={"jitter": 1.0e15}), ["defaults.jitter: must be at most 1d, got 1e+15s"]),
    (minimal(defaults={"timeout": "1h"}), ["defaults.timeout: must be at most 10m, got 1h"]),
    (minimal(defaults={"retry_delay": "30d"}), ["defaults.retry_delay: must be at most 7d, got 30d"]),
    (minimal(defaults={"timeout": float("inf")}), ["defaults.timeout: a duration must be a finite number"]),
    (minimal(storage={"raw_retention": "40000d"}), ["storage.raw_retention: must be at most 36600d, got 40000d"]),
    (
        minimal(defaults={"jitter": "6m", "interval": "10m"}),
        [
            "sites[0].pages[0]: jitter 6m is more than half of the interval 10m;"
            " lower defaults.jitter or lengthen the interval",
            "sites[0] (discovered columns): jitter 6m is more than half of the interval 10m;"
            " lower defaults.jitter or lengthen the interval",
        ],
    ),
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


def test_jitter_up_to_half_of_each_interval_is_accepted() -> None:
    doc = minimal(defaults={"jitter": "5m", "interval": {"homepage": "10m", "column": "1h"}})
    assert parse_config(doc).pages()[0].jitter_s == 300
    doc["sites"][0]["pages"].append({"name": "fast", "url": "/f", "interval": "9m"})
    assert problems_of(doc) == [
        "sites[0].pages[1]: jitter 5m is more than half of the interval 9m;"
        " lower defaults.jitter or lengthen the interval"
    ]
    doc["sites"][0]["defaults"] = {"jitter": "1m"}  # a site's own jitter is judged against its pages
    assert parse_config(doc).pages()[1].jitter_s == 60


def test_a_timeout_longer_than_the_interval_is_a_warning() -> None:
    config = parse_config(minimal(defaults={"interval": "1m", "timeout": "2m"}))
    assert "bureau/home: timeout 120s is longer than the interval 60s" in " ".join(config.warnings)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "sites:\n  - name: a\n    name: b\n",
            ["sites[0].name: duplicate key (line 3; first on line 2)"],
        ),
        (
            "storage: {path: a.db}\nmetrics: {listen: ':1'}\nstorage: {path: b.db}\nsites: []\n",
            ["storage: duplicate key (line 3; first on line 1)"],
        ),
        (
            "sites:\n- name: x\n  pages:\n  - {name: h, url: /, url: /x}\n  - {kind: page, kind: column}\n",
            [
                "sites[0].pages[0].url: duplicate key (line 4; first on line 4)",
                "sites[0].pages[1].kind: duplicate key (line 5; first on line 5)",
            ],
        ),
    ],
)
def test_a_key_given_twice_is_refused_with_its_path(tmp_path: Path, content: str, expected: list[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [f"{path}: {problem}" for problem in expected]


def test_aliases_and_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    """An anchor used many times is one node, walked once (a billion laughs stays fast); `<<` may repeat."""
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8)
    )
    path = tmp_path / "config.yaml"
    path.write_text(laughs + "base: &base {name: home, url: /}\nsites: [{<<: *base, <<: *base}]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert not any("duplicate key" in problem for problem in info.value.problems)


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


# -- links: (issue 12) ------------------------------------------------------------------------------


def test_links_defaults_and_site_overrides_merge() -> None:
    from monitor.config import site_links

    doc = minimal(defaults={"links": {"homepage_at": "3:05", "sweep_every": "30d", "exclude": ["*/wza/*"]}})
    doc["sites"][0]["links"] = {"max_depth": 1, "exclude": ["re:\\.apk$"], "enabled": False}
    config = parse_config(doc)
    links = site_links(config.raw, config.sites[0])
    assert links.homepage_at == "03:05" and links.sweep_every == 30 * 86400
    assert links.max_depth == 1 and links.enabled is False and links.suspect_passes == 3
    assert links.exclude == ["*/wza/*", "re:\\.apk$"]


def test_links_problems_name_their_key_path() -> None:
    doc = minimal(defaults={"links": {"homepage_at": 150, "spacing": "2m", "max_pages": 0}})
    doc["sites"][0]["links"] = {"exclude": ["re:("], "sweep_every": "2y", "colour": 1}
    problems = problems_of(doc)
    assert 'defaults.links.homepage_at: expected a time of day like "02:30" (quoted), got 150' in problems
    assert "defaults.links.spacing: must be at most 1m, got 2m" in problems
    assert any(p.startswith("defaults.links.max_pages: Input should be greater than or equal to 1") for p in problems)
    assert any(p.startswith("sites[0].links.exclude: 're:(' is not a valid regular expression") for p in problems)
    assert any(p.startswith("sites[0].links.sweep_every: expected a duration") for p in problems)
    assert "sites[0].links.colour: unknown key" in problems


def test_unquoted_yaml_time_of_day_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    text = yaml.safe_dump(minimal()) + "defaults:\n  links:\n    homepage_at: 2:30\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == ['defaults.links.homepage_at: expected a time of day like "02:30" (quoted), got 150']


def test_ipv6_settings_and_hosts_are_validated() -> None:
    from monitor.config import parse_config

    site = {"name": "s", "title": "t", "base_url": "http://www.example.gov.cn/", "ipv6": False,
            "pages": [{"name": "home", "url": "/", "kind": "homepage"}]}  # fmt: skip
    config = parse_config(
        {"sites": [site], "ipv6": {"interval": "30m", "hosts": {"www.example.gov.cn": ["[2001:DB8::10]"]}}}
    )
    assert config.raw.ipv6.interval == 1800.0 and config.raw.ipv6.links == 20 and not config.raw.sites[0].ipv6
    assert config.raw.ipv6.hosts == {"www.example.gov.cn": ["2001:db8::10"]}
    with pytest.raises(ConfigError, match="not an IPv6 address"):
        parse_config({"sites": [site], "ipv6": {"hosts": {"www.example.gov.cn": ["10.0.0.1"]}}})
