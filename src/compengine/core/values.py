"""Plan values at run time: reading them from data text, and showing them to people.

At run time a value is a bare Python object chosen by its (statically checked) type:
`Decimal` for money, percentages, ratios, numbers and counts (a percentage is held as a
fraction, 8% as 0.08); `date`; `Duration`; `bool`; `str` for text and payee ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from compengine.core.money import HUNDRED, decimal_str, group_digits, parse_decimal, percent_text, trim
from compengine.core.periods import add_months
from compengine.core.units import Kind, Type


class _Missing:
    """An empty data cell for an attribute with no default: an error only if a rule reads it."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time in whole months and days (`36 months`, `90 days`)."""

    months: int = 0
    days: int = 0

    def add_to(self, day: date, sign: int = 1) -> date:
        moved = add_months(day, sign * self.months) if self.months else day
        return date.fromordinal(moved.toordinal() + sign * self.days)

    def comparable_with(self, other: Duration) -> bool:
        return (self.months == 0 and other.months == 0) or (self.days == 0 and other.days == 0)

    def key(self) -> tuple[int, int]:
        return (self.months, self.days)

    def __str__(self) -> str:
        parts = []
        if self.months:
            parts.append(f"{self.months} months")
        if self.days or not parts:
            parts.append(f"{self.days} days")
        return " ".join(parts)


def parse_value(text: str, type_: Type) -> Any:
    """Read a data cell as a value of `type_`; raises ValueError with a reason for people."""
    raw = text.strip()
    kind = type_.kind
    if kind in (Kind.MONEY, Kind.NUMBER, Kind.RATIO):
        return parse_decimal(raw)
    if kind is Kind.COUNT:
        value = parse_decimal(raw)
        if value != value.to_integral_value():
            raise ValueError(f"{raw!r} is not a whole count")
        return value
    if kind is Kind.PERCENT:
        if not raw.endswith("%"):
            raise ValueError(f"{raw!r} is not a percentage (write it like 12.5%)")
        return parse_decimal(raw[:-1]) / HUNDRED
    if kind is Kind.DATE:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a date (write it as YYYY-MM-DD)") from None
    if kind is Kind.BOOLEAN:
        lowered = raw.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise ValueError(f"{raw!r} is not true or false")
    if kind is Kind.DURATION:
        return _parse_duration(raw)
    if kind is Kind.TEXT_LIST:
        return tuple(item.strip() for item in raw.split(";") if item.strip())
    return raw


def _parse_duration(raw: str) -> Duration:
    number, _, unit = raw.partition(" ")
    count = int(parse_decimal(number))
    if unit.startswith("month"):
        return Duration(months=count)
    if unit.startswith("year"):
        return Duration(months=12 * count)
    if unit.startswith("day"):
        return Duration(days=count)
    raise ValueError(f"{raw!r} is not a duration (write it like 90 days or 12 months)")


def show(value: Any, type_: Type | None, places: int | None = None) -> str:
    """A value as a person reads it: `12,000.00 USD`, `8%`, `105.25%`, `2026-03-01`."""
    if type_ is None:
        return str(value)
    kind = type_.kind
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind is Kind.MONEY and isinstance(value, Decimal):
        shown = group_digits(value, places) if places is not None else money_digits(value)
        return f"{shown} {type_.currency}" if type_.currency else shown
    if kind in (Kind.PERCENT, Kind.RATIO) and isinstance(value, Decimal):
        return percent_text(value)
    if kind in (Kind.NUMBER, Kind.COUNT) and isinstance(value, Decimal):
        return group_digits(trim(value)) if abs(value) < Decimal("1e15") else decimal_str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def money_digits(value: Decimal) -> str:
    """Money with cents, or with every digit it has when it is finer than a cent."""
    cents = value.quantize(Decimal("0.01"))
    return group_digits(value, 2) if value == cents else group_digits(trim(value))


def to_json_value(value: Any) -> Any:
    """A value in canonical JSON form: decimals and dates as strings."""
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
