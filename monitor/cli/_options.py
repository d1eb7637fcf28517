"""Options several commands share: -c/--config, --shard, --db."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor.shard import Shard, parse_shard

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """`-c/--config PATH` on every command (default ./config.yaml or $MONITOR_CONFIG)."""
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get("MONITOR_CONFIG", "config.yaml"),
        show_default="./config.yaml or $MONITOR_CONFIG",
        help="Path of config.yaml.",
    )(func)


def shard_option(func: F) -> F:
    """`--shard K/N`: only the sites rendezvous hashing gives shard K of N, in that shard's own
    database (overrides the config's `shard:`)."""

    def parse(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Shard | None:
        if value is None:
            return None
        try:
            return parse_shard(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option(
        "--shard",
        callback=parse,
        metavar="K/N",
        default=None,
        help="Only the sites of shard K of N (rendezvous hashing of the site name); its own database.",
    )(func)


def db_option(func: F) -> F:
    """`--db PATH` on the commands that only read the database: read a backup copy (or a file
    anywhere) instead of the config's storage.path, without editing the config."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Read this database file instead of the config's storage.path (e.g. a backup).",
    )(func)
