"""The reward stage: turn one payee's credits and quotas into statement lines.

Each component runs as a fixed pipeline, documented in docs/language.md:

    reward (per credit: reward → multipliers → per-deal limits → credit rounding; summed)
    → true-up → per-period limits → per-year limits → gates → line rounding

Every step appends a compact record (see `records`); the trace is built from them on demand.
Periods of a fiscal year are evaluated in order, because year-to-date caps and true-ups
subtract what the earlier periods of the year earned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from compengine.core.crediting import Credit
from compengine.core.errors import EvaluationError
from compengine.core.money import ONE, ZERO
from compengine.core.periods import Period, Window
from compengine.core.plan import (
    AggregateBasis,
    CompiledPlan,
    Component,
    Expression,
    Level,
    Limit,
    LimitKind,
    LimitScope,
    MeasureDef,
    PaysReward,
    PerCreditBasis,
    PlanFamily,
    RateReward,
    TieredReward,
    component_named,
)
from compengine.core.records import Attribution, CreditPayout, InputRecord, RewardDetail, Step, Term
from compengine.core.rounding import RoundingLevel, allocate, round_amount, round_shared
from compengine.core.scope import CreditScope, PayeeFacts, PeriodScope, Scope
from compengine.core.tiers import Band, Point, TierMode, band_index, interpolate, slices
from compengine.core.units import money
from compengine.core.values import show


@dataclass(frozen=True)
class Line:
    """One component's line on a statement, with everything needed to explain it."""

    id: str
    component: Component
    amount: Decimal
    subtotal: Decimal  # the reward (summed over credits) before the line's own steps
    reward: RewardDetail | None  # aggregate components
    credits: tuple[CreditPayout, ...]  # per-credit components
    steps: tuple[Step, ...]
    statement_rounding: Step | None
    attribution: tuple[Attribution, ...]
    inputs: tuple[InputRecord, ...]


@dataclass(frozen=True)
class Statement:
    payee_id: str
    payee_name: str
    plan: CompiledPlan
    period: Period
    lines: tuple[Line, ...]
    total: Decimal
    exact_total: Decimal
    coverage: str | None = None  # how much of the period the payee was on the plan, when not all of it

    @property
    def currency(self) -> str:
        return self.plan.header.currency


@dataclass
class _Draft:
    """A line before statement-level rounding and attribution."""

    component: Component
    amount: Decimal
    subtotal: Decimal
    reward: RewardDetail | None
    credits: tuple[CreditPayout, ...]
    steps: list[Step]
    weights: dict[str, Decimal]
    inputs: tuple[InputRecord, ...]


class PayeeEvaluator:
    """Evaluates one payee under one plan, period by period through the fiscal year."""

    def __init__(self, family: PlanFamily | CompiledPlan, facts: PayeeFacts):
        self.family = family if isinstance(family, PlanFamily) else PlanFamily((family,))
        self.plan = self.family.first
        self.facts = facts
        self.statements: dict[str, Statement | None] = {}

    def statement(self, period: Period) -> Statement | None:
        """The payee's statement for `period`, or None if not on the plan during it."""
        header = self.plan.header
        for earlier in header.calendar.periods_of_year(header.period_kind, period.fiscal_year):
            if earlier.start > period.start:
                break
            if earlier.label not in self.statements:
                self.statements[earlier.label] = self._evaluate(earlier)
        return self.statements[period.label]

    def earlier_paid(self, component: Component, period: Period, window: Window) -> Decimal:
        """What `component` (by name) paid in the periods of `window` before `period`."""
        start, _ = self.plan.header.calendar.window(window, period)
        paid = ZERO
        for statement in self.statements.values():
            if statement is None or not (start <= statement.period.start < period.start):
                continue
            paid += sum((line.amount for line in statement.lines if line.component.name == component.name), ZERO)
        return paid

    def _evaluate(self, period: Period) -> Statement | None:
        version = self.family.for_period(period.start, period.end)
        if version is None:
            return None
        cover = self.facts.coverage_of(version, period)
        if cover is None:
            return None
        scope = PeriodScope(version, self.facts, period, cover.last.assignment)
        scope.cover = cover
        drafts = [self._component(component, scope) for component in version.components]
        statement = _finish_statement(version, self.facts, period, drafts)
        return statement if cover.full and len(cover.runs) == 1 else replace(statement, coverage=cover.describe())

    def _component(self, component: Component, scope: PeriodScope) -> _Draft:
        steps: list[Step] = []
        reward: RewardDetail | None = None
        payouts: list[CreditPayout] = []
        if isinstance(component.basis, PerCreditBasis):
            subtotal, payouts, weights = _per_credit(component, component.basis, scope, self.family)
            value = subtotal
        else:
            reward = _aggregate(component, component.basis, scope)
            subtotal = reward.value
            value = _apply_multipliers(component, scope, subtotal, steps)
        amount = self._line_steps(component, scope, value, steps)
        if reward is not None:
            weights = _measure_weights(component, scope)
        inputs = tuple(_inputs_of(component, scope))
        return _Draft(component, amount, subtotal, reward, tuple(payouts), steps, weights, inputs)

    def _line_steps(self, component: Component, scope: PeriodScope, value: Decimal, steps: list[Step]) -> Decimal:
        period = scope.period
        if component.true_up is not None:
            earlier = self.earlier_paid(component, period, component.true_up.window)
            value = _true_up(component, value, earlier, steps, lambda v: _m(self.plan, v))
        for limit in component.limits:
            if limit.scope is LimitScope.PERIOD:
                value = _limit_step(limit, "per period", value, limit.amount(scope), steps)
        for limit in component.limits:
            if limit.scope is LimitScope.YEAR:
                value = self._year_limit(component, limit, scope, value, steps)
        for gate in component.gates:
            value = _gate_step(gate.condition, scope, value, gate.span, steps)
        policy = self.plan.header.rounding
        if policy.level is not RoundingLevel.STATEMENT:
            rounded = round_amount(value, policy)
            steps.append(
                Step("round", f"rounding {policy.describe()}", value, rounded, None, rounded != value, _round_reason(value, rounded))
            )
            value = rounded
        return value

    def _year_limit(self, component: Component, limit: Limit, scope: PeriodScope, value: Decimal, steps: list[Step]) -> Decimal:
        period = scope.period
        amount: Decimal = limit.amount(scope)
        earlier = self.earlier_paid(component, period, Window.YEAR_TO_DATE)
        label = f"{limit.kind.value} {limit.amount.text} per year ({_m(self.plan, earlier)} paid earlier this year)"
        if limit.kind is LimitKind.CAP:
            room = max(amount - earlier, ZERO)
            if value > room:
                steps.append(
                    Step(
                        "cap",
                        label,
                        value,
                        room,
                        room,
                        True,
                        f"reached: {_m(self.plan, earlier + value)} this year is over {_m(self.plan, amount)}",
                        limit.span,
                    )
                )
                return room
            steps.append(
                Step(
                    "cap",
                    label,
                    value,
                    value,
                    room,
                    False,
                    f"not reached: {_m(self.plan, earlier + value)} this year is within {_m(self.plan, amount)}",
                    limit.span,
                )
            )
            return value
        last = period.index == period.kind.per_year
        need = amount - earlier
        if last and value < need:
            steps.append(
                Step(
                    "floor",
                    label,
                    value,
                    need,
                    need,
                    True,
                    f"applied at year end: {_m(self.plan, earlier + value)} this year is under {_m(self.plan, amount)}",
                    limit.span,
                )
            )
            return need
        reason = (
            "checked at year end"
            if not last
            else f"not needed: {_m(self.plan, earlier + value)} this year is at least {_m(self.plan, amount)}"
        )
        steps.append(Step("floor", label, value, value, need if last else None, False, reason, limit.span))
        return value


# ------------------------------------------------------------------ per-credit components
def _per_credit(
    component: Component, basis: PerCreditBasis, scope: PeriodScope, family: PlanFamily
) -> tuple[Decimal, list[CreditPayout], dict[str, Decimal]]:
    """Pay each credit of the period, in the declared order, under the plan version in force on
    its date (a revision during the period changes how later credits are paid)."""
    facts = scope.facts
    period = scope.period
    cover = scope.cover
    tiered = isinstance(component.reward, TieredReward) or any(
        isinstance(getattr(component_named(v, component.name), "reward", None), TieredReward) for v in family.versions
    )
    position = ZERO
    if tiered:
        run_start, _ = scope.window_range(basis.running)
        on_plan, throughout = facts.on_plan, facts.on_plan_throughout(scope.plan, run_start, period.start)
        for credit in facts.credits_between(basis.credit, run_start, period.start):
            if (throughout or on_plan(scope.plan, credit.date)) and (basis.filter is None or basis.filter(CreditScope(scope, credit))):
                position += credit.amount
    current: list[tuple[tuple[Any, ...], CreditScope]] = []
    partial = cover is not None and not cover.full
    keep = basis.filter.fn if basis.filter is not None else None
    order = [expr.fn for expr in basis.order]
    for credit in facts.credits_between(basis.credit, period.start, period.end):
        if partial and not cover.contains(credit.date):  # type: ignore[union-attr]
            continue  # dated while the payee was not on this plan
        version = family.at(credit.date) or scope.plan
        cscope = CreditScope(scope, credit, version if version is not scope.plan else None)
        if keep is not None and not keep(cscope):
            continue
        if component.during is not None and not component.during.contains(credit.date):
            if tiered:  # outside the window it pays nothing, but it still moves the running total
                current.append((_order_key(order, cscope), cscope))
            continue
        current.append((_order_key(order, cscope), cscope))
    current.sort(key=lambda item: item[0])
    payouts: list[CreditPayout] = []
    weights: dict[str, Decimal] = defaultdict(lambda: ZERO)
    subtotal = ZERO
    policy = scope.plan.header.rounding
    paying_under: dict[int, Component] = {}  # the component as each version in view defines it
    for _, cscope in current:
        credit = cscope.credit
        paying = paying_under.get(id(cscope.plan))
        if paying is None:
            paying = paying_under[id(cscope.plan)] = component_named(cscope.plan, component.name) or component
        reward = paying.reward
        pays = paying.during is None or paying.during.contains(credit.date)
        if isinstance(reward, TieredReward):
            detail = _tiered(reward, cscope, position, position + credit.amount, running=True)
        else:
            detail = _flat_reward(reward, cscope, credit)
        position += credit.amount
        if not pays:
            continue
        steps: list[Step] = []
        value = _apply_multipliers(paying, cscope, detail.value, steps)
        for limit in paying.limits:
            if limit.scope is LimitScope.DEAL:
                value = _limit_step(limit, "per deal", value, limit.amount(cscope), steps)
        if policy.level is RoundingLevel.CREDIT:
            rounded = round_amount(value, policy)
            steps.append(
                Step("round", f"rounding {policy.describe()}", value, rounded, None, rounded != value, _round_reason(value, rounded))
            )
            value = rounded
        payouts.append(
            CreditPayout(
                credit.id,
                credit.deal.id,
                credit.share,
                credit.role,
                credit.amount,
                credit.deal.amount,
                credit.date,
                detail,
                tuple(steps),
                value,
                tuple(cscope.records.values()),
                cscope.plan.version if cscope.plan is not scope.plan else None,
                tuple((path.describe(), path.share) for path in credit.paths),
                _fx_detail(credit),
            )
        )
        weights[credit.deal.id] += value
        subtotal += value
    return subtotal, payouts, dict(weights)


def _fx_detail(credit: Credit) -> tuple[str, str, str, str, Decimal] | None:
    fx = credit.fx
    if fx is None:
        return None
    return (fx.source, fx.target, fx.rate_type, fx.day.isoformat(), fx.rate)


def _order_key(order: list[Callable[[Any], Any]], cscope: CreditScope) -> tuple[Any, ...]:
    return (*[fn(cscope) for fn in order], *cscope.credit.sort_key())


def _flat_reward(reward: Any, cscope: CreditScope, credit: Credit) -> RewardDetail:
    if isinstance(reward, PaysReward):
        return RewardDetail("pays", reward.amount.fn(cscope), reward.amount.text)
    assert isinstance(reward, RateReward)
    rate = reward.rate.fn(cscope)
    term = Term("credited amount at rate", credit.amount, rate)
    return RewardDetail("rate", term.value, f"credited amount × {reward.rate.text}", (term,))


# The per-credit paths below call compiled functions as `expr.fn(scope)`: the same call
# without the `Expression.__call__` frame.
def _bands(reward: TieredReward, scope: Scope) -> list[Band]:
    return [Band(row.lower, row.upper, row.rate.fn(scope)) for row in reward.rows]


def _scale(reward: TieredReward, scope: Scope) -> Decimal:
    if reward.against is None:
        return ONE
    quota = reward.against.fn(scope)
    if quota <= 0:
        raise EvaluationError(
            f"attainment against {reward.against.text} is undefined: it is {quota}{scope._subject()}",
            span=reward.span,
            hint="check the quota in the data",
        )
    return quota  # type: ignore[no-any-return]


def _tiered(reward: TieredReward, scope: Scope, before: Decimal, after: Decimal, running: bool) -> RewardDetail:
    """What moving the running total from `before` to `after` earns: F(after) - F(before)."""
    scale = _scale(reward, scope)
    mode = reward.mode
    if mode is TierMode.INTERPOLATED:
        points = [Point(row.lower or ZERO, row.rate(scope)) for row in reward.rows]
        rate_after, _ = interpolate(points, after, scale)
        terms = [Term("running total at its interpolated rate", after, rate_after)]
        if before != 0:
            rate_before, _ = interpolate(points, before, scale)
            terms.append(Term("less the running total before, at its rate", before, rate_before, -1))
    else:
        bands = _bands(reward, scope)
        if mode is TierMode.MARGINAL:
            terms = [Term(_band_label(s.band), s.amount, s.rate, band=s.band) for s in slices(bands, scale, before, after)]
        else:
            band_before, band_after = band_index(bands, scale, before), band_index(bands, scale, after)
            if before == 0:
                terms = [Term(f"all of it at band {band_after + 1}", after, bands[band_after].rate, band=band_after)]
            elif band_before == band_after:
                terms = [Term(f"band {band_after + 1}", after - before, bands[band_after].rate, band=band_after)]
            else:
                terms = [
                    Term(f"whole running total at band {band_after + 1}", after, bands[band_after].rate, band=band_after),
                    Term(f"less the running total before, at band {band_before + 1}", before, bands[band_before].rate, -1, band_before),
                ]
    value = sum((t.value for t in terms), ZERO)
    return RewardDetail(
        mode.value, value, _tiers_formula(mode, running), tuple(terms), (before, after), None if reward.against is None else scale
    )


@lru_cache(maxsize=64)
def _band_label(band: int) -> str:
    return f"band {band + 1}"  # made once, not per credit


@lru_cache(maxsize=16)
def _tiers_formula(mode: TierMode, running: bool) -> str:
    return f"{mode.value} tiers on the running total" if running else f"{mode.value} tiers"


# ------------------------------------------------------------------ aggregate components
def _aggregate(component: Component, basis: AggregateBasis, scope: PeriodScope) -> RewardDetail:
    reward = component.reward
    if isinstance(reward, PaysReward):
        detail = RewardDetail("pays", reward.amount(scope), reward.amount.text)
    else:
        assert basis.amount is not None
        amount = basis.amount(scope)
        if isinstance(reward, RateReward):
            rate = reward.rate(scope)
            term = Term(f"{basis.amount.text} at rate", amount, rate)
            detail = RewardDetail("rate", term.value, f"{basis.amount.text} × {reward.rate.text}", (term,))
        else:
            assert isinstance(reward, TieredReward)
            detail = _tiered(reward, scope, ZERO, amount, running=False)
    return detail


def _measure_weights(component: Component, scope: PeriodScope) -> dict[str, Decimal]:
    """Deals behind an aggregate line: the period's credits of every measure it depends on
    (whatever other components happened to compute first, so the split is order-free)."""
    weights: dict[str, Decimal] = defaultdict(lambda: ZERO)
    period = scope.period
    seen: set[str] = set()
    for name in component.inputs:
        if not isinstance(scope.plan.definitions.get(name), MeasureDef):
            continue
        scope.named(name)
        for credit in scope.measure_credits.get(name, ()):
            if credit.id in seen or not (period.start <= credit.date < period.end):
                continue
            seen.add(credit.id)
            weights[credit.deal.id] += credit.amount
    return dict(weights)


# ------------------------------------------------------------------ steps
def _apply_multipliers(component: Component, scope: Scope, value: Decimal, steps: list[Step]) -> Decimal:
    for multiplier in component.multipliers:
        factor = multiplier.factor.fn(scope)
        label = multiplier.label
        if multiplier.when is None or multiplier.when.fn(scope):
            after = value * factor
            reason = "applies" if multiplier.when is None else f"applies: {_explain_condition(multiplier.when, scope)}"
            steps.append(Step("multiplier", label, value, after, factor, True, reason, multiplier.span))
            value = after
        else:
            reason = f"not applied: {_explain_condition(multiplier.when, scope)}"
            steps.append(Step("multiplier", label, value, value, factor, False, reason, multiplier.span))
    return value


def _limit_step(limit: Limit, scope_text: str, value: Decimal, amount: Decimal, steps: list[Step]) -> Decimal:
    label = f"{limit.kind.value} {limit.amount.text} {scope_text}"
    shown, limit_shown = _show_like(limit.amount, value), _show_like(limit.amount, amount)
    if limit.kind is LimitKind.CAP:
        hit = value > amount
        reason = f"reached: {shown} is over {limit_shown}" if hit else f"not reached: {shown} is within {limit_shown}"
    else:
        hit = value < amount
        reason = f"applied: {shown} is under {limit_shown}" if hit else f"not needed: {shown} is at least {limit_shown}"
    after = amount if hit else value
    steps.append(Step(limit.kind.value, label, value, after, amount, hit, reason, limit.span))
    return after


def _show_like(expr: Expression, value: Decimal) -> str:
    return show(value, expr.type)


def _gate_step(condition: Expression, scope: PeriodScope, value: Decimal, span: Any, steps: list[Step]) -> Decimal:
    met = bool(condition(scope))
    explained = _explain_condition(condition, scope)
    if met:
        steps.append(Step("gate", f"gate {condition.text}", value, value, None, False, f"met: {explained}", span))
        return value
    steps.append(Step("gate", f"gate {condition.text}", value, ZERO, None, True, f"not met: {explained}", span))
    return ZERO


def _true_up(component: Component, earned: Decimal, earlier: Decimal, steps: list[Step], fmt: Callable[[Decimal], str]) -> Decimal:
    true_up = component.true_up
    assert true_up is not None
    value = earned - earlier
    label = f"true up {true_up.window.value}: cumulative earnings less paid earlier"
    reason = f"earned {fmt(earned)} cumulatively, {fmt(earlier)} paid in earlier periods"
    steps.append(Step("true_up", label, earned, value, earlier, True, reason, true_up.span))
    if true_up.never_negative and value < 0:
        steps.append(Step("floor", "never negative", value, ZERO, ZERO, True, "a negative true-up is not taken back", true_up.span))
        return ZERO
    return value


def _explain_condition(condition: Expression, scope: Scope) -> str:
    shown = [f"{part.text} = {show(part.fn(scope), part.type)}" for part in condition.parts if _visible(part, scope)]
    return f"{condition.text}" + (f" ({', '.join(shown)})" if shown else "")


def _visible(part: Expression, scope: Scope) -> bool:
    return part.level is not Level.CREDIT or isinstance(scope, CreditScope)


def _round_reason(before: Decimal, after: Decimal) -> str:
    return "no change" if before == after else "rounded"


def _m(plan: CompiledPlan, value: Decimal) -> str:
    return show(value, money(plan.header.currency))


def _inputs_of(component: Component, scope: PeriodScope) -> list[InputRecord]:
    """Period-level values the component used, in the order they were first computed."""
    wanted = set(component.inputs)
    return [record for record in scope.records.values() if record.name in wanted]


# ------------------------------------------------------------------ statements
def _finish_statement(plan: CompiledPlan, facts: PayeeFacts, period: Period, drafts: Sequence[_Draft]) -> Statement:
    policy = plan.header.rounding
    exact_total = sum((d.amount for d in drafts), ZERO)
    rounding_steps: list[Step | None] = [None] * len(drafts)
    if policy.level is RoundingLevel.STATEMENT:
        amounts = round_shared([d.amount for d in drafts], policy)
        for i, (draft, rounded) in enumerate(zip(drafts, amounts, strict=True)):
            rounding_steps[i] = Step(
                "round",
                f"rounding {policy.describe()} (shared over lines)",
                draft.amount,
                rounded,
                None,
                rounded != draft.amount,
                _round_reason(draft.amount, rounded),
            )
    else:
        amounts = [d.amount for d in drafts]
    lines = tuple(
        Line(
            f"{period.label}/{facts.payee.id}/{plan.id}/{draft.component.name}",
            draft.component,
            amount,
            draft.subtotal,
            draft.reward,
            draft.credits,
            tuple(draft.steps),
            rounding_steps[i],
            _attribute(amount, draft.weights, policy.quantum),
            draft.inputs,
        )
        for i, (draft, amount) in enumerate(zip(drafts, amounts, strict=True))
    )
    total = sum((line.amount for line in lines), ZERO)
    return Statement(facts.payee.id, facts.payee.name, plan, period, lines, total, exact_total)


def _attribute(amount: Decimal, weights: dict[str, Decimal], quantum: Decimal) -> tuple[Attribution, ...]:
    """Share a line over the deals behind it so the shares add up to the line exactly."""
    deals = sorted(deal for deal, weight in weights.items() if weight != 0)
    if amount == 0:
        return ()
    if not deals or sum((weights[d] for d in deals), ZERO) == 0:
        return (Attribution(None, amount),)
    parts = allocate(amount, [weights[d] for d in deals], quantum)
    # parts are whole quanta; quantize so weights used as they are show the plan's places (1000 → 1000.00)
    return tuple(Attribution(deal, part.quantize(quantum)) for deal, part in zip(deals, parts, strict=True) if part != 0)
