"""Numbers and dates for people: 3.2 × 10²⁶ FLOP, 1,987 samples, 3 Nov 2026 – 20 Nov 2026.

Empty values are None/"" here and callers omit them; nothing prints a placeholder such as "—".
"""

from __future__ import annotations

import math
from datetime import date, datetime

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def scientific(value: float, unit: str = "", digits: int = 2) -> str:
    """3.2e26 -> '3.2 × 10²⁶' (+ unit); small magnitudes stay plain ('1,200')."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}{' ' + unit if unit else ''}"
    exponent = math.floor(math.log10(abs(value)))
    if -3 <= exponent < 6:
        text = count(value) if float(value).is_integer() else f"{value:,.{digits + 1}g}"
    else:
        mantissa = value / 10**exponent
        if round(mantissa, digits - 1) >= 10:  # 9.99e25 rounds up to 10.0
            mantissa /= 10
            exponent += 1
        text = f"{mantissa:.{digits - 1}f} × 10{str(exponent).translate(_SUPERSCRIPT)}"
    return f"{text} {unit}" if unit else text


def count(n: float | int) -> str:
    """Counts with thousands separators: 1987 -> '1,987'."""
    return f"{int(n):,}"


def score(value: float | None, digits: int = 3) -> str:
    """A metric value: fixed decimals for ordinary magnitudes, scientific beyond; '' when absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 10**-digits):
        return scientific(value)
    return f"{value:,.{digits}f}"


def day(value: date | datetime | None) -> str:
    """'3 Nov 2026': unambiguous for every reader (no 11/03 vs 03/11)."""
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y}"


def period(start: date | None, end: date | None, as_of: date | None = None) -> str:
    """'3 Nov 2026 – 20 Nov 2026'; an open review says so instead of printing a single date."""
    if start and end:
        return f"{day(start)} – {day(end)}"
    if start:
        return f"{day(start)} – in progress{f' on {day(as_of)}' if as_of else ''}"
    if end:
        return f"until {day(end)}"
    return ""


def timestamp(value: datetime) -> str:
    """'20 Nov 2026 14:30 UTC' (report inputs are in UTC)."""
    return f"{day(value)} {value:%H:%M} UTC"
