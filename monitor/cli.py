"""Thin click commands: parse arguments, call the modules, print, choose the exit code."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from monitor import extract as extract_mod

EXIT_OK, EXIT_NOT_UP, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """portal-monitor: availability and content freshness of a government portal."""


@cli.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the extraction as JSON.")
@click.option("--base-url", default="", help="Resolve relative links against this URL (files only).")
def extract(source: str, as_json: bool, base_url: str) -> None:
    """Read the items, dates and columns of one page (a file path)."""
    path = Path(source)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{source}: {exc.strerror or exc}") from None
    result = extract_mod.extract_document(body, base_url=base_url or path.resolve().as_uri(), today=date.today())
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{result.kind.value} ({result.encoding}), {len(result.items)} items, newest {result.newest_date}")
        for item in result.items:
            click.echo(f"  {item.date or '          '}  {item.title}  {item.url}")


def main() -> None:
    try:
        cli.main(standalone_mode=True)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
