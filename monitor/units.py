"""Durations and sizes as people write them in config.yaml and on the command line.

`30s`, `10m`, `1h`, `7d`, `500ms` or plain seconds; `5MiB`, `512KiB`, `1MB` or plain bytes. Used by
the config and by the report's `--last`; no other dependencies.
"""

from __future__ import annotations

import math
import re
from typing import Any

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}


def parse_duration(value: Any) -> float:
    """`30s`, `10m`, `1h`, `7d`, `500ms` or plain seconds -> seconds (float)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 10m, 1h, 7d or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION_RE.match(str(value)) if isinstance(value, str) else None
        if not match:
            raise ValueError(f"expected a duration like 30s, 10m, 1h, 7d or a number of seconds, got {value!r}")
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if not math.isfinite(seconds):
        raise ValueError("a duration must be a finite number")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def format_duration(seconds: float) -> str:
    """604800.0 -> '7d', 600.0 -> '10m', 2.5 -> '2.5s' (the largest unit up to days that divides it)."""
    for unit in ("d", "h", "m"):
        size = _DURATION_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def parse_size(value: Any) -> int:
    """`5MiB`, `512KiB`, `1MB` or plain bytes -> bytes (int)."""
    if isinstance(value, bool):
        raise ValueError("expected a size like 5MiB, 512KiB or a number of bytes")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE_RE.match(str(value)) if isinstance(value, str | float) else None
        if not match:
            raise ValueError(f"expected a size like 5MiB, 512KiB or a number of bytes, got {value!r}")
        size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])
    if size < 0:
        raise ValueError("a size cannot be negative")
    return size
