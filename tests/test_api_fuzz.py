"""Fuzzing the API from its own OpenAPI document (schemathesis, in process): on a seeded
SQLite database, generated requests to every operation, signed in as an admin (or, for an
operation an admin may not call, as a role that may, from the authorisation table), must
never be answered with a server error.  Bounded to a few examples per operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from tests.api_support import Api, database_on, make_api, seed_first_quarter
from tests.test_api_authz import ENDPOINTS, Endpoint

EXAMPLES = 12  # per operation: the whole file stays well under a minute


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with database_on("sqlite", Path(tmp_path_factory.mktemp("fuzz"))) as db:
        api = make_api(db)
        seed_first_quarter(api)
        yield api


@pytest.fixture(scope="module")
def api_schema(fuzzed: Api) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed.client.app)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_no_generated_request_is_answered_with_a_server_error(endpoint: Endpoint, fuzzed: Api, api_schema: Any) -> None:
    operation = api_schema[endpoint.route.replace(":path", "")][endpoint.method]
    headers = fuzzed.auth("admin" if "admin" in endpoint.roles else endpoint.roles[0])

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()
