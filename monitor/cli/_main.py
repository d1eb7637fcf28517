"""The `monitor` click group: it registers one module per command group (_run, _check, _extract,
_status, _findings, _report, _digest, _links, _sites, _db, _config, _demo), and `main`.

Commands are thin: parse arguments, call the packages (or the work modules _commands, _links_work,
_sites_work, _mail), print, choose the exit code (_common: exit codes, one-line errors).
"""

from __future__ import annotations

import click

from monitor import __version__
from monitor.cli._check import check
from monitor.cli._config import config_group
from monitor.cli._db import db_group
from monitor.cli._demo import demo
from monitor.cli._digest import digest
from monitor.cli._extract import discover, extract
from monitor.cli._findings import findings
from monitor.cli._links import links
from monitor.cli._report import report
from monitor.cli._run import run
from monitor.cli._sites import sites_group
from monitor.cli._status import status


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="portal-monitor")
def cli() -> None:
    """portal-monitor: availability and content freshness of a government portal.

    \b
    Quick start:
      monitor config validate        check config.yaml
      monitor check                  probe every page now
      monitor run                    the daemon (metrics on 127.0.0.1:9813)
      monitor status                 national rule verdicts from the recorded history
    """


for command in (
    run,
    check,
    extract,
    discover,
    status,
    findings,
    demo,
    config_group,
    sites_group,
    db_group,
    report,
    digest,
    links,
):
    cli.add_command(command)


def main() -> None:
    cli.main(prog_name="monitor")
