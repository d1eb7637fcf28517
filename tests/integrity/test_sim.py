"""The simulated portal's `hidden_links` fault, read back through a real local HTTP exchange."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from monitor.extract import decode
from monitor.integrity import Domains, Kind, Level, Vocabulary, inspect_page
from monitor.models import FixedClock
from monitor.sim import HIDDEN_LINK_TARGET, Fault, SimPortal


@pytest.fixture(scope="module")
def sim() -> Iterator[SimPortal]:
    with SimPortal(clock=FixedClock()) as portal:
        yield portal


def _findings(sim: SimPortal, path: str, domains: Domains, vocabulary: Vocabulary) -> list:
    with httpx.Client(trust_env=False, timeout=5) as client:
        response = client.get(sim.url(path))
    assert response.status_code == 200
    text = decode(response.content, response.headers.get("content-type")).text
    return list(inspect_page(text, sim.url(path), domains=domains, vocabulary=vocabulary).findings)


@pytest.mark.parametrize("technique", ["", "display_none", "font_size_zero", "off_screen", "script"])
def test_hidden_gambling_links_on_the_homepage_are_high(
    sim: SimPortal, technique: str, domains: Domains, vocabulary: Vocabulary
) -> None:
    assert _findings(sim, "/", domains, vocabulary) == []
    sim.fault(f"hidden_links:{technique}" if technique else "hidden_links", "/")
    try:
        [finding] = _findings(sim, "/", domains, vocabulary)
    finally:
        sim.fault("ok", "/")
    assert (finding.kind, finding.level, finding.target) == (Kind.HIDDEN_LINK, Level.HIGH, "casino-portal.invalid")
    assert HIDDEN_LINK_TARGET in finding.evidence
    expected = {"": "display_none", "script": "script_encoded"}.get(technique, technique)
    assert finding.technique == expected


def test_hidden_links_on_a_gbk_column_page(sim: SimPortal, domains: Domains, vocabulary: Vocabulary) -> None:
    sim.fault("hidden_links:off_screen", "/xxgk/gzdt/")
    try:
        [finding] = _findings(sim, "/xxgk/gzdt/", domains, vocabulary)
    finally:
        sim.fault("ok", "/xxgk/gzdt/")
    assert (finding.technique, finding.level) == ("off_screen", Level.HIGH)


def test_unknown_hidden_link_technique_is_rejected() -> None:
    with pytest.raises(ValueError, match="fault 'hidden_links' takes one of display_none, font_size_zero"):
        Fault.parse("hidden_links:marquee")
