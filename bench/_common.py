"""Shared pieces of the benchmarks: a local nginx, the real daemon, /proc readings, small statistics.

Everything runs on 127.0.0.1 as child processes that are always stopped in `finally`/`__exit__`.
Nothing here measures anything by itself; the bench scripts decide what to time and print.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.models import Result
from monitor.shard import parse_shard
from monitor.store import RESULT_CODES
from tests.support.daemon_harness import db_rows
from tests.support.paths import REPO, corpus_dir
from tests.support.ports import free_port
from tests.support.procfs import cpu_seconds
from tests.support.stats import (
    Samples,
    parse_samples,
    percentile,
)

CORPUS = corpus_dir()
LIST_KINDS = {"list", "catalogue", "homepage"}
"""Corpus pages a monitor checks on a schedule (articles and anti-bot pages are not column pages)."""
_LISTENING = re.compile(r"metrics on http://([\d.]+):(\d+)/metrics")


# -- machine and /proc -------------------------------------------------------------------------


def machine_facts() -> dict[str, str]:
    """What a reader needs to compare numbers across machines."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def fetch_text(url: str, timeout_s: float = 30.0) -> tuple[str, float]:
    """(body, seconds) of one GET."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        body = response.read().decode()
    return body, time.perf_counter() - started


# -- the local portal: nginx over a generated docroot -------------------------------------------


def corpus_pages(corpus: Path = CORPUS) -> list[Path]:
    """Realistic list/catalogue/homepage pages of the shared corpus (empty when it is absent)."""
    manifest = corpus / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    rows = [line.split("\t") for line in manifest.read_text(encoding="utf-8").splitlines()[1:]]
    return [corpus / "pages" / r[0] for r in rows if len(r) > 5 and r[5] in LIST_KINDS and r[0].endswith(".html")]


def build_docroot(root: Path, count: int, *, corpus: bool = True) -> str:
    """`root/p/{i}.html` for i < count: symlinks to corpus list pages, else (or with `corpus`
    False) generated small list pages.

    Returns a one-line description of what is served.
    """
    folder = root / "p"
    folder.mkdir(parents=True, exist_ok=True)
    sources = corpus_pages() if corpus else []
    if sources:
        for i in range(count):
            (folder / f"{i}.html").symlink_to(sources[i % len(sources)])
        median_kb = percentile([s.stat().st_size for s in sources], 0.5) / 1024
        return f"{len(sources)} real gov.cn list pages from the shared corpus, median {median_kb:.0f} KB"
    from datetime import date

    from monitor.sim import render_bench

    for i in range(count):
        (folder / f"{i}.html").write_text(render_bench(i, date.today()), encoding="utf-8")
    return "generated 3-item list pages" + ("" if corpus else " (corpus not asked for)")


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    default_type text/html;
    # Every check gets the full page: no 304s, so both sides of a comparison move the same bytes.
    etag off;
    if_modified_since off;
    keepalive_timeout 0;
    server {{
        listen 127.0.0.1:{port};
        root {docroot};
    }}
}}
"""


class Nginx:
    """Debian's nginx as a child process (`daemon off;`, `-p` prefix) serving `docroot`."""

    def __init__(self, prefix: Path, docroot: Path) -> None:
        self.prefix = prefix
        self.port = free_port()
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, port=self.port, docroot=docroot))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.process)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def cpu_seconds(self) -> float:
        """Master and workers together."""
        return sum(cpu_seconds(pid) for pid in [self.process.pid, *self.worker_pids()])

    def __enter__(self) -> Nginx:
        return self

    def __exit__(self, *exc: object) -> None:
        stop_process(self.process, signal.SIGQUIT)


def wait_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:g}s")


def stop_process(process: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout_s: float = 10.0) -> None:
    """Ask politely, then kill: a benchmark never leaves a process behind."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout_s)


# -- the daemon ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaemonSettings:
    """What a benchmark varies in the daemon's config; everything else keeps its default."""

    pages: int
    interval_s: float
    concurrency: int
    timeout_s: float = 15.0
    jitter_s: float = 0.0
    sites: int = 1
    homepage_interval_s: float | None = None
    """When set, the first page of each site is its homepage, checked at this interval."""
    per_page: str = "all"
    """metrics.per_page: all, or homepages (per-page series for homepages only)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Top-level config sections merged over the generated ones (e.g. {"ipv6": {"enabled": False}})."""


def daemon_config(workdir: Path, base_url: str, settings: DaemonSettings) -> Path:
    """A config.yaml with `settings.pages` pages `p/{i}.html`, dealt out to `settings.sites` sites."""
    n = settings.pages
    per_site = -(-n // settings.sites)
    sites = [
        {
            "name": f"bench{s}" if settings.sites > 1 else "bench",
            "title": "基准站点",
            "base_url": base_url,
            "discover": False,
            "pages": [_page_entry(i, i == start, settings) for i in range(start, min(start + per_site, n))],
        }
        for s, start in enumerate(range(0, n, per_site))
    ]
    document = {
        "timezone": "Asia/Shanghai",
        "storage": {"path": str(workdir / "monitor.db")},
        "metrics": {"listen": "127.0.0.1:0", "per_page": settings.per_page},
        "defaults": {
            "interval": settings.interval_s,
            "timeout": settings.timeout_s,
            "per_host_concurrency": settings.concurrency,
            "jitter": settings.jitter_s,
        },
        "sites": sites,
    }
    document = _merged(document, settings.overrides)
    if len(sites) > SITES_PER_FILE:
        # One file may hold 1 MiB: a province's sites go to included files (config.yaml `include:`).
        chunks = [sites[i : i + SITES_PER_FILE] for i in range(0, len(sites), SITES_PER_FILE)]
        for n, chunk in enumerate(chunks):
            text = yaml.safe_dump({"sites": chunk}, allow_unicode=True, sort_keys=False)
            (workdir / f"sites-{n}.yaml").write_text(text, encoding="utf-8")
        document = {**document, "include": [f"sites-{n}.yaml" for n in range(len(chunks))], "sites": []}
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _merged(document: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`document` with `overrides` merged in, section by section (mappings recursively)."""
    merged = dict(document)
    for key, value in overrides.items():
        old = merged.get(key)
        merged[key] = _merged(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


SITES_PER_FILE = 200
"""Sites per included file when a benchmark config has more (20 pages each: ~250 KB a file)."""


def _page_entry(i: int, first: bool, settings: DaemonSettings) -> dict[str, Any]:
    if first and settings.homepage_interval_s is not None:
        return {"name": f"p{i}", "url": f"p/{i}.html", "kind": "homepage", "interval": settings.homepage_interval_s}
    return {"name": f"p{i}", "url": f"p/{i}.html", "kind": "column"}


class Daemon:
    """`python3 -m monitor run` on a generated config, from `tree` (this checkout by default, or
    another one for a before/after comparison); stopped with SIGTERM (then killed) on exit.
    `shard` ("K/N"): run as that shard (`--shard K/N`), in that shard's database. `listen_timeout_s`:
    how long start-up may take (reading a config of 100,000 pages takes tens of seconds). `module`:
    what `python -m` runs (bench._memchild: the same command, readable from outside); `env`: added
    to the environment."""

    def __init__(
        self,
        workdir: Path,
        base_url: str,
        settings: DaemonSettings,
        tree: Path = REPO,
        shard: str | None = None,
        listen_timeout_s: float = 120.0,
        module: str = "monitor",
        env: dict[str, str] | None = None,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.db = workdir / "monitor.db" if shard is None else parse_shard(shard).db_path(workdir / "monitor.db")
        self.log_path = workdir / "daemon.log"
        config = daemon_config(workdir, base_url, settings)
        command = [sys.executable, "-m", module, "run", "-c", str(config), *(["--shard", shard] if shard else [])]
        with self.log_path.open("wb") as log:
            environ = {**os.environ, **(env or {})}
            self.process = subprocess.Popen(command, cwd=tree, stdout=log, stderr=log, env=environ)
        try:
            self.metrics_url = self._wait_listening(listen_timeout_s) + "/metrics"
        except BaseException:
            stop_process(self.process)
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_listening(self, timeout_s: float = 120.0) -> str:
        """The metrics address from the start-up log line (the port is chosen by the OS)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log())
            if match:
                return f"http://{match.group(1)}:{match.group(2)}"
            if self.process.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.process.returncode}:\n{self.log()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"daemon did not start listening in {timeout_s:g} s:\n{self.log()[-2000:]}")

    def scrape(self) -> tuple[Samples, float, int]:
        """(samples, seconds, bytes) of one /metrics scrape."""
        text, seconds = fetch_text(self.metrics_url)
        return parse_samples(text), seconds, len(text.encode())

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def checks_between(self, since: float, until: float) -> tuple[int, int]:
        """(checks, up checks) that started in [since, until) (epoch seconds), from the database.

        Exact where counters are not: a scrape of /metrics under load takes long enough to blur
        the edges of a window. Read after the daemon stopped (its writer flushed).
        """
        rows = db_rows(
            self.db,
            "SELECT count(*), coalesce(sum(result = ?), 0) FROM checks WHERE ts_ms >= ? AND ts_ms < ?",
            (RESULT_CODES[Result.UP], round(since * 1000), round(until * 1000)),
        )
        return int(rows[0][0]), int(rows[0][1])

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        stop_process(self.process, signal.SIGTERM, timeout_s=15.0)


@contextlib.contextmanager
def workspace(prefix: str) -> Iterator[Path]:
    """A temporary directory nginx's unprivileged worker can read (mkdtemp makes it 0700).

    SIGTERM inside it exits through the `finally` blocks, so the children are stopped too (a
    background job started by a shell ignores SIGINT, so SIGTERM is how one stops a long run).
    """
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        os.chmod(name, 0o755)
        yield Path(name)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
