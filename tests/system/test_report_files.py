"""`monitor report --format xlsx|html`: the workbook opened by a real spreadsheet program
(LibreOffice converts every sheet back to CSV, as shown) and the page rendered by a real browser
(headless Chromium to PNG and PDF); every figure they show equals `--format json`.

Both tools are Debian packages (libreoffice-calc-nogui, chromium); without them these tests skip
with the reason, or fail under MONITOR_REQUIRE_PROMETHEUS=1 (CI installs them).
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from monitor.percent import pct
from monitor.report import Report, build_report, parse_period, render, write_file
from monitor.sim import HistorySpec, generate
from monitor.store import Store
from tests.support.reportdb import add_links_and_findings, demo_db, demo_report

LO_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
"""Comma, double quote, UTF-8, start at line 1, ..., cells as shown, every sheet to its own file."""
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
)  # fmt: skip
V1_STATES = {"ok": "正常", "warning": "预警", "veto": "单项否决", "insufficient_data": "数据不足"}
SHEETS = ["概况", "页面可用性", "中断记录", "V1 周统计", "栏目更新", "年度报表"]
OPTIONAL_SHEETS = ["链接可用性", "安全与标识"]
ELEMENTS = {"site_code": "网站标识码", "icp": "ICP备案号", "police_record": "公安机关备案号",
            "conac": "党政机关网站标识", "jiucuo": "找错入口", "organiser": "主办单位"}  # fmt: skip
LEVELS = {"high": "高", "low": "低"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, dict[str, Any]]:
    path = demo_db(tmp_path_factory.mktemp("demo") / "monitor.db")
    report = demo_report(path)
    return report, json.loads(render(report, "json"))


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, dict[str, Any]]:
    """The demo database with link passes, a sweep, integrity findings and events added."""
    path = add_links_and_findings(demo_db(tmp_path_factory.mktemp("rich") / "monitor.db"))
    report = demo_report(path)
    return report, json.loads(render(report, "json"))


def tool(name: str, skip: Callable[[str], NoReturn]) -> str:
    found = shutil.which(name)
    if found is None:
        skip(f"{name} is not on PATH (Debian: libreoffice-calc-nogui, chromium)")
    return found


# -- the workbook ---------------------------------------------------------------------------------


def sheets_as_csv(xlsx: Path, soffice: str, workdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet of the workbook as LibreOffice shows it, by sheet name."""
    out = workdir / "csv"
    out.mkdir()
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{workdir}/lo", "--headless", "--convert-to", LO_CSV,
         "--outdir", str(out), str(xlsx)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    found = {}
    for file in out.glob("*.csv"):
        name = file.stem.removeprefix(xlsx.stem + "-")
        found[name] = list(csv.reader(file.read_text(encoding="utf-8").splitlines()))
    return found


def hms(seconds: float | None) -> str:
    """A duration as the [h]:mm:ss format shows it (rounded to the second)."""
    if seconds is None:
        return ""
    total = int(Fraction(str(seconds)) + Fraction(1, 2))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def local(iso: str | None) -> str:
    return "" if iso is None else iso[:19].replace("T", " ")


def expected_pages(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for site in data["sites"]:
        for p in site["pages"]:
            uptime = "" if p["uptime_ratio"] is None else p["uptime_pct"]
            rows.append([
                site["name"], p["name"], p["kind"], uptime, p["coverage_pct"], hms(p["up_s"]), hms(p["down_s"]),
                hms(p["blocked_s"]), hms(p["unknown_s"]), str(p["outages"]), hms(p["longest_outage_s"]),
                hms(p["mttr_s"]), str(p["blips"]), str(p["visits"]), str(p["failed_visits"]),
            ])  # fmt: skip
    return rows


def expected_outages(data: dict[str, Any]) -> list[list[str]]:
    return [
        [site["name"], p["name"], local(o["start"]), local(o["end"]), hms(o["duration_s"]), o["cause"],
         "是" if o["partly_unobserved"] else "否"]
        for site in data["sites"] for p in site["pages"] for o in p["outage_list"]
    ]  # fmt: skip


def expected_v1(data: dict[str, Any]) -> list[list[str]]:
    return [
        [site["name"], w["week_start"], str(w["checks"]), str(w["failed"]),
         pct(Fraction(w["failed"], w["checks"]) if w["checks"] else None, 2, none=""),
         str(w["days_under_20"]), V1_STATES[w["state"]]]
        for site in data["sites"] for w in site["national_v1"]
    ]  # fmt: skip


def column_state(c: dict[str, Any]) -> str:
    if c["stale"] is None:
        return "无监测数据"
    return "空白栏目" if c["blank"] else "超期未更新" if c["stale"] else "正常"


def expected_columns(data: dict[str, Any]) -> list[list[str]]:
    def text(value: object) -> str:
        return "" if value is None else str(value)

    return [
        [site["name"], c["name"], c["category"], text(c["window_days"]), text(c["newest_date"]),
         text(c["stale_days"]), str(c["items_in_period"]), column_state(c)]
        for site in data["sites"] for c in site["columns"]
    ]  # fmt: skip


def expected_annual(data: dict[str, Any]) -> list[list[str]]:
    return [
        [site["name"], r["section"], r["field"], "" if r["value"] is None else str(r["value"])]
        for site in data["sites"]
        for r in site["annual_form"]["rows"]
    ]


def number(value: object, fmt: str = "") -> str:
    return "" if value is None else format(value, fmt)


def when(ts: float | None) -> str:
    """An epoch time of the JSON as the workbook shows it: local time to the second."""
    return "" if ts is None else datetime.fromtimestamp(ts, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")


def expected_links(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for site in data["sites"]:
        if (links := site["links"]) is None:
            continue
        avg = links["homepage_broken_per_day_avg"]
        row = [site["name"], str(links["homepage_days_with_pass"]), "" if avg is None else f"{round(avg, 2):.2f}",
               number(links["homepage_broken_per_day_max"]), links["homepage_broken_max_date"] or ""]  # fmt: skip
        sweep = links["last_sweep"]
        if sweep is None:
            row += [""] * 15
        else:
            classes = [
                str(sweep["by_class"].get(c, 0)) for c in ("broken", "soft_404", "suspect", "blocked", "excluded", "ok")
            ]
            types = [str(sweep["broken_by_type"].get(t, 0)) for t in ("page", "image", "attachment", "other")]
            row += [when(sweep["started"]), when(sweep["ended"]), str(sweep["pages_read"]), str(sweep["links"]),
                    *classes, *types, "是" if sweep["budget_hit"] else "否"]  # fmt: skip
        rows.append([*row, str(links["fixed"])])
    return rows


def expected_integrity(data: dict[str, Any]) -> list[list[str]]:
    """The 安全与标识 rows from the JSON's integrity section: identity, counts, events, findings."""
    rows = []
    for site in data["sites"]:
        s = site["integrity"]
        if s is None or (s["identity"] is None and not (s["open"] or s["resolved_in_period"] or s["events"])):
            continue
        facts = [("网站标识", "网站标识", "尚未检测")] if s["identity"] is None else [
            ("网站标识", ELEMENTS[e], "有" if ok else "缺少") for e, ok in s["identity"].items()
        ]  # fmt: skip
        facts += [("问题统计", "现有问题", len(s["open"])), ("问题统计", "其中高风险", s["open_high"]),
                  ("问题统计", "其中低风险", len(s["open"]) - s["open_high"]),
                  ("问题统计", "本期已解决", len(s["resolved_in_period"]))]  # fmt: skip
        facts += [("本期事件", kind, n) for kind, n in s["events"].items()]
        rows += [[site["name"], a, b, str(c), *[""] * 7] for a, b, c in facts]
        for section, found in (("现有问题", s["open"]), ("本期已解决", s["resolved_in_period"])):
            rows += [
                [site["name"], section, f"{f['kind']}/{f['technique']}", f["target"], LEVELS[f["level"]],
                 str(f["score"]), f["page"], local(f["first_seen"]), local(f["last_seen"]),
                 local(f["resolved"] or None), f["evidence"]]
                for f in found
            ]  # fmt: skip
    return rows


CASES = {
    "页面可用性": expected_pages, "中断记录": expected_outages, "V1 周统计": expected_v1, "栏目更新": expected_columns,
    "年度报表": expected_annual, "链接可用性": expected_links, "安全与标识": expected_integrity,
}  # fmt: skip


def test_the_workbook_opened_by_libreoffice_shows_the_json_figures(
    rich: tuple[Report, dict[str, Any]], tmp_path: Path, tool_unavailable: Callable[[str], NoReturn]
) -> None:
    """Every sheet, the optional 链接可用性 and 安全与标识 included (the demo database with link
    passes and integrity findings added), as LibreOffice shows it, equals the JSON."""
    report, data = rich
    soffice = tool("soffice", tool_unavailable)
    write_file(report, "xlsx", tmp_path / "report.xlsx")
    sheets = sheets_as_csv(tmp_path / "report.xlsx", soffice, tmp_path)
    assert set(sheets) == {*SHEETS, *OPTIONAL_SHEETS}
    cases = CASES
    for name, expected in cases.items():
        rows = sheets[name]
        assert rows[0][0].startswith(f"{name}  2026-06-20 .. 2026-07-20 (Asia/Shanghai)") or name == "年度报表"
        body = [row[: len(rows[1])] for row in rows[2:]]
        assert body == expected(data), name
        assert body, f"{name} has no rows on the demo database"
    overview = {row[0]: row[1] for row in sheets["概况"][2:]}
    assert overview["报告期"] == "2026-06-20 .. 2026-07-20"
    assert overview["时区"] == "Asia/Shanghai"
    assert overview["生成时间"] == local(data["generated"]) == "2026-07-20 08:00:00"
    assert overview["首页可用率"] == data["sites"][0]["pages"][0]["uptime_pct"]
    assert overview["年度报告段落"] == render(report, "zh")
    assert sheets["链接可用性"][2][2] == "2.33"  # (2 + 3 + 2) / 3, rounded as the CSV report rounds it


def test_a_database_without_links_or_findings_has_no_such_sheets(
    demo: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    """The demo history has no link pass and no integrity reading: the two sheets are left out
    (rather than sheets of zeros that look like a clean result), and the JSON agrees."""
    report, data = demo
    assert data["sites"][0]["links"] is None and data["sites"][0]["integrity"]["identity"] is None
    write_file(report, "xlsx", tmp_path / "r.xlsx")
    assert openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames == SHEETS
    assert expected_links(data) == expected_integrity(data) == []


def test_the_workbook_has_real_cells_formats_frozen_headers_and_print_settings(
    demo: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    """Read back with openpyxl: numbers and dates are cells of those types, percentages carry a
    percent format, headers are frozen and repeated, pages are A4 landscape."""
    report, data = demo
    write_file(report, "xlsx", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    pages = book["页面可用性"]
    uptime = pages.cell(row=3, column=4)
    assert isinstance(uptime.value, float) and uptime.number_format == "0.000%"
    assert pages.cell(row=3, column=14).value == data["sites"][0]["pages"][0]["visits"]
    assert pages.freeze_panes == "A3"
    assert pages.print_title_rows == "$1:$2"
    assert pages.page_setup.orientation == "landscape" and pages.page_setup.paperSize == 9
    start = book["中断记录"].cell(row=3, column=3)
    assert start.is_date and start.number_format == "yyyy-mm-dd hh:mm:ss"
    assert pages.column_dimensions["B"].width >= 10  # 2 cells per CJK character (工作动态 = 8 + 2)


def test_the_optional_sheets_have_real_cells_and_the_same_print_settings(
    rich: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, data = rich
    write_file(report, "xlsx", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == SHEETS + OPTIONAL_SHEETS
    links, integrity = book["链接可用性"], book["安全与标识"]
    average = links.cell(row=3, column=3)
    assert average.value == 2.33 and average.number_format == "0.00"
    assert links.cell(row=3, column=5).is_date and links.cell(row=3, column=6).number_format == "yyyy-mm-dd hh:mm:ss"
    assert links.cell(row=3, column=10).value == data["sites"][0]["links"]["last_sweep"]["by_class"]["broken"]
    counts = {row[2].value: row[3].value for row in integrity.iter_rows(min_row=3) if row[1].value == "问题统计"}
    assert counts == {"现有问题": 2, "其中高风险": 1, "其中低风险": 1, "本期已解决": 1}
    first_seen = next(row[7] for row in integrity.iter_rows(min_row=3) if row[1].value == "现有问题")
    assert first_seen.is_date and isinstance(integrity.cell(row=16, column=6).value, int)
    for sheet in (links, integrity):
        assert sheet.freeze_panes == "A3" and sheet.print_title_rows == "$1:$2"
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert integrity.column_dimensions["C"].width >= 18  # 党政机关网站标识: 8 CJK characters


def test_english_headers_with_lang_en(demo: tuple[Report, dict[str, Any]], tmp_path: Path) -> None:
    write_file(demo[0], "xlsx", tmp_path / "en.xlsx", lang="en")
    book = openpyxl.load_workbook(tmp_path / "en.xlsx")
    assert book.sheetnames == ["Overview", "Availability", "Outages", "V1 weeks", "Columns", "Annual form"]
    assert [c.value for c in book["Availability"][2]][:4] == ["Site", "Page", "Kind", "Uptime"]


def test_english_optional_sheets_with_lang_en(rich: tuple[Report, dict[str, Any]], tmp_path: Path) -> None:
    write_file(rich[0], "xlsx", tmp_path / "en.xlsx", lang="en")
    book = openpyxl.load_workbook(tmp_path / "en.xlsx")
    assert book.sheetnames[-2:] == ["Links", "Integrity"]
    assert [c.value for c in book["Links"][2]][:3] == [
        "Site",
        "Days with a homepage pass",
        "Homepage broken per day (avg)",
    ]
    assert [c.value for c in book["Integrity"][2]][:4] == ["Site", "Section", "Item", "Value"]
    rows = [[c.value for c in row[1:5]] for row in book["Integrity"].iter_rows(min_row=3)]
    assert ["Identity", "police_record", "missing", None] in rows and ["Findings", "Open, high", 1, None] in rows
    assert ["Open findings", "hidden_link/display_none", "casino-portal.invalid", "high"] in rows


# -- the page in a browser ------------------------------------------------------------------------


def chromium(browser: str, page: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on `page` with its console logged to stderr (lines with ':CONSOLE')."""
    profile = workdir / f"profile-{len(list(workdir.glob('profile-*')))}"
    return subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args,
         page.as_uri()],
        check=True, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def console_lines(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def png_colours(png: bytes) -> int:
    """Distinct byte values in the decoded (filtered) pixel rows: 1–2 for a blank page."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat = 8, b""
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        if kind == b"IDAT":
            idat += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return len(set(zlib.decompress(idat)))


def chart_marks(dom: str, name: str) -> list[str]:
    """The drawn marks (bars with a height, lines with points) inside one chart."""
    match = re.search(rf'<svg class="chart" data-chart="{name}".*?</svg>', dom, re.S)
    assert match, f"chart {name} missing"
    bars = re.findall(r'<rect [^>]*height="([0-9.]+)"', match.group(0))
    lines = re.findall(r'<polyline points="([^"]+)"', match.group(0))
    return [h for h in bars if float(h) > 0] + lines


def test_the_page_renders_in_chromium_with_charts_and_no_console_errors(
    demo: tuple[Report, dict[str, Any]], tmp_path: Path, tool_unavailable: Callable[[str], NoReturn]
) -> None:
    """PNG and PDF from headless Chromium: no console messages, the four charts drawn with marks,
    and 4 A4 pages for the demo: paragraph with the availability and latency charts, freshness
    and items per month, then the tables (two pages)."""
    browser = tool("chromium", tool_unavailable)
    report, data = demo
    page = tmp_path / "report.html"
    write_file(report, "html", page)
    dom = chromium(browser, page, tmp_path, "--dump-dom")
    assert console_lines(dom) == []
    for name in ("availability", "latency", "freshness", "items"):
        assert chart_marks(dom.stdout, name), f"chart {name} is empty"
    pdf = chromium(browser, page, tmp_path, f"--print-to-pdf={tmp_path / 'r.pdf'}", "--no-pdf-header-footer")
    png = chromium(browser, page, tmp_path, f"--screenshot={tmp_path / 'r.png'}", "--window-size=900,1400")
    assert console_lines(pdf) == console_lines(png) == []
    assert pdf_pages((tmp_path / "r.pdf").read_bytes()) == 4
    assert png_colours((tmp_path / "r.png").read_bytes()) > 50
    bars = len(re.findall(r'<rect [^>]*class="(?:up|down)"', dom.stdout.split('data-chart="latency"')[0]))
    assert bars == sum(1 for d in data["sites"][0]["homepage_days"] if d["uptime_ratio"] is not None)


def test_the_console_check_sees_an_error(tmp_path: Path, tool_unavailable: Callable[[str], NoReturn]) -> None:
    """The check above is not vacuous: a page that logs an error is caught."""
    browser = tool("chromium", tool_unavailable)
    page = tmp_path / "bad.html"
    page.write_text('<script>console.error("boom")</script>', encoding="utf-8")
    assert any("boom" in line for line in console_lines(chromium(browser, page, tmp_path, "--dump-dom")))


def test_the_page_is_self_contained(demo: tuple[Report, dict[str, Any]], tmp_path: Path) -> None:
    """Nothing to fetch: no scripts, external links, images, @import or url(); period, time zone
    and generation time on top; Chinese fonts named before the generic fallback."""
    write_file(demo[0], "html", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<img|@import|url\(|src=|href=", page)
    assert "2026-06-20 .. 2026-07-20" in page and "Asia/Shanghai" in page and "生成时间：2026-07-20 08:00:00" in page
    assert re.search(r'font-family: "Microsoft YaHei".*sans-serif;', page, re.S)
    assert render(demo[0], "zh").split("\n\n")[0] in page


def html_tables(page: str) -> dict[str, list[list[str]]]:
    """Each table's body rows by the sheet name in its heading."""
    found = {}
    for title, body in re.findall(r"<h3>([^<]*)</h3><table>.*?<tbody>(.*?)</tbody>", page, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        cells = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]
        found[title.split("  ")[0].split("（")[0]] = cells
    return found


def test_the_page_tables_show_the_json_figures(rich: tuple[Report, dict[str, Any]], tmp_path: Path) -> None:
    """The page's tables, the link and integrity ones included, equal the JSON as the workbook does."""
    report, data = rich
    write_file(report, "html", tmp_path / "r.html")
    found = html_tables((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert set(found) == {*SHEETS[1:5], "政府网站工作年度报表", *OPTIONAL_SHEETS}
    for name, expected in CASES.items():
        assert found["政府网站工作年度报表" if name == "年度报表" else name] == expected(data), name


def test_every_text_format_says_period_time_zone_and_generation_time(demo: tuple[Report, dict[str, Any]]) -> None:
    """table, markdown and csv carry the period, time zone and generation time of the json; the
    csv rows are the json pages (the zh paragraph names the period in words, see docs)."""
    report, data = demo
    generated = data["generated"]
    assert generated == "2026-07-20T08:00:00+08:00"
    for fmt in ("table", "markdown"):
        head = render(report, fmt).splitlines()[:2]
        assert "2026-06-20 .. 2026-07-20 (Asia/Shanghai)" in head[0] and generated in head[1], fmt
    rows = list(csv.DictReader(render(report, "csv", bom=False).splitlines()))
    pages = data["sites"][0]["pages"]
    assert len(rows) == len(pages)
    for row, page in zip(rows, pages, strict=True):
        assert (row["generated"], row["timezone"], row["period_from"]) == (generated, "Asia/Shanghai", "2026-06-20")
        for key in ("visits", "failed_visits", "outages", "blips", "uptime_pct", "coverage_pct"):
            assert row[key] == str(page[key]), key
    assert render(report, "zh").startswith("2026年6月20日至2026年7月20日")


def test_names_from_the_site_are_escaped_in_the_page(tmp_path: Path) -> None:
    """A site title and column names are the target's text: markup in them is shown, never run."""
    store = Store.open(tmp_path / "m.db")
    generate(store, HistorySpec(start=1_767_225_600, days=2, columns=3, title='<script>alert("x")</script>&amp;'))
    store.close()
    store = Store.open(tmp_path / "m.db", readonly=True)
    try:
        now = 1_767_225_600 + 2 * 86400
        report = build_report(store, parse_period(tz_name="Asia/Shanghai", now=now, last="2d"), now=now)
    finally:
        store.close()
    write_file(report, "html", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;" in page


def test_the_csv_report_and_the_optional_sheets_agree(rich: tuple[Report, dict[str, Any]], tmp_path: Path) -> None:
    """The CSV report's link and integrity columns (homepage row) are the sheets' cells and the JSON's."""
    report, data = rich
    write_file(report, "xlsx", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    links = [c.value for c in book["链接可用性"][3]]
    facts = {(r[1].value, r[2].value): r[3].value for r in book["安全与标识"].iter_rows(min_row=3)}
    home = next(csv.DictReader(render(report, "csv", bom=False).splitlines()))
    site = data["sites"][0]
    assert (
        float(home["links_homepage_broken_avg"]) == links[2] == round(site["links"]["homepage_broken_per_day_avg"], 2)
    )
    assert int(home["links_homepage_broken_max"]) == links[3] == site["links"]["homepage_broken_per_day_max"]
    assert int(home["links_sweep_broken"]) == links[9] == site["links"]["last_sweep"]["by_class"]["broken"]
    assert int(home["links_fixed"]) == links[-1] == site["links"]["fixed"]
    assert int(home["integrity_open_high"]) == facts[("问题统计", "其中高风险")] == site["integrity"]["open_high"]
    assert int(home["integrity_open_low"]) == facts[("问题统计", "其中低风险")] == 1
    missing = [e for e, ok in site["integrity"]["identity"].items() if not ok]
    assert home["identity_missing"].split() == missing
    assert [facts[("网站标识", ELEMENTS[e])] for e in missing] == ["缺少"] * 3
