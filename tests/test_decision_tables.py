"""Decision tables: rows of tests on the `given` inputs, read by a declared hit policy.

`unique` (the default) needs exactly one matching row, and the checker proves the rows
exclusive (E092); `first` takes the first matching row; `collect sum | max | min` combine
the outputs of every matching row.  `otherwise` answers when no row matches; without it,
no match is an evaluation error naming the values tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import pytest

from compengine.core.data import Deal
from compengine.core.errors import EvaluationError
from compengine.core.trace import TraceNode, build_line_trace
from compengine.lang.diagnostics import Diagnostic, Severity
from compengine.report.explain import explain_line
from tests.support import HEADER, OWNER_BOOKINGS, calc, dataset, deal, diagnostics, line_amounts, payee

ATTRIBUTES = """
deal attribute region: text, default "AMER"
deal attribute strategic: boolean, default false
deal attribute discount: percent, default 0%
deal attribute seats: number, default 0
"""

SPIFF_LINE = """
component spiff_line "Spiff"
  per credit of bookings
  pays spiff
"""

#: Rows that overlap: a first-match or collecting policy tells them apart.
OVERLAPPING = """  row any, "EMEA": 10 USD
  row from 10,000 USD, any: 100 USD
  row from 100,000 USD, any: 1,000 USD
  row any, any: 1 USD
"""

#: D1 matches rows 1 and 4; D2 rows 2 and 4; D3 rows 2, 3 and 4.
DEALS = [
    deal("D1", "P1", 5_000, "2026-02-01", region="EMEA"),
    deal("D2", "P1", 50_000, "2026-02-02", region="AMER"),
    deal("D3", "P1", 150_000, "2026-02-03", region="APAC"),
]


def spiff_table(rows: str, policy: str = "", otherwise: str = "", given: str = "deal.amount, deal.region") -> str:
    policy_line = f"  {policy}\n" if policy else ""
    return (
        HEADER
        + OWNER_BOOKINGS
        + ATTRIBUTES
        + f"""
decision table spiff: money
{policy_line}  given {given}
{rows}{otherwise}"""
        + SPIFF_LINE
    )


def errors(text: str) -> list[Diagnostic]:
    return [d for d in diagnostics(text) if d.severity is Severity.ERROR]


def payouts(text: str, deals: Sequence[Deal] = DEALS) -> dict[str, Decimal]:
    result = calc(text, dataset([payee("P1")], deals), "2026-Q1")
    [line] = result.statement("P1").lines
    return {p.deal_id: p.payout for p in line.credits}


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def decision_records(node: TraceNode) -> list[TraceNode]:
    return [n for n in node.walk() if n.kind == "decision"]


# ---------------------------------------------------------------------- hit policies
def test_a_unique_table_pays_the_one_row_that_matches() -> None:
    rows = """  row below 10,000 USD, any: 10 USD
  row [10,000 USD, 100,000 USD), {"AMER", "EMEA"}: 100 USD
  row [10,000 USD, 100,000 USD), "APAC": 50 USD
  row from 100,000 USD, any: 1,000 USD
"""
    text = spiff_table(rows)
    assert errors(text) == []
    # D1 5,000 EMEA: below 10,000 → 10; D2 50,000 AMER: [10,000, 100,000) in {AMER, EMEA} → 100;
    # D3 150,000 APAC: from 100,000 → 1,000; line 1,110.00
    assert payouts(text) == {"D1": Decimal("10"), "D2": Decimal("100"), "D3": Decimal("1000")}
    assert line_amounts(calc(text, dataset([payee("P1")], DEALS), "2026-Q1"), "P1") == {"spiff_line": Decimal("1110.00")}


def test_hit_policy_first_pays_the_first_matching_row() -> None:
    # D1: rows 1, 4 → row 1 = 10; D2: rows 2, 4 → row 2 = 100; D3: rows 2, 3, 4 → row 2 = 100
    assert payouts(spiff_table(OVERLAPPING, "hit policy first")) == {"D1": Decimal("10"), "D2": Decimal("100"), "D3": Decimal("100")}


def test_hit_policy_collect_sum_adds_every_matching_row() -> None:
    # D1: 10 + 1 = 11; D2: 100 + 1 = 101; D3: 100 + 1,000 + 1 = 1,101
    assert payouts(spiff_table(OVERLAPPING, "hit policy collect sum")) == {
        "D1": Decimal("11"),
        "D2": Decimal("101"),
        "D3": Decimal("1101"),
    }


def test_hit_policy_collect_max_pays_the_largest_matching_output() -> None:
    # D1: max(10, 1) = 10; D2: max(100, 1) = 100; D3: max(100, 1,000, 1) = 1,000
    assert payouts(spiff_table(OVERLAPPING, "hit policy collect max")) == {
        "D1": Decimal("10"),
        "D2": Decimal("100"),
        "D3": Decimal("1000"),
    }


def test_hit_policy_collect_min_pays_the_smallest_matching_output() -> None:
    # every deal matches the catch-all row 4, so the smallest is always 1
    assert payouts(spiff_table(OVERLAPPING, "hit policy collect min")) == {"D1": Decimal("1"), "D2": Decimal("1"), "D3": Decimal("1")}


def test_a_misspelt_hit_policy_is_e014_with_the_closest_policy() -> None:
    [found] = errors(spiff_table(OVERLAPPING, "hit policy colect sum"))
    assert found.code == "E014"
    assert found.message == "`hit policy colect sum` is not a hit policy"
    assert found.hint == "did you mean `collect sum`?"


# ---------------------------------------------------------------------- cells
@pytest.mark.parametrize(
    ("given", "cell", "fields", "matches"),
    [
        ("deal.amount", "any", {"amount": "1"}, True),
        ("deal.amount", "50,000 USD", {"amount": "50000"}, True),
        ("deal.amount", "50,000 USD", {"amount": "50000.01"}, False),
        ("deal.region", '"EMEA"', {"region": "EMEA"}, True),
        ("deal.region", '"EMEA"', {"region": "AMER"}, False),
        ("deal.strategic", "true", {"strategic": "true"}, True),
        ("deal.strategic", "true", {"strategic": "false"}, False),
        ("deal.strategic", "false", {"strategic": "false"}, True),
        ("deal.seats", "25", {"seats": "25"}, True),
        ("deal.region", '{"EMEA", "APAC"}', {"region": "APAC"}, True),
        ("deal.region", '{"EMEA", "APAC"}', {"region": "AMER"}, False),
        # a range includes its lower bound and excludes its upper bound
        ("deal.amount", "[10,000 USD, 50,000 USD)", {"amount": "10000"}, True),
        ("deal.amount", "[10,000 USD, 50,000 USD)", {"amount": "49999.99"}, True),
        ("deal.amount", "[10,000 USD, 50,000 USD)", {"amount": "50000"}, False),
        ("deal.amount", "[10,000 USD, 50,000 USD)", {"amount": "9999.99"}, False),
        ("deal.discount", "[10%, 20%)", {"discount": "15%"}, True),
        ("deal.discount", "[10%, 20%)", {"discount": "20%"}, False),
        # below excludes its bound; from includes it
        ("deal.amount", "below 10,000 USD", {"amount": "9999.99"}, True),
        ("deal.amount", "below 10,000 USD", {"amount": "10000"}, False),
        ("deal.amount", "from 10,000 USD", {"amount": "10000"}, True),
        ("deal.amount", "from 10,000 USD", {"amount": "9999.99"}, False),
    ],
)
def test_each_kind_of_cell_tests_its_input(given: str, cell: str, fields: dict[str, str], matches: bool) -> None:
    text = spiff_table(f"  row {cell}: 100 USD\n", otherwise="  otherwise: 0 USD\n", given=given)
    attributes = {k: v for k, v in fields.items() if k != "amount"}
    data = dataset([payee("P1")], [replace(deal("D1", "P1", fields.get("amount", "1000"), "2026-02-01"), attributes=attributes)])
    expected = Decimal("100.00") if matches else Decimal("0.00")
    assert line_amounts(calc(text, data, "2026-Q1"), "P1") == {"spiff_line": expected}


def test_otherwise_answers_when_no_row_matches() -> None:
    text = spiff_table("  row from 10,000 USD, any: 100 USD\n", otherwise="  otherwise: 7 USD\n")
    # D1 (5,000) matches no row → 7; D2 and D3 → 100
    assert payouts(text) == {"D1": Decimal("7"), "D2": Decimal("100"), "D3": Decimal("100")}


def test_no_matching_row_without_otherwise_is_an_error_naming_the_inputs_and_the_deal() -> None:
    text = spiff_table("  row from 10,000 USD, any: 100 USD\n")
    assert errors(text) == []
    with pytest.raises(EvaluationError) as caught:
        calc(text, dataset([payee("P1")], DEALS), "2026-Q1")
    assert caught.value.message == "no row of decision table spiff matches deal.amount = 5000, deal.region = EMEA (deal D1, payee P1)"
    assert caught.value.hint == "add a row for these values, or an `otherwise` row"


def test_collect_max_with_no_matching_row_and_no_otherwise_is_an_error() -> None:
    with pytest.raises(EvaluationError, match=r"no row of decision table spiff matches deal\.amount = 5000"):
        calc(spiff_table("  row from 10,000 USD, any: 100 USD\n", "hit policy collect max"), dataset([payee("P1")], DEALS), "2026-Q1")


def test_collect_sum_of_no_matching_rows_is_zero() -> None:
    # only D3 (150,000) matches: 100; the others collect nothing, which sums to 0
    text = spiff_table("  row from 100,000 USD, any: 100 USD\n", "hit policy collect sum")
    assert payouts(text) == {"D1": Decimal("0"), "D2": Decimal("0"), "D3": Decimal("100")}


def test_a_period_level_table_reads_attainment_against_percentage_bands() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
measure booked = sum of bookings for the period
quota bookings_quota = "bookings" annual spread evenly
let attainment = booked / bookings_quota for the period

decision table payout_rate: percent
  given attainment
  row below 50%: 0%
  row [50%, 100%): 5%
  row from 100%: 8%

component bonus "Attainment bonus"
  on booked
  rate payout_rate
"""
    )
    quotas = {("P1", "bookings", "FY2026"): 400_000}

    def bonus(amount: int) -> Decimal:
        data = dataset([payee("P1")], [deal("D1", "P1", amount, "2026-02-01")], quotas=quotas)
        return line_amounts(calc(text, data, "2026-Q1"), "P1")["bonus"]

    # Q1 quota 400,000 / 4 = 100,000
    assert bonus(40_000) == Decimal("0.00")  # 40% → 0%
    assert bonus(50_000) == Decimal("2500.00")  # 50% → 5%: 50,000 × 5%
    assert bonus(100_000) == Decimal("8000.00")  # 100% → 8%: 100,000 × 8%
    assert bonus(120_000) == Decimal("9600.00")  # 120% → 8%: 120,000 × 8%


# ---------------------------------------------------------------------- check errors
def test_overlapping_rows_of_a_unique_table_are_e092_on_the_later_row() -> None:
    rows = """  row below 10,000 USD, any: 10 USD
  row [5,000 USD, 100,000 USD), "EMEA": 100 USD
"""
    text = spiff_table(rows)
    [found] = errors(text)
    assert found.code == "E092"
    first = line_of(text, "row below")
    assert found.message == f"rows of decision table `spiff` overlap: the same inputs match this row and the one at line {first}"
    assert (found.span.line, found.span.column) == (line_of(text, "row [5,000"), 3)
    assert found.hint == "make the rows' tests exclusive, or declare `hit policy first` to use the first matching row"


def test_every_overlapping_pair_of_a_unique_table_is_reported() -> None:
    # all six pairs overlap: an EMEA deal of 150,000 matches all four rows
    found = errors(spiff_table(OVERLAPPING))
    assert [d.code for d in found] == ["E092"] * 6


def test_rows_meeting_only_at_a_bound_do_not_overlap() -> None:
    rows = """  row below 10,000 USD, any: 10 USD
  row [10,000 USD, 100,000 USD), any: 100 USD
  row from 100,000 USD, any: 1,000 USD
  row any, {"EMEA", "APAC"}: 5 USD
"""
    found = errors(spiff_table(rows))
    # only the region row overlaps the three amount rows (any amount meets every band)
    assert len(found) == 3
    assert all(d.code == "E092" and d.span.line == found[0].span.line for d in found)


def test_overlapping_rows_are_allowed_with_hit_policy_first() -> None:
    assert errors(spiff_table(OVERLAPPING, "hit policy first")) == []


def test_a_row_with_the_wrong_number_of_cells_is_e031() -> None:
    text = spiff_table("  row from 10,000 USD: 100 USD\n")
    [found] = errors(text)
    assert found.code == "E031"
    assert found.message == "this row of `spiff` has 1 test, but the table is given 2 inputs"
    assert found.span.line == line_of(text, "row from 10,000 USD:")
    assert found.hint == "write one test per input, `any` where a row does not care"


def test_a_cell_of_the_wrong_unit_is_e030() -> None:
    [found] = errors(spiff_table('  row 10%, "EMEA": 100 USD\n'))
    assert found.code == "E030"
    assert found.message == "this test compares money (USD) with percent"


def test_outputs_of_different_types_are_e031() -> None:
    [found] = errors(spiff_table('  row any, "EMEA": 100 USD\n  row any, "AMER": 5%\n', "hit policy first"))
    assert found.code == "E031"
    assert found.message.startswith("rows of decision table `spiff` give different types")


# ---------------------------------------------------------------------- trace
def test_the_trace_records_the_inputs_tested_the_rows_matched_and_the_row_used() -> None:
    text = spiff_table(OVERLAPPING, "hit policy first", otherwise="  otherwise: 0 USD\n")
    statement = calc(text, dataset([payee("P1")], DEALS), "2026-Q1").statement("P1")
    trace = build_line_trace(statement, statement.lines[0])
    d1, d2, d3 = decision_records(trace)
    row = [line_of(text, '  row any, "EMEA"') + i for i in range(4)]
    assert d3.detail["inputs"] == (("deal.amount", Decimal("150000")), ("deal.region", "APAC"))
    assert d3.detail["matched"] == (row[1], row[2], row[3])
    assert d3.detail["used"] == (row[1],)
    assert d3.detail["formula"] == "hit policy first"
    assert d3.value == Decimal("100")
    assert d3.source is not None and d3.source.line == row[1]
    assert (d1.detail["matched"], d1.detail["used"]) == ((row[0], row[3]), (row[0],))
    assert (d2.detail["matched"], d2.detail["used"]) == ((row[1], row[3]), (row[1],))
    assert f"[tested deal.amount = 150,000.00, deal.region = APAC; rows matched: line {row[1]}, line {row[2]}, line {row[3]}; " in (
        explain_line(trace)
    )


def test_the_trace_says_when_otherwise_answered() -> None:
    text = spiff_table("  row from 10,000 USD, any: 100 USD\n", otherwise="  otherwise: 7 USD\n")
    statement = calc(text, dataset([payee("P1")], DEALS[:1]), "2026-Q1").statement("P1")
    [record] = decision_records(build_line_trace(statement, statement.lines[0]))
    assert (record.value, record.detail["matched"], record.detail["used"]) == (Decimal("7"), (), ("otherwise",))


def test_a_collecting_trace_lists_every_row_used() -> None:
    text = spiff_table(OVERLAPPING, "hit policy collect sum")
    statement = calc(text, dataset([payee("P1")], DEALS[2:]), "2026-Q1").statement("P1")
    [record] = decision_records(build_line_trace(statement, statement.lines[0]))
    first = line_of(text, '  row any, "EMEA"')
    assert record.detail["used"] == (first + 1, first + 2, first + 3)
    assert record.value == Decimal("1101")
