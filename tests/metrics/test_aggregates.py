"""_aggregates.py: per-site totals in both `metrics.per_page` modes; per-page series only where asked."""

from __future__ import annotations

from datetime import date

import pytest
from prometheus_client.exposition import generate_latest

from monitor.config import ConfigError, parse_config
from monitor.metrics._state import MonitorState, build_registry
from monitor.models import ContentFacts, ErrorKind, FixedClock, Page, PageKind, Result
from tests.metrics.test_metrics import NOW, TZ, Writer, facts
from tests.test_config import minimal

HOME = Page("bureau", "home", "http://bureau.example/", PageKind.HOMEPAGE, interval_s=600)
COLUMNS = [Page("bureau", f"栏目{i}", f"http://bureau.example/c{i}/", PageKind.COLUMN) for i in range(6)]
INSECURE = Page("bureau", "app", "http://bureau.example/app", PageKind.PAGE, verify_tls=False)
OTHER = Page("other", "home", "http://other.example/", PageKind.HOMEPAGE)


def _state() -> MonitorState:
    state = MonitorState(FixedClock(NOW - 3600))
    state.set_pages([HOME, *COLUMNS, INSECURE, OTHER])
    state.record_check(HOME.key, facts(NOW - 60), scheduled=True)
    results = (Result.UP, Result.DOWN, Result.BLOCKED, Result.UP, Result.DOWN)
    for page, result in zip(COLUMNS, results, strict=False):  # the last column is never checked
        kind = ErrorKind.TIMEOUT if result is Result.DOWN else None
        state.record_check(page.key, facts(NOW - 30, result, kind), scheduled=True)
        state.record_content(page.key, ContentFacts(result is not Result.DOWN, date(2026, 11, 1), 3, NOW), 0)
    state.record_outage(COLUMNS[1].key, started=NOW - 90, opened=True)
    state.record_outage(COLUMNS[4].key, started=NOW - 90, opened=True)
    return state


@pytest.mark.parametrize("per_page", ["all", "homepages"])
def test_site_totals_are_the_same_in_both_modes(per_page: str) -> None:
    exporter = build_registry(_state(), clock=FixedClock(NOW), tz=TZ, writer=Writer(), per_page=per_page)  # type: ignore[arg-type]
    reg = exporter.registry
    site = {"site": "bureau"}
    assert reg.get_sample_value("portal_site_pages_checked", site) == 6
    assert reg.get_sample_value("portal_site_pages_up", site) == 3
    assert reg.get_sample_value("portal_site_pages_blocked", site) == 1
    assert reg.get_sample_value("portal_site_outages_active", site) == 2
    assert reg.get_sample_value("portal_site_unreadable_pages", site) == 2
    assert reg.get_sample_value("portal_site_tls_verify_disabled_pages", site) == 1
    assert reg.get_sample_value("portal_site_checks_total", {**site, "result": "down"}) == 2
    assert reg.get_sample_value("portal_site_probe_errors_total", {**site, "error_kind": "timeout"}) == 2
    assert reg.get_sample_value("portal_site_pages_checked", {"site": "other"}) == 0
    # The per-site rule families are computed from every page in both modes.
    assert reg.get_sample_value("portal_site_blank_columns", site) == 0
    assert b"".join(exporter.render()) == generate_latest(reg)


def test_homepages_mode_keeps_per_page_series_of_homepages_only() -> None:
    all_text = generate_latest(build_registry(_state(), clock=FixedClock(NOW), tz=TZ, writer=Writer()).registry)
    exporter = build_registry(_state(), clock=FixedClock(NOW), tz=TZ, writer=Writer(), per_page="homepages")
    text = b"".join(exporter.render()).decode()
    assert 'portal_probe_success{kind="homepage",page="home",site="bureau"} 1.0' in text
    assert 'portal_outage_active{kind="homepage",page="home",site="other"} 0.0' in text
    assert "栏目" not in text and 'page="app"' not in text
    assert "栏目" in all_text.decode()

    def page_samples(t: str) -> int:
        return sum(1 for line in t.splitlines() if 'page="' in line)

    assert page_samples(text) * 3 < page_samples(all_text.decode())


def test_per_page_setting_is_validated() -> None:
    assert parse_config(minimal()).raw.metrics.per_page == "all"
    assert parse_config(minimal(metrics={"per_page": "homepages"})).raw.metrics.per_page == "homepages"
    with pytest.raises(ConfigError, match=r"metrics\.per_page"):
        parse_config(minimal(metrics={"per_page": "columns"}))
