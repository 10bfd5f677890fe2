# Rates shared by the FY2026 plans.  A plan brings a definition in with
# `use <name> from "shared/rates.comp"`; changing a rate here changes every plan that uses it
# (and each such plan's content hash).
library rates "Shared rates, FY2026"

deal attribute partner_tier: text, default "registered"

# §5.2: gold partners earn more; the silver rate rose on 1 July.
table partner_rate: percent by deal.partner_tier
  "gold": 10%
  "silver": 6% from 2026-01-01 until 2026-07-01, 7% from 2026-07-01
  otherwise: 4%
