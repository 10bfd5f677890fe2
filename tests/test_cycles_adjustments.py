"""Prior-period adjustments, worked by hand on the flat 10% plan: when deals or the plan change
after a period closed, the next open period's run pays the difference between what the closed
period should have paid and what was posted for it, per payee and component, linked to both
runs, however far back, and never twice.

In 2026-Q1, P1's D1 of 1,000.00 pays 100.00 and P2's D2 of 2,500.50 pays 250.05.
Runs on SQLite always and on PostgreSQL when COMPENGINE_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from compengine.service.cycles import PayoutCycles
from compengine.store.database import Database
from compengine.store.facts import load
from compengine.store.plans import publish
from tests.records_support import FLAT_PLAN, Row, company_folder, deal_row, deals_folder, plan_file, with_clock

T0 = datetime(2026, 4, 1, 9, 0)
Q1, Q2, Q3, Q4 = "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"
D1 = deal_row("D1", "P1", "1000", "2026-02-10")
D2 = deal_row("D2", "P2", "2500.50", "2026-03-20")

#: (payee, period adjusted) -> (amount, run adjusted, attribution by deal)
Adjustments = dict[tuple[str, str], tuple[Decimal, int | None, tuple[tuple[str, Decimal], ...]]]


@pytest.fixture
def service(database: Database, tmp_path: Path) -> PayoutCycles:
    """P1 and P2 on the flat plan with D1 and D2 loaded."""
    db = with_clock(database, T0)
    load(db, company_folder(tmp_path / "data", [D1, D2]))
    publish(db, str(plan_file(tmp_path / "plans")), "admin@example.com")
    return PayoutCycles(db)


def close(service: PayoutCycles, period: str) -> int:
    service.open(period)
    service.calculate(period)
    run_id = service.approve(period)
    service.close(period)
    return run_id


def correct(service: PayoutCycles, folder: Path, *deals: Row) -> None:
    report = load(service.db, deals_folder(folder, deals))
    assert report.total == len(deals)


def adjustments(service: PayoutCycles, period: str, run_id: int) -> Adjustments:
    _, lines = service.lines(period, run_id)
    found: Adjustments = {}
    for line in lines:
        if line.kind == "adjustment":
            assert line.adjusts_period is not None and line.component == "commission"
            found[(line.payee_id, line.adjusts_period)] = (line.amount, line.adjusts_run_id, line.attribution)
    return found


def earnings(service: PayoutCycles, period: str, run_id: int) -> dict[str, Decimal]:
    _, lines = service.lines(period, run_id)
    return {line.payee_id: line.amount for line in lines if line.kind == "earning"}


def test_a_larger_deal_after_close_pays_the_difference_in_the_next_period_linked_to_both_runs(
    service: PayoutCycles, tmp_path: Path
) -> None:
    q1_run = close(service, Q1)
    correct(service, tmp_path / "late", deal_row("D1", "P1", "1500", "2026-02-10"))

    service.open(Q2)
    q2_run = service.calculate(Q2).run_id

    # Q1 should have paid P1 1,500.00 × 10% = 150.00; it paid 100.00
    assert adjustments(service, Q2, q2_run) == {("P1", Q1): (Decimal("50.00"), q1_run, (("D1", Decimal("50.00")),))}
    assert earnings(service, Q2, q2_run) == {"P1": Decimal("0.00"), "P2": Decimal("0.00")}
    service.approve(Q2)
    service.close(Q2)
    posted = [e for e in service.ledger("P1") if e.kind == "adjustment"]
    assert [(e.period, e.adjusts_period, e.amount, e.run_id, e.component) for e in posted] == [
        (Q2, Q1, Decimal("50.00"), q2_run, "commission")
    ]


def test_a_deal_moved_into_the_next_quarter_is_taken_back_from_q1_and_paid_in_q2(service: PayoutCycles, tmp_path: Path) -> None:
    q1_run = close(service, Q1)
    correct(service, tmp_path / "late", deal_row("D2", "P2", "2500.50", "2026-04-05"))

    service.open(Q2)
    q2_run = service.calculate(Q2).run_id

    assert earnings(service, Q2, q2_run) == {"P1": Decimal("0.00"), "P2": Decimal("250.05")}
    assert adjustments(service, Q2, q2_run) == {("P2", Q1): (Decimal("-250.05"), q1_run, (("D2", Decimal("-250.05")),))}


def test_a_plan_change_after_close_is_adjusted_in_the_next_period(service: PayoutCycles, tmp_path: Path) -> None:
    q1_run = close(service, Q1)
    richer = FLAT_PLAN.replace("version 1", "version 2").replace("rate 10%", "rate 12%")
    publish(service.db, str(plan_file(tmp_path / "plans_v2", richer)), "admin@example.com")

    service.open(Q2)
    q2_run = service.calculate(Q2).run_id

    # P1: 1,000.00 × 12% = 120.00, paid 100.00; P2: 2,500.50 × 12% = 300.06, paid 250.05
    assert adjustments(service, Q2, q2_run) == {
        ("P1", Q1): (Decimal("20.00"), q1_run, (("D1", Decimal("20.00")),)),
        ("P2", Q1): (Decimal("50.01"), q1_run, (("D2", Decimal("50.01")),)),
    }
    _, lines = service.lines(Q2, q2_run)
    assert {line.plan_version for line in lines} == {2}


def test_a_q1_change_found_after_q3_closed_is_adjusted_in_q4(service: PayoutCycles, tmp_path: Path) -> None:
    q1_run = close(service, Q1)
    close(service, Q2)
    close(service, Q3)
    correct(service, tmp_path / "late", deal_row("D2", "P2", "2000.50", "2026-03-20"))

    service.open(Q4)
    q4_run = service.calculate(Q4).run_id

    # Q1 should have paid P2 2,000.50 × 10% = 200.05; it paid 250.05. Q2 and Q3 are unchanged.
    assert adjustments(service, Q4, q4_run) == {("P2", Q1): (Decimal("-50.00"), q1_run, (("D2", Decimal("-50.00")),))}
    service.approve(Q4)
    service.close(Q4)
    posted = [(e.period, e.adjusts_period, e.amount, e.run_id) for e in service.ledger("P2") if e.kind == "adjustment"]
    assert posted == [(Q4, Q1, Decimal("-50.00"), q4_run)]


def test_an_adjustment_posted_once_is_not_owed_again(service: PayoutCycles, tmp_path: Path) -> None:
    q1_run = close(service, Q1)
    correct(service, tmp_path / "late", deal_row("D1", "P1", "1500", "2026-02-10"))
    q2_run = close(service, Q2)
    assert adjustments(service, Q2, q2_run) == {("P1", Q1): (Decimal("50.00"), q1_run, (("D1", Decimal("50.00")),))}

    service.open(Q3)
    first = service.calculate(Q3).run_id
    again = service.calculate(Q3).run_id

    assert adjustments(service, Q3, first) == adjustments(service, Q3, again) == {}
    assert [e.amount for e in service.ledger("P1") if e.kind == "adjustment"] == [Decimal("50.00")]


def test_a_correction_undone_after_its_adjustment_was_paid_is_reversed(service: PayoutCycles, tmp_path: Path) -> None:
    q1_run = close(service, Q1)
    correct(service, tmp_path / "up", deal_row("D1", "P1", "1500", "2026-02-10"))
    close(service, Q2)  # pays +50.00 for Q1
    correct(service, tmp_path / "back", D1)  # D1 was 1,000.00 after all

    service.open(Q3)
    q3_run = service.calculate(Q3).run_id

    # Q1 should have paid 100.00; 100.00 earned + 50.00 adjusted was posted for it
    assert adjustments(service, Q3, q3_run) == {("P1", Q1): (Decimal("-50.00"), q1_run, (("D1", Decimal("-50.00")),))}
    service.approve(Q3)
    service.close(Q3)
    for_q1 = [e.amount for e in service.ledger("P1") if e.kind in ("earning", "adjustment") and Q1 in (e.period, e.adjusts_period)]
    assert for_q1 == [Decimal("100.00"), Decimal("50.00"), Decimal("-50.00")]
    assert sum(for_q1) == Decimal("100.00")


def test_a_draft_calculated_before_a_correction_has_no_adjustment_and_a_new_draft_has_it(service: PayoutCycles, tmp_path: Path) -> None:
    q1_run = close(service, Q1)
    service.open(Q2)
    before = service.calculate(Q2).run_id
    correct(service, tmp_path / "late", deal_row("D1", "P1", "900", "2026-02-10"))
    after = service.calculate(Q2).run_id

    assert adjustments(service, Q2, before) == {}
    assert adjustments(service, Q2, after) == {("P1", Q1): (Decimal("-10.00"), q1_run, (("D1", Decimal("-10.00")),))}
    assert service.approve(Q2) == after
