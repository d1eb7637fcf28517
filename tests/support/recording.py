"""Record outcomes as the daemon does: the tracker writes them, then the metrics state applies
what changed (`Recorded`). For tests that look at both the database and the metrics."""

from __future__ import annotations

from monitor.check import CheckOutcome
from monitor.metrics import MonitorState
from monitor.track import PageRuntime, Recorded, Tracker


class RecordingPipeline:
    """`record` = `Tracker.record` followed by `MonitorState.apply`, as in `Daemon._check_job`."""

    def __init__(self, tracker: Tracker, state: MonitorState) -> None:
        self.tracker = tracker
        self.state = state

    def record(self, rt: PageRuntime, outcome: CheckOutcome, now: float, *, attempt: int = 0) -> Recorded:
        recorded = self.tracker.record(rt, outcome, now, attempt=attempt)
        self.state.apply(rt.page.key, recorded)
        return recorded
