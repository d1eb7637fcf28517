"""What inline scripts write or redirect to, read without executing anything.

Decodes the simple obfuscations 暗链 injectors use — string literals joined with `+`, `unescape`,
`decodeURIComponent`, `atob`, `String.fromCharCode`, nested a few levels, inside `document.write`
or `eval` — and finds `location` assignments. Pure and bounded (`MAX_SCRIPT_CHARS`,
`MAX_PAYLOAD_CHARS`, `MAX_DEPTH`); never raises.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote

MAX_SCRIPT_CHARS = 200_000
"""Longest inline script read."""

MAX_PAYLOAD_CHARS = 200_000
"""Most decoded characters kept per page (a payload can expand; the budget caps it)."""

MAX_DEPTH = 3
"""Nesting of decoders followed (unescape(atob(...)) is two)."""

TRIGGERS = ("document.write", "eval(", "atob(", "unescape(", "fromcharcode", "decodeuricomponent(")
"""A script is decoded only when it contains one of these (lower-case)."""

_LITERAL = r"""(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
_CONCAT = re.compile(rf"{_LITERAL}(?:\s*\+\s*{_LITERAL})*")
_ONE_LITERAL = re.compile(_LITERAL)
_DECODER_CALL = re.compile(rf"\b(unescape|decodeURIComponent|atob)\s*\(\s*({_CONCAT.pattern})\s*\)")
_CHAR_CODES = re.compile(r"String\.fromCharCode\s*\(\s*([\d\s,]{1,20000})\)")
_WRITE_CALL = re.compile(rf"document\.write(?:ln)?\s*\(\s*({_CONCAT.pattern})")
_JS_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_REDIRECT = re.compile(
    rf"(?:(?:window|top|self|document|parent)\.)?location(?:\.href)?\s*=\s*({_CONCAT.pattern})"
    rf"|location\.(?:replace|assign)\s*\(\s*({_CONCAT.pattern})"
)


@dataclass(frozen=True)
class Payload:
    """Text a script writes into the page: `encoded` when it had to be decoded to be read."""

    text: str
    encoded: bool


def literal_value(concatenation: str) -> str:
    """`'a'+"b\\x63"` -> `abc`: the joined value of string literals in JavaScript syntax."""
    return "".join(_unescape_js(literal[1:-1]) for literal in _ONE_LITERAL.findall(concatenation))


def payloads(script: str) -> list[Payload]:
    """Decoded HTML/JS a script writes or evaluates (empty for scripts without the triggers)."""
    script = script[:MAX_SCRIPT_CHARS]
    if not any(trigger in script.lower() for trigger in TRIGGERS):
        return []
    found: list[Payload] = []
    _collect(script, 0, found, [MAX_PAYLOAD_CHARS])
    return found


def redirects(script: str) -> list[str]:
    """URLs a script sends the browser to on load (`location.href = '…'`, `location.replace('…')`).

    Assignments inside braces (a function, a handler, an `if`) are left out: a search box that
    sends visitors to a search engine on submit is not a redirect of the page.
    """
    targets: list[str] = []
    if "location" not in script:
        return targets
    script = script[:MAX_SCRIPT_CHARS]
    for match in _REDIRECT.finditer(script):
        before = script[: match.start()]
        if before.count("{") > before.count("}"):
            continue  # inside a function or handler: not a redirect on load
        value = literal_value(match.group(1) or match.group(2) or "")
        if value:
            targets.append(value)
    return targets


def _collect(text: str, depth: int, found: list[Payload], budget: list[int]) -> None:
    for match in _WRITE_CALL.finditer(text):
        _keep(Payload(literal_value(match.group(1)), depth > 0), found, budget)
    if depth >= MAX_DEPTH:
        return
    for decoded in _decoded_calls(text):
        if budget[0] <= 0:
            return
        _keep(Payload(decoded, True), found, budget)
        _collect(decoded, depth + 1, found, budget)


def _keep(payload: Payload, found: list[Payload], budget: list[int]) -> None:
    if payload.text and budget[0] > 0:
        text = payload.text[: budget[0]]
        budget[0] -= len(text)
        found.append(Payload(text, payload.encoded))


def _decoded_calls(text: str) -> list[str]:
    decoded = []
    for match in _DECODER_CALL.finditer(text):
        value = literal_value(match.group(2))
        decoded.append(_atob(value) if match.group(1) == "atob" else unquote(value))
    for match in _CHAR_CODES.finditer(text):
        codes = [int(code) for code in match.group(1).replace(" ", "").split(",") if code.strip().isdigit()]
        decoded.append("".join(chr(code) for code in codes if 0 < code < 0x110000))
    return [value for value in decoded if value]


def _atob(value: str) -> str:
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=False)
    except (binascii.Error, ValueError):
        return ""
    return raw.decode("utf-8", errors="replace")


def _unescape_js(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "xu" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, code)

    return _JS_ESCAPE.sub(replace, body) if "\\" in body else body
