# Solutions Engineer plan, fiscal year 2026.  Solutions engineers are an overlay: they do not
# own deals, they are credited with every new or expansion deal in their territory, on top of
# the AEs who own it.
plan solutions_engineer "Solutions Engineer"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per credit
  proration by calendar days
  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places

payee attribute role: text, default ""
payee attribute territory: text, default ""
deal attribute territory: text, default ""
deal attribute acv: money

# §8.1: every solutions engineer covering the deal's territory is credited with its whole
# annual contract value (the AE's own credit is not reduced).
credit technical_wins from deals
  where deal.type in {"new", "expansion"}
  to payees where payee.role == "solutions_engineer" and payee.territory == deal.territory
  amount deal.acv
  dated deal.close_date

# §8.2: the rate by product family and deal size; the first row that matches is used.
decision table assist_rate: percent
  hit policy first
  given deal.product, deal.acv
  row "security", any: 2%
  row "analytics", from 200,000 USD: 1.5%
  row any, from 100,000 USD: 1%
  row any, below 100,000 USD: 0.5%

component technical_win_commission "Technical win commission"
  cites "§8.2"
  per credit of technical_wins
  rate assist_rate
