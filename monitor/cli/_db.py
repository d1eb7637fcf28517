"""`monitor db migrate|rollup|prune|vacuum`: database maintenance."""

from __future__ import annotations

import time
from pathlib import Path

import click

from monitor.cli._common import database_errors, fail, load, open_store
from monitor.cli._options import config_option


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("migrate")
@config_option
def db_migrate(config_path: Path) -> None:
    """Create the database or apply pending schema migrations."""
    from monitor.store import StoreError, migrate_file

    config = load(config_path)
    try:
        applied = migrate_file(config.db_path)
    except StoreError as exc:
        fail(str(exc))
    click.echo(f"{config.db_path}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


@db_group.command("rollup")
@config_option
def db_rollup(config_path: Path) -> None:
    """Bring hourly and daily rollups up to date now (the daemon does it every minute)."""
    from monitor.store import RollupTick

    config = load(config_path)
    store = open_store(config)
    with database_errors(config.db_path):
        steps = store.run_task(RollupTick(time.time(), config.raw.timezone))
    click.echo(f"{config.db_path}: rollups up to date ({len(steps)} steps, longest {max(steps) * 1000:.0f} ms)")


@db_group.command("prune")
@config_option
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
def db_prune(config_path: Path, dry_run: bool) -> None:
    """Delete raw checks older than storage.raw_retention whose hours are rolled up.

    Rollups, outages, blips, items and runs are kept forever, so reports over pruned periods
    give the same numbers. Runs in small steps: the daemon may keep running.
    """
    from monitor.store import Prune

    config = load(config_path)
    store = open_store(config)
    now, retention = time.time(), config.raw.storage.raw_retention
    candidates = store.prune_candidates(now, retention)
    rows = sum(c.rows for c in candidates)
    older = f"older than {retention / 86400:g} days"
    if dry_run:
        click.echo(f"{config.db_path}: would delete {rows} raw checks {older} from {len(candidates)} pages")
        return
    with database_errors(config.db_path):
        steps = store.run_task(Prune(now, retention))
        size, pages, free = store.file_pages()
    click.echo(
        f"{config.db_path}: deleted {rows} raw checks {older} in {len(steps)} steps"
        f" (longest {max(steps) * 1000:.0f} ms); file {size * pages / 1e6:.1f} MB, {free} free pages"
    )


@db_group.command("vacuum")
@config_option
@click.option("--incremental", is_flag=True, help="Return free pages in small steps, online (daemon may run).")
@click.option("--force", is_flag=True, help="Run a full VACUUM even though the daemon seems to be running.")
def db_vacuum(config_path: Path, incremental: bool, force: bool) -> None:
    """Shrink the database file.

    A full VACUUM rewrites the whole file; the daemon's writes wait until it is done, so stop the
    daemon first, or use --incremental to give back free pages in small steps while it runs.
    """
    from monitor.store import IncrementalVacuum

    config = load(config_path)
    store = open_store(config)
    with database_errors(config.db_path):
        size, before, _ = store.file_pages()
        if incremental:
            store.run_task(IncrementalVacuum())
        else:
            if store.daemon_running(time.time()) and not force:
                fail("the daemon is running: stop it first, or use --incremental (or --force to vacuum anyway)")
            click.echo("warning: VACUUM rewrites the whole database; writers wait until it is done", err=True)
            store.vacuum()
        _, after, free = store.file_pages()
    click.echo(f"{config.db_path}: {size * before / 1e6:.1f} MB -> {size * after / 1e6:.1f} MB ({free} free pages)")
