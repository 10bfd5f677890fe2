"""How the API fails, retries and remembers, on SQLite and PostgreSQL: every error is an RFC
9457 problem document that says what to fix (the field, the plan's line and column, the data
row and field) and never shows code; a POST retried with its Idempotency-Key creates nothing
twice; every write is in the audit log with its request id."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from compengine.service.cycles import PayoutCycles
from compengine.store.schema import audit_log, dispute_events, runs
from tests.api_support import COMPANY, DISPUTED_LINE, PLANS, Api, database_on, make_api, plan_body, seed_first_quarter
from tests.conftest import ON_POSTGRES

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


@pytest.fixture(scope="module", params=["sqlite", ON_POSTGRES])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with database_on(request.param, tmp_path_factory.mktemp("errors")) as db:
        api = make_api(db)
        seed_first_quarter(api)
        yield api


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    return body


# ------------------------------------------------------------------ problem documents
def test_an_error_is_a_problem_document(world: Api) -> None:
    body = _problem(world.get("admin", "/disputes/999999"), 404)
    assert body["type"] == "urn:compengine:problem:not-found"
    assert body["instance"] == "/disputes/999999"
    assert body["detail"] == "there is no dispute 999999"


def test_an_unknown_path_is_a_problem_document_too(world: Api) -> None:
    _problem(world.get("admin", "/no/such/thing"), 404)


def test_a_validation_error_names_the_field(world: Api) -> None:
    body = _problem(world.post("finance", "/cycles/2026-Q3/runs", json={"as_of": "31/03/2026"}), 422)
    assert body["field"] == "as_of"
    assert body["errors"][0]["field"] == "as_of"
    assert body["errors"][0]["in"] == "body"


def test_a_missing_field_is_named(world: Api) -> None:
    body = _problem(world.post("payee", "/disputes", json={"run_id": world.ids["run"], "line_id": DISPUTED_LINE}), 422)
    assert body["field"] == "claim"


def test_a_badly_written_period_is_refused_naming_it(world: Api) -> None:
    body = _problem(world.post("finance", "/cycles/Q1-2026/open"), 422)
    assert body["field"] == "period"


def test_a_period_the_plans_do_not_have_is_refused(world: Api) -> None:
    body = _problem(world.post("finance", "/cycles/2026-M13/open"), 422)
    assert body["field"] == "period"


def test_a_plan_with_errors_is_refused_with_its_diagnostics_and_where_they_are(world: Api) -> None:
    broken = plan_body(PLANS[0])
    broken["source"] = broken["source"].replace("currency USD", "currency", 1)
    body = _problem(world.post("admin", "/plans", json=broken), 422)
    assert body["type"] == "urn:compengine:problem:plan-invalid"
    first = body["diagnostics"][0]
    assert {"line", "column", "code", "message", "severity"} <= set(first)
    assert first["line"] > 1 and first["column"] >= 1 and first["severity"] == "error"


def test_checking_a_plan_gives_its_diagnostics_and_publishes_nothing(world: Api) -> None:
    before = len(world.get("admin", "/plans").json())
    response = world.post("admin", "/plans/check", json={"file_name": "x.comp", "source": "plan x\n  version ?\n"})
    assert response.status_code == 200
    result = response.json()
    assert result["ok"] is False and result["diagnostics"][0]["line"] == 2
    assert len(world.get("admin", "/plans").json()) == before


@pytest.mark.parametrize("source", ["", "\x00\x01\x02", "plan " + "(" * 5000, 'use x from "../../etc/passwd"\n', "é" * 10000])
def test_checking_any_text_never_fails_on_the_server(world: Api, source: str) -> None:
    response = world.post("finance", "/plans/check", json={"file_name": "odd.comp", "source": source})
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is False


def test_a_bad_data_row_is_refused_naming_its_row_and_field_and_nothing_is_recorded(world: Api) -> None:
    # (dated next year, so no 2026 period counts the deal that does load)
    csv = (
        "deal_id,owner,type,product,amount,currency,close_date,acv\n"
        "D-9001,P004,new,platform,1000.00,USD,2027-02-01,1000.00\n"
        "D-9002,P004,new,platform,$5,USD,2027-02-03,5\n"
    )
    body = _problem(world.post("finance", "/data/deals", content=csv, headers={"Content-Type": "text/csv"}), 422)
    assert body["type"] == "urn:compengine:problem:data-invalid"
    assert {"file": "deals.csv", "row": 3, "field": "amount"}.items() <= body["errors"][0].items()
    good = csv.rsplit("\n", 2)[0] + "\n"  # the first row alone loads: it was not recorded before
    recorded = world.post("finance", "/data/deals", content=good, headers={"Content-Type": "text/csv"})
    assert recorded.status_code == 200 and recorded.json()["new_versions"] == {"deal": 1}


def test_a_bad_json_row_is_refused_naming_its_row_and_field(world: Api) -> None:
    rows = [{"payee_id": "P900", "name": "New Hire", "hire_date": "2026-02-30"}]
    body = _problem(world.post("finance", "/data/payees", json=rows), 422)
    assert {"file": "payees.json", "row": 1, "field": "hire_date"}.items() <= body["errors"][0].items()


def test_a_data_file_that_is_not_json_is_refused_as_data(world: Api) -> None:
    body = _problem(world.post("finance", "/data/deals", content=b"{not json", headers={"Content-Type": "application/json"}), 422)
    assert body["errors"][0]["file"] == "deals.json"


def test_a_data_file_may_be_uploaded_as_a_form(world: Api) -> None:
    files = {"file": ("payees.csv", (COMPANY / "payees.csv").read_bytes(), "text/csv")}
    response = world.client.post("/data/payees", files=files, headers=world.auth("finance"))
    assert response.status_code == 200, response.text
    assert response.json()["load_id"] is None  # every row was known already


def test_an_unexpected_failure_is_a_500_problem_with_no_trace_of_the_code(
    world: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: PayoutCycles) -> list[dict[str, Any]]:
        raise RuntimeError("secret internals at line 42")

    monkeypatch.setattr(PayoutCycles, "status", broken)
    with caplog.at_level(logging.ERROR, logger="compengine.api"):
        response = world.get("finance", "/cycles", headers={"X-Request-ID": "boom-1"})
    body = _problem(response, 500)
    assert "Traceback" not in response.text and "RuntimeError" not in response.text and "secret" not in response.text
    assert body["request_id"] == "boom-1" and "boom-1" in body["detail"]
    assert response.headers["X-Request-ID"] == "boom-1"
    assert "secret internals" in caplog.text  # logged on the server, with its traceback


def test_the_request_id_is_echoed_or_made_up(world: Api) -> None:
    given = world.get("admin", "/me", headers={"X-Request-ID": "req-7f3a"})
    assert given.headers["X-Request-ID"] == "req-7f3a"
    made = world.get("admin", "/me")
    assert len(made.headers["X-Request-ID"]) == 32


# ------------------------------------------------------------------ idempotency
def _run_count(api: Api, period: str) -> int:
    with api.db.reading() as connection:
        return len(connection.execute(select(runs.c.id).where(runs.c.period == period)).all())


def test_retrying_a_calculation_with_its_key_creates_no_second_run(world: Api) -> None:
    assert world.post("finance", "/cycles/2026-Q2/open").status_code == 200
    before = _run_count(world, "2026-Q2")
    first = world.post("finance", "/cycles/2026-Q2/runs", json={}, headers={"Idempotency-Key": "calc-q2-1"})
    again = world.post("finance", "/cycles/2026-Q2/runs", json={}, headers={"Idempotency-Key": "calc-q2-1"})
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _run_count(world, "2026-Q2") == before + 1


def test_the_same_key_with_a_different_body_is_refused(world: Api) -> None:
    world.post("finance", "/cycles/2026-Q2/open")
    first = world.post("finance", "/cycles/2026-Q2/runs", json={}, headers={"Idempotency-Key": "calc-q2-2"})
    assert first.status_code == 201
    other = world.post("finance", "/cycles/2026-Q2/runs", json={"as_of": "2026-05-15"}, headers={"Idempotency-Key": "calc-q2-2"})
    body = _problem(other, 422)
    assert body["type"] == "urn:compengine:problem:idempotency-key-reused"
    assert body["field"] == "Idempotency-Key"


def test_the_same_key_on_another_endpoint_is_refused(world: Api) -> None:
    assert world.post("finance", "/cycles/2026-Q3/open", headers={"Idempotency-Key": "k-shared"}).status_code == 200
    _problem(world.post("finance", "/cycles/2026-Q4/open", headers={"Idempotency-Key": "k-shared"}), 422)


def test_keys_belong_to_their_user(world: Api) -> None:
    mine = world.post("payee", f"/disputes/{world.ids['dispute']}/comments", json={"text": "a"}, headers={"Idempotency-Key": "c-1"})
    theirs = world.post("arbitrator", f"/disputes/{world.ids['dispute']}/comments", json={"text": "a"}, headers={"Idempotency-Key": "c-1"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def test_two_identical_requests_at_once_create_one_run(world: Api) -> None:
    world.post("finance", "/cycles/2026-Q2/open")
    before = _run_count(world, "2026-Q2")
    responses: list[Any] = []

    def send() -> None:
        responses.append(world.post("finance", "/cycles/2026-Q2/runs", json={}, headers={"Idempotency-Key": "race-1"}))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _run_count(world, "2026-Q2") == before + 1
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 201], [201, 409]), [r.text for r in responses]
    if statuses == [201, 201]:
        assert responses[0].json() == responses[1].json()


def test_retrying_a_ruling_with_its_key_records_one_ruling(world: Api) -> None:
    opened = world.post("payee", "/disputes", json={"run_id": world.ids["run"], "line_id": DISPUTED_LINE, "claim": "again"})
    dispute_id = opened.json()["id"]
    ruling = {"outcome": "denied", "rationale": "calculated as the plan says"}
    first = world.post("arbitrator", f"/disputes/{dispute_id}/ruling", json=ruling, headers={"Idempotency-Key": "rule-1"})
    again = world.post("arbitrator", f"/disputes/{dispute_id}/ruling", json=ruling, headers={"Idempotency-Key": "rule-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    with world.db.reading() as connection:
        rulings = connection.execute(
            select(dispute_events.c.id).where(dispute_events.c.dispute_id == dispute_id, dispute_events.c.kind == "ruling")
        ).all()
    assert len(rulings) == 1
    without_key = world.post("arbitrator", f"/disputes/{dispute_id}/ruling", json=ruling)
    _problem(without_key, 409)  # a second ruling, not a retry: refused


# ------------------------------------------------------------------ the audit log
def _audit(api: Api, request_id: str) -> list[Any]:
    with api.db.reading() as connection:
        return list(connection.execute(select(audit_log).where(audit_log.c.request_id == request_id)))


def test_a_write_is_in_the_audit_log_with_who_what_and_its_request_id(world: Api) -> None:
    response = world.post(
        "payee", f"/disputes/{world.ids['dispute']}/comments", json={"text": "see attached"}, headers={"X-Request-ID": "audit-1"}
    )
    assert response.status_code == 201
    [row] = _audit(world, "audit-1")
    assert (row.method, row.path, row.status) == ("POST", f"/disputes/{world.ids['dispute']}/comments", 201)
    assert row.user_id == world.get("payee", "/me").json()["id"]
    assert json.loads(row.detail) == {"dispute_id": world.ids["dispute"], "event_id": response.json()["id"]}


def test_a_refused_write_is_in_the_audit_log_too(world: Api) -> None:
    assert world.post("payee", "/cycles/2026-Q2/close", headers={"X-Request-ID": "audit-2"}).status_code == 403
    [row] = _audit(world, "audit-2")
    assert row.status == 403


def test_an_idempotent_replay_is_in_the_audit_log_as_a_replay(world: Api) -> None:
    world.post("finance", "/cycles/2026-Q2/open")
    world.post("finance", "/cycles/2026-Q2/runs", json={}, headers={"Idempotency-Key": "audit-k", "X-Request-ID": "audit-3"})
    world.post("finance", "/cycles/2026-Q2/runs", json={}, headers={"Idempotency-Key": "audit-k", "X-Request-ID": "audit-4"})
    assert "run_id" in json.loads(_audit(world, "audit-3")[0].detail)
    assert json.loads(_audit(world, "audit-4")[0].detail)["replayed"] is True


def test_reads_are_not_audited(world: Api) -> None:
    world.get("admin", "/plans", headers={"X-Request-ID": "audit-5"})
    assert _audit(world, "audit-5") == []


def test_text_the_database_cannot_hold_is_refused_not_a_crash(world: Api) -> None:
    response = world.post("arbitrator", f"/disputes/{world.ids['dispute']}/comments", json={"text": "a\x00b"})
    assert response.status_code in (201, 422), response.text  # SQLite keeps it; PostgreSQL text cannot
    assert world.get("admin", "/ledger/P%00004").status_code in (200, 422)
