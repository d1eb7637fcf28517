"""The content hash a check records: a page's body (and the tracker's item URLs) as 64 bits.

Stored in SQLite INTEGER columns (`checks.content_hash`, `page_state.content_hash`), so signed.
"""

from __future__ import annotations

import hashlib


def content_hash(data: bytes) -> int:
    """64-bit signed hash of content (fits a SQLite INTEGER)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)
