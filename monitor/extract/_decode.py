"""Bytes + HTTP headers -> text: BOM, HTTP charset, <meta> charset, then UTF-8 / GB18030 sniffing.

Pure and total: no I/O, never raises. A declared charset is a hint, not the truth — a "lying"
declaration (GBK bytes labelled UTF-8 or the reverse) still decodes right. GBK and GB2312 are
decoded as GB18030, their superset.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from monitor.text import without_lone_surrogates

META_SCAN_BYTES = 4096
"""How far into the body a <meta> charset declaration is looked for."""

MAX_REPLACEMENT_RATIO = 0.02
"""Above this share of U+FFFD characters the body is not text in any encoding we know."""

MAX_CONTROL_RATIO = 0.05
"""Above this share of C0 control characters (not tab/newline/CR/FF) the body is binary."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_BINARY_MAGIC: tuple[bytes, ...] = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"%PDF-",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"RIFF",
    b"\xd0\xcf\x11\xe0",
)

_GB_FAMILY = frozenset(
    {
        *("gbk", "gb2312", "gb18030", "hz", "cp936", "euc_cn", "euccn", "euc-cn", "x-gbk", "gb_2312"),
        *("gb_2312-80", "csgb2312", "chinese", "iso-ir-58", "csiso58gb231280", "windows-936", "ms936"),
    }
)
"""Codec names and WHATWG labels of the GB family (some unknown to `codecs.lookup`), read as GB18030."""

_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_META_TAG = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])
"""C0 controls that do not occur in text (tab, newline, form feed and CR do)."""


@dataclass(frozen=True)
class Decoded:
    """A decoded body: the text, the codec actually used, and whether it is text at all."""

    text: str
    encoding: str
    is_text: bool


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTTP body to text, trusting declarations only as far as the bytes agree."""
    if not body:
        return Decoded("", "utf-8", True)
    if _looks_binary(body):
        return Decoded("", "binary", False)
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _finish(body[len(bom) :].decode(codec, errors="replace"), codec)
    declared = _declared_codecs(body, content_type)
    text, codec = _decode_with_candidates(body, declared)
    return _finish(text, codec)


def normalise_codec(name: str) -> str | None:
    """Canonical codec name for a declared charset label, or None if Python does not know it."""
    label = name.strip().strip("\"'").lower()
    if label in _GB_FAMILY:
        return "gb18030"
    try:
        canonical = codecs.lookup(label).name
    except LookupError:
        return None
    if canonical in _GB_FAMILY:
        return "gb18030"
    if canonical in {"ascii", "latin-1", "iso8859-1"}:
        # Browsers read these labels as windows-1252 (WHATWG Encoding), a superset.
        return "cp1252"
    return "utf-8" if canonical == "utf-8" else canonical


def _finish(text: str, codec: str) -> Decoded:
    """Wrap the decoded text, judging from its contents whether it is text at all.

    Some codecs a page may declare (utf-7, unicode-escape) decode to lone surrogates, which no
    later `.encode()` accepts: they become U+FFFD here, where remote bytes become text."""
    text = without_lone_surrogates(text)
    return Decoded(text, codec, _is_plausible_text(text))


def _looks_binary(body: bytes) -> bool:
    """True for bodies that start like a known binary format or carry NUL bytes early on."""
    head = body[:1024]
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        return True
    has_utf16_bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    return b"\x00" in head and not has_utf16_bom


def _declared_codecs(body: bytes, content_type: str | None) -> list[str]:
    """Codecs declared by the HTTP header, then by the document itself, known ones only, in order."""
    labels: list[bytes] = []
    if content_type:
        labels += _CHARSET_PARAM.findall(content_type.encode("latin-1", errors="replace"))
    head = body[:META_SCAN_BYTES]
    xml_decl = _XML_DECL.match(head)
    if xml_decl:
        labels.append(xml_decl.group(1))
    for tag in _META_TAG.findall(head):
        labels += _CHARSET_PARAM.findall(tag)[:1]
    codecs_in_order: list[str] = []
    for label in labels:
        codec = normalise_codec(label.decode("ascii", errors="replace"))
        # A UTF-16/32 label on a body without BOM and without NULs (those are binary) is a lie.
        if codec and codec not in codecs_in_order and not codec.startswith(("utf-16", "utf-32")):
            codecs_in_order.append(codec)
    return codecs_in_order


def _decode_with_candidates(body: bytes, declared: list[str]) -> tuple[str, str]:
    """Pick the first candidate codec that decodes the body cleanly; else the least damaging one.

    Valid multi-byte UTF-8 goes first whatever the declaration says: GBK text is practically never
    valid UTF-8, while UTF-8 text often decodes "cleanly" as GB18030 into mojibake.
    """
    if not body.isascii():
        utf8 = _strict(body, "utf-8")
        if utf8 is not None:
            return utf8, "utf-8"
    candidates = list(dict.fromkeys([*declared, "utf-8", "gb18030"]))
    for codec in candidates:
        text = _strict(body, codec)
        if text is not None:
            return text, codec
    scored = [(body.decode(codec, errors="replace"), codec) for codec in candidates]
    return min(scored, key=lambda pair: pair[0].count("\ufffd"))


def _strict(body: bytes, codec: str) -> str | None:
    """The body decoded with `codec`, or None when the bytes are not valid in it."""
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _is_plausible_text(text: str) -> bool:
    """False when the decoded text is mostly replacement or control characters (binary garbage)."""
    if not text:
        return True
    sample = text[:65536]
    if sample.count("\ufffd") / len(sample) > MAX_REPLACEMENT_RATIO:
        return False
    # Control characters are ASCII: count them in the ASCII part only, which C code extracts
    # and filters about twice as fast as a regex scans the whole (mostly CJK) text.
    ascii_part = sample.encode("ascii", errors="ignore")
    controls = len(ascii_part) - len(ascii_part.translate(None, _CONTROL_BYTES))
    return controls / len(sample) <= MAX_CONTROL_RATIO
