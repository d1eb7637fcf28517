"""`python -m bench._memchild run -c CONFIG`: the `monitor` command, readable from outside (bench.memory).

With `MEMCHILD_DIR` set, SIGUSR2 makes the process write `MEMCHILD_DIR/N.json`: Python's own
allocations grouped by file:line (tracemalloc, when `MEMCHILD_TRACE` is set: start it before the
monitor is imported, so everything it allocates is seen), glibc's malloc counters (mallinfo2: what
the heap holds, in use and free) and the counts of a few kinds of object (SSL contexts, httpx clients,
sqlite connections, asyncio tasks, scheduler jobs), by the garbage collector's view.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

TOP = 60
"""Lines of the tracemalloc grouping written per snapshot."""
KINDS = ("SSLContext", "AsyncClient", "Connection", "Task", "Job", "PageRuntime", "Page", "dict", "list", "tuple")


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def mallinfo() -> dict[str, int]:
    """glibc's heap counters (main arena and the others together), or {} without glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
    except (OSError, AttributeError):
        return {}
    info = libc.mallinfo2()
    return {name: int(getattr(info, name)) for name, _ in _Mallinfo2._fields_}


def pymalloc_stats() -> dict[str, int]:
    """pymalloc's totals from `sys._debugmallocstats` (written to the C stderr, read back here):
    bytes in its arenas, in allocated blocks, in free blocks and pools, and the arenas count."""
    import re
    import tempfile

    with tempfile.TemporaryFile() as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    wanted = {
        "arenas_allocated_current": r"# arenas allocated current\s*=\s*([\d,]+)",
        "arena_bytes": r"(\d[\d,]*) arenas \* \d+ bytes/arena\s*=\s*([\d,]+)",
        "allocated_blocks": r"# bytes in allocated blocks\s*=\s*([\d,]+)",
        "available_blocks": r"# bytes in available blocks\s*=\s*([\d,]+)",
        "empty_pools": r"\d+ unused pools \* \d+ bytes\s*=\s*([\d,]+)",
    }
    found = {}
    for name, pattern in wanted.items():
        match = re.search(pattern, text)
        if match:
            found[name] = int(match.groups()[-1].replace(",", ""))
    return found


def object_counts() -> dict[str, int]:
    """How many live objects of each kind of KINDS (by type name)."""
    counts: collections.Counter[str] = collections.Counter()
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in KINDS:
            counts[name] += 1
    return dict(counts)


def snapshot(out: Path) -> dict[str, Any]:
    """One reading of this process's memory as a JSON-ready dict."""
    started = time.perf_counter()
    reading: dict[str, Any] = {
        "mallinfo": mallinfo(),
        "pymalloc": pymalloc_stats(),
        "objects": object_counts(),
        "gc_objects": len(gc.get_objects()),
    }
    if tracemalloc.is_tracing():
        snap = tracemalloc.take_snapshot()
        stats = snap.statistics("lineno")
        reading["traced_total"] = sum(s.size for s in stats)
        reading["traced_top"] = [[str(s.traceback[0]), s.size, s.count] for s in stats[:TOP]]
        files = snap.statistics("filename")
        reading["traced_files"] = [[str(s.traceback[0].filename), s.size, s.count] for s in files[:TOP]]
    reading["seconds"] = time.perf_counter() - started
    return reading


def main() -> None:
    if os.environ.get("MEMCHILD_TRACE"):
        tracemalloc.start(1)
    folder = os.environ.get("MEMCHILD_DIR")
    if folder:
        taken = [0]

        def on_signal(signum: int, frame: object) -> None:
            taken[0] += 1
            path = Path(folder) / f"{taken[0]}.json"
            path.with_suffix(".tmp").write_text(json.dumps(snapshot(path)))
            path.with_suffix(".tmp").rename(path)

        signal.signal(signal.SIGUSR2, on_signal)
    sys.argv[0] = "monitor"
    from monitor.cli import main as monitor_main

    monitor_main()


if __name__ == "__main__":
    main()
