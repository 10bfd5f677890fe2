# Benchmark plan "complex": international account executives.  The standard plan, plus deals
# in other currencies, proration for people who join, leave or change target mid-period, a
# new-hire draw, a year-end holdback, a cancellation clawback and a mid-year revision.
plan complex "Complex sales plan"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per component
  proration by calendar days
  assignment changes within a period are split
  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places

deal attribute acv: money
deal attribute term_months: count, default 12
deal attribute new_logo: boolean, default false
payee attribute role: text, default "rep"

parameter new_logo_spiff = 1,000 USD from 2026-01-01, 1,500 USD from 2026-07-01

table override_rate: percent by payee.role
  "manager": 5%
  "director": 2%
  "vp": 1%
  otherwise: 0%

credit bookings from deals
  where deal.type in {"new", "expansion"}
  to deal splits
  amount deal.acv
  dated deal.close_date

credit team_bookings from deals
  where deal.type in {"new", "expansion"}
  to deal splits
  rolled up 1 level
  amount deal.acv
  dated deal.close_date

quota bookings_quota = "bookings" annual spread evenly
quota team_quota = "team_bookings" annual spread evenly

measure team_total = sum of team_bookings for the period
measure report_earnings = earnings of direct reports from plan complex

component new_business "New business commission"
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
  per credit of bookings where deal.new_logo and deal.acv >= 50,000 USD
  pays new_logo_spiff × credit.share

component team_commission "Team bookings commission"
  on team_total
  marginal tiers on attainment against team_quota for the period
    below 75%: 0.5%
    75% to 100%: 1%
    100% and above: 1.5%
  gate payee.role != "rep"

component override "Override on direct reports' earnings"
  pays override_rate × report_earnings

# A new seller's first two quarters after hire are topped up to 12,000 USD, recovered later.
draw ramp_draw "New-hire draw"
  recoverable
  tops up to 12,000 USD per period
  for the first 2 periods after hire
  recovers at most 25% of earnings per period
  outstanding at most 24,000 USD
  at termination forgiven

holdback year_end "Year-end holdback"
  holds 20% of new_business
  released at the fiscal year end

clawback cancellations "Cancellation clawback"
  for deals cancelled or refunded within 180 days of the close date
  reverses fully

revision 2 effective 2026-07-01 "H2: a steeper accelerator above quota"

component new_business "New business commission"
  per credit of bookings
  ordered by deal.close_date, deal.id
  running total for the year to date
  marginal tiers on attainment against bookings_quota for the full year
    below 50%: 4%
    50% to 100%: 8%
    100% to 150%: 14%
    150% and above: 16%
  multiplied by 1.2 when deal.term_months >= 36
  cap 3 × target incentive for the full year per year
