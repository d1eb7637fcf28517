"""Recognise anti-bot challenge pages (瑞数, 加速乐, 磐云, Cloudflare) served with HTTP 200.

Cheap, specific byte signals, only on small pages with next to no visible text: a real page that
mentions a cookie or carries 瑞数's `r="m"` beside its content is not a challenge. No I/O.
"""

from __future__ import annotations

import re

CHALLENGE_MAX_BYTES = 64 * 1024
"""Challenge pages are a few KiB of script; anything larger is taken to be content."""

VISIBLE_TEXT_MAX_BYTES = 300
"""More visible text than this (≈100 Chinese characters) means a human-readable page: an app shell
behind 瑞数 carries its marker and a few hundred bytes of text, a challenge next to none."""

# (vendor, groups): every group must match, a group matches if any of its markers is present.
_SIGNATURES: tuple[tuple[str, tuple[tuple[bytes, ...], ...]], ...] = (
    ("ruishu", ((b"$_ts",), (b'r="m"', b"r='m'"))),
    ("jiasule", ((b"__jsl_clearance",), (b"document.cookie",), (b"location",))),
    ("panyun", ((b"panyun",), (b"challenge", b"Challenge"))),
    ("cloudflare", ((b"Just a moment...",), (b"challenge-platform", b"cf_chl", b"cf-chl"))),
    ("interstitial", (("请稍候".encode(), "请稍候".encode("gbk"), "請稍候".encode()),)),
)
_HIDDEN = re.compile(rb"<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(rb"<[^>]*>")
_SPACE = re.compile(rb"\s+|&nbsp;")


def challenge_vendor(body: bytes) -> str | None:
    """The anti-bot vendor whose challenge this body is, or None for an ordinary page."""
    if len(body) > CHALLENGE_MAX_BYTES or b"<script" not in body.lower():
        return None
    vendor = next((name for name, groups in _SIGNATURES if _matches(body, groups)), None)
    if vendor is None or visible_text_bytes(body) > VISIBLE_TEXT_MAX_BYTES:
        return None
    return vendor


def _matches(body: bytes, groups: tuple[tuple[bytes, ...], ...]) -> bool:
    return all(any(marker in body for marker in group) for group in groups)


def visible_text_bytes(body: bytes) -> int:
    """Bytes of text a reader would see: markup, scripts, styles and whitespace removed."""
    text = _TAG.sub(b"", _HIDDEN.sub(b"", body))
    return len(_SPACE.sub(b"", text))
