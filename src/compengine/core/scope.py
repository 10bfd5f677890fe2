"""Evaluation scopes: what a compiled expression can see while it runs.

A `DealScope` sees one deal (credit rules); a `PeriodScope` sees one payee in one period
(measures, quotas, target incentive); a `CreditScope` sees one credit inside a period.
Named definitions are computed on first use, remembered for the scope's lifetime, and
recorded so the trace can show every value a line depended on.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol

from compengine.core.coverage import Coverage, Run, coverage, spread
from compengine.core.data import Assignment, InputValue, Payee, QuotaFigure
from compengine.core.errors import EvaluationError
from compengine.core.money import ONE, ZERO
from compengine.core.periods import Period, Window
from compengine.core.plan import (
    Aggregate,
    CompiledPlan,
    CurveDef,
    DecidedDef,
    DecisionTableDef,
    EarningsDef,
    InputDef,
    LetDef,
    Level,
    MeasureDef,
    ParameterDef,
    QuotaBasis,
    QuotaDef,
    TableDef,
)
from compengine.core.records import InputRecord
from compengine.core.rounding import round_amount
from compengine.core.tiers import Point, interpolate
from compengine.core.units import money
from compengine.core.values import MISSING, parse_value

if TYPE_CHECKING:
    from compengine.core.crediting import Credit


class TeamEarnings(Protocol):
    """Where a manager's scope finds what the people below earned in a period."""

    def lines_below(self, manager_id: str, period: Period, levels: int | None) -> list[tuple[str, str, str, Decimal]]:
        """(payee, plan, component, amount) of every statement line of the reports."""
        ...


class Scope:
    """Shared machinery: memoised named values and the records the trace is built from.

    `fx` is the exchange rate into the plan's currency when the deal in view is in another
    currency (None otherwise); deal money fields pass through `money()` to be converted.
    """

    __slots__ = ("cache", "date", "fx", "plan", "records")

    def __init__(self, plan: CompiledPlan, day: date):
        self.plan = plan
        self.date = day
        self.cache: dict[str, Any] = {}
        self.records: dict[str, InputRecord] = {}
        self.fx: Decimal | None = None

    def money(self, amount: Any) -> Any:
        """A deal money field in the plan's currency: converted, and rounded as declared."""
        if self.fx is None or amount is None or amount is MISSING:
            return amount
        converted = amount * self.fx
        conversion = self.plan.conversion
        if conversion is not None and conversion.rounding is not None:
            converted = round_amount(converted, conversion.rounding)
        return converted

    def named(self, name: str) -> Any:
        try:
            return self.cache[name]
        except KeyError:
            pass
        definition = self.plan.definitions[name]
        if isinstance(definition, ParameterDef):
            value = self._parameter(definition)
        elif isinstance(definition, TableDef):
            value = self._table(definition)
        elif isinstance(definition, LetDef):
            value = definition.expr(self)
            self.records[name] = InputRecord("let", name, value, definition.expr.type, definition.span, definition.expr.text)
        elif isinstance(definition, DecidedDef):
            value = self._decided(definition)
        elif isinstance(definition, DecisionTableDef):
            value = self._decision(definition)
        else:
            value = self._period_value(definition)
        self.cache[name] = value
        return value

    def _period_value(self, definition: Any) -> Any:
        raise EvaluationError(f"{definition.name} can only be used where a payee and period are known", span=definition.span)

    def _parameter(self, definition: ParameterDef) -> Any:
        entry = definition.timeline.at(self.date)
        if entry is None:
            raise EvaluationError(f"parameter {definition.name} has no value on {self.date.isoformat()}", span=definition.span)
        self.records[definition.name] = InputRecord(
            "parameter", definition.name, entry.value, definition.type, entry.span or definition.span, interval=entry.interval
        )
        return entry.value

    def _table(self, definition: TableDef) -> Any:
        key = definition.key(self)
        row = definition.rows.get(key, definition.otherwise)
        if row is None:
            raise EvaluationError(
                f"table {definition.name} has no row for {key!r}{self._subject()}",
                span=definition.span,
                hint="add a row for it, or an `otherwise` row",
            )
        entry = row.timeline.at(self.date)
        if entry is None:
            raise EvaluationError(f"table {definition.name} row {key!r} has no value on {self.date.isoformat()}", span=row.span)
        self.records[definition.name] = InputRecord(
            "table",
            definition.name,
            entry.value,
            definition.type,
            entry.span or row.span,
            definition.key.text,
            entry.interval,
            {"key": key, "matched": "otherwise" if row is definition.otherwise and key not in definition.rows else repr(key)},
        )
        return entry.value

    def _decided(self, decided: DecidedDef) -> Any:
        """Default logic: of the rules whose conditions hold, drop those an applicable exception
        overrides; exactly one must remain."""
        applicable = [rule for rule in decided.rules if rule.when is None or rule.when(self)]
        overridden = {label for rule in applicable for label in rule.overrides}
        winners = [rule for rule in applicable if rule.name not in overridden]
        if not winners:
            raise EvaluationError(
                f"no rule sets {decided.name}{self._subject()}", span=decided.span, hint="add a rule without `when` for the general case"
            )
        if len(winners) > 1:
            first, second = winners[0], winners[1]
            raise EvaluationError(
                f"rules `{first.name}` ({first.span}) and `{second.name}` ({second.span}) both set {decided.name}{self._subject()}, "
                "and neither is an exception to the other",
                span=second.span,
                hint=f"write `exception to {first.name}` on the rule that should win",
            )
        winner = winners[0]
        value = winner.value(self)
        considered = tuple(
            (rule.name, rule.when.text if rule.when else None, rule in applicable, rule.name in overridden) for rule in decided.rules
        )
        self.records[decided.name] = InputRecord(
            "rule",
            decided.name,
            value,
            decided.type,
            winner.span,
            winner.value.text,
            detail={"rule": winner.name, "description": winner.description, "considered": considered},
        )
        return value

    def _decision(self, table: DecisionTableDef) -> Any:
        tested = [given(self) for given in table.inputs]
        matched = [i for i, row in enumerate(table.rows) if all(c.holds(v) for c, v in zip(row.cells, tested, strict=True))]
        policy = table.policy
        if policy.startswith("collect"):
            used = matched
            outputs = [table.rows[i].output(self) for i in used]
            if outputs:
                value = sum(outputs, ZERO) if policy == "collect sum" else (max(outputs) if policy == "collect max" else min(outputs))
            elif table.otherwise is not None or policy == "collect sum":
                value = table.otherwise(self) if table.otherwise is not None else ZERO
            else:
                raise self._no_row(table, tested)
        else:
            if policy == "unique" and len(matched) > 1:
                lines = ", ".join(str(table.rows[i].span.line) for i in matched)
                raise EvaluationError(f"rows at lines {lines} of decision table {table.name} all match{self._subject()}", span=table.span)
            used = matched[:1]
            if used:
                value = table.rows[used[0]].output(self)
            elif table.otherwise is not None:
                value = table.otherwise(self)
            else:
                raise self._no_row(table, tested)
        self.records[table.name] = InputRecord(
            "decision",
            table.name,
            value,
            table.type,
            table.rows[used[0]].span if used else table.span,
            f"hit policy {policy}",
            detail={
                "inputs": tuple((given.text, v) for given, v in zip(table.inputs, tested, strict=True)),
                "matched": tuple(table.rows[i].span.line for i in matched),
                "used": tuple(table.rows[i].span.line for i in used) or ("otherwise",),
            },
        )
        return value

    def _no_row(self, table: DecisionTableDef, tested: list[Any]) -> EvaluationError:
        shown = ", ".join(f"{given.text} = {v}" for given, v in zip(table.inputs, tested, strict=True))
        return EvaluationError(
            f"no row of decision table {table.name} matches {shown}{self._subject()}",
            span=table.span,
            hint="add a row for these values, or an `otherwise` row",
        )

    def curve(self, name: str, x: Decimal) -> Decimal:
        definition = self.plan.definitions[name]
        assert isinstance(definition, CurveDef)
        points = [Point(a, b) for a, b in definition.points]
        value, segment = interpolate(points, x)
        self.records[f"{name}@{x}"] = InputRecord(
            "curve", name, value, definition.type, definition.span, detail={"at": x, "segment": segment}
        )
        return value

    def _subject(self) -> str:
        return ""


class DealScope(Scope):
    """One deal, while credit rules decide who is credited with it."""

    __slots__ = ("attrs", "deal")

    def __init__(self, plan: CompiledPlan, deal: Any, attrs: Mapping[str, Any], day: date, fx: Decimal | None = None):
        super().__init__(plan, day)
        self.deal = deal
        self.attrs = attrs
        self.fx = fx

    def _subject(self) -> str:
        return f" (deal {self.deal.id})"


class MatchScope(DealScope):
    """A deal and one candidate payee, while `payees where ...` decides who is an overlay."""

    __slots__ = ("payee", "payee_attrs")

    def __init__(self, deal_scope: DealScope, payee: Payee, payee_attrs: Mapping[str, Any]):
        super().__init__(deal_scope.plan, deal_scope.deal, deal_scope.attrs, deal_scope.date, deal_scope.fx)
        self.cache = deal_scope.cache
        self.payee = payee
        self.payee_attrs = payee_attrs


@dataclass(frozen=True)
class PayeeFacts:
    """What the data says about one payee, as one plan reads it."""

    payee: Payee
    attrs: Mapping[str, Any]
    assignments: tuple[Assignment, ...]  # this payee on this plan, in date order
    credits: Mapping[str, list[Credit]]  # by credit rule, in date order
    quotas: Mapping[tuple[str, str], list[QuotaFigure]]  # (quota name, period label), by effective_from
    inputs: Mapping[tuple[str, str], InputValue] = field(default_factory=dict)  # (input, period label)
    team: TeamEarnings | None = None  # reports' statements, for earnings of reports

    covers: dict[tuple[str, str], Coverage | None] = field(default_factory=dict, compare=False)  # memo
    days_on: dict[tuple[str, date], bool] = field(default_factory=dict, compare=False)  # memo
    dates: dict[str, list[date] | None] = field(default_factory=dict, compare=False)  # memo: credit dates by rule
    throughout: dict[tuple[str, date, date], bool] = field(default_factory=dict, compare=False)  # memo

    def on_plan_throughout(self, plan: CompiledPlan, start: date, end: date) -> bool:
        """True if the payee was on `plan` every day of `[start, end)`, so `on_plan` need not be
        asked day by day: each period there has one run covering all of it.  False when not,
        or when unsure (a period whose coverage raises): callers then ask day by day."""
        key = (plan.header.id, start, end)
        found = self.throughout.get(key)
        if found is None:
            found = self.throughout[key] = self._covered(plan, start, end)
        return found

    def _covered(self, plan: CompiledPlan, start: date, end: date) -> bool:
        header = plan.header
        day = start
        while day < end:
            period = header.calendar.period_containing(header.period_kind, day)
            try:
                cover = self.coverage_of(plan, period)
            except EvaluationError:
                return False
            if cover is None or not any(run.start <= period.start and period.end <= run.end for run in cover.runs):
                return False
            day = period.end
        return True

    def credits_between(self, rule: str, start: date, end: date) -> Sequence[Credit]:
        """The rule's credits dated in `[start, end)`, in their order: a slice found by
        bisection rather than a scan of the whole year's credits for every period."""
        credits = self.credits.get(rule, ())
        if rule not in self.dates:
            found = [c.date for c in credits]
            self.dates[rule] = found if all(a <= b for a, b in pairwise(found)) else None
        days = self.dates[rule]
        if days is None:  # not in date order after all: scan
            return [c for c in credits if start <= c.date < end]
        return credits[bisect_left(days, start) : bisect_left(days, end)]

    def coverage_of(self, plan: CompiledPlan, period: Period) -> Coverage | None:
        key = (plan.id, period.label)
        if key not in self.covers:
            self.covers[key] = coverage(plan, self.payee, self.assignments, period)
        return self.covers[key]

    def on_plan(self, plan: CompiledPlan, day: date) -> bool:
        """Whether the payee was on `plan` on `day`: credits dated otherwise do not count for it."""
        key = (plan.header.id, day)
        try:
            return self.days_on[key]
        except KeyError:
            pass
        header = plan.header
        cover = self.coverage_of(plan, header.calendar.period_containing(header.period_kind, day))
        found = self.days_on[key] = cover is not None and cover.contains(day)
        return found

    def assignment_for(self, period: Period) -> Assignment | None:
        """The assignment covering `period`; a change of assignment inside it is an error."""
        found = [a for a in self.assignments if a.overlaps(period.start, period.end)]
        if len(found) > 1:
            rows = ", ".join(str(a.ref) for a in found if a.ref)
            raise EvaluationError(
                f"payee {self.payee.id} has {len(found)} assignments to plan {found[0].plan_id} during {period.label} ({rows})",
                hint="mid-period plan changes need a declared proration convention; "
                "until then, start and end assignments on period boundaries",
            )
        return found[0] if found else None


class PeriodScope(Scope):
    """One payee in one period; values are as of the period's last day."""

    __slots__ = ("assignment", "cover", "facts", "measure_credits", "payee", "payee_attrs", "period")

    def __init__(self, plan: CompiledPlan, facts: PayeeFacts, period: Period, assignment: Assignment):
        super().__init__(plan, period.last_day)
        self.facts = facts
        self.period = period
        self.assignment = assignment
        self.payee = facts.payee
        self.payee_attrs = facts.attrs
        self.measure_credits: dict[str, list[Credit]] = {}
        self.cover: Coverage | None = None

    def _subject(self) -> str:
        return f" (payee {self.payee.id}, {self.period.label})"

    def window_range(self, window: Window) -> tuple[date, date]:
        return self.plan.header.calendar.window(window, self.period)

    def credits_in(self, rule: str, window: Window) -> list[Credit]:
        start, end = self.window_range(window)
        facts, plan = self.facts, self.plan  # credits dated while off the plan do not count for it
        credits = facts.credits_between(rule, start, end)
        if facts.on_plan_throughout(plan, start, end):
            return list(credits)
        return [c for c in credits if facts.on_plan(plan, c.date)]

    def _period_value(self, definition: Any) -> Any:
        if isinstance(definition, MeasureDef):
            return self._measure(definition)
        if isinstance(definition, InputDef):
            return self._input(definition)
        if isinstance(definition, EarningsDef):
            return self._earnings(definition)
        raise EvaluationError(f"{definition.name} needs a window here", span=definition.span)

    def _input(self, definition: InputDef) -> Any:
        supplied = self.facts.inputs.get((definition.name, self.period.label))
        if supplied is None:
            if definition.default is None:
                raise EvaluationError(
                    f"payee {self.payee.id} has no {definition.name!r} input for {self.period.label}",
                    span=definition.span,
                    hint=f"add a row to inputs.csv: {self.payee.id},{definition.name},{self.period.label},<value>; or declare a default",
                )
            value, source = definition.default, "the plan's default"
        else:
            try:
                value = parse_value(supplied.value, definition.type)
            except ValueError as error:
                raise EvaluationError(f"{supplied.ref}, field value: {error} (input {definition.name} is {definition.type})") from None
            source = str(supplied.ref) if supplied.ref else "inputs"
        self.records[definition.name] = InputRecord(
            "input", definition.name, value, definition.type, definition.span, detail={"source": source}
        )
        return value

    def _earnings(self, definition: EarningsDef) -> Decimal:
        if self.facts.team is None:
            raise EvaluationError(f"{definition.name}: the reports' statements are not available here", span=definition.span)
        lines = self.facts.team.lines_below(self.payee.id, self.period, definition.levels)
        picked = [
            line
            for line in lines
            if (definition.plan is None or line[1] == definition.plan)
            and (definition.components is None or line[2] in definition.components)
        ]
        value = sum((line[3] for line in picked), ZERO)
        self.records[definition.name] = InputRecord(
            "earnings", definition.name, value, definition.type, definition.span, "earnings of reports", detail={"lines": tuple(picked)}
        )
        return value

    def _measure(self, measure: MeasureDef) -> Decimal:
        credits = self.credits_in(measure.credit, measure.window)
        if measure.filter is not None:
            credits = [c for c in credits if measure.filter(CreditScope(self, c))]
        self.measure_credits[measure.name] = credits
        amounts = [c.amount for c in credits]
        value = _aggregate(measure.aggregate, amounts)
        start, end = self.window_range(measure.window)
        self.records[measure.name] = InputRecord(
            "measure",
            measure.name,
            value,
            measure.type,
            measure.span,
            f"{measure.aggregate.value} of {measure.credit} {measure.window.value}",
            detail={
                "window": (start, end),
                "credits": tuple((c.deal.id, c.amount, c.date) for c in credits),
            },
        )
        return value

    def windowed(self, name: str, window: Window) -> Decimal:
        key = f"{name} {window.value}"
        if key in self.cache:
            return self.cache[key]  # type: ignore[no-any-return]
        definition = self.plan.definitions[name]
        assert isinstance(definition, QuotaDef)
        value, detail = self._quota(definition, window)
        self.cache[key] = value
        self.records[key] = InputRecord(
            "quota", name, value, money(self.plan.header.currency), definition.span, window.value, detail=detail
        )
        return value

    def _window_periods(self, window: Window) -> tuple[list[Period], list[Period]]:
        header = self.plan.header
        periods = header.calendar.periods_of_year(header.period_kind, self.period.fiscal_year)
        start, end = self.window_range(window)
        return periods, [p for p in periods if start <= p.start and p.end <= end]

    def _quota(self, quota: QuotaDef, window: Window) -> tuple[Decimal, dict[str, Any]]:
        """The quota over a window: each period's figure, weighed by the days the payee is on
        the plan when the plan prorates, summed over the periods of the window."""
        periods, covered = self._window_periods(window)
        if quota.basis is not QuotaBasis.PER_PERIOD and self.plan.proration is None:
            figures = self._quota_figures(quota, f"FY{self.period.fiscal_year}")
            if len(figures) == 1:  # one annual figure, no proration: share it out in one exact step
                annual = figures[0].amount
                if quota.basis is QuotaBasis.ANNUAL_EVEN:
                    value = annual if len(covered) == len(periods) else annual * len(covered) / len(periods)
                else:
                    value = annual * sum((quota.seasonality[p.index - 1] for p in covered), ZERO)
                return value, {"annual": annual, "periods": tuple(p.label for p in covered), "basis": quota.basis.value}
        total = ZERO
        parts: list[tuple[str, Decimal]] = []
        for period in covered:
            label = period.label if quota.basis is QuotaBasis.PER_PERIOD else f"FY{period.fiscal_year}"
            figures = self._quota_figures(quota, label)
            if quota.basis is QuotaBasis.PER_PERIOD:
                share = ONE
            elif quota.basis is QuotaBasis.ANNUAL_EVEN:
                share = ONE / len(periods) if len(periods) != 1 else ONE
            else:
                share = quota.seasonality[period.index - 1]
            amount = self._spread_period(
                period,
                lambda run, day, figures=figures, share=share: _in_effect(figures, day).amount * share,  # type: ignore[misc]
                [f.effective_from for f in figures if f.effective_from],
                f"payee {self.payee.id}'s {quota.key!r} quota",
            )
            total += amount
            parts.append((period.label, amount))
        detail: dict[str, Any] = {"periods": tuple(parts), "basis": quota.basis.value}
        return total, detail

    def _spread_period(self, period: Period, value_at: Callable[[Run | None, date], Decimal], breaks: list[date], what: str) -> Decimal:
        """One period's amount: as the data gives it, or weighed by coverage when prorating."""
        if self.plan.proration is None:
            day = period.last_day
            values = {value_at(None, d) for d in [period.start, *[b for b in breaks if period.start < b < period.end]]}
            if len(values) > 1 and self.plan.changes is None:
                raise EvaluationError(
                    f"{what} changes inside {period.label}, and the plan declares no convention for changes within a period",
                    hint="declare `assignment changes within a period use the period end` (or `are split`, with a proration)",
                )
            return value_at(None, day)
        cover = self.facts.coverage_of(self.plan, period)
        if cover is None:
            return ZERO
        return spread(cover, value_at, breaks, self.plan.changes, what)

    def _quota_figures(self, quota: QuotaDef, label: str) -> list[QuotaFigure]:
        figures = self.facts.quotas.get((quota.key, label))
        if not figures:
            raise EvaluationError(
                f"payee {self.payee.id} has no {quota.key!r} quota for {label}",
                span=quota.span,
                hint=f"add a row to quotas.csv: {self.payee.id},{quota.key},{label},<amount>,{self.plan.header.currency}",
            )
        for figure in figures:
            if figure.currency != self.plan.header.currency:
                raise EvaluationError(
                    f"payee {self.payee.id}'s {quota.key!r} quota for {label} is in {figure.currency}, "
                    f"but plan {self.plan.id} calculates in {self.plan.header.currency}",
                    span=quota.span,
                )
        return figures

    def target_incentive(self, window: Window) -> Decimal:
        key = f"target incentive {window.value}"
        if key in self.cache:
            return self.cache[key]  # type: ignore[no-any-return]
        periods, covered = self._window_periods(window)
        self._check_currency(self.assignment)
        if self.plan.proration is None:
            annual = self.assignment.target_incentive
            value = annual if len(covered) == len(periods) else annual * len(covered) / len(periods)
            detail: dict[str, Any] = {"annual": annual, "periods": len(covered), "of": len(periods)}
        else:
            count = len(periods)
            parts = []
            for period in covered:
                amount = self._spread_period(
                    period,
                    lambda run, day, count=count: (run.assignment if run else self.assignment).target_incentive / count,  # type: ignore[misc]
                    [],
                    f"payee {self.payee.id}'s target incentive",
                )
                parts.append((period.label, amount))
            value = sum((amount for _, amount in parts), ZERO)
            detail = {"annual": self.assignment.target_incentive, "periods": tuple(parts), "prorated": self.plan.proration}
        self.cache[key] = value
        self.records[key] = InputRecord(
            "target_incentive", key, value, money(self.plan.header.currency), formula=window.value, detail=detail
        )
        return value

    def _check_currency(self, assignment: Assignment) -> None:
        if assignment.currency != self.plan.header.currency:
            raise EvaluationError(
                f"payee {self.payee.id}'s target incentive is in {assignment.currency}, "
                f"but plan {self.plan.id} calculates in {self.plan.header.currency} ({assignment.ref or 'assignments'})",
                hint=f"give the target incentive in {self.plan.header.currency}",
            )


def _in_effect(figures: list[QuotaFigure], day: date) -> QuotaFigure:
    """The figure in effect on `day`: the latest whose `effective_from` is not after it."""
    current = figures[0]
    for figure in figures:
        if figure.effective_from is None or figure.effective_from <= day:
            current = figure
    return current


class CreditScope(Scope):
    """One credit inside a payee's period: deal, credit and payee fields are all visible.

    `plan` is the version in effect on the credit's date, which may differ from the period
    scope's (a revision during the period); period-level values come from the period scope.
    """

    __slots__ = ("attrs", "credit", "deal", "payee", "payee_attrs", "period_scope")

    def __init__(self, period_scope: PeriodScope, credit: Credit, plan: CompiledPlan | None = None):
        # Scope.__init__ inlined: one of these is made per credit per component
        self.plan = plan or period_scope.plan
        self.date = credit.date
        self.cache = {}
        self.records = {}
        fx = credit.fx
        self.fx = fx.rate if fx is not None else None
        self.period_scope = period_scope
        self.credit = credit
        self.deal = credit.deal
        self.attrs = credit.attrs
        self.payee = period_scope.payee
        self.payee_attrs = period_scope.payee_attrs

    def named(self, name: str) -> Any:
        if self.plan.levels.get(name) is Level.PERIOD or name not in self.plan.definitions:
            return self.period_scope.named(name)
        return super().named(name)

    def windowed(self, name: str, window: Window) -> Decimal:
        return self.period_scope.windowed(name, window)

    def target_incentive(self, window: Window) -> Decimal:
        return self.period_scope.target_incentive(window)

    def _period_value(self, definition: Any) -> Any:
        return self.period_scope.named(definition.name)

    def _subject(self) -> str:
        return f" (deal {self.deal.id}, payee {self.payee.id})"


def _aggregate(aggregate: Aggregate, amounts: list[Decimal]) -> Decimal:
    if aggregate is Aggregate.COUNT:
        return Decimal(len(amounts))
    if not amounts:
        return ZERO
    if aggregate is Aggregate.SUM:
        return sum(amounts, ZERO)
    if aggregate is Aggregate.MIN:
        return min(amounts)
    if aggregate is Aggregate.MAX:
        return max(amounts)
    return sum(amounts, ZERO) / len(amounts)
