"""Plans are stored as published versions: the source as checked, its hash, who and when.

Each test runs on SQLite and on PostgreSQL (the `database` fixture).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from compengine.core.plan import CompiledPlan
from compengine.lang.diagnostics import has_errors
from compengine.lang.loader import compile_source
from compengine.store.database import Database
from compengine.store.plans import PublishedPlans, PublishError, publish, published_at
from compengine.store.schema import plan_versions
from tests.store_support import PLAN_FILES, count, publish_plans, rows_of, stepping_clock
from tests.support import PLANS_DIR

START = datetime(2026, 1, 5, 9, 0)
MICROSECOND = timedelta(microseconds=1)


def compiled(path: Path) -> CompiledPlan:
    source = compile_source(str(path), path.read_text(encoding="utf-8"))
    assert source.plan is not None and not has_errors(source.diagnostics)
    return source.plan


def current(db: Database, moment: datetime | None = None) -> PublishedPlans:
    with db.reading() as connection:
        return published_at(connection, moment or db.now())


def current_hashes(db: Database, moment: datetime | None = None) -> dict[str, str]:
    return {str(r["plan"]): str(r["sha256"]) for r in current(db, moment).record}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer says {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def copy_plans(tmp_path: Path) -> Path:
    target = tmp_path / "plans"
    shutil.copytree(PLANS_DIR, target, ignore=shutil.ignore_patterns("*.yaml"))
    return target


def test_publishing_records_the_source_its_hash_who_and_when(database: Database) -> None:
    database.clock = stepping_clock(START)

    published = publish_plans(database, by="ana@example.com")

    rows = rows_of(database, plan_versions)
    assert [p.new for p in published] == [True] * 6 and len(rows) == 6
    for path, result, row in zip(PLAN_FILES, published, rows, strict=True):
        plan = compiled(path)
        assert (row["id"], row["plan_id"], row["version"]) == (result.id, plan.id, plan.version)
        assert row["source_sha256"] == result.sha256 == plan.source_sha256
        assert row["source_text"] == path.read_text(encoding="utf-8")
        assert row["source_path"] == path.name
        assert row["published_by"] == "ana@example.com"
        assert row["published_at"] == result.published_at
    assert [row["published_at"] for row in rows] == [START + timedelta(minutes=i) for i in range(6)]
    libraries = {row["plan_id"]: json.loads(row["libraries"]) for row in rows}
    assert libraries.pop("channel_manager") == {"shared/rates.comp": (PLANS_DIR / "shared" / "rates.comp").read_text(encoding="utf-8")}
    assert all(value == {} for value in libraries.values())
    # what a run uses: every plan, compiled from the stored text, with its hash
    assert current_hashes(database) == {compiled(path).id: compiled(path).source_sha256 for path in PLAN_FILES}


def test_publishing_unchanged_content_again_is_a_no_op(database: Database) -> None:
    first = publish_plans(database, by="ana@example.com")
    before = rows_of(database, plan_versions)

    again = publish_plans(database, by="someone.else@example.com")

    assert [p.new for p in again] == [False] * 6
    assert [(p.id, p.sha256, p.published_at) for p in again] == [(p.id, p.sha256, p.published_at) for p in first]
    assert rows_of(database, plan_versions) == before


def test_a_plan_with_errors_is_not_published(database: Database, tmp_path: Path) -> None:
    publish_plans(database)
    before = rows_of(database, plan_versions)
    plans = copy_plans(tmp_path)
    sdr = plans / "sdr.comp"
    edit(sdr, "rate 2%", "rate no_such_rate")
    rates = plans / "shared" / "rates.comp"
    edit(rates, '"gold": 10%', '"gold": ten percent')

    errors = []
    for broken in (sdr, plans / "channel_manager.comp"):  # an error in the plan, and in a library it uses
        with pytest.raises(PublishError) as raised:
            publish(database, str(broken), "ana@example.com")
        errors.append(raised.value)
    for error, broken, name in zip(errors, (sdr, plans / "channel_manager.comp"), ("no_such_rate", "percent"), strict=True):
        assert error.path == str(broken) and "was not published" in str(error)
        assert has_errors(error.diagnostics)
        assert any(name in d.message for d in error.diagnostics), [d.message for d in error.diagnostics]
    assert rows_of(database, plan_versions) == before


def test_a_plan_compiles_from_its_stored_text_after_its_library_changes_on_disk(database: Database, tmp_path: Path) -> None:
    plans = copy_plans(tmp_path)
    plan_path, library = plans / "channel_manager.comp", plans / "shared" / "rates.comp"
    original = compiled(plan_path)
    published = publish(database, str(plan_path), "ana@example.com")
    assert published.sha256 == original.source_sha256

    edit(library, '"gold": 10%', '"gold": 20%')
    edited = compiled(plan_path)
    assert edited.source_sha256 != original.source_sha256  # the library is part of the plan's content

    from_store = current(database)
    assert [plan.source_sha256 for plan in from_store.versions] == [original.source_sha256]
    assert from_store.record == [{"plan": "channel_manager", "version": 1, "sha256": original.source_sha256, "published_id": published.id}]
    library.unlink()  # not even needed any more
    assert [plan.source_sha256 for plan in current(database).versions] == [original.source_sha256]

    shutil.copy(PLANS_DIR / "shared" / "rates.comp", library)
    edit(library, '"gold": 10%', '"gold": 20%')
    republished = publish(database, str(plan_path), "ana@example.com")
    assert republished.new and republished.sha256 == edited.source_sha256
    assert [plan.source_sha256 for plan in current(database).versions] == [edited.source_sha256]


def test_published_at_picks_the_version_published_by_then(database: Database, tmp_path: Path) -> None:
    database.clock = stepping_clock(START)
    plans = copy_plans(tmp_path)
    ae = plans / "enterprise_ae.comp"
    v1 = publish(database, str(ae), "ana@example.com")
    sdr = publish(database, str(plans / "sdr.comp"), "ana@example.com")
    edit(ae, "1,000 USD from 2026-01-01", "1,200 USD from 2026-01-01")
    v2 = publish(database, str(ae), "bo@example.com")
    assert v2.new and v2.sha256 != v1.sha256 and v2.published_at > sdr.published_at > v1.published_at

    assert current_hashes(database, v1.published_at - MICROSECOND) == {}
    assert current_hashes(database, v1.published_at) == {"enterprise_ae": v1.sha256}
    assert current_hashes(database, v2.published_at - MICROSECOND) == {"enterprise_ae": v1.sha256, "sdr": sdr.sha256}
    assert current_hashes(database, v2.published_at) == {"enterprise_ae": v2.sha256, "sdr": sdr.sha256}
    assert current_hashes(database, v2.published_at + timedelta(days=400)) == {"enterprise_ae": v2.sha256, "sdr": sdr.sha256}
    assert count(database, plan_versions) == 3


def test_publishing_an_earlier_version_again_makes_it_current(database: Database, tmp_path: Path) -> None:
    # Rolling a plan back to what it was: the old text must become the version runs use, not
    # be taken for "already published" while the newer text stays in force.
    plans = copy_plans(tmp_path)
    ae = plans / "enterprise_ae.comp"
    text = ae.read_text(encoding="utf-8")
    first = publish(database, str(ae), "ana@example.com")
    edit(ae, "1,000 USD from 2026-01-01", "1,200 USD from 2026-01-01")
    changed = publish(database, str(ae), "ana@example.com")
    ae.write_text(text, encoding="utf-8")

    rolled_back = publish(database, str(ae), "bo@example.com")

    assert rolled_back.new and rolled_back.sha256 == first.sha256 and rolled_back.id not in (first.id, changed.id)
    assert rolled_back.published_at > changed.published_at
    assert current_hashes(database) == {"enterprise_ae": first.sha256}
    assert current_hashes(database, changed.published_at) == {"enterprise_ae": changed.sha256}  # history unchanged
    assert publish(database, str(ae), "bo@example.com").new is False  # and now it is the current text: a no-op
    assert count(database, plan_versions) == 3
