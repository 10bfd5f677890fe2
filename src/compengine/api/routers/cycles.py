"""Cycles and runs: open a period, calculate draft runs, approve, close, export payroll; read
a run's record, its statements, one line, the line's trace and its explanation."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from compengine.api.audit import note
from compengine.api.auth import ADMIN, ARBITRATOR, EVERYONE, FINANCE, Caller, allow
from compengine.api.problems import ApiProblem, not_found
from compengine.api.routers.common import ERRORS, WRITE_ERRORS, Id, IdempotencyKey, Period
from compengine.service.cycles import CycleError, PayoutCycles
from compengine.service.views import (
    cycle_json,
    explain_stored,
    is_period,
    line_json,
    ruling_line_ids,
    ruling_links,
    run_json,
    run_summary_json,
    runs_of,
    statements_json,
)
from compengine.store.disputes import RULING
from compengine.store.runs import StoredLine, run_row, stored_line, stored_lines, stored_trace

router = APIRouter(tags=["cycles"], responses=ERRORS)

PayeeFilter = Annotated[str | None, Query(max_length=200, description="Only this payee's lines.")]


class CalculateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(default=None, description="Count deals closed by this day (default: the period's last day).")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="The run to approve (default: the newest draft).")


class CycleOut(BaseModel):
    period: str
    status: str
    opened_at: str | None
    approved_run_id: int | None
    closed_run_id: int | None
    closed_at: str | None


class RunSummaryOut(BaseModel):
    run_id: int
    period: str
    result_sha256: str
    statements: int
    lines: int
    adjustments: int
    rulings: int
    notes: list[str]


def _known_period(caller: Caller, period: str) -> None:
    if not is_period(caller.db, period):
        raise ApiProblem(422, "request-invalid", f"{period!r} is not a period of the published plans", field="period")


def _cycle(caller: Caller, period: str) -> dict[str, Any]:
    found = next((row for row in PayoutCycles(caller.db).status() if row["period"] == period), None)
    if found is None:
        raise not_found(f"{period} has not been opened")
    return cycle_json(found)


# ------------------------------------------------------------------ the cycle
@router.get("/cycles", summary="Every period's cycle", response_model=list[CycleOut])
def list_cycles(caller: Annotated[Caller, Depends(allow(ADMIN, FINANCE))]) -> list[dict[str, Any]]:
    return [cycle_json(row) for row in PayoutCycles(caller.db).status()]


@router.get("/cycles/{period}", summary="One period's cycle and its runs")
def get_cycle(period: Period, caller: Annotated[Caller, Depends(allow(ADMIN, FINANCE))]) -> dict[str, Any]:
    found = _cycle(caller, period)
    with caller.db.reading() as connection:
        found["runs"] = [run_json(row) for row in runs_of(connection, period)]
    return found


@router.post("/cycles/{period}/open", summary="Open a period", response_model=CycleOut, responses=WRITE_ERRORS)
def open_cycle(
    period: Period, request: Request, caller: Annotated[Caller, Depends(allow(FINANCE))], idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Open the period for calculation (opening an open period again changes nothing)."""
    _known_period(caller, period)
    PayoutCycles(caller.db).open(period)
    note(request, period=period, opened=True)
    return _cycle(caller, period)


@router.post(
    "/cycles/{period}/runs", status_code=201, summary="Calculate a draft run", response_model=RunSummaryOut, responses=WRITE_ERRORS
)
def calculate(
    period: Period,
    request: Request,
    caller: Annotated[Caller, Depends(allow(FINANCE))],
    body: CalculateIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """A sealed draft run of the period: every statement, the prior-period adjustments owed
    and the rulings due.  Repeat as often as needed; each run is kept."""
    _known_period(caller, period)
    summary = PayoutCycles(caller.db).calculate(period, as_of=body.as_of if body else None)
    note(request, period=period, run_id=summary.run_id, result_sha256=summary.result_sha256)
    return run_summary_json(summary)


@router.post("/cycles/{period}/approve", summary="Approve a run", response_model=CycleOut, responses=WRITE_ERRORS)
def approve(
    period: Period,
    request: Request,
    caller: Annotated[Caller, Depends(allow(FINANCE))],
    body: ApproveIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    run_id = PayoutCycles(caller.db).approve(period, body.run_id if body else None)
    note(request, period=period, approved_run_id=run_id)
    return _cycle(caller, period)


@router.post("/cycles/{period}/close", summary="Close a period", responses=WRITE_ERRORS)
def close(
    period: Period, request: Request, caller: Annotated[Caller, Depends(allow(FINANCE))], idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Post the approved run to the ledger and lock the period for good."""
    summary = PayoutCycles(caller.db).close(period)
    note(request, period=period, closed_run_id=summary.run_id, ledger_entries=summary.entries)
    return {
        "period": summary.period,
        "run_id": summary.run_id,
        "ledger_entries": summary.entries,
        "paid": [
            {"payee_id": payee_id, "currency": currency, "amount": format(amount, "f")}
            for (payee_id, currency), amount in sorted(summary.paid.items())
        ],
    }


@router.get(
    "/cycles/{period}/payroll",
    summary="The payroll file of a closed period",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "payee_id,amount,currency,period,ledger_entries"}},
)
def payroll(period: Period, caller: Annotated[Caller, Depends(allow(ADMIN, FINANCE))]) -> Response:
    text = PayoutCycles(caller.db).export(period)
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="payroll-{period}.csv"'}
    )


# ------------------------------------------------------------------ runs, statements, lines
def _visible_run(caller: Caller, run_id: int) -> tuple[Any, bool | None]:
    """The run, if the caller may see it, and how much of it (`Caller.sees_run`); a 404
    exactly as for one that does not exist."""
    with caller.db.reading() as connection:
        try:
            run = run_row(connection, run_id)
        except LookupError:
            raise not_found(f"there is no run {run_id}") from None
    sees = caller.sees_run(run_id)
    if sees is False or (sees is None and run.status not in ("approved", "closed")):
        raise not_found(f"there is no run {run_id}")
    return run, sees


def _visible_lines(caller: Caller, run_id: int, payee_id: str | None) -> tuple[Any, list[StoredLine]]:
    """The run and its lines the caller may see (of one payee if asked); a 404 for a run, or a
    payee, they may not see, exactly as for one that does not exist."""
    run, sees = _visible_run(caller, run_id)
    if payee_id is not None and sees is None and not caller.sees_statements_of(payee_id):
        raise not_found(f"run {run_id} has no statement of {payee_id}")
    with caller.db.reading() as connection:
        lines = stored_lines(connection, run_id, payee_id)
    if sees is None:
        lines = [line for line in lines if caller.sees_statements_of(line.payee_id)]
    return run, lines


def _statements(caller: Caller, period: str, run_id: int, lines: list[StoredLine]) -> dict[str, Any]:
    with caller.db.reading() as connection:
        traces = {line_id: stored_trace(connection, run_id, line_id) for line_id in ruling_line_ids(lines)}
    return statements_json(period, run_id, lines, traces)


@router.get("/runs/{run_id}", summary="A sealed run's record")
def get_run(run_id: Id, caller: Annotated[Caller, Depends(allow(ADMIN, FINANCE, ARBITRATOR))]) -> dict[str, Any]:
    run, _ = _visible_lines(caller, run_id, None)
    return run_json(run)


@router.get("/runs/{run_id}/statements", summary="A run's statements")
def run_statements(run_id: Id, caller: Annotated[Caller, Depends(allow(*EVERYONE))], payee_id: PayeeFilter = None) -> dict[str, Any]:
    """One statement per payee (and currency) with its lines and total: earnings,
    prior-period adjustments, and ruling lines with links to their dispute."""
    run, lines = _visible_lines(caller, run_id, payee_id)
    return _statements(caller, run.period, run_id, lines)


@router.get("/cycles/{period}/statements", summary="A period's statements")
def period_statements(period: Period, caller: Annotated[Caller, Depends(allow(*EVERYONE))], payee_id: PayeeFilter = None) -> dict[str, Any]:
    """The statements of the period's closed run, else its approved run (and, for finance
    and admin, else its newest draft)."""
    try:
        run_id, _ = PayoutCycles(caller.db).lines(period, None, payee_id="")  # (only which run: no payee is "")
    except CycleError as error:
        raise not_found(str(error)) from None
    _, lines = _visible_lines(caller, run_id, payee_id)
    return _statements(caller, period, run_id, lines)


def _line(caller: Caller, run_id: int, line_id: str) -> StoredLine:
    """One line the caller may see; a 404 exactly as for a line that does not exist otherwise."""
    _, sees = _visible_run(caller, run_id)
    with caller.db.reading() as connection:
        found = stored_line(connection, run_id, line_id)
    if found is None or (sees is None and not caller.sees_statements_of(found.payee_id)):
        raise not_found(f"run {run_id} has no line {line_id}")
    return found


@router.get("/runs/{run_id}/lines/{line_id:path}", summary="One line of a run")
def get_line(run_id: Id, line_id: str, caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> dict[str, Any]:
    line = _line(caller, run_id, line_id)
    links = None
    if line.kind == RULING:
        with caller.db.reading() as connection:
            links = ruling_links(stored_trace(connection, run_id, line_id))
    return line_json(line, links)


@router.get("/runs/{run_id}/traces/{line_id:path}", summary="A line's trace (compengine.trace/1)")
def get_trace(run_id: Id, line_id: str, caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> dict[str, Any]:
    """The full derivation as stored with the run (docs/data.md describes the format); an
    adjustment's or ruling's record for those lines."""
    _line(caller, run_id, line_id)
    with caller.db.reading() as connection:
        return stored_trace(connection, run_id, line_id)


@router.get("/runs/{run_id}/explanations/{line_id:path}", summary="A line explained in plain words")
def get_explanation(run_id: Id, line_id: str, caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> dict[str, Any]:
    """The text `compengine explain` prints for the line: deals, shares, running totals, bands,
    rates, multipliers, caps and why they did or did not apply."""
    line = _line(caller, run_id, line_id)
    with caller.db.reading() as connection:
        trace = stored_trace(connection, run_id, line_id)
    return {"run_id": run_id, "line_id": line_id, "explanation": explain_stored(line, trace)}
