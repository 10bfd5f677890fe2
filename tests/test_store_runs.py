"""Sealed runs on the database: lines are written in bulk (a handful of statements however
many lines, COPY on PostgreSQL), every line keeps its trace, and the same plan and inputs
seal the same hashes on SQLite and on PostgreSQL.

The plan pays 10% of every deal its owner books: P1's D1 of 1,000.00 pays 100.00 and P2's D2
of 2,500.50 pays 250.05 in 2026-Q1.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from compengine.service.cycles import PayoutCycles
from compengine.store import runs as store_runs
from compengine.store.database import Database, drop_schema_for_tests, reset_schema_for_tests
from compengine.store.facts import load
from compengine.store.plans import publish
from compengine.store.runs import LineRow, RunRecord, SealedTrace, run_row, stored_lines, stored_trace, write_run
from compengine.store.schema import attribution_text, run_lines
from tests.conftest import POSTGRES_SKIP, POSTGRES_URL
from tests.records_support import company_folder, count_rows, deal_row, deals_folder, plan_file, stepping_clock, with_clock

T0 = datetime(2026, 4, 1, 9, 0)
Q1, Q2 = "2026-Q1", "2026-Q2"
DEALS = [deal_row("D1", "P1", "1000", "2026-02-10"), deal_row("D2", "P2", "2500.50", "2026-03-20")]


@pytest.fixture
def db(database: Database) -> Database:
    return with_clock(database, T0)


@contextmanager
def counting_statements(db: Database) -> Iterator[list[str]]:
    """Every statement SQLAlchemy sends to the database while the block runs (an executemany
    of a whole batch counts once)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def synthetic_run(lines: int) -> tuple[RunRecord, list[LineRow]]:
    record = RunRecord(Q1, date(2026, 3, 31), T0, "test", "0" * 64, {"prec": 34}, [], "1" * 64, "2" * 64, "3" * 64)
    rows = [
        LineRow(
            f"{Q1}/P{i}/flat/commission",
            f"P{i}",
            "flat",
            1,
            "commission",
            "earning",
            Decimal(i) / 100,
            "USD",
            attribution_text([(f"D{i}", Decimal(i) / 100)]),
            SealedTrace.of({"format": "test/1", "line": i}),
        )
        for i in range(1, lines + 1)
    ]
    return record, rows


def write_counting(db: Database, lines: int) -> tuple[int, list[str]]:
    record, rows = synthetic_run(lines)
    with db.transaction() as connection, counting_statements(db) as seen:
        run_id = write_run(connection, record, rows, T0)
    return run_id, seen


# ------------------------------------------------------------------ bulk writes
def test_writing_12001_lines_takes_one_statement_per_5000_lines_not_one_per_line(db: Database) -> None:
    run_id, seen = write_counting(db, 12_001)

    line_inserts = [s for s in seen if "run_lines" in s]
    if db.dialect == "postgresql":
        assert line_inserts == []  # the lines went through COPY, outside SQLAlchemy's statements
    else:
        assert len(line_inserts) == 3  # 5000 + 5000 + 2001, each one executemany
    assert len(seen) == 1 + len(line_inserts)  # the run itself, then the lines
    assert count_rows(db, run_lines) == 12_001
    with db.reading() as connection:
        assert run_row(connection, run_id).line_count == 12_001
        assert stored_trace(connection, run_id, f"{Q1}/P12001/flat/commission") == {"format": "test/1", "line": 12001}
        last = stored_lines(connection, run_id, "P12001")
    assert [(line.seq, line.amount, line.attribution) for line in last] == [(12_001, Decimal("120.01"), (("D12001", Decimal("120.01")),))]


def test_the_statements_for_a_run_do_not_grow_with_its_lines(db: Database) -> None:
    _, few = write_counting(db, 10)
    _, many = write_counting(db, 4_999)
    assert len(few) == len(many)


def test_on_postgresql_run_lines_are_written_with_copy(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    if db.dialect != "postgresql":
        pytest.skip("COPY is PostgreSQL's bulk path; SQLite uses executemany (the test above)")
    copies: list[int] = []
    original = store_runs._copy

    def spy(connection: Any, rows: list[tuple[Any, ...]]) -> None:
        copies.append(len(rows))
        original(connection, rows)

    monkeypatch.setattr(store_runs, "_copy", spy)
    write_counting(db, 7_000)
    assert copies == [7_000]
    assert count_rows(db, run_lines) == 7_000


def test_calculating_ten_times_the_payees_issues_no_more_statements(db: Database, tmp_path: Path) -> None:
    def statements_for(payees: int, name: str) -> int:
        folder = company_folder(
            tmp_path / name, [deal_row(f"D{i}", f"P{i}", "1000", "2026-02-10") for i in range(payees)], [f"P{i}" for i in range(payees)]
        )
        load(db, folder)
        service = PayoutCycles(db)
        service.open(name)
        with counting_statements(db) as seen:
            service.calculate(name)
        return len(seen)

    publish(db, str(plan_file(tmp_path / "plans")), "admin@example.com")
    assert statements_for(3, Q1) == statements_for(30, Q2)


# ------------------------------------------------------------------ traces
def test_every_stored_line_keeps_its_trace_down_to_the_deal(db: Database, tmp_path: Path) -> None:
    load(db, company_folder(tmp_path / "data", DEALS))
    publish(db, str(plan_file(tmp_path / "plans")), "admin@example.com")
    service = PayoutCycles(db)
    service.open(Q1)
    run_id = service.calculate(Q1).run_id

    with db.reading() as connection:
        lines = stored_lines(connection, run_id)
        traces = {line.payee_id: stored_trace(connection, run_id, line.line_id) for line in lines}
    assert {line.payee_id: line.amount for line in lines} == {"P1": Decimal("100.00"), "P2": Decimal("250.05")}
    assert traces["P2"]["format"] == "compengine.trace/1"
    root = traces["P2"]["trace"]
    assert Decimal(root["value"]) == Decimal("250.05")
    assert "D2" in repr(root) and "D1" not in repr(root)


# ------------------------------------------------------------------ the same on both databases
@pytest.mark.skipif(POSTGRES_SKIP is not None, reason=POSTGRES_SKIP or "")
def test_the_same_plan_and_inputs_seal_the_same_hashes_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    reset_schema_for_tests(POSTGRES_URL, schema)
    plan = plan_file(tmp_path / "plans")
    first = company_folder(tmp_path / "data", DEALS)
    correction = deals_folder(tmp_path / "late", [deal_row("D1", "P1", "1500", "2026-02-10"), deal_row("D3", "P2", "99.99", "2026-05-02")])
    sealed: dict[str, list[tuple[str, str, str, str]]] = {}
    try:
        for name, url, in_schema in (("sqlite", f"sqlite:///{tmp_path / 'x.db'}", None), ("postgresql", POSTGRES_URL, schema)):
            db = Database(url, clock=stepping_clock(T0), schema=in_schema)
            try:
                load(db, first)
                publish(db, str(plan), "admin@example.com")
                service = PayoutCycles(db)
                service.open(Q1)
                q1 = service.calculate(Q1).run_id
                service.approve(Q1)
                service.close(Q1)
                load(db, correction)
                service.open(Q2)
                q2 = service.calculate(Q2).run_id  # Q2's own lines, and an adjustment for Q1
                with db.reading() as connection:
                    rows = [run_row(connection, run_id) for run_id in (q1, q2)]
                sealed[name] = [(r.input_sha256, r.result_sha256, r.trace_sha256, str(r.line_count)) for r in rows]
            finally:
                db.dispose()
    finally:
        drop_schema_for_tests(POSTGRES_URL, schema)

    assert sealed["sqlite"] == sealed["postgresql"]
    assert sealed["sqlite"][1][3] == "3"  # P1 0.00 and P2 10.00 in Q2, P1 +50.00 for Q1
