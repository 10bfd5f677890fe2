"""Proration and changes within a period: a payee who joins, leaves or changes assignment
inside a period.

`proration by calendar days | weekdays` scales the period's quotas and target incentive by
the days on the plan over the days of the period, and only credits dated while on the plan
count.  `assignment changes within a period are split` weighs each assignment (and each
quota figure) by its days; `... use the period end` takes the one in force on the period's
last day.  Without a declared convention, a partial period or a change inside one is an
error naming the payee, plan, period and date.

Calendar used below (2026, fiscal year from January): 2026-Q1 has 31 + 28 + 31 = 90 days
and 64 weekdays (January 22, February 20, March 22; 2026-01-01 is a Thursday).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from compengine.core.calculation import CalculationResult, calculate
from compengine.core.data import Assignment, Dataset, Deal, Payee, QuotaFigure, RowRef
from compengine.core.errors import EvaluationError
from compengine.core.trace import build_line_trace
from compengine.lang.diagnostics import Severity
from compengine.report.explain import explain_line
from tests.support import HEADER, OWNER_BOOKINGS, calc, compile_text, d, dataset, deal, diagnostics

CALENDAR_DAYS = "  proration by calendar days\n"
WEEKDAYS = "  proration by weekdays\n"
SPLIT = "  assignment changes within a period are split\n"
PERIOD_END = "  assignment changes within a period use the period end\n"

BODY = (
    OWNER_BOOKINGS
    + """
measure booked = sum of bookings for the period
quota bookings_quota = "bookings" annual spread evenly

component commission "Commission"
  per credit of bookings
  rate 10%

component target "Target incentive"
  pays target incentive for the period

component quota_share "One percent of quota"
  pays bookings_quota for the period × 1%

component booked_share "One percent of bookings"
  pays booked × 1%
"""
)

#: Annual quota 400,000 → 100,000 a quarter; annual target incentive 100,000 → 25,000 a quarter.
QUOTAS = {("P1", "bookings", "FY2026"): 400_000}

#: D1 the day before 2026-02-15, D2 on it, D3 on the quarter's last day.
DEALS = [deal("D1", "P1", 10_000, "2026-02-14"), deal("D2", "P1", 20_000, "2026-02-15"), deal("D3", "P1", 40_000, "2026-03-31")]


def plan(clauses: str, body: str = BODY, plan_id: str = "test_plan") -> str:
    return HEADER.replace("test_plan", plan_id) + clauses + body


def person(hired: str | None = "2020-01-01", left: str | None = None) -> Payee:
    return Payee("P1", "P1", d(hired) if hired else None, d(left) if left else None, {}, RowRef("payees.csv", 2))


def on_plan(plan_id: str, start: str, until: str | None, target: int, row: int) -> Assignment:
    return Assignment("P1", plan_id, d(start), d(until) if until else None, Decimal(target), "USD", RowRef("assignments.csv", row))


def data(payee: Payee, deals: list[Deal] = DEALS, assignments: list[Assignment] | None = None) -> Dataset:
    return dataset([payee], deals, quotas=QUOTAS, assignments=assignments)


def amounts(result: CalculationResult, plan_id: str = "test_plan") -> dict[str, Decimal]:
    statement = next(s for s in result.statements if s.plan.id == plan_id)
    return {line.component.name: line.amount for line in statement.lines}


def expected(commission: str, target: str, quota_share: str, booked_share: str) -> dict[str, Decimal]:
    return {
        "commission": Decimal(commission),
        "target": Decimal(target),
        "quota_share": Decimal(quota_share),
        "booked_share": Decimal(booked_share),
    }


# ---------------------------------------------------------------------- hires and terminations
def test_a_mid_quarter_hire_prorates_quota_and_target_by_calendar_days_and_pays_credits_from_the_hire_date() -> None:
    # hired 2026-02-15: on the plan 2026-02-15 to 2026-03-31 = 14 + 31 = 45 of 90 days = 50%
    # commission: D2 + D3 = 60,000 × 10% = 6,000.00 (D1 is dated the day before the hire)
    # target incentive: 25,000 × 45/90 = 12,500.00; quota: 100,000 × 45/90 = 50,000 → 1% = 500.00
    # booked: D2 + D3 = 60,000 → 1% = 600.00
    result = calc(plan(CALENDAR_DAYS), data(person("2026-02-15")), "2026-Q1")
    assert amounts(result) == expected("6000.00", "12500.00", "500.00", "600.00")


def test_calendar_days_that_do_not_divide_evenly_are_exact_until_rounded() -> None:
    # hired 2026-02-16: 13 + 31 = 44 of 90 days
    # target: 25,000 × 44/90 = 12,222.222… → 12,222.22; quota: 100,000 × 44/90 = 48,888.888… → 1% = 488.888… → 488.89
    # commission and booked: only D3 (D2 is dated the day before the hire): 4,000.00 and 400.00
    result = calc(plan(CALENDAR_DAYS), data(person("2026-02-16")), "2026-Q1")
    assert amounts(result) == expected("4000.00", "12222.22", "488.89", "400.00")


def test_proration_by_weekdays_counts_monday_to_friday() -> None:
    # hired Monday 2026-02-16: February 16-20 and 23-27 = 10 weekdays, March 22: 32 of 64 = 50%
    # target: 25,000 × 32/64 = 12,500.00; quota: 100,000 × 32/64 = 50,000 → 500.00
    result = calc(plan(WEEKDAYS), data(person("2026-02-16")), "2026-Q1")
    assert amounts(result) == expected("4000.00", "12500.00", "500.00", "400.00")


def test_a_termination_mid_quarter_counts_the_last_day_worked() -> None:
    # last day 2026-02-14: on the plan 2026-01-01 to 2026-02-14 = 31 + 14 = 45 of 90 days
    # commission: only D1 (dated on the last day) = 10,000 × 10% = 1,000.00; booked 10,000 → 100.00
    # target 25,000 × 45/90 = 12,500.00; quota 100,000 × 45/90 = 50,000 → 500.00
    result = calc(plan(CALENDAR_DAYS), data(person(left="2026-02-14")), "2026-Q1")
    assert amounts(result) == expected("1000.00", "12500.00", "500.00", "100.00")


def test_a_hire_on_the_first_day_of_the_period_is_not_a_partial_period() -> None:
    result = calc(plan(CALENDAR_DAYS), data(person("2026-01-01")), "2026-Q1")
    # all of D1, D2, D3 = 70,000: commission 7,000.00, booked 700.00; full target and quota
    assert amounts(result) == expected("7000.00", "25000.00", "1000.00", "700.00")
    assert result.statement("P1").coverage is None


def test_the_explanation_says_how_much_of_the_period_the_payee_was_on_the_plan() -> None:
    statement = calc(plan(CALENDAR_DAYS), data(person("2026-02-15")), "2026-Q1").statement("P1")
    assert statement.coverage == "on the plan 45 of 90 days of 2026-Q1 (2026-02-15 to 2026-03-31)"
    trace = build_line_trace(statement, statement.lines[1])
    assert "on the plan 45 of 90 days of 2026-Q1 (2026-02-15 to 2026-03-31): quotas and targets are prorated" in explain_line(trace)


@pytest.mark.parametrize(
    ("payee", "why"),
    [(person("2026-02-15"), "hired 2026-02-15"), (person(left="2026-02-14"), "last day 2026-02-14")],
)
def test_a_partial_period_without_a_proration_clause_names_payee_plan_period_and_date(payee: Payee, why: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        calc(plan(""), data(payee), "2026-Q1")
    assert caught.value.message == (f"payee P1 is on plan test_plan for only part of 2026-Q1 ({why}), and the plan declares no proration")
    assert caught.value.hint == "declare how to prorate quotas and targets: `proration by calendar days` (or `by weekdays`)"


def test_year_to_date_and_full_year_windows_prorate_each_period() -> None:
    body = (
        OWNER_BOOKINGS
        + """
quota bookings_quota = "bookings" annual spread evenly

component windows "Windows"
  pays target incentive for the year to date + bookings_quota for the full year × 1%
"""
    )
    # hired 2026-02-15, calculating 2026-Q2:
    # target for the year to date: Q1 25,000 × 45/90 = 12,500 + Q2 25,000 = 37,500
    # quota for the full year: Q1 50,000 + Q2, Q3, Q4 100,000 each = 350,000 → 1% = 3,500
    # line: 37,500 + 3,500 = 41,000.00
    result = calc(plan(CALENDAR_DAYS, body), data(person("2026-02-15")), "2026-Q2")
    assert amounts(result)["windows"] == Decimal("41000.00")


def test_a_year_to_date_measure_in_a_later_period_leaves_out_credits_dated_before_the_hire() -> None:
    body = (
        OWNER_BOOKINGS
        + """
measure ytd_bookings = sum of bookings for the year to date

component ytd_share "One percent of bookings to date"
  pays ytd_bookings × 1%
  true up for the year to date
"""
    )
    deals = [*DEALS, deal("D4", "P1", 5_000, "2026-05-01")]
    # hired 2026-02-15: D1 (2026-02-14) never counts; Q1 to date: D2 + D3 = 60,000 → 600.00
    # Q2 to date: 60,000 + D4 5,000 = 65,000 → 650, less the 600 paid in Q1 = 50.00
    assert amounts(calc(plan(CALENDAR_DAYS, body), data(person("2026-02-15"), deals), "2026-Q1"))["ytd_share"] == Decimal("600.00")
    assert amounts(calc(plan(CALENDAR_DAYS, body), data(person("2026-02-15"), deals), "2026-Q2"))["ytd_share"] == Decimal("50.00")


# ---------------------------------------------------------------------- changes within a period
TWO_ASSIGNMENTS = [on_plan("test_plan", "2026-01-01", "2026-02-15", 80_000, 2), on_plan("test_plan", "2026-02-15", None, 120_000, 3)]


def test_split_assignments_weigh_each_target_incentive_by_its_days() -> None:
    # 80,000 a year (20,000 a quarter) for 2026-01-01 to 2026-02-14 = 45 days,
    # 120,000 a year (30,000 a quarter) for 2026-02-15 to 2026-03-31 = 45 days:
    # (20,000 × 45 + 30,000 × 45) / 90 = 25,000.00; all three deals count: 7,000.00 and 700.00
    result = calc(plan(CALENDAR_DAYS + SPLIT), data(person(), assignments=TWO_ASSIGNMENTS), "2026-Q1")
    assert amounts(result) == expected("7000.00", "25000.00", "1000.00", "700.00")


def test_period_end_takes_the_assignment_in_force_on_the_last_day_for_the_whole_period() -> None:
    # the assignment in force on 2026-03-31: 120,000 a year → 30,000.00
    result = calc(plan(CALENDAR_DAYS + PERIOD_END), data(person(), assignments=TWO_ASSIGNMENTS), "2026-Q1")
    assert amounts(result) == expected("7000.00", "30000.00", "1000.00", "700.00")


def test_period_end_needs_no_proration_clause() -> None:
    result = calc(plan(PERIOD_END), data(person(), assignments=TWO_ASSIGNMENTS), "2026-Q1")
    assert amounts(result)["target"] == Decimal("30000.00")


def test_two_assignments_in_a_period_without_a_convention_name_the_rows() -> None:
    with pytest.raises(EvaluationError) as caught:
        calc(plan(CALENDAR_DAYS), data(person(), assignments=TWO_ASSIGNMENTS), "2026-Q1")
    assert caught.value.message == (
        "payee P1 has 2 assignments to plan test_plan during 2026-Q1 (assignments.csv row 2, assignments.csv row 3)"
    )


PLAN_CHANGE = [on_plan("plan_a", "2026-01-01", "2026-02-15", 80_000, 2), on_plan("plan_b", "2026-02-15", None, 120_000, 3)]


def test_a_plan_change_split_inside_a_period_gives_two_prorated_statements_with_credits_by_date() -> None:
    plans = [compile_text(plan(CALENDAR_DAYS + SPLIT, plan_id=p)) for p in ("plan_a", "plan_b")]
    result = calculate(plans, data(person(), DEALS[:2], PLAN_CHANGE), "2026-Q1")
    # plan_a, 2026-01-01 to 2026-02-14 (45 of 90 days): D1 10,000 → commission 1,000.00, booked 100.00;
    #   target 20,000 × 45/90 = 10,000.00; quota 100,000 × 45/90 = 50,000 → 500.00
    # plan_b, 2026-02-15 to 2026-03-31 (45 of 90 days): D2 20,000 → commission 2,000.00, booked 200.00;
    #   target 30,000 × 45/90 = 15,000.00; quota 500.00
    assert amounts(result, "plan_a") == expected("1000.00", "10000.00", "500.00", "100.00")
    assert amounts(result, "plan_b") == expected("2000.00", "15000.00", "500.00", "200.00")


def test_a_plan_change_with_period_end_gives_only_the_later_plans_statement_for_the_whole_period() -> None:
    plans = [compile_text(plan(CALENDAR_DAYS + PERIOD_END, plan_id=p)) for p in ("plan_a", "plan_b")]
    result = calculate(plans, data(person(), DEALS[:2], PLAN_CHANGE), "2026-Q1")
    # only plan_b, on 2026-03-31: both deals (30,000): commission 3,000.00, booked 300.00; target 30,000.00
    assert [s.plan.id for s in result.statements] == ["plan_b"]
    assert amounts(result, "plan_b") == expected("3000.00", "30000.00", "1000.00", "300.00")


# ---------------------------------------------------------------------- quota changes
QUOTA_BODY = (
    OWNER_BOOKINGS
    + """
quota bookings_quota = "bookings" annual spread evenly

component commission "Commission"
  per credit of bookings
  rate 10%

component quota_share "One percent of quota"
  pays bookings_quota for the period × 1%
"""
)

#: The annual quota goes from 400,000 to 800,000 on 2026-02-15.
RAISED_QUOTA = (
    QuotaFigure("P1", "bookings", "FY2026", Decimal(400_000), "USD", RowRef("quotas.csv", 2)),
    QuotaFigure("P1", "bookings", "FY2026", Decimal(800_000), "USD", RowRef("quotas.csv", 3), d("2026-02-15")),
)


def raised_quota() -> Dataset:
    return replace(dataset([person()], DEALS), quotas=RAISED_QUOTA)


@pytest.mark.parametrize(
    ("clauses", "period", "amount"),
    [
        # split: (100,000 × 45 + 200,000 × 45) / 90 = 150,000 → 1,500.00
        (CALENDAR_DAYS + SPLIT, "2026-Q1", "1500.00"),
        # period end: the figure in force on 2026-03-31, 800,000 / 4 = 200,000 → 2,000.00
        (CALENDAR_DAYS + PERIOD_END, "2026-Q1", "2000.00"),
        (PERIOD_END, "2026-Q1", "2000.00"),
        # Q2 lies wholly after the change: 200,000 → 2,000.00
        (CALENDAR_DAYS + SPLIT, "2026-Q2", "2000.00"),
    ],
)
def test_a_quota_changing_inside_a_period_follows_the_declared_convention(clauses: str, period: str, amount: str) -> None:
    result = calc(plan(clauses, QUOTA_BODY), raised_quota(), period)
    assert amounts(result)["quota_share"] == Decimal(amount)


@pytest.mark.parametrize("clauses", [CALENDAR_DAYS, ""])
def test_a_quota_changing_inside_a_period_without_a_convention_is_an_error(clauses: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        calc(plan(clauses, QUOTA_BODY), raised_quota(), "2026-Q1")
    assert caught.value.message == (
        "payee P1's 'bookings' quota changes inside 2026-Q1, and the plan declares no convention for changes within a period"
    )


# ---------------------------------------------------------------------- checker
def test_splitting_a_period_without_a_proration_clause_is_e011() -> None:
    text = plan(SPLIT)
    [found] = [x for x in diagnostics(text) if x.severity is Severity.ERROR]
    assert found.code == "E011"
    assert found.message == "splitting a period between assignments weighs each by its days, so the plan needs a day-count convention"
    assert (found.span.line, found.span.column) == (text.splitlines().index(SPLIT.rstrip("\n")) + 1, 3)
    assert found.hint == "add `proration by calendar days` (or `by weekdays`)"


def test_an_unknown_day_count_convention_is_e014() -> None:
    [found] = [x for x in diagnostics(plan("  proration by business days\n")) if x.severity is Severity.ERROR]
    assert found.code == "E014"
    assert found.message == "`proration by business days` is not a day-count convention"
