"""Facts are bitemporal and append-only, shown on the whole example company (537 deals).

Every version is kept with the time it became known; "as known at T" reads back exactly the
data the CSV files gave.  Each test runs on SQLite and on PostgreSQL (the `database`
fixture); a test that needs a change edits a private copy of fixtures/company.
(tests/test_store_facts.py shows the same rules on small hand-made folders.)
"""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from compengine.core.data import Dataset
from compengine.core.errors import DataError
from compengine.io.csv_data import FILES, load_dataset
from compengine.store import facts
from compengine.store.database import Database
from compengine.store.facts import FACT_KEYS, KnownFacts, as_known_at
from compengine.store.schema import facts as facts_table
from compengine.store.schema import loads
from tests.store_support import copy_company, count, csv_rows, edit_csv, rows_of, write_csv
from tests.support import COMPANY_DIR

MICROSECOND = timedelta(microseconds=1)


def known_at(db: Database, moment: datetime) -> KnownFacts:
    with db.reading() as connection:
        return as_known_at(connection, moment)


def versions(db: Database, kind: str, key: str) -> list[tuple[int, dict[str, str]]]:
    with db.reading() as connection:
        query = select(facts_table.c.version, facts_table.c.content).where(facts_table.c.kind == kind, facts_table.c.key == key)
        return [(version, json.loads(content)) for version, content in connection.execute(query.order_by(facts_table.c.version))]


def deal_amount(known: KnownFacts, deal_id: str) -> Decimal:
    [deal] = [d for d in known.dataset.deals if d.id == deal_id]
    return deal.amount


def rows_in_company() -> dict[str, int]:
    return {FACT_KEYS[file][0]: len(csv_rows(COMPANY_DIR / file)) for file in FILES}


def by_row(records: Any) -> list[Any]:
    return sorted(records, key=lambda record: (record.ref.file, record.ref.row))


def assert_same_data(stored: Dataset, loaded: Dataset) -> None:
    assert stored.payees == loaded.payees
    for name in ("deals", "assignments", "quotas", "reporting_lines", "exchange_rates", "inputs"):
        assert by_row(getattr(stored, name)) == by_row(getattr(loaded, name)), name


def test_a_first_load_records_every_row_as_version_1(database: Database) -> None:
    report = facts.load(database, COMPANY_DIR)

    assert report.load_id is not None and report.recorded_at is not None
    assert report.new_versions == rows_in_company() == {
        "payee": 32, "assignment": 33, "quota": 50, "deal": 537, "reporting_line": 32, "exchange_rate": 3, "input": 12,
    }  # fmt: skip
    stored = rows_of(database, facts_table)
    assert len(stored) == report.total == 699
    assert {(row["version"], row["load_id"], row["recorded_at"]) for row in stored} == {(1, report.load_id, report.recorded_at)}
    [load] = rows_of(database, loads)
    assert (load["id"], load["recorded_at"], load["new_versions"]) == (report.load_id, report.recorded_at, 699)
    assert json.loads(load["files"]) == {file: hashlib.sha256((COMPANY_DIR / file).read_bytes()).hexdigest() for file in FILES}
    # read back, the facts are exactly the data the CSV files give, down to each row's origin
    assert_same_data(known_at(database, report.recorded_at).dataset, load_dataset(COMPANY_DIR))


def test_reloading_the_same_data_records_nothing(database: Database, tmp_path: Path) -> None:
    first = facts.load(database, COMPANY_DIR)
    before = rows_of(database, facts_table), rows_of(database, loads)

    again = facts.load(database, COMPANY_DIR)
    # the same rows in another order, with Windows line endings, are still the same data
    shuffled = copy_company(tmp_path)
    deals = csv_rows(shuffled / "deals.csv")
    write_csv(shuffled / "deals.csv", list(deals[0]), list(reversed(deals)))
    (shuffled / "payees.csv").write_bytes((shuffled / "payees.csv").read_bytes().replace(b"\n", b"\r\n"))
    reordered = facts.load(database, shuffled)

    assert first.load_id is not None
    assert again.load_id is None and again.recorded_at is None and again.total == 0
    assert reordered.load_id is None and reordered.total == 0
    assert (rows_of(database, facts_table), rows_of(database, loads)) == before


def test_a_changed_deal_becomes_version_2_and_the_rest_stay_at_1(database: Database, tmp_path: Path) -> None:
    facts.load(database, COMPANY_DIR)
    changed = copy_company(tmp_path)
    edit_csv(changed / "deals.csv", "deal_id", "D-5201", amount="250000.00")

    report = facts.load(database, changed)

    assert report.new_versions == {"deal": 1}
    assert [(version, content["amount"]) for version, content in versions(database, "deal", "D-5201")] == [
        (1, "200000.00"),
        (2, "250000.00"),
    ]
    others = [row for row in rows_of(database, facts_table) if (row["kind"], row["key"]) != ("deal", "D-5201")]
    assert len(others) == 698 and {row["version"] for row in others} == {1}


def test_as_known_at_returns_what_was_known_then(database: Database, tmp_path: Path) -> None:
    first = facts.load(database, COMPANY_DIR)
    changed = copy_company(tmp_path)
    edit_csv(changed / "deals.csv", "deal_id", "D-5201", amount="250000.00")
    second = facts.load(database, changed)
    assert first.recorded_at is not None and second.recorded_at is not None and first.recorded_at < second.recorded_at

    before_anything = known_at(database, first.recorded_at - MICROSECOND)
    assert before_anything.dataset.deals == () and dict(before_anything.dataset.payees) == {}
    assert deal_amount(known_at(database, first.recorded_at), "D-5201") == Decimal("200000.00")
    assert deal_amount(known_at(database, second.recorded_at - MICROSECOND), "D-5201") == Decimal("200000.00")
    assert deal_amount(known_at(database, second.recorded_at), "D-5201") == Decimal("250000.00")
    assert deal_amount(known_at(database, second.recorded_at + timedelta(days=365)), "D-5201") == Decimal("250000.00")
    assert known_at(database, second.recorded_at).knowledge_time == second.recorded_at
    # as known between the loads, the data is exactly the original folder
    assert_same_data(known_at(database, second.recorded_at - MICROSECOND).dataset, load_dataset(COMPANY_DIR))


def test_a_folder_with_an_invalid_row_writes_nothing_and_lists_every_problem(database: Database, tmp_path: Path) -> None:
    bad = copy_company(tmp_path)
    edit_csv(bad / "deals.csv", "deal_id", "D-5201", amount="250000.00")  # a valid change, which must not be recorded either
    edit_csv(bad / "deals.csv", "deal_id", "D-1003", amount="12x", close_date="2026-02-30")  # row 4
    edit_csv(bad / "payees.csv", "payee_id", "P005", hire_date="next monday")  # row 6
    expected = {("deals.csv", 4, "amount"), ("deals.csv", 4, "close_date"), ("payees.csv", 6, "hire_date")}

    for attempt in ("into an empty database", "over facts already known"):
        before = rows_of(database, facts_table), rows_of(database, loads)
        with pytest.raises(DataError) as raised:
            facts.load(database, bad)
        assert {(issue.file, issue.row, issue.field) for issue in raised.value.issues} == expected, attempt
        assert all(issue.reason for issue in raised.value.issues)
        assert "next monday" in str(raised.value) and "'12x'" in str(raised.value)
        assert (rows_of(database, facts_table), rows_of(database, loads)) == before, attempt
        if attempt == "into an empty database":
            assert before == ([], [])
            facts.load(database, COMPANY_DIR)
    assert deal_amount(known_at(database, database.now()), "D-5201") == Decimal("200000.00")


@pytest.mark.parametrize(
    ("file", "key_column", "key"),
    [("deals.csv", "deal_id", "D-5201"), ("payees.csv", "payee_id", "P010"), ("exchange_rates.csv", "rate_type", "budget")],
)
def test_a_row_given_twice_in_one_file_is_rejected(database: Database, tmp_path: Path, file: str, key_column: str, key: str) -> None:
    # Merged over the known facts by key, the second row used to replace the first unseen (or
    # both became versions recorded at the same moment); a file with a deal twice is invalid.
    facts.load(database, COMPANY_DIR)
    folder = tmp_path / "twice"
    folder.mkdir()
    [row] = [r for r in csv_rows(COMPANY_DIR / file) if r[key_column] == key]
    write_csv(folder / file, list(row), [row, dict(row)])
    before = rows_of(database, facts_table), rows_of(database, loads)

    with pytest.raises(DataError) as raised:
        facts.load(database, folder)

    assert [(issue.file, issue.row) for issue in raised.value.issues] == [(file, 3)]
    assert (rows_of(database, facts_table), rows_of(database, loads)) == before


def test_deactivating_a_payee_keeps_both_versions_and_all_their_history(database: Database, tmp_path: Path) -> None:
    first = facts.load(database, COMPANY_DIR)
    leaving = copy_company(tmp_path)
    edit_csv(leaving / "payees.csv", "payee_id", "P010", termination_date="2026-12-31")
    second = facts.load(database, leaving)
    assert first.recorded_at is not None and second.recorded_at is not None

    assert second.new_versions == {"payee": 1}
    assert [(version, content["termination_date"]) for version, content in versions(database, "payee", "P010")] == [
        (1, ""),
        (2, "2026-12-31"),
    ]
    then, now = known_at(database, first.recorded_at), known_at(database, second.recorded_at)
    assert then.dataset.payees["P010"].termination_date is None
    assert now.dataset.payees["P010"].termination_date == date(2026, 12, 31)
    for known in (then, now):  # their deals, assignment, quota and reporting lines are all still there
        assert sorted(d.id for d in known.dataset.deals if d.owner == "P010") == ["D-5201", "D-5202", "D-5203", "D-5204", "D-5205"]
        assert [a.plan_id for a in known.dataset.assignments if a.payee_id == "P010"] == ["enterprise_ae"]
        assert [q.amount for q in known.dataset.quotas if q.payee_id == "P010"] == [Decimal("600000.00")]
        assert len([r for r in known.dataset.reporting_lines if r.payee_id == "P010"]) == 2


def test_no_fact_is_ever_updated_or_deleted(database: Database, tmp_path: Path) -> None:
    facts.load(database, COMPANY_DIR)
    changed = copy_company(tmp_path)
    edit_csv(changed / "deals.csv", "deal_id", "D-5201", amount="250000.00")
    edit_csv(changed / "payees.csv", "payee_id", "P010", termination_date="2026-12-31")
    deals = csv_rows(changed / "deals.csv")
    write_csv(changed / "deals.csv", list(deals[0]), [*deals, dict(deals[0], deal_id="D-9001")])

    snapshots = [(rows_of(database, facts_table), rows_of(database, loads))]
    for folder in (changed, COMPANY_DIR, COMPANY_DIR):  # a change, a change back, nothing new
        facts.load(database, folder)
        snapshots.append((rows_of(database, facts_table), rows_of(database, loads)))

    for (facts_before, loads_before), (facts_after, loads_after) in itertools.pairwise(snapshots):
        assert facts_after[: len(facts_before)] == facts_before  # every earlier row, unchanged
        assert loads_after[: len(loads_before)] == loads_before
        assert all(row["id"] > facts_before[-1]["id"] for row in facts_after[len(facts_before) :])
    new_rows = snapshots[1][0][699:]
    assert sorted((r["kind"], r["key"], r["version"]) for r in new_rows) == [
        ("deal", "D-5201", 2),
        ("deal", "D-9001", 1),
        ("payee", "P010", 2),
    ]
    # changing back is a correction too: new versions, the old ones kept; the deal added stays
    assert sorted((r["kind"], r["key"], r["version"]) for r in snapshots[2][0][702:]) == [("deal", "D-5201", 3), ("payee", "P010", 3)]
    assert snapshots[3] == snapshots[2]
    assert count(database, facts_table) == 704


def test_the_known_facts_hash_changes_exactly_when_the_visible_content_changes(database: Database, tmp_path: Path) -> None:
    empty = known_at(database, database.now())
    first = facts.load(database, COMPANY_DIR)
    assert first.recorded_at is not None
    original = known_at(database, first.recorded_at).sha256

    assert original != empty.sha256
    facts.load(database, COMPANY_DIR)  # nothing new
    assert known_at(database, database.now()).sha256 == original
    assert known_at(database, database.now() + timedelta(days=30)).sha256 == original  # time passing changes nothing

    changed = copy_company(tmp_path)
    edit_csv(changed / "deals.csv", "deal_id", "D-5201", amount="250000.00")
    bad = copy_company(tmp_path, "bad")
    edit_csv(bad / "deals.csv", "deal_id", "D-5201", amount="lots")
    with pytest.raises(DataError):
        facts.load(database, bad)
    assert known_at(database, database.now()).sha256 == original  # a rejected load is invisible

    second = facts.load(database, changed)
    assert second.recorded_at is not None
    after = known_at(database, second.recorded_at).sha256
    assert after != original
    assert known_at(database, second.recorded_at - MICROSECOND).sha256 == original  # the past still reads the same
    assert known_at(database, database.now()).sha256 == after
