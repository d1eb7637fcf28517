"""Link metrics: the run of broken passes keeps its start, a cut-short pass sets completed 0, a
restart restores the story from the stored passes, and no sample carries a URL."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from monitor.metrics import LinkMetrics
from monitor.store import LinkPassRecorded, LinkPassStarted, LinkResultRow, Store


def row(url: str, link_class: str, at: float) -> LinkResultRow:
    return LinkResultRow(url, "internal", "page", link_class, link_class, 404, None, "", at, 0.1, 0, at, None, 1)


def exposition(metrics: LinkMetrics) -> str:
    registry = CollectorRegistry()
    registry.register(metrics)
    return generate_latest(registry).decode()


def test_broken_since_spans_consecutive_broken_passes_and_resets_when_fixed() -> None:
    metrics = LinkMetrics()
    metrics.passed("jtj", "homepage", {"ok": 5, "broken": 2}, 1000.0, 1010.0)
    metrics.passed("jtj", "homepage", {"ok": 5, "broken": 1}, 87400.0, 87405.0)
    text = exposition(metrics)
    assert 'portal_link_broken_since_timestamp_seconds{kind="homepage",site="jtj"} 1000.0' in text
    assert 'portal_links{kind="homepage",result="broken",site="jtj"} 1.0' in text
    assert 'portal_link_pass_duration_seconds{kind="homepage",site="jtj"} 5.0' in text
    assert 'portal_link_checks_total{kind="homepage",site="jtj"} 13.0' in text
    metrics.passed("jtj", "homepage", {"ok": 6}, 173800.0, 173801.0)
    text = exposition(metrics)
    assert "portal_link_broken_since_timestamp_seconds{" not in text
    assert 'portal_links{kind="homepage",result="soft_404",site="jtj"} 0.0' in text  # every class
    assert "http" not in text.replace("# HELP", "")  # no URL anywhere


def test_a_failed_pass_sets_completed_to_zero_and_keeps_the_last_counts() -> None:
    metrics = LinkMetrics()
    metrics.passed("jtj", "sweep", {"ok": 50, "broken": 3}, 0.0, 60.0)
    metrics.failed("jtj", "sweep")
    text = exposition(metrics)
    assert 'portal_link_pass_completed{kind="sweep",site="jtj"} 0.0' in text
    assert 'portal_links{kind="sweep",result="broken",site="jtj"} 3.0' in text


def test_restore_reads_the_stored_passes_including_one_cut_short(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db")
    store.sync_pages([("jtj", "局", "http://jtj.example/")], [], 0.0)
    ops = [
        LinkPassRecorded("jtj", "sweep", 100.0, 160.0, True, False, 3, (row("http://jtj.example/a", "broken", 100),)),
        LinkPassStarted("jtj", "sweep", 90000.0),
        LinkPassRecorded("jtj", "homepage", 200.0, 201.0, True, False, 1, (row("http://jtj.example/b", "ok", 200),)),
    ]
    store.writer.start()
    store.submit(ops)
    assert store.writer.flush()
    metrics = LinkMetrics()
    metrics.restore(store, ["jtj", "gone"])
    text = exposition(metrics)
    assert 'portal_link_pass_completed{kind="sweep",site="jtj"} 0.0' in text
    assert 'portal_link_broken_since_timestamp_seconds{kind="sweep",site="jtj"} 100.0' in text
    assert 'portal_link_pass_completed{kind="homepage",site="jtj"} 1.0' in text
    assert 'site="gone"' not in text
