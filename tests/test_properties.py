"""Properties the engine must keep on any data: exact, re-adding, order-free, repeatable.

Random small companies are run through all four example plans in plans/; the core's tier,
rounding and calendar arithmetic is checked on random inputs.  Every property here is one of
the engine's non-negotiables (see the README): money is exact `Decimal`, every trace re-adds,
attributions add up to their line, lines to their statement, the result hash depends only on
the inputs, and splits conserve credit.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from compengine.core.calculation import CalculationResult, calculate, statement_json, typed_attributes
from compengine.core.crediting import credit_deals
from compengine.core.data import Assignment, Dataset, Deal, Payee, QuotaFigure, RowRef, SplitShare
from compengine.core.evaluation import Statement, _tiered
from compengine.core.money import DECIMAL_CONTEXT, ZERO
from compengine.core.periods import FiscalCalendar, PeriodKind
from compengine.core.plan import CompiledPlan, Expression, Level, RecipientKind, TieredReward, TierRow
from compengine.core.rounding import RoundingLevel, RoundingMode, RoundingPolicy, allocate, round_amount, round_shared
from compengine.core.scope import DealScope
from compengine.core.source import SourceSpan
from compengine.core.tiers import Band, TierMode, marginal_total, slices
from compengine.core.trace import build_line_trace, trace_json, verify
from compengine.core.units import PERCENT
from compengine.lang.loader import compile_source
from tests.support import PLANS_DIR

QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
QUOTAS_NEEDED: dict[str, list[tuple[str, str]]] = {
    "enterprise_ae": [("bookings", "FY2026")],
    "account_manager": [("expansion", "FY2026"), ("renewal", "FY2026")],
    "channel_manager": [],
    "sdr": [("pipeline", quarter) for quarter in QUARTERS],
}
SPLIT_PATTERNS: tuple[tuple[str, ...], ...] = (("50", "50"), ("60", "40"), ("70", "30"), ("33.33", "33.33", "33.34"))
YEAR_START = date(2026, 1, 1)


def _load_example_plans() -> list[CompiledPlan]:
    """The example plans, each also declaring a proration, so that the random leavers and
    joiners below (some inside a quarter) exercise prorated quotas and targets too."""
    plans = []
    for path in sorted(PLANS_DIR.glob("*.comp")):
        text = path.read_text(encoding="utf-8")
        if "proration by" not in text:
            text = re.sub(r"(\n  rounding [^\n]*)", r"\1\n  proration by calendar days", text, count=1)
        source = compile_source(str(path), text)
        assert source.plan is not None, "\n".join(str(d) for d in source.diagnostics)
        plans.append(source.plan)
    return plans


PLANS = _load_example_plans()
PLAN_BY_ID = {plan.id: plan for plan in PLANS}


# ------------------------------------------------------------------ random companies
@dataclass(frozen=True)
class Company:
    data: Dataset
    period: str


def _money_text(cents: int, style: int) -> str:
    """The same amount written as people write it: `1200`, `1200.50`, `1,200.50`."""
    value = Decimal(cents).scaleb(-2)
    if style == 0 and cents % 100 == 0:
        return str(cents // 100)
    if style == 1:
        return f"{value:,.2f}"
    return f"{value:.2f}"


# deal sizes in cents: whole thousands (up to 400,000 USD) plus any cents, or now and then any amount at all
_positive_cents = st.one_of(
    st.builds(lambda thousands, cents: thousands * 100_000 + cents, st.integers(1, 400), st.integers(0, 99_999)),
    st.integers(min_value=1, max_value=40_000_000),
)
_cents = st.one_of(_positive_cents, _positive_cents.map(lambda n: -n // 10), st.just(0))
_quota_cents = st.integers(min_value=500_000, max_value=60_000_000)
_pipeline_cents = st.integers(min_value=100_000, max_value=10_000_000)  # low enough for the SDR gate to open


@st.composite
def companies(draw: st.DrawFn) -> Company:
    """A small company with AEs, account managers, channel managers and SDRs, and deals for all."""
    counts = {
        "enterprise_ae": draw(st.integers(1, 3)),
        "account_manager": draw(st.integers(1, 2)),
        "channel_manager": draw(st.integers(1, 2)),
        "sdr": draw(st.integers(1, 2)),
    }
    prefixes = {"enterprise_ae": "AE", "account_manager": "AM", "channel_manager": "CM", "sdr": "SDR"}
    people: dict[str, list[str]] = {plan: [f"{prefixes[plan]}{i}" for i in range(1, n + 1)] for plan, n in counts.items()}
    payees: dict[str, Payee] = {}
    for pid in (pid for ids in people.values() for pid in ids):
        left = draw(st.sampled_from((None, None, None, date(2026, 5, 1), date(2026, 10, 1))))  # some leave mid-year
        payees[pid] = Payee(pid, f"Payee {pid}", date(2020, 1, 1), left, {}, RowRef("payees.csv", len(payees) + 2))

    assignments: list[Assignment] = []
    quotas: list[QuotaFigure] = []
    for plan_id, ids in people.items():
        for pid in ids:
            start = draw(st.sampled_from((date(2026, 1, 1), date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1))))
            target = Decimal(draw(st.integers(1_000, 200_000)))
            assignments.append(Assignment(pid, plan_id, start, None, target, "USD", RowRef("assignments.csv", 0)))
            for name, label in QUOTAS_NEEDED[plan_id]:
                amount = Decimal(draw(_pipeline_cents if name == "pipeline" else _quota_cents)).scaleb(-2)
                quotas.append(QuotaFigure(pid, name, label, amount, "USD", RowRef("quotas.csv", len(quotas) + 2)))

    sellers = people["enterprise_ae"] + people["account_manager"]
    deals: list[Deal] = []
    for n in range(1, draw(st.integers(1, 30)) + 1):
        kind = draw(st.sampled_from(("new", "new", "expansion", "expansion", "renewal", "meeting", "meeting")))
        owner = draw(st.sampled_from(people["sdr"] if kind == "meeting" else sellers))
        negative = draw(st.integers(0, 9)) == 0  # a cancellation now and then
        cents = -draw(_positive_cents) // 10 if negative else draw(_positive_cents)
        splits: tuple[SplitShare, ...] = ()
        if kind != "meeting" and draw(st.booleans()):
            pattern = draw(st.sampled_from(SPLIT_PATTERNS))
            partners = draw(st.permutations(sellers))[: len(pattern)] if len(sellers) >= len(pattern) else []
            if partners:
                splits = tuple(SplitShare(p, Decimal(s) / 100) for p, s in zip(partners, pattern, strict=True))
        style = draw(st.integers(0, 2))
        acv = _money_text(draw(_cents) if draw(st.integers(0, 3)) == 0 else cents, style)
        if kind == "meeting" and draw(st.booleans()):
            acv = ""  # no plan reads the ACV of a meeting, so it may be empty (an error only where read)
        attributes = {
            "acv": acv,
            "term_months": draw(st.sampled_from(("", "12", "24", "36", "48"))),
            "new_logo": draw(st.sampled_from(("", "true", "false"))),
            "channel_manager": draw(st.sampled_from(("", *people["channel_manager"]))),
            "partner_tier": draw(st.sampled_from(("", "gold", "silver", "bronze"))),
            "gross_margin": "" if draw(st.integers(0, 3)) == 0 else _money_text(draw(_cents) // 3, style),
            "sourced_by": draw(st.sampled_from(("", *people["sdr"]))),
        }
        close = YEAR_START + timedelta(days=draw(st.integers(0, 364)))
        amount = Decimal(_money_text(cents, style).replace(",", ""))
        deals.append(Deal(f"D{n:03d}", owner, kind, "software", amount, "USD", close, splits, attributes, RowRef("deals.csv", n + 1)))
    data = Dataset(payees, tuple(deals), tuple(assignments), tuple(quotas))
    return Company(data, draw(st.sampled_from(QUARTERS)))


def _shuffled(data: Dataset, seed: int) -> Dataset:
    rng = random.Random(seed)
    payees = list(data.payees.items())
    deals, assignments, quotas = list(data.deals), list(data.assignments), list(data.quotas)
    for rows in (payees, deals, assignments, quotas):
        rng.shuffle(rows)
    return Dataset(dict(payees), tuple(deals), tuple(assignments), tuple(quotas))


def _everything(result: CalculationResult) -> list[Any]:
    """A statement-by-statement, line-by-line picture of a result, traces and attributions included."""
    return [
        (
            statement_json(statement),
            [(trace_json(build_line_trace(statement, line)), line.attribution) for line in statement.lines],
        )
        for statement in result.statements
    ]


# ------------------------------------------------------------------ whole-engine properties
def _statements(company: Company) -> tuple[Statement, ...]:
    return calculate(PLANS, company.data, company.period).statements


@settings(max_examples=200)
@given(companies())
def test_every_line_trace_of_every_example_plan_verifies(company: Company) -> None:
    for statement in _statements(company):
        for line in statement.lines:
            assert verify(build_line_trace(statement, line)) == [], line.id


@settings(max_examples=200)
@given(companies())
def test_the_lines_of_every_statement_add_up_to_its_total(company: Company) -> None:
    for statement in _statements(company):
        assert sum((line.amount for line in statement.lines), ZERO) == statement.total


@settings(max_examples=200)
@given(companies())
def test_the_deal_attributions_of_every_line_add_up_to_the_line(company: Company) -> None:
    for statement in _statements(company):
        for line in statement.lines:
            assert sum((a.amount for a in line.attribution), ZERO) == line.amount, line.id


@settings(max_examples=200)
@given(companies())
def test_every_amount_is_a_decimal_with_exactly_the_plans_rounding_places(company: Company) -> None:
    for statement in _statements(company):
        places = statement.plan.header.rounding.places
        amounts = [("total", statement.total)]
        for line in statement.lines:
            amounts.append((line.id, line.amount))
            amounts.extend((f"{line.id} {a.deal_id}", a.amount) for a in line.attribution)
        for what, amount in amounts:
            assert isinstance(amount, Decimal), what
            assert amount.as_tuple().exponent == -places, f"{what}: {amount}"


@settings(max_examples=200)
@given(companies(), st.integers(0, 2**32))
def test_the_order_of_input_rows_changes_nothing(company: Company, seed: int) -> None:
    first = calculate(PLANS, company.data, company.period)
    second = calculate(PLANS, _shuffled(company.data, seed), company.period)
    assert second.result_sha256 == first.result_sha256
    assert _everything(second) == _everything(first)


@settings(max_examples=50)
@given(companies())
def test_calculating_twice_gives_the_same_hash(company: Company) -> None:
    first = calculate(PLANS, company.data, company.period)
    again = calculate(PLANS, company.data, company.period)
    assert again.result_sha256 == first.result_sha256
    assert again.to_json() == first.to_json()


@pytest.mark.parametrize(
    "plan_id", sorted(p.id for p in PLANS if any(r.recipients[0].kind is RecipientKind.SPLITS for r in p.credits.values()))
)
@settings(max_examples=100)
@given(company=companies())
def test_splits_conserve_credit(plan_id: str, company: Company) -> None:
    plan = PLAN_BY_ID[plan_id]
    deal_attrs, _ = typed_attributes(plan, company.data)
    with localcontext(DECIMAL_CONTEXT):
        credits = credit_deals(plan, company.data.deals, deal_attrs)
    for rule in plan.credits.values():
        if rule.recipients[0].kind is not RecipientKind.SPLITS:
            continue
        by_deal: dict[str, list[Decimal]] = {}
        for payee_credits in credits.values():
            for credit in payee_credits:
                if credit.rule == rule.name:
                    by_deal.setdefault(credit.deal.id, []).append(credit.amount)
        for deal in company.data.deals:
            with localcontext(DECIMAL_CONTEXT):
                scope = DealScope(plan, deal, deal_attrs[deal.id], deal.close_date)
                if rule.filter is not None and not rule.filter(scope):
                    assert deal.id not in by_deal
                    continue
                credited = rule.amount(scope)
            # every partner (or the owner, without splits) is credited, and the parts re-add exactly
            assert len(by_deal[deal.id]) == max(len(deal.splits), 1)
            assert sum(by_deal[deal.id], ZERO) == credited, deal.id


# ------------------------------------------------------------------ tiers
SPAN = SourceSpan("properties.comp", 1, 1, 1, 1)
_rates = st.integers(0, 2000).map(lambda n: Decimal(n).scaleb(-4))  # 0% .. 20% in steps of 0.01%
_positions = st.integers(-5_000_000, 90_000_000).map(lambda n: Decimal(n).scaleb(-2))


@dataclass(frozen=True)
class Schedule:
    """Tier bands (or interpolation points) in position units, and the quota they scale by."""

    bounds: tuple[Decimal, ...]  # strictly increasing; for points, where the points sit
    rates: tuple[Decimal, ...]  # one per band (len(bounds) + 1), or one per point
    scale: Decimal | None  # the quota for attainment tiers; None: tiers on the amount

    def bands(self) -> list[Band]:
        edges: list[Decimal | None] = [None, *self.bounds, None]
        return [Band(edges[i], edges[i + 1], rate) for i, rate in enumerate(self.rates)]

    @property
    def money_scale(self) -> Decimal:
        return Decimal(1) if self.scale is None else self.scale

    def reward(self, mode: TierMode) -> TieredReward:
        def constant(value: Decimal) -> Expression:
            return Expression(lambda _scope: value, PERCENT, Level.CONST, str(value), SPAN)

        if mode is TierMode.INTERPOLATED:
            rows = [TierRow(at, None, constant(rate), SPAN) for at, rate in zip(self.bounds, self.rates, strict=False)]
        else:
            rows = [TierRow(b.lower, b.upper, constant(b.rate), SPAN) for b in self.bands()]
        against = None if self.scale is None else constant(self.scale)
        return TieredReward(mode, against, tuple(rows), SPAN)


@st.composite
def schedules(draw: st.DrawFn, points: bool = False) -> Schedule:
    on_attainment = draw(st.booleans())
    if on_attainment:  # bounds are attainment fractions: 25%, 50%, 100%, 137.5% ...
        raw = draw(st.lists(st.integers(0 if points else 1, 300), min_size=1, max_size=4, unique=True))
        bounds = tuple(Decimal(n).scaleb(-2) for n in sorted(raw))
        scale: Decimal | None = Decimal(draw(st.integers(100_000, 80_000_000))).scaleb(-2)
    else:  # bounds are money
        raw = draw(st.lists(st.integers(0 if points else 1, 50_000_000), min_size=1, max_size=4, unique=True))
        bounds = tuple(Decimal(n).scaleb(-2) for n in sorted(raw))
        scale = None
    count = len(bounds) if points else len(bounds) + 1
    rates = tuple(draw(st.lists(_rates, min_size=count, max_size=count)))
    return Schedule(bounds, rates, scale)


def _aggregate_payout(mode: TierMode, schedule: Schedule) -> Callable[[Decimal], Decimal]:
    """F(x): what the whole running total `x` earns under `mode`, computed by core.tiers."""
    from compengine.core.tiers import Point, interpolated_total, retroactive_total

    bands, scale = schedule.bands(), schedule.money_scale
    if mode is TierMode.MARGINAL:
        return lambda x: marginal_total(bands, scale, x)
    if mode is TierMode.RETROACTIVE:
        return lambda x: retroactive_total(bands, scale, x)
    points = [Point(at, rate) for at, rate in zip(schedule.bounds, schedule.rates, strict=True)]
    return lambda x: interpolated_total(points, scale, x)


def _moved(schedule: Schedule, start: Decimal, end: Decimal) -> Decimal:
    return sum((s.payout for s in slices(schedule.bands(), schedule.money_scale, start, end)), ZERO)


@settings(max_examples=300)
@given(schedules(), st.lists(_positions, min_size=3, max_size=3).map(sorted))
def test_marginal_payout_of_a_move_is_additive_over_consecutive_moves(schedule: Schedule, abc: list[Decimal]) -> None:
    a, b, c = abc
    with localcontext(DECIMAL_CONTEXT):
        assert _moved(schedule, a, b) + _moved(schedule, b, c) == _moved(schedule, a, c)
        assert _moved(schedule, c, b) + _moved(schedule, b, a) == _moved(schedule, c, a) == -_moved(schedule, a, c)


@settings(max_examples=300)
@given(schedules(), _positions, _positions)
def test_the_slices_of_a_move_add_up_to_the_amount_moved(schedule: Schedule, start: Decimal, end: Decimal) -> None:
    with localcontext(DECIMAL_CONTEXT):
        pieces = slices(schedule.bands(), schedule.money_scale, start, end)
        assert sum((p.amount for p in pieces), ZERO) == end - start
        assert all(p.amount > 0 for p in pieces) if end > start else all(p.amount < 0 for p in pieces)


@pytest.mark.parametrize("mode", [TierMode.MARGINAL, TierMode.RETROACTIVE])
@settings(max_examples=300)
@given(schedule=schedules(), start=_positions, credits=st.lists(_positions.map(lambda x: x / 4), min_size=1, max_size=8))
def test_banded_per_credit_payouts_sum_to_the_payout_of_the_final_running_total(
    mode: TierMode, schedule: Schedule, start: Decimal, credits: list[Decimal]
) -> None:
    # x / 4 keeps the cents exact and lets credits be finer than a cent (a 33.33% split share)
    with localcontext(DECIMAL_CONTEXT):
        reward, payout = schedule.reward(mode), _aggregate_payout(mode, schedule)
        position, paid = start, ZERO
        for amount in credits:
            paid += _tiered(reward, None, position, position + amount, running=True).value  # type: ignore[arg-type]
            position += amount
        assert paid == payout(position) - payout(start)


@settings(max_examples=300)
@given(schedule=schedules(points=True), start=_positions, credits=st.lists(_positions.map(lambda x: x / 4), min_size=1, max_size=8))
def test_interpolated_per_credit_payouts_sum_to_the_payout_of_the_final_running_total(
    schedule: Schedule, start: Decimal, credits: list[Decimal]
) -> None:
    # Interpolated rates are divisions carried to 34 significant digits, so F(b) - F(a) can
    # differ from the sum of the steps in the 34th digit, and it does (start 0.01, credits
    # -0.015 then 0.0025 on the points 0: 0.01%, 0.03: 0% leave 3E-40).  Exactly that is
    # allowed: a few units in the 34th digit of the largest value involved.
    with localcontext(DECIMAL_CONTEXT):
        reward, payout = schedule.reward(TierMode.INTERPOLATED), _aggregate_payout(TierMode.INTERPOLATED, schedule)
        position, paid, seen = start, ZERO, [abs(payout(start))]
        for amount in credits:
            paid += _tiered(reward, None, position, position + amount, running=True).value  # type: ignore[arg-type]
            position += amount
            seen.extend([abs(payout(position)), abs(paid)])
        expected = payout(position) - payout(start)
        largest = max(seen)
        last_digit = Decimal(1).scaleb(largest.adjusted() - 33) if largest else ZERO
        assert abs(paid - expected) <= 4 * len(credits) * last_digit


# ------------------------------------------------------------------ rounding
_quanta = st.sampled_from((Decimal("0.01"), Decimal("1"), Decimal("0.001"), Decimal("100")))
_weights = st.lists(st.integers(-10_000_000, 10_000_000).map(lambda n: Decimal(n).scaleb(-3)), min_size=1, max_size=8)


@settings(max_examples=300)
@given(st.integers(-10_000_000, 10_000_000), _weights, _quanta)
def test_allocate_gives_whole_quanta_that_add_up_to_the_total_in_proportion(units: int, weights: list[Decimal], quantum: Decimal) -> None:
    total = units * quantum
    assume(sum(weights, ZERO) != 0)  # weights adding up to zero share nothing (test_core_rounding)
    parts = allocate(total, weights, quantum)
    assert len(parts) == len(weights)
    assert sum(parts, ZERO) == total
    assert all(part == part.quantize(quantum) for part in parts)
    weight_sum = sum((Fraction(w) for w in weights), Fraction(0))
    for part, weight in zip(parts, weights, strict=True):
        ideal = Fraction(total) * Fraction(weight) / weight_sum
        assert abs(Fraction(part) - ideal) < Fraction(quantum)


@given(st.lists(st.integers(-10_000_000, 10_000_000), min_size=1, max_size=8), _quanta)
def test_allocate_returns_weights_that_already_add_up_to_the_total_unchanged(units: list[int], quantum: Decimal) -> None:
    weights = [n * quantum for n in units]
    total = sum(weights, ZERO)
    assert allocate(total, weights, quantum) == weights


@settings(max_examples=300)
@given(
    st.lists(st.integers(-(10**12), 10**12).map(lambda n: Decimal(n).scaleb(-6)), max_size=10),
    st.sampled_from(RoundingMode),
    st.integers(0, 3),
)
def test_cumulative_rounding_adds_up_to_the_rounded_total_and_moves_no_part_by_more_than_a_quantum(
    values: list[Decimal], mode: RoundingMode, places: int
) -> None:
    policy = RoundingPolicy(mode, places, RoundingLevel.STATEMENT)
    with localcontext(DECIMAL_CONTEXT):
        parts = round_shared(values, policy)
        assert sum(parts, ZERO) == round_amount(sum(values, ZERO), policy)
        for part, value in zip(parts, values, strict=True):
            assert part == part.quantize(policy.quantum)
            assert abs(part - value) <= policy.quantum


# ------------------------------------------------------------------ periods
_days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
_start_months = st.integers(1, 12)


@pytest.mark.parametrize("kind", list(PeriodKind))
@given(start_month=_start_months, day=_days)
def test_a_date_lies_in_exactly_one_period_of_each_kind(kind: PeriodKind, start_month: int, day: date) -> None:
    calendar = FiscalCalendar(start_month)
    nearby = [p for year in range(day.year - 2, day.year + 2) for p in calendar.periods_of_year(kind, year)]
    holding = [p for p in nearby if p.start <= day < p.end]
    assert holding == [calendar.period_containing(kind, day)]


@pytest.mark.parametrize("kind", list(PeriodKind))
@given(start_month=_start_months, year=st.integers(1990, 2090))
def test_the_periods_of_a_fiscal_year_tile_it_without_gaps_or_overlaps(kind: PeriodKind, start_month: int, year: int) -> None:
    calendar = FiscalCalendar(start_month)
    periods = calendar.periods_of_year(kind, year)
    assert len(periods) == kind.per_year
    assert [p.index for p in periods] == list(range(1, kind.per_year + 1))
    assert periods[0].start == calendar.year_start(year) == date(year, start_month, 1)
    assert periods[-1].end == calendar.year_end(year) == calendar.year_start(year + 1)
    for before, after in itertools.pairwise(periods):
        assert before.end == after.start
    assert sum(p.days for p in periods) == (calendar.year_end(year) - calendar.year_start(year)).days


@pytest.mark.parametrize("kind", list(PeriodKind))
@given(start_month=_start_months, day=_days)
def test_a_period_label_parses_back_to_the_same_period(kind: PeriodKind, start_month: int, day: date) -> None:
    calendar = FiscalCalendar(start_month)
    period = calendar.period_containing(kind, day)
    assert calendar.parse(period.label, kind) == period
