"""`monitor check`: probe pages now."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from monitor.cli._common import EXIT_NOT_UP, EXIT_OK, fail, load, open_store, take_writer_lock
from monitor.cli._options import config_option, shard_option
from monitor.config import Config
from monitor.shard import Shard
from monitor.text import printable


@click.command()
@config_option
@click.argument("pages", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of results.")
@click.option(
    "--record",
    is_flag=True,
    help="Also record the checks in the database (like the daemon); refused while a daemon writes to it.",
)
@click.option("--debug", is_flag=True, help="Show each page's effective settings, phases and extraction.")
@shard_option
def check(
    config_path: Path, pages: tuple[str, ...], as_json: bool, record: bool, debug: bool, shard: Shard | None
) -> None:
    """Probe pages now and print one line per page (PAGE: name or site/name; default all).

    Exit status 0 when every page is up, 1 otherwise. Nothing is written unless --record.
    """
    from monitor.cli._commands import check_pages, render_check
    from monitor.store import ONE_SHOT

    config = load(config_path, shard)
    selected = select_pages(config, pages)
    writer_lock = take_writer_lock(config, ONE_SHOT) if record else None
    store = open_store(config) if record else None
    outcomes = asyncio.run(check_pages(config, selected, store))
    if writer_lock is not None:
        writer_lock.release()
    click.echo(printable(render_check(outcomes, as_json=as_json, debug=debug)))
    sys.exit(EXIT_OK if all(o.result.value == "up" for o in outcomes) else EXIT_NOT_UP)


def select_pages(config: Config, names: tuple[str, ...]) -> list[Any]:
    pages = config.pages()
    if not names:
        return pages
    chosen = []
    for name in names:
        match = [p for p in pages if name in (p.name, f"{p.site}/{p.name}")]
        if not match:
            known = ", ".join(f"{p.site}/{p.name}" for p in pages)
            fail(f"no page named {name!r} in the config (known: {known})")
        chosen += [p for p in match if p not in chosen]
    return chosen
