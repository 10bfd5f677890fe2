"""Who gets a statement for a period, and when the data cannot say."""

from __future__ import annotations

from decimal import Decimal

import pytest

from compengine.core.data import Assignment, Payee
from compengine.core.errors import EvaluationError
from tests.support import HEADER, OWNER_BOOKINGS, calc, d, dataset, deal, line_amounts, payee

PLAN = (
    HEADER
    + OWNER_BOOKINGS
    + """
component commission "Commission"
  per credit of bookings
  rate 10%
"""
)


def person(payee_id: str, hired: str, left: str | None = None) -> Payee:
    return Payee(payee_id, payee_id, d(hired), d(left) if left else None, {})


def test_a_payee_whose_last_day_was_before_the_period_gets_no_statement() -> None:
    data = dataset([person("P1", "2024-01-01", left="2026-03-31")], [deal("D1", "P1", 1000, "2026-05-01")])
    assert calc(PLAN, data, "2026-Q2").statements == ()


def test_a_payee_leaving_during_the_period_needs_a_declared_proration() -> None:
    data = dataset([person("P1", "2024-01-01", left="2026-05-15")], [deal("D1", "P1", 1000, "2026-05-01")])
    with pytest.raises(EvaluationError, match=r"P1 is on plan test_plan for only part of 2026-Q2 \(last day 2026-05-15\)"):
        calc(PLAN, data, "2026-Q2")


def test_a_payee_leaving_during_a_prorated_period_is_paid_for_deals_up_to_the_last_day() -> None:
    # last day 2026-05-15: D1 (05-01) pays 1,000 × 10% = 100.00; D2 (05-20) is after it
    prorated = PLAN.replace("per component\n", "per component\n  proration by calendar days\n")
    deals = [deal("D1", "P1", 1000, "2026-05-01"), deal("D2", "P1", 5000, "2026-05-20")]
    data = dataset([person("P1", "2024-01-01", left="2026-05-15")], deals)
    assert line_amounts(calc(prorated, data, "2026-Q2"), "P1") == {"commission": Decimal("100.00")}


def test_a_payee_hired_after_the_period_gets_no_statement() -> None:
    data = dataset([person("P1", "2026-04-01")], [])
    assert calc(PLAN, data, "2026-Q1").statements == ()


def test_a_payee_not_assigned_to_the_plan_gets_no_statement() -> None:
    late = [Assignment("P1", "test_plan", d("2026-07-01"), None, Decimal(100000), "USD")]
    data = dataset([payee("P1")], [deal("D1", "P1", 1000, "2026-02-01")], assignments=late)
    assert calc(PLAN, data, "2026-Q1").statements == ()


def test_two_assignments_in_a_period_need_a_declared_convention() -> None:
    split_quarter = [
        Assignment("P1", "test_plan", d("2026-01-01"), d("2026-02-15"), Decimal(100000), "USD"),
        Assignment("P1", "test_plan", d("2026-02-15"), None, Decimal(120000), "USD"),
    ]
    data = dataset([payee("P1")], [], assignments=split_quarter)
    with pytest.raises(EvaluationError, match="payee P1 has 2 assignments to plan test_plan during 2026-Q1"):
        calc(PLAN, data, "2026-Q1")


def test_a_deal_in_another_currency_than_the_plan_is_an_error_naming_the_deal() -> None:
    data = dataset([payee("P1")], [deal("D7", "P1", 1000, "2026-02-01", currency="EUR")])
    with pytest.raises(EvaluationError, match=r"deal D7 \(deals.csv row 0\) is in EUR but plan test_plan calculates in USD"):
        calc(PLAN, data, "2026-Q1")


def test_a_deal_dated_before_the_plan_starts_is_not_credited_under_it() -> None:
    # the parameter has no value in 2025, but the 2025 deal is never looked at by this plan
    plan = (
        HEADER
        + """
parameter minimum = 1,000 USD from 2026-01-01

credit bookings from deals
  where deal.amount >= minimum
  to owner
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 10%
"""
    )
    data = dataset([payee("P1")], [deal("D0", "P1", 5000, "2025-11-01"), deal("D1", "P1", 2000, "2026-02-01")])
    assert line_amounts(calc(plan, data, "2026-Q1"), "P1") == {"commission": Decimal("200.00")}
