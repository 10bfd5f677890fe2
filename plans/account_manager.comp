# Account Manager plan, fiscal year 2026: 70% of the attainment bonus rides on expansion,
# 30% on renewals.
plan account_manager "Account Manager"
  version 2
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half even to 2 places per statement

credit expansion from deals
  where deal.type == "expansion"
  to deal splits
  amount deal.amount
  dated deal.close_date

credit renewals from deals
  where deal.type == "renewal"
  to owner
  amount deal.amount
  dated deal.close_date

measure expansion_bookings = sum of expansion for the period
measure renewal_bookings = sum of renewals for the period

quota expansion_quota = "expansion" annual spread 20%, 25%, 25%, 30%
quota renewal_quota = "renewal" annual spread evenly

let expansion_attainment = expansion_bookings / expansion_quota for the period
let renewal_attainment = renewal_bookings / renewal_quota for the period
let weighted_attainment = 70% × expansion_attainment + 30% × renewal_attainment

curve attainment_payout
  at 0%: 0%
  at 50%: 25%
  at 100%: 100%
  at 150%: 175%

component expansion_commission "Expansion commission"
  cites "§4.1"
  on expansion_bookings
  retroactive tiers on attainment against expansion_quota for the period
    below 75%: 3%
    75% to 100%: 5%
    100% and above: 7%

component attainment_bonus "Quarterly attainment bonus"
  cites "§4.2"
  pays target incentive for the period × 40% × attainment_payout(weighted_attainment)
  cap 60% × target incentive for the period per period
