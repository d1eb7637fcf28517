"""`monitor digest`: the daily digest, mailed or printed."""

from __future__ import annotations

import time
from pathlib import Path

import click

from monitor.cli._common import EXIT_NOT_UP, database_errors, fail, load, open_store
from monitor.cli._options import config_option, db_option
from monitor.text import printable


@click.command()
@config_option
@db_option
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the plain-text digest instead of mailing it.")
def digest(config_path: Path, db_path: Path | None, to_stdout: bool) -> None:
    """The daily digest: per site the homepage's unreachable visits (last 24 h) and 7-day rate
    with its early-warning state, outages, items published, stale and blank columns, homepage
    broken links and open integrity findings (where those checks run). Mailed to
    the `digest:` recipients of config.yaml (exit 1 when sending fails), or printed with --stdout.
    """
    from monitor.cli._commands import report_for as build
    from monitor.cli._mail import MailError, message, send
    from monitor.report import Selection, build_digest, digest_html, digest_text, parse_period

    config = load(config_path)
    if not to_stdout and config.raw.digest is None:
        fail(f"{config_path}: no digest: section (recipients and SMTP server); use --stdout to print it")
    now = time.time()
    store = open_store(config, readonly=True, path=db_path)
    with database_errors(store.path):
        day, week = (
            build(
                config,
                store,
                parse_period(tz_name=config.raw.timezone, now=now, last=last),
                now,
                Selection(),
                raw=False,
            )
            for last in ("24h", "7d")
        )
        made = build_digest(day, week)
    if to_stdout or config.raw.digest is None:
        click.echo(printable(digest_text(made)), nl=False)
        return
    try:
        send(config.raw.digest, message(config.raw.digest, made.subject, digest_text(made), digest_html(made)))
    except MailError as exc:
        fail(str(exc), EXIT_NOT_UP)
    click.echo(f"digest sent to {', '.join(config.raw.digest.to)}", err=True)
