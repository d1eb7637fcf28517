"""metrics/_ipv6.py: AAAA present, the latest IPv6 reading, the 24-hour success ratio and consistency,
per site; nothing exported that would read a host without IPv6 as a failing one."""

from __future__ import annotations

from monitor.integrity import Ipv6Reading, Ipv6State
from monitor.metrics._state import MonitorState
from monitor.models import FixedClock

URL = "http://www.example.gov.cn/"
DAY = 86400.0


def samples(state: MonitorState, now: float) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels["site"]): s.value for family in state.ipv6_families(now) for s in family.samples}


def reading(ts: float, state: Ipv6State, consistent: bool | None = None) -> Ipv6Reading:
    address = "" if state in (Ipv6State.NO_IPV6, Ipv6State.UNKNOWN) else "2001:db8::1"
    return Ipv6Reading(URL, ts, state, address=address, consistent=consistent)


def test_ratio_over_the_last_day_and_latest_state() -> None:
    state = MonitorState(FixedClock())
    readings = [reading(0.0, Ipv6State.DOWN), *(reading(h * 3600.0, Ipv6State.OK, True) for h in range(1, 4))]
    state.apply_ipv6("bureau", [*readings, reading(4 * 3600.0, Ipv6State.DOWN)])
    got = samples(state, 5 * 3600.0)
    assert got[("portal_ipv6_success_ratio_24h", "bureau")] == 3 / 5
    assert got[("portal_ipv6_up", "bureau")] == 0 and got[("portal_ipv6_aaaa_present", "bureau")] == 1
    assert got[("portal_ipv6_consistent", "bureau")] == 1  # the last comparison; a failed read compares nothing
    assert got[("portal_ipv6_last_reading_timestamp_seconds", "bureau")] == 4 * 3600.0
    # A day later the first failure has left the window.
    assert samples(state, DAY + 30.0)[("portal_ipv6_success_ratio_24h", "bureau")] == 3 / 4


def test_no_aaaa_is_not_down_and_a_silent_lookup_changes_nothing() -> None:
    state = MonitorState(FixedClock())
    state.apply_ipv6("bureau", [reading(0.0, Ipv6State.NO_IPV6)])
    got = samples(state, 10.0)
    assert got[("portal_ipv6_aaaa_present", "bureau")] == 0
    assert ("portal_ipv6_up", "bureau") not in got and ("portal_ipv6_success_ratio_24h", "bureau") not in got
    state.apply_ipv6("bureau", [reading(20.0, Ipv6State.UNKNOWN)])
    assert samples(state, 30.0)[("portal_ipv6_aaaa_present", "bureau")] == 0
    assert samples(MonitorState(FixedClock()), 0.0) == {}


def test_internal_links_share_of_the_latest_reading_that_read_some() -> None:
    state = MonitorState(FixedClock())
    with_links = Ipv6Reading(URL, 0.0, Ipv6State.OK, address="2001:db8::1", links_checked=4, links_ok=3)
    state.apply_ipv6("bureau", [with_links, reading(3600.0, Ipv6State.DOWN)])  # down: no links read
    assert samples(state, 3600.0)[("portal_ipv6_internal_links_reachable_ratio", "bureau")] == 0.75
