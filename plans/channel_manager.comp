# Channel Manager plan, fiscal year 2026: paid on the gross margin of partner-sourced deals.
plan channel_manager "Channel Manager"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half even to 2 places per credit

deal attribute channel_manager: payee
deal attribute partner_tier: text, default "registered"
deal attribute gross_margin: money, default 0 USD

# §5.2: gold partners earn more; the silver rate rose on 1 July.
table partner_rate: percent by deal.partner_tier
  "gold": 10%
  "silver": 6% from 2026-01-01 until 2026-07-01, 7% from 2026-07-01
  otherwise: 4%

credit partner_margin from deals
  where deal.type in {"new", "expansion"} and deal.gross_margin > 0 USD
  to deal.channel_manager
  amount deal.gross_margin
  dated deal.close_date

component margin_commission "Partner margin commission"
  cites "§5.1"
  per credit of partner_margin
  rate partner_rate
  cap 4,000 USD per deal

# §5.3: a third-quarter push to launch gold partners.
component gold_launch_spiff "Gold partner launch SPIFF"
  cites "§5.3"
  per credit of partner_margin where deal.partner_tier == "gold"
  during 2026-07-01 until 2026-10-01
  pays 500 USD
