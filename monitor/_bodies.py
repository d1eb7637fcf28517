"""Collect a response body under a byte cap, decoding gzip (every member) and deflate in bounded steps.

The cap applies to decoded bytes and no step ever produces more than `STEP_BYTES`, so a
decompression bomb costs at most cap + one step of memory. No I/O, no charset decoding here.
"""

from __future__ import annotations

import zlib

STEP_BYTES = 64 * 1024
"""Most decoded bytes one decompression call may produce."""

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
        pending = raw
        while True:
            if self._inflater.eof:
                pending = self._next_member(self._inflater.unused_data + pending)
            if not pending:
                return
            room = self._cap + 1 - len(self._buffer)
            self._keep(self._inflater.decompress(pending, min(room, STEP_BYTES)))
            pending = self._inflater.unconsumed_tail

    def _next_member(self, rest: bytes) -> bytes:
        """After the end of one gzip member, what follows: another member (RFC 1952 allows any
        number; `gzip -c a b` and some servers' flushes make them) or nothing to decode.

        Trailing zero padding ends the body; other bytes after a deflate stream are ignored, as before.
        """
        if self._encoding != "gzip" or not rest.strip(b"\0"):
            return b""
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
