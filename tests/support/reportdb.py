"""A demo database for the report-format and digest tests: 40 days of generated history of the
demo site (seed 7) up to a fixed clock, and the report of its last 30 days; `add_links_and_findings`
adds homepage link passes, a sweep and integrity findings (the optional 链接可用性 and 安全与标识
data) to such a database."""

from __future__ import annotations

from pathlib import Path

from monitor.integrity import Event, Finding, Kind, SiteState, Tracked, read_identity
from monitor.report import Report, build_report, parse_period
from monitor.sim import HistorySpec, generate
from monitor.store import (
    FindingsTracked,
    IntegrityEvents,
    IntegrityStateRow,
    LinkPassRecorded,
    LinkResultRow,
    Store,
    WriterSettings,
)

NOW = 1_767_225_600 + 200 * 86400
"""2026-07-20 08:00 in Asia/Shanghai: the fixed clock of the generated history and the reports."""
TZ = "Asia/Shanghai"


def demo_db(path: Path, days: int = 40) -> Path:
    """Generate the demo history into `path` (a new SQLite file)."""
    store = Store.open(path)
    try:
        generate(store, HistorySpec(start=NOW - days * 86400, days=days, seed=7))
    finally:
        store.close()
    return path


def demo_report(path: Path, last: str = "30d") -> Report:
    store = Store.open(path, readonly=True)
    try:
        return build_report(store, parse_period(tz_name=TZ, now=NOW, last=last), now=NOW)
    finally:
        store.close()


HOME = "http://bureau.example/"
HIDDEN = Finding.make(Kind.HIDDEN_LINK, 85, HOME, "display_none", "casino-portal.invalid", '<a href="…">百家乐</a>')
GONE = Finding.make(Kind.HIDDEN_LINK, 85, HOME, "off_screen", "old-spam.top", '<a href="…">六合彩</a>')
TAG = Finding.make(Kind.PAGE_TAG, 10, HOME, "missing", "SiteIDCode", "<meta name='SiteIDCode'> missing or empty")


def _link(path: str, link_class: str, at: float, rtype: str = "page") -> LinkResultRow:
    broken = at if link_class == "broken" else None
    return LinkResultRow(HOME + path, "internal", rtype, link_class, link_class, 404, None, "HTTP 404", at, 0.1, 0, at,
                         broken, 1)  # fmt: skip


def _homepage_pass(at: float, broken: tuple[str, ...]) -> LinkPassRecorded:
    rows = [_link(p, "broken", at) for p in broken] + [_link(p, "ok", at) for p in ("a", "b", "c")]
    return LinkPassRecorded("demo", "homepage", at, at + 30, True, False, 1, tuple(sorted(rows, key=lambda r: r.url)))


def add_links_and_findings(path: Path, now: float = NOW) -> Path:
    """Homepage link passes on the three days before `now` (2, 3 then 2 broken: 2.33 a day; 1
    fixed), a sweep two days before, an identity reading, three findings (one open high, one open
    low, one high resolved 23.5 h before `now`) and two events (a new outbound domain, a changed
    title) of the demo site. `now` defaults to the fixed clock (2026-07-20 08:00)."""
    day = 86400.0
    store = Store.open(path, writer_settings=WriterSettings(linger_s=0.0))
    try:
        site = store.site_ids()["demo"]
        sweep = (_link("x", "broken", now - 2 * day), _link("f.pdf", "broken", now - 2 * day, "attachment"),
                 _link("s", "suspect", now - 2 * day), _link("ok", "ok", now - 2 * day))  # fmt: skip
        identity = read_identity("<p>网站标识码：4502000001 桂ICP备12345678号 主办单位：示例市交通运输局</p>")
        tracked = (
            Tracked(HIDDEN, now - 5 * day, now - 3600),
            Tracked(GONE, now - 9 * day, now - 2 * day, now - day + 1800),
            Tracked(TAG, now - 20 * day, now - 3600),
        )
        store.writer.start()
        store.submit([
            _homepage_pass(now - 3 * day + 3600, ("x", "y")),
            _homepage_pass(now - 2 * day + 3600, ("x", "y", "z")),
            _homepage_pass(now - day + 3600, ("x", "z")),
            LinkPassRecorded("demo", "sweep", now - 2 * day, now - 2 * day + 600, True, False, 12, sweep),
            FindingsTracked(site, tracked),
            IntegrityStateRow(site, now - 3600, SiteState(identity=identity)),
            IntegrityEvents(site, now - 4 * day, (Event.make(Kind.NEW_DOMAIN, HOME, "partner.example", "", "x"),
                                                  Event.make(Kind.TITLE_CHANGED, HOME, "title", "旧", "新"))),
        ])  # fmt: skip
        assert store.writer.flush()
    finally:
        store.close()
    return path
