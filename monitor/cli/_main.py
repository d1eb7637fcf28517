"""Thin click commands: parse arguments, call the modules, print, choose the exit code.

Exit codes: 0 success (all up), 1 something is not up / a rule is violated, 2 bad usage,
bad config or an unusable database. Errors are one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import glob
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
import yaml

from monitor import __version__
from monitor.config import Config, ConfigError, load_config
from monitor.models import PageKind
from monitor.shard import Shard, parse_shard
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


# -- extract and discover ------------------------------------------------------------------------


@cli.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the extraction as JSON.")
@click.option(
    "--url",
    "--base-url",
    "base_url",
    default="",
    help="The page's address, for resolving its links (files only; default: a browser's "
    "'saved from url' comment, else links stay as written).",
)
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in PageKind]),
    default=None,
    help="What the page is for the portal (config `kind`); a homepage is read block by block.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the page was fetched (YYYY-MM-DD), for a page saved earlier; default: today.",
)
@click.option("--item-selector", default=None, help="CSS selector of the items (overrides the heuristics).")
@click.option("--date-selector", default=None, help="CSS selector of the date inside an item.")
def extract(
    source: str,
    as_json: bool,
    base_url: str,
    kind: str | None,
    today: datetime | None,
    item_selector: str | None,
    date_selector: str | None,
) -> None:
    """Read the items, dates and columns of one page (a file path or an http(s) URL)."""
    from monitor.cli._commands import extract_source

    try:
        result = extract_source(
            source,
            base_url=base_url,
            today=today.date() if today else date.today(),
            item_selector=item_selector,
            date_selector=date_selector,
            kind=PageKind(kind) if kind else None,
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
    if result.next_url:
        lines.append(f"  leads to {result.next_url}")
    lines += [
        f"  block  {block.heading or '-'}  {block.items} items, newest {block.newest_date}" for block in result.blocks
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
@shard_option
def status(config_path: Path, db_path: Path | None, as_json: bool, shard: Shard | None) -> None:
    """Per site: the national rules' verdicts, stale and blank columns, homepage visits per day.

    Exit status 1 when any rule is vetoed (a rule without enough evidence yet is "insufficient
    data", never a veto).
    """
    from monitor.report import render_status as render
    from monitor.report import site_statuses, vetoed
    from monitor.report import status_json as to_json

    config = load(config_path, shard)
    store = open_store(config, readonly=True, path=db_path)
    with database_errors(store.path):
        statuses = site_statuses(config, store, datetime.now().timestamp())
    click.echo(printable(json.dumps(to_json(statuses), ensure_ascii=False, indent=2) if as_json else render(statuses)))
    sys.exit(EXIT_NOT_UP if vetoed(statuses) else EXIT_OK)


@cli.command()
@config_option
@db_option
@click.option("--site", default=None, metavar="SITE", help="Only this site.")
@click.option("--open", "open_only", is_flag=True, help="Only findings still open.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
def findings(config_path: Path, db_path: Path | None, site: str | None, open_only: bool, fmt: str) -> None:
    """Integrity and identity findings (hidden links, lapsed domains, cloaking, tampering, 网站标识),
    with their evidence, first and last seen and when they were resolved. Exit status 1 when a
    high finding is open."""
    from monitor.integrity import Level
    from monitor.report import render_findings
    from monitor.store import load_findings

    config = load(config_path)
    if site is not None and site not in {s.name for s in config.sites}:
        fail(f"no site {site!r} in {config_path} (sites: {', '.join(s.name for s in config.sites)})")
    store = open_store(config, readonly=True, path=db_path)
    with database_errors(store.path):
        rows = load_findings(store, site=site, open_only=open_only)
    click.echo(printable(render_findings(rows, fmt, config.timezone)))
    high = any(row.tracked.open and row.tracked.finding.level is Level.HIGH for row in rows)
    sys.exit(EXIT_NOT_UP if high else EXIT_OK)


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
    check_words(config)
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)
    pages = config.pages()
    click.echo(f"{config_path}: OK — {len(config.sites)} site(s), {len(pages)} page(s), database {config.db_path}")


@cli.group("sites")
def sites_group() -> None:
    """Sites in bulk: import a spreadsheet into a sites file config.yaml includes."""


@sites_group.command("import")
@config_option
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The sites file to write or update (default: sites.yaml beside config.yaml).",
)
def sites_import(config_path: Path, csv_file: Path, into: Path | None) -> None:
    """Add or update the sites of CSV_FILE (name, title, homepage URL, 网站标识码[, catalogue URL]).

    Each row is checked on its own: good rows are written, bad ones are listed (line number and
    reason) and left out. Exit status 1 when any row was left out.
    """
    from monitor.cli._sites import import_sites

    target = into or config_path.parent / "sites.yaml"
    try:
        text = csv_file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{csv_file}: not UTF-8 text (byte {exc.start}); save the spreadsheet as CSV UTF-8")
    try:
        result = import_sites(text, target)
    except (ValueError, OSError, yaml.YAMLError) as exc:
        fail(f"{target}: {exc}")
    for error in result.errors:
        echo_error(f"{csv_file}: {error}")
    click.echo(f"{target}: {result.added} sites added, {result.updated} updated, {len(result.errors)} rows left out")
    if not _includes(config_path, target):
        click.echo(f"add `include: [{target.name}]` to {config_path} to monitor them")
    sys.exit(EXIT_NOT_UP if result.errors else EXIT_OK)


def _includes(config_path: Path, target: Path) -> bool:
    """Whether config.yaml's `include:` names `target` (False when it cannot be read)."""
    try:
        document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    names = document.get("include") if isinstance(document, dict) else None
    names = [names] if isinstance(names, str) else names if isinstance(names, list) else []
    wanted = target.resolve()
    return any(isinstance(n, str) and (config_path.parent / n).resolve() == wanted for n in names)


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
@click.option(
    "--db",
    "db_paths",
    multiple=True,
    metavar="FILE",
    help="Read this database instead of storage.path; repeat it (or give a glob) to merge shard databases.",
)
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
@click.option(
    "--overview",
    is_flag=True,
    help="The supervisor's overview of all sites: passing/failing V1-V3, failing sites, worst sites (zh: a 通报).",
)
@shard_option
def report(
    config_path: Path,
    db_paths: tuple[str, ...],
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
    overview: bool,
    shard: Shard | None,
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
    from monitor.cli._commands import overview_for, shards_report_for
    from monitor.cli._commands import report_for as build
    from monitor.report import (
        ReportError,
        Selection,
        TemplateError,
        parse_period,
        render,
        render_overview,
        write_file,
    )

    if fmt in FILE_FORMATS and output is None:
        fail(f"--format {fmt} writes a file: give -o FILE")
    config = load(config_path, shard)
    now = time.time()
    text_template = _read_template(template, fmt)
    _check_writable(output)
    paths = _database_paths(db_paths)
    stores = (
        [open_store(config, readonly=True, path=path) for path in paths]
        if paths
        else [open_store(config, readonly=True)]
    )
    store = stores[0]
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
            if len(stores) > 1:
                built = shards_report_for(config, stores, period, now, Selection(sites, pages), raw=raw, lean=overview)
            else:
                built = build(config, store, period, now, Selection(sites, pages), raw=raw, lean=overview)
            if overview:
                text = render_overview(overview_for(config, stores, built, now), fmt, bom=bom)
        if fmt in FILE_FORMATS and output is not None and not overview:
            _write_report_file(write_file, built, fmt, output, lang)
            return
        if not overview:
            text = render(built, fmt, text_template, bom=bom)
    except ReportError as exc:
        fail(str(exc))
    except TemplateError as exc:
        fail(f"{template or 'template'}: {exc}")
    _emit(text, output)


_SIDE_FILES = ("-wal", "-shm", "-journal", ".lock")
"""SQLite's and the writer lock's files beside a database: a glob never picks them."""


def _database_paths(specs: tuple[str, ...]) -> list[Path]:
    """`--db` values as files: a value with * ? or [ is a glob (sorted; matching nothing is an
    error; SQLite's side files are skipped), anything else a file name. The same file twice is read once."""
    paths: list[Path] = []
    for spec in specs:
        if any(c in spec for c in "*?["):
            found = sorted(Path(p) for p in glob.glob(os.path.expanduser(spec)))
            matched = [p for p in found if not p.name.endswith(_SIDE_FILES)]
            if not matched:
                fail(f"--db {spec}: no file matches")
            paths += matched
        else:
            paths.append(Path(spec))
    return list(dict.fromkeys(paths))


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


# -- links (issue 12) ------------------------------------------------------------------------------


@cli.command()
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
    from monitor.cli import _links

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
            outcomes = _links.sweep_now(config, store, chosen, _links.pass_kind(homepage_only), sys.stderr)
        writer_lock.release()
        click.echo(printable("\n".join(_links.summary_line(outcome) for outcome in outcomes)))
        failing = any(outcome.counts()["broken"] or outcome.failure for outcome in outcomes)
        sys.exit(EXIT_NOT_UP if failing else EXIT_OK)
    store = open_store(config, readonly=True, path=db_path)
    names = [site.name for site in chosen]
    with database_errors(store.path):
        if broken:
            entries = _links.fix_list(config, store, names, time.time())
            click.echo(printable(_links.render_fix_list(entries, fmt)))
            sys.exit(EXIT_NOT_UP if entries else EXIT_OK)
        rows = store.links().states(names)
    click.echo(printable(_links.render_states(config, rows, fmt)))


def _chosen_sites(config: Config, names: tuple[str, ...]) -> list[Any]:
    """The configured sites named by --site (all by default); exit 2 on an unknown name."""
    known = [site.name for site in config.sites]
    unknown = [name for name in names if name not in known]
    if unknown:
        fail(f"no site named {unknown[0]!r} in the config (known: {', '.join(known)})")
    return [site for site in config.sites if not names or site.name in names]


def main() -> None:
    cli.main(prog_name="monitor")
