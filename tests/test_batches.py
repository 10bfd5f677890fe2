"""Statements evaluated by several worker processes are the statements one process gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compengine.core.batches import evaluate
from compengine.core.calculation import calculate, statement_json
from compengine.core.errors import EvaluationError
from compengine.io.csv_data import load_dataset
from compengine.lang.loader import load_plans
from compengine.service.cycles import PayoutCycles
from compengine.store import facts
from compengine.store.database import Database
from compengine.store.runs import run_row
from tests.store_support import publish_plans
from tests.support import COMPANY_DIR, PLANS_DIR

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
