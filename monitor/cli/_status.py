"""`monitor status`: the national rules' verdicts per site."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from monitor.cli._common import EXIT_NOT_UP, EXIT_OK, database_errors, load, open_store
from monitor.cli._options import config_option, db_option, shard_option
from monitor.shard import Shard
from monitor.text import printable


@click.command()
@config_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
@shard_option
def status(config_path: Path, db_path: Path | None, as_json: bool, shard: Shard | None) -> None:
    """Per site: the national rules' verdicts, stale and blank columns, homepage visits per day.

    Exit status 1 when any rule is vetoed (a rule without enough evidence yet is "insufficient
    data", never a veto).
    """
    from monitor.report import render_status as render
    from monitor.report import site_statuses, vetoed
    from monitor.report import status_json as to_json

    config = load(config_path, shard)
    store = open_store(config, readonly=True, path=db_path)
    with database_errors(store.path):
        statuses = site_statuses(config, store, datetime.now().timestamp())
    click.echo(printable(json.dumps(to_json(statuses), ensure_ascii=False, indent=2) if as_json else render(statuses)))
    sys.exit(EXIT_NOT_UP if vetoed(statuses) else EXIT_OK)
