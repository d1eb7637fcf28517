"""Where the repository, the golden pages and the shared real-page corpus are: one setting each.

The corpus (real government pages with hand-checked truth) lives outside the repository, by
default in `shared/corpus` beside it; `MONITOR_CORPUS` points elsewhere (a checkout in another
folder, a CI machine). Tests that need it skip with the path they looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "extract" / "golden"
CORPUS_ENV = "MONITOR_CORPUS"


def corpus_dir() -> Path:
    """The shared corpus folder (holding `pages/`, `MANIFEST.tsv`, `evaluate.py`)."""
    configured = os.environ.get(CORPUS_ENV)
    return Path(configured) if configured else REPO.parent / "shared" / "corpus"


def corpus_pages_dir() -> Path:
    return corpus_dir() / "pages"
