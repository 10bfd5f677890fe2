# Sales Development Representative plan, fiscal year 2026.
plan sdr "Sales Development Representative"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per credit
  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places

deal attribute sourced_by: payee

# §2.1: what a qualified meeting pays (175 USD from revision 2, below).
parameter bounty_per_meeting = 150 USD

# A meeting is logged as a deal of type "meeting" owned by the SDR who held it; its amount is
# the pipeline value the meeting created.
credit meetings from deals
  where deal.type == "meeting"
  to owner
  amount deal.amount
  dated deal.close_date

# Closed-won business the SDR sourced.
credit sourced_bookings from deals
  where deal.type in {"new", "expansion"}
  to deal.sourced_by
  amount deal.amount
  dated deal.close_date

measure pipeline = sum of meetings for the period
quota pipeline_quota = "pipeline" per period
let pipeline_attainment = pipeline / pipeline_quota for the period

component meeting_bounty "Qualified meeting bounty"
  cites "§2.1"
  per credit of meetings
  pays bounty_per_meeting
  gate pipeline_attainment >= 50%

component sourced_commission "Sourced bookings commission"
  cites "§2.2"
  per credit of sourced_bookings
  rate 2%
  cap 2,500 USD per deal

# §2.1 as amended: from 1 July a qualified meeting pays 175 USD.  A meeting is paid under the
# version in force on its date, so meetings before 1 July keep 150 USD.
revision 2 effective 2026-07-01 "Meeting bounty raised to 175 USD"

parameter bounty_per_meeting = 175 USD
