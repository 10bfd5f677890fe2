"""Rules of the payout cycle beyond its state machine: periods close in calendar order, the
database itself refuses to post a movement twice, and the payroll file writes amounts as
money."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from compengine.service.cycles import CycleError, PayoutCycles
from compengine.store import ledger
from compengine.store.database import Database
from compengine.store.facts import load
from compengine.store.plans import publish
from tests.records_support import company_folder, deal_row, plan_file, with_clock

T0 = datetime(2026, 7, 1, 9, 0)
Q1, Q2, Q3 = "2026-Q1", "2026-Q2", "2026-Q3"


@pytest.fixture
def service(database: Database, tmp_path: Path) -> PayoutCycles:
    """P1 and P2 on the flat 10% plan; P1 books 1,000.00 in Q1 and 2,000.00 in Q2, P2 nothing."""
    db = with_clock(database, T0)
    deals = [deal_row("D1", "P1", "1000", "2026-02-10"), deal_row("D2", "P1", "2000", "2026-05-10")]
    load(db, company_folder(tmp_path / "data", deals))
    publish(db, str(plan_file(tmp_path / "plans")), "admin@example.com")
    return PayoutCycles(db)


def approved(service: PayoutCycles, period: str) -> None:
    service.open(period)
    service.calculate(period)
    service.approve(period)


def test_a_period_cannot_close_before_an_earlier_open_one(service: PayoutCycles) -> None:
    approved(service, Q1)
    approved(service, Q2)
    with pytest.raises(CycleError, match=r"2026-Q1 comes before 2026-Q2 and is not closed yet; close 2026-Q1 first"):
        service.close(Q2)
    assert service.ledger() == []  # refused having posted nothing
    service.close(Q1)
    service.close(Q2)
    assert [s["status"] for s in service.status()] == ["closed", "closed"]


def test_a_period_never_opened_does_not_hold_up_the_next(service: PayoutCycles) -> None:
    # a company that starts with compengine in Q2 closes Q2 without a Q1 cycle
    approved(service, Q2)
    assert service.close(Q2).paid == {("P1", "USD"): Decimal("200.00"), ("P2", "USD"): Decimal("0.00")}


def test_a_run_counts_the_deals_closed_by_its_as_of_date(service: PayoutCycles) -> None:
    service.open(Q1)
    before = service.calculate(Q1, as_of=date(2026, 2, 9))  # D1 closes on 2026-02-10
    on_the_day = service.calculate(Q1, as_of=date(2026, 2, 10))
    default = service.calculate(Q1)  # as of the period's last day
    amounts = [{line.payee_id: line.amount for line in service.lines(Q1, run.run_id)[1]} for run in (before, on_the_day, default)]
    assert [a["P1"] for a in amounts] == [Decimal("0.00"), Decimal("100.00"), Decimal("100.00")]
    assert service.replay(before.run_id).reproduces


def test_a_period_the_plans_do_not_have_cannot_be_opened(service: PayoutCycles) -> None:
    with pytest.raises(CycleError, match=r"'2026-Q5' is not a period of the published plans; write a quarter as 2026-Q1"):
        service.open("2026-Q5")
    assert service.status() == []


def test_operators_opening_the_same_period_at_once_all_succeed(service: PayoutCycles, database_url: tuple[str, str | None]) -> None:
    errors: list[Exception] = []

    def open_q3() -> None:
        db = Database(database_url[0], schema=database_url[1], upgrade=False)
        try:
            PayoutCycles(db).open(Q3)
        except Exception as error:  # collected and reported below
            errors.append(error)
        finally:
            db.dispose()

    threads = [threading.Thread(target=open_q3) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert [(s["period"], s["status"]) for s in service.status()] == [(Q3, "open")]


def test_the_database_refuses_the_same_movement_twice(service: PayoutCycles) -> None:
    approved(service, Q1)
    service.close(Q1)
    payment = next(e for e in service.ledger() if e.kind == "payment" and e.payee_id == "P1")
    with pytest.raises(IntegrityError), service.db.transaction() as connection:
        ledger.post(connection, [payment], 1, T0)
    assert sum(1 for e in service.ledger() if e.kind == "payment" and e.payee_id == "P1") == 1


def test_the_payroll_file_writes_every_amount_with_cents(service: PayoutCycles) -> None:
    approved(service, Q1)
    service.close(Q1)
    rows = [row.split(",")[:4] for row in service.export(Q1).splitlines()[1:]]
    assert rows == [["P1", "100.00", "USD", Q1], ["P2", "0.00", "USD", Q1]]
