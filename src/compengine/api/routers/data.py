"""Data: upload one data file (JSON or CSV) of payees, reporting lines, assignments, quotas,
deals, exchange rates, inputs or retractions, and record its rows as facts.  All or nothing:
one bad row rejects the whole file, every bad row listed with its row and field."""

from __future__ import annotations

import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from compengine.api.audit import note
from compengine.api.auth import FINANCE, Caller, allow
from compengine.api.problems import ApiProblem
from compengine.api.routers.common import WRITE_ERRORS, IdempotencyKey
from compengine.service.views import load_report_json
from compengine.store import facts

router = APIRouter(prefix="/data", tags=["data"], responses=WRITE_ERRORS)

MAX_BYTES = 50 * 1024 * 1024


class DataFile(StrEnum):
    payees = "payees"
    reporting_lines = "reporting_lines"
    assignments = "assignments"
    quotas = "quotas"
    deals = "deals"
    exchange_rates = "exchange_rates"
    inputs = "inputs"
    retractions = "retractions"


class LoadOut(BaseModel):
    load_id: int | None
    recorded_at: str | None
    new_versions: dict[str, int]
    retracted: dict[str, int]
    total: int


_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "array", "items": {"type": "object", "additionalProperties": True}}},
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}
        },
    },
}


@router.post(
    "/{file}",
    summary="Load a data file",
    response_model=LoadOut,
    openapi_extra={"requestBody": _BODY},
)
async def load(
    file: DataFile,
    request: Request,
    caller: Annotated[Caller, Depends(allow(FINANCE))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The rows of one file, as in docs/data.md: CSV (`text/csv`, header row first), JSON
    (`application/json`, an array of objects keyed by column), or an uploaded file
    (`multipart/form-data`, field `file`; `.json` files are read as JSON).  Rows that are new
    or changed become new fact versions; the same rows again record nothing."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiProblem(422, "request-invalid", "upload the file in the form field 'file'", field="file")
        data = await upload.read()
        suffix = ".json" if (upload.filename or "").lower().endswith(".json") or upload.content_type == "application/json" else ".csv"
    elif content_type in ("text/csv", "application/csv", "text/plain"):
        data, suffix = await request.body(), ".csv"
    elif content_type == "application/json":
        data, suffix = await request.body(), ".json"
    else:
        raise ApiProblem(415, "unsupported-media-type", "send the file as text/csv, application/json or multipart/form-data (field 'file')")
    if len(data) > MAX_BYTES:
        raise ApiProblem(413, "too-large", f"a data file may be at most {MAX_BYTES // (1024 * 1024)} MB; split it into several loads")
    name = f"{file.value}{suffix}"
    report = await _load(caller, name, data)
    note(request, file=name, load_id=report.load_id, new_versions=report.total)
    return load_report_json(report)


async def _load(caller: Caller, name: str, data: bytes) -> facts.LoadReport:
    def work() -> facts.LoadReport:
        with tempfile.TemporaryDirectory(prefix="compengine-load-") as folder:
            Path(folder, name).write_bytes(data)
            return facts.load(caller.db, folder)

    return await run_in_threadpool(work)
