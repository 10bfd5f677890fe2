"""Data files as JSON: `deals.json` in place of `deals.csv`, an array of objects, one per row.
Numbers keep their exact digits (never a binary float), and every problem names the file,
the object's number and the field, as for CSV."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from compengine.core.errors import DataError
from compengine.io.csv_data import load_dataset
from compengine.store.database import Database
from compengine.store.facts import load
from tests.records_support import DEALS, company_folder, deal_row, with_clock

D1 = deal_row("D1", "P1", "1000.10", "2026-02-10")
D2 = deal_row("D2", "P2", "2500.50", "2026-03-20")


def json_deals(folder: Path, items: object) -> Path:
    """The company folder with its deals.csv replaced by deals.json."""
    (folder / "deals.csv").unlink(missing_ok=True)
    (folder / "deals.json").write_text(json.dumps(items) if not isinstance(items, str) else items, encoding="utf-8")
    return folder


def as_objects(*rows: tuple[str, ...]) -> list[dict[str, str]]:
    return [dict(zip(DEALS, row, strict=True)) for row in rows]


def messages(error: pytest.ExceptionInfo[DataError]) -> list[str]:
    return [str(issue) for issue in error.value.issues]


def test_a_json_folder_reads_the_same_as_the_csv_folder(tmp_path: Path) -> None:
    from_csv = load_dataset(company_folder(tmp_path / "csv", [D1, D2]))
    from_json = load_dataset(json_deals(company_folder(tmp_path / "json", []), as_objects(D1, D2)))
    assert [(d.id, d.owner, d.amount, d.close_date) for d in from_json.deals] == [
        (d.id, d.owner, d.amount, d.close_date) for d in from_csv.deals
    ]


def test_json_numbers_are_read_from_their_exact_digits(tmp_path: Path) -> None:
    items = '[{"deal_id": "D1", "owner": "P1", "type": "new", "product": "x", "amount": 1000.10, "currency": "USD", ' \
        '"close_date": "2026-02-10", "splits": null}, {"deal_id": "D2", "owner": "P2", "type": "new", "product": "x", ' \
        '"amount": 0.30000000000000004, "currency": "USD", "close_date": "2026-02-11"}]'  # fmt: skip
    deals = load_dataset(json_deals(company_folder(tmp_path, []), items)).deals
    assert [str(d.amount) for d in deals] == ["1000.10", "0.30000000000000004"]


def test_every_problem_in_a_json_file_names_the_object_and_the_field(tmp_path: Path) -> None:
    items = as_objects(D1, D2)
    items[0]["amount"] = {"value": "1000"}  # type: ignore[assignment]
    del items[1]["close_date"]
    with pytest.raises(DataError) as raised:
        load_dataset(json_deals(company_folder(tmp_path, []), [*items, "D3"]))
    assert messages(raised) == [
        "deals.json row 1, field amount: must be a text, a number, true, false or null",
        "deals.json row 2, field close_date: is missing",
        "deals.json row 3: must be an object of column names and values",
    ]


def test_a_file_that_is_not_json_names_the_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(DataError) as raised:
        load_dataset(json_deals(company_folder(tmp_path, []), '[{"deal_id": "D1",\n "owner": }]'))
    assert messages(raised) == ["deals.json row 2: is not valid JSON: Expecting value (line 2, column 11)"]


def test_json_must_be_an_array_of_rows(tmp_path: Path) -> None:
    with pytest.raises(DataError) as raised:
        load_dataset(json_deals(company_folder(tmp_path, []), {"deals": []}))
    assert messages(raised) == ["deals.json: must be a JSON array of objects, one per row of deals.csv"]


def test_a_folder_with_both_the_csv_and_the_json_of_a_file_is_rejected(tmp_path: Path) -> None:
    folder = company_folder(tmp_path, [D1])
    (folder / "deals.json").write_text(json.dumps(as_objects(D1)), encoding="utf-8")
    with pytest.raises(DataError, match=r"has both deals.csv and deals.json; keep one of them"):
        load_dataset(folder)


def test_loading_the_same_deals_as_json_after_csv_records_nothing_new(database: Database, tmp_path: Path) -> None:
    db = with_clock(database, datetime(2026, 4, 1, 9, 0))
    load(db, company_folder(tmp_path / "csv", [D1, D2]))
    folder = tmp_path / "json"
    folder.mkdir()
    json_deals(folder, as_objects(D1, D2))
    assert load(db, folder).load_id is None
    changed = as_objects(D1, D2)
    changed[1]["amount"] = "2600.00"
    report = load(db, json_deals(folder, changed))
    assert report.new_versions == {"deal": 1}


def test_a_bad_row_in_a_loaded_json_file_is_named_by_its_json_file(database: Database, tmp_path: Path) -> None:
    db = with_clock(database, datetime(2026, 4, 1, 9, 0))
    load(db, company_folder(tmp_path / "csv", [D1]))
    folder = tmp_path / "json"
    folder.mkdir()
    with pytest.raises(DataError) as raised:
        load(db, json_deals(folder, as_objects(deal_row("D2", "P9", "10", "2026-03-01"))))
    assert [str(issue) for issue in raised.value.issues] == ["deals.json row 1, field owner: there is no payee 'P9' in payees.csv"]
