"""Idempotency keys: a POST retried with the same `Idempotency-Key` is answered with the
response it got the first time, and creates nothing again.

A key belongs to a user.  The first request with it claims it (one row in
`idempotency_keys`, whose primary key is the user and the key, so of two identical requests
racing each other exactly one claims it: the other's insert fails and it is told the first
is still in progress, or is given its response once that is stored).  The request's
fingerprint — method, path, query, content type and body — is stored with the key: the same
key on a different request (another endpoint, another body) is refused with a 422.  A
response of 500 or more releases the key, so the request can simply be sent again; any other
response is kept and replayed.  A claim left behind by a crashed server expires after
`STALE_AFTER`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from compengine.api.auth import authenticate
from compengine.api.problems import ApiProblem, problem_response
from compengine.store.database import Database
from compengine.store.schema import idempotency_keys

HEADER = "Idempotency-Key"
IN_PROGRESS = 0  # the status of a claimed key whose response is not stored yet
STALE_AFTER = timedelta(minutes=10)
REPLAYED = "Idempotent-Replayed"


@dataclass(frozen=True)
class Stored:
    status: int
    media_type: str
    body: str


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: claimed (go ahead), or what is stored already."""

    claimed: bool
    stored: Stored | None = None
    other_request: bool = False  # the key was used for a different request
    in_progress: bool = False


def fingerprint(method: str, path: str, query: str, content_type: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method, path, query, content_type):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def claim(db: Database, user_id: int, key: str, request_sha256: str) -> Claim:
    now = db.now()
    try:
        with db.transaction() as connection:
            connection.execute(
                insert(idempotency_keys).values(
                    user_id=user_id, key=key, request_sha256=request_sha256, status=IN_PROGRESS, body="", created_at=now
                )
            )
        return Claim(True)
    except IntegrityError:
        pass
    with db.transaction() as connection:
        where = (idempotency_keys.c.user_id == user_id) & (idempotency_keys.c.key == key)
        row = connection.execute(select(idempotency_keys).where(where)).first()
        if row is None:  # released in the meantime (its request failed): claim it afresh
            connection.execute(
                insert(idempotency_keys).values(
                    user_id=user_id, key=key, request_sha256=request_sha256, status=IN_PROGRESS, body="", created_at=now
                )
            )
            return Claim(True)
        if row.request_sha256 != request_sha256:
            return Claim(False, other_request=True)
        if row.status == IN_PROGRESS:
            if now - row.created_at > STALE_AFTER:  # abandoned by a server that stopped
                connection.execute(update(idempotency_keys).where(where).values(created_at=now))
                return Claim(True)
            return Claim(False, in_progress=True)
        stored = json.loads(row.body)
        return Claim(False, Stored(row.status, stored["media_type"], stored["body"]))


def store(db: Database, user_id: int, key: str, status: int, media_type: str, body: str) -> None:
    with db.transaction() as connection:
        connection.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
            .values(status=status, body=json.dumps({"media_type": media_type, "body": body}))
        )


def release(db: Database, user_id: int, key: str) -> None:
    with db.transaction() as connection:
        connection.execute(delete(idempotency_keys).where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key))


class IdempotencyMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return await call_next(request)
        if not 1 <= len(key) <= 200 or not key.isprintable():
            problem = ApiProblem(422, "request-invalid", f"{HEADER} must be 1 to 200 printable characters", field=HEADER)
            return problem_response(request, problem)
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        db: Database = request.app.state.db
        user = await run_in_threadpool(authenticate, db, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            return await call_next(request)  # answered with a 401
        request.state.user = user
        body = await request.body()
        request_sha256 = fingerprint(request.method, request.url.path, request.url.query, request.headers.get("content-type", ""), body)
        outcome = await run_in_threadpool(claim, db, user.id, key, request_sha256)
        if outcome.other_request:
            request.state.audit = {"idempotency_key": key, "refused": "the key was used for another request"}
            problem = ApiProblem(
                422,
                "idempotency-key-reused",
                f"the {HEADER} {key!r} was already used for a different request (another endpoint or body); use a new key",
                field=HEADER,
            )
            return problem_response(request, problem)
        if outcome.in_progress:
            problem = ApiProblem(
                409, "idempotency-key-in-progress", f"a request with the {HEADER} {key!r} is still being processed; retry shortly"
            )
            return problem_response(request, problem, {"Retry-After": "1"})
        if outcome.stored is not None:
            request.state.audit = {"idempotency_key": key, "replayed": True}
            stored = outcome.stored
            return Response(stored.body, status_code=stored.status, media_type=stored.media_type, headers={REPLAYED: "true"})
        try:
            response = await call_next(request)
            chunks = [chunk if isinstance(chunk, bytes) else chunk.encode() async for chunk in response.body_iterator]  # type: ignore[attr-defined]
        except BaseException:
            await run_in_threadpool(release, db, user.id, key)
            raise
        content = b"".join(chunks)
        media_type = response.headers.get("content-type", "application/json")
        if response.status_code >= 500:
            await run_in_threadpool(release, db, user.id, key)
        else:
            await run_in_threadpool(store, db, user.id, key, response.status_code, media_type, content.decode("utf-8"))
        headers = {name: value for name, value in response.headers.items() if name.lower() not in ("content-length", "content-type")}
        return Response(content, status_code=response.status_code, media_type=media_type, headers=headers)
