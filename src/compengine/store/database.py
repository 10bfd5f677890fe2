"""Connecting to the database: the embedded SQLite file by default, PostgreSQL in production.

`COMPENGINE_DATABASE_URL` picks the database (default: `sqlite:///compengine.db` in the
current folder).  Opening a database brings its schema up to date with the Alembic
migrations shipped in this package, so an embedded file needs no set-up.  Every write runs in
one transaction: a failed or killed run leaves nothing behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text

DEFAULT_URL = "sqlite:///compengine.db"
READ_ONLY = "compengine_read_only"  # execution option of a connection that only reads

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC, without a time zone (stored the same on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("COMPENGINE_DATABASE_URL") or DEFAULT_URL


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for `url`; `schema` (PostgreSQL only) isolates a set of tables, for tests."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})
        _serialise_sqlite_writes(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    options = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(url, connect_args=options, pool_pre_ping=True)


def _serialise_sqlite_writes(engine: Engine) -> None:
    """SQLite: let SQLAlchemy own transactions and take the write lock when one begins, so two
    processes closing the same period queue up instead of failing half-way."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # a reader takes no write lock: it does not queue behind writers, nor they behind it
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("compengine.store").joinpath("migrations")))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # processes opening a new database at once migrate it one after the other (the
            # others then find it up to date); SQLite's BEGIN IMMEDIATE already does this
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('compengine migrate ' || current_schema()))"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """An open, migrated database and the clock its records are stamped with."""

    def __init__(self, url: str | None = None, clock: Clock = utc_now, schema: str | None = None, upgrade: bool = True):
        self.url = database_url(url)
        self.engine = make_engine(self.url, schema)
        self.clock = clock
        self._last: datetime | None = None
        if upgrade:
            migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One all-or-nothing unit of work."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A consistent read, holding no write lock."""
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            yield connection

    def now(self) -> datetime:
        """The clock, strictly increasing within this process (two loads never share a time)."""
        now = self.clock()
        if self._last is not None and now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        return now

    def dispose(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def reset_schema_for_tests(url: str, schema: str) -> None:
    """PostgreSQL tests: a fresh, empty schema to work in."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def drop_schema_for_tests(url: str, schema: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
