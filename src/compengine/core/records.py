"""Compact records of what an evaluation used and did: the raw material of every trace.

Evaluation appends these small, immutable records; `trace.build_line_trace` turns them into
the explainable tree on demand.  Keeping them flat keeps the per-credit loop cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from compengine.core.money import DECIMAL_CONTEXT
from compengine.core.source import SourceSpan
from compengine.core.timeline import Interval
from compengine.core.units import Type


@dataclass(frozen=True, slots=True)
class InputRecord:
    """A named value an evaluation used: a parameter, table lookup, measure, quota, let..."""

    kind: str
    name: str
    value: Any
    type: Type | None
    span: SourceSpan | None = None
    formula: str | None = None
    interval: Interval | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Term:
    """`sign × quantity × rate`: one slice of a tier, or a flat rate applied to an amount."""

    label: str
    quantity: Decimal
    rate: Decimal
    sign: int = 1
    band: int | None = None

    @property
    def value(self) -> Decimal:
        product = _CONTEXT.multiply(self.quantity, self.rate)  # the engine's precision, whoever asks (traces are built later)
        return product if self.sign > 0 else product.copy_negate()


#: The engine's context, for `Term.value`: asking a context to multiply is `*` under
#: `localcontext(...)` without switching contexts per term.  A copy, so the flags it raises
#: never reach the shared `DECIMAL_CONTEXT`.
_CONTEXT = DECIMAL_CONTEXT.copy()


@dataclass(frozen=True, slots=True)
class RewardDetail:
    """How the reward clause produced its amount, before multipliers, limits and gates.

    With terms, `value` is their sum; without, `value` was computed by `formula` directly.
    """

    kind: str  # "pays" | "rate" | "marginal" | "retroactive" | "interpolated"
    value: Decimal
    formula: str
    terms: tuple[Term, ...] = ()
    position: tuple[Decimal, Decimal] | None = None  # running total before/after, in money
    scale: Decimal | None = None  # the quota, when tiering on attainment


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the pipeline after the reward: a multiplier, limit, gate, true-up or
    rounding.  `after` follows from `before` and `operand`; steps that did not apply keep
    `after == before` and say why in `reason`."""

    kind: str  # "multiplier" | "cap" | "floor" | "gate" | "true_up" | "round"
    label: str
    before: Decimal
    after: Decimal
    operand: Decimal | None
    applied: bool
    reason: str
    span: SourceSpan | None = None


@dataclass(frozen=True, slots=True)
class CreditPayout:
    """What one credit earned on one component line, and how."""

    credit_id: str
    deal_id: str
    share: Decimal
    role: str
    credited: Decimal
    deal_amount: Decimal
    date: date
    reward: RewardDetail
    steps: tuple[Step, ...]
    payout: Decimal
    inputs: tuple[InputRecord, ...] = ()
    version: int | None = None  # the plan version it was paid under, when not the statement's
    paths: tuple[tuple[str, Decimal], ...] = ()  # how the deal reached the payee: (path, share)
    fx: tuple[str, str, str, str, Decimal] | None = None  # (from, to, rate type, date, rate)


@dataclass(frozen=True, slots=True)
class Attribution:
    """The part of a line that one deal accounts for (deal_id None: no deal behind it)."""

    deal_id: str | None
    amount: Decimal
