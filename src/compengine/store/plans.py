"""Published plan versions: the exact source a run used, kept forever.

Publishing requires the plan (with the libraries it uses) to check without errors.
Publishing the current content again is a no-op; publishing an earlier text again makes it
current again, as a new version (a roll-back).  A run uses, for each plan, the newest version
published by its knowledge time, compiled from the stored text — never from the files on
disk, which may have changed since.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from compengine.core.errors import CompengineError
from compengine.core.plan import CompiledPlan
from compengine.lang.diagnostics import Diagnostic, has_errors
from compengine.lang.loader import compile_source
from compengine.store.database import Database
from compengine.store.schema import plan_versions


class PublishError(CompengineError):
    """A plan with errors cannot be published; the diagnostics say why."""

    def __init__(self, path: str, diagnostics: list[Diagnostic], texts: dict[str, str]):
        self.path = path
        self.diagnostics = diagnostics
        self.texts = texts
        errors = sum(1 for d in diagnostics if d.severity.value == "error")
        super().__init__(f"{path} has {errors} error{'s' if errors != 1 else ''}; it was not published")


@dataclass(frozen=True)
class Published:
    id: int
    plan_id: str
    version: int
    sha256: str
    published_at: datetime
    new: bool  # False when this content was already published


def publish(db: Database, path: str, by: str) -> Published:
    """Check and publish one plan file (with its libraries, read from beside it)."""
    text = Path(path).read_text(encoding="utf-8")
    return publish_source(db, path, text, by)


def publish_source(db: Database, path: str, text: str, by: str, libraries: Mapping[str, str] | None = None) -> Published:
    """Check and publish a plan's text, named `path` (its file name).  Its libraries are read
    from disk beside `path`, or, when `libraries` is given, only from it (relative path ->
    text, e.g. {"shared/rates.comp": ...}): what a plan sent over the API uses."""
    source = compile_source(path, text) if libraries is None else compile_source(path, text, library_reader(path, libraries))
    if has_errors(source.diagnostics) or source.plan is None:
        raise PublishError(path, source.diagnostics, source.texts)
    plan = source.plan
    base = os.path.dirname(path)
    used = {os.path.relpath(p, base or "."): t for p, t in source.texts.items() if p != path}
    with db.transaction() as connection:
        existing = connection.execute(
            select(plan_versions.c.id, plan_versions.c.version, plan_versions.c.published_at, plan_versions.c.source_sha256)
            .where(plan_versions.c.plan_id == plan.id)
            .order_by(plan_versions.c.published_at.desc(), plan_versions.c.id.desc())
            .limit(1)
        ).first()
        if existing is not None and existing.source_sha256 == plan.source_sha256:  # the current text: a no-op
            return Published(existing.id, plan.id, existing.version, plan.source_sha256, existing.published_at, False)
        published_at = db.now()
        row_id: int = connection.execute(
            insert(plan_versions)
            .returning(plan_versions.c.id)
            .values(
                plan_id=plan.id,
                version=plan.version,
                source_path=os.path.basename(path),
                source_text=text,
                libraries=json.dumps(used, sort_keys=True),
                source_sha256=plan.source_sha256,
                published_by=by,
                published_at=published_at,
            )
        ).scalar_one()
        return Published(row_id, plan.id, plan.version, plan.source_sha256, published_at, True)


def library_reader(source_path: str, libraries: Mapping[str, str]) -> Callable[[str], str]:
    """Reads a plan's libraries from `libraries` (relative path -> text) instead of the disk."""
    base = os.path.dirname(source_path)

    def read(path: str) -> str:
        relative = os.path.normpath(os.path.relpath(path, base or "."))
        if relative not in libraries:
            raise OSError(2, f"the published plan has no library {relative}")
        return libraries[relative]

    return read


@dataclass(frozen=True)
class PlanVersion:
    """A published version as stored: what it is, who published it, and its exact text."""

    id: int
    plan_id: str
    version: int
    sha256: str
    source_path: str
    published_by: str
    published_at: datetime
    source_text: str
    libraries: dict[str, str]


def versions(connection: Connection, plan_id: str | None = None) -> list[PlanVersion]:
    """Every published version (of one plan), in the order they were published."""
    query = select(plan_versions).order_by(plan_versions.c.published_at, plan_versions.c.id)
    if plan_id is not None:
        query = query.where(plan_versions.c.plan_id == plan_id)
    return [_version(row) for row in connection.execute(query)]


def find_version(connection: Connection, published_id: int) -> PlanVersion | None:
    row = connection.execute(select(plan_versions).where(plan_versions.c.id == published_id)).first()
    return None if row is None else _version(row)


def _version(row: Any) -> PlanVersion:
    return PlanVersion(
        row.id,
        row.plan_id,
        row.version,
        row.source_sha256,
        row.source_path,
        row.published_by,
        row.published_at,
        row.source_text,
        json.loads(row.libraries),
    )


@dataclass(frozen=True)
class PublishedPlans:
    """The plans a run uses: every version compiled, and what identifies each."""

    versions: list[CompiledPlan]
    record: list[dict[str, object]]  # [{plan, version, sha256, published_id}] for the run's seal


def published_at(connection: Connection, knowledge_time: datetime) -> PublishedPlans:
    """The newest published version of each plan as of `knowledge_time`, compiled."""
    newest = (
        select(plan_versions.c.plan_id, func.max(plan_versions.c.published_at).label("published_at"))
        .where(plan_versions.c.published_at <= knowledge_time)
        .group_by(plan_versions.c.plan_id)
        .subquery()
    )
    rows = connection.execute(
        select(plan_versions)
        .join(newest, (plan_versions.c.plan_id == newest.c.plan_id) & (plan_versions.c.published_at == newest.c.published_at))
        .order_by(plan_versions.c.plan_id)
    ).all()
    versions: list[CompiledPlan] = []
    record: list[dict[str, object]] = []
    for row in rows:
        versions.extend(compile_published(row.source_path, row.source_text, json.loads(row.libraries)))
        record.append({"plan": row.plan_id, "version": row.version, "sha256": row.source_sha256, "published_id": row.id})
    return PublishedPlans(versions, record)


def compile_published(source_path: str, text: str, libraries: dict[str, str]) -> list[CompiledPlan]:
    """Compile stored source; its libraries come from the store, not from disk."""
    source = compile_source(source_path, text, library_reader(source_path, libraries))
    if source.plan is None:
        raise PublishError(source_path, source.diagnostics, source.texts)
    return source.versions
