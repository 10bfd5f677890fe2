"""The one place where amounts are rounded, and where rounded totals are shared out.

A plan declares its rounding policy (mode, places, level); the evaluator calls `round_amount`
at exactly the level the plan names and `allocate` wherever a rounded total has to be split
(over deals, or over the lines of a statement) so that the parts always re-add exactly.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from compengine.core.money import ZERO


class RoundingMode(Enum):
    HALF_UP = "half up"
    HALF_EVEN = "half even"

    @property
    def decimal_rounding(self) -> str:
        return decimal.ROUND_HALF_UP if self is RoundingMode.HALF_UP else decimal.ROUND_HALF_EVEN


class RoundingLevel(Enum):
    """Where rounding happens: each credit's payout, each component line, or the statement."""

    CREDIT = "credit"
    COMPONENT = "component"
    STATEMENT = "statement"


@dataclass(frozen=True, slots=True)
class RoundingPolicy:
    mode: RoundingMode
    places: int
    level: RoundingLevel

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.places)

    def describe(self) -> str:
        return f"{self.mode.value} to {self.places} places per {self.level.value}"

    def to_json(self) -> dict[str, object]:
        return {"mode": self.mode.name.lower(), "places": self.places, "level": self.level.value}


def round_amount(value: Decimal, policy: RoundingPolicy) -> Decimal:
    """Round one amount to the policy's places with the policy's mode."""
    return value.quantize(policy.quantum, rounding=policy.mode.decimal_rounding)


def allocate(total: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """Split `total` over `weights` pro rata, in whole quanta, so the parts add up to `total`.

    Largest-remainder method on exact fractions; ties go to the earlier weight, so the result
    depends only on the order the caller gives (callers sort by deal id).  When the weights
    already add up to `total` and are whole quanta, they are returned unchanged.  `total` must
    be a whole number of quanta; weights adding up to zero share nothing (the caller reports
    the amount as not attributable).
    """
    if not weights:
        return []
    if sum(weights, ZERO) == total and all(w == w.quantize(quantum) for w in weights):
        return list(weights)
    # Exact integer arithmetic (no Fraction: its gcd on every operation was the cost): every
    # weight as a whole number of 1/scale, scale being the common denominator of them all.
    ratios = [w.as_integer_ratio() for w in weights]
    scale = math.lcm(*(denominator for _, denominator in ratios))
    units = [numerator * (scale // denominator) for numerator, denominator in ratios]
    total_n, total_d = total.as_integer_ratio()
    quantum_n, quantum_d = quantum.as_integer_ratio()
    units_total, rest = divmod(total_n * quantum_d, total_d * quantum_n)
    if rest:
        raise ValueError(f"{total} is not a whole number of {quantum}")
    weight_sum = sum(units)
    if weight_sum == 0:
        raise ValueError("weights add up to zero")
    # part i ideally gets units_total * units[i] / weight_sum; floor it, then hand the units
    # left over to the largest remainders (remainders compare as rem / weight_sum)
    sign = 1 if weight_sum > 0 else -1
    floors: list[int] = []
    remainders: list[int] = []
    for unit in units:
        floor, remainder = divmod(units_total * unit, weight_sum)
        floors.append(floor)
        remainders.append(remainder * sign)
    left = units_total - sum(floors)
    order = sorted(range(len(units)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(part) * quantum for part in floors]


def round_shared(values: Sequence[Decimal], policy: RoundingPolicy) -> list[Decimal]:
    """Round a statement once and share the rounding over its lines.

    Cumulative rounding: line i gets R(S_i) - R(S_i-1), where S_i is the exact running sum, so
    the lines add up to the rounded total exactly and each is within one quantum of its exact
    value.  Lines keep the plan's component order.
    """
    shared: list[Decimal] = []
    running = ZERO
    previous = ZERO
    for value in values:
        running += value
        rounded = round_amount(running, policy)
        shared.append(rounded - previous)
        previous = rounded
    return shared
