"""The syntax tree of a plan file, as the parser builds it and the checker reads it.

Every node keeps the span it was written at, so each diagnostic and each trace line can
point at the user's own text.  Operators are stored in canonical spelling (`×`, `/`, `>=`),
which is also how `compengine fmt` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from compengine.core.source import SourceSpan

# ------------------------------------------------------------------ expressions


@dataclass(eq=False)
class Expr:
    span: SourceSpan


@dataclass(eq=False)
class Literal(Expr):
    """kind: number | percent | money | duration | date | text | boolean."""

    kind: str
    value: object  # Decimal, date, str, bool, or (Decimal, unit) for durations
    currency: str | None = None
    unit: str | None = None  # duration unit as written


@dataclass(eq=False)
class NameRef(Expr):
    name: str


@dataclass(eq=False)
class FieldRef(Expr):
    scope: str  # deal | payee | credit
    name: str
    name_span: SourceSpan


@dataclass(eq=False)
class WindowedRef(Expr):
    name: str
    name_span: SourceSpan
    window: str  # a Window enum name


@dataclass(eq=False)
class TargetIncentive(Expr):
    window: str


@dataclass(eq=False)
class Call(Expr):
    name: str
    name_span: SourceSpan
    args: list[Expr]


@dataclass(eq=False)
class Binary(Expr):
    op: str  # + - × /
    left: Expr
    right: Expr


@dataclass(eq=False)
class Negate(Expr):
    operand: Expr


@dataclass(eq=False)
class Compare(Expr):
    op: str  # == != < <= > >=
    left: Expr
    right: Expr


@dataclass(eq=False)
class SetLit(Expr):
    items: list[Literal]


@dataclass(eq=False)
class IntervalLit(Expr):
    start: Expr
    end: Expr


@dataclass(eq=False)
class ListRef(Expr):
    """A list-valued attribute after `in`: `deal.account in payee.accounts`."""

    scope: str
    name: str
    name_span: SourceSpan


@dataclass(eq=False)
class Member(Expr):
    value: Expr
    collection: SetLit | IntervalLit | ListRef
    negated: bool


@dataclass(eq=False)
class BoolOp(Expr):
    op: str  # and | or
    operands: list[Expr]


@dataclass(eq=False)
class Not(Expr):
    operand: Expr


@dataclass(eq=False)
class IfThenElse(Expr):
    condition: Expr
    then: Expr
    otherwise: Expr


# ------------------------------------------------------------------ declarations


@dataclass(eq=False)
class Node:
    span: SourceSpan


@dataclass(eq=False)
class Word(Node):
    """A name written in a fixed-choice position (`quarterly`, `component`, `sum`...)."""

    text: str


@dataclass(eq=False)
class HeaderClause(Node):
    kind: str  # version | effective | currency | calculated | fiscal | rounding | ... | payment
    values: list[object]
    words: list[Word] = field(default_factory=list)


@dataclass(eq=False)
class PlanHeader(Node):
    name: Word
    title: str | None
    clauses: list[HeaderClause]


@dataclass(eq=False)
class Decl(Node):
    name: Word

    keyword = ""


@dataclass(eq=False)
class AttributeDecl(Decl):
    owner: str
    type_name: Word
    default: Literal | None
    is_list: bool = False

    keyword = "attribute"


@dataclass(eq=False)
class DatedValue(Node):
    value: Expr
    start: object | None  # date
    until: object | None


@dataclass(eq=False)
class ParameterDecl(Decl):
    type_name: Word | None
    values: list[DatedValue]

    keyword = "parameter"


@dataclass(eq=False)
class TableRow(Node):
    key: Literal | None  # None: the `otherwise` row
    values: list[DatedValue]


@dataclass(eq=False)
class TableDecl(Decl):
    type_name: Word | None
    key: Expr
    rows: list[TableRow]

    keyword = "table"


@dataclass(eq=False)
class CurvePoint(Node):
    at: Literal
    value: Literal


@dataclass(eq=False)
class CurveDecl(Decl):
    points: list[CurvePoint]

    keyword = "curve"


@dataclass(eq=False)
class Recipient(Node):
    kind: str  # owner | field | payees
    field_name: str | None
    share: Decimal | None  # percent as written (60 for 60%)
    condition: Expr | None = None  # `payees where <condition>`: every payee it holds for


@dataclass(eq=False)
class CreditDecl(Decl):
    where: Expr | None
    splits: bool
    recipients: list[Recipient]
    amount: Expr
    dated: Expr
    rollup: int | str | None = None  # levels, or "top"
    duplicates: str | None = None  # "once" | "per path"; None: not written (counts once)
    rollup_span: SourceSpan | None = None

    keyword = "credit"


@dataclass(eq=False)
class MeasureDecl(Decl):
    aggregate: Word
    credit: Word
    window: str | None
    where: Expr | None

    keyword = "measure"


@dataclass(eq=False)
class EarningsDecl(Decl):
    """`measure x = earnings of <reports> [from components a, b | from plan p]`."""

    reports: str  # direct | levels | all
    levels: int | None
    source_kind: str | None  # components | plan | None (every line)
    source_names: list[Word]

    keyword = "measure"


@dataclass(eq=False)
class QuotaDecl(Decl):
    key: str
    basis: str  # evenly | seasonal | per_period
    seasonality: list[Literal]

    keyword = "quota"


@dataclass(eq=False)
class LetDecl(Decl):
    type_name: Word | None
    expr: Expr

    keyword = "let"


@dataclass(eq=False)
class RuleDecl(Decl):
    """`rule <name> ["text"] sets <target> to <value> [when <condition>] [exception to a, b]`."""

    description: str | None
    target: Word
    value: Expr
    when: Expr | None
    exceptions: list[Word]

    keyword = "rule"


@dataclass(eq=False)
class Cell(Node):
    """One test of a decision-table row: any | equals | set | range | below | from."""

    kind: str
    values: list[Literal]


@dataclass(eq=False)
class DecisionRow(Node):
    cells: list[Cell]
    output: Expr


@dataclass(eq=False)
class DecisionDecl(Decl):
    type_name: Word | None
    policy: list[Word]  # [] (unique), [first], [unique], [collect, sum|max|min]
    policy_span: SourceSpan | None
    inputs: list[Expr]
    rows: list[DecisionRow]
    otherwise: Expr | None

    keyword = "decision"


@dataclass(eq=False)
class InputDecl(Decl):
    type_name: Word
    default: Literal | None

    keyword = "input"


@dataclass(eq=False)
class UseDecl(Node):
    """`use a, b from "shared/rates.comp"`."""

    names: list[Word]
    path: str
    path_span: SourceSpan


@dataclass(eq=False)
class LibraryHeader(Node):
    name: Word
    title: str | None


@dataclass(eq=False)
class RevisionDecl(Node):
    """`revision 4 effective 2026-07-01 ["why"]`: the declarations after it, up to the next
    revision, replace those of the same name from that date on."""

    version: int
    start: object  # date
    note: str | None


@dataclass(eq=False)
class Revision:
    marker: RevisionDecl
    decls: list[Decl]


# ------------------------------------------------------------------ components


@dataclass(eq=False)
class Clause(Node):
    pass


@dataclass(eq=False)
class CitesClause(Clause):
    text: str


@dataclass(eq=False)
class PerCreditClause(Clause):
    credit: Word
    where: Expr | None


@dataclass(eq=False)
class OnClause(Clause):
    amount: Expr


@dataclass(eq=False)
class OrderedClause(Clause):
    keys: list[Expr]


@dataclass(eq=False)
class RunningClause(Clause):
    window: str


@dataclass(eq=False)
class DuringClause(Clause):
    start: object
    until: object


@dataclass(eq=False)
class PaysClause(Clause):
    amount: Expr


@dataclass(eq=False)
class RateClause(Clause):
    rate: Expr


@dataclass(eq=False)
class TierRowNode(Node):
    kind: str  # below | between | above | point
    lower: Literal | None
    upper: Literal | None
    rate: Expr


@dataclass(eq=False)
class TiersClause(Clause):
    mode: Word
    against: Expr | None  # None: tiers on the amount
    rows: list[TierRowNode]


@dataclass(eq=False)
class MultiplierClause(Clause):
    factor: Expr
    when: Expr | None


@dataclass(eq=False)
class GateClause(Clause):
    condition: Expr


@dataclass(eq=False)
class LimitClause(Clause):
    kind: str  # cap | floor
    amount: Expr
    scope: Word


@dataclass(eq=False)
class TrueUpClause(Clause):
    window: str
    never_negative: bool


@dataclass(eq=False)
class ComponentDecl(Decl):
    description: str
    clauses: list[Clause]

    keyword = "component"


# ------------------------------------------------------------------ pay policies
# Draws, holdbacks and clawbacks: how a closed period's statement lines become payments.
# Their clauses are `Clause`s (a `during` clause is shared with components).


@dataclass(eq=False)
class RecoverableClause(Clause):
    """`recoverable` (an advance) or `not recoverable` (a guarantee)."""

    recoverable: bool


@dataclass(eq=False)
class TopsUpClause(Clause):
    """`tops up to 5,000 USD per period`."""

    amount: Literal
    per: Word


@dataclass(eq=False)
class FirstPeriodsClause(Clause):
    """`for the first 2 periods on the plan` / `for the first 2 periods after hire`."""

    count: int
    unit: Word  # period | periods
    after_hire: bool = False  # counted from the hire date, not from joining the plan


@dataclass(eq=False)
class RecoversClause(Clause):
    """`recovers at most 50% of earnings per period`."""

    rate: Literal
    per: Word


@dataclass(eq=False)
class OutstandingClause(Clause):
    """`outstanding at most 10,000 USD`."""

    amount: Literal


@dataclass(eq=False)
class TerminationClause(Clause):
    """`at termination forgiven` / `at termination owed`."""

    outcome: Word


@dataclass(eq=False)
class HoldsClause(Clause):
    """`holds 20% of new_business, new_logo_spiff`."""

    rate: Literal
    components: list[Word]


@dataclass(eq=False)
class ReleaseClause(Clause):
    """kind: year end | on | invoice paid | after."""

    kind: str
    on: object | None = None  # date, for `released on <date>`
    after: Literal | None = None  # duration, for `released after 90 days`


@dataclass(eq=False)
class ClawbackWindowClause(Clause):
    """`for deals cancelled or refunded within 180 days of the close date`."""

    length: Literal


@dataclass(eq=False)
class ReversesClause(Clause):
    """how: fully | pro rata by time | at the rate originally paid."""

    how: str


@dataclass(eq=False)
class DrawDecl(Decl):
    title: str | None
    clauses: list[Clause]

    keyword = "draw"


@dataclass(eq=False)
class HoldbackDecl(Decl):
    title: str | None
    clauses: list[Clause]

    keyword = "holdback"


@dataclass(eq=False)
class ClawbackDecl(Decl):
    title: str | None
    clauses: list[Clause]

    keyword = "clawback"


PayDecl = DrawDecl | HoldbackDecl | ClawbackDecl


@dataclass(eq=False)
class Comment:
    line: int
    column: int
    text: str


@dataclass(eq=False)
class PlanFile:
    path: str
    text: str
    header: PlanHeader | None
    decls: list[Decl]  # the base version's declarations
    items: list[Node]  # every header, use, revision and declaration in source order
    comments: list[Comment]
    library: LibraryHeader | None = None
    uses: list[UseDecl] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
