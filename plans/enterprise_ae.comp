# Enterprise Account Executive compensation plan, fiscal year 2026.
# Signed by each enterprise AE; the sections cited below are those of the plan document.
plan enterprise_ae "Enterprise Account Executive"
  version 3
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per component
  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places

deal attribute acv: money
deal attribute term_months: count, default 12
deal attribute new_logo: boolean, default false

# §3.4: the new-logo SPIFF rose for the second half of the year.
parameter new_logo_spiff = 1,000 USD from 2026-01-01, 1,500 USD from 2026-07-01

# §2: bookings are the annual contract value of new and expansion business.
credit bookings from deals
  where deal.type in {"new", "expansion"}
  to deal splits
  amount deal.acv
  dated deal.close_date

quota bookings_quota = "bookings" annual spread evenly

component new_business "New business commission"
  cites "§3.1"
  per credit of bookings
  ordered by deal.close_date, deal.id
  running total for the year to date
  marginal tiers on attainment against bookings_quota for the full year
    below 50%: 4%
    50% to 100%: 8%
    100% and above: 12%
  multiplied by 1.2 when deal.term_months >= 36
  cap 3 × target incentive for the full year per year

component new_logo_spiff "New-logo SPIFF"
  cites "§3.4"
  per credit of bookings where deal.new_logo and deal.acv >= 50,000 USD
  pays new_logo_spiff × credit.share

# §6: a new AE's first two quarters after hire are topped up to 15,000 USD. The top-up is
# an advance, recovered from later commission, at most a quarter of a quarter's earnings at
# a time; what is still outstanding when the AE leaves is forgiven.
draw ramp_draw "New-hire draw"
  recoverable
  tops up to 15,000 USD per period
  for the first 2 periods after hire
  recovers at most 25% of earnings per period
  outstanding at most 30,000 USD
  at termination forgiven

# §7: a fifth of the new-business commission is held until the fiscal year is closed.
holdback year_end "Year-end holdback"
  holds 20% of new_business
  released at the fiscal year end

# §8: a deal cancelled or refunded within 180 days of closing gives back what it earned.
clawback cancellations "Cancellation clawback"
  for deals cancelled or refunded within 180 days of the close date
  reverses fully
