"""Thin click commands: parse arguments, call the modules, print, choose the exit code.

Exit codes: 0 success (all up), 1 something is not up / a rule is violated, 2 bad usage,
bad config or an unusable database. Errors are one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor import __version__
from monitor.config import Config, ConfigError, load_config
from monitor.text import printable

EXIT_OK, EXIT_NOT_UP, EXIT_USAGE = 0, 1, 2
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


def load(config_path: Path) -> Config:
    """Load the config or exit 2 with every problem, one per line."""
    try:
        return load_config(config_path, state_directory=os.environ.get("STATE_DIRECTORY"))
    except ConfigError as exc:
        for problem in exc.problems:
            echo_error(f"config error: {problem}")
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


# -- run -----------------------------------------------------------------------------------------


@cli.command()
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
def run(config_path: Path, log_level: str, log_format: str) -> None:
    """Run the monitoring daemon until SIGTERM or Ctrl-C (SIGHUP reloads config.yaml)."""
    from monitor.check import Fetcher
    from monitor.daemon import GIL_SWITCH_INTERVAL_S, Daemon
    from monitor.logs import setup_logging
    from monitor.models import SystemClock
    from monitor.notify import Notifier
    from monitor.store import StoreError

    setup_logging(log_level, log_format)  # type: ignore[arg-type]
    config = load(config_path)
    for warning in config.warnings:
        logging.getLogger("monitor.config").warning("%s", warning)
    writer_lock = take_writer_lock(config, "run")  # held until the process ends
    store = open_store(config)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # this process is the daemon: see the constant

    async def main() -> int:
        fetcher = Fetcher()
        daemon = Daemon(
            config,
            store=store,
            fetcher=fetcher,
            clock=SystemClock(),
            notifier=Notifier.from_environ(),
            reload_config=functools.partial(
                load_config, config_path, state_directory=os.environ.get("STATE_DIRECTORY")
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


@contextlib.contextmanager
def database_errors(path: Path) -> Iterator[None]:
    """A database that breaks while being read or written (truncated, corrupt, locked by another
    process) is one line and exit 2, never a traceback."""
    try:
        yield
    except sqlite3.Error as exc:
        hint = " (another process holds a lock on it; try again when it is done)" if "locked" in str(exc) else ""
        fail(f"cannot use database {path}: {exc}{hint}")


# -- check ---------------------------------------------------------------------------------------


@cli.command()
@config_option
@click.argument("pages", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of results.")
@click.option(
    "--record",
    is_flag=True,
    help="Also record the checks in the database (like the daemon); refused while a daemon writes to it.",
)
@click.option("--debug", is_flag=True, help="Show each page's effective settings, phases and extraction.")
def check(config_path: Path, pages: tuple[str, ...], as_json: bool, record: bool, debug: bool) -> None:
    """Probe pages now and print one line per page (PAGE: name or site/name; default all).

    Exit status 0 when every page is up, 1 otherwise. Nothing is written unless --record.
    """
    from monitor.cli._commands import check_pages, render_check
    from monitor.store import ONE_SHOT

    config = load(config_path)
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


# -- extract and discover ------------------------------------------------------------------------


@cli.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the extraction as JSON.")
@click.option("--base-url", default="", help="Resolve relative links against this URL (files only).")
@click.option("--item-selector", default=None, help="CSS selector of the items (overrides the heuristics).")
@click.option("--date-selector", default=None, help="CSS selector of the date inside an item.")
def extract(source: str, as_json: bool, base_url: str, item_selector: str | None, date_selector: str | None) -> None:
    """Read the items, dates and columns of one page (a file path or an http(s) URL)."""
    from monitor.cli._commands import extract_source

    try:
        result = extract_source(
            source,
            base_url=base_url,
            today=date.today(),
            item_selector=item_selector,
            date_selector=date_selector,
        )
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        click.echo(printable(json.dumps(result.to_json(), ensure_ascii=False, indent=2)))
        return
    lines = [
        f"{result.kind.value} ({result.encoding}), {len(result.items)} items, newest {result.newest_date}"
        + (f", {result.pages_total} pages" if result.pages_total else "")
    ]
    lines += [f"  {item.date or '          '}  {item.title}  {item.url}" for item in result.items]
    lines += [f"  column  {column.name}  {column.url}" for column in result.columns]
    click.echo(printable("\n".join(lines)))


@cli.command()
@click.argument("url")
@click.option("--yaml", "as_yaml", is_flag=True, help="Print pages: entries ready to paste into config.yaml.")
@click.option(
    "--crawl/--no-crawl",
    default=True,
    show_default=True,
    help="Fetch each column to show its item count and newest date.",
)
def discover(url: str, as_yaml: bool, crawl: bool) -> None:
    """Find a site's columns from its catalogue (or homepage) and guess their categories."""
    from monitor.cli._commands import discover_columns, render_discovery

    try:
        found = asyncio.run(discover_columns(url, crawl=crawl, progress=not as_yaml))
    except ValueError as exc:
        fail(str(exc))
    click.echo(printable(render_discovery(found, as_yaml=as_yaml)))


# -- status and config -----------------------------------------------------------------------------


@cli.command()
@config_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
def status(config_path: Path, db_path: Path | None, as_json: bool) -> None:
    """Per site: the national rules' verdicts, stale and blank columns, homepage visits per day.

    Exit status 1 when any rule is vetoed (a rule without enough evidence yet is "insufficient
    data", never a veto).
    """
    from monitor.report import render_status as render
    from monitor.report import site_statuses, vetoed
    from monitor.report import status_json as to_json

    config = load(config_path)
    store = open_store(config, readonly=True, path=db_path)
    with database_errors(store.path):
        statuses = site_statuses(config, store, datetime.now().timestamp())
    click.echo(printable(json.dumps(to_json(statuses), ensure_ascii=False, indent=2) if as_json else render(statuses)))
    sys.exit(EXIT_NOT_UP if vetoed(statuses) else EXIT_OK)


@cli.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's config.yaml and monitor.db here (default: a new temporary directory).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=30,
    show_default=True,
    help="Days of generated history before the live part.",
)
@click.option(
    "--live",
    "live_s",
    type=click.FloatRange(8, 600),
    default=20.0,
    show_default=True,
    help="Seconds the daemon runs against the simulated portal.",
)
def demo(workdir: Path | None, days: int, live_s: float) -> None:
    """See the whole product in under a minute, with no internet: a simulated bureau portal, a month of
    generated history, the daemon live while the homepage goes down and back, then status and reports."""
    import tempfile

    from monitor.logs import setup_logging
    from monitor.sim import DemoPlan, run_demo

    setup_logging("warning")
    target = workdir or Path(tempfile.mkdtemp(prefix="portal-monitor-demo-"))
    run_demo(DemoPlan(target, days=days, live_s=live_s), click.echo)


@cli.group("config")
def config_group() -> None:
    """Work with config.yaml."""


@config_group.command("validate")
@config_option
def config_validate(config_path: Path) -> None:
    """Report every problem in config.yaml with the path of the key; exit 2 if there is one."""
    config = load(config_path)
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)
    pages = config.pages()
    click.echo(f"{config_path}: OK — {len(config.sites)} site(s), {len(pages)} page(s), database {config.db_path}")


@cli.group("db")
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


# -- reports and database maintenance (monitor.report, monitor.store) ------------------------------


@cli.command()
@config_option
@db_option
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First local date of the period.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last local date, inclusive (default: today).")
@click.option("--year", type=int, help="A calendar year, e.g. 2018 (2000 to 2100).")
@click.option("--month", metavar="YYYY-MM", help="A calendar month, e.g. 2018-12.")
@click.option("--last", metavar="DURATION", help="The last 7d, 24h, 4w ... ending now (default: 7d).")
@click.option("--site", "sites", multiple=True, metavar="SITE", help="Only this site (repeatable).")
@click.option("--page", "pages", multiple=True, metavar="PAGE", help="Only this page, NAME or SITE/NAME (repeatable).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown", "json", "csv", "zh", "xlsx", "html"]),
    default="table",
    show_default=True,
    help="zh: the Chinese paragraph for the 政府信息公开工作年度报告; xlsx and html need -o FILE.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the xlsx and html headers.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@click.option("--template", type=click.Path(path_type=Path), help="string.Template file for --format zh.")
@click.option("--raw", is_flag=True, help="Compute from raw checks only, ignoring rollups (slow; a cross-check).")
@click.option(
    "--bom/--no-bom",
    default=True,
    show_default=True,
    help="Start a CSV with a UTF-8 byte order mark, which Excel needs to read Chinese text.",
)
def report(
    config_path: Path,
    db_path: Path | None,
    date_from: str | None,
    date_to: str | None,
    year: int | None,
    month: str | None,
    last: str | None,
    sites: tuple[str, ...],
    pages: tuple[str, ...],
    fmt: str,
    output: Path | None,
    template: Path | None,
    raw: bool,
    bom: bool,
    lang: str,
) -> None:
    """Uptime, outages, national rule V1 and column freshness for a period of local dates.

    \b
    Examples:
      monitor report --year 2018 --format zh     paragraph for the annual report
      monitor report --month 2018-12 --format markdown
      monitor report --from 2018-01-01 --to 2018-06-30 --site liuzhou-jtj --format json
      monitor report --last 24h --page homepage
      monitor report --year 2018 --format xlsx -o 2018.xlsx   workbook with the 年度报表 sheet
      monitor report --last 30d --format html -o report.html  printable page with charts
    """
    from monitor.cli._commands import report_for as build
    from monitor.report import ReportError, Selection, TemplateError, parse_period, render, write_file

    if fmt in FILE_FORMATS and output is None:
        fail(f"--format {fmt} writes a file: give -o FILE")
    config = load(config_path)
    now = time.time()
    text_template = _read_template(template, fmt)
    _check_writable(output)
    store = open_store(config, readonly=True, path=db_path)
    try:
        period = parse_period(
            tz_name=config.raw.timezone,
            now=now,
            date_from=date_from,
            date_to=date_to,
            year=year,
            month=month,
            last=last,
        )
        with database_errors(store.path):
            built = build(config, store, period, now, Selection(sites, pages), raw=raw)
        if fmt in FILE_FORMATS and output is not None:
            _write_report_file(write_file, built, fmt, output, lang)
            return
        text = render(built, fmt, text_template, bom=bom)
    except ReportError as exc:
        fail(str(exc))
    except TemplateError as exc:
        fail(f"{template or 'template'}: {exc}")
    _emit(text, output)


FILE_FORMATS = ("xlsx", "html")
"""Report formats written only to a file (-o): a workbook, a page with charts."""


def _write_report_file(write: Any, built: Any, fmt: str, output: Path, lang: str) -> None:
    try:
        write(built, fmt, output, lang=lang)
    except OSError as exc:
        fail(f"cannot write {output}: {getattr(exc, 'strerror', None) or exc}")
    click.echo(f"wrote {output}", err=True)


@cli.command()
@config_option
@db_option
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the plain-text digest instead of mailing it.")
def digest(config_path: Path, db_path: Path | None, to_stdout: bool) -> None:
    """The daily digest: per site the homepage's unreachable visits (last 24 h) and 7-day rate
    with its early-warning state, outages, items published, stale and blank columns. Mailed to
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


MAX_TEMPLATE_BYTES = 64 * 1024
"""A zh template is a paragraph or a page of text; anything larger is a mistake (or /dev/zero)."""


def _read_template(path: Path | None, fmt: str) -> str | None:
    """The template's text: a regular file of at most MAX_TEMPLATE_BYTES, in UTF-8."""
    if path is None:
        return None
    if fmt != "zh":
        fail("--template is used only with --format zh")
    try:
        with path.open("rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                fail(f"cannot read template {path}: not a regular file")
            data = file.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            fail(f"cannot read template {path}: larger than {MAX_TEMPLATE_BYTES // 1024} KiB")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read template {path}: {getattr(exc, 'strerror', None) or exc}")
    return None


def _check_writable(output: Path | None) -> None:
    """Refuse an --output we cannot write before spending time on the report."""
    if output is None:
        return
    parent = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        fail(f"cannot write {output}: is a directory")
    if not parent.is_dir():
        fail(f"cannot write {output}: directory {parent} does not exist")
    if not os.access(output if output.exists() else parent, os.W_OK):
        fail(f"cannot write {output}: permission denied")


def _emit(text: str, output: Path | None) -> None:
    text = printable(text)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")


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


def main() -> None:
    cli.main(prog_name="monitor")
