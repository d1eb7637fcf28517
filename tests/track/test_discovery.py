"""discovery.py: which columns a catalogue lists are monitored (the same-site rule of `monitor.origins`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from monitor.config import RawConfig
from monitor.models import Column, Page, PageKind
from monitor.track import remembered_columns
from monitor.track._discovery import column_page, discovered_pages, excluded, on_site

BASE = "http://127.0.0.1:8000/"


def raw_config(**site: object) -> RawConfig:
    document = {
        "sites": [
            {
                "name": "bureau",
                "title": "某某局",
                "base_url": BASE,
                "pages": [{"name": "catalogue", "url": "/xxgk/", "kind": "catalogue"}],
                **site,
            }
        ]
    }
    return RawConfig.model_validate(document)


@pytest.mark.parametrize(
    ("url", "allowed", "expected"),
    [
        ("http://127.0.0.1:8000/xxgk/gzdt/", [], True),
        ("http://127.0.0.1:9000/admin/", [], False),  # another port of the same host
        ("http://127.0.0.1/admin/", [], False),  # the default port is another port too
        ("https://127.0.0.1:8000/xxgk/", [], False),  # another scheme on a non-default port
        ("http://127.0.0.2:8000/latest/meta-data/iam/", [], False),
        ("http://127.0.0.1:9000/admin/", ["127.0.0.1:9000"], True),  # an explicit host:port entry
        ("http://other.gov.cn/xxgk/", ["other.gov.cn"], True),
        ("http://other.gov.cn:8080/xxgk/", ["other.gov.cn"], False),
        ("javascript:alert(1)", [], False),
    ],
)
def test_on_site_compares_scheme_host_and_port(url: str, allowed: list[str], expected: bool) -> None:
    site = raw_config(allowed_hosts=allowed).sites[0]
    assert on_site(url, site) is expected


def test_https_upgrade_on_default_ports_is_the_same_site() -> None:
    site = raw_config(base_url="http://www.example.gov.cn/").sites[0]
    assert on_site("https://www.example.gov.cn/xxgk/", site)
    assert not on_site("https://www.example.gov.cn:8443/xxgk/", site)


def test_columns_on_another_port_are_not_monitored() -> None:
    raw = raw_config()
    columns = [Column("工作动态", f"{BASE}xxgk/gzdt/"), Column("管理后台", "http://127.0.0.1:9000/admin/")]
    pages = discovered_pages(raw, raw.sites[0], "catalogue", columns)
    assert [page.url for page in pages] == [f"{BASE}xxgk/gzdt/"]


@dataclass(frozen=True)
class Remembered:
    """A page row as the database remembers it (the fields `remembered_columns` reads)."""

    site: str
    name: str
    url: str
    discovered_by: str | None = "catalogue"
    removed: float | None = None


def reference_columns(raw: RawConfig, rows: list[Remembered]) -> list[Page]:
    """`remembered_columns` as it was before the per-site template: every column through
    `column_page` (defaults merged and validated, hosts, headers, the same-site rule) one by one."""
    sites = {s.name: s for s in raw.sites}
    pages = []
    for row in rows:
        site = sites.get(row.site)
        if row.discovered_by is None or row.removed is not None or site is None or not site.discover:
            continue
        if not on_site(row.url, site) or excluded(Column(row.name, row.url), site):
            continue
        if any(p.name == row.name for p in site.pages):
            continue
        if not any(p.name == row.discovered_by and p.kind is PageKind.CATALOGUE for p in site.pages):
            continue
        pages.append(column_page(raw, site, row.name, row.url, row.discovered_by, row.name))
    return pages


def test_remembered_columns_equal_column_page_field_by_field() -> None:
    """A national shard's 20,000 remembered columns are built from a per-site template without
    Page's __init__ (issue 16): each must equal, field by field, the page `column_page` builds —
    with site overrides, pins, excludes, allowed hosts, other origins and URL credentials."""
    document = {
        "defaults": {"headers": {"X-Office": "监测"}, "interval": {"column": "2h"}},
        "sites": [
            {
                "name": "bureau",
                "title": "某某局",
                "base_url": BASE,
                "allowed_hosts": ["other.gov.cn"],
                "defaults": {"timeout": "7s", "verify_tls": False},
                "discovery": {
                    "exclude": ["互动"],
                    "columns": {"通知公告": {"category": "notice", "stale_days": 9, "tags": ["政务动态"]}},
                },
                "pages": [
                    {"name": "homepage", "url": "/", "kind": "homepage"},
                    {"name": "catalogue", "url": "/xxgk/", "kind": "catalogue"},
                ],
            },
            {
                "name": "locked",
                "title": "有密码的局",
                "base_url": "http://user:secret@127.0.0.1:8001/",
                "pages": [{"name": "catalogue", "url": "/xxgk/", "kind": "catalogue"}],
            },
            {
                "name": "quiet",
                "title": "不发现的局",
                "base_url": "http://127.0.0.1:8002/",
                "discover": False,
                "pages": [{"name": "catalogue", "url": "/xxgk/", "kind": "catalogue"}],
            },
        ],
    }
    raw = RawConfig.model_validate(document)
    rows = [
        Remembered("bureau", "通知公告", BASE + "xxgk/tzgg/"),
        Remembered("bureau", "政策文件", BASE + "xxgk/zcwj/"),
        Remembered("bureau", "unnamed-column", BASE + "xxgk/other/"),
        Remembered("bureau", "互动交流", BASE + "hd/"),  # excluded
        Remembered("bureau", "外站", "http://other.gov.cn/xxgk/"),  # an allowed host: another origin
        Remembered("bureau", "别的端口", "http://127.0.0.1:9000/xxgk/"),  # not on the site
        Remembered("bureau", "HTTP大写", "HTTP://127.0.0.1:8000/xxgk/a/"),  # the same origin, spelled otherwise
        Remembered("bureau", "homepage", BASE + "index2/"),  # a configured name
        Remembered("bureau", "旧目录", BASE + "old/", discovered_by="gone"),  # its catalogue left the config
        Remembered("bureau", "已删除", BASE + "removed/", removed=1.0),
        Remembered("bureau", "我的", "http://me:pw@127.0.0.1:8000/xxgk/me/"),  # its own credentials
        Remembered("locked", "工作动态", "http://127.0.0.1:8001/xxgk/gzdt/"),  # the base URL's credentials
        Remembered("quiet", "工作动态", "http://127.0.0.1:8002/xxgk/gzdt/"),
        Remembered("nosuch", "工作动态", "http://127.0.0.1:8003/xxgk/gzdt/"),
    ]
    fast, reference = remembered_columns(raw, rows), reference_columns(raw, rows)
    assert [p.key for p in fast] == [p.key for p in reference]
    assert len(fast) == 7
    for built, expected in zip(fast, reference, strict=True):
        assert dataclasses.asdict(built) == dataclasses.asdict(expected)
        assert built == expected and hash(built) == hash(expected)
    by_name = {p.name: p for p in fast}
    assert by_name["通知公告"].stale_days == 9 and by_name["通知公告"].tags == ("政务动态",)
    assert dict(by_name["工作动态"].headers)["Authorization"].startswith("Basic ")
    assert by_name["我的"].url == "http://127.0.0.1:8000/xxgk/me/"
