"""store/_ipv6.py: the IPv6 series (0008_ipv6) written, summed up per site and period, restored for
the metrics, pruned; never in the checks table that V1 and uptime read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.integrity import Ipv6Reading, Ipv6State
from monitor.models import Page, PageKind
from monitor.store import Ipv6CheckRow, PruneIpv6, ipv6_summaries, recent_readings
from monitor.store._store import Store
from monitor.store._writer import WriterSettings

SITES = [("bureau", "某某局", "http://bureau.example/"), ("other", "另一局", "http://other.example/")]
HOME = Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE)
OTHER = Page("other", "home", "http://other.example/", PageKind.HOMEPAGE)
FAST = WriterSettings(linger_s=0.0, retry_min_s=0.01, retry_max_s=0.05)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "monitor.db", writer_settings=FAST)
    s.sync_pages(SITES, [HOME, OTHER], 0.0)
    s.writer.start()
    yield s
    s.close()


def reading(ts: float, state: Ipv6State, **kw: object) -> Ipv6Reading:
    return Ipv6Reading(HOME.url, ts, state, **kw)  # type: ignore[arg-type]


def write(store: Store, site: str, *readings: Ipv6Reading) -> None:
    site_id = store.site_ids()[site]
    store.submit([Ipv6CheckRow(site_id, r) for r in readings])
    assert store.writer.flush()


def test_summary_counts_states_and_keeps_the_latest(store: Store) -> None:
    write(
        store,
        "bureau",
        reading(100.0, Ipv6State.OK, address="2001:db8::1", status=200, consistent=True, content_hash="7"),
        reading(200.0, Ipv6State.DOWN, address="2001:db8::1", error_kind="connect", error="refused"),
        reading(300.0, Ipv6State.OK, address="2001:db8::1", status=200, consistent=False, duration_s=0.5),
        reading(400.0, Ipv6State.UNKNOWN, error_kind="dns", error="timeout"),
    )
    write(store, "other", Ipv6Reading(OTHER.url, 150.0, Ipv6State.NO_IPV6))
    found = ipv6_summaries(store, 0.0, 1000.0)
    bureau = found["bureau"]
    assert (bureau.ok, bureau.down, bureau.no_ipv6, bureau.unknown, bureau.inconsistent) == (2, 1, 0, 1, 1)
    assert bureau.success_ratio == 2 / 3
    assert bureau.latest == reading(400.0, Ipv6State.UNKNOWN, error_kind="dns", error="timeout")
    assert found["other"].latest.state is Ipv6State.NO_IPV6 and found["other"].success_ratio is None
    assert ipv6_summaries(store, 150.0, 250.0, site="bureau")["bureau"].latest.state is Ipv6State.DOWN
    assert ipv6_summaries(store, 500.0, 600.0) == {}


def test_readings_are_not_checks_and_restore_and_prune(store: Store) -> None:
    write(store, "bureau", reading(100.0, Ipv6State.DOWN, error_kind="timeout"), reading(200.0, Ipv6State.OK))
    assert store.query("SELECT count(*) FROM checks")[0][0] == 0
    site_id = store.site_ids()["bureau"]
    assert [r.started_at for r in recent_readings(store, 150.0)[site_id]] == [200.0]
    store.submit([PruneIpv6(250.0, 100.0)])
    assert store.writer.flush()
    assert [r.started_at for r in recent_readings(store, 0.0)[site_id]] == [200.0]


def test_link_sample_is_internal_ok_pages_newest_first(store: Store) -> None:
    from monitor.store import LinkPassRecorded, LinkResultRow, ipv6_link_sample

    def row(path: str, scope: str, rtype: str, link_class: str, at: float) -> LinkResultRow:
        url = "http://bureau.example" + path
        return LinkResultRow(url, scope, rtype, link_class, link_class, 200, None, "", at, 0.1, 0, at, None, 1)

    rows = (
        row("/a", "internal", "page", "ok", 10.0),
        row("/b", "internal", "page", "ok", 20.0),
        row("/c", "internal", "page", "broken", 30.0),
        row("/d.pdf", "internal", "attachment", "ok", 40.0),
        row("/e", "external", "page", "ok", 50.0),
    )
    store.submit([LinkPassRecorded("bureau", "homepage", 5.0, 60.0, True, False, 1, rows)])
    assert store.writer.drain(30)
    assert ipv6_link_sample(store, "bureau", 5) == ["http://bureau.example/b", "http://bureau.example/a"]
    assert ipv6_link_sample(store, "bureau", 1) == ["http://bureau.example/b"]
    assert ipv6_link_sample(store, "bureau", 0) == [] and ipv6_link_sample(store, "other", 5) == []
