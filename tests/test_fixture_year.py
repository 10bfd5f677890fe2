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


def test_a_year_on_an_empty_database_only(database: Database, tmp_path: Path) -> None:
    from compengine.service.year import YearError

    run_year(database, PLANS, COMPANY, None, 2026, tmp_path / "a")
    with pytest.raises(YearError, match="empty database"):
        run_year(database, PLANS, COMPANY, None, 2026, tmp_path / "b")
