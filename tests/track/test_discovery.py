"""discovery.py: which columns a catalogue lists are monitored (the same-site rule of `monitor.origins`)."""

from __future__ import annotations

import pytest

from monitor.config import RawConfig
from monitor.models import Column
from monitor.track._discovery import discovered_pages, on_site

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
