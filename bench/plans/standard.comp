# Benchmark plan "standard": account executives, their managers, directors and VPs on one plan.
# Modelled on plans/enterprise_ae.comp and plans/sales_manager.comp.  bench/reference.py
# computes exactly this plan in plain Python; keep the two in step.
plan standard "Standard sales plan"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per component

deal attribute acv: money
deal attribute term_months: count, default 12
deal attribute new_logo: boolean, default false
payee attribute role: text, default "rep"

# The new-logo SPIFF rose for the second half of the year.
parameter new_logo_spiff = 1,000 USD from 2026-01-01, 1,500 USD from 2026-07-01

# The override on direct reports' earnings, by the manager's level.
table override_rate: percent by payee.role
  "manager": 5%
  "director": 2%
  "vp": 1%
  otherwise: 0%

# Bookings: the annual contract value of new and expansion business, in dollars.
credit bookings from deals
  where deal.type in {"new", "expansion"} and deal.currency == "USD"
  to deal splits
  amount deal.acv
  dated deal.close_date

# Team bookings: the same deals, also credited to each seller's manager on the close date.
credit team_bookings from deals
  where deal.type in {"new", "expansion"} and deal.currency == "USD"
  to deal splits
  rolled up 1 level
  amount deal.acv
  dated deal.close_date

quota bookings_quota = "bookings" annual spread evenly
quota team_quota = "team_bookings" annual spread evenly

measure team_total = sum of team_bookings for the period
measure report_earnings = earnings of direct reports from plan standard

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
