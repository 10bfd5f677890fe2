# Benchmark plan "simple": inside sales and overlay specialists, a flat rate and a SPIFF.
plan simple "Simple sales plan"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per component

deal attribute new_logo: boolean, default false
deal attribute region: text, default ""
payee attribute role: text, default "rep"
payee attribute region: text, default ""

credit bookings from deals
  where deal.type in {"new", "expansion", "renewal"} and deal.currency == "USD"
  to deal splits
  amount deal.amount
  dated deal.close_date

# Overlay: the specialists of the deal's region are credited every security deal there.
credit specialist_bookings from deals
  where deal.product == "security" and deal.currency == "USD"
  to payees where payee.role == "specialist" and payee.region == deal.region and payee.region != ""
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 6%

component specialist_commission "Specialist overlay commission"
  per credit of specialist_bookings
  rate 1.5%

component new_logo_spiff "New-logo SPIFF"
  per credit of bookings where deal.new_logo
  pays 250 USD
