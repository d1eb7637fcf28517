"""Periods -> reports and status: daily stats, the report model, renderers (table, markdown, json,
csv, zh, xlsx, html) and `monitor status`. Reads the store; never writes. See docs/architecture.md.
"""

from monitor.report._build import Period, Report, ReportError, Selection, build_report, parse_period
from monitor.report._digest import Digest, build_digest, digest_html, digest_text
from monitor.report._files import write_file
from monitor.report._findings import FORMATS as FINDINGS_FORMATS
from monitor.report._findings import render_findings
from monitor.report._merge import merge_reports
from monitor.report._overview import Overview, build_overview, render_overview
from monitor.report._render import CSV_COLUMNS, TemplateError, render
from monitor.report._status import render_status, site_statuses, status_json, vetoed

__all__ = [
    "CSV_COLUMNS",
    "FINDINGS_FORMATS",
    "Digest",
    "Overview",
    "Period",
    "Report",
    "ReportError",
    "Selection",
    "TemplateError",
    "build_digest",
    "build_overview",
    "build_report",
    "digest_html",
    "digest_text",
    "merge_reports",
    "parse_period",
    "render",
    "render_findings",
    "render_overview",
    "render_status",
    "site_statuses",
    "status_json",
    "vetoed",
    "write_file",
]
