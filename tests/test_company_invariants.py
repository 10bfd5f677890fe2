"""The engine's invariants, checked on every statement of the example company, every quarter."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest

from compengine.core.calculation import CalculationResult, calculate
from compengine.core.data import Dataset
from compengine.core.money import ZERO
from compengine.core.trace import build_line_trace, verify
from compengine.io.csv_data import load_dataset
from compengine.lang.loader import load_plans
from tests.support import COMPANY_DIR, PLANS_DIR

QUARTERS = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]


@pytest.fixture(scope="module")
def plans():  # type: ignore[no-untyped-def]
    loaded = load_plans([str(PLANS_DIR)])
    assert loaded.ok
    return loaded.plans


@pytest.fixture(scope="module")
def company() -> Dataset:
    return load_dataset(COMPANY_DIR)


@pytest.fixture(scope="module")
def results(plans, company: Dataset) -> dict[str, CalculationResult]:  # type: ignore[no-untyped-def]
    return {quarter: calculate(plans, company, quarter) for quarter in QUARTERS}


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_line_trace_re_adds_exactly(results: dict[str, CalculationResult], quarter: str) -> None:
    problems = [
        problem
        for statement in results[quarter].statements
        for line in statement.lines
        for problem in verify(build_line_trace(statement, line))
    ]
    assert problems == []


@pytest.mark.parametrize("quarter", QUARTERS)
def test_deal_attributions_add_up_to_each_line(results: dict[str, CalculationResult], quarter: str) -> None:
    for statement in results[quarter].statements:
        for line in statement.lines:
            assert sum((a.amount for a in line.attribution), ZERO) == line.amount, line.id


@pytest.mark.parametrize("quarter", QUARTERS)
def test_lines_add_up_to_each_statement_total(results: dict[str, CalculationResult], quarter: str) -> None:
    for statement in results[quarter].statements:
        assert sum((line.amount for line in statement.lines), ZERO) == statement.total


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_amount_is_rounded_to_the_plan_places(results: dict[str, CalculationResult], quarter: str) -> None:
    for statement in results[quarter].statements:
        quantum = statement.plan.header.rounding.quantum
        for line in statement.lines:
            assert isinstance(line.amount, Decimal) and line.amount == line.amount.quantize(quantum)


def test_the_company_pays_something_every_quarter(results: dict[str, CalculationResult]) -> None:
    for quarter in QUARTERS:
        assert sum((s.total for s in results[quarter].statements), ZERO) > 0


def test_shuffling_every_input_table_gives_the_same_result_hash(plans, company: Dataset, results) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    deals, assignments, quotas = list(company.deals), list(company.assignments), list(company.quotas)
    payees = list(company.payees.items())
    for items in (deals, assignments, quotas, payees):
        rng.shuffle(items)
    shuffled = replace(company, deals=tuple(deals), assignments=tuple(assignments), quotas=tuple(quotas), payees=dict(payees))
    again = calculate(plans, shuffled, "2026-Q3")
    assert again.result_sha256 == results["2026-Q3"].result_sha256


def test_the_same_inputs_give_the_same_hash_when_calculated_again(plans, company: Dataset, results) -> None:  # type: ignore[no-untyped-def]
    assert calculate(plans, company, "2026-Q2").result_sha256 == results["2026-Q2"].result_sha256
