"""history.py: generated history has what reports must handle, and is the same for a seed."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

from monitor.sim._history import HistorySpec, generate, plan_runs
from monitor.store import Store, WriterSettings

START = 1_514_736_000.0
SPEC = HistorySpec(start=START, days=20, columns=8, seed=3)


def test_history_has_runs_outages_blips_items_stale_and_blank_columns(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db", writer_settings=WriterSettings(linger_s=0.0))
    made = generate(store, SPEC)
    assert len(made.pages) == 10 and made.checks == store.count("checks")
    assert made.outages > 0 and made.blips > 0 and made.items > 20
    runs = [tuple(r) for r in store.query("SELECT started, heartbeat, stopped FROM monitor_runs ORDER BY id")]
    assert len(runs) == 3
    assert sum(1 for _, _, stopped in runs[:-1] if stopped is None) == 1  # the crash
    assert runs[-1][1] == SPEC.end and runs[-1][2] is None  # still running at the end
    assert store.query("SELECT count(*) FROM checks WHERE result = 2")[0][0] > 0  # blocked
    assert store.query("SELECT count(*) FROM checks WHERE attempt > 0")[0][0] > 0  # retries
    blank = store.query("SELECT count(*) FROM column_freshness WHERE items IS NULL")[0][0]
    stale = store.query("SELECT count(*) FROM column_freshness WHERE age_days > 180 AND category != 'static'")
    assert blank == 1 and stale[0][0] >= 1
    assert store.query("SELECT count(*) FROM rollup_daily")[0][0] > 0
    store.close()


def test_same_seed_same_history(tmp_path: Path) -> None:
    counts = []
    for name in ("a.db", "b.db"):
        store = Store.open(tmp_path / name, writer_settings=WriterSettings(linger_s=0.0))
        made = generate(store, HistorySpec(start=START, days=4, columns=2, seed=11))
        counts.append((made.checks, made.outages, made.blips, made.items))
        store.close()
    assert counts[0] == counts[1]


def test_runs_cover_the_span_with_gaps() -> None:
    runs = plan_runs(SPEC, random.Random(1))
    assert runs[0].start == SPEC.start and runs[-1].end == SPEC.end
    assert all(a.end < b.start for a, b in itertools.pairwise(runs))
