"""Rewrite tests/extract/golden/*.expected.json from the current extractor: `python3 tests/extract/update_golden.py`.

Runs the golden tests with UPDATE_GOLDEN=1, which makes them write what the extractor produces
instead of comparing. Every rewritten file must then be reviewed (`git diff tests/extract/golden`) against
the page, its NNN.items.tsv and the corpus manifest before it is committed: a golden file that
merely blesses the current output tests nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    command = [sys.executable, "-m", "pytest", "tests/extract/test_extract.py", "-k", "golden", "-q"]
    sys.exit(subprocess.call(command, cwd=ROOT, env={**os.environ, "UPDATE_GOLDEN": "1"}))
