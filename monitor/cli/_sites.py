"""`monitor sites import`: a spreadsheet of sites into a sites file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml

from monitor.cli._common import EXIT_NOT_UP, EXIT_OK, echo_error, fail
from monitor.cli._options import config_option


@click.group("sites")
def sites_group() -> None:
    """Sites in bulk: import a spreadsheet into a sites file config.yaml includes."""


@sites_group.command("import")
@config_option
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The sites file to write or update (default: sites.yaml beside config.yaml).",
)
def sites_import(config_path: Path, csv_file: Path, into: Path | None) -> None:
    """Add or update the sites of CSV_FILE (name, title, homepage URL, 网站标识码[, catalogue URL]).

    Each row is checked on its own: good rows are written, bad ones are listed (line number and
    reason) and left out. Exit status 1 when any row was left out.
    """
    from monitor.cli._sites_work import import_sites

    target = into or config_path.parent / "sites.yaml"
    try:
        text = csv_file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{csv_file}: not UTF-8 text (byte {exc.start}); save the spreadsheet as CSV UTF-8")
    try:
        result = import_sites(text, target)
    except (ValueError, OSError, yaml.YAMLError) as exc:
        fail(f"{target}: {exc}")
    for error in result.errors:
        echo_error(f"{csv_file}: {error}")
    click.echo(f"{target}: {result.added} sites added, {result.updated} updated, {len(result.errors)} rows left out")
    if not _includes(config_path, target):
        click.echo(f"add `include: [{target.name}]` to {config_path} to monitor them")
    sys.exit(EXIT_NOT_UP if result.errors else EXIT_OK)


def _includes(config_path: Path, target: Path) -> bool:
    """Whether config.yaml's `include:` names `target` (False when it cannot be read)."""
    try:
        document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    names = document.get("include") if isinstance(document, dict) else None
    names = [names] if isinstance(names, str) else names if isinstance(names, list) else []
    wanted = target.resolve()
    return any(isinstance(n, str) and (config_path.parent / n).resolve() == wanted for n in names)
