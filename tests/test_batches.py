"""Statements evaluated by several worker processes are the statements one process gives."""

from __future__ import annotations

import dataclasses
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from compengine.core.batches import _line_readers, evaluate, workers_for
from compengine.core.calculation import calculate, plan_work, statement_json
from compengine.core.data import Dataset, ReportingLine
from compengine.core.errors import EvaluationError
from compengine.io.csv_data import load_dataset
from compengine.lang.loader import load_plans
from compengine.service.cycles import PayoutCycles
from compengine.store import facts
from compengine.store.database import Database
from compengine.store.runs import run_row
from tests.store_support import publish_plans
from tests.support import COMPANY_DIR, HEADER, OWNER_BOOKINGS, PLANS_DIR, compile_text, d, dataset, deal, line_amounts, payee

PLANS = load_plans([str(path) for path in sorted(PLANS_DIR.glob("*.comp"))]).plans


@pytest.mark.parametrize("period", ["2026-Q1", "2026-Q4"])
def test_two_workers_give_the_statements_of_one_process_in_the_same_order(period: str) -> None:
    data = load_dataset(COMPANY_DIR)
    expected = calculate(PLANS, data, period)

    evaluated = evaluate(PLANS, data, period, statement_json, workers=2)

    assert evaluated.parts == [statement_json(s) for s in expected.statements]
    assert evaluated.notes == expected.notes


def test_one_worker_evaluates_in_this_process_with_the_same_result() -> None:
    data = load_dataset(COMPANY_DIR)

    evaluated = evaluate(PLANS, data, "2026-Q2", statement_json, workers=1)

    assert evaluated.parts == [statement_json(s) for s in calculate(PLANS, data, "2026-Q2").statements]


def test_an_error_in_a_worker_is_the_error_one_process_raises(tmp_path: Path) -> None:
    folder = tmp_path / "company"
    shutil.copytree(COMPANY_DIR, folder)
    quotas = (folder / "quotas.csv").read_text().splitlines(keepends=True)
    (folder / "quotas.csv").write_text("".join(line for line in quotas if not line.startswith("P009,")))
    data = load_dataset(folder)
    with pytest.raises(EvaluationError) as alone:
        calculate(PLANS, data, "2026-Q1")

    with pytest.raises(EvaluationError) as in_workers:
        evaluate(PLANS, data, "2026-Q1", statement_json, workers=2)

    assert str(in_workers.value) == str(alone.value)
    assert "P009" in str(alone.value)


def test_a_run_calculated_by_two_workers_seals_the_hashes_of_one(database: Database) -> None:
    facts.load(database, COMPANY_DIR)
    publish_plans(database)
    knowledge_time = database.now()
    alone, together = PayoutCycles(database, workers=1), PayoutCycles(database, workers=2)
    alone.open("2026-Q1")
    first = alone.calculate("2026-Q1", knowledge_time=knowledge_time).run_id
    second = together.calculate("2026-Q1", knowledge_time=knowledge_time).run_id

    with database.reading() as connection:
        hashes = [(run_row(connection, run).result_sha256, run_row(connection, run).trace_sha256) for run in (first, second)]
    assert hashes[0] == hashes[1]
    assert together.replay(second).reproduces


# ------------------------------------------------------------------ each worker credits its own payees
# R1 and R2 report to M1 in Q1; from April R1 reports to D1 and leads R3.  At the end of Q2
# R1 and M1 are both one level up (evaluated in the same round), yet M1's Q1 override needs
# R1's Q1 lines: with R1's team on another worker, M1's worker works R1's credits out itself.
# The override is capped at 160.00 a year, so M1's Q2 depends on what Q1 paid.
MOVES = (
    ReportingLine("R1", "M1", d("2026-01-01"), d("2026-04-01")),
    ReportingLine("R1", "D1", d("2026-04-01"), None),
    ReportingLine("R3", "R1", d("2026-04-01"), None),
    ReportingLine("R2", "M1", d("2026-01-01"), None),
    ReportingLine("M1", "D1", d("2026-01-01"), None),
)
OVERRIDE_PLAN = (
    HEADER
    + OWNER_BOOKINGS
    + """
measure below = earnings of direct reports

component commission "Commission"
  per credit of bookings
  rate 10%

component override "Override"
  pays 10% × below
  cap 160 USD per year
"""
)


def moving_company() -> Dataset:
    deals = [deal("X1", "R1", "10000", "2026-02-10"), deal("X2", "R2", "5000", "2026-03-20")]
    deals += [deal("X3", "R3", "2000", "2026-05-05"), deal("X4", "R2", "3000", "2026-05-10")]
    people = [payee(p) for p in ("R1", "R2", "R3", "M1", "D1")]
    return dataclasses.replace(dataset(people, deals), reporting_lines=MOVES)


def test_a_book_keeping_one_payee_works_out_a_reports_credits_when_their_lines_are_needed() -> None:
    # M1's Q1 override: 10% × (R1 1,000.00 + R2 500.00) = 150.00, though only M1's credits are kept
    plan = compile_text(OVERRIDE_PLAN)
    book, _ = plan_work([plan], moving_company(), "2026-Q1")
    book.keep_only({"M1"})
    statement = book.statement(plan.id, "M1", plan.header.calendar.parse("2026-Q1", plan.header.period_kind))
    assert statement is not None
    assert {line.component.name: line.amount for line in statement.lines} == {"commission": Decimal("0.00"), "override": Decimal("150.00")}


def test_two_workers_agree_with_one_process_when_a_report_moves_into_management() -> None:
    # Q2: M1's override reads R2 only, 10% × 300.00 = 30.00, capped at 160.00 - 150.00 paid in Q1 = 10.00;
    # R1's reads R3: 10% × 200.00 = 20.00
    plan = compile_text(OVERRIDE_PLAN)
    expected = calculate([plan], moving_company(), "2026-Q2")
    evaluated = evaluate([plan], moving_company(), "2026-Q2", statement_json, workers=2)
    assert evaluated.parts == [statement_json(s) for s in expected.statements]
    assert line_amounts(expected, "M1") == {"commission": Decimal("0.00"), "override": Decimal("10.00")}
    assert line_amounts(expected, "R1") == {"commission": Decimal("0.00"), "override": Decimal("20.00")}


def test_a_worker_is_sent_the_lines_of_whoever_ever_reported_to_its_payees_as_deep_as_the_plans_read() -> None:
    # direct reports only: D1's worker hears of M1 and R1 (its reports from April), not of R2
    book, _ = plan_work([compile_text(OVERRIDE_PLAN)], moving_company(), "2026-Q2")
    assert _line_readers(book, [{"R1", "R3", "D1"}, {"R2", "M1"}]) == [{"R1", "R3", "D1", "M1"}, {"R2", "M1", "R1"}]


def test_a_worker_is_sent_the_lines_of_every_level_below_when_a_plan_reads_all_reports() -> None:
    plan = compile_text(OVERRIDE_PLAN.replace("earnings of direct reports", "earnings of all reports"))
    book, _ = plan_work([plan], moving_company(), "2026-Q2")
    readers = _line_readers(book, [{"R1", "R3", "D1"}, {"R2", "M1"}])
    assert readers[0] == {"R1", "R2", "R3", "D1", "M1"}  # R2 reports to M1, who reports to D1


def test_no_lines_go_between_workers_when_no_plan_reads_its_reports_earnings() -> None:
    plan = compile_text(HEADER + OWNER_BOOKINGS + COMMISSION_ONLY)
    book, _ = plan_work([plan], moving_company(), "2026-Q2")
    assert _line_readers(book, [{"R1", "R3", "D1"}, {"R2", "M1"}]) == [set(), set()]


COMMISSION_ONLY = """
component commission "Commission"
  per credit of bookings
  rate 10%
"""


# ------------------------------------------------------------------ how many workers by default
@pytest.mark.parametrize(
    ("statements", "cores", "workers"),
    [(32, 2, 1), (499, 2, 1), (500, 2, 2), (10_000, 2, 2), (10_000, 1, 1), (10_000, 8, 8), (1_000, 8, 4)],
)
def test_by_default_each_core_gets_a_worker_with_at_least_250_statements(statements: int, cores: int, workers: int) -> None:
    assert workers_for(statements, cores) == workers


def test_left_to_choose_the_workers_gives_the_statements_of_one_process() -> None:
    data = load_dataset(COMPANY_DIR)
    evaluated = evaluate(PLANS, data, "2026-Q1", statement_json, workers=None)
    assert evaluated.parts == [statement_json(s) for s in calculate(PLANS, data, "2026-Q1").statements]
