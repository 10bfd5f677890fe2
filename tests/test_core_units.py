"""The unit algebra (core.units) and exact money (core.money), one rule per test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from compengine.core.money import decimal_str, group_digits, parse_decimal, percent_text, trim
from compengine.core.units import (
    COUNT,
    DATE,
    DURATION,
    NUMBER,
    PERCENT,
    RATIO,
    TEXT,
    UnitError,
    add_type,
    comparable,
    divide_type,
    money,
    multiply_type,
    ordered,
)

USD, EUR = money("USD"), money("EUR")


# ------------------------------------------------------------------ arithmetic
def test_money_times_percent_is_money_in_the_same_currency() -> None:
    # 100,000 USD × 8% = 8,000 USD
    assert multiply_type(USD, PERCENT) == USD
    assert multiply_type(PERCENT, USD) == USD


def test_money_divided_by_money_is_a_ratio() -> None:
    # bookings ÷ quota = attainment, e.g. 120,000 USD ÷ 100,000 USD = 120%
    assert divide_type(USD, USD) == RATIO


def test_money_divided_by_a_rate_is_money() -> None:
    # 10 USD ÷ 3 = 3.333… USD
    assert divide_type(USD, NUMBER) == USD


def test_money_plus_money_in_one_currency_is_money() -> None:
    assert add_type("+", USD, USD) == USD
    assert add_type("-", USD, USD) == USD


def test_usd_plus_eur_is_a_unit_error_because_the_currencies_differ() -> None:
    with pytest.raises(UnitError, match=r"^cannot add money \(USD\) and money \(EUR\): the currencies differ$"):
        add_type("+", USD, EUR)


def test_usd_divided_by_eur_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="the currencies differ"):
        divide_type(USD, EUR)


def test_money_plus_a_percent_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match=r"^cannot subtract money \(USD\) and percent: money only adds to money$"):
        add_type("-", USD, PERCENT)


def test_money_times_money_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="money times money has no meaning"):
        multiply_type(USD, USD)


def test_percent_plus_percent_is_a_percent() -> None:
    assert add_type("+", PERCENT, PERCENT) == PERCENT


def test_a_percent_of_a_ratio_is_a_ratio() -> None:
    # 70% × expansion attainment
    assert multiply_type(PERCENT, RATIO) == RATIO


def test_count_times_count_is_a_count_and_count_plus_number_is_a_number() -> None:
    assert multiply_type(COUNT, COUNT) == COUNT
    assert add_type("+", COUNT, NUMBER) == NUMBER


def test_date_minus_date_is_a_duration_and_date_plus_duration_is_a_date() -> None:
    assert add_type("-", DATE, DATE) == DURATION
    assert add_type("+", DATE, DURATION) == DATE
    assert add_type("+", DURATION, DATE) == DATE


def test_date_plus_date_is_a_unit_error() -> None:
    with pytest.raises(UnitError):
        add_type("+", DATE, DATE)


# ------------------------------------------------------------------ comparisons
def test_a_percent_compares_with_a_ratio() -> None:
    # attainment (a ratio) >= 50% (a percent)
    assert comparable(RATIO, PERCENT)
    assert comparable(PERCENT, NUMBER)


def test_money_compares_only_with_money_in_the_same_currency() -> None:
    assert comparable(USD, USD)
    assert not comparable(USD, EUR)
    assert not comparable(USD, PERCENT)


def test_text_does_not_compare_with_money() -> None:
    assert not comparable(TEXT, USD)


def test_numbers_dates_and_durations_are_ordered_but_text_is_not() -> None:
    assert ordered(USD) and ordered(PERCENT) and ordered(DATE) and ordered(DURATION)
    assert not ordered(TEXT)


def test_a_money_type_names_its_currency() -> None:
    assert str(USD) == "money (USD)"
    assert str(money(None)) == "money"


# ------------------------------------------------------------------ exact money
def test_parse_decimal_reads_amounts_as_people_write_them_exactly() -> None:
    assert parse_decimal("1,200.50") == Decimal("1200.50")
    assert parse_decimal(" -3.5 ") == Decimal("-3.5")
    assert parse_decimal("0.1") + parse_decimal("0.2") == Decimal("0.3")  # never a float


@pytest.mark.parametrize("text", ["1e3", "NaN", "Infinity", "12,00", "$100", "1.2.3", ""])
def test_parse_decimal_refuses_anything_that_could_silently_be_another_amount(text: str) -> None:
    with pytest.raises(ValueError, match="is not a decimal number"):
        parse_decimal(text)


def _read(text: str) -> str:
    try:
        return repr(parse_decimal(text))  # (the repr keeps the exponent: 1.50 is not written 1.5)
    except ValueError as error:
        return f"refused: {str(error).replace(repr(text), '…')}"


@example("12.")
@example(".5")
@example("-")
@example("")
@example("007")
@example("-0.00")
@given(st.text(st.sampled_from("0123456789.,-+e "), max_size=40) | st.from_regex(r"-?\d{1,19}(\.\d{1,20})?", fullmatch=True))
def test_a_number_written_the_usual_way_is_read_as_the_careful_reading_reads_it(text: str) -> None:
    # a leading space sends the text down the careful path (strip, commas, digit limits)
    assert _read(text) == _read(" " + text)


def test_the_digit_limits_hold_for_numbers_written_the_usual_way() -> None:
    assert parse_decimal("999999999999999.999999999999999999") == Decimal("999999999999999.999999999999999999")
    for text in ("1000000000000000", "1.0000000000000000001"):  # 16 whole digits; 19 after the point
        with pytest.raises(ValueError, match="more digits"):
            parse_decimal(text)


def test_decimal_str_is_fixed_point_without_a_negative_zero() -> None:
    assert decimal_str(Decimal("1E+3")) == "1000"
    assert decimal_str(Decimal("-0.00")) == "0.00"
    assert decimal_str(Decimal("-12.50")) == "-12.50"


def test_group_digits_shows_thousands_separators_and_the_places_asked_for() -> None:
    # 1,234,567.5 to 2 places: 1,234,567.50; -1234.5 to 0 places, half even: -1,234
    assert group_digits(Decimal("1234567.5"), 2) == "1,234,567.50"
    assert group_digits(Decimal("-1234.5"), 0) == "-1,234"


def test_group_digits_shows_no_negative_zero() -> None:
    # -0.4 to 0 places is zero, shown without a sign
    assert group_digits(Decimal("-0.4"), 0) == "0"
    assert group_digits(Decimal("-0.00")) == "0.00"


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**25), max_value=10**25, places=6))
@example(Decimal("-999.5"))
@example(Decimal("1E+3"))
def test_group_digits_is_the_decimal_text_with_a_comma_between_each_three_whole_digits(value: Decimal) -> None:
    grouped = group_digits(value)
    assert grouped.replace(",", "") == decimal_str(value)
    whole = grouped.lstrip("-").partition(".")[0].split(",")
    assert 1 <= len(whole[0]) <= 3 and all(len(group) == 3 for group in whole[1:])


def test_percent_text_shows_a_fraction_as_a_percentage_and_marks_approximations() -> None:
    # 0.085 = 8.5%; 1.0525 = 105.25%; 1/3 ≈ 33.33%
    assert percent_text(Decimal("0.085")) == "8.5%"
    assert percent_text(Decimal("1.0525")) == "105.25%"
    assert percent_text(Decimal(1) / Decimal(3)) == "≈33.33%"


def test_trim_drops_trailing_zeros_only() -> None:
    assert str(trim(Decimal("8.000"))) == "8"
    assert str(trim(Decimal("8.500"))) == "8.5"
