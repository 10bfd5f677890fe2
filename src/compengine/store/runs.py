"""Sealed calculation runs: the record that makes a past calculation replayable, and its lines.

A run records the plan versions and hashes, the engine and grammar versions, the period,
`as_of` and the knowledge time, the hash of the exact inputs, the result and trace hashes,
and every statement line with its compressed trace.  It is written with bulk inserts
(PostgreSQL COPY, SQLite executemany) in the caller's transaction, so it exists whole or not
at all; afterwards only its status changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from compengine.store.canonical import canonical_bytes
from compengine.store.schema import attribution_of, run_lines, runs

LINE_COLUMNS = (
    "run_id",
    "seq",
    "line_id",
    "payee_id",
    "plan_id",
    "plan_version",
    "component",
    "kind",
    "adjusts_period",
    "adjusts_run_id",
    "amount",
    "currency",
    "attribution",
    "trace",
)


@dataclass(frozen=True)
class RunRecord:
    period: str
    as_of: date
    knowledge_time: datetime
    engine_version: str
    grammar_sha256: str
    decimal_context: dict[str, Any]
    plans: list[dict[str, object]]
    input_sha256: str
    result_sha256: str
    trace_sha256: str
    what_if: dict[str, Any] | None = None


@dataclass(frozen=True)
class SealedTrace:
    """A line's trace as a run keeps it: its canonical JSON compressed, and the SHA-256 of that
    JSON.  Made as soon as the line is (in the worker that evaluated it), so a run in the
    making holds 1-2 KB per line rather than the trace's objects."""

    packed: bytes
    sha256: str

    @classmethod
    def of(cls, trace: dict[str, Any]) -> SealedTrace:
        text = canonical_bytes(trace)
        return cls(zlib.compress(text, 3), hashlib.sha256(text).hexdigest())  # level 3: twice as fast as 6, 10% larger

    def json(self) -> dict[str, Any]:
        return unpack_trace(self.packed)


@dataclass(frozen=True)
class LineRow:
    """A line as a run stores it.  Like its trace, its share by deal is kept in the stored form
    (`attribution_text`) from the start: made in the worker that evaluated the line, it is
    handed back as one text, not a tuple per deal (half the time a worker spent pickling)."""

    line_id: str
    payee_id: str
    plan_id: str
    plan_version: int
    component: str
    kind: str  # earning | adjustment
    amount: Decimal
    currency: str
    attribution: str  # attribution_text of (deal, amount) pairs
    trace: SealedTrace
    adjusts_period: str | None = None
    adjusts_run_id: int | None = None


@dataclass(frozen=True)
class StoredLine:
    run_id: int
    seq: int
    line_id: str
    payee_id: str
    plan_id: str
    plan_version: int
    component: str
    kind: str
    amount: Decimal
    currency: str
    attribution: tuple[tuple[str, Decimal], ...]
    adjusts_period: str | None
    adjusts_run_id: int | None


def pack_trace(trace: dict[str, Any]) -> bytes:
    return SealedTrace.of(trace).packed


def unpack_trace(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob))  # type: ignore[no-any-return]


def write_run(connection: Connection, record: RunRecord, lines: Sequence[LineRow], created_at: datetime) -> int:
    """Insert a run and all its lines; the caller's transaction makes it all-or-nothing."""
    run_id: int = connection.execute(
        insert(runs)
        .returning(runs.c.id)
        .values(
            period=record.period,
            status="draft",
            created_at=created_at,
            as_of=record.as_of,
            knowledge_time=record.knowledge_time,
            engine_version=record.engine_version,
            grammar_sha256=record.grammar_sha256,
            decimal_context=json.dumps(record.decimal_context, sort_keys=True),
            plans=json.dumps(record.plans, sort_keys=True),
            input_sha256=record.input_sha256,
            result_sha256=record.result_sha256,
            trace_sha256=record.trace_sha256,
            line_count=len(lines),
            what_if=json.dumps(record.what_if, sort_keys=True) if record.what_if is not None else None,
        )
    ).scalar_one()
    rows = [_row(run_id, seq, line) for seq, line in enumerate(lines, start=1)]
    if connection.dialect.name == "postgresql" and rows:
        _copy(connection, rows)
    else:
        _insert_in_batches(connection, rows)
    return run_id


def _row(run_id: int, seq: int, line: LineRow) -> tuple[Any, ...]:
    amount = format(line.amount, "f")
    return (
        *(run_id, seq, line.line_id, line.payee_id, line.plan_id, line.plan_version, line.component, line.kind),
        *(line.adjusts_period, line.adjusts_run_id, amount, line.currency, line.attribution, line.trace.packed),
    )


def _insert_in_batches(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    """SQLite: the rows as they are, through the driver (every column is text, a number or
    bytes, stored as given): SQLAlchemy's per-row bookkeeping was most of the time."""
    statement = f"INSERT INTO run_lines ({', '.join(LINE_COLUMNS)}) VALUES ({', '.join('?' for _ in LINE_COLUMNS)})"
    for start in range(0, len(rows), 5000):
        connection.exec_driver_sql(statement, rows[start : start + 5000])
        _test_pause()


def _copy(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL COPY: the fast bulk path for many lines."""
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY run_lines ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
        for index, row in enumerate(rows):
            copy.write_row(row)
            if index == len(rows) // 2:
                _test_pause()


def _test_pause() -> None:
    """Tests that kill a run half-way set COMPENGINE_TEST_PAUSE_WRITES (seconds) to make the
    window wide enough to hit; it is never set in normal use."""
    pause = os.environ.get("COMPENGINE_TEST_PAUSE_WRITES")
    if pause:
        print("writing run lines", flush=True)
        time.sleep(float(pause))  # float-ok: seconds of a test pause, not money


def run_row(connection: Connection, run_id: int) -> Any:
    row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
    if row is None:
        raise LookupError(f"there is no run {run_id}")
    return row


def stored_lines(connection: Connection, run_id: int, payee_id: str | None = None) -> list[StoredLine]:
    query = select(*_LINE_FIELDS).where(run_lines.c.run_id == run_id)
    if payee_id is not None:
        query = query.where(run_lines.c.payee_id == payee_id)
    return [_stored_line(row) for row in connection.execute(query.order_by(run_lines.c.seq))]


def stored_line(connection: Connection, run_id: int, line_id: str) -> StoredLine | None:
    """One line of a run by its id (an index lookup), or None."""
    row = connection.execute(select(*_LINE_FIELDS).where(run_lines.c.run_id == run_id, run_lines.c.line_id == line_id)).first()
    return None if row is None else _stored_line(row)


_LINE_FIELDS = [getattr(run_lines.c, c) for c in LINE_COLUMNS if c != "trace"]


def _stored_line(row: Any) -> StoredLine:
    return StoredLine(
        row.run_id,
        row.seq,
        row.line_id,
        row.payee_id,
        row.plan_id,
        row.plan_version,
        row.component,
        row.kind,
        Decimal(row.amount),
        row.currency,
        attribution_of(row.attribution),
        row.adjusts_period,
        row.adjusts_run_id,
    )


def stored_trace(connection: Connection, run_id: int, line_id: str) -> dict[str, Any]:
    blob = connection.execute(select(run_lines.c.trace).where(run_lines.c.run_id == run_id, run_lines.c.line_id == line_id)).scalar()
    if blob is None:
        raise LookupError(f"run {run_id} has no line {line_id}")
    return unpack_trace(blob)


def stored_line_traces(connection: Connection, run_id: int) -> dict[str, tuple[Decimal, dict[str, Any]]]:
    """line id -> (amount, trace) of every line of a run, in one query (for replay)."""
    query = select(run_lines.c.line_id, run_lines.c.amount, run_lines.c.trace).where(run_lines.c.run_id == run_id)
    return {row.line_id: (Decimal(row.amount), unpack_trace(row.trace)) for row in connection.execute(query.order_by(run_lines.c.seq))}


def set_status(connection: Connection, run_id: int, status: str) -> None:
    connection.execute(update(runs).where(runs.c.id == run_id).values(status=status))
