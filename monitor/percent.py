"""Percentages as every output prints them: rounded down, exactly, in decimal arithmetic.

One rule for the report (table, markdown, csv, zh) and `monitor status`: a value is never shown
higher than it is, so 99.9996% never reads as 100.000% and 4.96% never reads as 5.0% beside a
non-veto verdict. Pure formatting; no I/O.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

Ratio = Fraction | float | int


def exact(ratio: Ratio) -> Fraction:
    """The ratio as a fraction: a Fraction as is, a float by its shortest decimal form (0.57 is
    57/100, not the binary 0.56999...), so a float that reads 0.57 prints 57.000%."""
    if isinstance(ratio, Fraction):
        return ratio
    if isinstance(ratio, int):
        return Fraction(ratio)
    return Fraction(Decimal(repr(ratio)))


def pct(ratio: Ratio | None, digits: int = 3, *, none: str = "—") -> str:
    """`ratio` (0.57, or Fraction(57, 200) where the counts are known) as a percentage with
    `digits` decimals, rounded down exactly; `none` for an unknown ratio."""
    if ratio is None:
        return none
    scaled = exact(ratio) * 100 * 10**digits
    return f"{Decimal(math.floor(scaled)).scaleb(-digits):.{digits}f}%"


def ratio_of(part: int, whole: int) -> Fraction | None:
    """part / whole as an exact fraction; None when whole is 0 (no data is not 0% or 100%)."""
    return Fraction(part, whole) if whole else None
