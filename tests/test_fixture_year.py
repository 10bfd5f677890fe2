"""The example company's fiscal year of payout cycles (the README's main job), on SQLite and
PostgreSQL, against the hand-worked figures in fixtures/year/EXPECTED.md."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from compengine.service.year import YearOutcome, run_year
from compengine.store.database import Database
from compengine.store.ledger import Entry
from tests.support import REPO

PLANS = sorted((REPO / "plans").glob("*.comp"))
COMPANY = REPO / "fixtures" / "company"
EVENTS = REPO / "fixtures" / "year"


@pytest.fixture
def year(database: Database, tmp_path: Path) -> YearOutcome:
    return run_year(database, PLANS, COMPANY, EVENTS, 2026, tmp_path / "payroll")


def _sum(entries: list[Entry], **match: object) -> Decimal:
    return sum((e.amount for e in entries if all(getattr(e, k) == v for k, v in match.items())), Decimal(0))


def test_every_quarter_of_the_year_is_closed_once(year: YearOutcome) -> None:
    assert [c.period for c in year.cycles] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert len({c.run.run_id for c in year.cycles}) == 4


def test_the_late_renewal_correction_is_paid_as_one_q1_adjustment_in_q2(year: YearOutcome) -> None:
    # D-5504 (P022's Q1 renewal) corrected from 96,018.00 to 126,018.00 after Q1 closed:
    # renewal attainment +10%, weighted +3%, curve +4.5%, bonus + 6,000.00 × 4.5% = 270.00.
    adjustments = [e for e in year.ledger if e.kind == "adjustment"]
    assert [(e.period, e.payee_id, e.component, e.adjusts_period, e.amount) for e in adjustments] == [
        ("2026-Q2", "P022", "attainment_bonus", "2026-Q1", Decimal("270.00"))
    ]
    # the bonus is attributed pro rata over the quarter's deals, so the difference is too
    attribution = dict(adjustments[0].attribution)
    assert sum(attribution.values()) == Decimal("270.00")
    assert attribution["D-5504"] > 0
    q2 = year.cycles[1]
    assert q2.run.adjustments == 1
    assert [x.report.new_versions for x in q2.loaded] == [{"deal": 1}]


def test_the_payroll_file_of_each_quarter_pays_what_the_ledger_paid(year: YearOutcome) -> None:
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for entry in year.ledger:
        if entry.kind == "payment":
            paid[(entry.period, entry.payee_id)] -= entry.amount
    for cycle in year.cycles:
        rows = cycle.payroll_file.read_text(encoding="utf-8").splitlines()[1:]
        for row in rows:
            payee_id, amount, currency, period, _refs = row.split(",")
            assert (period, currency) == (cycle.period, "USD")
            assert Decimal(amount) == paid[(period, payee_id)]


def test_every_run_of_the_year_replays_to_the_same_hashes(database: Database, year: YearOutcome) -> None:
    from compengine.service.cycles import PayoutCycles

    for cycle in year.cycles:
        replay = PayoutCycles(database).replay(cycle.run.run_id)
        assert replay.reproduces, replay.hashes
        assert replay.hashes["result_sha256"][0] == cycle.run.result_sha256


def test_a_replay_names_the_first_line_that_departs_from_the_record(database: Database, year: YearOutcome) -> None:
    from sqlalchemy import update

    from compengine.service.cycles import PayoutCycles
    from compengine.store.schema import run_lines

    q1 = year.cycles[0].run.run_id
    line_id = "2026-Q1/P022/account_manager/attainment_bonus"
    with database.transaction() as connection:  # tamper with the record, as a bad actor or a bad disk would
        connection.execute(update(run_lines).where(run_lines.c.run_id == q1, run_lines.c.line_id == line_id).values(amount="3685.77"))
    replay = PayoutCycles(database).replay(q1)
    assert not replay.reproduces
    assert replay.first_difference == f"line {line_id}: recorded 3685.77, replayed 3685.76"


def _paid(year: YearOutcome, payee_id: str) -> list[Decimal]:
    """What each quarter's close paid the payee."""
    return [-_sum(year.ledger, payee_id=payee_id, period=c.period, kind="payment") for c in year.cycles]


def _balances(year: YearOutcome) -> dict[tuple[str, str], Decimal]:
    found: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for entry in year.ledger:
        found[(entry.payee_id, entry.account)] += entry.amount
    return {key: amount for key, amount in found.items() if amount != 0}


def test_p022_is_paid_the_q1_correction_with_q2(year: YearOutcome) -> None:
    assert _paid(year, "P022") == [Decimal("5286.36"), Decimal("13191.50"), Decimal("6030.00"), Decimal("11700.00")]


def test_p009_holdback_is_held_each_quarter_and_released_at_year_end(year: YearOutcome) -> None:
    held = [_sum(year.ledger, payee_id="P009", period=c.period, kind="holdback", account="held:year_end") for c in year.cycles]
    assert held == [Decimal("4512.78"), Decimal("2240.00"), Decimal("5345.88"), Decimal("2280.00")]
    assert _sum(year.ledger, payee_id="P009", kind="release", account="held:year_end") == Decimal("-14378.66")
    assert _sum(year.ledger, payee_id="P009", period="2026-Q4", kind="release", account="payable") == Decimal("14378.66")


def test_p009_cancelled_deal_is_clawed_back_at_the_q3_close_and_nets_to_zero(year: YearOutcome) -> None:
    clawbacks = [e for e in year.ledger if e.kind == "clawback"]
    assert [(e.period, e.payee_id, e.deal_id, e.account, e.amount) for e in clawbacks] == [
        ("2026-Q3", "P009", "D-5104", "payable", Decimal("-11200.00"))
    ]
    reversed_line = next(e for e in year.ledger if e.kind == "earning" and e.movement == clawbacks[0].reverses)
    assert (reversed_line.period, reversed_line.component, dict(reversed_line.attribution)["D-5104"]) == (
        "2026-Q2",
        "new_business",
        Decimal("11200.00"),
    )
    earned = sum(dict(e.attribution).get("D-5104", Decimal(0)) for e in year.ledger if e.payee_id == "P009" and e.kind == "earning")
    assert earned + clawbacks[0].amount == 0
    # the evaluator ignores the cancellation: no prior-period adjustment reverses it a second time
    assert not any(e.kind == "adjustment" and e.payee_id == "P009" for e in year.ledger)


def test_p009_is_paid_earnings_less_the_clawback(year: YearOutcome) -> None:
    assert _paid(year, "P009") == [Decimal("19651.11"), Decimal("8960.00"), Decimal("10933.52"), Decimal("23498.66")]
    assert sum(_paid(year, "P009")) == Decimal("63043.29")


def test_p011_new_hire_draw_is_advanced_in_q3_and_partly_recovered_in_q4(year: YearOutcome) -> None:
    draw = [(e.period, e.kind, e.amount) for e in year.ledger if e.payee_id == "P011" and e.account == "draw:ramp_draw"]
    assert draw == [("2026-Q3", "draw", Decimal("-5610.00")), ("2026-Q4", "draw_recovery", Decimal("4660.27"))]
    assert _paid(year, "P011") == [Decimal("0"), Decimal("0"), Decimal("15000.00"), Decimal("16140.81")]


def test_year_end_balances_are_zero_except_the_new_hire_draw_still_outstanding(year: YearOutcome) -> None:
    assert _balances(year) == {("P011", "draw:ramp_draw"): Decimal("-949.73")}


def test_no_draw_for_an_ae_hired_before_the_plan_year(year: YearOutcome) -> None:
    # P010 earned 8,000.00 in Q1, well below 15,000.00, but was hired in 2023
    assert not any(e.account.startswith("draw:") and e.payee_id != "P011" for e in year.ledger)


def test_a_year_on_an_empty_database_only(database: Database, tmp_path: Path) -> None:
    from compengine.service.year import YearError

    run_year(database, PLANS, COMPANY, None, 2026, tmp_path / "a")
    with pytest.raises(YearError, match="empty database"):
        run_year(database, PLANS, COMPANY, None, 2026, tmp_path / "b")
