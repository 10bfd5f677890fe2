"""Who may call what: every endpoint against every role, from one table, on SQLite and
PostgreSQL; and what a caller may see inside an endpoint.  A record the caller may not see
is a 404 exactly like one that does not exist, so guessing ids reveals nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute

from compengine.store import users
from tests.api_support import (
    COMPANY,
    DISPUTED_LINE,
    OTHER_LINE,
    OTHER_PAYEE,
    PAYEE,
    PLANS,
    USERS,
    Api,
    database_on,
    make_api,
    plan_body,
    seed_first_quarter,
)
from tests.conftest import ON_POSTGRES

ADMIN, FINANCE, ARBITRATOR, PAYEE_ROLE, MANAGER = "admin", "finance", "arbitrator", "payee", "manager"
EVERYONE = (ADMIN, FINANCE, ARBITRATOR, PAYEE_ROLE, MANAGER)
PRINCIPALS = (*EVERYONE, "anonymous", "revoked")
SPLIT_EVENLY = {"kind": "credit", "deal": "D-5102", "splits": "P009:50%;P004:50%"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    route: str  # the path as the app declares it
    roles: tuple[str, ...]  # the roles allowed to call it
    kwargs: dict[str, Any] = field(default_factory=dict)  # the request's body, headers, query

    def path(self, ids: dict[str, Any]) -> str:
        return self.route.replace("{line_id:path}", "{line_id}").format(**ids)


ENDPOINTS = [
    Endpoint("GET", "/me", EVERYONE),
    Endpoint("POST", "/plans/check", (ADMIN, FINANCE), {"json": plan_body(PLANS[0])}),
    Endpoint("POST", "/plans", (ADMIN,), {"json": plan_body(PLANS[0])}),
    Endpoint("GET", "/plans", EVERYONE),
    Endpoint("GET", "/plans/{version_id}", EVERYONE),
    Endpoint("GET", "/plans/{version_id}/source", EVERYONE),
    Endpoint("GET", "/plans/{version_id}/document", EVERYONE),
    Endpoint(
        "POST", "/data/{file}", (FINANCE,), {"content": (COMPANY / "payees.csv").read_bytes(), "headers": {"Content-Type": "text/csv"}}
    ),
    Endpoint("GET", "/cycles", (ADMIN, FINANCE)),
    Endpoint("GET", "/cycles/{period}", (ADMIN, FINANCE)),
    Endpoint("POST", "/cycles/{period}/open", (FINANCE,)),
    Endpoint("POST", "/cycles/{period}/runs", (FINANCE,)),
    Endpoint("POST", "/cycles/{period}/approve", (FINANCE,)),
    Endpoint("POST", "/cycles/{period}/close", (FINANCE,)),
    Endpoint("GET", "/cycles/{period}/payroll", (ADMIN, FINANCE)),
    Endpoint("GET", "/cycles/{period}/statements", EVERYONE),
    Endpoint("GET", "/runs/{run_id}", (ADMIN, FINANCE, ARBITRATOR)),
    Endpoint("GET", "/runs/{run_id}/statements", EVERYONE),
    Endpoint("GET", "/runs/{run_id}/lines/{line_id:path}", EVERYONE),
    Endpoint("GET", "/runs/{run_id}/traces/{line_id:path}", EVERYONE),
    Endpoint("GET", "/runs/{run_id}/explanations/{line_id:path}", EVERYONE),
    Endpoint("GET", "/ledger", (ADMIN, FINANCE)),
    Endpoint("GET", "/ledger/{payee_id}", (ADMIN, FINANCE, PAYEE_ROLE, MANAGER)),
    Endpoint("POST", "/disputes", (PAYEE_ROLE, MANAGER), {"json": {"run_id": "{run_id}", "line_id": DISPUTED_LINE, "claim": "wrong"}}),
    Endpoint("GET", "/disputes", EVERYONE),
    Endpoint("GET", "/disputes/{dispute_id}", EVERYONE),
    Endpoint("POST", "/disputes/{dispute_id}/replay", (ARBITRATOR,)),
    Endpoint(
        "POST",
        "/disputes/{dispute_id}/what-ifs",
        (ARBITRATOR,),
        {"json": SPLIT_EVENLY},
    ),
    Endpoint("POST", "/disputes/{dispute_id}/ruling", (ARBITRATOR,), {"json": {"outcome": "denied", "rationale": "as calculated"}}),
    Endpoint("POST", "/disputes/{dispute_id}/comments", (ARBITRATOR, PAYEE_ROLE, MANAGER), {"json": {"text": "noted"}}),
    Endpoint("GET", "/disputes/{dispute_id}/history", EVERYONE),
]


@pytest.fixture(scope="module", params=["sqlite", ON_POSTGRES])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """2026-Q1 closed, P004's dispute of their split-deal line, a 2026-Q2 draft run, and a
    user whose token has been revoked."""
    with database_on(request.param, tmp_path_factory.mktemp("authz")) as db:
        api = make_api(db)
        seed_first_quarter(api)
        assert api.post("finance", "/cycles/2026-Q2/open").status_code == 200
        api.ids["draft_run"] = api.post("finance", "/cycles/2026-Q2/runs").json()["run_id"]
        users.add_user(db, "revoked", "admin")
        record, api.tokens["revoked"] = users.create_token(db, "revoked")
        users.revoke_token(db, record.id)
        yield api


def _ids(api: Api) -> dict[str, Any]:
    return {
        "version_id": api.ids["version"],
        "file": "payees",
        "period": "2026-Q1",
        "run_id": api.ids["run"],
        "line_id": DISPUTED_LINE,
        "payee_id": PAYEE,
        "dispute_id": api.ids["dispute"],
    }


def _call(api: Api, principal: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = dict(kwargs.pop("headers", {}))
    user = None if principal == "anonymous" else principal
    if "json" in kwargs:
        kwargs["json"] = {k: (api.ids["run"] if v == "{run_id}" else v) for k, v in kwargs["json"].items()}
    return api.client.request(method, path, headers=api.auth(user, **headers), **kwargs)


def test_the_table_names_every_endpoint_of_the_app(world: Api) -> None:
    # every route the app serves, from its OpenAPI document (FastAPI no longer flattens the
    # routes of included routers into app.routes); no route is left out of the document
    app = world.client.app
    routes = list(_api_routes(app.routes))  # type: ignore[attr-defined]
    assert len(routes) == len(ENDPOINTS) and all(route.include_in_schema for route in routes)
    paths = app.openapi()["paths"]  # type: ignore[attr-defined]
    declared = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    tabled = {(e.method, e.route.replace(":path", "")) for e in ENDPOINTS}
    assert declared - tabled == set(), "endpoints missing from the authorisation table"
    assert tabled - declared == set(), "the table names endpoints the app does not have"


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_each_role_may_call_exactly_the_endpoints_the_table_allows(world: Api, endpoint: Endpoint, principal: str) -> None:
    response = _call(world, principal, endpoint.method, endpoint.path(_ids(world)), **endpoint.kwargs)
    assert response.status_code < 500, response.text
    if principal in ("anonymous", "revoked"):
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"] == "Bearer"
    elif principal in endpoint.roles:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"


# ------------------------------------------------------------------ inside an endpoint
def _same_problem(a: Any, b: Any) -> bool:
    """Two 404s that say the same thing (apart from where they were asked)."""
    strip = ("instance", "request_id", "detail")
    return a.status_code == b.status_code == 404 and {k: v for k, v in a.json().items() if k not in strip} == {
        k: v for k, v in b.json().items() if k not in strip
    }


@pytest.mark.parametrize(
    "path",
    [
        "/runs/{run}/statements?payee_id=" + OTHER_PAYEE,
        "/runs/{run}/lines/" + OTHER_LINE,
        "/runs/{run}/traces/" + OTHER_LINE,
        "/runs/{run}/explanations/" + OTHER_LINE,
        "/ledger/" + OTHER_PAYEE,
    ],
)
def test_a_payee_guessing_another_payees_records_gets_404(world: Api, path: str) -> None:
    response = world.get("payee", path.format(run=world.ids["run"]))
    assert response.status_code == 404, response.text


def test_another_payee_cannot_see_or_touch_a_payees_dispute(world: Api) -> None:
    dispute_id = world.ids["dispute"]
    for method, path, body in [
        ("GET", f"/disputes/{dispute_id}", None),
        ("GET", f"/disputes/{dispute_id}/history", None),
        ("POST", f"/disputes/{dispute_id}/comments", {"text": "me too"}),
    ]:
        response = world.client.request(method, path, headers=world.auth("other_payee"), json=body)
        assert response.status_code == 404, (path, response.text)
    assert world.get("other_payee", "/disputes").json() == []


def test_a_dispute_another_payee_may_not_see_looks_exactly_like_one_that_does_not_exist(world: Api) -> None:
    hidden = world.get("other_payee", f"/disputes/{world.ids['dispute']}")
    missing = world.get("other_payee", "/disputes/999999")
    assert _same_problem(hidden, missing)
    assert hidden.json()["detail"] == f"there is no dispute {world.ids['dispute']}"


def test_a_payee_cannot_dispute_another_payees_line(world: Api) -> None:
    response = world.post("other_payee", "/disputes", json={"run_id": world.ids["run"], "line_id": DISPUTED_LINE, "claim": "mine"})
    assert response.status_code == 404


def test_a_payee_sees_their_own_line_trace_explanation_and_ledger(world: Api) -> None:
    run = world.ids["run"]
    for path in (f"/runs/{run}/lines/{DISPUTED_LINE}", f"/runs/{run}/traces/{DISPUTED_LINE}", f"/runs/{run}/explanations/{DISPUTED_LINE}"):
        assert world.get("payee", path).status_code == 200, path
    assert world.get("payee", f"/ledger/{PAYEE}").status_code == 200


def test_a_payee_does_not_see_draft_runs(world: Api) -> None:
    assert world.get("payee", f"/runs/{world.ids['draft_run']}/statements").status_code == 404


def test_a_manager_sees_their_teams_statements_and_no_one_elses(world: Api) -> None:
    run = world.ids["run"]
    assert world.get("manager", f"/runs/{run}/lines/{DISPUTED_LINE}").status_code == 200  # P004 reports to P030
    assert world.get("manager", f"/runs/{run}/lines/{OTHER_LINE}").status_code == 404  # P009 reports to P029
    shown = {s["payee_id"] for s in world.get("manager", f"/runs/{run}/statements").json()["statements"]}
    assert PAYEE in shown and OTHER_PAYEE not in shown


def test_a_managers_ledger_view_is_their_own_only(world: Api) -> None:
    assert world.get("manager", f"/ledger/{PAYEE}").status_code == 404


def test_an_arbitrator_reads_the_statements_of_disputed_runs_only(world: Api) -> None:
    assert world.get("arbitrator", f"/runs/{world.ids['run']}/statements").status_code == 200
    assert world.get("arbitrator", f"/runs/{world.ids['draft_run']}/statements").status_code == 404


def test_finance_and_admin_read_every_payees_records(world: Api) -> None:
    for user in ("finance", "admin"):
        assert world.get(user, f"/runs/{world.ids['run']}/lines/{OTHER_LINE}").status_code == 200
        assert world.get(user, f"/ledger/{OTHER_PAYEE}").status_code == 200


def test_every_role_of_the_table_is_a_role_users_can_have() -> None:
    assert set(EVERYONE) == set(users.ROLES) == {role for role, _ in USERS.values()}
