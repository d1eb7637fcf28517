"""`monitor config validate`."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli._common import check_words, load
from monitor.cli._options import config_option


@click.group("config")
def config_group() -> None:
    """Work with config.yaml."""


@config_group.command("validate")
@config_option
def config_validate(config_path: Path) -> None:
    """Report every problem in config.yaml with the path of the key; exit 2 if there is one."""
    config = load(config_path)
    check_words(config)
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)
    pages = config.pages()
    click.echo(f"{config_path}: OK — {len(config.sites)} site(s), {len(pages)} page(s), database {config.db_path}")
