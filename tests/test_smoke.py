"""The smallest end-to-end specification: one deal, one flat rate, one statement."""

from decimal import Decimal

from tests.support import HEADER, OWNER_BOOKINGS, calc, dataset, deal, line_amounts, payee

FLAT = (
    HEADER
    + OWNER_BOOKINGS
    + """
component commission "Commission"
  per credit of bookings
  rate 5%
"""
)


def test_a_flat_rate_pays_five_percent_of_a_booked_deal_rounded_half_up() -> None:
    # 12,345.67 × 5% = 617.2835 → 617.28 (half up to cents, per component)
    data = dataset([payee("P1")], [deal("D1", "P1", "12345.67", "2026-02-01")])
    result = calc(FLAT, data, "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": Decimal("617.28")}
