"""Collect a response body under a byte cap, decoding gzip (every member) and deflate in bounded steps.

The cap applies to decoded bytes and no step ever produces more than `STEP_BYTES`, so a
decompression bomb costs at most cap + one step of memory. No I/O, no charset decoding here.
"""

from __future__ import annotations

import zlib

STEP_BYTES = 64 * 1024
"""Most decoded bytes one decompression call may produce."""
INPUT_STEP_BYTES = 4096
"""Most compressed bytes one decompression call is given."""
MAX_GZIP_MEMBERS = 1000
"""A page in more gzip members than this is not a real server's answer: `decode`, not a CPU sink."""
_GZIP_MAGIC = b"\x1f\x8b"

SUPPORTED_ENCODINGS = ("gzip", "deflate")
"""Content-Encodings we decode ourselves, so these are the only ones fetch advertises."""


class BodyTooLarge(Exception):
    """The decoded body passed the cap; reading stopped there."""


class BodyDecodeError(Exception):
    """The Content-Encoding is unsupported or the compressed stream is corrupt."""


class CappedBody:
    """Accumulates raw chunks of one response; `feed` raises BodyTooLarge past `cap` decoded bytes."""

    def __init__(self, content_encoding: str | None, cap: int) -> None:
        self._cap = cap
        self._buffer = bytearray()
        self._encoding = _normalise(content_encoding)
        self._inflater = self._new_inflater()
        self._finished = False  # the compressed stream ended; what follows is ignored
        self._members = 1
        self._carry = b""  # the start of a gzip member's magic, split from the rest by a chunk boundary

    @property
    def size(self) -> int:
        """Decoded bytes kept so far (at most cap + 1)."""
        return len(self._buffer)

    def feed(self, raw: bytes) -> None:
        if self._inflater is None:
            self._keep(raw)
            return
        try:
            self._inflate(raw)
        except zlib.error as exc:
            if not self._retry_as_raw_deflate():
                raise BodyDecodeError(f"corrupt {self._encoding} stream") from exc
            self._inflate(raw)

    def value(self) -> bytes:
        return bytes(self._buffer)

    def _new_inflater(self) -> zlib._Decompress | None:
        if self._encoding == "identity":
            return None
        if self._encoding == "gzip":
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        if self._encoding == "deflate":
            return zlib.decompressobj(zlib.MAX_WBITS)
        raise BodyDecodeError(f"unsupported Content-Encoding {self._encoding[:40]!r}")

    def _retry_as_raw_deflate(self) -> bool:
        # Some servers send "deflate" without the zlib header; browsers accept it, so do we.
        if self._encoding != "deflate" or self._buffer:
            return False
        self._encoding = "raw deflate"
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        return True

    def _inflate(self, raw: bytes) -> None:
        assert self._inflater is not None
        data = memoryview(self._carry + raw if self._carry else raw)
        self._carry = b""
        while data and not self._finished:
            if self._inflater.eof:
                data = self._next_member(data)
                continue
            piece = data[:INPUT_STEP_BYTES]
            room = self._cap + 1 - len(self._buffer)
            self._keep(self._inflater.decompress(piece, min(room, STEP_BYTES)))
            left = len(self._inflater.unconsumed_tail) + len(self._inflater.unused_data)
            data = data[len(piece) - left :]

    def _next_member(self, rest: memoryview) -> memoryview:
        """What follows the end of a compressed stream: another gzip member (RFC 1952 allows any
        number: `gzip -c a b`, servers that compress each flush), or bytes to ignore (zero padding,
        trailing bytes after a deflate stream), as browsers do. Returns what is left to inflate.

        Input is sliced (`INPUT_STEP_BYTES`) because zlib copies what follows a member's end, and
        members are counted: a stream of empty members must not cost unbounded time.
        """
        head = bytes(rest[:2])
        if self._encoding != "gzip" or not _GZIP_MAGIC.startswith(head):
            self._finished = True
            return rest[:0]
        if len(head) < len(_GZIP_MAGIC):  # the magic is split between two chunks
            self._carry = head
            return rest[:0]
        self._members += 1
        if self._members > MAX_GZIP_MEMBERS:
            raise BodyDecodeError(f"gzip body of more than {MAX_GZIP_MEMBERS} members")
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        return rest

    def _keep(self, decoded: bytes) -> None:
        room = self._cap + 1 - len(self._buffer)
        self._buffer += decoded[:room]
        if len(self._buffer) > self._cap:
            raise BodyTooLarge(f"body larger than {self._cap} bytes")


def _normalise(content_encoding: str | None) -> str:
    value = (content_encoding or "identity").strip().lower()
    if value in ("", "identity"):
        return "identity"
    return "gzip" if value == "x-gzip" else value
