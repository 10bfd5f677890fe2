"""A compiled plan: the checked, typed rules of one plan version, ready to evaluate.

The language front end builds these objects from plan source; the evaluator runs them.
Expressions arrive as `Expression` objects wrapping a Python callable, so evaluation never
walks a syntax tree.  Every part keeps the source span it came from for the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any

from compengine.core.periods import FiscalCalendar, PeriodKind, Window
from compengine.core.rounding import RoundingPolicy
from compengine.core.source import SourceSpan
from compengine.core.tiers import TierMode
from compengine.core.timeline import Dated, Interval, Timeline
from compengine.core.units import Type
from compengine.core.values import Duration


class Level(IntEnum):
    """What an expression depends on, which decides where (and how often) it is computed.

    CONST: nothing.  DATED: only effective-dated values, so it is computed on the date of
    whatever asks for it.  PERIOD: a payee's figures for the period (measures, quotas, target
    incentive, payee attributes), computed once per payee and period as of the period's last
    day.  CREDIT: the deal or credit at hand, computed per credit.
    """

    CONST = 0
    DATED = 1
    PERIOD = 2
    CREDIT = 3


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression: `fn(scope)` computes it; `text` is how the plan wrote it.

    `parts` are the named values and fields it reads, shown when a condition is explained
    ("gate not met: attainment = 42% ...").
    """

    fn: Callable[[Any], Any]
    type: Type
    level: Level
    text: str
    span: SourceSpan
    parts: tuple[Expression, ...] = ()

    def __call__(self, scope: Any) -> Any:
        return self.fn(scope)


@dataclass(frozen=True, slots=True)
class PlanHeader:
    id: str
    title: str
    version: int
    effective: Interval
    currency: str
    period_kind: PeriodKind
    calendar: FiscalCalendar
    rounding: RoundingPolicy
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """A deal or payee attribute the plan reads, with its type and the value of an empty cell."""

    owner: str  # "deal" | "payee"
    name: str
    type: Type
    default: Any | None
    span: SourceSpan | None


class RecipientKind(Enum):
    OWNER = "owner"
    FIELD = "field"
    SPLITS = "deal splits"
    PAYEES = "payees where"


@dataclass(frozen=True, slots=True)
class PayeeMatch:
    """`payees where <condition>`: every payee the condition holds for (an overlay).

    The compiler splits the condition so matching needs no scan of every payee per deal:
    `payee_only` conjuncts pre-filter the payees once, each `join` (`payee.x == <deal side>`)
    is looked up in an index, and `residual` is what is left to test per candidate.
    """

    condition: Expression
    payee_only: Expression | None
    joins: tuple[tuple[str, Expression], ...]
    residual: Expression | None


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: RecipientKind
    field: str | None = None
    share: Decimal | None = None  # fraction; None means "all of it" for a single recipient
    match: PayeeMatch | None = None


@dataclass(frozen=True, slots=True)
class Rollup:
    """Managers above each recipient are credited too, `levels` deep (None: to the top)."""

    levels: int | None
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class CreditRule:
    name: str
    span: SourceSpan
    filter: Expression | None
    recipients: tuple[Recipient, ...]
    amount: Expression
    date: Expression
    rollup: Rollup | None = None
    counts_once: bool = True  # a payee reached by several paths is credited once, not per path
    dated_on_close: bool = False  # `dated deal.close_date`: a deal's credit date is known without evaluating anything


class Aggregate(Enum):
    SUM = "sum"
    COUNT = "count"
    MIN = "min"
    MAX = "max"
    AVERAGE = "average"


@dataclass(frozen=True, slots=True)
class MeasureDef:
    name: str
    span: SourceSpan
    aggregate: Aggregate
    credit: str
    window: Window
    filter: Expression | None
    type: Type


class QuotaBasis(Enum):
    ANNUAL_EVEN = "annual spread evenly"
    ANNUAL_SEASONAL = "annual spread by seasonality"
    PER_PERIOD = "per period"


@dataclass(frozen=True, slots=True)
class QuotaDef:
    name: str
    key: str  # the quota's name in the data
    span: SourceSpan
    basis: QuotaBasis
    seasonality: tuple[Decimal, ...] = ()
    type: Type | None = None


@dataclass(frozen=True, slots=True)
class ParameterDef:
    name: str
    span: SourceSpan
    type: Type
    timeline: Timeline[Any]


@dataclass(frozen=True, slots=True)
class TableRow:
    key: Any
    timeline: Timeline[Any]
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class TableDef:
    name: str
    span: SourceSpan
    type: Type
    key: Expression
    rows: Mapping[Any, TableRow]
    otherwise: TableRow | None


@dataclass(frozen=True, slots=True)
class CurveDef:
    name: str
    span: SourceSpan
    points: tuple[tuple[Decimal, Decimal], ...]
    type: Type


@dataclass(frozen=True, slots=True)
class LetDef:
    name: str
    span: SourceSpan
    expr: Expression


@dataclass(frozen=True, slots=True)
class EarningsDef:
    """What the payee's reports earned in the period: lines of their statements."""

    name: str
    span: SourceSpan
    levels: int | None  # 1: direct reports; None: all levels
    components: tuple[str, ...] | None  # only these components' lines
    plan: str | None  # only lines of this plan
    type: Type


@dataclass(frozen=True, slots=True)
class RuleDef:
    """One labelled rule setting a decided value; `overrides` are the rules it is an
    exception to, directly or through other exceptions."""

    name: str
    description: str | None
    span: SourceSpan
    value: Expression
    when: Expression | None
    overrides: frozenset[str]


@dataclass(frozen=True, slots=True)
class DecidedDef:
    """A value set by labelled rules (default logic with explicit exceptions)."""

    name: str
    span: SourceSpan
    type: Type
    rules: tuple[RuleDef, ...]


@dataclass(frozen=True, slots=True)
class DecisionCell:
    """A test on one input: any, equals (value), in (values), range [low, high), below, from."""

    kind: str
    values: tuple[Any, ...]

    def holds(self, value: Any) -> bool:
        kind = self.kind
        if kind == "any":
            return True
        if kind == "equals":
            return bool(value == self.values[0])
        if kind == "set":
            return value in self.values
        if kind == "range":
            return bool(self.values[0] <= value < self.values[1])
        if kind == "below":
            return bool(value < self.values[0])
        return bool(value >= self.values[0])


@dataclass(frozen=True, slots=True)
class DecisionRowDef:
    cells: tuple[DecisionCell, ...]
    output: Expression
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class DecisionTableDef:
    """A decision table read by a hit policy: unique, first, or collect sum/max/min."""

    name: str
    span: SourceSpan
    type: Type
    policy: str
    inputs: tuple[Expression, ...]
    rows: tuple[DecisionRowDef, ...]
    otherwise: Expression | None


@dataclass(frozen=True, slots=True)
class InputDef:
    """A per-payee value supplied as data for each period (inputs.csv)."""

    name: str
    span: SourceSpan
    type: Type
    default: Any | None


Definition = ParameterDef | TableDef | MeasureDef | QuotaDef | LetDef | CurveDef | EarningsDef | DecidedDef | DecisionTableDef | InputDef


@dataclass(frozen=True, slots=True)
class Conversion:
    """How deals in other currencies become plan currency: which rate type, on which date
    (the credit date, or the end of the credit's period), and how converted amounts round."""

    rate_type: str
    on: str  # "credit date" | "period end"
    rounding: RoundingPolicy | None


# ------------------------------------------------------------------ components
@dataclass(frozen=True, slots=True)
class PerCreditBasis:
    """Pay credit by credit, in a declared order, optionally tiering on a running total."""

    credit: str
    filter: Expression | None
    order: tuple[Expression, ...]
    running: Window


@dataclass(frozen=True, slots=True)
class AggregateBasis:
    """Pay on one period-level amount (`on` expression), or a plain `pays` expression."""

    amount: Expression | None


@dataclass(frozen=True, slots=True)
class PaysReward:
    amount: Expression


@dataclass(frozen=True, slots=True)
class RateReward:
    rate: Expression


@dataclass(frozen=True, slots=True)
class TierRow:
    lower: Decimal | None
    upper: Decimal | None
    rate: Expression
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class TieredReward:
    mode: TierMode
    against: Expression | None  # the quota for attainment tiers; None: tiers on the amount
    rows: tuple[TierRow, ...]  # bands, or points (lower = the point) for interpolated
    span: SourceSpan


Reward = PaysReward | RateReward | TieredReward


@dataclass(frozen=True, slots=True)
class Multiplier:
    factor: Expression
    when: Expression | None
    span: SourceSpan
    label: str = field(init=False)  # how a trace step names it, made once: "× 1.2 when deal.term_months >= 36"

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", f"× {self.factor.text}" + (f" when {self.when.text}" if self.when else ""))


@dataclass(frozen=True, slots=True)
class Gate:
    condition: Expression
    span: SourceSpan


class LimitKind(Enum):
    CAP = "cap"
    FLOOR = "floor"


class LimitScope(Enum):
    DEAL = "deal"
    PERIOD = "period"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Limit:
    kind: LimitKind
    amount: Expression
    scope: LimitScope
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class TrueUp:
    window: Window
    never_negative: bool
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    description: str
    cites: str | None
    span: SourceSpan
    basis: PerCreditBasis | AggregateBasis
    during: Interval | None
    reward: Reward
    multipliers: tuple[Multiplier, ...]
    gates: tuple[Gate, ...]
    limits: tuple[Limit, ...]
    true_up: TrueUp | None
    inputs: tuple[str, ...]  # every named definition it depends on, for the trace
    formula: str


# ------------------------------------------------------------------ pay policies
class PaymentTiming(Enum):
    """When earnings become payable: on booking, or once each deal's invoice is paid."""

    ON_BOOKING = "on booking"
    ON_INVOICE = "when the invoice is paid"


@dataclass(frozen=True, slots=True)
class DrawPolicy:
    """A draw: each period it applies, what is payable is topped up to `amount`.

    A recoverable draw is an advance, recovered from later earnings (at most `recovery_rate`
    of a period's earnings, with at most `outstanding_cap` outstanding); a draw that is not
    recoverable is a guarantee.  It applies for the payee's `first_periods` periods on the
    plan, or to the periods starting inside `during`, or (recoverable only) every period.
    """

    name: str
    title: str
    recoverable: bool
    amount: Decimal
    first_periods: int | None = None
    first_after_hire: bool = False  # the first periods count from the hire date, not from joining the plan
    during: Interval | None = None
    recovery_rate: Decimal | None = None  # fraction of the period's earnings
    outstanding_cap: Decimal | None = None
    forgiven_at_termination: bool = False  # else the outstanding balance stays owed
    span: SourceSpan | None = None


class ReleaseRule(Enum):
    YEAR_END = "at the fiscal year end"
    ON_DATE = "on a date"
    INVOICE_PAID = "when the invoice is paid"
    AFTER = "after a length of time"


@dataclass(frozen=True, slots=True)
class HoldbackPolicy:
    """`rate` of each positive line of `components` is held, and released by `release`."""

    name: str
    title: str
    rate: Decimal  # fraction of the line
    components: tuple[str, ...]
    release: ReleaseRule
    release_on: date | None = None
    release_after: Duration | None = None
    span: SourceSpan | None = None


class Reversal(Enum):
    FULL = "fully"
    PRO_RATA = "pro rata by time"
    ORIGINAL_RATE = "at the rate originally paid"


@dataclass(frozen=True, slots=True)
class ClawbackPolicy:
    """A deal cancelled or refunded within `window` of its close date has the earnings
    attributed to it reversed as `reversal` says."""

    name: str
    title: str
    window: Duration
    reversal: Reversal
    span: SourceSpan | None = None


@dataclass(frozen=True, slots=True)
class PayPolicies:
    timing: PaymentTiming = PaymentTiming.ON_BOOKING
    draws: tuple[DrawPolicy, ...] = ()
    holdbacks: tuple[HoldbackPolicy, ...] = ()
    clawbacks: tuple[ClawbackPolicy, ...] = ()


@dataclass(frozen=True)
class CompiledPlan:
    """One version of a plan.  A plan with revisions compiles to one CompiledPlan per version,
    each in effect over its `segment` of the plan's effective range."""

    header: PlanHeader
    source_sha256: str
    source_file: str
    attributes: Mapping[str, AttributeDef]  # "deal.x" / "payee.x"
    credits: Mapping[str, CreditRule]
    definitions: Mapping[str, Definition]
    levels: Mapping[str, Level]
    components: tuple[Component, ...]
    deal_attributes: tuple[AttributeDef, ...] = field(default=())
    payee_attributes: tuple[AttributeDef, ...] = field(default=())
    proration: str | None = None  # "calendar days" | "weekdays"
    changes: str | None = None  # "split" | "period end"
    conversion: Conversion | None = None
    segment: Interval | None = None  # this version's part of the effective range
    revision_note: str | None = None
    pay: PayPolicies | None = None  # None: paid on booking, no draws, holdbacks or clawbacks

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def version(self) -> int:
        return self.header.version

    @property
    def in_force(self) -> Interval:
        return self.segment or self.header.effective

    def in_effect(self, day: date) -> bool:
        return self.in_force.contains(day)


@dataclass(frozen=True)
class PlanFamily:
    """All versions of one plan, in date order: the base version and each revision."""

    versions: tuple[CompiledPlan, ...]

    @property
    def id(self) -> str:
        return self.versions[0].id

    @property
    def first(self) -> CompiledPlan:
        return self.versions[0]

    def at(self, day: date) -> CompiledPlan | None:
        """The version in force on `day`."""
        for version in self.versions:
            if version.in_effect(day):
                return version
        return None

    def for_period(self, start: date, end: date) -> CompiledPlan | None:
        """The version a period's statement follows: the one in force on its last day, or
        (when the plan ends inside the period) the last one in force during it."""
        last_day = date.fromordinal(end.toordinal() - 1)
        found = self.at(last_day)
        if found is not None:
            return found
        overlapping = [
            v
            for v in self.versions
            if (v.in_force.start is None or v.in_force.start < end) and (v.in_force.end is None or start < v.in_force.end)
        ]
        return overlapping[-1] if overlapping else None


def component_named(plan: CompiledPlan, name: str) -> Component | None:
    return next((c for c in plan.components if c.name == name), None)


def with_parameter(plan: CompiledPlan, name: str, value: Any) -> CompiledPlan:
    """A copy of `plan` in which parameter `name` has `value` on every date (for a what-if:
    "evaluate as if the plan said this").  `value` must already be a run-time value of the
    parameter's type (a `Decimal` for money, 0.12 for 12%); the original plan is unchanged.
    Everything else — sources, hashes, other values — stays as it was, so a trace shows the
    parameter's own clause with the value it was given."""
    definition = plan.definitions.get(name)
    if not isinstance(definition, ParameterDef):
        raise KeyError(name)
    overridden = ParameterDef(
        definition.name, definition.span, definition.type, Timeline([Dated(value, Interval(None, None), definition.span)])
    )
    return replace(plan, definitions={**plan.definitions, name: overridden})
