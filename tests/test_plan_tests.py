"""Plan tests: the YAML cases next to each plan run under pytest, and the runner itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from compengine.cli import app
from compengine.plantest import find_test_files, load_cases, run_case, run_plan_tests
from tests.support import PLANS_DIR

CASES = [case for path in find_test_files([str(PLANS_DIR)]) for case in load_cases(path)]

PLAN = """plan tiny "Tiny"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per component

credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 10%
"""


def write_plan(folder: Path, cases: str) -> Path:
    (folder / "tiny.comp").write_text(PLAN, encoding="utf-8")
    tests = folder / "tiny.tests.yaml"
    tests.write_text(cases, encoding="utf-8")
    return tests


@pytest.mark.parametrize("case", CASES, ids=[f"{Path(c.file).stem}: {c.name}" for c in CASES])
def test_example_plan_case(case) -> None:  # type: ignore[no-untyped-def]
    result = run_case(case)
    assert result.passed, "\n".join(result.problems)


def test_every_example_plan_has_test_cases() -> None:
    plans = {p.stem for p in PLANS_DIR.glob("*.comp")}
    tested = {Path(c.file).name.removesuffix(".tests.yaml") for c in CASES}
    assert plans <= tested


def test_a_wrong_expectation_reports_expected_and_actual_amounts(tmp_path: Path) -> None:
    # 1,000.00 × 10% = 100.00, but the case expects 99.99
    write_plan(
        tmp_path,
        """tests:
  - name: off by a cent
    period: 2026-Q1
    payees: [{id: P1}]
    deals: [{id: D1, owner: P1, amount: 1000.00, close_date: 2026-02-01}]
    expect: {P1: {total: 99.99, lines: {commission: 99.99}}}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.problems == ["P1 total: expected 99.99, got 100.00", "P1 commission: expected 99.99, got 100.00"]


def test_decimals_in_a_case_are_read_exactly_not_as_binary_floats(tmp_path: Path) -> None:
    # 0.30 × 10% = 0.03 exactly; a float 0.3 would still round to 0.03, so use 1.005 → 0.1005 → 0.10
    write_plan(
        tmp_path,
        """tests:
  - name: exact decimals
    period: 2026-Q1
    payees: [{id: P1}]
    deals: [{id: D1, owner: P1, amount: 1.005, close_date: 2026-02-01}]
    expect: {P1: {total: 0.10}}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.passed, result.problems


def test_a_bad_deal_row_in_a_case_names_the_row_and_field(tmp_path: Path) -> None:
    write_plan(
        tmp_path,
        """tests:
  - name: bad date
    period: 2026-Q1
    payees: [{id: P1}]
    deals: [{id: D1, owner: P1, amount: 10, close_date: 2026-02-30}]
    expect: {P1: {total: 1.00}}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert len(result.problems) == 1
    assert "deals.csv row 2, field close_date: '2026-02-30' is not a date" in result.problems[0]


def test_a_payee_without_a_statement_is_a_failure(tmp_path: Path) -> None:
    write_plan(
        tmp_path,
        """tests:
  - name: nobody
    period: 2026-Q1
    payees: [{id: P1}]
    expect: {P9: {total: 0.00}}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.problems == ["payee P9 has no statement for 2026-Q1"]


def test_compengine_test_exits_non_zero_when_a_case_fails(tmp_path: Path) -> None:
    write_plan(
        tmp_path,
        """tests:
  - name: wrong
    period: 2026-Q1
    payees: [{id: P1}]
    deals: [{id: D1, owner: P1, amount: 50, close_date: 2026-02-01}]
    expect: {P1: {total: 6.00}}
""",
    )
    result = CliRunner().invoke(app, ["test", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "P1 total: expected 6.00, got 5.00" in result.output


def test_compengine_test_passes_on_the_example_plans() -> None:
    result = CliRunner().invoke(app, ["test", str(PLANS_DIR)])
    assert result.exit_code == 0, result.output
    assert f"{len(CASES)} plan tests, 0 failed" in result.output


def test_a_misspelt_key_in_a_case_is_reported_by_its_path(tmp_path: Path) -> None:
    write_plan(
        tmp_path,
        """tests:
  - name: typo
    period: 2026-Q1
    payees: [{id: P1, target_incentve: 1000}]
    expect: {P1: {total: 0.00}}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.problems == ["payees → 1 → target_incentve: unknown key"]


def test_a_deal_without_an_amount_is_reported_by_its_path(tmp_path: Path) -> None:
    write_plan(
        tmp_path,
        """tests:
  - name: no amount
    period: 2026-Q1
    payees: [{id: P1}]
    deals: [{id: D1, owner: P1, close_date: 2026-02-01}]
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.problems == ["deals → 1 → amount: field required"]


def test_numeric_ids_are_read_as_text(tmp_path: Path) -> None:
    # payee 7 and deal 1001 written as YAML numbers: 200 × 10% = 20.00
    write_plan(
        tmp_path,
        """tests:
  - name: numbers as ids
    period: 2026-Q1
    payees: [{id: 7}]
    deals: [{id: 1001, owner: 7, amount: 200, close_date: 2026-02-01}]
    expect: {"7": {total: 20.00}}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.passed, result.problems
