"""Helpers for the storage tests: a private copy of the example company to edit, the example
plans published, and whole tables read back for before/after comparisons."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select

from compengine.store.database import Database
from compengine.store.plans import Published, publish
from tests.support import COMPANY_DIR, PLANS_DIR

PLAN_FILES = sorted(PLANS_DIR.glob("*.comp"))


def copy_company(tmp_path: Path, name: str = "company") -> Path:
    """A copy of fixtures/company that a test may edit."""
    target = tmp_path / name
    shutil.copytree(COMPANY_DIR, target)
    return target


def edit_csv(path: Path, key_column: str, key: str, **changes: str) -> None:
    """Change cells of the one row whose `key_column` is `key`; every other cell stays as it was."""
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    matching = [row for row in rows if row[key_column] == key]
    assert len(matching) == 1, f"{path.name} has {len(matching)} rows with {key_column} {key}"
    assert set(changes) <= set(header), f"{path.name} has no column {set(changes) - set(header)}"
    matching[0].update(changes)
    write_csv(path, header, rows)


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def publish_plans(db: Database, by: str = "tester@example.com") -> list[Published]:
    return [publish(db, str(path), by) for path in PLAN_FILES]


def rows_of(db: Database, table: Table) -> list[dict[str, Any]]:
    """Every row of `table`, in primary-key order, as plain dicts (for before/after snapshots)."""
    with db.reading() as connection:
        return [dict(row._mapping) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]


def count(db: Database, table: Table) -> int:
    with db.reading() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def stepping_clock(start: datetime, step: timedelta = timedelta(minutes=1)) -> Callable[[], datetime]:
    """A clock that moves on by `step` every time it is read: records get distinct, known times."""
    now = [start - step]

    def clock() -> datetime:
        now[0] += step
        return now[0]

    return clock
