"""`monitor report` and `monitor db rollup|prune|vacuum` through the real click commands:
every format, the JSON contract, and one clear line with exit 2 for every bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli._main import cli
from monitor.report import CSV_COLUMNS
from monitor.sim import HistorySpec, generate
from monitor.store import Store
from tests.support.generated import without_generation_time

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
            assert set(outage) == {"start", "end", "duration_s", "span_s", "partly_unobserved", "cause"} and outage[
                "start"
            ].endswith("+08:00")
    assert set(site["columns"][0]) >= {"name", "category", "newest_date", "stale_days", "items_in_period"}
    assert set(site["national_v1"][0]) == {"week_start", "checks", "failed", "ratio", "days_under_20", "state"}
    assert set(site["annual_counts"]) == {"概况类", "政务动态", "信息公开目录"}


def test_csv_has_one_row_per_page(config: Path) -> None:
    rows = list(csv.reader(io.StringIO(report(config, "--format", "csv").output.removeprefix("\ufeff"))))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 1 + 6


def csv_rows(config: Path, *args: str) -> list[dict[str, str]]:
    text = report(config, "--format", "csv", *args).output
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_csv_separates_visits_from_retries_and_says_its_period(config: Path) -> None:
    """checks/failed_checks mix scheduled visits with the retries that confirm an outage; the new
    columns split them (V1 counts visits) and every row carries the period and time zone."""
    rows = csv_rows(config)
    home = next(row for row in rows if row["page"] == "homepage")
    data = json.loads(report(config, "--format", "json").output)["sites"][0]["pages"]
    weeks = json.loads(report(config, "--format", "json").output)["sites"][0]["national_v1"]
    for row in rows:
        n = {
            k: int(row[k]) for k in ("checks", "failed_checks", "visits", "failed_visits", "retries", "failed_retries")
        }
        assert n["checks"] == n["visits"] + n["retries"] + int(row["error_checks"])
        assert n["failed_checks"] == n["failed_visits"] + n["failed_retries"]
        assert (row["period_from"], row["period_to"], row["timezone"]) == ("2018-01-01", "2018-01-15", "Asia/Shanghai")
        assert row["until"] == "2018-01-16T00:00:00+08:00"
    assert int(home["retries"]) > 0 and int(home["failed_retries"]) > 0
    assert int(home["visits"]) == sum(w["checks"] for w in weeks)
    assert int(home["failed_visits"]) == sum(w["failed"] for w in weeks)
    assert {row["page"]: row["uptime_pct"] for row in rows} == {p["name"]: p["uptime_pct"] for p in data}


def test_csv_starts_with_a_bom_for_excel(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    assert report(config, "--format", "csv", "-o", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbfsite,page,")
    assert "工作动态" in out.read_bytes().decode("utf-8-sig")
    plain = report(config, "--format", "csv", "--no-bom").output
    assert plain.startswith("site,page,")
    assert not report(config, "--format", "json").output.startswith("\ufeff")


def test_a_year_without_data_lists_the_configured_pages(config: Path) -> None:
    args = ["report", "-c", str(config), "--year", "2010", "--format"]
    table = CliRunner().invoke(cli, [*args, "table"])
    assert table.exit_code == 0 and "homepage" in table.output and "xxgk" in table.output
    assert "no data" in table.output
    data = json.loads(CliRunner().invoke(cli, [*args, "json"]).output)
    pages = [(s["name"], p["name"], p["uptime_ratio"], p["uptime_pct"]) for s in data["sites"] for p in s["pages"]]
    # the configured pages and the column discovered later (remembered in the database)
    assert pages == [("demo", n, None, "no data") for n in ("homepage", "xxgk", "机构概况")]
    assert "no data" in CliRunner().invoke(cli, [*args, "markdown"]).output
    assert CliRunner().invoke(cli, [*args, "csv"]).output.count(",no data,") == 3
    assert "无监测数据" in CliRunner().invoke(cli, [*args, "zh"]).output


def test_db_reads_another_file(config: Path, tmp_path: Path) -> None:
    """--db reads a backup copy; the config's own storage.path need not exist."""
    backup = tmp_path / "backup.db"
    shutil.copy(config.parent / "monitor.db", backup)
    elsewhere = write_config(tmp_path, tmp_path / "missing.db")
    without = report(elsewhere, "--format", "json")
    assert without.exit_code == 2 and "no such database file" in without.stderr
    with_db = report(elsewhere, "--format", "json", "--db", str(backup))
    assert with_db.exit_code == 0
    assert without_generation_time(with_db.output) == without_generation_time(report(config, "--format", "json").output)
    status = CliRunner().invoke(cli, ["status", "-c", str(elsewhere), "--db", str(backup), "--json"])
    assert status.exit_code in (0, 1) and json.loads(status.output)[0]["site"] == "demo"
    assert not (tmp_path / "missing.db").exists()


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
    raw, rollups = report(config, "--format", "csv", "--raw").output, report(config, "--format", "csv").output
    assert without_generation_time(raw) == without_generation_time(rollups)


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


def kept_by_rollups(text: str) -> dict[str, object]:
    """The JSON report without what rollups cannot keep: the generation time and the daily
    latency quantiles of the HTML charts, which come from raw checks (docs/reports.md)."""
    data = json.loads(text)
    data.pop("generated")
    for site in data["sites"]:
        for day in site["homepage_days"]:
            day.pop("median_ms")
            day.pop("p95_ms")
    return data


def test_db_rollup_prune_and_vacuum(config: Path, tmp_path: Path) -> None:
    shutil.copy(config.parent / "monitor.db", tmp_path / "copy.db")
    config = write_config(tmp_path, tmp_path / "copy.db")
    assert "rollups up to date" in db(config, "rollup").output
    dry = db(config, "prune", "--dry-run")
    assert dry.exit_code == 0 and "would delete" in dry.output
    before = kept_by_rollups(report(config, "--format", "json").output)
    pruned = db(config, "prune")
    assert pruned.exit_code == 0 and "deleted" in pruned.output
    assert kept_by_rollups(report(config, "--format", "json").output) == before
    assert db(config, "vacuum", "--incremental").exit_code == 0
    full = db(config, "vacuum")
    assert full.exit_code == 0 and "VACUUM rewrites" in full.stderr
    store = Store.open(tmp_path / "copy.db")
    store.start_run(time.time(), 1, "t", "h")  # a daemon that is running now
    store.close()
    refused = db(config, "vacuum")
    assert refused.exit_code == 2 and "the daemon is running" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--year", "1"), "--year 1: reports cover the years 2000 to 2100"),
        (("--year", "9999"), "--year 9999: reports cover"),
        (("--year", "10000"), "--year 10000: reports cover"),
        (("--year", "-5"), "--year -5: reports cover"),
        (("--year", "0"), "--year 0: reports cover"),  # was: silently the last 7 days
        (("--month", "9999-12"), "--month 9999-12: reports cover dates from 2000-01-01 to 2100-12-31"),
        (("--month", "0001-01"), "--month 0001-01: reports cover"),
        (("--from", "0001-01-01"), "--from 0001-01-01: reports cover"),
        (("--from", "2018-01-01", "--to", "9999-12-31"), "--to 9999-12-31: reports cover"),
        (("--last", "1000000d"), "--last 1000000d reaches back before 2000-01-01"),
        (("--last", "100000d"), "--last 100000d reaches back before 2000-01-01"),
    ],
)
def test_periods_out_of_range_are_one_line(config: Path, args: tuple[str, ...], message: str) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["report", "-c", str(config), *args])
    assert (result.exit_code == 2 and result.exception is None) or isinstance(result.exception, SystemExit)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert time.monotonic() - started < 5


def broken_files(tmp_path: Path, good: Path) -> dict[str, Path]:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    text = tmp_path / "text.db"
    text.write_text("not a database\n" * 100, encoding="utf-8")
    truncated = tmp_path / "truncated.db"
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    return {"empty": empty, "text": text, "truncated": truncated}


@pytest.mark.parametrize("command", [("status",), ("report", "--year", "2018"), ("report", "--from", "2018-01-01")])
def test_unusable_database_files_are_one_line(config: Path, tmp_path: Path, command: tuple[str, ...]) -> None:
    good = tmp_path / "good.db"
    source = Store.open(config.parent / "monitor.db", readonly=True)
    source.query(f"VACUUM INTO '{good}'")
    source.close()
    for name, path in broken_files(tmp_path, good).items():
        size = path.stat().st_size
        result = CliRunner().invoke(cli, [*command, "-c", str(config), "--db", str(path)])
        assert result.exit_code == 2, (name, result.output, result.exception)
        assert result.stderr.count("\n") == 1 and str(path) in result.stderr, (name, result.stderr)
        assert path.stat().st_size == size, name  # never created, migrated or written
    assert not (tmp_path / "empty.db-wal").exists()


def test_maintenance_while_another_process_holds_the_lock(config: Path, tmp_path: Path) -> None:
    """db rollup and db vacuum --incremental wait for the lock (10 s), then say so in one line."""
    shutil.copy(config.parent / "monitor.db", tmp_path / "copy.db")
    locked = write_config(tmp_path, tmp_path / "copy.db")
    holder = sqlite3.connect(tmp_path / "copy.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    commands = [["rollup"], ["vacuum", "--incremental"]]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "monitor", "db", *c, "-c", str(locked)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for c in commands
    ]
    try:
        outcomes = [p.communicate(timeout=60) for p in procs]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for proc, (_, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 2 and "Traceback" not in err, err
        assert err.count("\n") == 1 and "database is locked" in err and "another process" in err, err


@pytest.mark.parametrize("name", ["/dev/zero", "directory", "huge"])
def test_template_must_be_a_small_regular_file(config: Path, tmp_path: Path, name: str) -> None:
    huge = tmp_path / "huge.txt"
    huge.write_text("$site_title" * 10_000, encoding="utf-8")
    path = {"/dev/zero": "/dev/zero", "directory": str(tmp_path), "huge": str(huge)}[name]
    result = report(config, "--format", "zh", "--template", path)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "cannot read template" in result.stderr


def test_xlsx_and_html_are_written_to_the_output_file(config: Path, tmp_path: Path) -> None:
    """Issue 15: both file formats need -o (one clear line, exit 2 without it) and say where
    they wrote; the workbook is a zip (xlsx), the page one HTML document with the period."""
    for fmt in ("xlsx", "html"):
        missing = report(config, "--format", fmt)
        assert missing.exit_code == 2 and f"--format {fmt} writes a file: give -o FILE" in missing.output
        out = tmp_path / f"r.{fmt}"
        done = report(config, "--format", fmt, "-o", str(out), "--lang", "en")
        assert done.exit_code == 0, done.output
        assert f"wrote {out}" in done.output
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK"
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "2018-01-01 .. 2018-01-15" in page and "Asia/Shanghai" in page


def test_an_unwritable_xlsx_output_is_one_line(config: Path, tmp_path: Path) -> None:
    result = report(config, "--format", "xlsx", "-o", str(tmp_path / "missing" / "r.xlsx"))
    assert result.exit_code == 2
    assert result.output.strip().endswith("does not exist") and "Traceback" not in result.output
