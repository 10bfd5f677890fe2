"""Cycles under concurrency and failure, with real processes on one database.

Two processes closing the same period: exactly one wins.  Two processes closing two periods
that both carry the same adjustment: it is paid once.  A calculation killed (SIGKILL) half-way
through writing its lines: nothing of it remains, and calculating again simply works.  Each
test runs on SQLite (one file) and on PostgreSQL (one schema); every process opens its own
`Database` on it.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select, text

from compengine.core.calculation import calculate, hash_json, statement_json
from compengine.io.csv_data import load_dataset
from compengine.lang.loader import load_plans
from compengine.service.cycles import CycleError, PayoutCycles
from compengine.service.paying import pay_stage
from compengine.store.database import Database
from compengine.store.ledger import Entry
from compengine.store.runs import StoredLine
from compengine.store.schema import cycles, ledger_entries, metadata, run_lines, runs
from tests.store_support import copy_company, count, rows_of
from tests.support import COMPANY_DIR, PLANS_DIR
from tests.test_cycles import Q1, Q2, Q3, adjustments, change_deal, close, company

TIMEOUT = 60.0

#: A process that opens the database, says it is ready, waits for "go", then closes the period.
CLOSER = """
import sys
from compengine.service.cycles import CycleError, PayoutCycles
from compengine.store.database import Database

url, schema, period = sys.argv[1], sys.argv[2] or None, sys.argv[3]
service = PayoutCycles(Database(url, schema=schema))
print("ready", flush=True)
sys.stdin.readline()
try:
    summary = service.close(period)
except CycleError as error:
    print("refused", error, flush=True)
else:
    print("closed", summary.run_id, summary.entries, flush=True)
"""

#: A process that, told "go", opens (and so migrates) the database.
OPENER = """
import sys
from compengine.store.database import Database

url, schema = sys.argv[1], sys.argv[2] or None
print("ready", flush=True)
sys.stdin.readline()
Database(url, schema=schema).dispose()
print("opened", flush=True)
"""

#: A process that calculates a period (the test makes it pause half-way through writing).
CALCULATOR = """
import sys
from compengine.service.cycles import PayoutCycles
from compengine.store.database import Database

url, schema, period = sys.argv[1], sys.argv[2] or None, sys.argv[3]
print("calculated", PayoutCycles(Database(url, schema=schema)).calculate(period).run_id, flush=True)
"""


def start(script: str, database_url: tuple[str, str | None], period: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    url, schema = database_url
    return subprocess.Popen(
        [sys.executable, "-c", script, url, schema or "", period],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_for_line(process: subprocess.Popen[str], expected: str) -> None:
    """Read the process's output until the line `expected`; fail (killing it) after TIMEOUT."""
    assert process.stdout is not None
    deadline = time.monotonic() + TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=deadline - time.monotonic()):
                line = process.stdout.readline()
                if line.strip() == expected:
                    return
                if not line:
                    break
    process.kill()
    _, stderr = process.communicate()
    pytest.fail(f"the process never printed {expected!r}:\n{stderr}")


def race(processes: Sequence[subprocess.Popen[str]]) -> list[str]:
    """Start the processes at once, once every one is ready; their last lines, in order."""
    for process in processes:
        wait_for_line(process, "ready")
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, stderr
        results.append(stdout.strip().splitlines()[-1])
    return results


def test_processes_opening_a_new_database_at_once_all_find_it_migrated(database_url: tuple[str, str | None]) -> None:
    # Several servers or commands starting together on an empty database: one migrates it, the
    # others wait and find it up to date (on PostgreSQL they used to fail creating the tables).
    assert race([start(OPENER, database_url, Q1) for _ in range(2)]) == ["opened"] * 2
    db = Database(database_url[0], schema=database_url[1], upgrade=False)
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    db.dispose()


def test_two_processes_closing_the_same_period_exactly_one_wins(database: Database, database_url: tuple[str, str | None]) -> None:
    service = company(database)
    service.open(Q1)
    service.calculate(Q1)
    run_id = service.approve(Q1)

    outcomes = race([start(CLOSER, database_url, Q1), start(CLOSER, database_url, Q1)])

    assert sorted(outcome.split()[0] for outcome in outcomes) == ["closed", "refused"], outcomes
    [won] = [outcome for outcome in outcomes if outcome.startswith("closed")]
    [lost] = [outcome for outcome in outcomes if outcome.startswith("refused")]
    assert lost == "refused 2026-Q1 is already closed"
    _, closed_run, entries = won.split()
    assert int(closed_run) == run_id
    _, lines = service.lines(Q1)
    posted = rows_of(database, ledger_entries)
    assert len(posted) == int(entries)  # the winner's entries, once
    assert sorted(row["line_id"] for row in posted if row["kind"] == "earning") == sorted(line.line_id for line in lines)
    assert len({(row["movement"], row["account"]) for row in posted}) == len(posted)  # no movement twice
    assert [(row["status"], row["closed_run_id"]) for row in rows_of(database, cycles)] == [("closed", run_id)]


def test_two_periods_closing_at_once_pay_a_shared_adjustment_once(
    database: Database, database_url: tuple[str, str | None], tmp_path: Path
) -> None:
    # Q2 and Q3 are both calculated after a late Q1 correction, so both carry the 2,400.00 owed
    # to P010 for Q1; closed at the same moment, one pays it and the other (its draft now stale)
    # must be refused.  Before the fix both closed (on PostgreSQL) and it was paid twice.
    service = company(database)
    close(service, Q1)
    change_deal(database, copy_company(tmp_path), "D-5201", acv="260000.00")
    stale = {}
    for period in (Q2, Q3):
        service.open(period)
        stale[period] = service.calculate(period).run_id
        assert adjustments(service.lines(period, stale[period])[1])[("P010", "new_business", Q1)].amount == 2400
        service.approve(period)

    outcomes = race([start(CLOSER, database_url, Q2), start(CLOSER, database_url, Q3)])

    assert sorted(outcome.split()[0] for outcome in outcomes) == ["closed", "refused"], outcomes
    [loser] = [period for period, outcome in zip((Q2, Q3), outcomes, strict=True) if outcome.startswith("refused")]
    # Periods close in calendar order, so Q3 is the one refused: because Q2 is not closed yet
    # when it looks, or because Q2's close has since paid the adjustment its draft carries.
    assert loser == Q3
    assert outcomes[1] in (
        f"refused run {stale[Q3]} of {Q3} is out of date: more was posted for 2026-Q1 since it was calculated; "
        f"recalculate {Q3} and approve the new run",
        f"refused {Q2} comes before {Q3} and is not closed yet; close {Q2} first (periods close in order)",
    ), outcomes
    assert [row["status"] for row in rows_of(database, cycles) if row["period"] == loser] == ["approved"]
    assert [row for row in rows_of(database, ledger_entries) if row["period"] == loser] == []  # nothing of it posted

    paid_for_q1 = [e.amount for e in service.ledger("P010") if e.kind == "adjustment" and e.adjusts_period == Q1]
    assert paid_for_q1 == [Decimal("2400.00")]


def test_a_calculation_killed_half_way_leaves_nothing_and_can_be_run_again(
    database: Database, database_url: tuple[str, str | None]
) -> None:
    service = company(database)
    service.open(Q1)
    application = f"compengine-test-{uuid.uuid4().hex[:12]}"
    env = {"COMPENGINE_TEST_PAUSE_WRITES": "30", "PGAPPNAME": application}
    calculator = start(CALCULATOR, database_url, Q1, env)

    wait_for_line(calculator, "writing run lines")  # inside the write transaction, lines half written
    if database.dialect == "postgresql":
        assert backends(database, application) == 1
    os.kill(calculator.pid, signal.SIGKILL)
    calculator.communicate(timeout=TIMEOUT)
    assert calculator.returncode == -signal.SIGKILL
    if database.dialect == "postgresql":  # the server notices the connection is gone and rolls back
        deadline = time.monotonic() + TIMEOUT
        while backends(database, application) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert backends(database, application) == 0

    assert count(database, runs) == count(database, run_lines) == 0
    assert [row["status"] for row in rows_of(database, cycles)] == ["open"]

    again = service.calculate(Q1)
    expected = calculate(load_plans([str(PLANS_DIR)]).plans, load_dataset(COMPANY_DIR), Q1)
    assert again.result_sha256 == hash_json({"statements": [statement_json(s) for s in expected.statements], "adjustments": []})
    assert (again.lines, count(database, runs), count(database, run_lines)) == (60, 1, 60)
    service.approve(Q1)
    assert service.close(Q1).run_id == again.run_id
    with pytest.raises(CycleError, match="closed"):
        service.calculate(Q1)


def backends(db: Database, application: str) -> int:
    with db.reading() as connection:
        query = select(func.count()).select_from(text("pg_stat_activity")).where(text("application_name = :name"))
        return int(connection.execute(query, {"name": application}).scalar_one())


def test_approving_while_the_period_closes_cannot_reopen_it(database: Database, database_url: tuple[str, str | None]) -> None:
    # A close is held half-way (in its pay stage, the cycle already claimed) while another
    # connection approves a newer draft of the same period.  The approval must wait for the
    # close and then be refused; it used to go through on PostgreSQL and set the closed
    # period back to "approved" (or deadlock with the close), ready to be closed and paid again.
    service = company(database)
    service.open(Q1)
    first = service.calculate(Q1).run_id
    newer = service.calculate(Q1).run_id
    service.approve(Q1, first)
    paying, finish = threading.Event(), threading.Event()

    def held_pay(connection: Connection, period: str, lines: Sequence[StoredLine], now: datetime) -> list[Entry]:
        paying.set()
        assert finish.wait(TIMEOUT)
        return pay_stage(connection, period, lines, now)

    outcomes: dict[str, Any] = {}

    def run(name: str, action: Any) -> None:
        db = Database(database_url[0], schema=database_url[1], upgrade=False)
        try:
            outcomes[name] = action(db)
        except Exception as error:  # reported by the assertions below
            outcomes[name] = error
        finally:
            db.dispose()

    closer = threading.Thread(target=run, args=("close", lambda db: PayoutCycles(db, held_pay).close(Q1)))
    approver = threading.Thread(target=run, args=("approve", lambda db: PayoutCycles(db).approve(Q1)))
    closer.start()
    assert paying.wait(TIMEOUT)
    approver.start()
    time.sleep(0.5)  # the approval is now waiting for the close
    finish.set()
    closer.join(TIMEOUT)
    approver.join(TIMEOUT)

    assert not isinstance(outcomes["close"], Exception), outcomes["close"]
    assert outcomes["close"].run_id == first
    assert isinstance(outcomes["approve"], CycleError) and str(outcomes["approve"]) == "2026-Q1 is closed"
    [cycle] = rows_of(database, cycles)
    assert (cycle["status"], cycle["approved_run_id"], cycle["closed_run_id"]) == ("closed", first, first)
    assert {row["id"]: row["status"] for row in rows_of(database, runs)} == {first: "closed", newer: "draft"}
    with pytest.raises(CycleError, match="already closed"):
        service.close(Q1)
