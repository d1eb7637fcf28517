"""`monitor report` and `monitor db rollup|prune|vacuum` through the real click commands:
every format, the JSON contract, and one clear line with exit 2 for every bad input."""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.history import HistorySpec, generate
from monitor.report_render import CSV_COLUMNS
from monitor.store import Store

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
PAGE_KEYS = {
    "name", "kind", "observed_s", "up_s", "down_s", "blocked_s", "unknown_s", "uptime_ratio", "coverage_ratio",
    "outages", "downtime_s", "longest_outage_s", "mttr_s", "blips", "outage_list",
}  # fmt: skip


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    store = Store.open(root / "monitor.db")
    generate(store, HistorySpec(start=START, days=15, columns=4, seed=5))
    store.close()
    return write_config(root, root / "monitor.db")


def write_config(root: Path, db: Path) -> Path:
    path = root / "config.yaml"
    path.write_text(
        f"storage: {{path: {db}, raw_retention: 10d}}\n"
        "sites:\n  - name: demo\n    title: 示例市交通运输局\n    base_url: http://bureau.example/\n"
        "    pages:\n      - {name: homepage, url: /, kind: homepage}\n"
        "      - {name: xxgk, url: /xxgk/, kind: catalogue}\n",
        encoding="utf-8",
    )
    return path


def db(config: Path, command: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["db", command, "-c", str(config), *args])


def report(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["report", "-c", str(config), "--from", "2018-01-01", "--to", "2018-01-15", *args])


def test_table_and_markdown(config: Path) -> None:
    table = report(config)
    assert table.exit_code == 0, table.output
    assert "homepage" in table.output and "National rule V1" in table.output and "工作动态" in table.output
    markdown = report(config, "--format", "markdown")
    assert "| page | kind | uptime |" in markdown.output


def test_json_has_the_documented_shape(config: Path) -> None:
    data = json.loads(report(config, "--format", "json").output)
    assert set(data["period"]) >= {"from", "to", "until", "timezone"}
    assert data["period"]["until"] == "2018-01-16T00:00:00+08:00"
    site = data["sites"][0]
    assert set(site) >= {"name", "title", "pages", "columns", "national_v1"}
    for page in site["pages"]:
        assert set(page) >= PAGE_KEYS
        assert page["observed_s"] + page["unknown_s"] == pytest.approx(15 * 86400)
        for outage in page["outage_list"]:
            assert set(outage) == {"start", "end", "duration_s", "cause"} and outage["start"].endswith("+08:00")
    assert set(site["columns"][0]) >= {"name", "category", "newest_date", "stale_days", "items_in_period"}
    assert set(site["national_v1"][0]) == {"week_start", "checks", "failed", "ratio", "days_under_20", "state"}
    assert set(site["annual_counts"]) == {"概况类", "政务动态", "信息公开目录"}


def test_csv_has_one_row_per_page(config: Path) -> None:
    rows = list(csv.reader(io.StringIO(report(config, "--format", "csv").output)))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 1 + 6


def test_zh_paragraph_and_custom_template(config: Path, tmp_path: Path) -> None:
    text = report(config, "--format", "zh").output
    assert text.startswith("2018年1月1日至2018年1月15日，") and "可用率为" in text and "监测覆盖率" in text
    template = tmp_path / "t.txt"
    template.write_text("可用率${uptime_pct}，中断${outage_count}次。\n", encoding="utf-8")
    custom = report(config, "--format", "zh", "--template", str(template))
    assert custom.exit_code == 0 and custom.output.startswith("可用率") and "无监测数据" not in custom.output


def test_output_file(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert report(config, "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["sites"][0]["name"] == "demo"


def test_raw_and_rollups_print_the_same(config: Path) -> None:
    assert report(config, "--format", "csv", "--raw").output == report(config, "--format", "csv").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--to", "2017-12-01"), "ends (2017-12-01) before it starts"),
        (("--site", "nope"), "no site named 'nope'"),
        (("--page", "nope"), "no page named 'nope'"),
        (("-o", "/nonexistent/dir/r.txt"), "directory /nonexistent/dir does not exist"),
        (("--template", "/nonexistent.txt"), "--template is used only with --format zh"),
        (("--format", "zh", "--template", "/nonexistent.txt"), "cannot read template"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(config: Path, args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(cli, ["report", "-c", str(config), "--from", "2018-01-01", *args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_bad_dates_and_templates(config: Path, tmp_path: Path) -> None:
    bad_date = CliRunner().invoke(cli, ["report", "-c", str(config), "--from", "2018-02-30"])
    assert bad_date.exit_code == 2 and "--from: expected a date" in bad_date.stderr
    template = tmp_path / "bad.txt"
    template.write_text("${nope}", encoding="utf-8")
    result = report(config, "--format", "zh", "--template", str(template))
    assert result.exit_code == 2 and "unknown placeholder $nope" in result.stderr
    assert result.stderr.count("\n") == 1


def test_missing_database(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"storage: {{path: {tmp_path / 'none.db'}}}\nsites:\n  - name: a\n    title: A\n    base_url: http://a.example/\n"
        "    pages: [{name: h, url: /, kind: homepage}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["report", "-c", str(path), "--year", "2018"])
    assert result.exit_code == 2 and "no such database file" in result.stderr


def test_db_rollup_prune_and_vacuum(config: Path, tmp_path: Path) -> None:
    shutil.copy(config.parent / "monitor.db", tmp_path / "copy.db")
    config = write_config(tmp_path, tmp_path / "copy.db")
    assert "rollups up to date" in db(config, "rollup").output
    dry = db(config, "prune", "--dry-run")
    assert dry.exit_code == 0 and "would delete" in dry.output
    before = report(config, "--format", "json").output
    pruned = db(config, "prune")
    assert pruned.exit_code == 0 and "deleted" in pruned.output
    assert report(config, "--format", "json").output == before
    assert db(config, "vacuum", "--incremental").exit_code == 0
    full = db(config, "vacuum")
    assert full.exit_code == 0 and "VACUUM rewrites" in full.stderr
    store = Store.open(tmp_path / "copy.db")
    store.start_run(time.time(), 1, "t", "h")  # a daemon that is running now
    store.close()
    refused = db(config, "vacuum")
    assert refused.exit_code == 2 and "the daemon is running" in refused.stderr
