"""`monitor sites import FILE.csv`: a spreadsheet of sites into a YAML sites file config.yaml includes.

Each row is name, title, homepage URL, 网站标识码 and, optionally, the catalogue URL (a first row
that is not a site — its third cell no URL — is taken as the header). Every row is checked on its
own, as config.yaml would check it: good rows are written, a bad row is reported with its line
number and left out, never all-or-nothing. A site already in the file (same name) is updated —
title, base URL, 网站标识码, homepage and catalogue — and keeps everything else (its columns,
settings); other sites are left as they are. Discovery then finds each site's columns.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from monitor.config import ConfigError, parse_config

HEADER = "# Sites for config.yaml's `include:`, written by `monitor sites import` (comments are not kept).\n"


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    errors: tuple[str, ...]


def read_rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-empty row, the header row left out."""
    rows = [(n, [cell.strip() for cell in row]) for n, row in enumerate(csv.reader(io.StringIO(text)), start=1)]
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if rows and not (len(rows[0][1]) > 2 and rows[0][1][2].lower().startswith(("http://", "https://"))):
        rows = rows[1:]
    return rows


def site_from_row(cells: list[str]) -> dict[str, Any]:
    """A row as a site of config.yaml (ValueError with the reason when it cannot be one)."""
    if len(cells) < 4 or len(cells) > 5:
        raise ValueError(
            f"expected 4 or 5 cells (name, title, homepage URL, 网站标识码[, catalogue URL]), got {len(cells)}"
        )
    name, title, homepage, code = cells[:4]
    catalogue = cells[4] if len(cells) == 5 else ""
    parts = urlsplit(homepage)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"homepage URL: not an http(s) URL: {homepage!r}")
    pages: list[dict[str, Any]] = [{"name": "首页", "url": homepage, "kind": "homepage"}]
    if catalogue:
        pages.append({"name": "信息公开", "url": catalogue, "kind": "catalogue"})
    site: dict[str, Any] = {"name": name, "title": title, "base_url": f"{parts.scheme}://{parts.netloc}/"}
    if code:
        site["site_code"] = code
    site["pages"] = pages
    parse_config({"sites": [site]})  # every check config.yaml makes (ConfigError otherwise)
    return site


def merge_site(existing: dict[str, Any], imported: dict[str, Any]) -> dict[str, Any]:
    """`existing` with the imported facts: its homepage and catalogue replaced, other pages kept."""
    kept = [p for p in existing.get("pages") or [] if p.get("kind") not in ("homepage", "catalogue")]
    merged = {**existing, **{k: v for k, v in imported.items() if k != "pages"}}
    merged["pages"] = imported["pages"] + kept
    return merged


def import_sites(csv_text: str, into: Path) -> ImportResult:
    """Write the good rows of `csv_text` into the sites file `into` (created if missing)."""
    sites = _existing(into)
    index = {site.get("name"): i for i, site in enumerate(sites) if isinstance(site, dict)}
    added = updated = 0
    errors: list[str] = []
    seen: set[str] = set()
    for line, cells in read_rows(csv_text):
        try:
            site = site_from_row(cells)
        except ConfigError as exc:
            errors += [f"line {line}: {problem.removeprefix('sites[0].')}" for problem in exc.problems]
            continue
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if site["name"] in seen:
            errors.append(f"line {line}: site {site['name']!r} is on an earlier line too")
            continue
        seen.add(site["name"])
        if site["name"] in index:
            sites[index[site["name"]]] = merge_site(sites[index[site["name"]]], site)
            updated += 1
        else:
            index[site["name"]] = len(sites)
            sites.append(site)
            added += 1
    if added or updated:
        _write(into, sites)
    return ImportResult(added, updated, tuple(errors))


def _existing(path: Path) -> list[Any]:
    """The sites already in the file (none when it does not exist)."""
    if not path.exists():
        return []
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict) or not isinstance(document.get("sites", []), list):
        raise ValueError(f"{path}: not a sites file (a mapping with a 'sites:' list)")
    return list(document.get("sites") or [])


def _write(path: Path, sites: list[Any]) -> None:
    """Replace the file in one step (a reader never sees half of it)."""
    text = HEADER + yaml.safe_dump({"sites": sites}, allow_unicode=True, sort_keys=False, width=120)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
