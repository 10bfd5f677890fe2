"""What the routers share: documented error responses and path parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path

from compengine.api.problems import PROBLEM_JSON, Problem

PERIOD_PATTERN = r"^(FY)?\d{4}(-Q[1-4]|-M\d{2})?$"
Period = Annotated[str, Path(pattern=PERIOD_PATTERN, description="A period: 2026-Q1, 2026-M03 or FY2026.", examples=["2026-Q1"])]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {PROBLEM_JSON: {}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("No API token, or one that is unknown or revoked"),
    403: _problem("The caller's role may not do this"),
    404: _problem("No such record, or none the caller may see"),
    422: _problem("The request is not valid; `field`, `errors` or `diagnostics` say where"),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: _problem("Not allowed in the current state (or an Idempotency-Key still in progress)"),
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Send the same key again to retry safely: the first response is replayed and nothing is created twice.",
    ),
]
