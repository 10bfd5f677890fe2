"""Helpers for the system-of-record tests: a one-component plan whose amounts are easy to
work by hand, small data folders written to tmp_path, a deterministic clock, row counts.

The plan pays 10% of every deal its owner books (rounded to cents per line), calculated
quarterly in 2026: a deal of 1,000.00 closed in February pays 100.00 in 2026-Q1.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select

from compengine.store.database import Database

FLAT_PLAN = """plan flat "Flat commission"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per component

credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 10%
"""

PAYEES = ("payee_id", "name", "hire_date", "termination_date")
ASSIGNMENTS = ("payee_id", "plan", "effective_from", "effective_until", "target_incentive", "currency")
QUOTAS = ("payee_id", "quota", "period", "amount", "currency")
DEALS = ("deal_id", "owner", "type", "product", "amount", "currency", "close_date", "splits")

Row = Sequence[str]


def payee_row(payee_id: str, terminated: str = "") -> Row:
    return (payee_id, f"Payee {payee_id}", "2024-01-01", terminated)


def assignment_row(payee_id: str, plan: str = "flat") -> Row:
    return (payee_id, plan, "2026-01-01", "", "10000", "USD")


def deal_row(deal_id: str, owner: str, amount: str, close_date: str) -> Row:
    return (deal_id, owner, "new", "software", amount, "USD", close_date, "")


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def data_folder(
    folder: Path,
    *,
    payees: Sequence[Row] | None = None,
    assignments: Sequence[Row] | None = None,
    quotas: Sequence[Row] | None = None,
    deals: Sequence[Row] | None = None,
) -> Path:
    """A data folder holding only the files given (a partial folder when some are left out)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
        ("payees.csv", PAYEES, payees),
        ("assignments.csv", ASSIGNMENTS, assignments),
        ("quotas.csv", QUOTAS, quotas),
        ("deals.csv", DEALS, deals),
    ):
        if rows is not None:
            write_csv(folder / name, header, rows)
    return folder


def company_folder(folder: Path, deals: Sequence[Row], payees: Sequence[str] = ("P1", "P2")) -> Path:
    """A whole data folder: `payees` on the flat plan all of 2026, no quotas, and `deals`."""
    return data_folder(
        folder,
        payees=[payee_row(p) for p in payees],
        assignments=[assignment_row(p) for p in payees],
        quotas=[],
        deals=deals,
    )


def deals_folder(folder: Path, deals: Sequence[Row]) -> Path:
    """A partial folder with only deals.csv: a day's new and corrected deals."""
    return data_folder(folder, deals=deals)


def plan_file(folder: Path, text: str = FLAT_PLAN, name: str = "flat.comp") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def stepping_clock(start: datetime, step: timedelta = timedelta(minutes=1)) -> Callable[[], datetime]:
    """A clock that moves on by `step` each time it is read, so every record gets a known time."""
    now = [start - step]

    def clock() -> datetime:
        now[0] += step
        return now[0]

    return clock


def count_rows(db: Database, table: Table) -> int:
    with db.reading() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def all_rows(db: Database, table: Table) -> list[dict[str, Any]]:
    """Every row of `table` in primary-key order, as dicts (for before/after comparisons)."""
    with db.reading() as connection:
        return [dict(row._mapping) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]


def with_clock(db: Database, start: datetime, step: timedelta = timedelta(minutes=1)) -> Database:
    """`db`, its records stamped by a stepping clock from `start` (the fixture's database is
    opened with the real clock)."""
    db.clock = stepping_clock(start, step)
    return db
