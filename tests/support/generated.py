"""Reports say when they were generated (the real clock in CLI runs): two reports built a second
apart differ only there. `without_generation_time` blanks it in every text format."""

from __future__ import annotations

import re

_GENERATED = (
    re.compile(r'"generated": "[^"]*"'),  # json
    re.compile(r"^(#+ )?Generated .*$", re.MULTILINE),  # table, markdown
    re.compile(r",\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d(?=\r?$)", re.MULTILINE),  # csv's last column
)


def without_generation_time(text: str) -> str:
    """The output minus when it was generated: two reports built a second apart differ there only."""
    for pattern in _GENERATED:
        text = pattern.sub("<generated>", text)
    return text
