"""Shared pytest options.

`--update-golden` rewrites the expected extractor outputs under tests/golden/ instead of comparing
against them. Every rewritten *.expected.json must be reviewed (git diff) against the page and its
ground truth before it is committed: a golden file that merely blesses the current output tests
nothing.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/*.expected.json from the current extractor (review the diff!)",
    )
