"""The fiscal calendar, its windows, and quotas spread over periods, one behaviour per test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from compengine.core.data import Assignment, QuotaFigure
from compengine.core.errors import PeriodError
from compengine.core.periods import FiscalCalendar, Period, PeriodKind, Window
from compengine.core.scope import PayeeFacts, PeriodScope
from tests.support import HEADER, compile_text, d, payee

JANUARY = FiscalCalendar(1)
FEBRUARY = FiscalCalendar(2)
Q, M, Y = PeriodKind.QUARTER, PeriodKind.MONTH, PeriodKind.YEAR


def span(period: Period) -> tuple[date, date]:
    return period.start, period.end


# ------------------------------------------------------------------ periods
def test_a_quarter_of_a_january_year_is_three_calendar_months_half_open() -> None:
    q2 = JANUARY.period(Q, 2026, 2)
    assert span(q2) == (d("2026-04-01"), d("2026-07-01"))
    assert (q2.label, q2.last_day, q2.days) == ("2026-Q2", d("2026-06-30"), 91)


def test_the_first_day_of_a_quarter_belongs_to_that_quarter_only() -> None:
    assert JANUARY.period_containing(Q, d("2026-04-01")).label == "2026-Q2"
    assert JANUARY.period_containing(Q, d("2026-03-31")).label == "2026-Q1"


def test_a_february_fiscal_year_is_named_for_the_year_it_starts_in() -> None:
    # FY2026 runs 2026-02-01 until 2027-02-01; January 2026 is still FY2025
    assert (FEBRUARY.year_start(2026), FEBRUARY.year_end(2026)) == (d("2026-02-01"), d("2027-02-01"))
    assert FEBRUARY.fiscal_year_of(d("2026-01-31")) == 2025
    assert FEBRUARY.fiscal_year_of(d("2026-02-01")) == 2026


def test_the_last_quarter_of_a_february_year_ends_in_the_next_calendar_year() -> None:
    # Q4 of FY2026 is November 2026 to January 2027
    q4 = FEBRUARY.period_containing(Q, d("2027-01-15"))
    assert (q4.label, *span(q4)) == ("2026-Q4", d("2026-11-01"), d("2027-02-01"))


def test_a_fiscal_month_is_numbered_from_the_start_of_the_fiscal_year() -> None:
    # with a February start, 2026-M01 is February 2026 and 2026-M12 is January 2027
    assert span(FEBRUARY.period(M, 2026, 1)) == (d("2026-02-01"), d("2026-03-01"))
    assert span(FEBRUARY.period(M, 2026, 12)) == (d("2027-01-01"), d("2027-02-01"))


def test_a_month_has_its_calendar_length_including_leap_february() -> None:
    assert JANUARY.period(M, 2028, 2).days == 29
    assert JANUARY.period(M, 2026, 2).days == 28


def test_labels_are_fy_year_for_years_q_for_quarters_and_two_digit_m_for_months() -> None:
    assert [JANUARY.period(k, 2026, 3 if k is not Y else 1).label for k in (Y, Q, M)] == ["FY2026", "2026-Q3", "2026-M03"]


def test_a_period_index_beyond_the_year_is_an_error() -> None:
    with pytest.raises(PeriodError, match="a fiscal year has 4 quarterly periods, not 5"):
        JANUARY.period(Q, 2026, 5)


# ------------------------------------------------------------------ parsing labels
def test_a_year_parses_with_or_without_fy() -> None:
    assert JANUARY.parse("FY2026", Y) == JANUARY.parse("2026", Y) == JANUARY.period(Y, 2026, 1)


def test_a_quarter_label_for_a_monthly_plan_is_an_error_naming_both_kinds() -> None:
    with pytest.raises(PeriodError, match="'2026-Q1' is a quarterly period but the plan is calculated monthly"):
        JANUARY.parse("2026-Q1", M)


def test_a_label_that_is_not_a_period_is_an_error_showing_the_forms() -> None:
    with pytest.raises(PeriodError, match="write a quarter as 2026-Q1"):
        JANUARY.parse("Q1 2026", Q)


def test_a_thirteenth_month_does_not_parse() -> None:
    with pytest.raises(PeriodError, match="not 13"):
        JANUARY.parse("2026-M13", M)


# ------------------------------------------------------------------ windows
def test_windows_of_q3_in_a_quarterly_plan() -> None:
    q3 = JANUARY.period(Q, 2026, 3)
    assert JANUARY.window(Window.PERIOD, q3) == (d("2026-07-01"), d("2026-10-01"))
    assert JANUARY.window(Window.QUARTER_TO_DATE, q3) == (d("2026-07-01"), d("2026-10-01"))
    assert JANUARY.window(Window.YEAR_TO_DATE, q3) == (d("2026-01-01"), d("2026-10-01"))
    assert JANUARY.window(Window.FULL_YEAR, q3) == (d("2026-01-01"), d("2027-01-01"))


def test_quarter_to_date_in_a_monthly_plan_starts_at_the_fiscal_quarter() -> None:
    # May 2026 (M05 of a January year) is in Q2 (April–June): quarter to date is April and May
    may = JANUARY.period(M, 2026, 5)
    assert JANUARY.window(Window.QUARTER_TO_DATE, may) == (d("2026-04-01"), d("2026-06-01"))
    assert JANUARY.window(Window.YEAR_TO_DATE, may) == (d("2026-01-01"), d("2026-06-01"))


def test_windows_of_a_monthly_plan_whose_fiscal_year_starts_in_february() -> None:
    # M05 is June 2026; its fiscal quarter Q2 is May–July; the year started 2026-02-01
    june = FEBRUARY.period(M, 2026, 5)
    assert span(june) == (d("2026-06-01"), d("2026-07-01"))
    assert FEBRUARY.window(Window.QUARTER_TO_DATE, june) == (d("2026-05-01"), d("2026-07-01"))
    assert FEBRUARY.window(Window.YEAR_TO_DATE, june) == (d("2026-02-01"), d("2026-07-01"))
    assert FEBRUARY.window(Window.FULL_YEAR, june) == (d("2026-02-01"), d("2027-02-01"))


def test_quarter_to_date_has_no_meaning_in_a_yearly_plan() -> None:
    with pytest.raises(PeriodError, match="no meaning in a yearly plan"):
        JANUARY.window(Window.QUARTER_TO_DATE, JANUARY.period(Y, 2026, 1))


# ------------------------------------------------------------------ quotas spread over periods
QUOTAS = """
quota even_quota = "bookings" annual spread evenly
quota seasonal_quota = "bookings" annual spread 20%, 25%, 25%, 30%
quota period_quota = "pipeline" per period

component c "C"
  pays even_quota for the period + seasonal_quota for the period + period_quota for the period
"""
FIGURES = {
    ("bookings", "FY2026"): "400000",
    ("pipeline", "2026-Q1"): "50000",
    ("pipeline", "2026-Q2"): "60000",
    ("pipeline", "2026-Q3"): "70000",
    ("pipeline", "2026-Q4"): "80000",
}


def scope(period_label: str, header: str = HEADER, quotas: str = QUOTAS, figures: dict[tuple[str, str], str] = FIGURES) -> PeriodScope:
    """P1's scope in a period, with a target incentive of 100,000 and the given quota figures."""
    plan = compile_text(header + quotas)
    given = {key: [QuotaFigure("P1", key[0], key[1], Decimal(amount), "USD")] for key, amount in figures.items()}
    assignment = Assignment("P1", plan.id, d("2026-01-01"), None, Decimal("100000"), "USD")
    facts = PayeeFacts(payee("P1"), {}, (assignment,), {}, given)
    period = plan.header.calendar.parse(period_label, plan.header.period_kind)
    return PeriodScope(plan, facts, period, assignment)


def test_an_annual_quota_spread_evenly_gives_a_quarter_a_quarter_of_it() -> None:
    # 400,000 ÷ 4 = 100,000 for Q3; year to date at Q3 = 3 × 100,000 = 300,000; full year 400,000
    q3 = scope("2026-Q3")
    assert q3.windowed("even_quota", Window.PERIOD) == Decimal("100000")
    assert q3.windowed("even_quota", Window.YEAR_TO_DATE) == Decimal("300000")
    assert q3.windowed("even_quota", Window.FULL_YEAR) == Decimal("400000")


def test_an_annual_quota_spread_by_seasonality_gives_each_quarter_its_share() -> None:
    # 20/25/25/30% of 400,000: Q1 80,000; Q2 100,000; year to date at Q2 45% = 180,000; Q4 120,000
    assert scope("2026-Q1").windowed("seasonal_quota", Window.PERIOD) == Decimal("80000")
    assert scope("2026-Q2").windowed("seasonal_quota", Window.PERIOD) == Decimal("100000")
    assert scope("2026-Q2").windowed("seasonal_quota", Window.YEAR_TO_DATE) == Decimal("180000")
    assert scope("2026-Q4").windowed("seasonal_quota", Window.PERIOD) == Decimal("120000")


def test_a_per_period_quota_adds_up_the_figures_of_the_periods_in_the_window() -> None:
    # Q3 alone 70,000; year to date 50,000 + 60,000 + 70,000 = 180,000; full year + 80,000 = 260,000
    q3 = scope("2026-Q3")
    assert q3.windowed("period_quota", Window.PERIOD) == Decimal("70000")
    assert q3.windowed("period_quota", Window.YEAR_TO_DATE) == Decimal("180000")
    assert q3.windowed("period_quota", Window.FULL_YEAR) == Decimal("260000")


def test_an_annual_quota_spread_evenly_in_a_monthly_plan_gives_a_month_a_twelfth() -> None:
    # 120,000 a year: 10,000 a month; quarter to date at May (April + May) = 20,000
    monthly = HEADER.replace("calculated quarterly", "calculated monthly")
    quotas = QUOTAS.replace("annual spread 20%, 25%, 25%, 30%", "annual spread evenly")
    figures = {("bookings", "FY2026"): "120000", ("pipeline", "2026-M05"): "1000"}
    may = scope("2026-M05", monthly, quotas, figures)
    assert may.windowed("even_quota", Window.PERIOD) == Decimal("10000")
    assert may.windowed("even_quota", Window.QUARTER_TO_DATE) == Decimal("20000")


def test_the_target_incentive_is_spread_evenly_like_an_annual_quota() -> None:
    # 100,000 a year: 25,000 for Q2, 50,000 year to date, 100,000 for the full year
    q2 = scope("2026-Q2")
    assert q2.target_incentive(Window.PERIOD) == Decimal("25000")
    assert q2.target_incentive(Window.YEAR_TO_DATE) == Decimal("50000")
    assert q2.target_incentive(Window.FULL_YEAR) == Decimal("100000")
