# Sales Manager plan, fiscal year 2026: front-line managers, directors and the VP of sales.
# A manager is paid on the bookings of everyone below them, on an override of what their own
# AEs earn, and on their management objectives (MBO).
plan sales_manager "Sales Manager"
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

# §7.4: the MBO score the manager's own manager gives for the quarter (none given: 0%).
input mbo_score: percent, default 0%

# §7.1: a manager's team bookings are the annual contract value of every new or expansion
# deal booked by anyone below them, along the reporting lines in effect on the deal's close
# date, however many levels down.  A deal that reaches a manager through two of their people
# (a split between two of their reps) counts once, never more than the whole deal.
credit team_bookings from deals
  where deal.type in {"new", "expansion"}
  to deal splits
  rolled up to the top
  duplicate credit counts once
  amount deal.acv
  dated deal.close_date

measure team_total = sum of team_bookings for the period

# §7.2: what the manager's own AEs earned on the enterprise AE plan in the quarter.
measure ae_earnings = earnings of direct reports from plan enterprise_ae

quota team_quota = "team_bookings" annual spread evenly

component team_commission "Team bookings commission"
  cites "§7.1"
  on team_total
  marginal tiers on attainment against team_quota for the period
    below 75%: 0.5%
    75% to 100%: 1%
    100% and above: 1.5%

component ae_override "Override on AE earnings"
  cites "§7.2"
  pays 5% × ae_earnings

component mbo_bonus "Management objectives bonus"
  cites "§7.4"
  pays target incentive for the period × 20% × mbo_score
