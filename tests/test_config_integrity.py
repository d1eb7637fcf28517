"""monitor.config: the `integrity:` section and each site's expected 网站标识码 (issue 13 phase 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.config import ConfigError, integrity_words, parse_config


def minimal(**overrides: Any) -> dict[str, Any]:
    site = {"name": "bureau", "title": "某某局", "base_url": "http://bureau.example/"}
    site["pages"] = [{"name": "home", "url": "/", "kind": "homepage"}]
    return {"sites": [site], **overrides}


def test_defaults_enable_integrity_with_the_shipped_words_hourly() -> None:
    config = parse_config(minimal())
    assert config.raw.integrity.enabled is True
    assert (config.raw.integrity.sweep_interval, config.raw.integrity.change_share) == (3600.0, 0.5)
    assert integrity_words(config) == ""
    assert config.sites[0].site_code == ""


def test_site_code_is_ten_digits_or_bm_and_eight(tmp_path: Path) -> None:
    doc = minimal()
    doc["sites"][0]["site_code"] = " BM12345678 "
    assert parse_config(doc).sites[0].site_code == "bm12345678"
    doc["sites"][0]["site_code"] = "45020001"
    with pytest.raises(ConfigError, match=r"sites\[0\]\.site_code.*10 digits or bm \+ 8 digits"):
        parse_config(doc)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"change_share": 1.5}, r"integrity\.change_share"),
        ({"sweep_interval": "0s"}, r"integrity\.sweep_interval"),
        ({"colour": "red"}, r"integrity\.colour"),
        ({"accepted_domains": ["https://hm.baidu.com/hm.js"]}, r"integrity\.accepted_domains\[0\]: not a domain name"),
        ({"accepted_domains": "hm.baidu.com"}, r"integrity\.accepted_domains"),
    ],
)
def test_bad_integrity_settings_are_one_line_each(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_config(minimal(integrity=section))
    assert all("\n" not in problem for problem in caught.value.problems)


def test_accepted_domains_are_lower_cased_names() -> None:
    config = parse_config(minimal(integrity={"accepted_domains": [" HM.Baidu.com. ", "cdn-partner.com"]}))
    assert config.raw.integrity.accepted_domains == ["hm.baidu.com", "cdn-partner.com"]


def test_word_list_is_relative_to_the_config_file_and_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"integrity\.words: .*words\.txt: no such file"):
        parse_config(minimal(integrity={"words": "words.txt"}), source=tmp_path / "config.yaml")
    (tmp_path / "words.txt").write_text("[gambling]\n博彩\n", encoding="utf-8")
    config = parse_config(minimal(integrity={"words": "words.txt"}), source=tmp_path / "config.yaml")
    assert integrity_words(config) == str(tmp_path.resolve() / "words.txt")
    off = parse_config(minimal(integrity={"words": "gone.txt", "enabled": False}), source=tmp_path / "config.yaml")
    assert off.raw.integrity.enabled is False
