"""Handing freed heap memory back to the system: glibc's `malloc_trim(0)`, the one place it is called.

Bodies and link batches (tens of KB each, under glibc's mmap threshold) come from the malloc heap;
freed, they stay resident (glibc returns memory on its own only from the top of the heap, and a
few live blocks always sit above). `malloc_trim(0)` hands every whole free page inside the heap
back (madvise), so RSS follows what is in use. The daemon calls it every minute (daemon.HeapTrim)
and after a link sweep child ends (links/_isolated.py). Without glibc (musl, other systems) there
is nothing to call and nothing is done. The argument is a constant: nothing fetched reaches it.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def malloc_trim() -> Callable[[], bool] | None:
    """glibc's `malloc_trim(0)` as a function returning whether memory was released, or None."""
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: libc's, without a library search
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def release() -> bool:
        return bool(trim(0))

    return release


def release_free_heap() -> bool:
    """Trim the heap once now; False where the C library has no such call (musl, macOS)."""
    trim = malloc_trim()
    if trim is None:
        return False
    trim()
    return True
