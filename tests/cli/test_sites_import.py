"""`monitor sites import FILE.csv` and config.yaml's `include:`: good rows written, bad rows
reported one by one, never all-or-nothing; problems in an included file name the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli._main import cli
from monitor.config import ConfigError, load_config

CSV = """名称,标题,首页,网站标识码,信息公开目录
jtj,柳州市交通运输局,http://jtj.liuzhou.gov.cn/,4502000010,http://jtj.liuzhou.gov.cn/xxgk/
gaj,柳州市公安局,https://gaj.liuzhou.gov.cn/index.html,bm45000001
bad-url,某局,ftp://x.example/,4502000011
bad-code,某某局,http://y.example/,12345
jtj,重复,http://jtj.example/,4502000012
sfj,柳州市司法局,http://sfj.liuzhou.gov.cn/,
"""


def write_config(root: Path, include: str = "include: [sites.yaml]\n") -> Path:
    config = root / "config.yaml"
    config.write_text(
        include + "sites:\n  - name: main\n    title: 主站\n    base_url: http://main.example/\n"
        "    pages: [{name: home, url: /, kind: homepage}]\n",
        encoding="utf-8",
    )
    return config


def test_import_writes_the_good_rows_and_reports_each_bad_one(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "sites.csv").write_text(CSV, encoding="utf-8-sig")  # Excel's "CSV UTF-8"
    result = CliRunner().invoke(cli, ["sites", "import", "-c", str(config), str(tmp_path / "sites.csv")])
    assert result.exit_code == 1, result.output
    assert "3 sites added, 0 updated, 3 rows left out" in result.output
    assert "line 4: homepage URL: not an http(s) URL: 'ftp://x.example/'" in result.output
    assert "line 5: site_code: a 网站标识码 is 10 digits or bm + 8 digits, got '12345'" in result.output
    assert "line 6: site 'jtj' is on an earlier line too" in result.output
    loaded = load_config(config)
    assert [s.name for s in loaded.sites] == ["main", "jtj", "gaj", "sfj"]
    jtj = loaded.site("jtj")
    assert jtj.site_code == "4502000010" and [p.kind.value for p in jtj.pages] == ["homepage", "catalogue"]
    assert loaded.site("gaj").base_url == "https://gaj.liuzhou.gov.cn/"
    assert any(p.url == "https://gaj.liuzhou.gov.cn/index.html" for p in loaded.pages())


def test_reimport_updates_a_site_and_keeps_what_was_added_by_hand(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    csv_file = tmp_path / "sites.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    CliRunner().invoke(cli, ["sites", "import", "-c", str(config), str(csv_file)])
    sites_file = tmp_path / "sites.yaml"
    document = yaml.safe_load(sites_file.read_text(encoding="utf-8"))
    document["sites"][0]["pages"].append({"name": "通知公告", "url": "/tzgg/", "kind": "column"})
    document["sites"][0]["discover"] = False
    sites_file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    csv_file.write_text("jtj,柳州市交通运输局（新）,http://jtj.liuzhou.gov.cn/,4502000010\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sites", "import", "-c", str(config), str(csv_file)])
    assert result.exit_code == 0 and "0 sites added, 1 updated, 0 rows left out" in result.output
    jtj = load_config(config).site("jtj")
    assert jtj.title == "柳州市交通运输局（新）" and jtj.discover is False
    assert [p.name for p in jtj.pages] == ["首页", "通知公告"]  # the catalogue is gone from the row


def test_import_says_when_config_does_not_include_the_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, include="")
    (tmp_path / "s.csv").write_text("wsj,卫生健康委,http://wsj.example/,4502000013\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sites", "import", "-c", str(config), str(tmp_path / "s.csv")])
    assert result.exit_code == 0 and "add `include: [sites.yaml]`" in result.output


def test_problems_in_an_included_file_name_the_file_and_the_site(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "sites.yaml").write_text(
        "sites:\n"
        "  - {name: ok, title: 好, base_url: 'http://o.example/', pages: [{name: h, url: /, kind: homepage}]}\n"
        "  - {name: main, title: 重名, base_url: 'http://x.example/', pages: [{name: h, url: /, kind: homepage}]}\n"
        "  - {name: nourl, title: 无, pages: [{name: h, url: /, kind: homepage}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    sites = tmp_path / "sites.yaml"
    assert info.value.problems == [f"{sites}: sites[2].base_url: required key is missing"]
    sites.write_text("\n".join(sites.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert info.value.problems == [f"{sites}: sites[1].name: duplicate site name 'main'"]


@pytest.mark.parametrize(
    ("included", "message"),
    [
        (None, "config file not found"),
        ("timezone: UTC\n", "an included file holds only a 'sites:' list (found: timezone)"),
        ("sites: {a: 1}\n", "sites: must be a list of sites"),
        ("sites: [\n", "YAML syntax error"),
    ],
)
def test_bad_included_files_are_one_line_naming_the_file(tmp_path: Path, included: str | None, message: str) -> None:
    config = write_config(tmp_path)
    if included is not None:
        (tmp_path / "sites.yaml").write_text(included, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config)
    (problem,) = info.value.problems
    assert problem.startswith(str(tmp_path / "sites.yaml")) and message in problem
