"""Plans: check a plan's text, publish it as a version, read published versions, their
source, plan document and hash."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from compengine.api.audit import note
from compengine.api.auth import ADMIN, EVERYONE, FINANCE, Caller, allow
from compengine.api.problems import ApiProblem, not_found
from compengine.api.routers.common import ERRORS, WRITE_ERRORS, Id, IdempotencyKey
from compengine.service.views import check_source, plan_document, plan_version_json
from compengine.store import plans

router = APIRouter(prefix="/plans", tags=["plans"], responses=ERRORS)


class PlanSource(BaseModel):
    """A plan's text, named by its file name, with the text of every library it uses."""

    file_name: str = Field(
        min_length=6,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.\-]+\.comp$",
        examples=["enterprise_ae.comp"],
        description="The plan's file name.",
    )
    source: str = Field(max_length=1_000_000, description="The plan's text.")
    libraries: dict[str, str] = Field(
        default_factory=dict,
        max_length=50,
        description="Each library the plan uses, by the path its `use` names (`shared/rates.comp`), with its text.",
    )


class CheckResult(BaseModel):
    ok: bool
    plan_id: str | None
    version: int | None
    sha256: str | None
    diagnostics: list[dict[str, Any]] = Field(
        description="Each problem: file, line, column, end_line, end_column, severity, code, message, hint."
    )


class PlanVersionOut(BaseModel):
    id: int
    plan_id: str
    version: int
    sha256: str
    file_name: str
    libraries: list[str]
    published_by: str
    published_at: str
    new: bool | None = None


class PlanSourceOut(BaseModel):
    id: int
    plan_id: str
    version: int
    sha256: str
    file_name: str
    source: str
    libraries: dict[str, str]


@router.post("/check", summary="Check a plan's text", response_model=CheckResult)
def check(body: PlanSource, caller: Annotated[Caller, Depends(allow(ADMIN, FINANCE))]) -> dict[str, Any]:
    """Every diagnostic the plan's text has, each with its line and column; `ok` is false
    when any of them is an error.  Checking never publishes anything."""
    return check_source(body.file_name, body.source, body.libraries)


@router.post("", status_code=201, summary="Publish a plan version", response_model=PlanVersionOut, responses=WRITE_ERRORS)
def publish(
    body: PlanSource,
    request: Request,
    caller: Annotated[Caller, Depends(allow(ADMIN))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Publish the plan as a new version (a plan with errors is refused with its
    diagnostics).  Publishing the current text again changes nothing (`new` is false);
    publishing an earlier text again makes it current again, as a new version."""
    published = plans.publish_source(caller.db, body.file_name, body.source, caller.user.name, body.libraries)
    note(
        request, published_id=published.id, plan_id=published.plan_id, version=published.version, sha256=published.sha256, new=published.new
    )
    with caller.db.reading() as connection:
        version = plans.find_version(connection, published.id)
    assert version is not None
    return {**plan_version_json(version), "new": published.new}


@router.get("", summary="List published plan versions", response_model=list[PlanVersionOut])
def list_versions(
    caller: Annotated[Caller, Depends(allow(*EVERYONE))],
    plan_id: Annotated[str | None, Query(max_length=200, description="Only this plan's versions.")] = None,
) -> list[dict[str, Any]]:
    with caller.db.reading() as connection:
        return [plan_version_json(v) for v in plans.versions(connection, plan_id)]


def _version(caller: Caller, version_id: int) -> plans.PlanVersion:
    with caller.db.reading() as connection:
        found = plans.find_version(connection, version_id)
    if found is None:
        raise not_found(f"there is no published plan version {version_id}")
    return found


@router.get("/{version_id}", summary="A published plan version", response_model=PlanVersionOut)
def get_version(version_id: Id, caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> dict[str, Any]:
    return plan_version_json(_version(caller, version_id))


@router.get("/{version_id}/source", summary="A published version's exact text", response_model=PlanSourceOut)
def get_source(version_id: Id, caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> dict[str, Any]:
    found = _version(caller, version_id)
    return {
        "id": found.id,
        "plan_id": found.plan_id,
        "version": found.version,
        "sha256": found.sha256,
        "file_name": found.source_path,
        "source": found.source_text,
        "libraries": found.libraries,
    }


@router.get(
    "/{version_id}/document",
    summary="The plan document a payee signs",
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}, "description": "The document; its hash is in X-Plan-SHA256."}},
)
def get_document(
    version_id: Id,
    caller: Annotated[Caller, Depends(allow(*EVERYONE))],
    format: Annotated[Literal["markdown", "html"], Query(description="markdown or html")] = "markdown",
) -> Response:
    """Rates, tiers, caps, effective dates and the plan's SHA-256 content hash, from the
    published text (also in the `X-Plan-SHA256` header)."""
    found = _version(caller, version_id)
    text = plan_document(found, html=format == "html")
    if text is None:
        raise ApiProblem(422, "plan-invalid", f"plan version {version_id} no longer checks cleanly; no document can be made")
    media_type = "text/html; charset=utf-8" if format == "html" else "text/markdown; charset=utf-8"
    return Response(text, media_type=media_type, headers={"X-Plan-SHA256": found.sha256})
