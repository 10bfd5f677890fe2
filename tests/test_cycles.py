"""Payout cycles on the system of record: open → calculate → approve → close, per period.

Each test runs on SQLite and on PostgreSQL (the `database` fixture) with the example company
loaded and its plans published.  The statement figures are the hand-worked ones the fixture
tests assert (tests/test_fixture_company.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select

from compengine import ENGINE_VERSION
from compengine.core.calculation import calculate, hash_json, statement_json
from compengine.core.plan import CompiledPlan
from compengine.io.csv_data import load_dataset
from compengine.lang.loader import load_plans
from compengine.lang.parser import grammar_text
from compengine.service.cycles import CycleError, PayoutCycles
from compengine.store import facts
from compengine.store.database import Database
from compengine.store.facts import as_known_at
from compengine.store.ledger import Entry
from compengine.store.plans import published_at
from compengine.store.runs import StoredLine, run_row, stored_trace, unpack_trace
from compengine.store.schema import cycles, ledger_entries, metadata, plan_versions, run_lines, runs
from tests.store_support import copy_company, count, edit_csv, publish_plans, rows_of, stepping_clock
from tests.support import COMPANY_DIR, PLANS_DIR
from tests.test_fixture_company import EXPECTED

Q1, Q2, Q3, Q4 = "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"
START = datetime(2026, 4, 2, 9, 0)
#: What the fixture tests assert for the first quarter: payee -> (total, {component: amount}).
EXPECTED_Q1 = {
    payee: (Decimal(total), {c: Decimal(a) for c, a in lines.items()})
    for (payee, period), (_, total, lines) in EXPECTED.items()
    if period == Q1
}


def company(db: Database) -> PayoutCycles:
    """The example company loaded and its plans published, on a clock that moves a minute a step."""
    db.clock = stepping_clock(START)
    facts.load(db, COMPANY_DIR)
    publish_plans(db)
    return PayoutCycles(db)


def close(service: PayoutCycles, period: str) -> int:
    service.open(period)
    service.calculate(period)
    run_id = service.approve(period)
    service.close(period)
    return run_id


def totals(lines: Iterable[StoredLine], kind: str = "earning") -> dict[str, Decimal]:
    found: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.kind == kind:
            found[line.payee_id] += line.amount
    return dict(found)


def by_component(lines: Iterable[StoredLine], payee_id: str, kind: str = "earning") -> dict[str, Decimal]:
    return {line.component: line.amount for line in lines if line.payee_id == payee_id and line.kind == kind}


def adjustments(lines: Iterable[StoredLine]) -> dict[tuple[str, str, str], StoredLine]:
    """Adjustment lines by (payee, component, period adjusted)."""
    found = {}
    for line in lines:
        if line.kind == "adjustment":
            assert line.adjusts_period is not None
            found[(line.payee_id, line.component, line.adjusts_period)] = line
    return found


def change_deal(db: Database, folder: Path, deal_id: str, **cells: str) -> None:
    edit_csv(folder / "deals.csv", "deal_id", deal_id, **cells)
    assert facts.load(db, folder).new_versions == {"deal": 1}


def snapshot(db: Database, period: str) -> dict[str, Any]:
    """Everything recorded for a period: its cycle, its runs and their lines, its ledger entries."""
    period_runs = [row for row in rows_of(db, runs) if row["period"] == period]
    ids = {row["id"] for row in period_runs}
    return {
        "cycle": [row for row in rows_of(db, cycles) if row["period"] == period],
        "runs": period_runs,
        "lines": [row for row in rows_of(db, run_lines) if row["run_id"] in ids],
        "ledger": [row for row in rows_of(db, ledger_entries) if row["period"] == period or row["run_id"] in ids],
    }


def migration_config() -> Config:
    """The Alembic configuration compengine migrates with (its scripts ship in the package)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("compengine.store").joinpath("migrations")))
    return config


def ledger_for(service: PayoutCycles, period: str) -> list[Entry]:
    return [entry for entry in service.ledger() if entry.period == period]


# ---------------------------------------------------------------------------------------------
def test_a_closed_quarter_reproduces_the_hand_worked_statements(database: Database) -> None:
    service = company(database)
    service.open(Q1)
    summary = service.calculate(Q1)
    run_id = service.approve(Q1)
    closed = service.close(Q1)

    assert run_id == summary.run_id == closed.run_id
    _, lines = service.lines(Q1)
    assert len(lines) == summary.lines == 60 and summary.adjustments == 0 and summary.statements == 28
    earned = totals(lines)
    for payee, (total, components) in EXPECTED_Q1.items():
        assert by_component(lines, payee) == components, payee
        assert earned[payee] == total, payee
    # the whole quarter, not just the hand-worked payees: what the engine computes from the CSV files
    from_files = calculate(load_plans([str(PLANS_DIR)]).plans, load_dataset(COMPANY_DIR), Q1)
    assert earned == {s.payee_id: s.total for s in from_files.statements}

    # Closing posts every line once, as an earning; per payee they add up to the statement total.
    entries = ledger_for(service, Q1)
    assert len(entries) == closed.entries and {(e.run_id, e.currency) for e in entries} == {(run_id, "USD")}
    earnings = [e for e in entries if e.kind == "earning"]
    assert sorted(e.line_id or "" for e in earnings) == sorted(line.line_id for line in lines)
    assert sum_by_payee(earnings) == earned
    # Every payee with something earned is paid; what a plan's pay policies hold back (a
    # holdback, a draw's recovery) stays on another account of theirs: the close's entries add up,
    # per payee, to what was earned less what was paid.  A plan without pay policies pays it all.
    paid = {payee: -amount for payee, amount in sum_by_payee(e for e in entries if e.kind == "payment").items()}
    assert closed.paid == {(payee, "USD"): amount for payee, amount in paid.items()}
    assert set(paid) == {payee for payee, total in earned.items() if total > 0}
    assert all(0 < paid[payee] <= earned[payee] for payee in paid)
    assert sum_by_payee(entries) == {payee: earned[payee] - paid.get(payee, Decimal(0)) for payee in earned}
    without_policies = {s.payee_id for s in from_files.statements if pays_in_full(s.plan)}
    assert {"P001", "P017", "P022", "P029", "P032"} <= without_policies
    assert {payee: paid[payee] for payee in without_policies} == {payee: earned[payee] for payee in without_policies}
    assert [row["status"] for row in rows_of(database, cycles)] == ["closed"]
    assert run_row_of(database, run_id)["status"] == "closed"


def pays_in_full(plan: CompiledPlan) -> bool:
    """A plan without pay policies: everything earned is paid when its period closes."""
    pay = getattr(plan, "pay", None)  # the pay policies are new; a plan without them pays in full
    return pay is None or (not (pay.draws or pay.holdbacks or pay.clawbacks) and pay.timing.value == "on booking")


def sum_by_payee(entries: Iterable[Entry]) -> dict[str, Decimal]:
    found: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        found[entry.payee_id] += entry.amount
    return dict(found)


def _published(db: Database) -> list[Any]:
    with db.reading() as connection:
        return published_at(connection, db.now()).versions


def run_row_of(db: Database, run_id: int) -> dict[str, Any]:
    with db.reading() as connection:
        return dict(run_row(connection, run_id)._mapping)


def test_a_run_records_everything_needed_to_replay_it(database: Database) -> None:
    service = company(database)
    service.open(Q1)
    knowledge_time = database.now()
    summary = service.calculate(Q1, as_of=date(2026, 4, 1), knowledge_time=knowledge_time)

    run = run_row_of(database, summary.run_id)
    assert (run["period"], run["status"], run["as_of"], run["knowledge_time"]) == (Q1, "draft", date(2026, 4, 1), knowledge_time)
    assert run["engine_version"] == ENGINE_VERSION
    assert run["grammar_sha256"] == hashlib.sha256(grammar_text().encode()).hexdigest()
    plans = {row["plan_id"]: row for row in rows_of(database, plan_versions)}
    assert json.loads(run["plans"]) == [
        {"plan": plan_id, "version": row["version"], "sha256": row["source_sha256"], "published_id": row["id"]}
        for plan_id, row in sorted(plans.items())
    ]
    assert json.loads(run["decimal_context"])["prec"] > 0
    with database.reading() as connection:
        known = as_known_at(connection, knowledge_time)
        versions = published_at(connection, knowledge_time)
        query = select(run_lines.c.trace).where(run_lines.c.run_id == summary.run_id).order_by(run_lines.c.seq)
        traces = [unpack_trace(blob) for blob in connection.execute(query).scalars()]
    assert run["input_sha256"] == hash_json({"facts": known.sha256, "plans": versions.record})
    replayed = calculate(versions.versions, known.dataset, Q1)
    statements = [statement_json(s) for s in replayed.statements]
    assert run["result_sha256"] == summary.result_sha256 == hash_json({"statements": statements, "adjustments": []})
    assert run["trace_sha256"] == hashlib.sha256("".join(hash_json(t) for t in traces).encode()).hexdigest()
    assert run["line_count"] == len(traces) == count(database, run_lines) == 60
    assert all(trace["format"] for trace in traces)


def test_a_draft_period_can_be_recalculated_and_approving_takes_the_latest_draft(database: Database) -> None:
    service = company(database)
    service.open(Q1)
    first = service.calculate(Q1)
    second = service.calculate(Q1)

    assert first.run_id != second.run_id
    one, two = run_row_of(database, first.run_id), run_row_of(database, second.run_id)
    for field in ("result_sha256", "input_sha256", "trace_sha256", "line_count", "plans"):
        assert one[field] == two[field], field
    assert first.result_sha256 == second.result_sha256
    assert [row["status"] for row in rows_of(database, cycles)] == ["calculated"]

    assert service.approve(Q1, first.run_id) == first.run_id  # a named draft may be approved ...
    assert service.approve(Q1) == second.run_id  # ... but by default the latest draft is
    assert (run_row_of(database, first.run_id)["status"], run_row_of(database, second.run_id)["status"]) == ("superseded", "approved")
    third = service.calculate(Q1)  # still open: recalculating after approval is allowed, and must be approved again
    with pytest.raises(CycleError, match="approve a run before closing it"):
        service.close(Q1)
    assert service.approve(Q1) == third.run_id
    assert service.close(Q1).run_id == third.run_id
    with pytest.raises(CycleError, match="not a draft run"):
        service.approve(Q2, first.run_id)


def test_a_period_must_be_open_calculated_and_approved_in_order(database: Database) -> None:
    service = company(database)
    with pytest.raises(CycleError, match="not open"):
        service.calculate(Q1)
    service.open(Q1)
    service.open(Q1)  # opening an open period again changes nothing
    with pytest.raises(CycleError, match="no draft run"):
        service.approve(Q1)
    with pytest.raises(CycleError, match="approve a run"):
        service.close(Q1)
    with pytest.raises(CycleError, match="not closed"):
        service.export(Q1)
    assert count(database, runs) == count(database, ledger_entries) == 0


def test_a_closed_period_cannot_be_calculated_approved_or_closed_again(database: Database) -> None:
    service = company(database)
    close(service, Q1)
    locked = snapshot(database, Q1)

    for attempt, message in (
        (lambda: service.calculate(Q1), "2026-Q1 is closed; late changes are paid as adjustments in the next open period"),
        (lambda: service.approve(Q1), "2026-Q1 is closed"),
        (lambda: service.close(Q1), "2026-Q1 is already closed"),
        (lambda: service.open(Q1), "2026-Q1 is closed; it cannot be opened again"),
    ):
        with pytest.raises(CycleError, match=message):
            attempt()
    assert snapshot(database, Q1) == locked  # (and after later corrections and closes: the next test)


def test_a_late_correction_is_paid_once_as_a_prior_period_adjustment(database: Database, tmp_path: Path) -> None:
    # D-5201 (P010, 2026-02-10) is booked at 200,000 ACV against a 600,000 annual quota: 33.3%,
    # all in the 4% tier, so Q1 paid P010 8,000.00 of new business commission.
    service = company(database)
    q1_run = close(service, Q1)
    locked, q1_export = snapshot(database, Q1), service.export(Q1)
    folder = copy_company(tmp_path)

    # Corrected after Q1 closed to 260,000: still below 50%, so Q1 should have paid
    # 260,000 × 4% = 10,400.00, and Q2 owes the difference, 2,400.00.
    change_deal(database, folder, "D-5201", acv="260000.00")
    service.open(Q2)
    q2_run = service.calculate(Q2).run_id
    _, q2_lines = service.lines(Q2)
    found = adjustments(q2_lines)
    p010 = found[("P010", "new_business", Q1)]
    assert (p010.amount, p010.currency, p010.adjusts_period, p010.adjusts_run_id) == (Decimal("2400.00"), "USD", Q1, q1_run)
    assert p010.attribution == (("D-5201", Decimal("2400.00")),)
    with database.reading() as connection:
        trace = stored_trace(connection, q2_run, p010.line_id)
    assert (trace["adjusts"], trace["closed_run"], trace["should_have_paid"], trace["posted"]) == (Q1, q1_run, "10400.00", "8000.00")
    # the managers the deal rolls up to are adjusted too, by exactly what Q1 now comes to
    recomputed = calculate(_published(database), load_dataset(folder), Q1)
    _, q1_lines = service.lines(Q1)
    for (payee, component, _), line in found.items():
        [statement] = [s for s in recomputed.statements if s.payee_id == payee]
        [now] = [x.amount for x in statement.lines if x.component.name == component]
        assert line.amount == now - by_component(q1_lines, payee)[component], (payee, component)
    assert {payee for payee, _, _ in found} == {"P010", "P029", "P028", "P001"}
    # Q2's own earnings count the corrected deal in the year to date: 260,000 → 510,000 crosses
    # 50% at 300,000, so 40,000 × 4% + 210,000 × 8% = 18,400.00 (it was 16,000.00).
    assert by_component(q2_lines, "P010")["new_business"] == Decimal("18400.00")
    service.approve(Q2)
    service.close(Q2)

    # Corrected again, after Q2 closed too, to 290,000: Q1 should have paid 11,600.00, so Q3
    # owes only the further 1,200.00 for Q1 (2,400.00 is already posted), and 1,200.00 for Q2
    # (290,000 → 540,000: 10,000 × 4% + 240,000 × 8% = 19,600.00, against 18,400.00 paid).
    change_deal(database, folder, "D-5201", acv="290000.00")
    service.open(Q3)
    q3 = service.calculate(Q3)
    _, q3_lines = service.lines(Q3)
    found = adjustments(q3_lines)
    assert (found[("P010", "new_business", Q1)].amount, found[("P010", "new_business", Q1)].adjusts_run_id) == (Decimal("1200.00"), q1_run)
    assert (found[("P010", "new_business", Q2)].amount, found[("P010", "new_business", Q2)].adjusts_run_id) == (Decimal("1200.00"), q2_run)
    service.approve(Q3)
    service.close(Q3)

    # every correction for Q1 is posted once: the ledger now has exactly what Q1 should have paid
    earned = [e for e in service.ledger("P010") if e.component == "new_business" and e.kind in ("earning", "adjustment")]
    posted_for_q1 = [e for e in earned if Q1 in (e.period, e.adjusts_period)]
    assert [(e.period, e.kind, e.amount) for e in posted_for_q1] == [
        (Q1, "earning", Decimal("8000.00")),
        (Q2, "adjustment", Decimal("2400.00")),
        (Q3, "adjustment", Decimal("1200.00")),
    ]
    assert posted_for_q1[1].run_id == q2_run and posted_for_q1[2].run_id == q3.run_id
    assert all(e.adjusts_period == Q1 for e in posted_for_q1[1:])
    service.open(Q4)
    assert adjustments(service.lines(Q4, service.calculate(Q4).run_id)[1]) == {}  # nothing more is owed
    # and through two corrections, three later runs and two later closes, Q1 never changed
    assert snapshot(database, Q1) == locked
    assert service.export(Q1) == q1_export


def test_a_draft_made_stale_by_another_close_cannot_pay_an_adjustment_twice(database: Database, tmp_path: Path) -> None:
    # Q2 and Q3 both calculated after the correction: both carry the 2,400.00 owed to Q1.
    # Once Q2 has closed and paid it, Q3's draft is stale: closing it used to pay it again.
    service = company(database)
    close(service, Q1)
    change_deal(database, copy_company(tmp_path), "D-5201", acv="260000.00")
    service.open(Q2)
    service.open(Q3)
    service.calculate(Q2)
    stale = service.calculate(Q3).run_id
    assert adjustments(service.lines(Q3, stale)[1])[("P010", "new_business", Q1)].amount == Decimal("2400.00")
    service.approve(Q2)
    service.close(Q2)
    service.approve(Q3)
    before = snapshot(database, Q3)

    with pytest.raises(CycleError) as refused:
        service.close(Q3)
    assert str(refused.value) == (
        f"run {stale} of 2026-Q3 is out of date: more was posted for 2026-Q1 since it was calculated; "
        "recalculate 2026-Q3 and approve the new run"
    )
    assert snapshot(database, Q3) == before  # nothing posted, still approved

    fresh = service.calculate(Q3).run_id
    assert ("P010", "new_business", Q1) not in adjustments(service.lines(Q3, fresh)[1])
    service.approve(Q3)
    service.close(Q3)
    q1_adjustments = [e.amount for e in service.ledger("P010") if e.kind == "adjustment" and e.adjusts_period == Q1]
    assert q1_adjustments == [Decimal("2400.00")]


def test_the_payroll_export_of_a_closed_period_is_deterministic(database: Database) -> None:
    service = company(database)
    service.open(Q1)
    service.calculate(Q1)
    service.approve(Q1)
    with pytest.raises(CycleError, match="2026-Q1 is not closed"):
        service.export(Q1)
    service.close(Q1)

    text = service.export(Q1)
    assert service.export(Q1) == text
    assert PayoutCycles(database).export(Q1) == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["payee_id", "amount", "currency", "period", "ledger_entries"]
    entries = ledger_for(service, Q1)
    paid = {payee: -amount for payee, amount in sum_by_payee(e for e in entries if e.kind == "payment").items()}
    assert {row["payee_id"]: Decimal(row["amount"]) for row in rows if Decimal(row["amount"])} == paid
    assert {row["payee_id"] for row in rows} == {e.payee_id for e in entries}
    for row in rows:
        assert (row["currency"], row["period"]) == ("USD", Q1)
        assert row["ledger_entries"] == ";".join(f"L{e.id}" for e in entries if e.payee_id == row["payee_id"])
    assert {row["payee_id"]: row["amount"] for row in rows}["P001"] == "32529.16"  # the hand-worked statement, paid in full
    with pytest.raises(CycleError, match="2026-Q2 is not closed"):
        service.export(Q2)


def test_the_migrations_create_exactly_the_schema_the_code_declares(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, metadata) == []
        head = ScriptDirectory.from_config(migration_config()).get_current_head()
        assert context.get_current_revision() == head


def test_an_existing_database_is_opened_without_migrating_or_losing_anything(
    database: Database, database_url: tuple[str, str | None]
) -> None:
    service = company(database)
    close(service, Q1)
    before = {table.name: rows_of(database, table) for table in metadata.sorted_tables}
    exported = service.export(Q1)
    database.dispose()

    for _ in range(2):
        reopened = Database(database_url[0], schema=database_url[1])
        assert {table.name: rows_of(reopened, table) for table in metadata.sorted_tables} == before
        with reopened.reading() as connection:
            assert MigrationContext.configure(connection).get_current_heads() == (
                ScriptDirectory.from_config(migration_config()).get_current_head(),
            )
        reopened.dispose()
    again = PayoutCycles(Database(database_url[0], schema=database_url[1], upgrade=False))
    assert again.export(Q1) == exported
    again.open(Q2)
    assert [row["status"] for row in again.status()] == ["closed", "open"]
    again.db.dispose()


def test_a_database_at_the_first_revision_is_upgraded_in_place(database_url: tuple[str, str | None]) -> None:
    url, schema = database_url
    old = Database(url, schema=schema, upgrade=False)
    with old.engine.begin() as connection:
        config = migration_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with old.transaction() as connection:
        row = {"plan_id": "sdr", "version": 1, "source_path": "sdr.comp", "source_text": "...", "libraries": "{}",
               "source_sha256": "a" * 64, "published_by": "ana", "published_at": START}  # fmt: skip
        connection.execute(insert(plan_versions), [row])
    old.dispose()

    upgraded = Database(url, schema=schema)
    assert [r["plan_id"] for r in rows_of(upgraded, plan_versions)] == ["sdr"]
    with upgraded.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    with upgraded.transaction() as connection:  # the same content twice is allowed now (a roll-back)
        connection.execute(insert(plan_versions), [dict(row, published_at=START + timedelta(hours=1))])
    assert count(upgraded, plan_versions) == 2
    upgraded.dispose()
