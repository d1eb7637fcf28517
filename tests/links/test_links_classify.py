"""monitor.links pure verdicts: scope, resource type, class of an observation, escalation, exclusions."""

from __future__ import annotations

import re

import pytest

from monitor.links import Exclusions, LinkClass, Outcome, ResourceType, Scope, SiteScope, classify, escalate
from monitor.links import resource_type as rtype
from monitor.models import ErrorKind

SITE = SiteScope.of(["http://www.example.gov.cn/"], aliases=["example.gov.cn"])


@pytest.mark.parametrize(
    ("url", "scope"),
    [
        ("http://www.example.gov.cn/a.html", Scope.INTERNAL),
        ("https://WWW.EXAMPLE.GOV.CN:8443/a", Scope.INTERNAL),
        ("http://example.gov.cn/", Scope.INTERNAL),
        ("http://news.example.gov.cn/", Scope.EXTERNAL),
        ("http://www.gov.cn/", Scope.EXTERNAL),
    ],
)
def test_scope_is_same_host_or_alias(url: str, scope: Scope) -> None:
    assert SITE.scope_of(url) is scope


@pytest.mark.parametrize(
    ("url", "element", "expected"),
    [
        ("http://h/a.html", "a", ResourceType.PAGE),
        ("http://h/col/", "a", ResourceType.PAGE),
        ("http://h/art.jsp?id=1", "a", ResourceType.PAGE),
        ("http://h/pic.JPG", "a", ResourceType.IMAGE),
        ("http://h/show?id=1", "img", ResourceType.IMAGE),
        ("http://h/files/办法.pdf", "a", ResourceType.ATTACHMENT),
        ("http://h/t.xlsx", "a", ResourceType.ATTACHMENT),
        ("http://h/t.rar", "a", ResourceType.ATTACHMENT),
        ("http://h/s.css", "link", ResourceType.OTHER),
        ("http://h/j.js", "script", ResourceType.OTHER),
        ("http://h/map.html", "iframe", ResourceType.PAGE),
    ],
)
def test_resource_type_by_element_and_suffix(url: str, element: str, expected: ResourceType) -> None:
    assert rtype(url, element) is expected


INT, EXT = Scope.INTERNAL, Scope.EXTERNAL


@pytest.mark.parametrize(
    ("outcome", "scope", "expected"),
    [
        (Outcome(status=200), INT, LinkClass.OK),
        (Outcome(status=206), EXT, LinkClass.OK),
        (Outcome(status=416), INT, LinkClass.OK),
        (Outcome(status=404), INT, LinkClass.BROKEN),
        (Outcome(status=403), INT, LinkClass.BROKEN),
        (Outcome(status=410), INT, LinkClass.BROKEN),
        (Outcome(status=404), EXT, LinkClass.SUSPECT),
        (Outcome(status=400), INT, LinkClass.SUSPECT),
        (Outcome(status=500), INT, LinkClass.SUSPECT),
        (Outcome(status=503), EXT, LinkClass.SUSPECT),
        (Outcome(error_kind=ErrorKind.TIMEOUT, error="t"), INT, LinkClass.SUSPECT),
        (Outcome(error_kind=ErrorKind.CONNECT, error="c"), INT, LinkClass.SUSPECT),
        (Outcome(error_kind=ErrorKind.TLS, error="t"), EXT, LinkClass.SUSPECT),
        (Outcome(error_kind=ErrorKind.DNS, error="d", name_missing=True), INT, LinkClass.BROKEN),
        (Outcome(error_kind=ErrorKind.DNS, error="d", name_missing=True), EXT, LinkClass.BROKEN),
        (Outcome(error_kind=ErrorKind.DNS, error="temporary"), EXT, LinkClass.SUSPECT),
        (Outcome(status=412), INT, LinkClass.BLOCKED),
        (Outcome(status=521), EXT, LinkClass.BLOCKED),
        (Outcome(status=429), INT, LinkClass.BLOCKED),
        (Outcome(status=200, challenge="ruishu"), INT, LinkClass.BLOCKED),
        (Outcome(status=200, soft_404=True), INT, LinkClass.SOFT_404),
        (Outcome(refused="excluded by 're:x'"), INT, LinkClass.EXCLUDED),
    ],
)
def test_classify_table(outcome: Outcome, scope: Scope, expected: LinkClass) -> None:
    link_class, reason = classify(outcome, scope)
    assert link_class is expected
    assert reason and "\n" not in reason


S, B, OK = LinkClass.SUSPECT, LinkClass.BROKEN, LinkClass.OK


@pytest.mark.parametrize(
    ("history", "passes", "expected"),
    [
        ([S], 3, S),
        ([S, S], 3, S),
        ([S, S, S], 3, B),
        ([OK, S, S, S], 3, B),
        ([S, S, OK, S], 3, S),
        ([B, S, S], 3, B),
        ([S], 1, B),
        ([S, S, S, OK], 3, OK),
        ([LinkClass.BLOCKED] * 5, 3, LinkClass.BLOCKED),
    ],
)
def test_a_persistent_suspect_escalates_to_broken(history: list[LinkClass], passes: int, expected: LinkClass) -> None:
    assert escalate(history, passes) is expected


def test_escalate_needs_the_current_pass() -> None:
    with pytest.raises(ValueError, match="at least the current pass"):
        escalate([], 3)


def test_exclusions_glob_and_regex() -> None:
    rules = Exclusions(("*/search*", "re:\\.do\\?method=print"))
    assert rules.match("http://h/search?q=1") == "*/search*"
    assert rules.match("http://h/a.do?method=print") == "re:\\.do\\?method=print"
    assert rules.match("http://h/a.html") is None


def test_a_bad_exclusion_regex_fails_at_construction() -> None:
    with pytest.raises(re.error):
        Exclusions(("re:(",))
