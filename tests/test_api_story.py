"""The whole story over HTTP only, on SQLite and PostgreSQL: an admin publishes the plans,
finance loads the company and closes 2026-Q1, a payee disputes a line that comes from a
split deal, the arbitrator replays the run, reassigns the split in a what-if and upholds the
dispute, finance closes 2026-Q2, and the ruling is paid on the payee's Q2 statement and in
their ledger.  The story runs once per database; each test checks one part of it."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest

from tests.api_support import DISPUTED_LINE, PAYEE, Api, close_period, database_on, load_company, make_api, publish_plans
from tests.conftest import ON_POSTGRES

Story = dict[str, Any]


@pytest.fixture(scope="module", params=["sqlite", ON_POSTGRES])
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with database_on(request.param, tmp_path_factory.mktemp("story")) as db:
        api = make_api(db)
        yield _tell(api)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _tell(api: Api) -> Story:
    told: Story = {}
    publish_plans(api)
    load_company(api)
    q1 = close_period(api, "2026-Q1")
    told["q1_run"] = q1
    told["q1_statement"] = _ok(api.get("payee", f"/runs/{q1}/statements"))
    told["explanation"] = _ok(api.get("payee", f"/runs/{q1}/explanations/{DISPUTED_LINE}"))
    dispute = _ok(
        api.post("payee", "/disputes", json={"run_id": q1, "line_id": DISPUTED_LINE, "claim": "D-5102 was split 50/50, not 60/40"}), 201
    )
    told["dispute"] = dispute
    told["replay"] = _ok(api.post("arbitrator", f"/disputes/{dispute['id']}/replay"), 201)
    overlay = {"kind": "credit", "deal": "D-5102", "splits": "P009:50%;P004:50%"}
    told["what_if"] = what_if = _ok(api.post("arbitrator", f"/disputes/{dispute['id']}/what-ifs", json=overlay), 201)
    ruling = {"outcome": "upheld", "rationale": "the signed order form splits D-5102 equally", "what_if_event_id": what_if["id"]}
    told["ruling"] = _ok(api.post("arbitrator", f"/disputes/{dispute['id']}/ruling", json=ruling), 201)
    told["comment"] = _ok(api.post("payee", f"/disputes/{dispute['id']}/comments", json={"text": "thank you"}), 201)
    told["q2_run"] = q2 = close_period(api, "2026-Q2")
    told["q2_statement"] = _ok(api.get("payee", f"/runs/{q2}/statements"))
    told["ledger"] = _ok(api.get("payee", f"/ledger/{PAYEE}"))
    told["history"] = _ok(api.get("arbitrator", f"/disputes/{dispute['id']}/history"))
    told["payee_history"] = _ok(api.get("payee", f"/disputes/{dispute['id']}/history"))
    return told


def _line(statement: Story, line_id: str) -> Story:
    return next(line for s in statement["statements"] for line in s["lines"] if line["line_id"] == line_id)


def test_the_payee_sees_only_their_own_statement(story: Story) -> None:
    assert [s["payee_id"] for s in story["q1_statement"]["statements"]] == [PAYEE]


def test_the_disputed_line_comes_from_a_split_deal(story: Story) -> None:
    line = _line(story["q1_statement"], DISPUTED_LINE)
    assert line["amount"] == "20975.00"
    # D-5102 (P009's deal, split P009:60%;P004:40%): 40% of its ACV 86,437.35 is 34,574.94, at 4%
    assert ["D-5102", "1383.00"] in line["by_deal"]


def test_the_line_is_explained_in_plain_words(story: Story) -> None:
    text = story["explanation"]["explanation"]
    assert text.startswith("Luis Ortega (P004) · 2026-Q1 · New business commission   20,975.00 USD")
    # the plan credits deal.acv (86,437.35), of which P004 has 40%; the deal amount shown is 172,874.70
    assert "deal D-5102 · 34,574.94 credited 40% of 172,874.70 (split)" in text


def test_the_replay_reproduces_the_disputed_run_exactly(story: Story) -> None:
    payload = story["replay"]["payload"]
    assert payload["reproduces"] is True
    assert payload["first_difference"] is None
    assert set(payload["hashes"]) >= {"input_sha256", "result_sha256", "trace_sha256"}
    assert all(h["recorded"] == h["replayed"] for h in payload["hashes"].values())


def test_the_what_if_giving_the_payee_half_of_the_split_deal_pays_the_tier_rate_on_the_extra_credit(story: Story) -> None:
    # 50% instead of 40% of D-5102's ACV 86,437.35 credits 8,643.735 more; P004 is far below
    # 50% attainment of a 2,000,000.00 quota, so band 1 at 4%, and the 24-month term earns no
    # multiplier: 8,643.735 × 4% = 345.7494, rounded half up to 345.75.
    disputed = story["what_if"]["payload"]["disputed_line"]
    assert (disputed["recorded"], disputed["what_if"], disputed["difference"]) == ("20975.00", "21320.75", "345.75")
    assert Decimal("86437.35") * Decimal("0.10") * Decimal("0.04") == Decimal("345.749400")


def test_the_what_if_also_shows_the_split_partner_losing_credit(story: Story) -> None:
    partner = next(line for line in story["what_if"]["payload"]["lines"] if line["line"] == "2026-Q1/P009/enterprise_ae/new_business")
    assert Decimal(partner["difference"]) < 0


def test_the_upheld_ruling_owes_the_what_ifs_difference(story: Story) -> None:
    adjustment = story["ruling"]["adjustment"]
    assert (adjustment["payee_id"], adjustment["adjusts_period"], adjustment["amount"]) == (PAYEE, "2026-Q1", "345.75")
    assert adjustment["by_deal"] == [["D-5102", "345.75"]]


def test_the_ruling_is_paid_on_the_payees_q2_statement_with_links_to_the_dispute(story: Story) -> None:
    dispute_id = story["dispute"]["id"]
    line = _line(story["q2_statement"], f"2026-Q2/{PAYEE}/enterprise_ae/new_business/ruling/{dispute_id}")
    assert (line["kind"], line["amount"], line["adjusts_period"]) == ("ruling", "345.75", "2026-Q1")
    assert line["links"]["dispute_id"] == dispute_id
    assert line["links"]["disputed_run_id"] == story["q1_run"]
    assert line["links"]["disputed_line_id"] == DISPUTED_LINE
    assert line["links"]["what_if_event_id"] == story["what_if"]["id"]
    assert line["links"]["ruling_event_id"] == story["ruling"]["event"]["id"]


def test_the_ledger_shows_the_ruling_paid_once(story: Story) -> None:
    rulings = [e for e in story["ledger"]["entries"] if e["kind"] == "ruling"]
    assert [(e["period"], e["account"], e["amount"], e["adjusts_period"]) for e in rulings] == [("2026-Q2", "payable", "345.75", "2026-Q1")]


def test_the_history_holds_every_event_in_order(story: Story) -> None:
    events = story["history"]["events"]
    assert [e["kind"] for e in events] == ["replay", "what_if", "ruling", "comment"]
    assert story["history"]["ruled"] is True


def test_every_event_payload_hashes_to_its_recorded_hash(story: Story) -> None:
    assert story["history"]["verifies"] is True
    for event in story["history"]["events"]:
        canonical = json.dumps(event["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(canonical.encode()).hexdigest() == event["payload_sha256"]


def test_the_payee_does_not_see_other_payees_lines_in_the_what_if(story: Story) -> None:
    what_if = next(e for e in story["payee_history"]["events"] if e["kind"] == "what_if")
    assert what_if["redacted"] is True
    assert {line["payee"] for line in what_if["payload"]["lines"]} == {PAYEE}
