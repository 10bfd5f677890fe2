"""Inputs: per-payee values supplied as data each period (MBO scores, discretionary amounts).

An `input` is declared with a type and an optional default; inputs.csv gives one value per
payee, input and period.  A missing value without a default, or a value that is not of the
declared type, stops the calculation with the payee, input, period or the inputs.csv row.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from compengine.core.data import Dataset, InputValue, RowRef
from compengine.core.errors import DataError, EvaluationError
from compengine.core.trace import TraceNode, build_line_trace
from compengine.io.csv_data import load_dataset
from compengine.lang.diagnostics import Diagnostic, Severity
from compengine.report.explain import explain_line
from tests.support import HEADER, OWNER_BOOKINGS, calc, compile_text, dataset, deal, diagnostics, line_amounts, payee

MBO = (
    HEADER
    + """
input mbo_score: percent

component mbo "MBO bonus"
  pays target incentive for the period × mbo_score
"""
)

DISCRETIONARY = (
    HEADER
    + """
input discretionary: money, default 0 USD

component discretionary_award "Discretionary award"
  pays discretionary
"""
)


def with_inputs(*values: InputValue, target_incentive: int = 40_000) -> Dataset:
    return replace(dataset([payee("P1"), payee("P2")], [], target_incentive=target_incentive), inputs=values)


def value(payee_id: str, name: str, period: str, text: str, row: int = 2) -> InputValue:
    return InputValue(payee_id, name, period, text, RowRef("inputs.csv", row))


def errors(text: str) -> list[Diagnostic]:
    return [d for d in diagnostics(text) if d.severity is Severity.ERROR]


def input_records(node: TraceNode) -> list[TraceNode]:
    return [n for n in node.walk() if n.kind == "input"]


# ---------------------------------------------------------------------- values
def test_an_mbo_percentage_scales_the_target_incentive() -> None:
    # annual target 40,000 → 10,000 for the quarter; P1 scored 80%: 8,000.00; P2 scored 105%: 10,500.00
    data = with_inputs(value("P1", "mbo_score", "2026-Q1", "80%"), value("P2", "mbo_score", "2026-Q1", "105%", row=3))
    result = calc(MBO, data, "2026-Q1")
    assert line_amounts(result, "P1") == {"mbo": Decimal("8000.00")}
    assert line_amounts(result, "P2") == {"mbo": Decimal("10500.00")}


def test_each_period_reads_its_own_row() -> None:
    # Q2: 10,000 × 50% = 5,000.00 (the Q1 row is not Q2's)
    data = with_inputs(value("P1", "mbo_score", "2026-Q1", "80%"), value("P1", "mbo_score", "2026-Q2", "50%", row=3))
    assert line_amounts(calc(MBO, data, "2026-Q2", payees=["P1"]), "P1") == {"mbo": Decimal("5000.00")}


def test_a_money_input_is_paid_as_given() -> None:
    data = with_inputs(value("P1", "discretionary", "2026-Q1", "1,250.50"))
    result = calc(DISCRETIONARY, data, "2026-Q1")
    assert line_amounts(result, "P1") == {"discretionary_award": Decimal("1250.50")}


def test_a_payee_without_a_row_gets_the_declared_default() -> None:
    # P2 has no row: the default 0 USD
    data = with_inputs(value("P1", "discretionary", "2026-Q1", "1,250.50"))
    assert line_amounts(calc(DISCRETIONARY, data, "2026-Q1"), "P2") == {"discretionary_award": Decimal("0.00")}


def test_a_percentage_default_is_used_when_the_period_has_no_row() -> None:
    # 10,000 × the default 50% = 5,000.00
    text = MBO.replace("input mbo_score: percent", "input mbo_score: percent, default 50%")
    assert line_amounts(calc(text, with_inputs(), "2026-Q1"), "P1") == {"mbo": Decimal("5000.00")}


def test_an_input_can_be_combined_with_credits_in_a_per_credit_component() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
input kicker: percent, default 0%

component commission "Commission"
  per credit of bookings
  rate 5% + kicker
"""
    )
    # 100,000 × (5% + 2%) = 7,000.00
    data = replace(dataset([payee("P1")], [deal("D1", "P1", 100_000, "2026-02-01")]), inputs=(value("P1", "kicker", "2026-Q1", "2%"),))
    assert line_amounts(calc(text, data, "2026-Q1"), "P1") == {"commission": Decimal("7000.00")}


# ---------------------------------------------------------------------- errors
def test_a_missing_value_without_a_default_names_the_payee_the_input_and_the_period() -> None:
    data = with_inputs(value("P1", "mbo_score", "2026-Q2", "80%"))
    with pytest.raises(EvaluationError) as caught:
        calc(MBO, data, "2026-Q1", payees=["P1"])
    assert caught.value.message == "payee P1 has no 'mbo_score' input for 2026-Q1"
    assert caught.value.hint == "add a row to inputs.csv: P1,mbo_score,2026-Q1,<value>; or declare a default"
    assert caught.value.span is not None and caught.value.span.line == MBO.splitlines().index("input mbo_score: percent") + 1


@pytest.mark.parametrize(
    ("text", "given", "reason"),
    [
        (MBO, "eighty", "'eighty' is not a percentage (write it like 12.5%) (input mbo_score is percent)"),
        (MBO, "0.8", "'0.8' is not a percentage (write it like 12.5%) (input mbo_score is percent)"),
        (
            DISCRETIONARY,
            "1250 EUR",
            "'1250 EUR' is not a decimal number (write it like 1200 or 1,200.50) (input discretionary is money (USD))",
        ),
    ],
)
def test_a_value_of_the_wrong_type_names_the_inputs_csv_row(text: str, given: str, reason: str) -> None:
    name = "mbo_score" if text is MBO else "discretionary"
    data = with_inputs(value("P1", name, "2026-Q1", given, row=7))
    with pytest.raises(EvaluationError) as caught:
        calc(text, data, "2026-Q1", payees=["P1"])
    assert caught.value.message == f"inputs.csv row 7, field value: {reason}"


def test_a_default_of_the_wrong_type_is_e031() -> None:
    text = DISCRETIONARY.replace("default 0 USD", "default 5%")
    [found] = errors(text)
    assert found.code == "E031"
    assert found.message == "the default of input `discretionary` is percent, but the input is money (USD)"
    assert found.hint == "write a default that is money (USD)"


def test_an_unknown_input_type_is_e023() -> None:
    [found] = errors(DISCRETIONARY.replace("money, default 0 USD", "dollars"))
    assert found.code == "E023"
    assert found.message == "`dollars` is not a type"


def test_an_input_is_a_period_value_so_a_credit_rule_cannot_read_it() -> None:
    text = (
        HEADER
        + """
input mbo_score: percent

credit bookings from deals
  where mbo_score > 0%
  to owner
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 5%
"""
    )
    [found] = errors(text)
    assert found.code == "E033"
    assert found.message == "`mbo_score` is worked out for each payee and period, so it cannot be used in credit rule `bookings`"


# ---------------------------------------------------------------------- trace
def test_the_trace_says_where_the_value_came_from() -> None:
    data = with_inputs(value("P1", "mbo_score", "2026-Q1", "80%"))
    statement = calc(MBO, data, "2026-Q1", payees=["P1"]).statement("P1")
    trace = build_line_trace(statement, statement.lines[0])
    [record] = input_records(trace)
    assert (record.label, record.value, record.detail["source"]) == ("mbo_score", Decimal("0.8"), "inputs.csv row 2")
    assert "mbo_score = 80%   [from inputs.csv row 2]" in explain_line(trace)


def test_the_trace_says_when_the_default_was_used() -> None:
    text = MBO.replace("input mbo_score: percent", "input mbo_score: percent, default 50%")
    statement = calc(text, with_inputs(), "2026-Q1").statement("P1")
    [record] = input_records(build_line_trace(statement, statement.lines[0]))
    assert (record.value, record.detail["source"]) == (Decimal("0.5"), "the plan's default")


# ---------------------------------------------------------------------- inputs.csv
FILES = {
    "payees.csv": "payee_id,name,hire_date,termination_date\nP1,Alex Kim,2024-01-01,\nP2,Sam Lee,2024-01-01,\n",
    "assignments.csv": (
        "payee_id,plan,effective_from,effective_until,target_incentive,currency\n"
        "P1,test_plan,2026-01-01,,40000,USD\nP2,test_plan,2026-01-01,,40000,USD\n"
    ),
    "quotas.csv": "payee_id,quota,period,amount,currency\n",
    "deals.csv": "deal_id,owner,type,product,amount,currency,close_date,splits\n",
    "inputs.csv": "payee_id,input,period,value\nP1,mbo_score,2026-Q1,80%\nP2,mbo_score,2026-Q1,105%\n",
}


def folder(tmp_path: Path, **changes: str) -> Path:
    for name, text in FILES.items():
        key = name.removesuffix(".csv")
        if changes.get(key) != "":
            (tmp_path / name).write_text(changes.get(key, text), encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path, inputs: str) -> list[str]:
    with pytest.raises(DataError) as caught:
        load_dataset(folder(tmp_path, inputs=inputs))
    return [str(issue) for issue in caught.value.issues]


def test_inputs_csv_loads_one_value_per_payee_input_and_period(tmp_path: Path) -> None:
    data = load_dataset(folder(tmp_path))
    assert sorted((v.payee_id, v.name, v.period_label, v.value, str(v.ref)) for v in data.inputs) == [
        ("P1", "mbo_score", "2026-Q1", "80%", "inputs.csv row 2"),
        ("P2", "mbo_score", "2026-Q1", "105%", "inputs.csv row 3"),
    ]
    assert "inputs.csv" in data.sources
    # and they are paid: 10,000 × 80% = 8,000.00 and 10,000 × 105% = 10,500.00
    result = calc(compile_text(MBO), data, "2026-Q1")
    assert (line_amounts(result, "P1"), line_amounts(result, "P2")) == ({"mbo": Decimal("8000.00")}, {"mbo": Decimal("10500.00")})


def test_inputs_csv_is_optional(tmp_path: Path) -> None:
    assert load_dataset(folder(tmp_path, inputs="")).inputs == ()


def test_every_bad_inputs_row_is_reported(tmp_path: Path) -> None:
    rows = (
        "payee_id,input,period,value\n"
        "P1,mbo_score,2026-Q1,80%\n"
        "P9,mbo_score,2026-Q1,50%\n"
        "P1,mbo_score,Q1,50%\n"
        "P1,mbo_score,2026-Q1,90%\n"
        "P2,,2026-Q2,\n"
    )
    assert problems(tmp_path, rows) == [
        "inputs.csv row 3, field payee_id: there is no payee 'P9' in payees.csv",
        "inputs.csv row 4, field period: 'Q1' is not a period; "
        "write 2026-Q1 for a quarter, 2026-M03 for a fiscal month or FY2026 for a year",
        "inputs.csv row 5, field period: payee P1 already has a 'mbo_score' input for 2026-Q1 (inputs.csv row 2)",
        "inputs.csv row 6, field input: is empty",
        "inputs.csv row 6, field value: is empty",
    ]


def test_inputs_csv_needs_its_columns_and_no_others(tmp_path: Path) -> None:
    assert problems(tmp_path, "payee_id,input,period\nP1,mbo_score,2026-Q1\n") == [
        "inputs.csv row 1, field value: the column is missing from the header"
    ]
    assert problems(tmp_path, "payee_id,input,period,value,note\nP1,mbo_score,2026-Q1,80%,ok\n") == [
        "inputs.csv row 1, field note: unexpected column; the columns are payee_id, input, period, value"
    ]


def test_a_value_is_checked_against_the_plan_when_calculating_not_when_loading(tmp_path: Path) -> None:
    data = load_dataset(folder(tmp_path, inputs="payee_id,input,period,value\nP1,mbo_score,2026-Q1,lots\n"))
    with pytest.raises(EvaluationError, match=r"^inputs\.csv row 2, field value: 'lots' is not a percentage"):
        calc(MBO, data, "2026-Q1", payees=["P1"])
