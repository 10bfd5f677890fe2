"""Tier schedules (core.tiers), one behaviour per test, amounts worked by hand.

Most tests use the enterprise AE schedule: marginal 4% / 8% / 12% with bounds at 50% and
100% of a 400,000 quota, so the bands sit at 200,000 and 400,000 in money.
"""

from __future__ import annotations

from decimal import Decimal

from compengine.core.tiers import (
    Band,
    Point,
    Slice,
    band_index,
    interpolate,
    interpolated_total,
    marginal_total,
    retroactive_total,
    slices,
)

QUOTA = Decimal("400000")
AE_BANDS = [
    Band(None, Decimal("0.5"), Decimal("0.04")),
    Band(Decimal("0.5"), Decimal("1.0"), Decimal("0.08")),
    Band(Decimal("1.0"), None, Decimal("0.12")),
]
# 2% at 0% attainment, 10% at 100%, 13% at 200%
POINTS = [Point(Decimal("0"), Decimal("0.02")), Point(Decimal("1"), Decimal("0.10")), Point(Decimal("2"), Decimal("0.13"))]


def paid(start: str, end: str) -> Decimal:
    return sum((s.payout for s in slices(AE_BANDS, QUOTA, Decimal(start), Decimal(end))), Decimal(0))


# ------------------------------------------------------------------ marginal
def test_a_marginal_move_across_a_bound_is_split_into_slices_at_each_bands_rate() -> None:
    # 120,000 → 270,000 crosses 200,000: 80,000 × 4% + 70,000 × 8% = 3,200 + 5,600 = 8,800.00
    assert slices(AE_BANDS, QUOTA, Decimal("120000"), Decimal("270000")) == [
        Slice(0, Decimal("120000"), Decimal("200000.0"), Decimal("80000.0"), Decimal("0.04")),
        Slice(1, Decimal("200000.0"), Decimal("270000"), Decimal("70000.0"), Decimal("0.08")),
    ]
    assert paid("120000", "270000") == Decimal("8800.00")


def test_a_marginal_move_within_one_band_is_one_slice() -> None:
    # 10,000 → 50,000, all below 200,000: 40,000 × 4% = 1,600.00
    assert paid("10000", "50000") == Decimal("1600.00")


def test_a_marginal_move_across_every_band_pays_each_slice_at_its_rate() -> None:
    # 0 → 430,000: 200,000 × 4% + 200,000 × 8% + 30,000 × 12% = 8,000 + 16,000 + 3,600 = 27,600.00
    assert paid("0", "430000") == Decimal("27600.00")
    assert marginal_total(AE_BANDS, QUOTA, Decimal("430000")) == Decimal("27600.00")


def test_a_downward_move_takes_back_the_slices_walking_down_from_the_start() -> None:
    # a cancellation 270,000 → 120,000: −70,000 × 8% then −80,000 × 4% = −5,600 − 3,200 = −8,800.00
    pieces = slices(AE_BANDS, QUOTA, Decimal("270000"), Decimal("120000"))
    assert [(p.band, p.amount) for p in pieces] == [(1, Decimal("-70000.0")), (0, Decimal("-80000.0"))]
    assert paid("270000", "120000") == Decimal("-8800.00")


def test_amounts_below_zero_are_priced_at_the_first_band() -> None:
    # net cancellations 0 → −10,000: −10,000 × 4% = −400.00
    assert paid("0", "-10000") == Decimal("-400.00")


def test_a_move_of_nothing_has_no_slices() -> None:
    assert slices(AE_BANDS, QUOTA, Decimal("5000"), Decimal("5000")) == []


def test_bands_on_an_amount_are_bounded_in_money_with_a_scale_of_one() -> None:
    # below 10,000 USD: 5%; 10,000 USD and above: 10%.  8,000 → 14,000: 2,000 × 5% + 4,000 × 10% = 500.00
    bands = [Band(None, Decimal("10000"), Decimal("0.05")), Band(Decimal("10000"), None, Decimal("0.10"))]
    pieces = slices(bands, Decimal(1), Decimal("8000"), Decimal("14000"))
    assert sum((p.payout for p in pieces), Decimal(0)) == Decimal("500.00")


# ------------------------------------------------------------------ band membership
def test_a_value_exactly_on_a_band_bound_takes_the_upper_band() -> None:
    # 50% of 400,000 = 200,000 is the first amount of band 2 (8%); a cent less is still band 1
    assert band_index(AE_BANDS, QUOTA, Decimal("200000")) == 1
    assert band_index(AE_BANDS, QUOTA, Decimal("199999.99")) == 0
    assert band_index(AE_BANDS, QUOTA, Decimal("400000")) == 2


def test_a_value_below_the_first_band_counts_as_the_first_band() -> None:
    assert band_index(AE_BANDS, QUOTA, Decimal("-1")) == 0


# ------------------------------------------------------------------ retroactive
def test_retroactive_pays_the_whole_amount_at_the_rate_of_its_band() -> None:
    # 150,000 is in band 1: 150,000 × 4% = 6,000.00; exactly 200,000 is band 2: 200,000 × 8% = 16,000.00
    assert retroactive_total(AE_BANDS, QUOTA, Decimal("150000")) == Decimal("6000.00")
    assert retroactive_total(AE_BANDS, QUOTA, Decimal("200000")) == Decimal("16000.00")


def test_a_retroactive_crossing_pays_after_at_the_new_rate_less_before_at_the_old_rate() -> None:
    # 150,000 → 250,000: 250,000 × 8% − 150,000 × 4% = 20,000 − 6,000 = 14,000.00,
    # i.e. the credit's own 100,000 × 8% = 8,000 plus a catch-up of 150,000 × 4% = 6,000
    before, after = Decimal("150000"), Decimal("250000")
    earned = retroactive_total(AE_BANDS, QUOTA, after) - retroactive_total(AE_BANDS, QUOTA, before)
    assert earned == after * Decimal("0.08") - before * Decimal("0.04") == Decimal("14000.00")


def test_retroactive_has_a_cliff_at_each_bound_where_marginal_has_none() -> None:
    # one cent below 200,000: 199,999.99 × 4% = 7,999.9996; at 200,000: 16,000 (retroactive);
    # marginal: 7,999.9996 → 8,000.00
    below, at = Decimal("199999.99"), Decimal("200000")
    assert retroactive_total(AE_BANDS, QUOTA, below) == Decimal("7999.9996")
    assert retroactive_total(AE_BANDS, QUOTA, at) == Decimal("16000.00")
    assert marginal_total(AE_BANDS, QUOTA, below) == Decimal("7999.9996")
    assert marginal_total(AE_BANDS, QUOTA, at) == Decimal("8000.00")


# ------------------------------------------------------------------ interpolated
def test_an_interpolated_rate_halfway_between_two_points_is_halfway_between_their_rates() -> None:
    # 50% attainment (200,000 of 400,000) is halfway from 0% (2%) to 100% (10%): 6%
    rate, segment = interpolate(POINTS, Decimal("200000"), QUOTA)
    assert (rate, segment) == (Decimal("0.06"), 0)


def test_an_interpolated_total_pays_all_of_the_amount_at_the_interpolated_rate() -> None:
    # 150% (600,000): 10% + 3% × 50/100 = 11.5%; 600,000 × 11.5% = 69,000.00
    assert interpolated_total(POINTS, QUOTA, Decimal("600000")) == Decimal("69000.00")


def test_an_interpolated_rate_on_a_point_is_the_points_rate() -> None:
    assert interpolate(POINTS, Decimal("400000"), QUOTA) == (Decimal("0.10"), 1)


def test_interpolated_rates_are_flat_beyond_the_last_point_and_below_the_first() -> None:
    # above 200% stays 13%; below 0% stays 2% (segment −1 says "below the first point")
    assert interpolate(POINTS, Decimal("1000000"), QUOTA) == (Decimal("0.13"), 2)
    assert interpolate(POINTS, Decimal("-5000"), QUOTA) == (Decimal("0.02"), -1)


def test_interpolated_per_credit_increments_telescope_to_the_total() -> None:
    # D1 0 → 120,000 (30%: 2% + 8% × 0.3 = 4.4%): 5,280; D2 120,000 → 270,000 (67.5%: 7.4%):
    # 19,980 − 5,280 = 14,700; together 19,980 = F(270,000)
    f = [interpolated_total(POINTS, QUOTA, Decimal(x)) for x in ("0", "120000", "270000")]
    assert f == [Decimal("0.00"), Decimal("5280.000"), Decimal("19980.000")]
    assert (f[1] - f[0]) + (f[2] - f[1]) == f[2]
