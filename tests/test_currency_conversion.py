"""Currency conversion: deals in other currencies, converted into the plan's currency.

`convert other currencies at "<type>" rates on the credit date | at the period end,
rounded half up|even to N places | unrounded` converts every money field of a foreign deal
when a rule reads it, with the direct rate of that type in force on the day (rates are step
functions: each applies from its date until the next of the same pair and type).  A missing
rate names the pair, type and date; a plan without the clause cannot credit a foreign deal.

Rates used below: EUR→USD "corporate" 1.10 from 2026-01-01 and 1.20 from 2026-03-01;
EUR→USD "budget" 1.05 from 2026-01-01.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from compengine.core.data import Dataset, Deal, ExchangeRate, RowRef
from compengine.core.errors import DataError, EvaluationError
from compengine.core.trace import TraceNode, build_line_trace
from compengine.io.csv_data import load_dataset
from compengine.lang.diagnostics import Severity
from compengine.report.explain import explain_line
from tests.support import HEADER, OWNER_BOOKINGS, calc, d, dataset, deal, diagnostics, line_amounts, payee

RATES = (
    ExchangeRate("EUR", "USD", "corporate", d("2026-01-01"), Decimal("1.10"), RowRef("exchange_rates.csv", 2)),
    ExchangeRate("EUR", "USD", "corporate", d("2026-03-01"), Decimal("1.20"), RowRef("exchange_rates.csv", 3)),
    ExchangeRate("EUR", "USD", "budget", d("2026-01-01"), Decimal("1.05"), RowRef("exchange_rates.csv", 4)),
)

COMMISSION = """
component commission "Commission"
  per credit of bookings
  rate 10%
"""


def conversion(on: str = "on the credit date", rounding: str = "rounded half up to 2 places", rate_type: str = "corporate") -> str:
    return f'  convert other currencies at "{rate_type}" rates {on}, {rounding}\n'


def plan(clause: str = conversion(), body: str = OWNER_BOOKINGS + COMMISSION, header: str = HEADER) -> str:
    return header + clause + body


def data(*deals: Deal, rates: tuple[ExchangeRate, ...] = RATES) -> Dataset:
    return replace(dataset([payee("P1")], deals), exchange_rates=rates)


def credits(node: TraceNode) -> list[TraceNode]:
    return [n for n in node.walk() if n.kind == "credit" and "converted" in n.detail]


# ---------------------------------------------------------------------- when and at which rate
def test_a_euro_deal_is_converted_at_the_rate_in_force_on_its_credit_date() -> None:
    # 10,000 EUR on 2026-02-10 at 1.10 = 11,000 USD × 10% = 1,100.00
    result = calc(plan(), data(deal("D1", "P1", 10_000, "2026-02-10", currency="EUR")), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": Decimal("1100.00")}


def test_a_deal_on_the_day_a_new_rate_starts_uses_the_new_rate() -> None:
    # D1 2026-02-28 at 1.10: 11,000; D2 2026-03-01 at 1.20: 12,000; (23,000) × 10% = 2,300.00
    deals = data(deal("D1", "P1", 10_000, "2026-02-28", currency="EUR"), deal("D2", "P1", 10_000, "2026-03-01", currency="EUR"))
    assert line_amounts(calc(plan(), deals, "2026-Q1"), "P1") == {"commission": Decimal("2300.00")}


def test_at_the_period_end_the_rate_on_the_last_day_of_the_credits_period_is_used() -> None:
    # 2026-02-10 is in 2026-Q1, whose last day is 2026-03-31 (rate 1.20): 12,000 USD × 10% = 1,200.00
    result = calc(plan(conversion("at the period end")), data(deal("D1", "P1", 10_000, "2026-02-10", currency="EUR")), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": Decimal("1200.00")}


def test_the_declared_rate_type_is_used() -> None:
    # budget rate 1.05: 10,500 USD × 10% = 1,050.00
    result = calc(plan(conversion(rate_type="budget")), data(deal("D1", "P1", 10_000, "2026-02-10", currency="EUR")), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": Decimal("1050.00")}


def test_a_deal_in_the_plans_currency_is_not_converted() -> None:
    result = calc(plan(), data(deal("D1", "P1", 10_000, "2026-02-10")), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": Decimal("1000.00")}
    statement = result.statement("P1")
    [credit] = [n for n in build_line_trace(statement, statement.lines[0]).walk() if n.kind == "credit"]
    assert credit.detail["converted"] is None


def test_a_measure_adds_converted_and_plan_currency_credits() -> None:
    body = (
        OWNER_BOOKINGS
        + """
measure booked = sum of bookings for the period

component bonus "Bonus"
  on booked
  rate 10%
"""
    )
    # 10,000 EUR at 1.10 = 11,000 + 5,000 USD = 16,000 × 10% = 1,600.00
    deals = data(deal("D1", "P1", 10_000, "2026-02-10", currency="EUR"), deal("D2", "P1", 5_000, "2026-02-11"))
    assert line_amounts(calc(plan(body=body), deals, "2026-Q1"), "P1") == {"bonus": Decimal("1600.00")}


# ---------------------------------------------------------------------- rounding
PAY_ALL = """
component booked_pay "Credited amount"
  per credit of bookings
  rate 100%
"""


def test_each_conversion_is_rounded_as_declared() -> None:
    # each 1,000.05 EUR × 1.10 = 1,100.055 → rounded half up to 2 places: 1,100.06; three of them: 3,300.18
    deals = [deal(f"D{i}", "P1", "1000.05", f"2026-02-1{i}", currency="EUR") for i in range(3)]
    assert line_amounts(calc(plan(body=OWNER_BOOKINGS + PAY_ALL), data(*deals), "2026-Q1"), "P1") == {"booked_pay": Decimal("3300.18")}


def test_unrounded_conversions_are_exact_until_the_plan_rounds() -> None:
    # 3 × 1,100.055 = 3,300.165 → the line, rounded half up per component: 3,300.17
    deals = [deal(f"D{i}", "P1", "1000.05", f"2026-02-1{i}", currency="EUR") for i in range(3)]
    text = plan(conversion(rounding="unrounded"), OWNER_BOOKINGS + PAY_ALL)
    result = calc(text, data(*deals), "2026-Q1")
    assert line_amounts(result, "P1") == {"booked_pay": Decimal("3300.17")}
    assert result.statement("P1").lines[0].credits[0].credited == Decimal("1100.055")


@pytest.mark.parametrize(("mode", "credited"), [("up", "1100.17"), ("even", "1100.16")])
def test_conversion_rounding_has_its_own_mode(mode: str, credited: str) -> None:
    # 1,000.15 EUR × 1.10 = 1,100.165: half up → 1,100.17; half even → 1,100.16
    text = plan(conversion(rounding=f"rounded half {mode} to 2 places"), OWNER_BOOKINGS + PAY_ALL)
    result = calc(text, data(deal("D1", "P1", "1000.15", "2026-02-10", currency="EUR")), "2026-Q1")
    assert result.statement("P1").lines[0].credits[0].credited == Decimal(credited)


# ---------------------------------------------------------------------- money fields and filters
def test_money_attributes_are_converted_too() -> None:
    body = OWNER_BOOKINGS.replace("amount deal.amount", "amount deal.acv") + "deal attribute acv: money\n" + COMMISSION
    # acv 5,000.05 EUR × 1.10 = 5,500.055 → 5,500.06 USD × 10% = 550.006 → the line 550.01
    result = calc(plan(body=body), data(deal("D1", "P1", 10_000, "2026-02-10", currency="EUR", acv="5000.05")), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": Decimal("550.01")}
    assert result.statement("P1").lines[0].credits[0].credited == Decimal("5500.06")


BIG_DEALS = (deal("D1", "P1", 46_000, "2026-02-10", currency="EUR"), deal("D2", "P1", 45_000, "2026-02-11", currency="EUR"))


def test_a_component_filter_compares_the_converted_amount() -> None:
    body = (
        OWNER_BOOKINGS
        + """
component big_deal "Big deal spiff"
  per credit of bookings where deal.amount > 50,000 USD
  pays 1,000 USD
"""
    )
    # D1: 46,000 EUR × 1.10 = 50,600 USD > 50,000 → 1,000; D2: 45,000 × 1.10 = 49,500 → nothing
    assert line_amounts(calc(plan(body=body), data(*BIG_DEALS), "2026-Q1"), "P1") == {"big_deal": Decimal("1000.00")}


def test_a_credit_rule_filter_compares_the_converted_amount() -> None:
    body = (
        """
credit bookings from deals
  where deal.amount > 50,000 USD
  to owner
  amount deal.amount
  dated deal.close_date
"""
        + COMMISSION
    )
    # only D1 is credited: 50,600 × 10% = 5,060.00
    assert line_amounts(calc(plan(body=body), data(*BIG_DEALS), "2026-Q1"), "P1") == {"commission": Decimal("5060.00")}


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("clause", "foreign", "message"),
    [
        (
            conversion(),
            deal("D1", "P1", 100, "2026-02-10", currency="GBP"),
            "there is no 'corporate' GBP→USD exchange rate in effect on 2026-02-10",
        ),
        (
            conversion(rate_type="spot"),
            deal("D1", "P1", 100, "2026-02-10", currency="EUR"),
            "there is no 'spot' EUR→USD exchange rate in effect on 2026-02-10",
        ),
    ],
)
def test_a_missing_rate_names_the_pair_the_type_and_the_date(clause: str, foreign: Deal, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        calc(plan(clause), data(foreign), "2026-Q1")
    assert caught.value.message == f"{message} (deal D1)"
    assert caught.value.hint is not None and caught.value.hint.startswith("add a row to exchange_rates.csv: ")


def test_a_deal_dated_before_the_first_rate_has_no_rate() -> None:
    late = (ExchangeRate("EUR", "USD", "corporate", d("2026-03-01"), Decimal("1.20")),)
    with pytest.raises(EvaluationError, match="there is no 'corporate' EUR→USD exchange rate in effect on 2026-02-10"):
        calc(plan(), data(deal("D1", "P1", 100, "2026-02-10", currency="EUR"), rates=late), "2026-Q1")


def test_at_the_period_end_a_missing_rate_names_the_period_end() -> None:
    later = (ExchangeRate("EUR", "USD", "corporate", d("2026-04-01"), Decimal("1.20")),)
    with pytest.raises(EvaluationError, match="in effect on 2026-03-31 \\(deal D1\\)"):
        calc(plan(conversion("at the period end")), data(deal("D1", "P1", 100, "2026-02-10", currency="EUR"), rates=later), "2026-Q1")


def test_rates_are_not_inverted() -> None:
    usd_to_eur = (ExchangeRate("USD", "EUR", "corporate", d("2026-01-01"), Decimal("0.9")),)
    with pytest.raises(EvaluationError, match="EUR→USD"):
        calc(plan(), data(deal("D1", "P1", 100, "2026-02-10", currency="EUR"), rates=usd_to_eur), "2026-Q1")


def test_without_a_conversion_clause_a_foreign_deal_is_an_error() -> None:
    with pytest.raises(EvaluationError) as caught:
        calc(plan(""), data(deal("D1", "P1", 100, "2026-02-10", currency="EUR")), "2026-Q1")
    assert caught.value.message == "deal D1 (deals.csv row 0) is in EUR but plan test_plan calculates in USD"
    assert (
        caught.value.hint == 'declare it: `convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places`'
    )


def test_without_a_conversion_clause_a_foreign_deal_the_credit_rule_excludes_is_no_error() -> None:
    body = (
        """
credit bookings from deals
  where deal.currency == "USD"
  to owner
  amount deal.amount
  dated deal.close_date
"""
        + COMMISSION
    )
    deals = data(deal("D1", "P1", 1_000, "2026-02-10"), deal("D2", "P1", 1_000, "2026-02-11", currency="EUR"))
    # only D1: 1,000 × 10% = 100.00 (docs/data.md: only a deal that passes the filter stops the calculation)
    assert line_amounts(calc(plan("", body), deals, "2026-Q1"), "P1") == {"commission": Decimal("100.00")}


@pytest.mark.parametrize(
    ("rounding", "message"),
    [
        ("rounded half down to 2 places", "`half down` is not a rounding mode"),
        ("rounded half up to 7 places", "rounding to 7 places is finer than any currency"),
    ],
)
def test_a_conversion_rounding_that_is_not_a_policy_is_e014(rounding: str, message: str) -> None:
    [found] = [x for x in diagnostics(plan(conversion(rounding=rounding))) if x.severity is Severity.ERROR]
    assert (found.code, found.message) == ("E014", message)


# ---------------------------------------------------------------------- trace
def test_the_trace_and_the_explanation_show_the_rate_used() -> None:
    result = calc(plan(conversion("at the period end")), data(deal("D1", "P1", "10000.05", "2026-02-10", currency="EUR")), "2026-Q1")
    statement = result.statement("P1")
    trace = build_line_trace(statement, statement.lines[0])
    [credit] = credits(trace)
    assert credit.detail["converted"] == {
        "from": "EUR",
        "to": "USD",
        "rate_type": "corporate",
        "date": "2026-03-31",
        "rate": Decimal("1.20"),
    }
    # 10,000.05 EUR × 1.20 = 12,000.06 USD; the deal's own amount stays in EUR
    assert (credit.detail["credited"], credit.detail["deal_amount"]) == (Decimal("12000.06"), Decimal("10000.05"))
    assert "amounts converted from EUR at 1.20 USD per EUR (corporate rate on 2026-03-31)" in explain_line(trace)


# ---------------------------------------------------------------------- exchange_rates.csv
FILES = {
    "payees.csv": "payee_id,name,hire_date,termination_date\nP1,Alex Kim,2024-01-01,\n",
    "assignments.csv": "payee_id,plan,effective_from,effective_until,target_incentive,currency\nP1,test_plan,2026-01-01,,100000,USD\n",
    "quotas.csv": "payee_id,quota,period,amount,currency\n",
    "deals.csv": "deal_id,owner,type,product,amount,currency,close_date,splits\nD1,P1,new,software,10000,EUR,2026-02-10,\n",
    "exchange_rates.csv": (
        "from_currency,to_currency,rate_type,effective_from,rate\nEUR,USD,corporate,2026-01-01,1.10\nEUR,USD,corporate,2026-03-01,1.20\n"
    ),
}


def folder(tmp_path: Path, rates: str | None = None) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(rates if name == "exchange_rates.csv" and rates is not None else text, encoding="utf-8")
    return tmp_path


def test_exchange_rates_csv_loads_and_converts(tmp_path: Path) -> None:
    loaded = load_dataset(folder(tmp_path))
    assert [(r.from_currency, r.to_currency, r.rate_type, r.start, r.rate, str(r.ref)) for r in loaded.exchange_rates] == [
        ("EUR", "USD", "corporate", d("2026-01-01"), Decimal("1.10"), "exchange_rates.csv row 2"),
        ("EUR", "USD", "corporate", d("2026-03-01"), Decimal("1.20"), "exchange_rates.csv row 3"),
    ]
    # 10,000 EUR on 2026-02-10 at 1.10 × 10% = 1,100.00
    assert line_amounts(calc(plan(), loaded, "2026-Q1"), "P1") == {"commission": Decimal("1100.00")}


def test_every_bad_exchange_rate_row_is_reported(tmp_path: Path) -> None:
    rates = (
        "from_currency,to_currency,rate_type,effective_from,rate\n"
        "EUR,USD,corporate,2026-01-01,1.10\n"
        "eur,USD,corporate,2026-01-01,1.1\n"
        "EUR,EUR,corporate,2026-01-01,1\n"
        "EUR,USD,corporate,2026-01-01,1.2\n"
        "EUR,USD,corporate,2026-02-30,1.2\n"
        "EUR,USD,corporate,2026-03-01,0\n"
        "EUR,USD,corporate,2026-04-01,abc\n"
        "EUR,USD,,2026-04-01,1\n"
    )
    with pytest.raises(DataError) as caught:
        load_dataset(folder(tmp_path, rates))
    assert [str(issue) for issue in caught.value.issues] == [
        "exchange_rates.csv row 3, field from_currency: 'eur' is not a currency code (write it like USD)",
        "exchange_rates.csv row 4, field to_currency: a rate converts between two different currencies",
        "exchange_rates.csv row 5, field effective_from: "
        "there is already a corporate EUR→USD rate from 2026-01-01 (exchange_rates.csv row 2)",
        "exchange_rates.csv row 6, field effective_from: '2026-02-30' is not a date (write it as YYYY-MM-DD)",
        "exchange_rates.csv row 7, field rate: an exchange rate must be above 0",
        "exchange_rates.csv row 8, field rate: 'abc' is not a decimal number (write it like 1200 or 1,200.50)",
        "exchange_rates.csv row 9, field rate_type: is empty",
    ]


def test_exchange_rates_csv_is_optional_until_a_foreign_deal_needs_a_rate(tmp_path: Path) -> None:
    root = folder(tmp_path)
    (root / "exchange_rates.csv").unlink()
    loaded = load_dataset(root)
    assert loaded.exchange_rates == ()
    with pytest.raises(EvaluationError, match="there is no 'corporate' EUR→USD exchange rate in effect on 2026-02-10"):
        calc(plan(), loaded, "2026-Q1")
