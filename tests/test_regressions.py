"""Bugs found in review, each pinned by the behaviour that is now specified."""

from __future__ import annotations

from decimal import Decimal

import pytest

from compengine.core.data import Assignment, Payee
from compengine.core.errors import EvaluationError
from tests.support import HEADER, OWNER_BOOKINGS, calc, compile_text, d, dataset, deal, line_amounts, payee

BONUS = (
    HEADER
    + """
component bonus "Bonus"
  pays target incentive for the period
"""
)


def test_a_target_incentive_in_another_currency_than_the_plan_is_an_error() -> None:
    euros = [Assignment("P1", "test_plan", d("2026-01-01"), None, Decimal(100000), "EUR")]
    data = dataset([payee("P1")], assignments=euros)
    with pytest.raises(EvaluationError, match="payee P1's target incentive is in EUR, but plan test_plan calculates in USD"):
        calc(BONUS, data, "2026-Q1")


def test_an_empty_hire_date_read_by_a_rule_names_the_payee_row() -> None:
    plan = BONUS + "  gate payee.hire_date < 2026-01-01\n"
    unknown_start = Payee("P1", "Alex", None, None, {})
    with pytest.raises(EvaluationError, match="payee P1, field hire_date is empty, and plan test_plan reads it"):
        calc(plan, dataset([unknown_start]), "2026-Q1")


def test_one_year_is_a_duration_of_twelve_months() -> None:
    # 2026-02-01 + 1 year = 2027-02-01: × 2 applies, 100 × 10% × 2 = 20.00;
    # 2026-02-15 + 1 year = 2027-02-15: it does not, 100 × 10% = 10.00
    plan = (
        HEADER
        + OWNER_BOOKINGS
        + """
component commission "Commission"
  per credit of bookings
  rate 10%
  multiplied by 2 when deal.close_date + 1 year <= 2027-02-01
"""
    )
    data = dataset([payee("P1")], [deal("D1", "P1", 100, "2026-02-01")])
    assert line_amounts(calc(plan, data, "2026-Q1"), "P1") == {"commission": Decimal("20.00")}
    data = dataset([payee("P1")], [deal("D1", "P1", 100, "2026-02-15")])
    assert line_amounts(calc(plan, data, "2026-Q1"), "P1") == {"commission": Decimal("10.00")}


GATED_FIRST = """
credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date

measure total = sum of bookings

component bonus "Bonus"
  pays 1,000 USD
  gate total >= 1 USD

component commission "Commission"
  on total
  rate 1%
"""


def test_how_an_aggregate_line_is_shared_over_deals_does_not_depend_on_component_order() -> None:
    # D1 5,000 and D2 3,000 stand behind the bonus: 1,000 × 5/8 = 625.00, × 3/8 = 375.00
    swapped = GATED_FIRST.replace('component bonus "Bonus"\n  pays 1,000 USD\n  gate total >= 1 USD\n\n', "") + (
        '\ncomponent bonus "Bonus"\n  pays 1,000 USD\n  gate total >= 1 USD\n'
    )
    data = dataset([payee("P1")], [deal("D1", "P1", 5000, "2026-02-01"), deal("D2", "P1", 3000, "2026-03-01")])
    for text in (GATED_FIRST, swapped):
        statement = calc(compile_text(HEADER + text), data, "2026-Q1").statement("P1")
        bonus = next(line for line in statement.lines if line.component.name == "bonus")
        assert [(a.deal_id, a.amount) for a in bonus.attribution] == [("D1", Decimal("625.00")), ("D2", Decimal("375.00"))]


def test_a_let_takes_the_type_it_is_declared_with() -> None:
    # 1.5 written as a plain number, declared a ratio: it is a ratio wherever it is used
    plan = compile_text(HEADER + '\nlet stretch: ratio = 1.5\n\ncomponent bonus "Bonus"\n  pays 100 USD × stretch\n')
    assert plan.definitions["stretch"].expr.type.kind.value == "ratio"  # type: ignore[union-attr]
