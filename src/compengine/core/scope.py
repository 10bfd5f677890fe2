"""Evaluation scopes: what a compiled expression can see while it runs.

A `DealScope` sees one deal (credit rules); a `PeriodScope` sees one payee in one period
(measures, quotas, target incentive); a `CreditScope` sees one credit inside a period.
Named definitions are computed on first use, remembered for the scope's lifetime, and
recorded so the trace can show every value a line depended on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from compengine.core.data import Assignment, Payee, QuotaFigure
from compengine.core.errors import EvaluationError
from compengine.core.money import ZERO
from compengine.core.periods import Period, Window
from compengine.core.plan import (
    Aggregate,
    CompiledPlan,
    CurveDef,
    LetDef,
    Level,
    MeasureDef,
    ParameterDef,
    QuotaBasis,
    QuotaDef,
    TableDef,
)
from compengine.core.records import InputRecord
from compengine.core.tiers import Point, interpolate
from compengine.core.units import money

if TYPE_CHECKING:
    from compengine.core.crediting import Credit


class Scope:
    """Shared machinery: memoised named values and the records the trace is built from."""

    __slots__ = ("cache", "date", "plan", "records")

    def __init__(self, plan: CompiledPlan, day: date):
        self.plan = plan
        self.date = day
        self.cache: dict[str, Any] = {}
        self.records: dict[str, InputRecord] = {}

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

    def __init__(self, plan: CompiledPlan, deal: Any, attrs: Mapping[str, Any], day: date):
        super().__init__(plan, day)
        self.deal = deal
        self.attrs = attrs

    def _subject(self) -> str:
        return f" (deal {self.deal.id})"


@dataclass(frozen=True)
class PayeeFacts:
    """What the data says about one payee, as one plan reads it."""

    payee: Payee
    attrs: Mapping[str, Any]
    assignments: tuple[Assignment, ...]  # this payee on this plan, in date order
    credits: Mapping[str, list[Credit]]  # by credit rule, in date order
    quotas: Mapping[tuple[str, str], QuotaFigure]  # (quota name, period label)

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

    __slots__ = ("assignment", "facts", "measure_credits", "payee", "payee_attrs", "period")

    def __init__(self, plan: CompiledPlan, facts: PayeeFacts, period: Period, assignment: Assignment):
        super().__init__(plan, period.last_day)
        self.facts = facts
        self.period = period
        self.assignment = assignment
        self.payee = facts.payee
        self.payee_attrs = facts.attrs
        self.measure_credits: dict[str, list[Credit]] = {}

    def _subject(self) -> str:
        return f" (payee {self.payee.id}, {self.period.label})"

    def window_range(self, window: Window) -> tuple[date, date]:
        return self.plan.header.calendar.window(window, self.period)

    def credits_in(self, rule: str, window: Window) -> list[Credit]:
        start, end = self.window_range(window)
        return [c for c in self.facts.credits.get(rule, ()) if start <= c.date < end]

    def _period_value(self, definition: Any) -> Any:
        if isinstance(definition, MeasureDef):
            return self._measure(definition)
        raise EvaluationError(f"{definition.name} needs a window here", span=definition.span)

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

    def _quota(self, quota: QuotaDef, window: Window) -> tuple[Decimal, dict[str, Any]]:
        calendar = self.plan.header.calendar
        kind = self.plan.header.period_kind
        periods = [p for p in calendar.periods_of_year(kind, self.period.fiscal_year)]
        start, end = self.window_range(window)
        covered = [p for p in periods if start <= p.start and p.end <= end]
        if quota.basis is QuotaBasis.PER_PERIOD:
            figures = [self._quota_figure(quota, p.label) for p in covered]
            return sum((f.amount for f in figures), ZERO), {"periods": tuple(p.label for p in covered), "source": "per period"}
        annual = self._quota_figure(quota, f"FY{self.period.fiscal_year}").amount
        if quota.basis is QuotaBasis.ANNUAL_EVEN:
            fraction_num, fraction_den = len(covered), len(periods)
            value = annual if fraction_num == fraction_den else annual * fraction_num / fraction_den
            return value, {"annual": annual, "periods": tuple(p.label for p in covered), "spread": "evenly"}
        weights = sum((quota.seasonality[p.index - 1] for p in covered), ZERO)
        return annual * weights, {"annual": annual, "periods": tuple(p.label for p in covered), "spread": weights}

    def _quota_figure(self, quota: QuotaDef, label: str) -> QuotaFigure:
        figure = self.facts.quotas.get((quota.key, label))
        if figure is None:
            raise EvaluationError(
                f"payee {self.payee.id} has no {quota.key!r} quota for {label}",
                span=quota.span,
                hint=f"add a row to quotas.csv: {self.payee.id},{quota.key},{label},<amount>,{self.plan.header.currency}",
            )
        if figure.currency != self.plan.header.currency:
            raise EvaluationError(
                f"payee {self.payee.id}'s {quota.key!r} quota for {label} is in {figure.currency}, "
                f"but plan {self.plan.id} calculates in {self.plan.header.currency}",
                span=quota.span,
            )
        return figure

    def target_incentive(self, window: Window) -> Decimal:
        key = f"target incentive {window.value}"
        if key in self.cache:
            return self.cache[key]  # type: ignore[no-any-return]
        kind = self.plan.header.period_kind
        calendar = self.plan.header.calendar
        periods = calendar.periods_of_year(kind, self.period.fiscal_year)
        start, end = self.window_range(window)
        share = sum(1 for p in periods if start <= p.start and p.end <= end)
        annual = self.assignment.target_incentive
        if self.assignment.currency != self.plan.header.currency:
            raise EvaluationError(
                f"payee {self.payee.id}'s target incentive is in {self.assignment.currency}, "
                f"but plan {self.plan.id} calculates in {self.plan.header.currency} ({self.assignment.ref or 'assignments'})",
                hint=f"give the target incentive in {self.plan.header.currency}",
            )
        value = annual if share == len(periods) else annual * share / len(periods)
        self.cache[key] = value
        self.records[key] = InputRecord(
            "target_incentive",
            key,
            value,
            money(self.plan.header.currency),
            formula=window.value,
            detail={"annual": annual, "periods": share, "of": len(periods)},
        )
        return value


class CreditScope(Scope):
    """One credit inside a payee's period: deal, credit and payee fields are all visible."""

    __slots__ = ("attrs", "credit", "deal", "payee", "payee_attrs", "period_scope")

    def __init__(self, period_scope: PeriodScope, credit: Credit):
        super().__init__(period_scope.plan, credit.date)
        self.period_scope = period_scope
        self.credit = credit
        self.deal = credit.deal
        self.attrs = credit.attrs
        self.payee = period_scope.payee
        self.payee_attrs = period_scope.payee_attrs

    def named(self, name: str) -> Any:
        if self.plan.levels[name] is Level.PERIOD:
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
