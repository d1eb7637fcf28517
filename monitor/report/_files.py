"""Report formats written to a file: the xlsx workbook and the self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

from monitor.report._build import Report
from monitor.report._html import to_html
from monitor.report._render import default_template, to_zh
from monitor.report._xlsx import write_xlsx


def write_file(report: Report, fmt: str, path: Path, *, lang: str = "zh") -> None:
    """Write the `xlsx` workbook or the `html` page to `path`, with the zh paragraph from the
    packaged template. OSError when the file cannot be written."""
    paragraph = to_zh(report, default_template())
    if fmt == "xlsx":
        write_xlsx(report, path, lang=lang, paragraph=paragraph)
        return
    path.write_text(to_html(report, lang=lang, paragraph=paragraph), encoding="utf-8")
