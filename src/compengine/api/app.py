"""The FastAPI application: routers per area, problem documents for every error, request
ids, the audit log and idempotency keys (docs/api.md).

`create_app(db)` builds the app on an open database; `compengine serve` runs it with uvicorn.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError as DatabaseDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from compengine import __version__
from compengine.api.audit import RequestMiddleware
from compengine.api.auth import EVERYONE, Caller, allow
from compengine.api.idempotency import IdempotencyMiddleware
from compengine.api.problems import ApiProblem, on_api_problem, on_http_exception, on_unexpected, on_validation_error
from compengine.api.routers import cycles, data, disputes, ledger, plans
from compengine.core.errors import CompengineError
from compengine.store.database import Database

DESCRIPTION = """\
The compengine system of record over HTTP: publish plans, load data, run payout cycles, read
statements with their traces and explanations, the ledger, and arbitrate disputes by exact
replay.  Sign in with `Authorization: Bearer <token>` (`compengine token create USER`).
Errors are `application/problem+json` (RFC 9457).  POSTs that create something accept an
`Idempotency-Key`.  See docs/api.md.
"""


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """On start, move every object made so far (the modules, the app) out of the cyclic
    collector's reach: they live as long as the server, and a full collection walking them
    all (~50 ms) is what a request allocating much, such as explaining a line with a large
    trace, otherwise pays now and then."""
    gc.freeze()
    yield


def create_app(db: Database) -> FastAPI:
    app = FastAPI(title="compengine", version=__version__, description=DESCRIPTION, lifespan=_lifespan)
    app.state.db = db
    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(CompengineError, on_api_problem)
    app.add_exception_handler(DatabaseDataError, on_api_problem)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
    # the last added is the outermost: the request id and audit wrap idempotency replays too
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RequestMiddleware)
    for router in (plans.router, data.router, cycles.router, ledger.router, disputes.router):
        app.include_router(router)

    @app.get("/me", tags=["users"], summary="Who the token belongs to")
    def me(caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> dict[str, Any]:
        return {"id": caller.user.id, "name": caller.user.name, "role": caller.user.role, "payee_id": caller.user.payee_id}

    return app
