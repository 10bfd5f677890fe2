"""Team overrides: a manager paid on what the people below them earned (`earnings of reports`).

Specified by small plans with amounts checked by hand.  Unless a test says otherwise:

    V1  <-  D1  <-  M1  <-  R1, R2        (every line effective all year)

everyone is on one quarterly plan that pays a 10% commission on the deals they own and a
10% override on their direct reports' earnings (every line of the reports' statements for
the same period).  R1 owns X1 10,000 and R2 owns X2 5,000, both in 2026-Q1.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable, Sequence
from decimal import Decimal

import pytest

from compengine.core.calculation import CalculationResult, calculate, statement_json
from compengine.core.data import Assignment, Dataset, Deal, ReportingLine
from compengine.core.errors import EvaluationError
from compengine.core.plan import CompiledPlan
from compengine.core.trace import build_line_trace, verify
from compengine.report.explain import explain_line
from tests.support import HEADER, calc, compile_text, d, dataset, deal, line_amounts, money, payee

COMMISSION = """
credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 10%
"""


def override_plan(reports: str = "direct reports", source: str = "", header: str = HEADER, rate: str = "10%") -> str:
    return (
        header
        + COMMISSION
        + f"""
measure below = earnings of {reports} {source}

component override "Override"
  pays {rate} × below
"""
    )


def header(plan_id: str, calculated: str = "quarterly", fiscal: str = "january") -> str:
    return (
        HEADER.replace("plan test_plan", f"plan {plan_id}")
        .replace("calculated quarterly", f"calculated {calculated}")
        .replace("starts january", f"starts {fiscal}")
    )


ORG = (("R1", "M1"), ("R2", "M1"), ("M1", "D1"), ("D1", "V1"))
PEOPLE = ("R1", "R2", "M1", "D1", "V1")
DEALS = (deal("X1", "R1", "10000", "2026-02-10"), deal("X2", "R2", "5000", "2026-03-20"))


def all_year(pairs: Iterable[tuple[str, str]]) -> tuple[ReportingLine, ...]:
    return tuple(ReportingLine(p, m, d("2026-01-01"), None) for p, m in pairs)


def company(
    deals: Iterable[Deal] = DEALS,
    reporting: tuple[ReportingLine, ...] = all_year(ORG),
    people: Iterable[str] = PEOPLE,
    assignments: Iterable[Assignment] | None = None,
) -> Dataset:
    data = dataset([payee(p) for p in people], deals, assignments=assignments)
    return dataclasses.replace(data, reporting_lines=reporting)


def on_plan(plan_id: str, *payee_ids: str) -> list[Assignment]:
    return [Assignment(p, plan_id, d("2026-01-01"), None, money(100_000), "USD") for p in payee_ids]


def amounts(result: CalculationResult, *payee_ids: str) -> dict[str, dict[str, Decimal]]:
    return {p: line_amounts(result, p) for p in payee_ids}


def compiled(*texts: str) -> list[CompiledPlan]:
    return [compile_text(text) for text in texts]


# ------------------------------------------------------------------ direct reports
def test_an_override_pays_10_percent_of_the_direct_reports_earnings() -> None:
    # R1 1,000.00 + R2 500.00 = 1,500.00; × 10% = 150.00
    result = calc(override_plan(), company(), "2026-Q1")
    assert line_amounts(result, "M1") == {"commission": Decimal("0.00"), "override": Decimal("150.00")}


def test_an_override_counts_every_line_of_the_reports_statements() -> None:
    # the reports' own override lines count too: D1's direct report M1 earned 150.00 (override)
    # -> D1 15.00; V1's direct report D1 earned 15.00 -> V1 1.50
    result = calc(override_plan(), company(), "2026-Q1")
    assert line_amounts(result, "D1")["override"] == Decimal("15.00")
    assert line_amounts(result, "V1")["override"] == Decimal("1.50")


def test_an_override_on_the_reports_earnings_reads_their_rounded_lines() -> None:
    # R1 owns 3.33 USD: commission 0.333 rounds to 0.33; M1's override 10% × 0.33 = 0.033 -> 0.03
    result = calc(override_plan(), company(deals=[deal("X1", "R1", "3.33", "2026-02-10")]), "2026-Q1")
    assert line_amounts(result, "R1")["commission"] == Decimal("0.33")
    assert line_amounts(result, "M1")["override"] == Decimal("0.03")


def test_a_manager_with_no_reports_has_a_zero_override() -> None:
    result = calc(override_plan(), company(), "2026-Q1")
    assert line_amounts(result, "R1") == {"commission": Decimal("1000.00"), "override": Decimal("0.00")}


def test_reports_who_are_not_on_any_plan_add_nothing() -> None:
    # only M1 is assigned: R1 and R2 have no statements, so M1's override is 0.00
    result = calc(override_plan(), company(assignments=on_plan("test_plan", "M1")), "2026-Q1")
    assert line_amounts(result, "M1") == {"commission": Decimal("0.00"), "override": Decimal("0.00")}


# ------------------------------------------------------------------ deeper
def test_an_override_on_reports_two_levels_down_counts_both_levels() -> None:
    # D1, commission lines only: M1 0.00 (level 1) + R1 1,000.00 + R2 500.00 (level 2) = 1,500.00 -> 150.00
    result = calc(override_plan("reports 2 levels", "from components commission"), company(), "2026-Q1")
    assert line_amounts(result, "D1")["override"] == Decimal("150.00")
    # V1, two levels: D1 and M1, neither of whom owns a deal -> 0.00
    assert line_amounts(result, "V1")["override"] == Decimal("0.00")


def test_an_override_on_all_reports_reaches_every_level() -> None:
    # V1, commission lines of D1, M1, R1, R2: 1,500.00 -> 150.00
    result = calc(override_plan("all reports", "from components commission"), company(), "2026-Q1")
    assert {p: line_amounts(result, p)["override"] for p in PEOPLE} == {
        "R1": Decimal("0.00"),
        "R2": Decimal("0.00"),
        "M1": Decimal("150.00"),
        "D1": Decimal("150.00"),
        "V1": Decimal("150.00"),
    }


def test_an_override_on_all_reports_without_a_filter_also_counts_the_overrides_below() -> None:
    # observed: every line of every report counts, overrides included, so they compound.
    # M1: 10% × 1,500.00 = 150.00
    # D1: 10% × (M1 150.00 + R1 1,000.00 + R2 500.00) = 165.00
    # V1: 10% × (D1 165.00 + M1 150.00 + R1 1,000.00 + R2 500.00) = 181.50
    result = calc(override_plan("all reports"), company(), "2026-Q1")
    assert [line_amounts(result, p)["override"] for p in ("M1", "D1", "V1")] == [
        Decimal("150.00"),
        Decimal("165.00"),
        Decimal("181.50"),
    ]


# ------------------------------------------------------------------ filters
def test_from_components_counts_only_the_named_lines_of_the_reports() -> None:
    # reps also earn a 200 USD quarterly bonus, which the override leaves out: 1,500.00 × 10% = 150.00
    text = override_plan(source="from components commission") + '\ncomponent bonus "Bonus"\n  pays 200 USD\n'
    result = calc(text, company(), "2026-Q1")
    assert line_amounts(result, "R1")["bonus"] == Decimal("200.00")
    assert line_amounts(result, "M1")["override"] == Decimal("150.00")
    # with both components: (1,000.00 + 200.00) + (500.00 + 200.00) = 1,900.00 -> 190.00
    both = calc(text.replace("from components commission", "from components commission, bonus"), company(), "2026-Q1")
    assert line_amounts(both, "M1")["override"] == Decimal("190.00")


def test_from_plan_counts_only_the_reports_lines_under_that_plan() -> None:
    # R1 is on plan `rep` (10% commission: 1,000.00) and also on plan `spiffs` (250 USD);
    # M1 on plan `mgr` overrides from plan rep only: 10% × 1,000.00 = 100.00
    rep = header("rep") + COMMISSION
    spiffs = header("spiffs") + 'component spiff "Spiff"\n  pays 250 USD\n'
    mgr = override_plan(source="from plan rep", header=header("mgr"))
    assignments = [*on_plan("rep", "R1"), *on_plan("spiffs", "R1"), *on_plan("mgr", "M1")]
    data = company(deals=DEALS[:1], people=("R1", "M1"), reporting=all_year([("R1", "M1")]), assignments=assignments)
    result = calculate(compiled(rep, spiffs, mgr), data, "2026-Q1")
    assert {s.plan.id: s.total for s in result.statements if s.payee_id == "R1"} == {"rep": Decimal("1000.00"), "spiffs": Decimal("250.00")}
    assert line_amounts(result, "M1") == {"commission": Decimal("0.00"), "override": Decimal("100.00")}


def test_without_a_filter_the_reports_lines_under_every_plan_count() -> None:
    # as above without `from plan`: 10% × (1,000.00 + 250.00) = 125.00
    rep = header("rep") + COMMISSION
    spiffs = header("spiffs") + 'component spiff "Spiff"\n  pays 250 USD\n'
    mgr = override_plan(header=header("mgr"))
    assignments = [*on_plan("rep", "R1"), *on_plan("spiffs", "R1"), *on_plan("mgr", "M1")]
    data = company(deals=DEALS[:1], people=("R1", "M1"), reporting=all_year([("R1", "M1")]), assignments=assignments)
    assert line_amounts(calculate(compiled(rep, spiffs, mgr), data, "2026-Q1"), "M1")["override"] == Decimal("125.00")


# ------------------------------------------------------------------ who is a report: the team on the period's last day
def test_a_report_who_moved_mid_period_counts_for_the_manager_at_period_end() -> None:
    # R2 moves from M1 to M2 on 2026-02-15. Q1 ends on 2026-03-31, when R2 is M2's:
    # M1 10% × R1 1,000.00 = 100.00; M2 10% × R2 500.00 = 50.00 (all of R2's quarter)
    reporting = (
        ReportingLine("R1", "M1", d("2026-01-01"), None),
        ReportingLine("R2", "M1", d("2026-01-01"), d("2026-02-15")),
        ReportingLine("R2", "M2", d("2026-02-15"), None),
    )
    deals = [deal("X1", "R1", "10000", "2026-02-10"), deal("X2", "R2", "5000", "2026-01-20")]
    result = calc(override_plan(), company(deals, reporting, ("R1", "R2", "M1", "M2")), "2026-Q1")
    assert line_amounts(result, "M1")["override"] == Decimal("100.00")
    assert line_amounts(result, "M2")["override"] == Decimal("50.00")


def test_a_report_who_moves_the_day_after_period_end_still_counts_for_the_old_manager() -> None:
    # R2 moves on 2026-04-01: on 2026-03-31 R2 is still M1's -> M1 10% × 1,500.00 = 150.00, M2 0.00
    reporting = (
        ReportingLine("R1", "M1", d("2026-01-01"), None),
        ReportingLine("R2", "M1", d("2026-01-01"), d("2026-04-01")),
        ReportingLine("R2", "M2", d("2026-04-01"), None),
    )
    result = calc(override_plan(), company(DEALS, reporting, ("R1", "R2", "M1", "M2")), "2026-Q1")
    assert amounts(result, "M1", "M2") == {
        "M1": {"commission": Decimal("0.00"), "override": Decimal("150.00")},
        "M2": {"commission": Decimal("0.00"), "override": Decimal("0.00")},
    }


def test_each_period_uses_its_own_team() -> None:
    # R2 moves to M2 on 2026-04-01. Q2: R2 owns X3 8,000 (800.00) -> M2 80.00; M1 0.00
    reporting = (
        ReportingLine("R1", "M1", d("2026-01-01"), None),
        ReportingLine("R2", "M1", d("2026-01-01"), d("2026-04-01")),
        ReportingLine("R2", "M2", d("2026-04-01"), None),
    )
    deals = [*DEALS, deal("X3", "R2", "8000", "2026-05-05")]
    data = company(deals, reporting, ("R1", "R2", "M1", "M2"))
    q2 = calc(override_plan(), data, "2026-Q2")
    assert (line_amounts(q2, "M1")["override"], line_amounts(q2, "M2")["override"]) == (Decimal("0.00"), Decimal("80.00"))
    q1 = calc(override_plan(), data, "2026-Q1")
    assert (line_amounts(q1, "M1")["override"], line_amounts(q1, "M2")["override"]) == (Decimal("150.00"), Decimal("0.00"))


def test_a_cycle_in_the_reporting_lines_is_an_error_not_a_hang() -> None:
    # M1 reports to D1 and D1 to M1: each one's override needs the other's statement
    reporting = all_year([("R1", "M1"), ("M1", "D1"), ("D1", "M1")])
    with pytest.raises(EvaluationError, match="depends on itself through earnings of reports") as raised:
        calc(override_plan(), company(DEALS[:1], reporting, ("R1", "M1", "D1")), "2026-Q1")
    assert "D1" in str(raised.value) or "M1" in str(raised.value)


# ------------------------------------------------------------------ order never matters
def _sha_and_manager(data: Dataset, payees: Sequence[str] | None = None) -> tuple[str, dict[str, object]]:
    result = calculate(compiled(override_plan("all reports")), data, "2026-Q1", payees=payees)
    return result.result_sha256, statement_json(result.statement("V1"))


def test_a_managers_statement_is_the_same_whether_or_not_the_reports_are_calculated() -> None:
    # V1 alone (the book evaluates D1, M1, R1 and R2 on demand) = V1 among everyone
    data = company()
    alone = calculate(compiled(override_plan("all reports")), data, "2026-Q1", payees=["V1"])
    everyone = calculate(compiled(override_plan("all reports")), data, "2026-Q1")
    assert [s.payee_id for s in alone.statements] == ["V1"]
    assert statement_json(alone.statement("V1")) == statement_json(everyone.statement("V1"))
    assert line_amounts(alone, "V1")["override"] == Decimal("181.50")  # as in the compounding test above


@pytest.mark.parametrize("seed", range(6))
def test_the_order_of_payees_assignments_deals_and_reporting_lines_does_not_matter(seed: int) -> None:
    shuffle = random.Random(seed).shuffle
    data = company()
    people = list(data.payees.values())
    assignments, deals, lines = list(data.assignments), list(data.deals), list(data.reporting_lines)
    for items in (people, assignments, deals, lines):
        shuffle(items)
    shuffled = dataclasses.replace(
        data, payees={p.id: p for p in people}, assignments=tuple(assignments), deals=tuple(deals), reporting_lines=tuple(lines)
    )
    assert _sha_and_manager(shuffled) == _sha_and_manager(data)
    asked = list(PEOPLE)
    shuffle(asked)
    # asking for a subset, in any order, gives the same statements for those asked
    subset = asked[:3]
    result = calculate(compiled(override_plan("all reports")), shuffled, "2026-Q1", payees=subset)
    full = calculate(compiled(override_plan("all reports")), data, "2026-Q1")
    assert [statement_json(s) for s in result.statements] == [statement_json(full.statement(p)) for p in sorted(subset)]


# ------------------------------------------------------------------ plans on other periods
def test_a_report_on_a_plan_with_another_calculation_period_is_not_counted() -> None:
    # observed behaviour: lines are matched period for period. R1 is on a monthly plan (its
    # January statement pays 1,000.00), M1 on a quarterly one: no monthly statement covers
    # 2026-Q1, so M1's override over R1 is 0.00 (not even the quarter's first month counts).
    rep = header("rep", calculated="monthly") + COMMISSION
    mgr = override_plan(header=header("mgr"))
    deals = [deal("X1", "R1", "10000", "2026-01-10")]
    data = company(deals, all_year([("R1", "M1")]), ("R1", "M1"), [*on_plan("rep", "R1"), *on_plan("mgr", "M1")])
    plans = compiled(rep, mgr)
    assert line_amounts(calculate(plans, data, "2026-M01"), "R1") == {"commission": Decimal("1000.00")}
    assert line_amounts(calculate(plans, data, "2026-Q1"), "M1")["override"] == Decimal("0.00")


def test_a_report_on_a_plan_with_another_fiscal_year_is_not_counted() -> None:
    # observed behaviour: R1's plan is quarterly too but its year starts in February, so its
    # quarters (Nov-Jan, Feb-Apr, ...) are not M1's (Jan-Mar): nothing of R1 counts for M1,
    # not even R1's deal of 2026-01-10.
    rep = header("rep", fiscal="february") + COMMISSION
    mgr = override_plan(header=header("mgr"))
    data = company(
        [deal("X1", "R1", "10000", "2026-01-10")], all_year([("R1", "M1")]), ("R1", "M1"), [*on_plan("rep", "R1"), *on_plan("mgr", "M1")]
    )
    assert line_amounts(calculate(compiled(rep, mgr), data, "2026-Q1"), "M1")["override"] == Decimal("0.00")


def test_a_report_on_a_plan_with_the_same_periods_under_another_id_is_counted() -> None:
    # same quarters, different plan: R1 1,000.00 -> M1 100.00
    rep = header("rep") + COMMISSION
    mgr = override_plan(header=header("mgr"))
    data = company(DEALS[:1], all_year([("R1", "M1")]), ("R1", "M1"), [*on_plan("rep", "R1"), *on_plan("mgr", "M1")])
    assert line_amounts(calculate(compiled(rep, mgr), data, "2026-Q1"), "M1")["override"] == Decimal("100.00")


# ------------------------------------------------------------------ the trace
def test_an_override_trace_lists_the_reports_lines() -> None:
    result = calc(override_plan(), company(), "2026-Q1")
    statement = result.statement("M1")
    line = next(line for line in statement.lines if line.component.name == "override")
    node = build_line_trace(statement, line)
    assert verify(node) == []
    earnings = next(n for n in node.walk() if n.kind == "earnings")
    assert earnings.value == Decimal("1500.00")
    assert earnings.detail["lines"] == (
        ("R1", "test_plan", "commission", Decimal("1000.00")),
        ("R1", "test_plan", "override", Decimal("0.00")),
        ("R2", "test_plan", "commission", Decimal("500.00")),
        ("R2", "test_plan", "override", Decimal("0.00")),
    )
    text = explain_line(node)
    assert "R1 commission 1,000.00" in text
    assert "R2 commission 500.00" in text


def test_an_override_trace_lists_only_the_lines_the_filter_kept() -> None:
    result = calc(override_plan(source="from components commission"), company(), "2026-Q1")
    statement = result.statement("M1")
    line = next(line for line in statement.lines if line.component.name == "override")
    earnings = next(n for n in build_line_trace(statement, line).walk() if n.kind == "earnings")
    assert [(p, c) for p, _, c, _ in earnings.detail["lines"]] == [("R1", "commission"), ("R2", "commission")]


def test_an_override_naming_a_component_no_plan_has_is_pointed_out() -> None:
    from compengine.core.calculation import calculate
    from tests.support import HEADER, compile_text, dataset, payee

    plan = compile_text(
        HEADER
        + '\nmeasure below = earnings of direct reports from components comission\n\ncomponent override "Override"\n  pays 10% × below\n'
    )
    result = calculate([plan], dataset([payee("M1")]), "2026-Q1")
    assert result.notes == ("measure below of plan test_plan counts component 'comission', which no plan given has",)
