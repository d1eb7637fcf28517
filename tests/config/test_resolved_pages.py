"""Config pages resolved once (issue 16: a national config's 10,000 pages took a third of the
overview's config load, resolved three times): the same pages as resolving each one afresh."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from monitor.config import Defaults, effective_defaults, load_config, resolve_page, with_shard
from monitor.shard import parse_shard

CONFIG = """\
defaults:
  timeout: 20s
  headers: {X-Office: 监测}
sites:
  - name: plain
    title: 普通局
    base_url: http://plain.example/
    pages:
      - {name: homepage, url: /, kind: homepage}
      - {name: xxgk, url: /xxgk/, kind: catalogue}
  - name: tuned
    title: 调过的局
    base_url: http://user:pw@tuned.example:8080/
    defaults: {interval: 30m, verify_tls: false}
    pages:
      - {name: homepage, url: /, kind: homepage}
      - {name: notices, url: /tzgg/, kind: column, category: notice, tags: [政务动态]}
"""


def test_config_pages_equal_each_page_resolved_afresh(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path)
    afresh = [resolve_page(config.raw, site, page) for site in config.sites for page in site.pages]
    assert config.pages() == afresh
    assert [dataclasses.asdict(p) for p in config.pages()] == [dataclasses.asdict(p) for p in afresh]
    assert config.pages() is not config.pages()  # a list of its own for each caller
    sharded = with_shard(config, parse_shard("1/2"))
    assert sharded.pages() == [p for p in afresh if p.site in {s.name for s in sharded.sites}]


def test_a_site_without_overrides_takes_the_global_defaults_as_validated(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    raw = load_config(path).raw
    for site in raw.sites:
        merged = raw.defaults.model_dump()
        merged.update(site.defaults.model_dump(exclude_none=True))
        assert effective_defaults(raw, site) == Defaults.model_validate(merged)
    assert effective_defaults(raw, raw.sites[0]) is raw.defaults
    assert effective_defaults(raw, raw.sites[1]).verify_tls is False
