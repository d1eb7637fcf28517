"""Text for a terminal or a file a person opens: control characters from remote content escaped.

Titles and names come from the portal; a BEL or an ESC sequence in one would ring, recolour or
rewrite the operator's terminal. Applied once, where every command prints or writes its output.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 controls but tab and newline (our own layout), DEL, C1 controls, line/paragraph separators
and the bidirectional overrides that reorder what a line appears to say."""


def printable(text: str) -> str:
    """`text` with each control character written as `\\uXXXX`, which is also a valid JSON string
    escape: JSON output stays valid and means the same, text output shows what was there."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
