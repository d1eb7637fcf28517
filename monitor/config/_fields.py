"""Field types shared by the sections: bounded durations, sizes, request headers, NUL-free strings,
and the strict model base every section uses (unknown keys are errors)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from monitor.units import format_duration, parse_duration, parse_size

MAX_INTERVAL_S = 7 * 86400.0
"""Longest check and retry interval: a week, the national rules' longest window of evidence."""
MAX_TIMEOUT_S = 600.0
"""Longest check timeout: the national rule fails a visit after 15 s; ten minutes is generous."""
MAX_JITTER_S = 86400.0
"""Longest jitter (and at most half of a page's interval, see `_problems.py`)."""
MAX_RETENTION_S = 100 * 366 * 86400.0
"""Longest raw retention: a century (larger values only risk overflowing date arithmetic)."""


_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def duration_at_most(limit_s: float, *, positive: bool = False) -> Callable[[Any], float]:
    """A validator: a duration, bounded above (a year-long interval overflows the scheduler's dates)."""

    def check(value: Any) -> float:
        seconds = parse_duration(value)
        if positive:
            _positive(seconds)
        if seconds > limit_s:
            raise ValueError(f"must be at most {format_duration(limit_s)}, got {format_duration(seconds)}")
        return seconds

    return check


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("must be greater than zero")
    return seconds


def _request_headers(headers: dict[str, str]) -> dict[str, str]:
    """Names must be HTTP tokens, values free of control characters (a CR/LF would inject headers).

    Messages never repeat a value: these are where tokens and cookies live.
    """
    for name, value in headers.items():
        if not _HEADER_NAME_RE.match(name):
            raise ValueError(f"{name!r} is not a valid HTTP header name")
        if _CONTROL_RE.search(value):
            raise ValueError(f"the value of header {name!r} contains a control character (CR, LF, NUL…)")
    return headers


def no_nul(text: str) -> str:
    if "\0" in text:
        raise ValueError("contains a NUL character")
    return text


Interval = Annotated[float, BeforeValidator(duration_at_most(MAX_INTERVAL_S, positive=True))]
Timeout = Annotated[float, BeforeValidator(duration_at_most(MAX_TIMEOUT_S, positive=True))]
Jitter = Annotated[float, BeforeValidator(duration_at_most(MAX_JITTER_S))]
Retention = Annotated[float, BeforeValidator(duration_at_most(MAX_RETENTION_S, positive=True))]
Size = Annotated[int, BeforeValidator(parse_size)]
Headers = Annotated[dict[str, str], AfterValidator(_request_headers)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
