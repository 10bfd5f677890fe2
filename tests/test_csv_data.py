"""Loading a data folder: every bad cell is reported by file, row and field, and nothing loads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compengine.core.data import Payee
from compengine.core.errors import DataError, DataIssue
from compengine.io.csv_data import _deal, _plain_deal, _Row, load_dataset

GOOD = {
    "payees.csv": "payee_id,name,hire_date,termination_date,region\nP1,Alex Kim,2024-01-01,,EMEA\nP2,Sam Lee,2024-03-01,,AMER\n",
    "assignments.csv": "payee_id,plan,effective_from,effective_until,target_incentive,currency\nP1,ae,2026-01-01,,100000,USD\n",
    "quotas.csv": "payee_id,quota,period,amount,currency\nP1,bookings,FY2026,400000,USD\n",
    "deals.csv": (
        "deal_id,owner,type,product,amount,currency,close_date,splits,acv\n"
        'D1,P1,new,software,"1,200.50",USD,2026-02-10,P1:60%;P2:40%,1200.50\n'
    ),
}


def folder(tmp_path: Path, **changes: str) -> Path:
    for name, text in GOOD.items():
        (tmp_path / name).write_text(changes.get(name.removesuffix(".csv"), text), encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path, **changes: str) -> list[str]:
    with pytest.raises(DataError) as caught:
        load_dataset(folder(tmp_path, **changes))
    return [str(issue) for issue in caught.value.issues]


def test_a_valid_folder_loads_every_record(tmp_path: Path) -> None:
    data = load_dataset(folder(tmp_path))
    assert sorted(data.payees) == ["P1", "P2"]
    [deal] = data.deals
    assert deal.amount == Decimal("1200.50")
    assert [(s.payee_id, s.share) for s in deal.splits] == [("P1", Decimal("0.6")), ("P2", Decimal("0.4"))]
    assert deal.attributes == {"acv": "1200.50"}
    assert data.payees["P1"].attributes == {"region": "EMEA"}
    assert set(data.sources) == {"payees.csv", "assignments.csv", "quotas.csv", "deals.csv"}


def test_every_bad_cell_is_reported_not_just_the_first(tmp_path: Path) -> None:
    deals = "deal_id,owner,type,product,amount,currency,close_date,splits\nD1,P9,new,x,12x,usd,2026-13-01,\n"
    assert problems(tmp_path, deals=deals) == [
        "deals.csv row 2, field owner: there is no payee 'P9' in payees.csv",
        "deals.csv row 2, field amount: '12x' is not a decimal number (write it like 1200 or 1,200.50)",
        "deals.csv row 2, field currency: 'usd' is not a currency code (write it like USD)",
        "deals.csv row 2, field close_date: '2026-13-01' is not a date (write it as YYYY-MM-DD)",
    ]


def test_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    deals = GOOD["deals.csv"] + "D2,P1,new,x,10,USD,2026-01-01,,\nD3,P1,new,x,ten,USD,2026-01-01,,\n"
    assert problems(tmp_path, deals=deals) == [
        "deals.csv row 4, field amount: 'ten' is not a decimal number (write it like 1200 or 1,200.50)"
    ]


def test_an_amount_with_more_digits_than_money_can_have_is_refused(tmp_path: Path) -> None:
    too_many = "D2,P1,new,x,1000000000000000.00,USD,2026-01-01,,\n"
    the_most = "D3,P1,new,x,999999999999999.999999999999999999,USD,2026-01-01,,\n"
    deals = GOOD["deals.csv"] + too_many + the_most
    assert problems(tmp_path, deals=deals) == [
        "deals.csv row 3, field amount: '1000000000000000.00' has more digits than an amount, rate or quantity can have "
        "(at most 15 before the decimal point and 18 after it)"
    ]


def test_split_shares_must_add_up_to_one_hundred_percent(tmp_path: Path) -> None:
    deals = GOOD["deals.csv"].replace("P1:60%;P2:40%", "P1:60%;P2:30%")
    assert problems(tmp_path, deals=deals) == ["deals.csv row 2, field splits: the shares add up to 90%, not 100%"]


def test_a_split_must_name_payees_with_percentages(tmp_path: Path) -> None:
    deals = GOOD["deals.csv"].replace("P1:60%;P2:40%", "P1=60;P2=40")
    assert problems(tmp_path, deals=deals) == ["deals.csv row 2, field splits: 'P1=60' is not a split; write partners as P001:60%;P002:40%"]


def test_a_deal_id_may_appear_only_once(tmp_path: Path) -> None:
    deals = GOOD["deals.csv"] + "D1,P1,new,x,10,USD,2026-01-01,,\n"
    assert problems(tmp_path, deals=deals) == ["deals.csv row 3, field deal_id: deal D1 appears twice (also deals.csv row 2)"]


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    quotas = "payee_id,quota,amount,currency\nP1,bookings,400000,USD\n"
    assert problems(tmp_path, quotas=quotas) == ["quotas.csv row 1, field period: the column is missing from the header"]


def test_an_unexpected_column_in_assignments_is_refused(tmp_path: Path) -> None:
    assignments = "payee_id,plan,effective_from,effective_until,target_incentive,currency,bonus\nP1,ae,2026-01-01,,100000,USD,5\n"
    assert problems(tmp_path, assignments=assignments) == [
        "assignments.csv row 1, field bonus: unexpected column; the columns are "
        "payee_id, plan, effective_from, effective_until, target_incentive, currency"
    ]


def test_a_row_with_the_wrong_number_of_cells_is_reported(tmp_path: Path) -> None:
    quotas = GOOD["quotas.csv"] + "P1,bookings,FY2027\n"
    assert problems(tmp_path, quotas=quotas) == ["quotas.csv row 3: has 3 cells but the header has 5 columns"]


def test_a_quota_period_must_be_a_year_quarter_or_month_label(tmp_path: Path) -> None:
    quotas = "payee_id,quota,period,amount,currency\nP1,bookings,2026,400000,USD\n"
    [problem] = problems(tmp_path, quotas=quotas)
    assert problem.startswith("quotas.csv row 2, field period: '2026' is not a period; write FY2026 for a year")


def test_the_same_quota_twice_for_one_period_is_refused(tmp_path: Path) -> None:
    quotas = GOOD["quotas.csv"] + "P1,bookings,FY2026,500000,USD\n"
    assert problems(tmp_path, quotas=quotas) == [
        "quotas.csv row 3, field period: payee P1 already has a 'bookings' quota for FY2026 (quotas.csv row 2)"
    ]


def test_overlapping_assignments_to_one_plan_are_refused(tmp_path: Path) -> None:
    assignments = GOOD["assignments.csv"] + "P1,ae,2026-07-01,,120000,USD\n"
    assert problems(tmp_path, assignments=assignments) == [
        "assignments.csv row 3, field effective_from: payee P1 is already on plan ae then (assignments.csv row 2)"
    ]


def test_an_assignment_must_end_after_it_starts(tmp_path: Path) -> None:
    assignments = "payee_id,plan,effective_from,effective_until,target_incentive,currency\nP1,ae,2026-07-01,2026-07-01,100000,USD\n"
    [problem] = problems(tmp_path, assignments=assignments)
    assert problem.startswith("assignments.csv row 2, field effective_until: 2026-07-01 is not after 2026-07-01")


def test_a_termination_before_the_hire_date_is_refused(tmp_path: Path) -> None:
    payees = "payee_id,name,hire_date,termination_date\nP1,Alex,2024-01-01,2023-12-31\nP2,Sam,2024-01-01,\n"
    assert problems(tmp_path, payees=payees) == [
        "payees.csv row 2, field termination_date: 2023-12-31 is not after the hire date 2024-01-01"
    ]


def test_a_missing_file_is_reported_with_the_folder(tmp_path: Path) -> None:
    folder(tmp_path)
    (tmp_path / "quotas.csv").unlink()
    with pytest.raises(DataError) as caught:
        load_dataset(tmp_path)
    assert [str(i) for i in caught.value.issues] == [f"quotas.csv: the file is missing from {tmp_path}"]


def test_a_spreadsheet_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    folder(tmp_path)
    (tmp_path / "payees.csv").write_bytes(b"\xef\xbb\xbf" + GOOD["payees.csv"].encode())
    assert sorted(load_dataset(tmp_path).payees) == ["P1", "P2"]


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    data = load_dataset(folder(tmp_path, quotas=GOOD["quotas.csv"] + "\n,,,,\n"))
    assert len(data.quotas) == 1


def test_a_split_share_that_is_not_a_number_is_a_data_error(tmp_path: Path) -> None:
    deals = GOOD["deals.csv"].replace("P1:60%;P2:40%", "P1:50%;P2:1.2.3%")
    assert problems(tmp_path, deals=deals) == [
        "deals.csv row 2, field splits: 'P2:1.2.3%' is not a split; write partners as P001:60%;P002:40%"
    ]


def test_a_negative_quota_is_refused(tmp_path: Path) -> None:
    quotas = "payee_id,quota,period,amount,currency\nP1,bookings,FY2026,-5,USD\n"
    assert problems(tmp_path, quotas=quotas) == ["quotas.csv row 2, field amount: a quota cannot be negative"]


# ------------------------------------------------------------------ what happened after the booking
AFTER = "deal_id,owner,type,product,amount,currency,close_date,cancelled_on,refunded_amount,invoice_paid_on\n"


def test_cancellations_refunds_and_paid_invoices_are_optional_deal_columns(tmp_path: Path) -> None:
    deals = AFTER + "D1,P1,new,x,1000,USD,2026-02-10,2026-05-01,250.50,2026-03-01\nD2,P1,new,x,10,USD,2026-02-10,,,\n"
    found = {deal.id: deal for deal in load_dataset(folder(tmp_path, deals=deals)).deals}
    assert (found["D1"].cancelled_on, found["D1"].refunded_amount, found["D1"].invoice_paid_on) == (
        date(2026, 5, 1),
        Decimal("250.50"),
        date(2026, 3, 1),
    )
    assert (found["D2"].cancelled_on, found["D2"].refunded_amount, found["D2"].invoice_paid_on) == (None, None, None)
    assert found["D1"].attributes == {}  # not deal attributes


def test_a_refund_is_between_nothing_and_the_deal_amount_and_is_dated(tmp_path: Path) -> None:
    deals = AFTER + "D1,P1,new,x,1000,USD,2026-02-10,2026-05-01,1000.01,\nD2,P1,new,x,10,USD,2026-02-10,,5,\n"
    assert problems(tmp_path, deals=deals) == [
        "deals.csv row 2, field refunded_amount: 1000.01 is not between 0 and the deal amount 1000",
        "deals.csv row 3, field refunded_amount: a refund needs its date in cancelled_on",
    ]


def test_a_deal_is_not_cancelled_before_it_closed_and_dates_are_dates(tmp_path: Path) -> None:
    deals = AFTER + "D1,P1,new,x,1000,USD,2026-02-10,2026-02-09,,2026-02-30\n"
    assert problems(tmp_path, deals=deals) == [
        "deals.csv row 2, field invoice_paid_on: '2026-02-30' is not a date (write it as YYYY-MM-DD)",
        "deals.csv row 2, field cancelled_on: 2026-02-09 is before the deal closed on 2026-02-10",
    ]


# ------------------------------------------------------------------ the quick path for plain deal rows
_PAYEES = {p: Payee(p, p, None, None, {}) for p in ("P1", "P2")}
_CELLS = {
    "deal_id": ["D1", " D2 ", ""],
    "owner": ["P1", " P2", "P9", ""],
    "type": ["new", "", " renewal "],
    "product": ["", "software"],
    "amount": ["100", "1,200.50", " 5 ", "1.2e3", "", "-3", "0007", "1234567890123456", "1,20"],
    "currency": ["USD", "usd", "", " EUR ", "US"],
    "close_date": ["2026-02-10", "2026-02-30", "", " 2026-01-01 ", "20260101", "10/02/2026"],
    "splits": ["", "P1:60%;P2:40%", "P1:100%", "P1:50%"],
    "cancelled_on": ["", "2026-03-01", "2026-01-01"],
    "refunded_amount": ["", "10"],
    "invoice_paid_on": ["", "2026-04-01"],
    "acv": ["", "1200"],
}


@given(st.dictionaries(st.sampled_from(list(_CELLS)), st.integers(0, 8), max_size=2), st.booleans())
def test_a_deal_row_read_the_quick_way_is_the_deal_read_cell_by_cell_with_no_problem(changed: dict[str, int], acv: bool) -> None:
    # a plain row (the first value of each column) with one or two cells changed to another value
    cells = {column: values[changed.get(column, 0) % len(values)] for column, values in _CELLS.items() if column != "acv" or acv}
    quick = _plain_deal(_Row("deals.csv", 2, cells, []), _PAYEES)
    issues: list[DataIssue] = []
    careful = _deal(_Row("deals.csv", 2, cells, issues), _PAYEES, {})

    if quick is not None:
        assert quick == careful and issues == []
    elif careful is not None and not issues:  # the quick way leaves out only splits and what came after the booking
        assert careful.splits or careful.cancelled_on or careful.refunded_amount is not None or careful.invoice_paid_on
