"""Fixtures of the integrity tests: one offline Domains and the shipped vocabulary per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.integrity import Domains, Vocabulary, load_vocabulary

PAGE = "http://www.example.gov.cn/"
"""The page every synthetic case is served at."""


@pytest.fixture(scope="session")
def domains() -> Domains:
    return Domains()


@pytest.fixture(scope="session")
def vocabulary() -> Vocabulary:
    return load_vocabulary()


def corpus_dir() -> Path | None:
    """The shared corpus: MONITOR_CORPUS, else a `shared/corpus` beside a parent of this repository."""
    configured = os.environ.get("MONITOR_CORPUS")
    if configured:
        return Path(configured) if (Path(configured) / "pages").is_dir() else None
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "corpus"
        if (candidate / "pages").is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The corpus directory, or a visible skip."""
    found = corpus_dir()
    if found is None:
        pytest.skip("real-page corpus not found: set MONITOR_CORPUS or put shared/corpus beside the repository")
    return found
