"""Rounding and sharing out rounded totals (core.rounding, and the evaluator's cumulative
rounding per statement), one behaviour per test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from compengine.core.rounding import RoundingLevel, RoundingMode, RoundingPolicy, allocate, round_amount, round_shared

CENT = Decimal("0.01")
HALF_UP = RoundingPolicy(RoundingMode.HALF_UP, 2, RoundingLevel.COMPONENT)
HALF_EVEN = RoundingPolicy(RoundingMode.HALF_EVEN, 2, RoundingLevel.COMPONENT)


def cents(*amounts: str) -> list[Decimal]:
    return [Decimal(a) for a in amounts]


# ------------------------------------------------------------------ round_amount
def test_half_up_rounds_2_345_up_to_2_35() -> None:
    assert round_amount(Decimal("2.345"), HALF_UP) == Decimal("2.35")


def test_half_even_rounds_2_345_down_to_the_even_2_34() -> None:
    assert round_amount(Decimal("2.345"), HALF_EVEN) == Decimal("2.34")


def test_half_up_and_half_even_agree_on_2_355_because_2_36_is_even() -> None:
    assert round_amount(Decimal("2.355"), HALF_UP) == round_amount(Decimal("2.355"), HALF_EVEN) == Decimal("2.36")


def test_half_up_rounds_a_negative_half_away_from_zero() -> None:
    # a clawback of −2.345 becomes −2.35, not −2.34
    assert round_amount(Decimal("-2.345"), HALF_UP) == Decimal("-2.35")


def test_rounding_always_gives_exactly_the_policys_places() -> None:
    # 1200 → 1200.00 (two places shown, even when nothing was rounded)
    rounded = round_amount(Decimal("1200"), HALF_UP)
    assert str(rounded) == "1200.00"


def test_rounding_to_zero_places_rounds_to_whole_units() -> None:
    policy = RoundingPolicy(RoundingMode.HALF_EVEN, 0, RoundingLevel.STATEMENT)
    assert policy.quantum == Decimal(1)
    assert round_amount(Decimal("2.5"), policy) == Decimal(2)
    assert round_amount(Decimal("3.5"), policy) == Decimal(4)


def test_a_policy_describes_itself_as_the_plan_writes_it() -> None:
    assert HALF_UP.describe() == "half up to 2 places per component"
    assert HALF_UP.to_json() == {"mode": "half_up", "places": 2, "level": "component"}


# ------------------------------------------------------------------ allocate
def test_allocate_gives_the_spare_cent_of_an_even_three_way_split_to_the_first_weight() -> None:
    # 100.00 ÷ 3 = 33.333…: three × 33.33 = 99.99; the spare cent goes to the earliest tie
    assert allocate(Decimal("100.00"), cents("1", "1", "1"), CENT) == cents("33.34", "33.33", "33.33")


def test_allocate_gives_spare_cents_to_the_largest_remainders() -> None:
    # 10.00 over 1 : 2 : 3 → 1.666…, 3.333…, 5.00 → floors 1.66, 3.33, 5.00 (9.99); the
    # spare cent goes to the largest remainder, 1.666…: 1.67, 3.33, 5.00
    assert allocate(Decimal("10.00"), cents("1", "2", "3"), CENT) == cents("1.67", "3.33", "5.00")


def test_allocate_shares_pro_rata_with_a_negative_weight() -> None:
    # a cancellation among the deals: 10.00 over 300 and −100 (net 200): 15.00 and −5.00
    assert allocate(Decimal("10.00"), cents("300", "-100"), CENT) == cents("15.00", "-5.00")


def test_allocate_returns_weights_that_already_add_up_to_the_total_unchanged() -> None:
    weights = cents("400.00", "500.0", "100")
    assert allocate(Decimal("1000.00"), weights, CENT) == weights


def test_allocate_of_nothing_is_nothing() -> None:
    assert allocate(Decimal("5.00"), [], CENT) == []


def test_allocate_refuses_a_total_that_is_not_a_whole_number_of_quanta() -> None:
    with pytest.raises(ValueError, match=r"^10\.005 is not a whole number of 0\.01$"):
        allocate(Decimal("10.005"), cents("1", "1"), CENT)


def test_allocate_refuses_weights_that_add_up_to_zero() -> None:
    with pytest.raises(ValueError, match="weights add up to zero"):
        allocate(Decimal("10.00"), cents("5", "-5"), CENT)


# ------------------------------------------------------------------ cumulative rounding per statement
def test_cumulative_rounding_makes_the_lines_add_up_to_the_rounded_total() -> None:
    # three lines of 10/3 = 3.333…: R(3.33…) = 3.33, R(6.66…) = 6.67, R(10) = 10.00
    # → 3.33, 3.34, 3.33 = 10.00; rounding each line alone would give 9.99
    third = Decimal(10) / Decimal(3)
    lines = round_shared([third, third, third], HALF_UP)
    assert lines == cents("3.33", "3.34", "3.33")
    assert sum(lines) == Decimal("10.00")


def test_cumulative_rounding_can_move_a_line_by_one_whole_cent() -> None:
    # half even: R(0.005) = 0.00, R(0.015) = 0.02 → 0.00 and 0.02 − 0.00 = 0.02, one cent
    # above the exact 0.01 (within one quantum, never more)
    lines = round_shared(cents("0.005", "0.01"), HALF_EVEN)
    assert lines == cents("0.00", "0.02")


def test_cumulative_rounding_gives_tiny_lines_their_cent_only_when_the_running_total_earns_it() -> None:
    # 0.004 three times, half up: R(0.004) = 0.00, R(0.008) = 0.01, R(0.012) = 0.01 → 0.00, 0.01, 0.00
    lines = round_shared(cents("0.004", "0.004", "0.004"), HALF_UP)
    assert lines == cents("0.00", "0.01", "0.00")
