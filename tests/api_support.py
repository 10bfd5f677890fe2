"""What the API tests share: the app on a database with one user of every role, and the
example company's first quarter run through the API (plans published, data loaded, 2026-Q1
closed, a payee's dispute of a line that comes from a split deal)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from compengine.api.app import create_app
from compengine.store import users
from compengine.store.database import Database, drop_schema_for_tests, reset_schema_for_tests
from tests.conftest import POSTGRES_URL
from tests.support import REPO

PLANS = sorted((REPO / "plans").glob("*.comp"))
COMPANY = REPO / "fixtures" / "company"
DATA_FILES = ("payees", "reporting_lines", "assignments", "quotas", "deals", "exchange_rates", "inputs")

#: One user per role; the payee is P004 (Luis Ortega, enterprise AE, split partner on D-5102),
#: the manager P030, whom P004 reports to; another payee, P009, owns D-5102.
USERS = {
    "admin": ("admin", None),
    "finance": ("finance", None),
    "arbitrator": ("arbitrator", None),
    "payee": ("payee", "P004"),
    "manager": ("manager", "P030"),
    "other_payee": ("payee", "P009"),
}
PAYEE = "P004"
OTHER_PAYEE = "P009"
DISPUTED_LINE = "2026-Q1/P004/enterprise_ae/new_business"
OTHER_LINE = "2026-Q1/P009/enterprise_ae/new_business"


@dataclass
class Api:
    """A test client on a database, with a token per user."""

    db: Database
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)

    def auth(self, user: str | None, **headers: str) -> dict[str, str]:
        found = dict(headers)
        if user is not None:
            found["Authorization"] = f"Bearer {self.tokens[user]}"
        return found

    def get(self, user: str | None, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.auth(user, **kwargs.pop("headers", {})), **kwargs)

    def post(self, user: str | None, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.auth(user, **kwargs.pop("headers", {})), **kwargs)


def make_api(db: Database) -> Api:
    api = Api(db, TestClient(create_app(db), raise_server_exceptions=False))
    for name, (role, payee_id) in USERS.items():
        users.add_user(db, name, role, payee_id)
        api.tokens[name] = users.create_token(db, name)[1]
    return api


def plan_body(path: Path) -> dict[str, Any]:
    libraries = {}
    text = path.read_text(encoding="utf-8")
    if "shared/rates.comp" in text:
        libraries["shared/rates.comp"] = (path.parent / "shared" / "rates.comp").read_text(encoding="utf-8")
    return {"file_name": path.name, "source": text, "libraries": libraries}


def publish_plans(api: Api) -> None:
    for path in PLANS:
        response = api.post("admin", "/plans", json=plan_body(path))
        assert response.status_code == 201, response.text


def load_company(api: Api) -> None:
    for name in DATA_FILES:
        body = (COMPANY / f"{name}.csv").read_bytes()
        response = api.post("finance", f"/data/{name}", content=body, headers={"Content-Type": "text/csv"})
        assert response.status_code == 200, response.text


def close_period(api: Api, period: str) -> int:
    assert api.post("finance", f"/cycles/{period}/open").status_code == 200
    run = api.post("finance", f"/cycles/{period}/runs")
    assert run.status_code == 201, run.text
    assert api.post("finance", f"/cycles/{period}/approve").status_code == 200
    assert api.post("finance", f"/cycles/{period}/close").status_code == 200
    return int(run.json()["run_id"])


def seed_first_quarter(api: Api) -> None:
    """Plans published, data loaded, 2026-Q1 closed, P004's dispute with one what-if."""
    publish_plans(api)
    load_company(api)
    api.ids["run"] = close_period(api, "2026-Q1")
    opened = api.post("payee", "/disputes", json={"run_id": api.ids["run"], "line_id": DISPUTED_LINE, "claim": "my split on D-5102 is 50%"})
    assert opened.status_code == 201, opened.text
    api.ids["dispute"] = opened.json()["id"]
    what_if = api.post(
        "arbitrator", f"/disputes/{api.ids['dispute']}/what-ifs", json={"kind": "credit", "deal": "D-5102", "splits": "P009:50%;P004:50%"}
    )
    assert what_if.status_code == 201, what_if.text
    api.ids["what_if"] = what_if.json()["id"]
    api.ids["version"] = api.get("admin", "/plans").json()[0]["id"]


@contextmanager
def database_on(kind: str, tmp: Path) -> Iterator[Database]:
    """A fresh database outside the function-scoped fixture (for module-scoped worlds)."""
    if kind == "sqlite":
        db = Database(f"sqlite:///{tmp / f'api-{uuid.uuid4().hex[:8]}.db'}")
        yield db
        db.dispose()
        return
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    reset_schema_for_tests(POSTGRES_URL, schema)
    db = Database(POSTGRES_URL, schema=schema)
    try:
        yield db
    finally:
        db.dispose()
        drop_schema_for_tests(POSTGRES_URL, schema)
