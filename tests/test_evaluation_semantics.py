"""The evaluator, specified by small plans and a few deals with amounts checked by hand.

Every plan here is the test header (quarterly, fiscal year from January, half up to cents per
component unless a test says otherwise) plus the clauses under test.  P1 has a target
incentive of 100,000 USD a year.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

from compengine.core.calculation import CalculationResult
from compengine.core.data import Deal, RowRef
from compengine.core.errors import EvaluationError
from compengine.core.evaluation import Line, Statement
from compengine.core.trace import TraceNode, build_line_trace, verify
from tests.support import HEADER, calc, dataset, deal, line_amounts, payee

BOOKINGS = """
credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date
"""


def plan(*clauses: str, header: str = HEADER) -> str:
    return header + BOOKINGS + "".join(clauses)


def with_rounding(policy: str) -> str:
    return HEADER.replace("rounding half up to 2 places per component", f"rounding {policy}")


def only_line(result: CalculationResult, payee_id: str = "P1") -> tuple[Statement, Line]:
    statement = result.statement(payee_id)
    assert len(statement.lines) == 1
    return statement, statement.lines[0]


def attribution(line: Line) -> dict[str | None, Decimal]:
    return {a.deal_id: a.amount for a in line.attribution}


def step_nodes(node: TraceNode, kind: str) -> list[TraceNode]:
    return [n for n in node.walk() if n.op == "step" and n.detail["step"] == kind]


def amount_by_period(
    text: str,
    deals: Sequence[Deal],
    periods: Sequence[str] = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"),
    quotas: Mapping[tuple[str, str, str], str] | None = None,
) -> list[Decimal]:
    """P1's one line in each of `periods`."""
    data = dataset([payee("P1")], deals, quotas=quotas)
    return [only_line(calc(text, data, period))[1].amount for period in periods]


# ------------------------------------------------------------------ rewards
FLAT_RATE = plan(
    """
component commission "Commission"
  per credit of bookings
  rate 10%
"""
)


def test_a_flat_rate_pays_the_rate_on_each_credit() -> None:
    # D1 1,000.00 × 10% = 100.00; D2 2,500.50 × 10% = 250.05; line 350.05
    data = dataset([payee("P1")], [deal("D1", "P1", "1000", "2026-01-15"), deal("D2", "P1", "2500.50", "2026-03-31")])
    _, line = only_line(calc(FLAT_RATE, data, "2026-Q1"))
    assert line.amount == Decimal("350.05")
    assert attribution(line) == {"D1": Decimal("100.00"), "D2": Decimal("250.05")}


def test_pays_pays_a_fixed_amount_for_each_credit_of_the_period() -> None:
    # three Q1 meetings × 150 = 450.00; the Q2 one is not paid in Q1
    text = plan(
        """
component bounty "Meeting bounty"
  per credit of bookings
  pays 150 USD
"""
    )
    deals = [deal(f"M{i}", "P1", "20000", day) for i, day in enumerate(("2026-01-05", "2026-02-05", "2026-03-05", "2026-04-05"), 1)]
    _, line = only_line(calc(text, dataset([payee("P1")], deals), "2026-Q1"))
    assert line.amount == Decimal("450.00")
    assert attribution(line) == {"M1": Decimal("150.00"), "M2": Decimal("150.00"), "M3": Decimal("150.00")}


def test_deal_attributions_show_the_plans_places_even_when_payouts_are_used_as_they_are() -> None:
    # pays 1,000 USD per credit: the payouts (1000 and 1000) already add up to the 2,000.00
    # line, so they are the attribution, written to cents like the line: 1000.00, not 1000
    text = plan(
        """
component bounty "Bounty"
  per credit of bookings
  pays 1,000 USD
"""
    )
    deals = [deal("D1", "P1", "5000", "2026-02-01"), deal("D2", "P1", "7000", "2026-02-02")]
    _, line = only_line(calc(text, dataset([payee("P1")], deals), "2026-Q1"))
    assert [str(a.amount) for a in line.attribution] == ["1000.00", "1000.00"]


# ------------------------------------------------------------------ caps and floors
CAP_PER_DEAL = plan(
    """
component commission "Commission"
  per credit of bookings
  rate 10%
  cap 500 USD per deal
"""
)


def test_a_cap_per_deal_not_reached_leaves_the_payout_alone() -> None:
    # 3,000 × 10% = 300, within 500: 300.00
    data = dataset([payee("P1")], [deal("D1", "P1", "3000", "2026-02-01")])
    _, line = only_line(calc(CAP_PER_DEAL, data, "2026-Q1"))
    assert line.amount == Decimal("300.00")
    (cap,) = [s for s in line.credits[0].steps if s.kind == "cap"]
    assert not cap.applied
    assert cap.reason.startswith("not reached")


def test_a_cap_per_deal_reached_limits_that_deal_only() -> None:
    # D1 3,000 × 10% = 300 (not reached); D2 8,000 × 10% = 800, capped at 500; line 800.00
    data = dataset([payee("P1")], [deal("D1", "P1", "3000", "2026-02-01"), deal("D2", "P1", "8000", "2026-02-02")])
    _, line = only_line(calc(CAP_PER_DEAL, data, "2026-Q1"))
    assert line.amount == Decimal("800.00")
    assert attribution(line) == {"D1": Decimal("300.00"), "D2": Decimal("500.00")}
    (cap,) = [s for s in line.credits[1].steps if s.kind == "cap"]
    assert (cap.before, cap.after, cap.applied) == (Decimal("800.0"), Decimal("500"), True)
    assert cap.reason.startswith("reached")


def test_a_cap_per_period_limits_the_line_and_shares_it_pro_rata() -> None:
    # 6,000 × 10% + 7,000 × 10% = 1,300, capped at 1,000.00.
    # Attribution 1,000 × 600/1,300 = 461.538… and × 700/1,300 = 538.461…: the spare cent
    # goes to the larger remainder (D1's .538 > D2's .461): 461.54 + 538.46
    text = plan(
        """
component commission "Commission"
  per credit of bookings
  rate 10%
  cap 1,000 USD per period
"""
    )
    data = dataset([payee("P1")], [deal("D1", "P1", "6000", "2026-02-01"), deal("D2", "P1", "7000", "2026-02-02")])
    _, line = only_line(calc(text, data, "2026-Q1"))
    assert line.amount == Decimal("1000.00")
    assert attribution(line) == {"D1": Decimal("461.54"), "D2": Decimal("538.46")}


def test_a_cap_per_year_is_reached_in_q3_after_what_q1_and_q2_paid() -> None:
    # cap 2,500 a year at 10%: Q1 10,000 → 1,000; Q2 12,000 → 1,200 (2,200 so far);
    # Q3 5,000 → 500, but only 2,500 − 2,200 = 300 is left: 300.00; Q4 1,000 → 100, none left: 0.00
    text = plan(
        """
component commission "Commission"
  per credit of bookings
  rate 10%
  cap 2,500 USD per year
"""
    )
    deals = [
        deal("D1", "P1", "10000", "2026-02-01"),
        deal("D2", "P1", "12000", "2026-05-01"),
        deal("D3", "P1", "5000", "2026-08-01"),
        deal("D4", "P1", "1000", "2026-11-01"),
    ]
    assert amount_by_period(text, deals) == [Decimal("1000.00"), Decimal("1200.00"), Decimal("300.00"), Decimal("0.00")]


def test_a_floor_per_year_is_applied_only_in_the_last_period() -> None:
    # floor 5,000 a year at 10%: Q1 10,000 → 1,000.00 (the floor waits for year end);
    # Q2 and Q3 earn nothing: 0.00; Q4 5,000 → 500, raised to 5,000 − 1,000 paid earlier = 4,000.00
    text = plan(
        """
component commission "Commission"
  per credit of bookings
  rate 10%
  floor 5,000 USD per year
"""
    )
    deals = [deal("D1", "P1", "10000", "2026-02-01"), deal("D2", "P1", "5000", "2026-11-01")]
    assert amount_by_period(text, deals) == [Decimal("1000.00"), Decimal("0.00"), Decimal("0.00"), Decimal("4000.00")]
    _, q1 = only_line(calc(text, dataset([payee("P1")], deals), "2026-Q1"))
    (floor,) = [s for s in q1.steps if s.kind == "floor"]
    assert (floor.applied, floor.reason) == (False, "checked at year end")


# ------------------------------------------------------------------ gates
GATED = plan(
    """
measure bookings_total = sum of bookings for the period

component commission "Commission"
  per credit of bookings
  rate 10%
  gate bookings_total >= 50,000 USD
"""
)


def test_a_gate_not_met_pays_nothing_and_its_trace_step_says_why() -> None:
    # 30,000 booked < 50,000: the 3,000.00 earned is gated to 0.00
    data = dataset([payee("P1")], [deal("D1", "P1", "30000", "2026-02-01")])
    statement, line = only_line(calc(GATED, data, "2026-Q1"))
    assert line.subtotal == Decimal("3000.0")
    assert line.amount == Decimal("0.00")
    assert line.attribution == ()
    (gate,) = step_nodes(build_line_trace(statement, line), "gate")
    assert gate.value == 0
    assert gate.detail["applied"] is True
    assert gate.detail["reason"] == "not met: bookings_total >= 50,000 USD (bookings_total = 30,000.00 USD)"


def test_a_gate_met_lets_the_line_through() -> None:
    # 50,000 booked, exactly the gate (>=): 5,000.00
    data = dataset([payee("P1")], [deal("D1", "P1", "50000", "2026-02-01")])
    _, line = only_line(calc(GATED, data, "2026-Q1"))
    assert line.amount == Decimal("5000.00")


# ------------------------------------------------------------------ true-ups
TRUE_UP = plan(
    """
measure ytd_bookings = sum of bookings for the year to date
quota bookings_quota = "bookings" annual spread evenly

component commission "Year-to-date commission"
  on ytd_bookings
  retroactive tiers on attainment against bookings_quota for the full year
    below 100%: 5%
    100% and above: 8%
  true up for the year to date{never_negative}
"""
)
TRUE_UP_DEALS = [
    deal("D1", "P1", "150000", "2026-02-10"),
    deal("D2", "P1", "300000", "2026-05-10"),
    deal("D3", "P1", "-100000", "2026-08-10"),  # a cancellation
    deal("D4", "P1", "100000", "2026-11-10"),
]
TRUE_UP_QUOTA = {("P1", "bookings", "FY2026"): "400000"}


def test_a_true_up_pays_cumulative_earnings_minus_what_earlier_periods_paid() -> None:
    # quota 400,000; earned on year-to-date bookings, less what was paid earlier:
    # Q1 150,000 × 5% = 7,500 − 0 = 7,500.00
    # Q2 450,000 × 8% = 36,000 − 7,500 = 28,500.00
    # Q3 350,000 × 5% = 17,500 − 36,000 = −18,500.00 (a clawback)
    # Q4 450,000 × 8% = 36,000 − 17,500 = 18,500.00
    text = TRUE_UP.format(never_negative="")
    amounts = amount_by_period(text, TRUE_UP_DEALS, quotas=TRUE_UP_QUOTA)
    assert amounts == [Decimal("7500.00"), Decimal("28500.00"), Decimal("-18500.00"), Decimal("18500.00")]


def test_a_true_up_never_negative_does_not_take_an_overpayment_back() -> None:
    # Q3: 17,500 − 36,000 = −18,500 → 0.00; Q4: 36,000 − 36,000 paid = 0.00
    text = TRUE_UP.format(never_negative=", never negative")
    amounts = amount_by_period(text, TRUE_UP_DEALS, quotas=TRUE_UP_QUOTA)
    assert amounts == [Decimal("7500.00"), Decimal("28500.00"), Decimal("0.00"), Decimal("0.00")]


# ------------------------------------------------------------------ multipliers
MULTIPLIED = plan(
    """
deal attribute term_months: count, default 12

component commission "Commission"
  per credit of bookings
  rate 5%
  multiplied by 1.5 when deal.term_months >= 36
"""
)


def test_a_multiplier_applies_when_its_condition_holds() -> None:
    # 10,000 × 5% = 500, × 1.5 for a 36-month term = 750.00
    data = dataset([payee("P1")], [deal("D1", "P1", "10000", "2026-02-01", term_months="36")])
    _, line = only_line(calc(MULTIPLIED, data, "2026-Q1"))
    assert line.amount == Decimal("750.00")
    (multiplier,) = line.credits[0].steps
    assert (multiplier.applied, multiplier.reason) == (True, "applies: deal.term_months >= 36 (deal.term_months = 36)")


def test_a_multiplier_is_not_applied_when_its_condition_fails_and_the_trace_says_why() -> None:
    # empty term → default 12: 10,000 × 5% = 500.00, no multiplier
    data = dataset([payee("P1")], [deal("D1", "P1", "10000", "2026-02-01")])
    _, line = only_line(calc(MULTIPLIED, data, "2026-Q1"))
    assert line.amount == Decimal("500.00")
    (multiplier,) = line.credits[0].steps
    assert (multiplier.applied, multiplier.after) == (False, multiplier.before)
    assert multiplier.reason == "not applied: deal.term_months >= 36 (deal.term_months = 12)"


# ------------------------------------------------------------------ which credits, in which order
def test_during_pays_only_credits_dated_inside_its_half_open_window() -> None:
    # during [2026-02-01, 2026-03-01): D1 (Jan 31) and D4 (Mar 1) are outside;
    # D2 2,000 × 10% = 200 and D3 3,000 × 10% = 300: line 500.00
    text = plan(
        """
component february_spiff "February SPIFF"
  per credit of bookings
  during 2026-02-01 until 2026-03-01
  rate 10%
"""
    )
    deals = [
        deal("D1", "P1", "1000", "2026-01-31"),
        deal("D2", "P1", "2000", "2026-02-01"),
        deal("D3", "P1", "3000", "2026-02-28"),
        deal("D4", "P1", "4000", "2026-03-01"),
    ]
    _, line = only_line(calc(text, dataset([payee("P1")], deals), "2026-Q1"))
    assert line.amount == Decimal("500.00")
    assert attribution(line) == {"D2": Decimal("200.00"), "D3": Decimal("300.00")}


ORDERED = plan(
    """
component commission "Commission"
  per credit of bookings
  ordered by {order}
  marginal tiers on amount
    below 10,000 USD: 5%
    10,000 USD and above: 10%
"""
)
ORDERED_DEALS = [deal("A", "P1", "8000", "2026-02-01"), deal("B", "P1", "6000", "2026-02-15")]


def test_ordered_by_close_date_lets_the_later_deal_cross_the_tier_boundary() -> None:
    # A first: 8,000 × 5% = 400.00; B moves 8,000 → 14,000: 2,000 × 5% + 4,000 × 10% = 500.00
    _, line = only_line(calc(ORDERED.format(order="deal.close_date"), dataset([payee("P1")], ORDERED_DEALS), "2026-Q1"))
    assert line.amount == Decimal("900.00")
    assert attribution(line) == {"A": Decimal("400.00"), "B": Decimal("500.00")}


def test_ordered_by_amount_lets_the_larger_deal_cross_the_tier_boundary() -> None:
    # B first (6,000 < 8,000): 6,000 × 5% = 300.00; A moves 6,000 → 14,000:
    # 4,000 × 5% + 4,000 × 10% = 600.00.  The line is the same 900.00; who earns it is not.
    _, line = only_line(calc(ORDERED.format(order="deal.amount"), dataset([payee("P1")], ORDERED_DEALS), "2026-Q1"))
    assert line.amount == Decimal("900.00")
    assert attribution(line) == {"A": Decimal("600.00"), "B": Decimal("300.00")}


def test_a_credit_dated_in_another_period_is_paid_in_that_period_not_now() -> None:
    # closed 2026-03-20 but credited on go-live, 2026-04-10: Q1 0.00, Q2 5,000 × 10% = 500.00
    text = (
        HEADER
        + """
deal attribute go_live: date

credit bookings from deals
  to owner
  amount deal.amount
  dated deal.go_live

component commission "Commission"
  per credit of bookings
  rate 10%
"""
    )
    deals = [deal("D1", "P1", "5000", "2026-03-20", go_live="2026-04-10")]
    assert amount_by_period(text, deals, periods=("2026-Q1", "2026-Q2")) == [Decimal("0.00"), Decimal("500.00")]


# ------------------------------------------------------------------ rounding levels
# Two identical components paying 12.5% on three deals of 100.04: each credit earns exactly
# 12.505, each line exactly 37.515, the statement exactly 75.030.
ROUNDED = """
component first "First"
  per credit of bookings
  rate 12.5%

component second "Second"
  per credit of bookings
  rate 12.5%
"""
ROUNDED_DEALS = [deal(f"D{i}", "P1", "100.04", "2026-02-01") for i in (1, 2, 3)]


def rounded(policy: str) -> tuple[dict[str, Decimal], Decimal]:
    result = calc(plan(ROUNDED, header=with_rounding(policy)), dataset([payee("P1")], ROUNDED_DEALS), "2026-Q1")
    return line_amounts(result, "P1"), result.statement("P1").total


def test_rounding_per_credit_rounds_each_payout_before_adding_up() -> None:
    # 12.505 → 12.51 per credit; 3 × 12.51 = 37.53 per line; total 75.06
    assert rounded("half up to 2 places per credit") == ({"first": Decimal("37.53"), "second": Decimal("37.53")}, Decimal("75.06"))


def test_rounding_per_component_rounds_each_line_once() -> None:
    # 37.515 → 37.52 per line; total 75.04
    assert rounded("half up to 2 places per component") == ({"first": Decimal("37.52"), "second": Decimal("37.52")}, Decimal("75.04"))


def test_rounding_per_statement_rounds_the_running_total_so_lines_add_up_to_the_rounded_total() -> None:
    # R(37.515) = 37.52 → first 37.52; R(75.030) = 75.03 → second 75.03 − 37.52 = 37.51; total 75.03
    assert rounded("half up to 2 places per statement") == ({"first": Decimal("37.52"), "second": Decimal("37.51")}, Decimal("75.03"))


def test_statement_rounding_that_moves_a_line_by_a_whole_cent_still_verifies() -> None:
    # half even: R(0.005) = 0.00 → a 0.00; R(0.015) = 0.02 → b 0.02 − 0.00 = 0.02, one whole
    # cent above its exact 0.01.  That is what cumulative rounding does (docs: "up to one unit
    # of the last place"), so the trace must verify.
    text = (
        with_rounding("half even to 2 places per statement")
        + """
component a "A"
  pays 0.005 USD

component b "B"
  pays 0.01 USD
"""
    )
    result = calc(text, dataset([payee("P1")]), "2026-Q1")
    statement = result.statement("P1")
    assert [line.amount for line in statement.lines] == [Decimal("0.00"), Decimal("0.02")]
    assert statement.total == Decimal("0.02")
    for line in statement.lines:
        assert verify(build_line_trace(statement, line)) == []


# ------------------------------------------------------------------ effective-dated values
def test_a_parameter_changing_mid_quarter_applies_by_each_credits_date() -> None:
    # 5% until 2026-02-15, 6% from then: D1 (Feb 14) 10,000 × 5% = 500; D2 (Feb 15) 10,000 × 6% = 600
    text = plan(
        """
parameter commission_rate = 5% from 2026-01-01, 6% from 2026-02-15

component commission "Commission"
  per credit of bookings
  rate commission_rate
"""
    )
    data = dataset([payee("P1")], [deal("D1", "P1", "10000", "2026-02-14"), deal("D2", "P1", "10000", "2026-02-15")])
    _, line = only_line(calc(text, data, "2026-Q1"))
    assert line.amount == Decimal("1100.00")
    assert attribution(line) == {"D1": Decimal("500.00"), "D2": Decimal("600.00")}


def test_a_table_lookup_without_a_matching_row_uses_otherwise() -> None:
    # gold 1,000 × 10% = 100; silver 1,000 × 6% = 60; bronze has no row: otherwise 4% = 40; line 200.00
    text = plan(
        """
deal attribute partner_tier: text

table partner_rate: percent by deal.partner_tier
  "gold": 10%
  "silver": 6%
  otherwise: 4%

component commission "Commission"
  per credit of bookings
  rate partner_rate
"""
    )
    deals = [
        deal("D1", "P1", "1000", "2026-02-01", partner_tier="gold"),
        deal("D2", "P1", "1000", "2026-02-01", partner_tier="silver"),
        deal("D3", "P1", "1000", "2026-02-01", partner_tier="bronze"),
    ]
    _, line = only_line(calc(text, dataset([payee("P1")], deals), "2026-Q1"))
    assert line.amount == Decimal("200.00")
    assert attribution(line) == {"D1": Decimal("100.00"), "D2": Decimal("60.00"), "D3": Decimal("40.00")}
    (bronze,) = [r for r in line.credits[2].inputs if r.kind == "table"]
    assert (bronze.value, bronze.detail["matched"]) == (Decimal("0.04"), "otherwise")


# ------------------------------------------------------------------ errors found while calculating
ATTAINMENT_TIERS = plan(
    """
quota bookings_quota = "bookings" annual spread evenly

component commission "Commission"
  per credit of bookings
  ordered by deal.close_date, deal.id
  marginal tiers on attainment against bookings_quota for the full year
    below 100%: 5%
    100% and above: 8%
"""
)


def test_a_missing_quota_row_is_an_error_naming_the_payee_and_the_quota() -> None:
    data = dataset([payee("P1")], [deal("D1", "P1", "1000", "2026-02-01")])
    with pytest.raises(EvaluationError) as caught:
        calc(ATTAINMENT_TIERS, data, "2026-Q1")
    assert caught.value.message == "payee P1 has no 'bookings' quota for FY2026"
    assert caught.value.hint == "add a row to quotas.csv: P1,bookings,FY2026,<amount>,USD"


def test_an_empty_attribute_without_default_read_by_a_rule_is_an_error_naming_the_deals_csv_row_and_field() -> None:
    text = (
        HEADER
        + """
deal attribute acv: money

credit bookings from deals
  to owner
  amount deal.acv
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 10%
"""
    )
    empty = dataclasses.replace(deal("D1", "P1", "1000", "2026-02-01", acv=""), ref=RowRef("deals.csv", 7))
    with pytest.raises(EvaluationError) as caught:
        calc(text, dataset([payee("P1")], [empty]), "2026-Q1")
    assert caught.value.message == "deals.csv row 7, field acv is empty, and plan test_plan needs it for deal D1"


def test_dividing_by_a_zero_quota_is_an_error_naming_the_division_payee_and_period() -> None:
    text = plan(
        """
measure bookings_total = sum of bookings for the period
quota bookings_quota = "bookings" annual spread evenly
let attainment = bookings_total / bookings_quota for the period

component bonus "Bonus"
  pays target incentive for the period × attainment
"""
    )
    data = dataset([payee("P1")], [deal("D1", "P1", "1000", "2026-02-01")], quotas={("P1", "bookings", "FY2026"): "0"})
    with pytest.raises(EvaluationError) as caught:
        calc(text, data, "2026-Q1")
    assert caught.value.message == "`bookings_total / bookings_quota for the period` divides by zero (payee P1, 2026-Q1)"


def test_tiers_on_attainment_against_a_zero_quota_are_an_error_not_a_division() -> None:
    data = dataset([payee("P1")], [deal("D1", "P1", "1000", "2026-02-01")], quotas={("P1", "bookings", "FY2026"): "0"})
    with pytest.raises(EvaluationError) as caught:
        calc(ATTAINMENT_TIERS, data, "2026-Q1")
    assert caught.value.message == "attainment against bookings_quota for the full year is undefined: it is 0 (deal D1, payee P1)"


# ------------------------------------------------------------------ traces
def test_an_interpolated_tier_line_traces_and_verifies_outside_the_engines_decimal_context() -> None:
    # quota 300,000, points 0%: 2% and 100%: 10%.  D1 moves 0 → 100,000 (33.3…%):
    # rate 2% + 8% × 1/3 = 4.666…%, a 34-digit division.  D2 moves 100,000 → 150,000 (50%):
    # rate 6%, 150,000 × 6% = 9,000 less 100,000 × 4.666…% = 4,666.666…; line 9,000.00.
    # The trace must re-add exactly wherever it is built (the CLI builds it outside
    # the engine's 34-digit context).
    text = plan(
        """
quota bookings_quota = "bookings" annual spread evenly

component commission "Commission"
  per credit of bookings
  ordered by deal.close_date, deal.id
  running total for the year to date
  interpolated tiers on attainment against bookings_quota for the full year
    at 0%: 2%
    at 100%: 10%
"""
    )
    deals = [deal("D1", "P1", "100000", "2026-02-01"), deal("D2", "P1", "50000", "2026-02-02")]
    data = dataset([payee("P1")], deals, quotas={("P1", "bookings", "FY2026"): "300000"})
    statement, line = only_line(calc(text, data, "2026-Q1"))
    assert line.amount == Decimal("9000.00")
    assert verify(build_line_trace(statement, line)) == []
