"""pytest configuration.

Hypothesis runs derandomized by default so the suite gives the same verdict on every run
(main stays green or red for a reason); `HYPOTHESIS_PROFILE=explore` searches afresh.

Storage tests take the `database` fixture and run on SQLite always, and on PostgreSQL when
COMPENGINE_TEST_DATABASE_URL names a reachable server (each test in a fresh schema);
otherwise the PostgreSQL case is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from compengine.store.database import Database, drop_schema_for_tests, make_engine, reset_schema_for_tests

settings.register_profile("default", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

POSTGRES_URL = os.environ.get("COMPENGINE_TEST_DATABASE_URL")


def _postgres_problem() -> str | None:
    if not POSTGRES_URL:
        return "COMPENGINE_TEST_DATABASE_URL is not set"
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # any failure to connect means: skip, and say why
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(error).__name__})"
    return None


POSTGRES_SKIP = _postgres_problem()
ON_POSTGRES = pytest.param("postgresql", marks=pytest.mark.skipif(POSTGRES_SKIP is not None, reason=POSTGRES_SKIP or ""))


@pytest.fixture(params=["sqlite", ON_POSTGRES])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(url, schema) of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'compengine.db'}", None
        return
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    reset_schema_for_tests(POSTGRES_URL, schema)
    yield POSTGRES_URL, schema
    drop_schema_for_tests(POSTGRES_URL, schema)


@pytest.fixture
def database(database_url: tuple[str, str | None]) -> Iterator[Database]:
    """An open, migrated `Database` on SQLite and (when configured) PostgreSQL."""
    url, schema = database_url
    db = Database(url, schema=schema)
    yield db
    db.dispose()
