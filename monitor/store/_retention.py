"""Retention: delete raw checks past `storage.raw_retention` whose hours are rolled up, and give
the freed pages back to the file system with `PRAGMA incremental_vacuum`, in small steps.

Rollups, outages, blips, items and runs are kept forever. Private to `monitor.store`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace

from monitor.store._queries import to_ms
from monitor.store._writer import Statement

BATCH_ROWS = 5000
"""Checks deleted per step (a few milliseconds of write lock)."""
VACUUM_PAGES = 256
"""Free pages returned per step (1 MiB with 4 KiB pages)."""
INCREMENTAL = 2
"""`PRAGMA auto_vacuum` value of incremental mode."""


@dataclass(frozen=True)
class PruneCandidate:
    page_id: int
    boundary_ms: int
    rows: int


def prune_boundaries(conn: sqlite3.Connection, now: float, retention_s: float) -> list[tuple[int, int]]:
    """(page_id, delete checks before this ms) for every page with rolled-up hours.

    The last check before a page's rollup watermark is kept: reports computing the hours after
    the watermark from raw checks need the state it set.
    """
    cutoff = to_ms(now - retention_s)
    rows = conn.execute(
        "SELECT r.page_id, (SELECT max(ts_ms) FROM checks c"
        " WHERE c.page_id = r.page_id AND c.ts_ms < r.hourly_until_ms) FROM rollup_state r ORDER BY r.page_id"
    )
    return [(page_id, min(cutoff, keep)) for page_id, keep in rows if keep is not None]


def prune_candidates(conn: sqlite3.Connection, now: float, retention_s: float) -> list[PruneCandidate]:
    """What a prune would delete, page by page (for --dry-run)."""
    found = []
    for page_id, boundary in prune_boundaries(conn, now, retention_s):
        count = conn.execute("SELECT count(*) FROM checks WHERE page_id = ? AND ts_ms < ?", (page_id, boundary))
        found.append(PruneCandidate(page_id, boundary, int(count.fetchone()[0])))
    return found


def vacuum_step(conn: sqlite3.Connection, pages: int) -> int:
    """Return up to `pages` free pages to the file system; how many free pages remain (0 when the
    file is not in incremental auto-vacuum mode: only a full VACUUM shrinks it then)."""
    for _ in range(min(pages, _reclaimable(conn))):
        # Python's sqlite3 steps a PRAGMA once, and each step of incremental_vacuum frees one page.
        conn.execute("PRAGMA incremental_vacuum(1)")
    return _reclaimable(conn)


def _reclaimable(conn: sqlite3.Connection) -> int:
    """Free pages incremental_vacuum can return (none unless the file is in incremental mode)."""
    if int(conn.execute("PRAGMA auto_vacuum").fetchone()[0]) != INCREMENTAL:
        return 0
    return int(conn.execute("PRAGMA freelist_count").fetchone()[0])


@dataclass(frozen=True)
class Prune:
    """Daily retention as a writer task: a batch of deletes, then a little vacuum, and so on."""

    now: float
    retention_s: float
    batch_rows: int = BATCH_ROWS
    vacuum_pages: int = VACUUM_PAGES
    after_page: int = 0
    boundaries: tuple[tuple[int, int], ...] | None = None
    """`prune_boundaries`, read at the first step (watermarks only move on: they stay safe)."""

    def statements(self) -> Iterable[Statement]:
        return ()

    def step(self, conn: sqlite3.Connection) -> Prune | None:
        if _reclaimable(conn) > 0:
            vacuum_step(conn, self.vacuum_pages)
            return self
        boundaries = self.boundaries
        if boundaries is None:
            boundaries = tuple(prune_boundaries(conn, self.now, self.retention_s))
        for page_id, boundary in boundaries:
            if page_id <= self.after_page:
                continue
            deleted, more = _delete_batch(conn, page_id, boundary, self.batch_rows)
            if deleted or more:
                return replace(self, after_page=page_id - 1 if more else page_id, boundaries=boundaries)
        return None


def _delete_batch(conn: sqlite3.Connection, page_id: int, boundary: int, rows: int) -> tuple[int, bool]:
    """Delete up to `rows` of the page's oldest checks before `boundary`; (deleted, more left)."""
    row = conn.execute(
        "SELECT ts_ms FROM checks WHERE page_id = ? AND ts_ms < ? ORDER BY ts_ms LIMIT 1 OFFSET ?",
        (page_id, boundary, rows),
    ).fetchone()
    until = boundary if row is None else int(row[0])
    cursor = conn.execute("DELETE FROM checks WHERE page_id = ? AND ts_ms < ?", (page_id, until))
    return cursor.rowcount, row is not None


@dataclass(frozen=True)
class IncrementalVacuum:
    """`monitor db vacuum --incremental`: free pages returned in small steps, online."""

    pages: int = VACUUM_PAGES

    def statements(self) -> Iterable[Statement]:
        return ()

    def step(self, conn: sqlite3.Connection) -> IncrementalVacuum | None:
        return self if vacuum_step(conn, self.pages) > 0 else None
