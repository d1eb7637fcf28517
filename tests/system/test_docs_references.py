"""Every repository path the code, rules and docs cite exists: `docs/*.md` (with its #anchor),
`tests/*.py`. DESIGN.md, cited by docstrings and alerts.yml, is not in the repository; neither was
the tests/test_metrics_doc.py that docs/metrics.md named.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.paths import REPO

ROOT = REPO
CITING = [
    *sorted((ROOT / "monitor").rglob("*.py")),
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "dashboards").glob("**/*.yml")),
    *sorted((ROOT / "dashboards").glob("*.json")),
    ROOT / "systemd" / "portal-monitor.service",
    ROOT / "README.md",
    ROOT / "config.yaml",
]
CITATION = re.compile(r"(?<![\w/.-])((?:docs|tests)/[\w/-]+\.(?:md|py))(?:#([\w-]+))?")


def anchors(markdown: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def citations() -> list[tuple[str, str, str | None]]:
    return [
        (path.relative_to(ROOT).as_posix(), match.group(1), match.group(2))
        for path in CITING
        for match in CITATION.finditer(path.read_text(encoding="utf-8"))
    ]


def test_cited_files_and_anchors_exist() -> None:
    found = citations()
    assert len(found) > 20
    missing = [(where, cited) for where, cited, _ in found if not (ROOT / cited).is_file()]
    assert missing == []
    bad_anchors = [
        (where, f"{cited}#{anchor}")
        for where, cited, anchor in found
        if anchor and cited.endswith(".md") and anchor not in anchors(ROOT / cited)
    ]
    assert bad_anchors == []


def test_nothing_cites_a_design_document_outside_the_repository() -> None:
    cites = [path.relative_to(ROOT).as_posix() for path in CITING if "DESIGN.md" in path.read_text(encoding="utf-8")]
    assert cites == []
