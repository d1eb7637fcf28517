"""daemon.py's integrity settings: read once at start; a reload that changes them says so."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from monitor.check import Fetcher
from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.models import FixedClock
from monitor.store import Store


def document(tmp_path: Path, **integrity: Any) -> dict[str, Any]:
    site = {"name": "bureau", "title": "某某局", "base_url": "http://bureau.example/"}
    site["pages"] = [{"name": "home", "url": "/", "kind": "homepage"}]
    return {"storage": {"path": str(tmp_path / "monitor.db")}, "sites": [site], "integrity": integrity}


def test_a_reload_changing_integrity_settings_warns_they_need_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(tmp_path / "monitor.db")
    clock = FixedClock()
    daemon = Daemon(parse_config(document(tmp_path)), store=store, fetcher=Fetcher(clock=clock), clock=clock)
    with caplog.at_level(logging.WARNING, logger="monitor.daemon"):
        daemon._warn_restart_only(parse_config(document(tmp_path)))
        assert "integrity settings changed" not in caplog.text
        daemon._warn_restart_only(parse_config(document(tmp_path, sweep_interval="2h")))
    assert "integrity settings changed: they take effect at the next restart" in caplog.text
    store.close()
