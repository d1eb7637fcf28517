"""Giving freed heap memory back to the system (glibc's `malloc_trim`, monitor/heap.py), on a schedule.

Page bodies (tens of KB each, under glibc's mmap threshold) come from the malloc heap. In the
first round every page is read once, faster than the two read workers extract them, so thousands
of bodies wait in memory at once; when they are freed, glibc keeps the pages (it returns memory on
its own only from the top of the heap, and a few live blocks always sit above). Measured with
bench.memory on the real corpus pages, 5,000 pages: 250 MB of heap, 40 MB of it in use. `malloc_trim(0)`
hands every whole free page inside the heap back (madvise), so RSS follows what is in use.
Without glibc (musl, other systems) there is nothing to call and nothing is done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from monitor.heap import malloc_trim

__all__ = ["TRIM_EVERY_S", "HeapTrim", "malloc_trim"]

log = logging.getLogger("monitor.daemon")

TRIM_EVERY_S = 60.0
"""How often freed heap memory is handed back (a trim of a few hundred MB takes milliseconds)."""


class HeapTrim:
    """The daemon's periodic trim: `__call__` is its scheduler job (run on a thread: ctypes lets
    the GIL go during the call)."""

    def __init__(self, trim: Callable[[], bool] | None) -> None:
        self._trim = trim

    @property
    def available(self) -> bool:
        return self._trim is not None

    def __call__(self) -> None:
        if self._trim is None:
            return
        started = time.perf_counter()
        released = self._trim()
        log.debug("malloc_trim: %s in %.3fs", "released memory" if released else "nothing to release",
                  time.perf_counter() - started)  # fmt: skip
