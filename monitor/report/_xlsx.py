"""The report as an Excel workbook (`monitor report --format xlsx -o FILE`), with XlsxWriter.

XlsxWriter rather than openpyxl: it only writes, which is all a report needs, it streams rows
(constant memory; a year of 50 pages in well under the 3 s goal), and it writes every print
setting we need (A4 landscape, fit to width, repeated title rows) and number formats directly.
Sheets and cells come from `_sheets` (the same rows as the HTML tables). Writes only `path`.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import xlsxwriter

from monitor.report._build import Report
from monitor.report._sheets import (
    AUTO,
    DATE,
    DATETIME,
    DEC2,
    DURATION,
    INT,
    PCT,
    PCT1,
    PCT2,
    Cell,
    Table,
    auto_kind,
    tables,
)

_NUMBER_FORMATS = {
    PCT: "0.000%",
    PCT1: "0.0%",
    PCT2: "0.00%",
    DURATION: "[h]:mm:ss",
    DATETIME: "yyyy-mm-dd hh:mm:ss",
    DATE: "yyyy-mm-dd",
    INT: "0",
    DEC2: "0.00",
}
_MIN_WIDTH = {DATETIME: 20, DATE: 11, DURATION: 11, PCT: 10, PCT2: 9, PCT1: 8}
MAX_WIDTH = 60
"""Columns wider than this wrap (the overview's paragraph, long column names)."""


def write_xlsx(report: Report, path: Path, *, lang: str, paragraph: str) -> None:
    """Write the workbook to `path` (OSError when it cannot be written)."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": False, "strings_to_numbers": False})
    workbook.set_properties({"title": "portal-monitor report", "comments": _period_text(report)})
    formats = _formats(workbook)
    for table in tables(report, lang, paragraph):
        sheet = workbook.add_worksheet(table.name)
        _write_table(sheet, table, formats)
    try:
        workbook.close()
    except xlsxwriter.exceptions.FileCreateError as exc:
        raise OSError(str(exc.args[0] if exc.args else exc)) from None


def _period_text(report: Report) -> str:
    p = report.period
    return f"{p.first} .. {p.last} ({p.timezone})"


def _formats(workbook: Any) -> dict[str, Any]:
    base = {"font_name": "等线", "font_size": 10, "valign": "top"}
    out = {kind: workbook.add_format({**base, "num_format": fmt}) for kind, fmt in _NUMBER_FORMATS.items()}
    out["text"] = workbook.add_format({**base, "text_wrap": True})
    out["header"] = workbook.add_format({**base, "bold": True, "bg_color": "#DDE5F0", "border": 1, "text_wrap": True})
    out["title"] = workbook.add_format({**base, "bold": True, "font_size": 13})
    return out


def _write_table(sheet: Any, table: Table, formats: dict[str, Any]) -> None:
    """Title in row 1, headers in row 2 (frozen, repeated on every printed page), then the rows."""
    sheet.write_string(0, 0, table.title, formats["title"])
    for col, header in enumerate(table.headers):
        sheet.write_string(1, col, header, formats["header"])
    for row_index, row in enumerate(table.rows, start=2):
        for col, (value, kind) in enumerate(zip(row, table.kinds, strict=True)):
            kind = auto_kind(value) if kind == AUTO else kind
            _write_cell(sheet, row_index, col, value, formats.get(kind, formats["text"]))
    for col, kind in enumerate(table.kinds):
        sheet.set_column(col, col, _width(table, col, kind))
    sheet.freeze_panes(2, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, 1)
    sheet.set_header(f"&L{table.title}")
    sheet.set_footer("&C&P / &N")


def _write_cell(sheet: Any, row: int, col: int, value: Cell, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, fmt)
    else:
        sheet.write_datetime(row, col, value, fmt)


def display_width(text: str) -> int:
    """Spreadsheet character units: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _width(table: Table, col: int, kind: str) -> float:
    texts = [table.headers[col]] + [str(row[col]) for row in table.rows if isinstance(row[col], str | int)]
    widest = max((display_width(text) for text in texts), default=8)
    return min(MAX_WIDTH, max(_MIN_WIDTH.get(kind, 6), widest + 2))
