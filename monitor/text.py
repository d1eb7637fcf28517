"""Remote text made safe at the two boundaries: where it enters, and where a person reads it.

`without_lone_surrogates` where text is decoded (JSON escapes, UTF-7 and escape codecs can make
half a surrogate pair, which no later `.encode()` — hashing, SQLite, printing — accepts);
`printable` where every command prints or writes its output (a BEL or an ESC sequence in a title
would ring, recolour or rewrite the operator's terminal).
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 controls but tab and newline (our own layout), DEL, C1 controls, line/paragraph separators
and the bidirectional overrides that reorder what a line appears to say."""


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (valid pairs never survive decoding as two)."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def printable(text: str) -> str:
    """`text` with each control character written as `\\uXXXX`, which is also a valid JSON string
    escape: JSON output stays valid and means the same, text output shows what was there."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
