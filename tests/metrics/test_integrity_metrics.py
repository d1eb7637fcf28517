"""metrics/_integrity.py: open findings by site, kind and level (zero-filled), identity elements present."""

from __future__ import annotations

from monitor.integrity import Element, Finding, Identity, Kind, Level, Tracked
from monitor.metrics._integrity import integrity_metrics, site_integrity
from monitor.metrics._state import MonitorState
from monitor.models import FixedClock

URL = "http://www.example.gov.cn/"


def samples(state: MonitorState) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in integrity_metrics(state.integrity())
        for s in family.samples
    }


def test_open_findings_are_counted_without_per_finding_labels() -> None:
    hidden = [Finding.make(Kind.HIDDEN_LINK, 80, URL, "display_none", f"x{i}.top", "e") for i in range(3)]
    resolved = Tracked(Finding.make(Kind.PAGE_TAG, 10, URL, "missing", "SiteName", "e"), 1.0, 1.0, 2.0)
    state = MonitorState(FixedClock())
    identity = Identity(site_codes=(("footer", "4502000001"),), icp="桂ICP备12345678号")
    state.apply_integrity("bureau", [*(Tracked(f, 1.0, 1.0) for f in hidden), resolved], identity)
    got = samples(state)
    assert (
        got[("portal_integrity_findings_open", (("kind", "hidden_link"), ("level", "high"), ("site", "bureau")))] == 3
    )
    assert got[("portal_integrity_findings_open", (("kind", "page_tag"), ("level", "low"), ("site", "bureau")))] == 0
    assert len([k for k in got if k[0] == "portal_integrity_findings_open"]) == len(Kind) * len(Level)
    present = {dict(labels)["element"]: v for (name, labels), v in got.items() if name.endswith("element_present")}
    assert present == {e.value: float(e in (Element.SITE_CODE, Element.ICP)) for e in Element}
    assert all("target" not in dict(labels) and "page" not in dict(labels) for _, labels in got)


def test_a_site_not_yet_inspected_has_no_identity_series() -> None:
    assert site_integrity([], None).identity is None
    state = MonitorState(FixedClock())
    state.apply_integrity("bureau", [], None)
    assert not any(name == "portal_identity_element_present" for name, _ in samples(state))
