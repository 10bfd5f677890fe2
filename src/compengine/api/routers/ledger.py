"""The ledger: balances of every payee, or one payee's entries with running balances."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from compengine.api.auth import ADMIN, FINANCE, MANAGER, PAYEE, Caller, allow
from compengine.api.problems import not_found
from compengine.api.routers.common import ERRORS
from compengine.service.cycles import PayoutCycles
from compengine.service.views import balances_json, ledger_json

router = APIRouter(prefix="/ledger", tags=["ledger"], responses=ERRORS)


@router.get("", summary="Every payee's balances")
def all_balances(caller: Annotated[Caller, Depends(allow(ADMIN, FINANCE))]) -> dict[str, Any]:
    """The balance of every payee's account (payable, held, deferred, draw, receivable) and currency."""
    return {"balances": balances_json(PayoutCycles(caller.db).ledger())}


@router.get("/{payee_id}", summary="A payee's ledger")
def payee_ledger(
    payee_id: Annotated[str, Path(min_length=1, max_length=200)], caller: Annotated[Caller, Depends(allow(ADMIN, FINANCE, PAYEE, MANAGER))]
) -> dict[str, Any]:
    """Every entry in the order posted, with the running balance of its account, and the
    balances.  Payees and managers see only their own ledger."""
    if not caller.sees_ledger_of(payee_id):
        raise not_found(f"there is no ledger of {payee_id}")
    return ledger_json(payee_id, PayoutCycles(caller.db).ledger(payee_id))
