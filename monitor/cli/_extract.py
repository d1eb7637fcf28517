"""`monitor extract` and `monitor discover`: read one page, find a site's columns."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime

import click

from monitor.cli._common import fail
from monitor.models import PageKind
from monitor.text import printable


@click.command()
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


@click.command()
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
