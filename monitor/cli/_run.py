"""`monitor run`: the daemon."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
from pathlib import Path

import click

from monitor.cli._common import check_words, fail, load, open_store, take_writer_lock
from monitor.cli._options import config_option, shard_option
from monitor.config import load_config
from monitor.shard import Shard


@click.command()
@config_option
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per line (for log shippers).",
)
@shard_option
def run(config_path: Path, log_level: str, log_format: str, shard: Shard | None) -> None:
    """Run the monitoring daemon until SIGTERM or Ctrl-C (SIGHUP reloads config.yaml)."""
    from monitor.check import Fetcher, HostBudget
    from monitor.daemon import GIL_SWITCH_INTERVAL_S, Daemon
    from monitor.links import LinkRunner
    from monitor.logs import setup_logging
    from monitor.models import SystemClock
    from monitor.notify import Notifier
    from monitor.store import StoreError

    setup_logging(log_level, log_format)  # type: ignore[arg-type]
    config = load(config_path, shard)
    check_words(config)
    for warning in config.warnings:
        logging.getLogger("monitor.config").warning("%s", warning)
    writer_lock = take_writer_lock(config, "run")  # held until the process ends
    store = open_store(config)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # this process is the daemon: see the constant

    async def main() -> int:
        clock = SystemClock()
        budget = HostBudget(clock=clock)  # one per host for page and link checks (the runner configures it)
        fetcher = Fetcher(clock=clock, budget=budget)
        daemon = Daemon(
            config,
            store=store,
            fetcher=fetcher,
            clock=clock,
            links=LinkRunner(config, store, clock, budget=budget),
            notifier=Notifier.from_environ(),
            reload_config=functools.partial(
                load_config, config_path, state_directory=os.environ.get("STATE_DIRECTORY"), shard=shard
            ),
        )
        return await daemon.run()

    try:
        code = asyncio.run(main())
    except StoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {config.raw.metrics.listen}: {exc.strerror or exc}")
    writer_lock.release()
    sys.exit(code)
