"""The types of plan values and the unit algebra that keeps money from being added to rates.

Units are checked when a plan is compiled, so evaluation can run on bare `Decimal` values:
a plan that checks can never add dollars to euros or a rate to an amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    MONEY = "money"
    PERCENT = "percent"
    RATIO = "ratio"
    NUMBER = "number"
    COUNT = "count"
    DATE = "date"
    DURATION = "duration"
    BOOLEAN = "boolean"
    TEXT = "text"
    PAYEE = "payee"
    TEXT_LIST = "text list"


#: Kinds whose values are plain decimals without a currency; they compare with one another.
DIMENSIONLESS = frozenset({Kind.PERCENT, Kind.RATIO, Kind.NUMBER, Kind.COUNT})
NUMERIC = DIMENSIONLESS | {Kind.MONEY}


@dataclass(frozen=True, slots=True)
class Type:
    """A value type; money carries its currency (`None` only while a plan is being checked)."""

    kind: Kind
    currency: str | None = None

    def __str__(self) -> str:
        if self.kind is Kind.MONEY:
            return f"money ({self.currency})" if self.currency else "money"
        return str(self.kind.value)

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC

    @property
    def is_dimensionless(self) -> bool:
        return self.kind in DIMENSIONLESS


def money(currency: str | None) -> Type:
    return Type(Kind.MONEY, currency)


PERCENT = Type(Kind.PERCENT)
RATIO = Type(Kind.RATIO)
NUMBER = Type(Kind.NUMBER)
COUNT = Type(Kind.COUNT)
DATE = Type(Kind.DATE)
DURATION = Type(Kind.DURATION)
BOOLEAN = Type(Kind.BOOLEAN)
TEXT = Type(Kind.TEXT)
PAYEE = Type(Kind.PAYEE)
TEXT_LIST = Type(Kind.TEXT_LIST)

#: Type names a plan may write in a declaration (`deal attribute term: count`).
TYPE_NAMES: dict[str, Kind] = {k.value: k for k in Kind if k is not Kind.TEXT_LIST}


class UnitError(Exception):
    """Two operands whose units cannot be combined; the message says why in plan terms."""


def _same_money(a: Type, b: Type) -> bool:
    return a.kind is Kind.MONEY and b.kind is Kind.MONEY and a.currency == b.currency


def _dimensionless_result(a: Type, b: Type) -> Type:
    if a == b:
        return a
    if {a.kind, b.kind} <= {Kind.NUMBER, Kind.COUNT}:
        return NUMBER
    if Kind.RATIO in (a.kind, b.kind) or {a.kind, b.kind} == {Kind.PERCENT}:
        return RATIO
    return PERCENT if Kind.PERCENT in (a.kind, b.kind) else NUMBER


def add_type(op: str, a: Type, b: Type) -> Type:
    """Result type of `a + b` or `a - b`."""
    if a.kind is Kind.MONEY or b.kind is Kind.MONEY:
        if _same_money(a, b):
            return a
        if a.kind is Kind.MONEY and b.kind is Kind.MONEY:
            raise UnitError(f"cannot {_verb(op)} {a} and {b}: the currencies differ")
        raise UnitError(f"cannot {_verb(op)} {a} and {b}: money only adds to money")
    if a.is_dimensionless and b.is_dimensionless:
        return _dimensionless_result(a, b)
    if a.kind is Kind.DATE and b.kind is Kind.DURATION:
        return DATE
    if op == "+" and a.kind is Kind.DURATION and b.kind is Kind.DATE:
        return DATE
    if op == "-" and a.kind is Kind.DATE and b.kind is Kind.DATE:
        return DURATION
    if a.kind is Kind.DURATION and b.kind is Kind.DURATION:
        return DURATION
    raise UnitError(f"cannot {_verb(op)} {a} and {b}")


def multiply_type(a: Type, b: Type) -> Type:
    """Result type of `a × b`: money × rate is money; money × money is meaningless."""
    if a.kind is Kind.MONEY and b.is_dimensionless:
        return a
    if b.kind is Kind.MONEY and a.is_dimensionless:
        return b
    if a.is_dimensionless and b.is_dimensionless:
        if a.kind is Kind.COUNT and b.kind is Kind.COUNT:
            return COUNT
        return _dimensionless_result(a, b)
    if a.kind is Kind.MONEY and b.kind is Kind.MONEY:
        raise UnitError(f"cannot multiply {a} by {b}: money times money has no meaning")
    raise UnitError(f"cannot multiply {a} by {b}")


def divide_type(a: Type, b: Type) -> Type:
    """Result type of `a ÷ b`: money ÷ money is a ratio (attainment); money ÷ rate is money."""
    if a.kind is Kind.MONEY and b.kind is Kind.MONEY:
        if a.currency != b.currency:
            raise UnitError(f"cannot divide {a} by {b}: the currencies differ")
        return RATIO
    if a.kind is Kind.MONEY and b.is_dimensionless:
        return a
    if a.is_dimensionless and b.is_dimensionless:
        return RATIO if a.kind is not b.kind or a.kind is Kind.RATIO else NUMBER
    raise UnitError(f"cannot divide {a} by {b}")


def comparable(a: Type, b: Type) -> bool:
    """Whether `a` and `b` may be compared: percent and ratio compare; money needs one currency."""
    if a.is_dimensionless and b.is_dimensionless:
        return True
    if a.kind is Kind.MONEY or b.kind is Kind.MONEY:
        return _same_money(a, b)
    if {a.kind, b.kind} == {Kind.TEXT, Kind.PAYEE}:
        return True
    return a.kind is b.kind


def ordered(a: Type) -> bool:
    """Whether `<` and `>` mean something for values of this type."""
    return a.is_numeric or a.kind in (Kind.DATE, Kind.DURATION)


def _verb(op: str) -> str:
    return "add" if op == "+" else "subtract"
