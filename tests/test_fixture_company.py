"""The example company: the engine must reproduce every hand-worked statement to the cent.

The figures in EXPECTED below are the ones worked out by hand, step by step, in
fixtures/company/EXPECTED.md; a test checks that its summary table says the same, so the
document and the assertions cannot drift apart.  The data comes from
fixtures/generate_company.py, and a test checks that re-running it reproduces the committed
CSV files byte for byte, so the fixture can be regrown but never silently edited.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from compengine.core.calculation import CalculationResult, calculate
from compengine.core.data import Dataset
from compengine.core.hierarchy import Hierarchy
from compengine.core.plan import CompiledPlan
from compengine.io.csv_data import load_dataset
from compengine.lang.loader import load_plans
from tests.support import COMPANY_DIR, PLANS_DIR, REPO

GENERATOR = REPO / "fixtures" / "generate_company.py"
EXPECTED_MD = COMPANY_DIR / "EXPECTED.md"
CSV_FILES = ("payees.csv", "assignments.csv", "quotas.csv", "deals.csv", "reporting_lines.csv", "exchange_rates.csv", "inputs.csv")

# (payee, period) -> (plan, total, {component: line amount}), all in USD.
EXPECTED: dict[tuple[str, str], tuple[str, str, dict[str, str]]] = {
    ("P001", "2026-Q1"): ("sales_manager", "32529.16", {"team_commission": "25779.16", "ae_override": "0.00", "mbo_bonus": "6750.00"}),
    ("P009", "2026-Q1"): ("enterprise_ae", "24163.89", {"new_business": "22563.89", "new_logo_spiff": "1600.00"}),
    ("P009", "2026-Q2"): ("enterprise_ae", "11200.00", {"new_business": "11200.00", "new_logo_spiff": "0.00"}),
    ("P009", "2026-Q3"): ("enterprise_ae", "27479.40", {"new_business": "26729.40", "new_logo_spiff": "750.00"}),
    ("P010", "2026-Q1"): ("enterprise_ae", "8000.00", {"new_business": "8000.00", "new_logo_spiff": "0.00"}),
    ("P010", "2026-Q2"): ("enterprise_ae", "16000.00", {"new_business": "16000.00", "new_logo_spiff": "0.00"}),
    ("P010", "2026-Q3"): ("enterprise_ae", "37500.00", {"new_business": "36000.00", "new_logo_spiff": "1500.00"}),
    ("P010", "2026-Q4"): ("enterprise_ae", "1500.00", {"new_business": "0.00", "new_logo_spiff": "1500.00"}),
    ("P011", "2026-Q3"): ("enterprise_ae", "11550.00", {"new_business": "10800.00", "new_logo_spiff": "750.00"}),
    ("P011", "2026-Q4"): ("enterprise_ae", "18641.08", {"new_business": "15641.08", "new_logo_spiff": "3000.00"}),
    ("P017", "2026-Q1"): ("sdr", "3474.51", {"meeting_bounty": "0.00", "sourced_commission": "3474.51"}),
    ("P017", "2026-Q2"): ("sdr", "4519.61", {"meeting_bounty": "750.00", "sourced_commission": "3769.61"}),
    ("P017", "2026-Q3"): ("sdr", "525.00", {"meeting_bounty": "525.00", "sourced_commission": "0.00"}),
    ("P022", "2026-Q1"): ("account_manager", "5286.36", {"expansion_commission": "1600.60", "attainment_bonus": "3685.76"}),
    ("P022", "2026-Q2"): ("account_manager", "12921.50", {"expansion_commission": "7385.00", "attainment_bonus": "5536.50"}),
    ("P022", "2026-Q4"): ("account_manager", "11700.00", {"expansion_commission": "4800.00", "attainment_bonus": "6900.00"}),
    ("P023", "2026-Q2"): ("account_manager", "1074.00", {"expansion_commission": "450.00", "attainment_bonus": "624.00"}),
    ("P023", "2026-Q3"): ("account_manager", "5704.50", {"expansion_commission": "2812.50", "attainment_bonus": "2892.00"}),
    ("P023", "2026-Q4"): ("account_manager", "17700.00", {"expansion_commission": "10500.00", "attainment_bonus": "7200.00"}),
    ("P027", "2026-Q2"): ("channel_manager", "7483.94", {"margin_commission": "7483.94", "gold_launch_spiff": "0.00"}),
    ("P027", "2026-Q3"): ("channel_manager", "8123.18", {"margin_commission": "7623.18", "gold_launch_spiff": "500.00"}),
    ("P027", "2026-Q4"): ("channel_manager", "5238.50", {"margin_commission": "5238.50", "gold_launch_spiff": "0.00"}),
    ("P029", "2026-Q1"): ("sales_manager", "9136.13", {"team_commission": "4527.94", "ae_override": "1608.19", "mbo_bonus": "3000.00"}),
    ("P029", "2026-Q2"): ("sales_manager", "5660.00", {"team_commission": "700.00", "ae_override": "560.00", "mbo_bonus": "4400.00"}),
    ("P029", "2026-Q3"): ("sales_manager", "8409.51", {"team_commission": "2500.00", "ae_override": "1951.47", "mbo_bonus": "3958.04"}),
    ("P031", "2026-Q2"): ("sales_manager", "4385.00", {"team_commission": "1825.00", "ae_override": "800.00", "mbo_bonus": "1760.00"}),
    ("P031", "2026-Q3"): ("sales_manager", "9716.25", {"team_commission": "3518.75", "ae_override": "1875.00", "mbo_bonus": "4322.50"}),
    ("P032", "2026-Q1"): ("solutions_engineer", "5682.19", {"technical_win_commission": "5682.19"}),
    ("P032", "2026-Q3"): ("solutions_engineer", "5900.00", {"technical_win_commission": "5900.00"}),
}
PERIODS = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")


@pytest.fixture(scope="module")
def plans() -> list[CompiledPlan]:
    loaded = load_plans([str(PLANS_DIR)])
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    return loaded.plans


@pytest.fixture(scope="module")
def company() -> Dataset:
    return load_dataset(COMPANY_DIR)


@pytest.fixture(scope="module")
def results(plans: list[CompiledPlan], company: Dataset) -> dict[str, CalculationResult]:
    """Every quarter of the whole company, calculated once for all the tests here."""
    return {period: calculate(plans, company, period) for period in PERIODS}


@pytest.mark.parametrize(("payee", "period"), list(EXPECTED), ids=[f"{payee}-{period}" for payee, period in EXPECTED])
def test_hand_worked_statement(results: dict[str, CalculationResult], payee: str, period: str) -> None:
    plan, total, lines = EXPECTED[(payee, period)]
    statement = results[period].statement(payee)
    assert statement.plan.id == plan
    assert {line.component.name: line.amount for line in statement.lines} == {name: Decimal(v) for name, v in lines.items()}
    assert statement.total == Decimal(total)


def test_every_quarter_calculates_for_every_assigned_payee(results: dict[str, CalculationResult], company: Dataset) -> None:
    # Mid-year hires have no statement before their start, the leaver none after leaving.
    for period, result in results.items():
        assert result.notes == ()
        quarter = int(period[-1])
        start, end = date(2026, 3 * quarter - 2, 1), date(2026, 3 * quarter + 1, 1) if quarter < 4 else date(2027, 1, 1)
        expected = {a.payee_id for a in company.assignments if a.start < end and (a.end is None or start < a.end)}
        assert {s.payee_id for s in result.statements} == expected, period
    assert "P011" not in {s.payee_id for s in results["2026-Q2"].statements}
    assert "P008" not in {s.payee_id for s in results["2026-Q4"].statements}
    assert "P031" not in {s.payee_id for s in results["2026-Q1"].statements}
    assert "P031" in {s.payee_id for s in results["2026-Q2"].statements}  # hired mid-quarter: a prorated statement


def test_the_company_has_the_promised_shape(company: Dataset) -> None:
    plans_of = {a.payee_id: a.plan_id for a in company.assignments}
    assert len(company.payees) >= 25
    assert len(plans_of) >= 25
    assert sorted(set(plans_of.values())) == [
        "account_manager",
        "channel_manager",
        "enterprise_ae",
        "sales_manager",
        "sdr",
        "solutions_engineer",
    ]
    assert len(company.deals) >= 500
    assert [deal.id for deal in company.deals if deal.currency != "USD"] == ["D-5304"]
    assert all(deal.close_date.year == 2026 for deal in company.deals)
    split = [deal for deal in company.deals if len(deal.splits) > 1]
    assert len(split) >= 10
    assert all(sum(s.share for s in deal.splits) == 1 for deal in split)
    assert [deal.id for deal in company.deals if deal.attributes.get("strategic") == "true"] == ["D-5710"]
    assert {(r.from_currency, r.to_currency, r.rate_type) for r in company.exchange_rates} == {
        ("EUR", "USD", "corporate"),
        ("EUR", "USD", "budget"),
    }
    assert len([r for r in company.exchange_rates if r.rate_type == "corporate"]) == 2
    assert {value.payee_id for value in company.inputs} <= {a.payee_id for a in company.assignments if a.plan_id == "sales_manager"}


def test_the_reporting_lines_reach_the_vp_three_levels_above_the_reps(company: Dataset) -> None:
    hierarchy = Hierarchy(company.reporting_lines)
    managers = {a.payee_id for a in company.assignments if a.plan_id == "sales_manager"}
    for assignment in company.assignments:
        if assignment.plan_id in ("enterprise_ae", "sdr") and assignment.end is None:
            chain = hierarchy.chain(assignment.payee_id, date(2026, 12, 31), None)
            assert len(chain) == 3 and chain[-1] == "P001" and set(chain) <= managers, (assignment.payee_id, chain)
    # the mid-year manager change, on the new manager's first day
    assert hierarchy.chain("P010", date(2026, 5, 17), None) == ("P029", "P028", "P001")
    assert hierarchy.chain("P010", date(2026, 5, 18), None) == ("P031", "P028", "P001")


def test_a_rollup_counts_a_deal_once_and_follows_the_line_of_its_close_date(results: dict[str, CalculationResult]) -> None:
    def team_credits(period: str, payee: str) -> dict[str, Decimal]:
        [line] = [line for line in results[period].statement(payee).lines if line.component.name == "team_commission"]
        assert line.reward is not None
        return {a.deal_id: a.amount for a in line.attribution if a.deal_id is not None}

    # D-5105 (P009 50% + P011 50%) reaches P029 twice and is credited once, in full
    [measure] = [r for r in results["2026-Q3"].statement("P029").lines[0].inputs if r.name == "team_total"]
    assert measure.value == Decimal("475000.00")
    # D-5201 (2026-02-10) rolled up to P029; D-5202 (2026-05-20, after the change) to P031
    assert "D-5201" in team_credits("2026-Q1", "P029")
    assert "D-5202" not in team_credits("2026-Q2", "P029")
    assert set(team_credits("2026-Q2", "P031")) == {"D-5202"}


def test_expected_md_summary_matches_the_asserted_figures() -> None:
    rows = re.findall(r"^\| (P\d{3}) [^|]+\| (\d{4}-Q\d) \| (\w+) \| ([^|]+) \| ([\d,.]+) \|$", EXPECTED_MD.read_text("utf-8"), re.M)
    documented = {
        (payee, period): (plan, _plain(total), {name: _plain(amount) for name, amount in re.findall(r"(\w+) ([\d,.]+)", lines)})
        for payee, period, plan, lines, total in rows
    }
    assert documented == EXPECTED


def _plain(amount: str) -> str:
    return amount.replace(",", "")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_company", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_the_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    _generator().write(tmp_path)
    for name in CSV_FILES:
        assert (tmp_path / name).read_bytes() == (COMPANY_DIR / name).read_bytes(), name
