"""Opening the database: readers do not queue behind each other."""

from __future__ import annotations

import time

from sqlalchemy import select

from compengine.store.database import Database
from compengine.store.schema import cycles


def test_two_readers_read_at_the_same_time(database: Database, database_url: tuple[str, str | None]) -> None:
    other = Database(database_url[0], schema=database_url[1], upgrade=False)
    try:
        with database.reading() as first:
            first.execute(select(cycles)).all()  # the first read transaction is open
            started = time.monotonic()
            with other.reading() as second:
                second.execute(select(cycles)).all()
            assert time.monotonic() - started < 5  # it did not wait for the first to finish
    finally:
        other.dispose()
