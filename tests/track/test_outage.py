"""outage.py: confirmation by consecutive failures, blips, blocked/error neutrality."""

from __future__ import annotations

import pytest

from monitor.models import Result
from monitor.track.outage import Blip, Health, OutageContinues, OutageEnd, OutageStart, step

U, D, B, E = Result.UP, Result.DOWN, Result.BLOCKED, Result.ERROR


def run(sequence: list[Result], threshold: int = 2) -> tuple[Health, list[object]]:
    health, events = Health(), []
    for ts, result in enumerate(sequence, start=100):
        health, new = step(health, result, float(ts), "connect" if result is D else None, threshold)
        events += new
    return health, events


@pytest.mark.parametrize(
    ("sequence", "threshold", "expected"),
    [
        ([U, U, U], 2, []),
        ([U, D, U], 2, [Blip(101.0, "connect", 1)]),
        ([U, D, D, U], 2, [OutageStart(101.0, "connect", 2), OutageEnd(101.0, 103.0, "connect")]),
        (
            [D, D, D, U],
            2,
            [OutageStart(100.0, "connect", 2), OutageContinues(100.0, 3), OutageEnd(100.0, 103.0, "connect")],
        ),
        ([D, D, U], 3, [Blip(100.0, "connect", 2)]),
        ([D, D, D, U], 3, [OutageStart(100.0, "connect", 3), OutageEnd(100.0, 103.0, "connect")]),
        ([D, U], 1, [OutageStart(100.0, "connect", 1), OutageEnd(100.0, 101.0, "connect")]),
        ([B, B, B], 2, []),
        ([E, E, E, U], 2, []),
        ([D, B, D, U], 2, [OutageStart(100.0, "connect", 2), OutageEnd(100.0, 103.0, "connect")]),
        ([D, D, B, U], 2, [OutageStart(100.0, "connect", 2), OutageEnd(100.0, 103.0, "connect")]),
    ],
)
def test_sequences(sequence: list[Result], threshold: int, expected: list[object]) -> None:
    assert run(sequence, threshold)[1] == expected


def test_failing_means_retry_soon() -> None:
    assert not run([U])[0].failing
    assert run([D])[0].failing
    assert run([D, D])[0].failing
    assert not run([D, D, U])[0].failing


def test_outage_never_ends_before_it_started_when_the_clock_steps_back() -> None:
    health, _ = step(Health(), D, 1000.0, "timeout", 1)
    _, events = step(health, U, 900.0, None, 1)
    assert events == [OutageEnd(1000.0, 1000.0, "timeout")]
