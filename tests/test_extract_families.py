"""Page families beyond column lists (issue 14): the page's kind reaching the extractor, homepages
read block by block, yearless dates, article metadata boxes, shells — and `monitor extract`'s
`--kind`, `--today` and `--url` options.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.extract import extract
from monitor.models import ExtractKind, PageKind

GOLDEN = Path(__file__).parent / "golden"


def run_extract(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["extract", *args, "--json"], catch_exceptions=True)
    assert result.exit_code == 0, (result.output, result.stderr)
    parsed: dict[str, object] = json.loads(result.output)
    return parsed


SAVED_PAGE = """<!DOCTYPE html>
<!-- saved from url=(0047)https://www.example.gov.cn/col/tzgg/index.shtml -->
<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<ul class="list">
<li><a href="./202310/a1.shtml">关于开展安全生产大检查的通知</a><span>10-09</span></li>
<li><a href="./202310/a2.shtml">市局召开年度工作总结会议</a><span>10-02</span></li>
<li><a href="/col/tzgg/202309/a3.shtml">关于公布示范线路名单的公告</a><span>09-28</span></li>
</ul></body></html>"""


def test_a_saved_page_resolves_links_against_its_saved_from_address(tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    page.write_text(SAVED_PAGE, encoding="utf-8")
    items = run_extract(str(page), "--today", "2023-10-11")["items"]
    assert isinstance(items, list)
    assert [item["url"] for item in items] == [
        "https://www.example.gov.cn/col/tzgg/202310/a1.shtml",
        "https://www.example.gov.cn/col/tzgg/202310/a2.shtml",
        "https://www.example.gov.cn/col/tzgg/202309/a3.shtml",
    ]


def test_relative_links_of_a_file_never_resolve_to_the_local_disk(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(SAVED_PAGE.replace("saved from url", "not saved"), encoding="utf-8")
    items = run_extract(str(page), "--today", "2023-10-11")["items"]
    assert isinstance(items, list) and items
    assert not any(str(item["url"]).startswith("file:") for item in items)
    assert items[0]["url"] == "./202310/a1.shtml"
    explicit = run_extract(str(page), "--today", "2023-10-11", "--url", "http://a.gov.cn/x/")["items"]
    assert isinstance(explicit, list) and explicit[0]["url"] == "http://a.gov.cn/x/202310/a1.shtml"


def test_today_gives_a_saved_page_its_years(tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    page.write_text(SAVED_PAGE, encoding="utf-8")
    result = run_extract(str(page), "--today", "2023-10-11")
    assert result["newest_date"] == "2023-10-09"
    january = run_extract(str(page), "--today", "2024-01-05")
    assert january["newest_date"] == "2023-10-09"  # never read as a date after the day it was fetched


def test_extract_rejects_a_bad_today_and_kind_with_one_line(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(SAVED_PAGE, encoding="utf-8")
    for bad in (["--today", "2023-13-01"], ["--kind", "portal"]):
        result = CliRunner().invoke(cli, ["extract", str(page), *bad], catch_exceptions=True)
        assert result.exit_code == 2 and "Traceback" not in result.output + result.stderr


def test_the_kind_option_reaches_the_extractor(tmp_path: Path) -> None:
    page = tmp_path / "home.html"
    page.write_bytes((GOLDEN / "syn_homepage.html").read_bytes())
    assert run_extract(str(page), "--today", "2024-01-05", "--kind", "homepage")["kind"] == "homepage"
    assert run_extract(str(page), "--today", "2024-01-05", "--kind", "column")["kind"] == "list"


def test_extract_takes_the_configured_kind() -> None:
    text = (GOLDEN / "syn_homepage.html").read_text(encoding="utf-8")
    today = date(2024, 1, 5)
    assert extract(text, today=today, kind=PageKind.HOMEPAGE).kind is ExtractKind.HOMEPAGE
    assert extract(text, today=today).kind is ExtractKind.LIST
