# Channel Manager plan, fiscal year 2026: paid on the gross margin of partner-sourced deals.
plan channel_manager "Channel Manager"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half even to 2 places per credit
  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places

use partner_rate from "shared/rates.comp"

deal attribute channel_manager: payee
deal attribute gross_margin: money, default 0 USD
deal attribute strategic: boolean, default false

# §5.2: the partner's tier sets the rate (the table is shared, in shared/rates.comp) ...
rule standard "Partner tier rate" sets margin_rate to partner_rate

# §5.4: ... except on a strategic account, which always earns 12%.
rule strategic_account "Strategic account rate" sets margin_rate to 12%
  when deal.strategic
  exception to standard

credit partner_margin from deals
  where deal.type in {"new", "expansion"} and deal.gross_margin > 0 USD
  to deal.channel_manager
  amount deal.gross_margin
  dated deal.close_date

component margin_commission "Partner margin commission"
  cites "§5.1"
  per credit of partner_margin
  rate margin_rate
  cap 4,000 USD per deal

# §5.3: a third-quarter push to launch gold partners.
component gold_launch_spiff "Gold partner launch SPIFF"
  cites "§5.3"
  per credit of partner_margin where deal.partner_tier == "gold"
  during 2026-07-01 until 2026-10-01
  pays 500 USD
