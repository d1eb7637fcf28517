"""The `links:` section (defaults and per site): link availability passes and sweeps."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from monitor.config._fields import Strict, duration_at_most

MAX_SWEEP_EVERY_S = 366 * 86400.0
"""Longest sweep cadence: a year (the inspectors' cycle is a month or a quarter)."""
MAX_LINK_SPACING_S = 60.0
"""Longest pause between two link requests to one host."""
_TIME_OF_DAY_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _time_of_day(value: Any) -> str:
    """'HH:MM' in the config's time zone (YAML may read 02:30 as a sexagesimal int: refuse it clearly)."""
    if not isinstance(value, str) or not _TIME_OF_DAY_RE.match(value.strip()):
        raise ValueError(f'expected a time of day like "02:30" (quoted), got {value!r}')
    hours, minutes = value.strip().split(":")
    return f"{int(hours):02d}:{minutes}"


def _exclude_patterns(patterns: list[str]) -> list[str]:
    """Link exclusion patterns: a shell glob over the whole URL, or `re:` and a regular expression."""
    for pattern in patterns:
        if not pattern:
            raise ValueError("an exclusion pattern cannot be empty")
        if pattern.startswith("re:"):
            try:
                re.compile(pattern[3:])
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    return patterns


TimeOfDay = Annotated[str, BeforeValidator(_time_of_day)]
SweepEvery = Annotated[float, BeforeValidator(duration_at_most(MAX_SWEEP_EVERY_S, positive=True))]
LinkSpacing = Annotated[float, BeforeValidator(duration_at_most(MAX_LINK_SPACING_S))]
ExcludePatterns = Annotated[list[str], AfterValidator(_exclude_patterns)]


class LinksConfig(Strict):
    """Link availability (链接可用性): the daily homepage pass and the periodic site sweep."""

    enabled: bool = True
    homepage_at: TimeOfDay = "02:00"
    sweep_every: SweepEvery = 7 * 86400.0
    max_depth: int = Field(3, ge=0, le=50)
    max_pages: int = Field(5000, ge=1, le=1_000_000)
    max_links: int = Field(100_000, ge=1, le=10_000_000)
    concurrency: int = Field(2, ge=1, le=100)
    spacing: LinkSpacing = 0.5
    suspect_passes: int = Field(3, ge=1, le=100)
    respect_robots: bool = True
    exclude: ExcludePatterns = Field(default_factory=list)


class SiteLinks(Strict):
    """A site's partial override of `defaults.links` (`exclude` adds to the global patterns)."""

    enabled: bool | None = None
    homepage_at: TimeOfDay | None = None
    sweep_every: SweepEvery | None = None
    max_depth: int | None = Field(None, ge=0, le=50)
    max_pages: int | None = Field(None, ge=1, le=1_000_000)
    max_links: int | None = Field(None, ge=1, le=10_000_000)
    concurrency: int | None = Field(None, ge=1, le=100)
    spacing: LinkSpacing | None = None
    suspect_passes: int | None = Field(None, ge=1, le=100)
    respect_robots: bool | None = None
    exclude: ExcludePatterns | None = None
