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


def write_named_plan(folder: Path, name: str, plan: str, cases: str) -> None:
    (folder / f"{name}.comp").write_text(plan, encoding="utf-8")
    (folder / f"{name}.tests.yaml").write_text(cases, encoding="utf-8")


TEAM_PLAN = PLAN.replace("plan tiny", "plan team").replace("  to owner\n", "  to owner\n  rolled up to the top\n")


def test_reporting_lines_in_a_case_roll_deals_up_to_managers(tmp_path: Path) -> None:
    # R1 reports to M1 until 2026-02-15, then to M2; M1 and M2 report to V1.  10% of each deal:
    # X1 (2026-02-01) 1,000 → R1, M1, V1 100.00; X2 (2026-03-01) 500 → R1, M2, V1 50.00
    write_named_plan(
        tmp_path,
        "team",
        TEAM_PLAN,
        """tests:
  - name: rollups follow the reporting line on the close date
    period: 2026-Q1
    payees: [{id: R1}, {id: M1}, {id: M2}, {id: V1}]
    reporting_lines:
      - {payee: R1, manager: M1, until: 2026-02-15}
      - {payee: R1, manager: M2, from: 2026-02-15}
      - {payee: M1, manager: V1}
      - {payee: M2, manager: V1}
    deals:
      - {id: X1, owner: R1, amount: 1000, close_date: 2026-02-01}
      - {id: X2, owner: R1, amount: 500, close_date: 2026-03-01}
    expect:
      R1: {total: 150.00}
      M1: {total: 100.00}
      M2: {total: 50.00}
      V1: {total: 150.00}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.passed, result.problems


def test_exchange_rates_in_a_case_convert_deals_on_their_credit_date(tmp_path: Path) -> None:
    # 1,000 EUR on 2026-02-01 at the corporate 1.10 = 1,100.00 USD; on 2026-03-01 at 1.20 = 1,200.00;
    # 10% of 2,300.00 = 230.00 (the budget rate is another rate type, not used)
    conversion = '  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places\n'
    plan = PLAN.replace("  rounding half up to 2 places per component\n", "  rounding half up to 2 places per component\n" + conversion)
    write_named_plan(
        tmp_path,
        "tiny",
        plan,
        """tests:
  - name: euros at the corporate rate of the day
    period: 2026-Q1
    payees: [{id: P1}]
    exchange_rates:
      - {from: EUR, type: corporate, since: 2026-01-01, rate: 1.10}
      - {from: EUR, to: USD, type: corporate, since: 2026-03-01, rate: 1.20}
      - {from: EUR, type: budget, since: 2026-01-01, rate: 9}
    deals:
      - {id: D1, owner: P1, amount: 1000, currency: EUR, close_date: 2026-02-01}
      - {id: D2, owner: P1, amount: 1000, currency: EUR, close_date: 2026-03-01}
    expect: {P1: {total: 230.00}}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.passed, result.problems


def test_inputs_in_a_case_supply_a_payees_value_for_the_period(tmp_path: Path) -> None:
    # P1's score for the case's period is 80%: 1,000 × 80% = 800.00; P2 has a score only for
    # another period, so the default 0% applies
    plan = PLAN.split("credit bookings")[0] + 'input score: percent, default 0%\n\ncomponent bonus "Bonus"\n  pays 1,000 USD × score\n'
    write_named_plan(
        tmp_path,
        "tiny",
        plan,
        """tests:
  - name: MBO scores
    period: 2026-Q1
    payees: [{id: P1}, {id: P2}]
    inputs:
      - {payee: P1, input: score, value: 80%}
      - {payee: P2, input: score, period: 2026-Q2, value: 100%}
    expect:
      P1: {total: 800.00}
      P2: {total: 0.00}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.passed, result.problems


def test_a_payee_off_the_plan_is_in_the_data_but_gets_no_statement(tmp_path: Path) -> None:
    write_named_plan(
        tmp_path,
        "team",
        TEAM_PLAN,
        """tests:
  - name: a rep on another plan
    period: 2026-Q1
    payees: [{id: R1, on_plan: false}, {id: M1}]
    reporting_lines: [{payee: R1, manager: M1}]
    deals: [{id: X1, owner: R1, amount: 1000, close_date: 2026-02-01}]
    expect:
      M1: {total: 100.00}
      R1: {total: 100.00}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.problems == ["payee R1 has no statement for 2026-Q1"]


def test_a_case_after_a_revision_is_calculated_under_the_revised_plan(tmp_path: Path) -> None:
    # 10% until 2026-04-01, then 20%: a 1,000 deal in Q2 pays 200.00
    plan = PLAN + '\nrevision 2 effective 2026-04-01 "Rate up"\n\ncomponent commission "Commission"\n  per credit of bookings\n  rate 20%\n'
    write_named_plan(
        tmp_path,
        "tiny",
        plan,
        """tests:
  - name: after the revision
    period: 2026-Q2
    payees: [{id: P1}]
    deals: [{id: D1, owner: P1, amount: 1000, close_date: 2026-05-01}]
    expect: {P1: {total: 200.00}}
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.passed, result.problems


def test_a_misspelt_key_in_a_reporting_line_is_reported_by_its_path(tmp_path: Path) -> None:
    write_plan(
        tmp_path,
        """tests:
  - name: typo
    period: 2026-Q1
    payees: [{id: P1}, {id: M1}]
    reporting_lines: [{payee: P1, manger: M1}]
""",
    )
    [result] = run_plan_tests([str(tmp_path)]).cases
    assert result.problems == ["reporting_lines → 1 → manager: field required; reporting_lines → 1 → manger: unknown key"]


def test_a_plan_counting_earnings_from_another_plan_is_tested_with_that_plan_known(tmp_path: Path) -> None:
    # `earnings of direct reports from plan tiny` must name a plan being calculated; the case's
    # payees are on `boss` only, so the override is 0.00 and the team credit 10% of 1,000
    (tmp_path / "tiny.comp").write_text(PLAN, encoding="utf-8")
    boss = TEAM_PLAN.replace("plan team", "plan boss") + (
        '\nmeasure below = earnings of direct reports from plan tiny\n\ncomponent override "Override"\n  pays 10% × below\n'
    )
    write_named_plan(
        tmp_path,
        "boss",
        boss,
        """tests:
  - name: an override on another plan's earnings
    period: 2026-Q1
    payees: [{id: R1, on_plan: false}, {id: M1}]
    reporting_lines: [{payee: R1, manager: M1}]
    deals: [{id: X1, owner: R1, amount: 1000, close_date: 2026-02-01}]
    expect: {M1: {total: 100.00, lines: {commission: 100.00, override: 0.00}}}
""",
    )
    [result] = run_plan_tests([str(tmp_path / "boss.tests.yaml")]).cases
    assert result.passed, result.problems
