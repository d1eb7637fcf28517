"""Test helpers (not tests) for running the real `monitor run` process against the simulated portal.

`sim_config()` writes a config.yaml for a SimPortal; `RunningDaemon` starts `python -m monitor run`
(optionally with extra environment), finds the metrics address in its log, scrapes it, waits for
conditions, and stops it with SIGTERM.
Nothing here asserts; callers do.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from monitor.sim import SimPage, SimPortal
from tests.support.paths import REPO

_LISTENING = re.compile(r"metrics on http://([\d.]+):(\d+)/metrics")


def sim_config(
    tmp_path: Path,
    sim: SimPortal,
    *,
    pages: Iterable[SimPage] | None = None,
    interval: str = "1s",
    defaults: dict[str, Any] | None = None,
    site: dict[str, Any] | None = None,
) -> Path:
    """A config.yaml monitoring the sim's pages every `interval`, metrics on a free loopback port."""
    chosen = list(pages) if pages is not None else sim.pages()
    document = {
        "timezone": "Asia/Shanghai",
        "storage": {"path": str(tmp_path / "monitor.db")},
        "metrics": {"listen": "127.0.0.1:0"},
        "defaults": {
            "interval": interval,
            "timeout": "2s",
            "retry_delay": "1s",
            "failure_threshold": 2,
            "jitter": 0,
            # Link passes would add their requests to every daemon test's sim: tests of the link
            # feature turn them on (defaults={"links": {...}}).
            "links": {"enabled": False},
            **(defaults or {}),
        },
        # IPv6 readings would add two homepage requests a minute after start to every daemon test's
        # sim: tests of the IPv6 feature turn them on.
        "ipv6": {"enabled": False},
        "sites": [
            {
                "name": "sim",
                "title": "模拟市交通运输局",
                "base_url": sim.base_url,
                "discover": False,
                **(site or {}),
                "pages": [_page_entry(p) for p in chosen],
            }
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _page_entry(page: SimPage) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": page.name, "url": page.url, "kind": page.kind}
    if page.category:
        entry["category"] = page.category
    return entry


class RunningDaemon:
    """`python -m monitor run -c CONFIG` as a child process with its log captured to a file."""

    def __init__(
        self, config: Path, *extra: str, env: dict[str, str] | None = None, log_name: str = "daemon.log"
    ) -> None:
        self.config = config
        self.log_path = config.parent / log_name
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "-c", str(config), *extra],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env} if env else None,
        )
        self.metrics_url = self._wait_listening()

    def __enter__(self) -> RunningDaemon:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _wait_listening(self, timeout_s: float = 20.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log())
            if match:
                return f"http://{match.group(1)}:{match.group(2)}"
            if self.process.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise RuntimeError(f"daemon did not start listening:\n{self.log()}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.metrics_url + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()

    def samples(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of /metrics keyed by (name, sorted labels)."""
        _, text = self.get("/metrics")
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples().get((name, tuple(sorted(labels.items()))))

    def wait_for(self, condition: Callable[[], Any], timeout_s: float = 30.0, what: str = "condition") -> Any:
        """Poll `condition` until it returns something truthy; raise with the log on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            if self.process.poll() is not None:
                raise RuntimeError(f"daemon exited while waiting for {what}:\n{self.log()}")
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}:\n{self.log()[-4000:]}")

    def terminate(self, timeout_s: float = 10.0) -> tuple[int, float]:
        """SIGTERM; returns (exit status, seconds it took)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout_s)
        return code, time.monotonic() - started


def db_rows(db: Path, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    """Read the daemon's database from outside, like a sqlite3 shell would."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return [tuple(r) for r in conn.execute(sql, tuple(params))]
    finally:
        conn.close()


def sim_pages(sim: SimPortal, *names: str) -> list[SimPage]:
    """The sim's pages with the given names, in that order."""
    by_name = {p.name: p for p in sim.pages()}
    return [by_name[name] for name in names]
