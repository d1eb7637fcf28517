"""`monitor findings`, the integrity lines of `monitor status` and the integrity section of every
`monitor report` format, over a real database with stored findings (issue 13 phase 2)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli._main import cli
from monitor.integrity import Finding, Kind, SiteState, Tracked, read_identity
from monitor.models import Page, PageKind
from monitor.store import FindingsTracked, IntegrityStateRow, Store, WriterSettings

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
URL = "http://bureau.example/"
HIDDEN = Finding.make(Kind.HIDDEN_LINK, 85, URL, "display_none", "casino-portal.invalid", '<a href="…">百家乐</a>')
GONE = Finding.make(Kind.HIDDEN_LINK, 85, URL, "off_screen", "old-spam.top", '<a href="…">六合彩</a>')
TAG = Finding.make(Kind.PAGE_TAG, 10, URL, "missing", "SiteIDCode", "<meta name='SiteIDCode'> missing or empty")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("findings")
    store = Store.open(root / "monitor.db", writer_settings=WriterSettings(linger_s=0.0))
    store.sync_pages([("demo", "示例局", URL)], [Page("demo", "homepage", URL, PageKind.HOMEPAGE)], START)
    site = store.site_ids()["demo"]
    identity = read_identity("<p>网站标识码：4502000001 桂ICP备12345678号 主办单位：示例市交通运输局</p>")
    tracked = (
        Tracked(HIDDEN, START, START + 3600),
        Tracked(GONE, START, START, START + 7200),
        Tracked(TAG, START, START),
    )
    store.writer.start()
    store.submit([FindingsTracked(site, tracked), IntegrityStateRow(site, START, SiteState(identity=identity))])
    assert store.writer.flush()
    store.close()
    path = root / "config.yaml"
    path.write_text(
        f"storage: {{path: {root / 'monitor.db'}}}\nsites:\n  - name: demo\n    title: 示例局\n"
        f"    base_url: {URL}\n    pages:\n      - {{name: homepage, url: /, kind: homepage}}\n",
        encoding="utf-8",
    )
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_findings_table_shows_evidence_and_exits_1_on_an_open_high_finding(config: Path) -> None:
    result = run("findings", "-c", str(config))
    assert result.exit_code == 1, result.output
    assert "high hidden_link/display_none  casino-portal.invalid  (open;" in result.output
    assert 'evidence: <a href="…">百家乐</a>' in result.output
    assert "resolved 2018-01-01T02:00:00+08:00" in result.output
    only_open = run("findings", "-c", str(config), "--open")
    assert "old-spam.top" not in only_open.output and "SiteIDCode" in only_open.output


def test_findings_json_and_csv_carry_every_column(config: Path) -> None:
    rows = json.loads(run("findings", "-c", str(config), "--format", "json").output)
    assert {r["target"]: r["resolved"] for r in rows} == {
        "casino-portal.invalid": "",
        "old-spam.top": "2018-01-01T02:00:00+08:00",
        "SiteIDCode": "",
    }
    table = list(csv.DictReader(io.StringIO(run("findings", "-c", str(config), "--format", "csv").output)))
    assert [r["level"] for r in table] == ["high", "low", "high"]  # open high, open low, then resolved
    assert table[0]["evidence"] == '<a href="…">百家乐</a>'


def test_findings_bad_site_is_one_line(config: Path) -> None:
    result = run("findings", "-c", str(config), "--site", "nope")
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "no site 'nope'" in result.output


def test_a_database_from_before_0007_has_no_findings(config: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn, sqlite3.connect(Path(str(config).replace("config.yaml", "monitor.db"))) as src:
        src.backup(conn)
        conn.execute("DROP TABLE integrity_findings")
    result = run("findings", "-c", str(config), "--db", str(old))
    assert (result.exit_code, result.output.strip()) == (0, "no findings")


def test_status_lists_open_findings_and_identity(config: Path) -> None:
    result = run("status", "-c", str(config))
    assert "integrity: 1 high, 1 low open" in result.output
    assert "identity: missing police_record, conac, jiucuo" in result.output
    data = json.loads(run("status", "-c", str(config), "--json").output)
    assert data[0]["integrity"]["open_high"] == 1


def test_every_report_format_has_the_integrity_section(config: Path) -> None:
    period = ["report", "-c", str(config), "--from", "2018-01-01", "--to", "2018-01-02"]
    assert "Integrity and identity" in run(*period).output
    assert "### Integrity and identity" in run(*period, "--format", "markdown").output
    site = json.loads(run(*period, "--format", "json").output)["sites"][0]
    assert [r["target"] for r in site["integrity"]["resolved_in_period"]] == ["old-spam.top"]
    rows = list(csv.DictReader(io.StringIO(run(*period, "--format", "csv").output.lstrip("\ufeff"))))
    assert (rows[0]["integrity_open_high"], rows[0]["identity_missing"]) == ("1", "police_record conac jiucuo")
    zh = run(*period, "--format", "zh").output
    assert (
        "网站标识缺少公安机关备案号、党政机关网站标识、找错入口；现有安全与标识问题2项（高风险1项），其中暗链1处，本期已清除1处。"
        in zh
    )


def test_config_validate_loads_the_integrity_word_list(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("no category header\n", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"storage: {{path: {tmp_path / 'monitor.db'}}}\nintegrity: {{words: words.txt}}\nsites:\n"
        f"  - name: demo\n    title: 示例局\n    base_url: {URL}\n"
        "    pages:\n      - {name: h, url: /, kind: homepage}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["config", "validate", "-c", str(config)])
    assert result.exit_code == 2
    assert result.output.startswith(f"config error: integrity.words: {words.resolve()}: ")
    assert result.output.count("\n") == 1
    words.write_text("[gambling]\n博彩\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["config", "validate", "-c", str(config)]).exit_code == 0
