"""shard.py: rendezvous hashing gives every site exactly one shard, adding a shard moves only the
sites the new shard wins, and the config, the database and the CLI honour the shard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import ConfigError, load_config, parse_config
from monitor.shard import Shard, parse_shard, shard_of

SITES = [f"sim-{i:03d}" for i in range(60)]


def province(**overrides: Any) -> dict[str, Any]:
    """60 simulated sites, one homepage each."""
    sites = [
        {"name": name, "title": f"站点{name}", "base_url": f"http://{name}.example/",
         "pages": [{"name": "首页", "url": "/", "kind": "homepage"}]}
        for name in SITES
    ]  # fmt: skip
    return {"storage": {"path": "monitor.db"}, "sites": sites, **overrides}


def owned(count: int) -> dict[int, set[str]]:
    return {k: {s.name for s in parse_config(province(), shard=Shard(k, count)).sites} for k in range(1, count + 1)}


def test_three_shards_monitor_every_site_exactly_once() -> None:
    shards = owned(3)
    assert sorted(site for sites in shards.values() for site in sites) == SITES
    assert all(len(sites) >= 10 for sites in shards.values()), {k: len(v) for k, v in shards.items()}


def test_a_fourth_shard_takes_only_the_sites_it_wins() -> None:
    """From 3 to 4 shards: each site either stays where it was or moves to the new shard 4, about
    a quarter of them; none moves between the old shards."""
    before = {site: k for k, sites in owned(3).items() for site in sites}
    after = {site: k for k, sites in owned(4).items() for site in sites}
    moved = {site for site in SITES if before[site] != after[site]}
    assert all(after[site] == 4 for site in moved)
    assert moved == owned(4)[4]
    assert 5 <= len(moved) <= 25, len(moved)  # 60 / 4 = 15 expected, sd 3.4 (23 move here)
    many = [f"site-{i}" for i in range(6000)]
    share = sum(shard_of(site, 4) != shard_of(site, 3) for site in many) / len(many)
    assert 0.23 <= share <= 0.27, share


def test_the_assignment_is_stable_across_processes() -> None:
    """BLAKE2b, not hash(): the same shard on every machine and Python (PYTHONHASHSEED does not matter)."""
    assert [shard_of(site, 5) for site in ("jtj", "liuzhou-jtj", "广西")] == [
        shard_of(site, 5) for site in ("jtj", "liuzhou-jtj", "广西")
    ]
    assert shard_of("anything", 1) == 1
    assert {shard_of(site, 7) for site in SITES} == set(range(1, 8))


@pytest.mark.parametrize(
    ("spec", "message"),
    [("3", "is not K/N"), ("0/3", "the shard must be 1 to 3"), ("4/3", "the shard must be 1 to 3"),
     ("1/0", "number of shards"), ("a/b", "is not K/N")],
)  # fmt: skip
def test_bad_shards_are_refused_with_the_reason(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shard(spec)
    with pytest.raises(ConfigError) as info:
        parse_config(province(shard=spec))
    assert info.value.problems[0].startswith("shard: ") and message in info.value.problems[0]


def test_each_shard_has_its_own_database(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(province(shard="2/3"), allow_unicode=True), encoding="utf-8")
    from_file = load_config(path)
    assert from_file.shard == Shard(2, 3) and from_file.db_path == tmp_path / "monitor.shard-2-of-3.db"
    assert {s.name for s in from_file.sites} == owned(3)[2]
    overridden = load_config(path, shard=Shard(1, 3))  # --shard wins over the file's shard:
    assert overridden.db_path == tmp_path / "monitor.shard-1-of-3.db"
    assert {s.name for s in overridden.sites} == owned(3)[1]
    assert parse_config(province()).shard is None
