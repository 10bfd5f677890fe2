"""Facts, bitemporally: every version of every payee, assignment, quota, deal, reporting line,
exchange rate and input, with the time it became known.

A load records, in one transaction, a new version of each fact whose content changed, and
commits it only once the whole folder is valid (nothing is recorded from a folder with a bad
row); loading the same data again records nothing.  Reading "as known at T" takes, for each fact, the
latest version recorded by T, and validates it again exactly as a CSV file is validated.
Effective dates (hire, assignment, close date...) live inside each fact's content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, insert, select, text

from compengine.core.data import Dataset
from compengine.core.errors import DataError, DataIssue
from compengine.core.forking import Alongside, usable_cores
from compengine.core.gcpause import paused_gc
from compengine.io.csv_data import FILES, RETRACTIONS, dataset_from_rows, read_present_files
from compengine.store.canonical import canonical_bytes
from compengine.store.database import Database
from compengine.store.schema import facts, loads

#: How each data file's rows are identified across loads: the cells that name the fact.
FACT_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "payees.csv": ("payee", ("payee_id",)),
    "assignments.csv": ("assignment", ("payee_id", "plan", "effective_from")),
    "quotas.csv": ("quota", ("payee_id", "quota", "period", "effective_from")),
    "deals.csv": ("deal", ("deal_id",)),
    "reporting_lines.csv": ("reporting_line", ("payee_id", "effective_from")),
    "exchange_rates.csv": ("exchange_rate", ("from_currency", "to_currency", "rate_type", "effective_from")),
    "inputs.csv": ("input", ("payee_id", "input", "period")),
}
FILE_OF_KIND = {kind: file for file, (kind, _) in FACT_KEYS.items()}


#: With `load(fork=True)`, the rows (given and known) from which validating them in a forked
#: process saves more than forking costs.
FORK_FROM_ROWS = 20_000

#: The content of a version that retracts its fact (the reason is kept beside it).
RETRACTED = "{}"


@dataclass(frozen=True)
class LoadReport:
    load_id: int | None  # None: nothing new, nothing recorded
    recorded_at: datetime | None
    new_versions: dict[str, int]  # kind -> count of new versions (a first version is new too)
    retracted: dict[str, int] = field(default_factory=dict)  # kind -> count of facts retracted

    @property
    def total(self) -> int:
        return sum(self.new_versions.values()) + sum(self.retracted.values())


def stored_and_sha256(cells: Mapping[str, str]) -> tuple[str, str]:
    """A row's content as stored (every cell, trimmed) and the hash that identifies it across
    loads.  An empty cell is the same as a missing column, so the same rows with or without
    an empty optional column are the same fact; a row with no empty cell (most rows) is
    written out once for both."""
    trimmed = {k: v.strip() for k, v in cells.items()}
    stored = canonical_bytes(trimmed)
    identity = stored if all(trimmed.values()) else canonical_bytes({k: v for k, v in trimmed.items() if v})
    return stored.decode(), hashlib.sha256(identity).hexdigest()


def fact_key(file: str, cells: Mapping[str, str]) -> str:
    _, columns = FACT_KEYS[file]
    return "|".join(cells.get(column, "").strip() for column in columns)


@paused_gc()  # rows, facts and versions live until the load ends and make no cycles (see core/gcpause)
def load(db: Database, folder: str | Path, fork: bool = False) -> LoadReport:
    """Record the facts of a data folder; raises `DataError` (nothing written) on a bad row.

    The folder may hold any of the data files (a day's deals, a corrected quota): its rows are
    validated together with everything already known (a deal's owner may be a payee loaded
    before), and nothing is deleted by leaving a row out.

    With `fork`, the rows are validated in a forked process while this one works out the new
    versions and writes them (about half of a large load's time each).  Either way the rows
    are written in one transaction that commits only once they are known to be valid: a bad
    row rolls it back and nothing is left.  A server leaves `fork` off: forking a process
    with threads is unsafe.
    """
    rows_given, hashes, names = read_present_files(folder)
    retractions = rows_given.pop(RETRACTIONS, [])
    with db.transaction() as connection:
        if connection.dialect.name == "postgresql":  # loads one at a time, as SQLite's write lock does
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('compengine load ' || current_schema()))"))
        known, latest = _known(connection)
        merged = {file: dict(known.get(file, {})) for file in FILES}
        retracting = _retractions(retractions, merged, rows_given)
        for file, key, _, _ in retracting:
            merged[file].pop(key)
        keys_given = {file: [fact_key(file, cells) for _, cells in rows] for file, rows in rows_given.items()}
        for file, keys in keys_given.items():
            for key in keys:
                merged[file].pop(key, None)
        # every given row is validated, so a file naming the same deal twice is rejected
        every_row = {file: [*merged[file].values(), *rows_given.get(file, [])] for file in FILES}
        many = sum(map(len, every_row.values())) >= FORK_FROM_ROWS
        validated = Alongside(lambda: _validate(every_row, names), fork=fork and many and usable_cores() > 1)
        pending: list[tuple[str, str, int, str, int, str, str, str | None]] = []  # (FACT_COLUMNS without the load's two)
        counts: dict[str, int] = {}
        retracted: dict[str, int] = {}
        for file, key, row_number, reason in retracting:
            kind, _ = FACT_KEYS[file]
            version, _ = latest[(kind, key)]
            latest[(kind, key)] = (version + 1, _RETRACTED_SHA256)
            pending.append((kind, key, version + 1, RETRACTIONS, row_number, RETRACTED, _RETRACTED_SHA256, reason))
            retracted[kind] = retracted.get(kind, 0) + 1
        for file, rows in rows_given.items():
            kind, _ = FACT_KEYS[file]
            for (row_number, cells), key in zip(rows, keys_given[file], strict=True):
                content, digest = stored_and_sha256(cells)
                version, current = latest.get((kind, key), (0, None))
                if current == digest:
                    continue
                latest[(kind, key)] = (version + 1, digest)
                pending.append((kind, key, version + 1, names.get(file, file), row_number, content, digest, None))
                counts[kind] = counts.get(kind, 0) + 1
        if not pending:
            validated.result()  # raises DataError naming every bad row
            return LoadReport(None, None, {})
        recorded_at = db.now()
        files = json.dumps(dict(sorted(hashes.items())), sort_keys=True)
        load_id: int = connection.execute(
            insert(loads).returning(loads.c.id).values(recorded_at=recorded_at, source=str(folder), files=files, new_versions=len(pending))
        ).scalar_one()
        _write(connection, pending, load_id, recorded_at)  # (while the forked process may still be validating)
        validated.result()  # all or nothing: a DataError here rolls back the transaction, rows written and all
        return LoadReport(load_id, recorded_at, counts, retracted)


def _validate(rows: dict[str, list[tuple[int, dict[str, str]]]], names: Mapping[str, str]) -> None:
    dataset_from_rows(rows, names)  # raises DataError naming every bad row; the dataset itself is not needed


#: The columns a load writes, in the order `_write` takes them.
FACT_COLUMNS = ("kind", "key", "version", "source_file", "source_row", "content", "content_sha256", "retraction", "load_id", "recorded_at")


def _write(connection: Connection, pending: Sequence[tuple[object, ...]], load_id: int, recorded_at: datetime) -> None:
    """Insert the new versions in bulk, in the caller's transaction: PostgreSQL `COPY`, or one
    `executemany` on SQLite with the time stamp stored as SQLAlchemy stores it (half a million
    rows at size M: the ORM's per-row bookkeeping was most of the time)."""
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(f"COPY facts ({', '.join(FACT_COLUMNS)}) FROM STDIN") as copy:
            for row in pending:
                copy.write_row((*row, load_id, recorded_at))
        return
    stamp = facts.c.recorded_at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    stamped = stamp(recorded_at) if stamp is not None else recorded_at
    marks = ", ".join("?" for _ in FACT_COLUMNS)
    rows = [(*row, load_id, stamped) for row in pending]
    connection.exec_driver_sql(f"INSERT INTO facts ({', '.join(FACT_COLUMNS)}) VALUES ({marks})", rows)


_RETRACTED_SHA256 = hashlib.sha256(b"retracted").hexdigest()


def _retractions(
    rows: list[tuple[int, dict[str, str]]],
    known: dict[str, dict[str, tuple[int, dict[str, str]]]],
    given: dict[str, list[tuple[int, dict[str, str]]]],
) -> list[tuple[str, str, int, str]]:
    """(file, key, row, reason) of each fact `retractions.csv` withdraws; every bad row is a
    `DataError` naming it."""
    issues: list[DataIssue] = []
    found: list[tuple[str, str, int, str]] = []
    seen: set[tuple[str, str]] = set()
    for number, cells in rows:
        file, key, reason = (cells.get(c, "").strip() for c in ("file", "key", "reason"))
        if file not in FACT_KEYS:
            issues.append(DataIssue(RETRACTIONS, number, "file", f"{file!r} is not a data file; write one of {', '.join(FACT_KEYS)}"))
            continue
        columns = " | ".join(FACT_KEYS[file][1])
        if key not in known.get(file, {}):
            issues.append(DataIssue(RETRACTIONS, number, "key", f"{file} has no current fact {key!r} to retract (its key is {columns})"))
        elif (file, key) in seen:
            issues.append(DataIssue(RETRACTIONS, number, "key", f"{file} {key!r} is retracted twice"))
        elif any(fact_key(file, cells) == key for _, cells in given.get(file, [])):
            issues.append(DataIssue(RETRACTIONS, number, "key", f"{file} {key!r} is both retracted and given again; do one or the other"))
        else:
            found.append((file, key, number, reason))
        seen.add((file, key))
    if issues:
        raise DataError(issues)
    return found


def _known(
    connection: Connection,
) -> tuple[dict[str, dict[str, tuple[int, dict[str, str]]]], dict[tuple[str, str], tuple[int, str]]]:
    """The latest version of every fact, in one scan: as rows by file and key (retracted facts
    left out), and as (version, content hash) by (kind, key)."""
    known: dict[str, dict[str, tuple[int, dict[str, str]]]] = {}
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for chunk in _latest_versions(connection, facts.c.version, facts.c.source_row, facts.c.content, facts.c.content_sha256):
        for kind, key, version, source_row, content, digest in chunk:
            latest[(kind, key)] = (version, digest)
            if content != RETRACTED:
                known.setdefault(FILE_OF_KIND[kind], {})[key] = (source_row, json.loads(content))
    return known, latest


def _latest_versions(connection: Connection, *columns: ColumnElement[Any], known_by: datetime | None = None) -> Iterator[list[Row[Any]]]:
    """(kind, key, *columns) of each fact's latest version (of those recorded by `known_by`,
    if given), in key order (see `_by_code_point`), a chunk at a time.

    The database gives every version in key and version order and the last of each fact is
    kept as they come: one ordered scan (SQLite reads it off the unique index), where a
    GROUP BY of the latest versions joined back to the facts took 1.4-1.8 times as long."""
    query = select(facts.c.kind, facts.c.key, *columns).order_by(*_by_code_point(connection, facts.c.kind, facts.c.key), facts.c.version)
    if known_by is not None:
        query = query.where(facts.c.recorded_at <= known_by)
    result = connection.execute(query)
    held: Row[Any] | None = None  # the latest version yet of the fact being read
    while chunk := result.fetchmany(10_000):
        latest = []
        for version in chunk:
            if held is not None and (held[0] != version[0] or held[1] != version[1]):
                latest.append(held)  # the fact's versions are over: this is its latest
            held = version
        yield latest
    if held is not None:
        yield [held]


def _by_code_point(connection: Connection, *columns: ColumnElement[str]) -> list[ColumnElement[str]]:
    """Text columns to order by character code, as Python and SQLite compare text, whatever
    collation a PostgreSQL database was created with (en_US would put "P10" and "p2" in another
    order): the fingerprint of the same facts is then the same on every database."""
    if connection.dialect.name == "postgresql":
        return [column.collate("C") for column in columns]
    return list(columns)


@dataclass(frozen=True)
class KnownFacts:
    """The facts as known at one moment: the dataset, and the fingerprint of exactly which
    versions it was built from (part of a run's sealed record)."""

    dataset: Dataset
    sha256: str
    knowledge_time: datetime


#: How many facts' stored cells are read into dicts at a time while a dataset is built.
ROWS_READ_AT_ONCE = 10_000


def as_known_at(connection: Connection, knowledge_time: datetime) -> KnownFacts:
    """Every fact's latest version recorded at or before `knowledge_time`.

    The stored cells are read into dicts a chunk at a time as the dataset is built from them,
    not all at once: at size M every deal's cells at once took 800 MB, and reading the facts
    peaked at 1,029 MB where it now peaks at 859 MB (a calculation's own peak, later, is the
    same either way)."""
    stored, sha256 = _stored_known_at(connection, knowledge_time)
    tables = {file: _parsed_in_chunks(rows, ROWS_READ_AT_ONCE) for file, rows in stored.items()}
    return KnownFacts(dataset_from_rows(tables), sha256, knowledge_time)


def rows_known_at(connection: Connection, knowledge_time: datetime) -> tuple[dict[str, list[tuple[int, dict[str, str]]]], str]:
    """The rows behind `as_known_at`, by data file, as (source row, cells), and the facts'
    fingerprint: what a what-if overlays before validating them as a load would."""
    stored, sha256 = _stored_known_at(connection, knowledge_time)
    return {file: _parsed(rows) for file, rows in stored.items()}, sha256


def _stored_known_at(connection: Connection, knowledge_time: datetime) -> tuple[dict[str, list[tuple[int, str]]], str]:
    """Each data file's facts as known at `knowledge_time`, as (source row, stored JSON text),
    and the facts' fingerprint."""
    tables: dict[str, list[tuple[int, str]]] = {file: [] for file in FILES}
    with paused_gc():  # hundreds of thousands of small tuples, no cycles
        digest = hashlib.sha256()  # the fingerprint: a line per fact's latest version, in key order
        columns = (facts.c.version, facts.c.source_row, facts.c.content, facts.c.content_sha256)
        for latest in _latest_versions(connection, *columns, known_by=knowledge_time):  # (the fingerprint's text is not kept)
            digest.update("".join([f"{kind}\0{key}\0{number}\0{sha256}\n" for kind, key, number, _, _, sha256 in latest]).encode())
            for kind, _, _, row, content, _ in latest:
                if content != RETRACTED:
                    tables[FILE_OF_KIND[kind]].append((row, content))
    return tables, digest.hexdigest()


def _parsed(rows: Sequence[tuple[int, str]]) -> list[tuple[int, dict[str, str]]]:
    """Stored rows read back: every content is a JSON object, read as one array, not one parse per row."""
    with paused_gc():
        cells_of = json.loads("[" + ",".join([content for _, content in rows]) + "]")
        return [(row, cells) for (row, _), cells in zip(rows, cells_of, strict=True)]


def _parsed_in_chunks(rows: Sequence[tuple[int, str]], size: int) -> Iterator[tuple[int, dict[str, str]]]:
    """`_parsed(rows)`, a chunk at a time, for a reader that keeps what it makes of each row
    rather than the row."""
    for start in range(0, len(rows), size):
        yield from _parsed(rows[start : start + size])
