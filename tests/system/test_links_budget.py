"""One budget per host in the real daemon (`monitor run`, issue 12): its page checks and its link
passes share each host's `per_host_concurrency`, so a server counting the requests it answers at
once never sees more, and the page checks still go out on time while a sweep keeps the host busy."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import yaml

from tests.support.daemon_harness import RunningDaemon
from tests.support.static_site import serving

PAGES = 60
DELAY_S = 0.1
SEND_LAG = "portal_monitor_check_send_lag_seconds"


class Counting:
    """Requests answered at once by the server, now and at most."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def page(n: int) -> bytes:
    links = "".join(f'<li><a href="/p/{k}.html">第{k}页</a></li>' for k in range(PAGES) if k != n)
    return f"<html><head><title>页面{n}</title></head><body><ul>{links}</ul></body></html>".encode()


def counting_site(counter: Counting) -> AbstractContextManager[str]:
    """PAGES pages linking to each other, each answer DELAY_S late, served by a thread per connection."""
    site = {f"/p/{n}.html": page(n) for n in range(PAGES)}
    site["/"] = page(-1)
    return serving(site, delay_s=DELAY_S, preparing=counter)


def config_for(tmp_path: Path, base: str) -> Path:
    document = {
        "timezone": "Asia/Shanghai",
        "storage": {"path": str(tmp_path / "monitor.db")},
        "metrics": {"listen": "127.0.0.1:0"},
        "defaults": {
            "interval": "1s",
            "timeout": "5s",
            "jitter": 0,
            "per_host_concurrency": 3,
            "links": {"spacing": 0, "concurrency": 3, "max_depth": 2, "respect_robots": False},
        },
        "sites": [
            {
                "name": "busy",
                "title": "繁忙站点",
                "base_url": base,
                "discover": False,
                "pages": [
                    {"name": "home", "url": "/", "kind": "homepage"},
                    *({"name": f"p{n}", "url": f"/p/{n}.html"} for n in range(4)),
                ],
            }
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.timing
def test_page_checks_and_link_passes_share_the_hosts_limit_and_pages_stay_on_time(tmp_path: Path) -> None:
    counter = Counting()
    with counting_site(counter) as base, RunningDaemon(config_for(tmp_path, base)) as daemon:
        daemon.wait_for(
            lambda: daemon.value("portal_link_pass_last_timestamp_seconds", site="busy", kind="sweep"),
            timeout_s=120,
            what="the homepage pass and the sweep",
        )
        on_time = daemon.value(f"{SEND_LAG}_bucket", le="1.0")
        sent = daemon.value(f"{SEND_LAG}_count")
        links = daemon.value("portal_link_checks_total", site="busy", kind="sweep")
        daemon.terminate()
    # 5 pages checked every second (each answer 0.1 s late) and two passes of 61 pages: never more
    # than the host's 3 at once, page and link checks together (two budgets would allow 3 + 2).
    assert counter.peak == 3
    assert links and links >= PAGES
    assert sent and on_time is not None and on_time / sent >= 0.99, (on_time, sent)
