"""`--shard K/N` on status, check, report and run: only the shard's sites, in its own database."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from monitor.cli._main import cli
from monitor.store import Store
from tests.test_shard import owned, province


def test_status_and_check_honour_the_shard(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(province(), allow_unicode=True), encoding="utf-8")
    Store.open(tmp_path / "monitor.shard-3-of-3.db", migrate=True).close()
    result = CliRunner().invoke(cli, ["status", "-c", str(path), "--shard", "3/3", "--json"])
    assert result.exit_code == 0, result.output
    assert {site["site"] for site in json.loads(result.output)} == owned(3)[3]
    bad = CliRunner().invoke(cli, ["check", "-c", str(path), "--shard", "5/3"])
    assert bad.exit_code == 2 and "the shard must be 1 to 3" in bad.output
