"""Numbers formatted for people: the only place where the report turns floats into text.

Every function returns plain text (not HTML) and a dash for a missing value (None, NaN, pd.NA),
so a table cell never shows ``nan``. Negative numbers get a true minus sign (U+2212), as in
print, and a value that rounds to zero never shows as "-0.0".

>>> p_value(0.0004), p_value(0.0163), interval(-10.78, -6.79), percent(28.84)
('< 0.001', '0.016', '−10.8 to −6.8', '28.8%')
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

MISSING = "–"
"""Shown in place of a missing or undefined number."""

MINUS = "\u2212"


def is_missing(value: Any) -> bool:
    """True for None, pd.NA, NaT and NaN (and for infinities, which no table should show)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def decimal(value: Any, digits: int = 1) -> str:
    """`value` with `digits` decimals: ``decimal(-8.786) == "−8.8"``."""
    if is_missing(value):
        return MISSING
    text = f"{float(value):.{digits}f}"
    if text.startswith("-"):
        # Rounded to zero, the sign carries no information ("-0.0" reads as an error).
        text = text[1:] if float(text) == 0 else MINUS + text[1:]
    return text


def integer(value: Any) -> str:
    """A count: ``integer(12) == "12"``."""
    return MISSING if is_missing(value) else str(int(value))


def percent(value: Any, digits: int = 1) -> str:
    """A percentage already on the 0-100 scale: ``percent(28.84) == "28.8%"``."""
    return MISSING if is_missing(value) else decimal(value, digits) + "%"


def share(value: Any, digits: int = 1) -> str:
    """A share on the 0-1 scale as a percentage: ``share(0.5) == "50.0%"``."""
    return MISSING if is_missing(value) else percent(100 * float(value), digits)


def p_value(value: Any) -> str:
    """A p-value: ``"< 0.001"`` below 0.001, else 3 decimals (``"0.016"``)."""
    if is_missing(value):
        return MISSING
    p = float(value)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_statement(value: Any) -> str:
    """A p-value in running text: ``"p < 0.001"`` or ``"p = 0.016"``."""
    text = p_value(value)
    if text == MISSING:
        return "p not available"
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def interval(low: Any, high: Any, digits: int = 1, *, unit: str = "") -> str:
    """A confidence interval: ``interval(8.59, 22.68) == "8.6 to 22.7"``."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{decimal(low, digits)}{unit} to {decimal(high, digits)}{unit}"


def estimate_with_interval(value: Any, low: Any, high: Any, digits: int = 1) -> str:
    """An estimate and its 95% CI: ``"15.6 (8.6 to 22.7)"``."""
    if is_missing(value):
        return MISSING
    if is_missing(low) or is_missing(high):
        return decimal(value, digits)
    return f"{decimal(value, digits)} ({interval(low, high, digits)})"


def mean_sd(mean: Any, sd: Any, digits: int = 1) -> str:
    """A mean and its SD: ``"38.4 (21.0)"``; the SD is left out when undefined (n = 1)."""
    if is_missing(mean):
        return MISSING
    if is_missing(sd):
        return decimal(mean, digits)
    return f"{decimal(mean, digits)} ({decimal(sd, digits)})"


def count_share(count: Any, n: Any, digits: int = 1) -> str:
    """A count and its percentage of n: ``count_share(15, 30) == "15 (50.0%)"``."""
    if is_missing(count):
        return MISSING
    if is_missing(n) or int(n) == 0:
        return integer(count)
    return f"{int(count)} ({percent(100 * int(count) / int(n), digits)})"


def count_of(count: Any, n: Any, digits: int = 1) -> str:
    """A count out of n with its percentage: ``count_of(15, 30) == "15 of 30 (50.0%)"``."""
    if is_missing(count) or is_missing(n):
        return MISSING
    if int(n) == 0:
        return f"{int(count)} of 0"
    return f"{int(count)} of {int(n)} ({percent(100 * int(count) / int(n), digits)})"


def ratio(value: Any, digits: int = 2) -> str:
    """A ratio such as a rate ratio; an infinite one (no event on the other side) is "∞"."""
    if value is not None and not is_missing_nan(value) and math.isinf(float(value)):
        return "∞"
    return decimal(value, digits)


def is_missing_nan(value: Any) -> bool:
    """True for None, pd.NA, NaT and NaN only (an infinity is a value)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def ratio_interval(low: Any, high: Any, digits: int = 2) -> str:
    """A CI of a ratio, whose upper end may be infinite: ``"0.77 to 4.64"``, ``"0.00 to ∞"``."""
    if is_missing_nan(low) or is_missing_nan(high):
        return MISSING
    return f"{ratio(low, digits)} to {ratio(high, digits)}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "day") == "1 day"``, ``plural(3, "day") == "3 days"``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
