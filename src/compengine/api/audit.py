"""The request id and the audit log.

Every request gets an id: the client's `X-Request-ID` if it sends a usable one, else a new
one; it is echoed in the response's `X-Request-ID` header and in every problem document.
Every write (any method but GET, HEAD and OPTIONS), allowed or refused, is recorded in
`audit_log`: who (the user, if signed in), when, the method and path, the response status,
the request id, and what was created or changed (a handler describes it in
`request.state.audit`).  Entries are only ever added.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy import insert
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from compengine.api.problems import internal_error
from compengine.store.database import Database
from compengine.store.schema import audit_log

REQUEST_ID = "X-Request-ID"
_USABLE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,100}")
READS = ("GET", "HEAD", "OPTIONS")


def note(request: Request, **what: Any) -> None:
    """Describe, for the audit log, what this request created or changed."""
    current = getattr(request.state, "audit", None) or {}
    request.state.audit = {**current, **what}


def record(db: Database, user_id: int | None, request_id: str, method: str, path: str, status: int, detail: dict[str, Any]) -> None:
    with db.transaction() as connection:
        connection.execute(
            insert(audit_log).values(
                at=db.now(),
                user_id=user_id,
                request_id=request_id,
                method=method,
                path=path[:1000],
                status=status,
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        )


class RequestMiddleware(BaseHTTPMiddleware):
    """The outermost layer: request id, the last-resort error handler, the audit log."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = request.headers.get(REQUEST_ID, "")
        request_id = given if _USABLE_ID.fullmatch(given) else uuid.uuid4().hex
        request.state.request_id = request_id
        try:
            response = await call_next(request)
        except Exception as error:  # a bug: logged, answered as a bare 500 problem
            response = internal_error(request, error)
        response.headers[REQUEST_ID] = request_id
        if request.method not in READS:
            user = getattr(request.state, "user", None)
            detail = getattr(request.state, "audit", None) or {}
            if request.url.query:
                detail = {"query": request.url.query, **detail}
            db: Database = request.app.state.db
            await run_in_threadpool(
                record, db, user.id if user else None, request_id, request.method, request.url.path, response.status_code, detail
            )
        return response
