"""`Stats` sums: `+` and `total` are column-wise (a C-level getter, one pass for `total`, since a
year's report adds every page's 365 days); both equal the plain field-by-field definition."""

from __future__ import annotations

from dataclasses import fields

from hypothesis import given
from hypothesis import strategies as st

from monitor.rules import Stats, total

_VALUES = st.integers(min_value=0, max_value=2**40)
STATS = st.builds(Stats, **{f.name: _VALUES for f in fields(Stats)})


def plain_sum(a: Stats, b: Stats) -> Stats:
    """Every field summed, except the largest latency, which is the larger of the two."""
    summed = {f.name: getattr(a, f.name) + getattr(b, f.name) for f in fields(Stats) if f.name != "latency_max_ms"}
    return Stats(**summed, latency_max_ms=max(a.latency_max_ms, b.latency_max_ms))


@given(STATS, STATS)
def test_add_is_the_plain_sum(a: Stats, b: Stats) -> None:
    assert a + b == plain_sum(a, b)


@given(st.lists(STATS, max_size=30))
def test_total_is_the_fold_of_plain_sums(items: list[Stats]) -> None:
    expected = Stats()
    for item in items:
        expected = plain_sum(expected, item)
    assert total(items) == expected
    assert total(iter(items)) == expected  # any iterable, read once
