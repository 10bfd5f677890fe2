"""Facts are bitemporal and append-only: every version is kept with the time it became known,
"as known at T" gives exactly what was known then, and nothing is updated or deleted.

Runs on SQLite always and on PostgreSQL when COMPENGINE_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from compengine.core.data import Dataset, RowRef
from compengine.core.errors import DataError
from compengine.io.csv_data import load_dataset
from compengine.store import facts as facts_store
from compengine.store.database import Database
from compengine.store.facts import as_known_at, load
from compengine.store.schema import facts, loads
from tests.records_support import (
    all_rows,
    company_folder,
    count_rows,
    data_folder,
    deal_row,
    deals_folder,
    payee_row,
    with_clock,
    write_csv,
)

T0 = datetime(2026, 4, 1, 9, 0)


@pytest.fixture
def db(database: Database) -> Database:
    return with_clock(database, T0)


def known(db: Database, at: datetime) -> Dataset:
    with db.reading() as connection:
        return as_known_at(connection, at).dataset


def deal_amounts(dataset: Dataset) -> dict[str, Decimal]:
    return {deal.id: deal.amount for deal in dataset.deals}


V1 = [deal_row("D1", "P1", "1000", "2026-02-10"), deal_row("D2", "P2", "2500.50", "2026-03-20")]
V2 = [deal_row("D1", "P1", "1200", "2026-02-10"), deal_row("D2", "P2", "2500.50", "2026-03-20")]


# ------------------------------------------------------------------ as known at T
def test_as_known_at_between_two_loads_gives_the_first_and_after_the_second_gives_the_correction(db: Database, tmp_path: Path) -> None:
    first = load(db, company_folder(tmp_path / "v1", V1))
    second = load(db, company_folder(tmp_path / "v2", V2))
    assert first.recorded_at is not None and second.recorded_at is not None
    assert first.recorded_at < second.recorded_at

    between = first.recorded_at + (second.recorded_at - first.recorded_at) / 2
    assert deal_amounts(known(db, first.recorded_at)) == {"D1": Decimal("1000"), "D2": Decimal("2500.50")}
    assert deal_amounts(known(db, between)) == {"D1": Decimal("1000"), "D2": Decimal("2500.50")}
    assert deal_amounts(known(db, second.recorded_at)) == {"D1": Decimal("1200"), "D2": Decimal("2500.50")}
    assert deal_amounts(known(db, second.recorded_at + timedelta(days=365))) == {"D1": Decimal("1200"), "D2": Decimal("2500.50")}


@pytest.mark.parametrize("at_once", [1, 2, 10_000])
def test_the_facts_as_known_are_the_dataset_their_folder_validates_to_row_references_and_all(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_once: int
) -> None:
    # facts are read a chunk at a time (1, 2 or all at once here): the same facts, in order,
    # each named by its own file and row
    folder = company_folder(tmp_path / "v1", [*V1, deal_row("D3", "P1", "75", "2026-03-01")])
    report = load(db, folder)
    assert report.recorded_at is not None
    monkeypatch.setattr(facts_store, "ROWS_READ_AT_ONCE", at_once)
    stored, loaded = known(db, report.recorded_at), load_dataset(folder)
    assert [deal.ref for deal in stored.deals] == [RowRef("deals.csv", 2), RowRef("deals.csv", 3), RowRef("deals.csv", 4)]
    assert stored.deals == loaded.deals
    assert (stored.payees, stored.assignments, stored.quotas) == (loaded.payees, loaded.assignments, loaded.quotas)
    assert (stored.reporting_lines, stored.exchange_rates, stored.inputs) == (loaded.reporting_lines, loaded.exchange_rates, loaded.inputs)


def test_as_known_at_before_the_first_load_knows_nothing(db: Database, tmp_path: Path) -> None:
    report = load(db, company_folder(tmp_path / "v1", V1))
    assert report.recorded_at is not None
    before = known(db, report.recorded_at - timedelta(microseconds=1))
    assert (dict(before.payees), before.deals, before.assignments) == ({}, (), ())


def test_the_fingerprint_of_what_was_known_changes_only_with_a_new_version(db: Database, tmp_path: Path) -> None:
    first = load(db, company_folder(tmp_path / "v1", V1))
    load(db, company_folder(tmp_path / "again", V1))  # nothing new
    second = load(db, company_folder(tmp_path / "v2", V2))
    assert first.recorded_at is not None and second.recorded_at is not None
    with db.reading() as connection:
        at_first = as_known_at(connection, first.recorded_at).sha256
        just_before_second = as_known_at(connection, second.recorded_at - timedelta(microseconds=1)).sha256
        at_second = as_known_at(connection, second.recorded_at).sha256
    assert at_first == just_before_second
    assert at_second != at_first


def test_the_fingerprint_takes_the_facts_in_character_order_whatever_the_databases_collation(db: Database, tmp_path: Path) -> None:
    # "B1" comes before "a1" by character code; a database created with en_US puts "a1" first
    load(db, company_folder(tmp_path / "v1", [deal_row("D1", "a1", "100", "2026-02-10")], payees=("a1", "B1")))
    if db.dialect == "postgresql":  # as if the database had been created with an en_US collation
        with db.transaction() as connection:
            connection.execute(text('ALTER TABLE facts ALTER COLUMN key TYPE varchar(1000) COLLATE "en-US-x-icu"'))
    expected = hashlib.sha256()
    for row in sorted(all_rows(db, facts), key=lambda row: (row["kind"], row["key"])):
        expected.update(f"{row['kind']}\0{row['key']}\0{row['version']}\0{row['content_sha256']}\n".encode())

    assert fingerprint(db, T0 + timedelta(days=1)) == expected.hexdigest()


def fingerprint(db: Database, at: datetime) -> str:
    with db.reading() as connection:
        return as_known_at(connection, at).sha256


# ------------------------------------------------------------------ append-only
def test_a_correction_is_a_new_version_and_the_first_version_is_left_exactly_as_it_was(db: Database, tmp_path: Path) -> None:
    load(db, company_folder(tmp_path / "v1", V1))
    before = all_rows(db, facts)
    load(db, company_folder(tmp_path / "v2", V2))
    after = all_rows(db, facts)

    assert after[: len(before)] == before  # every earlier row unchanged, in place
    added = after[len(before) :]
    assert [(row["kind"], row["key"], row["version"]) for row in added] == [("deal", "D1", 2)]
    assert json.loads(added[0]["content"])["amount"] == "1200"
    d1_versions = [json.loads(row["content"])["amount"] for row in after if row["kind"] == "deal" and row["key"] == "D1"]
    assert d1_versions == ["1000", "1200"]


def test_loads_only_ever_add_rows_even_when_a_folder_leaves_facts_out(db: Database, tmp_path: Path) -> None:
    counts = []
    load(db, company_folder(tmp_path / "v1", V1))
    counts.append((count_rows(db, loads), count_rows(db, facts)))
    load(db, deals_folder(tmp_path / "only_d1", [deal_row("D1", "P1", "1100", "2026-02-10")]))  # D2 left out
    counts.append((count_rows(db, loads), count_rows(db, facts)))
    load(db, company_folder(tmp_path / "v2", V2, payees=("P1", "P2")))
    counts.append((count_rows(db, loads), count_rows(db, facts)))

    # 2 payees + 2 assignments + 2 deals; then D1 v2; then D1 v3 (1100 -> 1200)
    assert counts == [(1, 6), (2, 7), (3, 8)]
    assert deal_amounts(known(db, datetime(2100, 1, 1))) == {"D1": Decimal("1200"), "D2": Decimal("2500.50")}


def test_a_deactivated_payee_keeps_every_version_and_their_deals(db: Database, tmp_path: Path) -> None:
    first = load(db, company_folder(tmp_path / "v1", V1))
    later = data_folder(tmp_path / "leaver", payees=[payee_row("P1"), payee_row("P2", terminated="2026-05-31")])
    second = load(db, later)
    assert second.new_versions == {"payee": 1}
    assert first.recorded_at is not None and second.recorded_at is not None

    before = known(db, first.recorded_at)
    after = known(db, second.recorded_at)
    assert before.payees["P2"].termination_date is None
    assert after.payees["P2"].termination_date == date(2026, 5, 31)
    assert [d.id for d in after.deals if d.owner == "P2"] == ["D2"]
    assert [a.payee_id for a in after.assignments if a.payee_id == "P2"] == ["P2"]
    p2_versions = [row["version"] for row in all_rows(db, facts) if row["kind"] == "payee" and row["key"] == "P2"]
    assert p2_versions == [1, 2]


# ------------------------------------------------------------------ all or nothing
@pytest.mark.parametrize("fork", [False, True], ids=["validated-here", "validated-in-a-forked-process"])
def test_a_file_with_invalid_rows_is_rejected_whole_listing_every_row_field_and_reason(
    db: Database, tmp_path: Path, fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_store, "FORK_FROM_ROWS", 0)  # fork even for a few rows
    load(db, company_folder(tmp_path / "v1", V1))
    before = (all_rows(db, loads), all_rows(db, facts))
    bad = company_folder(
        tmp_path / "bad",
        [
            deal_row("D1", "P1", "1300", "2026-02-10"),  # row 2: a good correction
            deal_row("D3", "P1", "1.2e3", "2026-02-11"),  # row 3: not a decimal
            deal_row("D4", "P2", "500", "2026-02-30"),  # row 4: not a date
            deal_row("D5", "P9", "700", "2026-03-01"),  # row 5: an owner nobody knows
        ],
    )

    with pytest.raises(DataError) as raised:
        load(db, bad, fork=fork)

    problems = {(issue.file, issue.row, issue.field) for issue in raised.value.issues}
    assert problems == {("deals.csv", 3, "amount"), ("deals.csv", 4, "close_date"), ("deals.csv", 5, "owner")}
    assert all(issue.reason for issue in raised.value.issues)
    message = str(raised.value)
    assert "3 problems" in message and "1.2e3" in message and "2026-02-30" in message and "P9" in message
    assert (all_rows(db, loads), all_rows(db, facts)) == before  # the good row 2 was not written either


def test_a_load_validated_in_a_forked_process_records_what_one_validated_here_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_store, "FORK_FROM_ROWS", 0)
    folder = company_folder(tmp_path / "v1", V1)
    here, forked = (with_clock(Database(f"sqlite:///{tmp_path / name}"), T0) for name in ("here.db", "forked.db"))

    load(here, folder)
    load(forked, folder, fork=True)

    assert all_rows(forked, facts) == all_rows(here, facts)
    assert [row["key"] for row in all_rows(forked, facts)] == ["P1", "P2", "P1|flat|2026-01-01", "P2|flat|2026-01-01", "D1", "D2"]


def test_a_partial_folder_is_validated_against_what_is_already_known(db: Database, tmp_path: Path) -> None:
    load(db, company_folder(tmp_path / "v1", V1))
    before = count_rows(db, facts)
    # P2 is known from the first load, P7 is not
    with pytest.raises(DataError) as raised:
        load(db, deals_folder(tmp_path / "day", [deal_row("D3", "P2", "10", "2026-03-01"), deal_row("D4", "P7", "10", "2026-03-01")]))
    assert [(i.file, i.row, i.field) for i in raised.value.issues] == [("deals.csv", 3, "owner")]
    assert count_rows(db, facts) == before


# ------------------------------------------------------------------ re-loading and merging
def test_reloading_the_same_data_records_nothing(db: Database, tmp_path: Path) -> None:
    folder = company_folder(tmp_path / "v1", V1)
    first = load(db, folder)
    counts = (count_rows(db, loads), count_rows(db, facts))

    again = load(db, folder)

    assert first.load_id is not None and first.total == 6
    assert (again.load_id, again.recorded_at, again.new_versions, again.total) == (None, None, {}, 0)
    assert (count_rows(db, loads), count_rows(db, facts)) == counts


def test_only_the_changed_deal_becomes_a_new_version(db: Database, tmp_path: Path) -> None:
    load(db, company_folder(tmp_path / "v1", V1))
    report = load(db, company_folder(tmp_path / "v2", V2))
    assert report.load_id is not None
    assert report.new_versions == {"deal": 1}
    newest = [row for row in all_rows(db, facts) if row["load_id"] == report.load_id]
    assert [(row["kind"], row["key"], row["version"], row["source_file"], row["source_row"]) for row in newest] == [
        ("deal", "D1", 2, "deals.csv", 2)
    ]


def test_a_deals_only_folder_merges_new_and_corrected_deals_over_what_is_known(db: Database, tmp_path: Path) -> None:
    first = load(db, company_folder(tmp_path / "v1", V1))
    day = deals_folder(tmp_path / "day", [deal_row("D3", "P1", "400", "2026-03-05"), deal_row("D2", "P2", "2600", "2026-03-20")])
    report = load(db, day)
    assert first.recorded_at is not None and report.recorded_at is not None

    assert report.new_versions == {"deal": 2}  # D3 first version, D2 second
    now = known(db, report.recorded_at)
    assert deal_amounts(now) == {"D1": Decimal("1000"), "D2": Decimal("2600"), "D3": Decimal("400")}
    assert sorted(now.payees) == ["P1", "P2"]  # payees and assignments carried over
    assert len(now.assignments) == 2
    assert deal_amounts(known(db, first.recorded_at)) == {"D1": Decimal("1000"), "D2": Decimal("2500.50")}


def test_leaving_out_an_empty_optional_column_is_the_same_data(db: Database, tmp_path: Path) -> None:
    load(db, company_folder(tmp_path / "v1", V1))  # payees.csv has an empty termination_date column
    folder = tmp_path / "no_termination_column"
    folder.mkdir()
    write_csv(folder / "payees.csv", ("payee_id", "name", "hire_date"), [payee_row("P1")[:3], payee_row("P2")[:3]])

    assert load(db, folder).load_id is None
