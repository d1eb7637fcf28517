"""Shared test fixtures: finding the external tools (promtool, prometheus, systemd-analyze).

A test that needs a missing tool is skipped with the reason shown, or fails instead when
MONITOR_REQUIRE_PROMETHEUS=1 (CI sets it so that a missing tool cannot pass silently as a skip).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import NoReturn

import pytest

REQUIRE_TOOLS_ENV = "MONITOR_REQUIRE_PROMETHEUS"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it when REQUIRE_TOOLS_ENV is 1."""
    if os.environ.get(REQUIRE_TOOLS_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_TOOLS_ENV}=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


def find_tool(name: str) -> str:
    """The tool's path on PATH, or skip/fail the test."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} is not on PATH (Debian packages: prometheus, prometheus-alertmanager, systemd)")
    return path


@pytest.fixture(scope="session")
def require_tool() -> Callable[[str], str]:
    """`require_tool("promtool")` -> its path; a missing tool skips the test (fails under CI's env)."""
    return find_tool


@pytest.fixture(scope="session")
def tool_unavailable() -> Callable[[str], NoReturn]:
    """`tool_unavailable(reason)`: the tool is there but cannot do the job (e.g. too old): skip or fail."""
    return skip_or_fail
