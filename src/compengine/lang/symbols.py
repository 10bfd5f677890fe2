"""What names mean in a plan: built-in fields, functions and the words of fixed choices."""

from __future__ import annotations

from compengine.core import units
from compengine.core.periods import MONTH_NAMES, PeriodKind
from compengine.core.plan import Aggregate, LimitScope
from compengine.core.rounding import RoundingLevel
from compengine.core.tiers import TierMode
from compengine.core.units import Type

#: Deal fields every deal has; `amount` is money in the plan's currency (see docs/data.md).
DEAL_FIELDS: dict[str, Type | None] = {
    "id": units.TEXT,
    "owner": units.PAYEE,
    "type": units.TEXT,
    "product": units.TEXT,
    "amount": None,  # money in the plan currency, filled in per plan
    "currency": units.TEXT,
    "close_date": units.DATE,
}

PAYEE_FIELDS: dict[str, Type] = {
    "id": units.PAYEE,
    "name": units.TEXT,
    "hire_date": units.DATE,
}

CREDIT_FIELDS: dict[str, Type | None] = {
    "amount": None,  # money in the plan currency
    "share": units.PERCENT,
    "date": units.DATE,
    "role": units.TEXT,
    "rule": units.TEXT,
}

FUNCTIONS = ("min", "max", "abs")

PERIOD_WORDS = {kind.value: kind for kind in PeriodKind}
ROUNDING_MODES = ("up", "even")
ROUNDING_LEVELS = {level.value: level for level in RoundingLevel}
AGGREGATES = {a.value: a for a in Aggregate}
LIMIT_SCOPES = {s.value: s for s in LimitScope}
TIER_MODES = {m.value: m for m in TierMode}
MONTHS = {name: i + 1 for i, name in enumerate(MONTH_NAMES)}
