"""What every command does alike: exit codes, one-line errors (never a traceback), loading the
config, opening the database, taking the writer lock.

Exit codes: 0 success (all up), 1 something is not up / a rule is violated, 2 bad usage,
bad config or an unusable database. Errors are one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from monitor.config import Config, ConfigError, load_config
from monitor.shard import Shard

EXIT_OK, EXIT_NOT_UP, EXIT_USAGE = 0, 1, 2


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a one-shot command that builds hundreds of
    thousands of long-lived objects (a national config, each shard's pages and verdicts): every
    generational pass re-walks them all, which was a third of `monitor report --overview`'s CPU
    at 4 x 25,000 pages (docs/benchmarks.md). Reference counting still frees everything
    acyclic at once; the collector comes back (and collects) when the command is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(config_path: Path, shard: Shard | None = None) -> Config:
    """Load the config (as shard `shard` sees it) or exit 2 with every problem, one per line."""
    try:
        return load_config(config_path, state_directory=os.environ.get("STATE_DIRECTORY"), shard=shard)
    except ConfigError as exc:
        for problem in exc.problems:
            echo_error(f"config error: {problem}")
        sys.exit(EXIT_USAGE)


def check_words(config: Config) -> None:
    """The integrity word list must load (its format is the engine's, so the config alone cannot
    check it): exit 2 with one line naming the key otherwise."""
    from monitor.config import integrity_words
    from monitor.integrity import VocabularyError, load_vocabulary

    words = integrity_words(config)
    if not words or not config.raw.integrity.enabled:
        return
    try:
        load_vocabulary(Path(words))
    except (OSError, VocabularyError) as exc:
        echo_error(f"config error: integrity.words: {words}: {exc}")
        sys.exit(EXIT_USAGE)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    echo_error(f"error: {message}")
    sys.exit(code)


def echo_error(line: str) -> None:
    """One error line on stderr; to the journal with priority 3 (err), as the daemon's log lines carry
    theirs, so `journalctl -p err` shows why a service did not start."""
    from monitor.logs import stderr_is_journal, syslog_priority

    prefix = f"<{syslog_priority(logging.ERROR)}>" if stderr_is_journal(os.environ, sys.stderr) else ""
    click.echo(prefix + line, err=True)


def take_writer_lock(config: Config, holder: str) -> Any:
    """The database's single-writer lock, or exit 2 with one line (see monitor/store/_lock.py)."""
    from monitor.store import LockHeld, acquire

    try:
        return acquire(config.db_path, holder)
    except LockHeld as exc:
        fail(str(exc))
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()  # "read-only file system", as the store's diagnosis says
        fail(f"cannot use database {config.db_path}: its lock file {exc.filename} cannot be created ({reason})")


def open_store(config: Config, *, migrate: bool = True, readonly: bool = False, path: Path | None = None) -> Any:
    """The config's database, or `path` (--db) instead; exit 2 with one line when unusable."""
    from monitor.store import Store, StoreError, WriterSettings

    settings = WriterSettings(max_backlog=config.raw.storage.max_backlog)
    try:
        return Store.open(path or config.db_path, migrate=migrate, readonly=readonly, writer_settings=settings)
    except StoreError as exc:
        fail(str(exc))


@contextlib.contextmanager
def database_errors(path: Path) -> Iterator[None]:
    """A database that breaks while being read or written (truncated, corrupt, locked by another
    process) is one line and exit 2, never a traceback."""
    try:
        yield
    except sqlite3.Error as exc:
        hint = " (another process holds a lock on it; try again when it is done)" if "locked" in str(exc) else ""
        fail(f"cannot use database {path}: {exc}{hint}")
