"""Dispute arbitration by exact replay (the service layer under the API).

Every test runs on SQLite and PostgreSQL with the example company loaded, its plans
published and 2026-Q1 closed.  The disputed line is P009's Q1 new-business commission,
22,563.89 USD (enterprise_ae: marginal tiers on the year-to-date bookings against a quota of
800,000.00, 4% below 50%, 8% to 100%, × 1.2 for terms of 36 months or more):

    D-5101  150,000.00 × 4%                                         =  6,000.00
    D-5102   86,437.35 × 60% = 51,862.41 × 4%                       =  2,074.4964
    D-5103  250,000.00: 198,137.59 × 4% + 51,862.41 × 8% = 12,074.4964, × 1.2 = 14,489.39568
                                                                      22,563.89208 → 22,563.89

P009 claims D-5102 was theirs alone (P004, credited 40%, only helped).  With the whole
86,437.35 on P009 the running total reaches 236,437.35 before D-5103:

    D-5101                                                           =  6,000.00
    D-5102   86,437.35 × 4%                                          =  3,457.494
    D-5103  163,562.65 × 4% + 86,437.35 × 8% = 13,457.494, × 1.2     = 16,148.9928
                                                                      25,606.4868 → 25,606.49

so the what-if's difference on the disputed line is 25,606.49 − 22,563.89 = 3,042.60, and
P004's new business falls by 34,574.94 × 4% = 1,382.9976 → 1,383.00.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from compengine.service import disputes
from compengine.service.cycles import CycleError, PayoutCycles
from compengine.service.disputes import DisputeConflict, DisputeInvalid, DisputeNotFound, OverlayError
from compengine.store import facts
from compengine.store.database import Database
from compengine.store.plans import publish
from compengine.store.runs import stored_trace
from compengine.store.schema import dispute_events, ledger_entries, ruling_adjustments, run_lines, runs, users
from compengine.store.schema import disputes as disputes_table
from compengine.store.schema import facts as facts_table
from tests.store_support import count, publish_plans, rows_of, stepping_clock
from tests.support import COMPANY_DIR, PLANS_DIR

Q1, Q2, Q3 = "2026-Q1", "2026-Q2", "2026-Q3"
LINE = "2026-Q1/P009/enterprise_ae/new_business"
P004_LINE = "2026-Q1/P004/enterprise_ae/new_business"
WHOLE_DEAL_TO_P009 = {"kind": "credit", "deal": "D-5102", "splits": ""}
CLAIM = "D-5102 was mine alone; P004 only helped on the demo"


def closed_q1(db: Database) -> tuple[PayoutCycles, int]:
    """The example company with 2026-Q1 calculated, approved and closed: (service, run id)."""
    db.clock = stepping_clock(datetime(2026, 4, 2, 9, 0))
    facts.load(db, COMPANY_DIR)
    publish_plans(db)
    service = PayoutCycles(db)
    service.open(Q1)
    run_id = service.calculate(Q1).run_id
    service.approve(Q1, run_id)
    service.close(Q1)
    return service, run_id


def cycle(service: PayoutCycles, period: str) -> int:
    service.open(period)
    run_id = service.calculate(period).run_id
    service.approve(period, run_id)
    service.close(period)
    return run_id


def line_of(service: PayoutCycles, period: str, line_id: str) -> Decimal:
    _, lines = service.lines(period)
    return next(line.amount for line in lines if line.line_id == line_id)


def diff_line(event: disputes.DisputeEvent, line_id: str) -> dict[str, object]:
    return next(line for line in event.payload["lines"] if line["line"] == line_id)


def upheld(db: Database, run_id: int) -> disputes.Ruling:
    dispute = disputes.open_dispute(db, run_id, LINE, CLAIM, None, None)
    what_if = disputes.what_if(db, dispute.id, WHOLE_DEAL_TO_P009, None)
    return disputes.rule(db, dispute.id, "upheld", "The CRM record shows P009 alone on D-5102.", None, what_if.id)


# ------------------------------------------------------------------ opening
def test_a_payee_opens_a_dispute_on_a_line_of_a_closed_run(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, {"deal": "D-5102", "splits": "P009:100%"}, None)

    found = disputes.get_dispute(database, dispute.id)
    assert (found.run_id, found.line_id, found.payee_id, found.period, found.claim) == (run_id, LINE, "P009", Q1, CLAIM)
    assert found.claimed_facts == {"deal": "D-5102", "splits": "P009:100%"}
    assert [d.id for d in disputes.list_disputes(database, payee_id="P009")] == [dispute.id]
    assert disputes.list_disputes(database, payee_id="P004") == []


def test_a_line_of_a_draft_run_cannot_be_disputed(database: Database) -> None:
    service, _ = closed_q1(database)
    service.open(Q2)
    draft = service.calculate(Q2).run_id

    with pytest.raises(DisputeConflict, match="is a draft"):
        disputes.open_dispute(database, draft, "2026-Q2/P009/enterprise_ae/new_business", CLAIM, None, None)


def test_a_dispute_of_an_unknown_line_suggests_the_closest(database: Database) -> None:
    _, run_id = closed_q1(database)

    with pytest.raises(DisputeNotFound, match="did you mean '2026-Q1/P009/enterprise_ae/new_business'"):
        disputes.open_dispute(database, run_id, "2026-Q1/P009/enterprise_ae/new_busines", CLAIM, None, None)


def test_a_dispute_needs_a_claim_in_words(database: Database) -> None:
    _, run_id = closed_q1(database)

    with pytest.raises(DisputeInvalid, match="needs a claim"):
        disputes.open_dispute(database, run_id, LINE, "   ", None, None)
    assert count(database, disputes_table) == 0


# ------------------------------------------------------------------ replay
def test_replaying_the_disputed_run_reproduces_its_hashes(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)

    replay = disputes.replay(database, dispute.id, None).payload

    assert replay["reproduces"] is True
    assert replay["first_difference"] is None
    assert set(replay["hashes"]) >= {"result_sha256", "trace_sha256"}
    assert all(pair["recorded"] == pair["replayed"] for pair in replay["hashes"].values())


def test_a_replay_of_a_tampered_record_names_the_first_difference(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)
    with database.transaction() as connection:  # someone edits the sealed line behind the engine's back
        connection.execute(update(run_lines).where(run_lines.c.run_id == run_id, run_lines.c.line_id == LINE).values(amount="22600.00"))

    replay = disputes.replay(database, dispute.id, None).payload

    assert replay["reproduces"] is False
    assert LINE in replay["first_difference"]


# ------------------------------------------------------------------ what-ifs
def test_reassigning_a_split_deal_gives_the_hand_worked_differences(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)

    event = disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, None)

    assert event.payload["reproduces"] is True
    assert event.payload["disputed_line"] == {
        "line": LINE,
        "recorded": "22563.89",
        "original": "22563.89",
        "what_if": "25606.49",
        "difference": "3042.60",
        "currency": "USD",
    }
    assert diff_line(event, P004_LINE)["difference"] == "-1383.00"
    # the extra credit on D-5102 pushes part of D-5103 into the 8% band: both deals gain
    assert diff_line(event, LINE)["difference_by_deal"] == [["D-5102", "1382.99"], ["D-5103", "1659.61"]]


def test_a_what_if_names_the_clauses_responsible_with_their_source(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)

    event = disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, None)

    sources = {clause["source"] for clause in diff_line(event, LINE)["clauses"]}  # type: ignore[attr-defined]
    assert "enterprise_ae.comp:20:1" in sources  # credit bookings from deals ... to deal splits
    assert "enterprise_ae.comp:33:3" in sources  # marginal tiers on attainment
    explanation = diff_line(event, LINE)["explanation"]
    assert "22,563.89" in explanation["original"] and "25,606.49" in explanation["what_if"]  # type: ignore[index]


def test_a_what_if_edits_nothing_stored(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)
    before = [rows_of(database, table) for table in (facts_table, runs, run_lines, ledger_entries)]

    disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, None)

    assert [rows_of(database, table) for table in (facts_table, runs, run_lines, ledger_entries)] == before


def test_the_same_what_if_gives_the_same_payload_byte_for_byte(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)

    first = disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, None)
    second = disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, None)

    assert first.id != second.id
    assert first.payload_sha256 == second.payload_sha256


def test_a_what_if_sees_the_facts_as_known_when_the_run_was_calculated(database: Database, tmp_path: Path) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)
    later = tmp_path / "later"
    later.mkdir()
    (later / "deals.csv").write_text((COMPANY_DIR / "deals.csv").read_text().replace("86437.35", "96437.35"))
    facts.load(database, later)  # a correction after the run: not what the run knew

    event = disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, None)

    assert event.payload["disputed_line"]["what_if"] == "25606.49"


def test_correcting_a_deal_field_moves_the_running_total(database: Database) -> None:
    # D-5101's acv 150,000 → 160,000: +10,000 × 4% on D-5101, and 10,000 of D-5103 moves from
    # the 4% band to the 8% band: +10,000 × 4% × 1.2 = 480.00; together +880.00
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, "D-5101's ACV was 160,000", None, None)

    event = disputes.what_if(database, dispute.id, {"kind": "deal_field", "deal": "D-5101", "field": "acv", "value": "160000.00"}, None)

    assert event.payload["disputed_line"]["what_if"] == "23443.89"
    assert diff_line(event, LINE)["difference_by_deal"] == [["D-5101", "400.00"], ["D-5103", "480.00"]]


def test_overriding_a_quota_changes_the_tiers(database: Database) -> None:
    # quota 1,000,000: 50% is 500,000, so all of D-5103 stays at 4%: 250,000 × 4% × 1.2 = 12,000
    # → 6,000 + 2,074.4964 + 12,000 = 20,074.4964 → 20,074.50
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, "my quota was set too low", None, None)
    overlay = {"kind": "quota", "payee": "P009", "quota": "bookings", "period": "FY2026", "amount": "1000000.00"}

    event = disputes.what_if(database, dispute.id, overlay, None)

    assert event.payload["disputed_line"]["what_if"] == "20074.50"
    assert event.payload["disputed_line"]["difference"] == "-2489.39"


def test_overriding_a_parameter_changes_the_spiff(database: Database) -> None:
    # new_logo_spiff 2,000 USD: D-5101 2,000 × 100% + D-5102 2,000 × 60% = 3,200.00 (was 1,600.00)
    _, run_id = closed_q1(database)
    spiff = "2026-Q1/P009/enterprise_ae/new_logo_spiff"
    dispute = disputes.open_dispute(database, run_id, spiff, "the SPIFF was announced at 2,000", None, None)

    event = disputes.what_if(database, dispute.id, {"kind": "parameter", "name": "new_logo_spiff", "value": "2,000 USD"}, None)

    assert event.payload["disputed_line"]["what_if"] == "3200.00"
    assert {c["source"] for c in diff_line(event, spiff)["clauses"]} >= {"enterprise_ae.comp:40:1", "enterprise_ae.comp:17:11"}  # type: ignore[attr-defined]


def test_another_published_plan_version_can_be_evaluated(database: Database, tmp_path: Path) -> None:
    # version 4 pays 5% below 50%: D-5101 7,500; D-5102 51,862.41 × 5% = 2,593.1205;
    # D-5103 (198,137.59 × 5% + 51,862.41 × 8%) × 1.2 = 16,867.04676 → 26,960.16726 → 26,960.17
    _, run_id = closed_q1(database)
    source = (PLANS_DIR / "enterprise_ae.comp").read_text().replace("version 3", "version 4").replace("below 50%: 4%", "below 50%: 5%")
    (tmp_path / "enterprise_ae.comp").write_text(source)
    (tmp_path / "shared").symlink_to(PLANS_DIR / "shared")
    version_4 = publish(database, str(tmp_path / "enterprise_ae.comp"), "admin")
    dispute = disputes.open_dispute(database, run_id, LINE, "the 5% rate was agreed in January", None, None)

    event = disputes.what_if(database, dispute.id, {"kind": "plan_version", "published_id": version_4.id}, None)

    assert event.payload["disputed_line"]["what_if"] == "26960.17"
    assert line_of(PayoutCycles(database), Q1, LINE) == Decimal("22563.89")  # the run is as it was


def test_an_overlay_on_an_unknown_deal_names_the_field(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)

    with pytest.raises(OverlayError, match=r"there was no deal .D-5X02. when the run was calculated") as raised:
        disputes.what_if(database, dispute.id, {"kind": "credit", "deal": "D-5X02", "splits": ""}, None)
    assert raised.value.field == "overlays[0].deal"
    assert [e.kind for e in disputes.history(database, dispute.id).events] == []


def test_an_overlay_that_would_make_bad_data_is_refused(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)

    with pytest.raises(OverlayError, match="would not load"):
        disputes.what_if(database, dispute.id, {"kind": "credit", "deal": "D-5102", "splits": "P009:70%;P004:40%"}, None)


# ------------------------------------------------------------------ rulings
def test_an_upheld_ruling_is_paid_once_in_the_next_period_with_its_links(database: Database) -> None:
    service, run_id = closed_q1(database)
    ruling = upheld(database, run_id)
    assert ruling.adjustment is not None

    cycle(service, Q2)
    _, q2 = service.lines(Q2, payee_id="P009")
    paid = [line for line in q2 if line.kind == "ruling"]
    assert [(line.amount, line.adjusts_period, line.attribution) for line in paid] == [
        (Decimal("3042.60"), Q1, (("D-5102", Decimal("1382.99")), ("D-5103", Decimal("1659.61"))))
    ]
    dispute_id = ruling.event.dispute_id
    assert paid[0].line_id == f"2026-Q2/P009/enterprise_ae/new_business/ruling/{dispute_id}"
    with database.reading() as connection:
        trace = stored_trace(connection, paid[0].run_id, paid[0].line_id)
    assert (trace["dispute"], trace["run"], trace["line"], trace["what_if_event"]) == (
        dispute_id,
        run_id,
        LINE,
        ruling.adjustment.what_if_event_id,
    )
    assert [e.amount for e in service.ledger("P009") if e.kind == "ruling"] == [Decimal("3042.60")]

    cycle(service, Q3)
    _, q3 = service.lines(Q3)
    assert [line for line in q3 if line.kind in ("ruling", "adjustment") and line.payee_id == "P009"] == []


def test_a_ruling_made_after_the_next_run_was_calculated_waits_for_the_one_after(database: Database) -> None:
    service, run_id = closed_q1(database)
    service.open(Q2)
    q2_run = service.calculate(Q2).run_id
    upheld(database, run_id)
    service.approve(Q2, q2_run)
    service.close(Q2)

    cycle(service, Q3)

    _, q3 = service.lines(Q3, payee_id="P009")
    assert [(line.kind, line.amount) for line in q3 if line.kind == "ruling"] == [("ruling", Decimal("3042.60"))]


def test_a_ruling_is_never_paid_by_two_open_periods(database: Database) -> None:
    service, run_id = closed_q1(database)
    upheld(database, run_id)
    service.open(Q2)
    service.open(Q3)
    q2_run, q3_run = service.calculate(Q2).run_id, service.calculate(Q3).run_id
    service.approve(Q2, q2_run)
    service.approve(Q3, q3_run)
    service.close(Q2)

    with pytest.raises(CycleError, match="out of date"):
        service.close(Q3)
    assert [e.amount for e in service.ledger("P009") if e.kind == "ruling"] == [Decimal("3042.60")]


def test_an_adjustment_of_a_line_a_ruling_adjusted_too_is_flagged_before_approval(database: Database, tmp_path: Path) -> None:
    # the engine does not net a ruling against a later correction of the same facts: it warns
    service, run_id = closed_q1(database)
    dispute_id = upheld(database, run_id).event.dispute_id
    cycle(service, Q2)
    corrected = tmp_path / "corrected"
    corrected.mkdir()
    (corrected / "deals.csv").write_text((COMPANY_DIR / "deals.csv").read_text().replace("P009:60%;P004:40%", ""))
    facts.load(database, corrected)

    service.open(Q3)
    summary = service.calculate(Q3)

    warning = [note for note in summary.notes if f"dispute {dispute_id}'s ruling adjusted it by 3042.60 USD" in note]
    assert warning == [
        f"P009's new_business of 2026-Q1 is adjusted by 3042.60 USD, and dispute {dispute_id}'s ruling adjusted it by 3042.60 USD: "
        "check the two do not pay the same correction twice before approving"
    ]


def test_the_run_that_pays_a_ruling_replays_exactly(database: Database) -> None:
    service, run_id = closed_q1(database)
    upheld(database, run_id)
    q2_run = cycle(service, Q2)

    assert service.replay(q2_run).reproduces


def test_a_partially_upheld_ruling_pays_the_amount_given_spread_over_the_deals(database: Database) -> None:
    service, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)
    what_if = disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, None)

    ruling = disputes.rule(database, dispute.id, "partially_upheld", "Half the deal was P009's.", None, what_if.id, "1000.00")

    assert ruling.adjustment is not None
    assert ruling.adjustment.amount == Decimal("1000.00")
    assert sum(part for _, part in ruling.adjustment.attribution) == Decimal("1000.00")
    cycle(service, Q2)
    assert [e.amount for e in service.ledger("P009") if e.kind == "ruling"] == [Decimal("1000.00")]


def test_a_partial_amount_larger_than_the_what_if_difference_is_refused(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)
    what_if = disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, None)

    with pytest.raises(DisputeInvalid, match="no larger"):
        disputes.rule(database, dispute.id, "partially_upheld", "Too generous.", None, what_if.id, "3042.61")
    assert count(database, ruling_adjustments) == 0


def test_a_denied_ruling_is_recorded_and_changes_nothing_else(database: Database) -> None:
    service, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)

    ruling = disputes.rule(database, dispute.id, "denied", "P004 ran the technical evaluation; the split stands.", None)

    assert ruling.adjustment is None and ruling.event.payload["outcome"] == "denied"
    assert count(database, ruling_adjustments) == 0
    cycle(service, Q2)
    _, q2 = service.lines(Q2)
    assert [line for line in q2 if line.kind == "ruling"] == []


def test_an_upheld_ruling_needs_a_what_if_that_changes_the_line(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, None)
    unchanged = disputes.what_if(
        database, dispute.id, {"kind": "deal_field", "deal": "D-5102", "field": "product", "value": "analytics"}, None
    )

    with pytest.raises(DisputeInvalid, match="does not change the disputed line"):
        disputes.rule(database, dispute.id, "upheld", "Upheld.", None, unchanged.id)
    with pytest.raises(DisputeInvalid, match="needs the what-if"):
        disputes.rule(database, dispute.id, "upheld", "Upheld.", None)


def test_a_dispute_is_ruled_once_and_then_takes_no_more_what_ifs(database: Database) -> None:
    _, run_id = closed_q1(database)
    ruling = upheld(database, run_id)
    dispute_id = ruling.event.dispute_id

    with pytest.raises(DisputeConflict, match="already been ruled"):
        disputes.rule(database, dispute_id, "denied", "Second thoughts.", None)
    with pytest.raises(DisputeConflict, match="has been ruled"):
        disputes.what_if(database, dispute_id, WHOLE_DEAL_TO_P009, None)
    assert count(database, ruling_adjustments) == 1


def test_the_database_refuses_a_second_ruling_event(database: Database) -> None:
    _, run_id = closed_q1(database)
    dispute_id = upheld(database, run_id).event.dispute_id

    with pytest.raises(Exception, match=r"(?i)unique"), database.transaction() as connection:
        connection.execute(
            insert(dispute_events).values(
                dispute_id=dispute_id, kind="ruling", actor=None, at=datetime(2026, 5, 1), payload="{}", payload_sha256="0" * 64
            )
        )


# ------------------------------------------------------------------ history
def test_the_history_lists_every_event_in_order_with_who_did_it_and_verifiable_hashes(database: Database) -> None:
    _, run_id = closed_q1(database)
    with database.transaction() as connection:
        payee = connection.execute(
            insert(users).returning(users.c.id).values(name="P009", role="payee", payee_id="P009", created_at=datetime(2026, 1, 1))
        ).scalar_one()
        judge = connection.execute(
            insert(users).returning(users.c.id).values(name="judge", role="arbitrator", created_at=datetime(2026, 1, 1))
        ).scalar_one()
    dispute = disputes.open_dispute(database, run_id, LINE, CLAIM, None, payee)
    disputes.replay(database, dispute.id, judge)
    disputes.comment(database, dispute.id, "Hearing held on 14 April with both AEs.", judge)
    what_if = disputes.what_if(database, dispute.id, WHOLE_DEAL_TO_P009, judge)
    disputes.rule(database, dispute.id, "upheld", "The CRM record shows P009 alone.", judge, what_if.id)

    history = disputes.history(database, dispute.id)

    assert history.dispute.opened_by == payee
    assert [(e.kind, e.actor) for e in history.events] == [("replay", judge), ("comment", judge), ("what_if", judge), ("ruling", judge)]
    assert [e.at for e in history.events] == sorted(e.at for e in history.events)
    assert history.verifies
    assert history.events[-1].payload["what_if_sha256"] == what_if.payload_sha256
    assert json.loads(json.dumps(history.to_json()))["events"][2]["payload"]["disputed_line"]["difference"] == "3042.60"


def test_an_unknown_actor_is_refused(database: Database) -> None:
    _, run_id = closed_q1(database)

    with pytest.raises(DisputeNotFound, match="no user 999"):
        disputes.open_dispute(database, run_id, LINE, CLAIM, None, 999)
