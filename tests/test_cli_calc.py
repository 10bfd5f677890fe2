"""`compengine calc` and `compengine explain` on a small data folder, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compengine.cli import app
from compengine.core.calculation import hash_json
from compengine.core.trace import TraceNode, verify
from tests.support import PLANS_DIR

AE_PLAN = str(PLANS_DIR / "enterprise_ae.comp")

FILES = {
    "payees.csv": "payee_id,name,hire_date,termination_date\nP1,Alex Kim,2024-01-01,\nP2,Sam Lee,2024-01-01,\n",
    "assignments.csv": (
        "payee_id,plan,effective_from,effective_until,target_incentive,currency\n"
        "P1,enterprise_ae,2026-01-01,,100000,USD\nP2,enterprise_ae,2026-01-01,,100000,USD\n"
    ),
    "quotas.csv": "payee_id,quota,period,amount,currency\nP1,bookings,FY2026,400000,USD\nP2,bookings,FY2026,400000,USD\n",
    "deals.csv": (
        "deal_id,owner,type,product,amount,currency,close_date,splits,acv,term_months,new_logo\n"
        "D-1001,P1,new,software,120000,USD,2026-02-10,,120000,12,false\n"
        "D-1017,P1,new,software,300000,USD,2026-03-02,P1:50%;P2:50%,300000,36,false\n"
        "D-1020,P2,renewal,software,50000,USD,2026-03-05,,,,\n"
    ),
}
# P1: D-1001 120,000 × 4% = 4,800; D-1017 150,000 (50%) from 120,000 to 270,000:
#     80,000 × 4% + 70,000 × 8% = 8,800 × 1.2 (36 months) = 10,560; total 15,360.00
# P2: 150,000 × 4% = 6,000 × 1.2 = 7,200.00; the renewal is not a booking


@pytest.fixture
def data(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def calc_json(data: Path) -> dict:  # type: ignore[type-arg]
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1", "--format", "json")
    assert code == 0, output
    return json.loads(output)  # type: ignore[no-any-return]


def test_calc_json_has_the_documented_shape_with_decimals_as_strings(data: Path) -> None:
    result = calc_json(data)
    assert result["format"] == "compengine.result/1"
    assert result["period"] == "2026-Q1"
    totals = {s["payee"]: s["total"] for s in result["statements"]}
    assert totals == {"P1": "15360.00", "P2": "7200.00"}
    line = result["statements"][0]["lines"][0]
    assert line == {
        "id": "2026-Q1/P1/enterprise_ae/new_business",
        "component": "new_business",
        "description": "New business commission",
        "amount": "15360.00",
    }


def test_the_result_hash_is_the_sha256_of_the_canonical_statements(data: Path) -> None:
    result = calc_json(data)
    assert result["result_sha256"] == hash_json(result["statements"])


def test_the_result_hash_does_not_depend_on_the_order_of_data_rows(data: Path) -> None:
    before = calc_json(data)["result_sha256"]
    for name in ("deals.csv", "payees.csv", "assignments.csv", "quotas.csv"):
        header, *rows = (data / name).read_text(encoding="utf-8").splitlines()
        (data / name).write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")
    assert calc_json(data)["result_sha256"] == before


def test_calc_csv_lists_one_row_per_line(data: Path) -> None:
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1", "--format", "csv")
    assert code == 0
    rows = output.strip().splitlines()
    assert rows[0] == "period,payee,payee_name,plan,line_id,component,description,amount,currency"
    assert (
        "2026-Q1,P1,Alex Kim,enterprise_ae,2026-Q1/P1/enterprise_ae/new_business,new_business,New business commission,15360.00,USD" in rows
    )
    assert len(rows) == 1 + 4


def test_calc_table_shows_each_statement_total(data: Path) -> None:
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1")
    assert code == 0
    assert "15,360.00" in output and "7,200.00" in output and "result_sha256" in output


def test_calc_for_one_payee_prints_only_that_statement(data: Path) -> None:
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1", "--payee", "P2", "--format", "json")
    assert code == 0
    assert [s["payee"] for s in json.loads(output)["statements"]] == ["P2"]


def test_explain_shows_each_slice_of_a_deal_crossing_a_band(data: Path) -> None:
    code, output = run("explain", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1", "--payee", "P1", "--line", "new_business")
    assert code == 0, output
    assert "band 1: 80,000.00 × 4% = 3,200.00" in output
    assert "band 2: 70,000.00 × 8% = 5,600.00" in output
    assert "not applied: deal.term_months >= 36 (deal.term_months = 12)" in output
    assert "enterprise_ae.comp:" in output and "(§3.1)" in output


def test_explain_json_is_a_versioned_trace_whose_nodes_re_add(data: Path) -> None:
    code, output = run(
        "explain",
        "--plans",
        AE_PLAN,
        "--data",
        str(data),
        "--period",
        "2026-Q1",
        "--payee",
        "P1",
        "--line",
        "new_business",
        "--format",
        "json",
    )
    assert code == 0
    payload = json.loads(output)
    assert payload["format"] == "compengine.trace/1"
    assert payload["trace"]["value"] == "15360.00"
    assert verify(_from_json(payload["trace"])) == []


def test_explain_an_unknown_line_lists_the_lines_there_are(data: Path) -> None:
    code, output = run("explain", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1", "--payee", "P1", "--line", "bonus")
    assert code == 1
    assert "the lines are: new_business, new_logo_spiff" in output


def test_a_bad_data_row_is_reported_by_file_row_and_field_and_nothing_is_calculated(data: Path) -> None:
    deals = data / "deals.csv"
    deals.write_text(deals.read_text().replace("120000,USD,2026-02-10", "12O000,USD,2026-02-10"), encoding="utf-8")
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1")
    assert code == 1
    assert "deals.csv row 2, field amount: '12O000' is not a decimal number" in output
    assert "Traceback" not in output and "15,360" not in output


def test_a_plan_error_stops_the_calculation_with_its_diagnostic(data: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.comp"
    broken.write_text(Path(AE_PLAN).read_text().replace("bookings_quota for the full year\n", "bookngs_quota for the full year\n"))
    code, output = run("calc", "--plans", str(broken), "--data", str(data), "--period", "2026-Q1")
    assert code == 1
    assert "error[E020]: unknown quota `bookngs_quota`" in output
    assert "nothing was calculated" in output


def test_a_period_of_the_wrong_kind_is_explained(data: Path) -> None:
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-M03")
    assert code == 1
    assert "'2026-M03' is a monthly period but the plan is calculated quarterly" in output


def test_an_unexpected_failure_is_reported_as_a_bug_without_a_traceback(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("compengine.cli.calculate", explode)
    monkeypatch.delenv("COMPENGINE_DEBUG", raising=False)
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1")
    assert code == 70
    assert "internal error: RuntimeError: boom" in output and "Traceback" not in output


def _from_json(node: dict) -> TraceNode:  # type: ignore[type-arg]
    """Rebuild a trace tree from its JSON, decimals back to Decimal, to re-verify it."""
    from decimal import Decimal

    def number(value: object) -> object:
        if isinstance(value, str):
            try:
                return Decimal(value)
            except ArithmeticError:
                return value
        return value

    detail = {k: number(v) for k, v in node["detail"].items()}
    return TraceNode(
        node["id"],
        node["kind"],
        node["label"],
        number(node["value"]),
        node["unit"],
        node["op"],
        [_from_json(child) for child in node["children"]],
        None,
        detail,
    )


def test_a_period_that_does_not_exist_fails_with_a_message(data: Path) -> None:
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q5")
    assert code == 1
    assert "'2026-Q5' is not a period" in output


def test_an_assignment_to_a_plan_that_was_not_given_is_pointed_out(data: Path) -> None:
    assignments = data / "assignments.csv"
    assignments.write_text(assignments.read_text() + "P2,enterprse_ae,2027-01-01,,1,USD\n", encoding="utf-8")
    code, output = run("calc", "--plans", AE_PLAN, "--data", str(data), "--period", "2026-Q1")
    assert code == 0
    assert "note: payees are assigned to plan 'enterprse_ae' (assignments.csv row 4), but no such plan was given" in output
