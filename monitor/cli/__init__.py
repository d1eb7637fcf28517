"""The `monitor` command: click commands only, over the library packages. See docs/architecture.md."""

from monitor.cli._commands import check_pages
from monitor.cli._main import cli, main

__all__ = [
    "check_pages",
    "cli",
    "main",
]
