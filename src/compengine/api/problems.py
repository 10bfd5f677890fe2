"""Errors as RFC 9457 problem documents (`application/problem+json`).

Every error response has `type`, `title`, `status`, `detail` and `instance` (the request
path), plus `request_id`, and where it helps: `errors` (one per bad row or field),
`diagnostics` (plan problems with line and column) or `field` (where in the request).  An
unexpected failure is logged with its traceback on the server and answered with a plain 500
problem that holds no trace of the code.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError as DatabaseDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from compengine.core.errors import CompengineError, DataError
from compengine.service.cycles import CycleError
from compengine.service.disputes import DisputeConflict, DisputeInvalid, DisputeNotFound
from compengine.service.views import data_issues_json, diagnostics_json
from compengine.service.whatif import OverlayError
from compengine.store.plans import PublishError
from compengine.store.users import UserError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:compengine:problem:"

log = logging.getLogger("compengine.api")

_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Cannot be processed",
    500: "Internal error",
}


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str | None = None


class ApiProblem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self, status: int, kind: str, detail: str, title: str | None = None, headers: dict[str, str] | None = None, **extensions: Any
    ):
        super().__init__(detail)
        self.headers = headers
        self.status = status
        self.kind = kind
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.extensions = extensions


def not_found(detail: str) -> ApiProblem:
    return ApiProblem(404, "not-found", detail)


def problem_response(request: Request, problem: ApiProblem, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **problem.extensions,
    }
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def problem_of(error: Exception) -> ApiProblem | None:
    """The problem a known error is, or None for an unexpected one (a bug)."""
    if isinstance(error, ApiProblem):
        return error
    if isinstance(error, PublishError):
        return ApiProblem(422, "plan-invalid", str(error), "The plan has errors", diagnostics=diagnostics_json(error.diagnostics))
    if isinstance(error, DataError):
        return ApiProblem(422, "data-invalid", str(error.args[0]), "The data has errors", errors=data_issues_json(error))
    if isinstance(error, DisputeNotFound):
        return not_found(str(error))
    if isinstance(error, OverlayError):
        return ApiProblem(422, "what-if-invalid", str(error), "The what-if cannot be applied", field=error.field)
    if isinstance(error, DisputeInvalid):
        return ApiProblem(422, "dispute-invalid", str(error))
    if isinstance(error, DisputeConflict):
        return ApiProblem(409, "dispute-conflict", str(error))
    if isinstance(error, CycleError):
        return ApiProblem(409, "cycle-conflict", str(error), "Not allowed in the cycle's state")
    if isinstance(error, UserError):
        return ApiProblem(422, "user-invalid", str(error))
    if isinstance(error, CompengineError):
        return ApiProblem(422, "cannot-calculate", str(error))
    if isinstance(error, DatabaseDataError):  # e.g. a NUL character, which PostgreSQL text cannot hold
        return ApiProblem(422, "request-invalid", "a value in the request cannot be stored (text may not contain NUL characters)")
    return None


async def on_api_problem(request: Request, error: Exception) -> JSONResponse:
    problem = problem_of(error)
    assert problem is not None
    return problem_response(request, problem, problem.headers)


async def on_http_exception(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    kind = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
    detail = error.detail if isinstance(error.detail, str) else _TITLES.get(error.status_code, "Error")
    if error.status_code == 404 and detail == "Not Found":
        detail = f"there is nothing at {request.url.path}; see /docs for the endpoints"
    headers = dict(error.headers) if error.headers else None
    return problem_response(request, ApiProblem(error.status_code, kind, detail), headers)


async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        where = location[0] if location else "body"
        field = ".".join(location[1:]) or where
        errors.append({"field": field, "in": where, "message": str(item.get("msg", "is not valid"))})
    first = errors[0] if errors else {"field": "body", "in": "body", "message": "is not valid"}
    detail = f"{first['field']}: {first['message']}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
    problem = ApiProblem(422, "request-invalid", detail, "The request is not valid", field=first["field"], errors=errors)
    return problem_response(request, problem)


def internal_error(request: Request, error: BaseException) -> JSONResponse:
    """A bug: logged in full on the server, answered without any detail of the code."""
    request_id = getattr(request.state, "request_id", None)
    log.error("internal error in %s %s (request %s)", request.method, request.url.path, request_id, exc_info=error)
    detail = (
        f"something went wrong inside compengine: a bug, not a mistake in the request. Please report it with the request id {request_id}."
    )
    return problem_response(request, ApiProblem(500, "internal-error", detail))


async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
    return internal_error(request, error)
