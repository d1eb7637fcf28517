"""bench.memory's machinery at a tiny size: the daemon run as bench._memchild answers SIGUSR2 with a
reading (malloc heap, pymalloc, traced Python memory by line), features turned off by config."""

from __future__ import annotations

import re

import pytest

from bench import memory

pytestmark = pytest.mark.slow


def test_memory_bench_reads_the_daemon_at_each_time(capsys: pytest.CaptureFixture[str]) -> None:
    memory.main(["--sites", "2", "--pages-per-site", "3", "--compress", "600", "--at", "3,5", "--trace",
                 "--off", "links,ipv6", "--top", "5"])  # fmt: skip
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", out, re.MULTILINE)
    assert len(rows) == 2
    for _, rss, hwm, anon, heap, in_use, _free, traced in rows:
        assert int(hwm) >= int(rss) > int(anon) > 0
        assert int(heap) >= int(in_use) > 0
        assert int(traced) > 0, "tracemalloc was started before the monitor was imported"
    assert '"PageRuntime": 6' in out
    assert "traced memory by lines" in out
    assert "off: links,ipv6" in out
