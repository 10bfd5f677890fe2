"""Retracting a fact: a deal loaded by mistake, an assignment keyed on a wrong date.  A
retraction is a new version that withdraws the fact (with its reason); everything before it
is kept, and "as known at" a time before the retraction still sees the fact."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from compengine.core.errors import DataError
from compengine.service.cycles import PayoutCycles
from compengine.store.database import Database
from compengine.store.facts import as_known_at, load
from compengine.store.plans import publish
from compengine.store.schema import facts
from tests.records_support import (
    ASSIGNMENTS,
    all_rows,
    company_folder,
    count_rows,
    deal_row,
    deals_folder,
    plan_file,
    with_clock,
    write_csv,
)

T0 = datetime(2026, 4, 1, 9, 0)
D1 = deal_row("D1", "P1", "1000", "2026-02-10")
D2 = deal_row("D2", "P2", "2500.50", "2026-03-20")


@pytest.fixture
def db(database: Database, tmp_path: Path) -> Database:
    db = with_clock(database, T0)
    load(db, company_folder(tmp_path / "company", [D1, D2]))
    return db


def retractions(folder: Path, *rows: tuple[str, str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "retractions.csv", ("file", "key", "reason"), rows)
    return folder


def deal_ids(db: Database, at: datetime | None = None) -> list[str]:
    with db.reading() as connection:
        return sorted(d.id for d in as_known_at(connection, at or datetime(2100, 1, 1)).dataset.deals)


def test_a_deal_loaded_by_mistake_is_retracted_and_stays_in_the_history(db: Database, tmp_path: Path) -> None:
    before = all_rows(db, facts)
    report = load(db, retractions(tmp_path / "r", ("deals.csv", "D2", "booked twice in the CRM")))
    assert (report.new_versions, report.retracted) == ({}, {"deal": 1})
    assert deal_ids(db) == ["D1"]
    assert report.recorded_at is not None
    assert deal_ids(db, report.recorded_at - (report.recorded_at - T0) / 2) == ["D1", "D2"]  # known before the retraction
    after = all_rows(db, facts)
    assert after[: len(before)] == before  # nothing changed in place
    (tombstone,) = after[len(before) :]
    assert (tombstone["key"], tombstone["version"], tombstone["retraction"]) == ("D2", 2, "booked twice in the CRM")


def test_an_assignment_keyed_on_a_wrong_date_is_replaced_by_retracting_it_in_the_same_load(db: Database, tmp_path: Path) -> None:
    folder = retractions(tmp_path / "fix", ("assignments.csv", "P2|flat|2026-01-01", "P2 joined the plan on 1 February"))
    write_csv(folder / "assignments.csv", ASSIGNMENTS, [("P2", "flat", "2026-02-01", "", "10000", "USD")])
    report = load(db, folder)
    assert (report.new_versions, report.retracted) == ({"assignment": 1}, {"assignment": 1})
    with db.reading() as connection:
        starts = {(a.payee_id, a.start.isoformat()) for a in as_known_at(connection, datetime(2100, 1, 1)).dataset.assignments}
    assert starts == {("P1", "2026-01-01"), ("P2", "2026-02-01")}


def test_without_the_retraction_the_corrected_assignment_overlaps_the_wrong_one(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "fix"
    folder.mkdir()
    write_csv(folder / "assignments.csv", ASSIGNMENTS, [("P2", "flat", "2026-02-01", "", "10000", "USD")])
    with pytest.raises(DataError, match="payee P2 is already on plan flat then"):
        load(db, folder)


def test_a_retraction_row_that_names_no_current_fact_is_rejected_with_its_row_and_nothing_is_written(db: Database, tmp_path: Path) -> None:
    rows_before = count_rows(db, facts)
    with pytest.raises(DataError) as raised:
        load(db, retractions(tmp_path / "r", ("deals.csv", "D9", ""), ("orders.csv", "D1", ""), ("deals.csv", "D1", "")))
    assert [str(issue) for issue in raised.value.issues] == [
        "retractions.csv row 2, field key: deals.csv has no current fact 'D9' to retract (its key is deal_id)",
        "retractions.csv row 3, field file: 'orders.csv' is not a data file; write one of payees.csv, assignments.csv, quotas.csv, "
        "deals.csv, reporting_lines.csv, exchange_rates.csv, inputs.csv",
    ]
    assert count_rows(db, facts) == rows_before
    assert deal_ids(db) == ["D1", "D2"]


def test_retracting_a_payee_who_still_owns_deals_is_rejected_whole(db: Database, tmp_path: Path) -> None:
    rows_before = count_rows(db, facts)
    with pytest.raises(DataError, match="P2"):
        load(db, retractions(tmp_path / "r", ("payees.csv", "P2", "never hired")))
    assert count_rows(db, facts) == rows_before


def test_loading_a_retracted_row_again_restores_it_as_a_new_version(db: Database, tmp_path: Path) -> None:
    load(db, retractions(tmp_path / "r", ("deals.csv", "D2", "")))
    report = load(db, deals_folder(tmp_path / "again", [D2]))
    assert report.new_versions == {"deal": 1}
    assert deal_ids(db) == ["D1", "D2"]


def test_a_deal_retracted_after_its_period_closed_is_taken_back_as_an_adjustment(db: Database, tmp_path: Path) -> None:
    publish(db, str(plan_file(tmp_path / "plans")), "admin@example.com")
    service = PayoutCycles(db)
    service.open("2026-Q1")
    service.calculate("2026-Q1")
    service.approve("2026-Q1")
    service.close("2026-Q1")
    load(db, retractions(tmp_path / "r", ("deals.csv", "D2", "the customer never signed")))
    service.open("2026-Q2")
    run = service.calculate("2026-Q2")
    _, lines = service.lines("2026-Q2", run.run_id)
    # D2 paid P2 10% × 2,500.50 = 250.05 in Q1
    assert [(x.payee_id, x.adjusts_period, x.amount) for x in lines if x.kind == "adjustment"] == [("P2", "2026-Q1", Decimal("-250.05"))]
