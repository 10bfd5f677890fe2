"""Exact decimal arithmetic for money and rates.

All money and rates are `decimal.Decimal` evaluated under one fixed context, so a result
computed today, next year, on SQLite or on PostgreSQL is the same to the last digit.  Only
division can be inexact; it is carried to 34 significant digits and the plan's rounding policy
(see `rounding`) decides what is finally paid.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

#: The arithmetic context of every evaluation.  Part of a run's sealed record.
DECIMAL_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999999,
    Emax=999999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

#: The largest numbers data may hold: a quadrillion, to eighteen places.  Products and sums of
#: such numbers stay well inside the engine's 34 digits, so a typo of extra zeros is refused
#: at the door rather than failing a calculation later.
MAX_WHOLE_DIGITS = 15
MAX_FRACTION_DIGITS = 18
_PLAIN_NUMBER = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")
#: A plain number as it is usually written, within the digit limits: read without more checks.
_USUAL_NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,18})?")
_CURRENCY = re.compile(r"[A-Z]{3}")


def parse_decimal(text: str) -> Decimal:
    """Parse a plain decimal as written by people: `1200`, `1,200.50`, `-3.5`.

    Exponents, `NaN`, `Infinity` and stray characters are refused, so a typo in a data file
    can never become a silently different amount.
    """
    if _USUAL_NUMBER.fullmatch(text):  # most cells: nothing to strip, and few enough digits
        return Decimal(text)
    cleaned = text.strip()
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not a decimal number (write it like 1200 or 1,200.50)")
    whole, _, fraction = cleaned.lstrip("-").replace(",", "").partition(".")
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS or len(fraction) > MAX_FRACTION_DIGITS:
        raise ValueError(
            f"{text!r} has more digits than an amount, rate or quantity can have "
            f"(at most {MAX_WHOLE_DIGITS} before the decimal point and {MAX_FRACTION_DIGITS} after it)"
        )
    return Decimal(cleaned.replace(",", ""))


def is_currency_code(text: str) -> bool:
    """True for a three-letter upper-case ISO 4217 style code such as `USD`."""
    return bool(_CURRENCY.fullmatch(text))


def decimal_str(value: Decimal) -> str:
    """The canonical text of a decimal: fixed-point, never an exponent, sign only if negative."""
    return format(value if value else abs(value), "f")  # (zero: no "-0.00")


def group_digits(value: Decimal, places: int | None = None) -> str:
    """Human display with thousands separators: `1234567.5` -> `1,234,567.50` (places=2)."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN)
    return format(value if value else abs(value), ",f")  # `decimal_str` with the whole part's digits grouped


def trim(value: Decimal) -> Decimal:
    """The same number without trailing zeros after the point (`8.000` -> `8`)."""
    if value == value.to_integral_value():
        return value.quantize(ONE)
    return value.normalize()


def percent_text(fraction: Decimal, max_places: int = 2) -> str:
    """A fraction shown as a percentage: `0.085` -> `8.5%`, `1.0525` -> `105.25%`."""
    pct = fraction * HUNDRED
    rounded = pct.quantize(Decimal(1).scaleb(-max_places), rounding=decimal.ROUND_HALF_EVEN)
    shown = trim(rounded)
    prefix = "≈" if rounded != pct else ""
    return f"{prefix}{decimal_str(shown)}%"
