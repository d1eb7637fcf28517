"""`monitor findings`: integrity and identity findings."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli._common import EXIT_NOT_UP, EXIT_OK, database_errors, fail, load, open_store
from monitor.cli._options import config_option, db_option
from monitor.text import printable


@click.command()
@config_option
@db_option
@click.option("--site", default=None, metavar="SITE", help="Only this site.")
@click.option("--open", "open_only", is_flag=True, help="Only findings still open.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
def findings(config_path: Path, db_path: Path | None, site: str | None, open_only: bool, fmt: str) -> None:
    """Integrity and identity findings (hidden links, lapsed domains, cloaking, tampering, 网站标识),
    with their evidence, first and last seen and when they were resolved. Exit status 1 when a
    high finding is open."""
    from monitor.integrity import Level
    from monitor.report import render_findings
    from monitor.store import load_findings

    config = load(config_path)
    if site is not None and site not in {s.name for s in config.sites}:
        fail(f"no site {site!r} in {config_path} (sites: {', '.join(s.name for s in config.sites)})")
    store = open_store(config, readonly=True, path=db_path)
    with database_errors(store.path):
        rows = load_findings(store, site=site, open_only=open_only)
    click.echo(printable(render_findings(rows, fmt, config.timezone)))
    high = any(row.tracked.open and row.tracked.finding.level is Level.HIGH for row in rows)
    sys.exit(EXIT_NOT_UP if high else EXIT_OK)
