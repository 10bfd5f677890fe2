"""Disputes: a payee (or their manager) disputes a line; an arbitrator replays the run, runs
what-ifs and rules; anyone involved comments; the history is immutable and verifiable."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from compengine.api.audit import note
from compengine.api.auth import ARBITRATOR, EVERYONE, MANAGER, PAYEE, Caller, allow
from compengine.api.problems import not_found
from compengine.api.routers.common import ERRORS, WRITE_ERRORS, Id, IdempotencyKey
from compengine.service import disputes
from compengine.service.disputes import Dispute
from compengine.service.whatif import Overlay
from compengine.store.disputes import DisputeEvent
from compengine.store.runs import run_row, stored_lines

router = APIRouter(prefix="/disputes", tags=["disputes"], responses=ERRORS)


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_id: int = Field(ge=1, le=2**31 - 1, description="The approved or closed run the line is in.")
    line_id: str = Field(min_length=1, max_length=500, examples=["2026-Q1/P004/enterprise_ae/new_business"])
    claim: str = Field(min_length=1, max_length=20_000, description="What is wrong with the line, in words.")
    claimed_facts: JsonValue = Field(default=None, description="Any JSON: the facts the payee believes are right.")


class RulingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["upheld", "partially_upheld", "denied"]
    rationale: str = Field(min_length=1, max_length=20_000)
    what_if_event_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="The what-if that justifies an upheld ruling.")
    amount: Decimal | None = Field(default=None, description="A partially upheld ruling's smaller amount, as a decimal string.")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20_000)


class DisputeOut(BaseModel):
    id: int
    run: int
    line: str
    payee: str
    period: str
    opened_by: int | None
    opened_at: str
    claim: str
    claimed_facts: JsonValue


class EventOut(BaseModel):
    id: int
    dispute: int
    kind: str
    actor: int | None
    at: str
    payload: dict[str, Any]
    payload_sha256: str
    redacted: bool = False


class HistoryOut(BaseModel):
    dispute: DisputeOut
    events: list[EventOut]
    verifies: bool = Field(description="Every event's stored payload still hashes to its stored hash.")
    ruled: bool


def _dispute(caller: Caller, dispute_id: int) -> Dispute:
    found = disputes.get_dispute(caller.db, dispute_id)
    if not caller.sees_dispute(found):
        raise not_found(f"there is no dispute {dispute_id}")
    return found


def _event_json(caller: Caller, event: DisputeEvent) -> dict[str, Any]:
    """An event; for a payee or manager, a what-if's lines of payees they may not see are left
    out (`redacted`), and its `payload_sha256` is that of the whole payload as stored."""
    shown = event.to_json()
    if caller.reads_all or caller.role == ARBITRATOR or event.kind != "what_if":
        return shown
    lines = shown["payload"].get("lines", [])
    kept = [line for line in lines if caller.sees_statements_of(line.get("payee", ""))]
    if len(kept) != len(lines):
        shown["payload"] = {**shown["payload"], "lines": kept}
        shown["redacted"] = True
    return shown


@router.post("", status_code=201, summary="Open a dispute", response_model=DisputeOut, responses=WRITE_ERRORS)
def open_dispute(
    body: DisputeIn,
    request: Request,
    caller: Annotated[Caller, Depends(allow(PAYEE, MANAGER))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Dispute one earning line of an approved or closed run: a payee their own line, a
    manager a line of someone on their team (or their own)."""
    with caller.db.reading() as connection:
        try:
            run = run_row(connection, body.run_id)
        except LookupError:
            raise not_found(f"there is no run {body.run_id}") from None
        line = next((found for found in stored_lines(connection, body.run_id) if found.line_id == body.line_id), None)
    if run.status not in ("approved", "closed") or line is None or not caller.sees_statements_of(line.payee_id):
        raise not_found(f"run {body.run_id} has no line {body.line_id} that you can dispute")
    opened = disputes.open_dispute(caller.db, body.run_id, body.line_id, body.claim, body.claimed_facts, caller.user.id)
    note(request, dispute_id=opened.id, run_id=opened.run_id, line_id=opened.line_id)
    return opened.to_json()


@router.get("", summary="List disputes", response_model=list[DisputeOut])
def list_disputes(
    caller: Annotated[Caller, Depends(allow(*EVERYONE))],
    payee_id: Annotated[str | None, Query(max_length=200)] = None,
    run_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[dict[str, Any]]:
    """The disputes the caller may see, in the order opened (a payee: their own; a manager:
    their own and their team's)."""
    found = disputes.list_disputes(caller.db, payee_id, run_id)
    return [dispute.to_json() for dispute in found if caller.sees_dispute(dispute)]


@router.get("/{dispute_id}", summary="A dispute", response_model=DisputeOut)
def get_dispute(dispute_id: Id, caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> dict[str, Any]:
    return _dispute(caller, dispute_id).to_json()


@router.post("/{dispute_id}/replay", status_code=201, summary="Replay the disputed run", response_model=EventOut, responses=WRITE_ERRORS)
def replay(
    dispute_id: Id, request: Request, caller: Annotated[Caller, Depends(allow(ARBITRATOR))], idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Recalculate the disputed run from its sealed record; the event's payload says whether
    every hash reproduces (`reproduces`, `hashes`) and where it first differs if not."""
    event = disputes.replay(caller.db, dispute_id, caller.user.id)
    note(request, dispute_id=dispute_id, event_id=event.id, reproduces=event.payload["reproduces"])
    return event.to_json()


@router.post("/{dispute_id}/what-ifs", status_code=201, summary="Run a what-if", response_model=EventOut, responses=WRITE_ERRORS)
def what_if(
    dispute_id: Id,
    request: Request,
    overlays: Annotated[Overlay | list[Overlay], Body(description="One overlay, or a list applied in order.")],
    caller: Annotated[Caller, Depends(allow(ARBITRATOR))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Recalculate the disputed period as the pinned run would have with the overlays (a
    credit reassigned, a deal field, a quota, a parameter, another plan version): a
    line-by-line diff with both explanations and the clauses responsible."""
    event = disputes.what_if(caller.db, dispute_id, overlays, caller.user.id)
    note(request, dispute_id=dispute_id, event_id=event.id)
    return event.to_json()


@router.post("/{dispute_id}/ruling", status_code=201, summary="Rule on a dispute", responses=WRITE_ERRORS)
def rule(
    dispute_id: Id,
    body: RulingIn,
    request: Request,
    caller: Annotated[Caller, Depends(allow(ARBITRATOR))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Once per dispute.  An upheld ruling owes the what-if's difference on the disputed line
    (partially upheld: that or the smaller `amount`), paid as a ruling line of the next
    period's run; a denied one changes nothing else."""
    _dispute(caller, dispute_id)
    ruling = disputes.rule(caller.db, dispute_id, body.outcome, body.rationale, caller.user.id, body.what_if_event_id, body.amount)
    adjustment = ruling.adjustment
    note(request, dispute_id=dispute_id, event_id=ruling.event.id, outcome=body.outcome)
    return {
        "event": ruling.event.to_json(),
        "adjustment": None
        if adjustment is None
        else {
            "id": adjustment.id,
            "payee_id": adjustment.payee_id,
            "plan": adjustment.plan_id,
            "component": adjustment.component,
            "adjusts_period": adjustment.adjusts_period,
            "amount": format(adjustment.amount, "f"),
            "currency": adjustment.currency,
            "by_deal": [[deal, format(amount, "f")] for deal, amount in adjustment.attribution],
        },
    }


@router.post("/{dispute_id}/comments", status_code=201, summary="Comment on a dispute", response_model=EventOut, responses=WRITE_ERRORS)
def comment(
    dispute_id: Id,
    body: CommentIn,
    request: Request,
    caller: Annotated[Caller, Depends(allow(ARBITRATOR, PAYEE, MANAGER))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    _dispute(caller, dispute_id)
    event = disputes.comment(caller.db, dispute_id, body.text, caller.user.id)
    note(request, dispute_id=dispute_id, event_id=event.id)
    return event.to_json()


@router.get("/{dispute_id}/history", summary="A dispute's history", response_model=HistoryOut)
def history(dispute_id: Id, caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> dict[str, Any]:
    """The dispute and every event in order, each with the SHA-256 of its payload as stored."""
    _dispute(caller, dispute_id)
    found = disputes.history(caller.db, dispute_id)
    return {
        "dispute": found.dispute.to_json(),
        "events": [_event_json(caller, event) for event in found.events],
        "verifies": found.verifies,
        "ruled": found.ruled,
    }
