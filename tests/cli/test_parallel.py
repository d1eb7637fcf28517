"""Shard databases read in forked processes (monitor/cli/_parallel.py): results come back in the
databases' order whatever the batch size, each child reads its own database, and a failing
shard is one line naming its file, not a traceback or a hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.cli._parallel import ShardError, per_database
from monitor.store import Store


def _databases(tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for k in range(count):
        path = tmp_path / f"shard-{k}.db"
        store = Store.open(path)
        store.sync_pages([(f"site{k}", f"站点{k}", f"http://site{k}.example/")], [], 0.0)
        store.close()
        paths.append(path)
    return paths


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_each_database_is_read_in_order(tmp_path: Path, workers: int) -> None:
    paths = _databases(tmp_path, 5)

    def job(store: Store) -> tuple[str, list[str], int]:
        titles = store.history().site_titles()
        return store.path.name, list(titles), os.getpid()

    results = per_database(paths, job, workers=workers)
    assert [r[:2] for r in results] == [(p.name, [f"site{k}"]) for k, p in enumerate(paths)]
    pids = {r[2] for r in results}
    assert (pids == {os.getpid()}) if workers == 1 else (os.getpid() not in pids and len(pids) == 5)


def test_a_failing_shard_is_one_line_naming_its_file(tmp_path: Path) -> None:
    paths = _databases(tmp_path, 3)

    def job(store: Store) -> int:
        if store.path == paths[1]:
            raise ValueError("no such table: rollup_monthly")
        return 1

    with pytest.raises(ShardError, match=r"shard-1\.db: no such table: rollup_monthly$"):
        per_database(paths, job, workers=3)
