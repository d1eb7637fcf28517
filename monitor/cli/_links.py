"""`monitor links`: link availability."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from monitor.cli._common import EXIT_NOT_UP, EXIT_OK, database_errors, fail, load, open_store, take_writer_lock
from monitor.cli._options import config_option, db_option
from monitor.config import Config
from monitor.text import printable


@click.command()
@config_option
@db_option
@click.option("--site", "sites", multiple=True, metavar="SITE", help="Only this site (repeatable).")
@click.option("--broken", is_flag=True, help="The fix list: broken links, where they appear, since when.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--sweep", is_flag=True, help="Check the links now and record the pass (a writer, like check --record).")
@click.option("--homepage-only", is_flag=True, help="With --sweep: only the homepage's links (the daily pass).")
def links(
    config_path: Path,
    db_path: Path | None,
    sites: tuple[str, ...],
    broken: bool,
    fmt: str,
    sweep: bool,
    homepage_only: bool,
) -> None:
    """Link availability (链接可用性): the links' current state, the fix list, or a pass now.

    \b
    Examples:
      monitor links --broken                 broken links, where they appear, since when
      monitor links --broken --format csv    the same for a spreadsheet (one row per place)
      monitor links --sweep --site bureau    sweep the site now (progress on a terminal)
      monitor links --sweep --homepage-only  the daily homepage pass, now

    With --broken or --sweep, exit status 1 when broken links are found (or, with --sweep, when a
    pass could not complete: its homepage could not be read).
    """
    from monitor.cli import _links_work

    config = load(config_path)
    chosen = _chosen_sites(config, sites)
    if homepage_only and not sweep:
        fail("--homepage-only is used only with --sweep")
    if sweep:
        if db_path is not None:
            fail("--db reads another database; --sweep records into the config's database")
        writer_lock = take_writer_lock(config, "links --sweep")
        store = open_store(config)
        with database_errors(store.path):
            outcomes = _links_work.sweep_now(config, store, chosen, _links_work.pass_kind(homepage_only), sys.stderr)
        writer_lock.release()
        click.echo(printable("\n".join(_links_work.summary_line(outcome) for outcome in outcomes)))
        failing = any(outcome.counts()["broken"] or outcome.failure for outcome in outcomes)
        sys.exit(EXIT_NOT_UP if failing else EXIT_OK)
    store = open_store(config, readonly=True, path=db_path)
    names = [site.name for site in chosen]
    with database_errors(store.path):
        if broken:
            entries = _links_work.fix_list(config, store, names, time.time())
            click.echo(printable(_links_work.render_fix_list(entries, fmt)))
            sys.exit(EXIT_NOT_UP if entries else EXIT_OK)
        rows = store.links().states(names)
    click.echo(printable(_links_work.render_states(config, rows, fmt)))


def _chosen_sites(config: Config, names: tuple[str, ...]) -> list[Any]:
    """The configured sites named by --site (all by default); exit 2 on an unknown name."""
    known = [site.name for site in config.sites]
    unknown = [name for name in names if name not in known]
    if unknown:
        fail(f"no site named {unknown[0]!r} in the config (known: {', '.join(known)})")
    return [site for site in config.sites if not names or site.name in names]
