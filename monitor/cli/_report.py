"""`monitor report`: a period's report in any format, to stdout or a file."""

from __future__ import annotations

import glob
import os
import stat
import time
from pathlib import Path
from typing import Any

import click

from monitor.cli._common import collector_paused, database_errors, fail, load, open_store
from monitor.cli._options import config_option, shard_option
from monitor.shard import Shard
from monitor.text import printable


@click.command()
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
@collector_paused()
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
            stored = [each.pages(include_removed=True) for each in stores]  # once: report and overview
            selection = Selection(sites, pages)
            if len(stores) > 1:
                built = shards_report_for(config, stores, period, now, selection, raw=raw, lean=overview, stored=stored)
            else:
                built = build(config, store, period, now, selection, raw=raw, lean=overview, stored=stored[0])
            if overview:
                text = render_overview(overview_for(config, stores, built, now, stored), fmt, bom=bom)
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
