"""Payout cycles: open → calculate (draft runs, repeatable) → approve → close, per period.

The service layer shared by the CLI and the API.  Calculating a period computes every
statement from the published plans and the facts as known at a moment, plus a prior-period
adjustment for every closed period whose statements would now come out differently (what it
should have paid, less what was posted for it), plus a `ruling` line for every upheld dispute
ruling on an earlier period that is not paid yet, and seals it all as one run.  Closing posts
the approved run to the ledger and locks the period; two closes racing each other cannot
both win.  A closed period is never rewritten.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from compengine import ENGINE_VERSION
from compengine.core.batches import evaluate
from compengine.core.calculation import calculate, hash_json, statement_json
from compengine.core.errors import CompengineError, PeriodError
from compengine.core.evaluation import Statement
from compengine.core.gcpause import paused_gc
from compengine.core.money import DECIMAL_CONTEXT, ZERO
from compengine.core.plan import CompiledPlan
from compengine.core.trace import build_line_trace, trace_json
from compengine.lang.parser import grammar_text
from compengine.service.paying import pay_stage
from compengine.store import ledger
from compengine.store.database import Database
from compengine.store.disputes import (
    RULING,
    RulingAdjustment,
    dispute_of_ruling_line,
    find_event,
    paid_rulings,
    ruling_adjustments_made_by,
    ruling_line_id,
)
from compengine.store.facts import KnownFacts, as_known_at
from compengine.store.ledger import Entry
from compengine.store.plans import published_at
from compengine.store.runs import (
    LineRow,
    RunRecord,
    SealedTrace,
    StoredLine,
    run_row,
    set_status,
    stored_line_traces,
    stored_lines,
    stored_trace,
    write_run,
)
from compengine.store.schema import attribution_text, cycles, runs

PayStage = Callable[[Connection, str, Sequence[StoredLine], datetime], list[Entry]]


class CycleError(CompengineError):
    """An operation the cycle's state does not allow; the message says what to do instead."""


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    period: str
    result_sha256: str
    statements: int
    lines: int
    adjustments: int
    notes: tuple[str, ...] = ()
    rulings: int = 0  # lines paying upheld dispute rulings


@dataclass(frozen=True)
class Replay:
    """A sealed run calculated again: each hash as recorded and as replayed."""

    run_id: int
    period: str
    hashes: dict[str, tuple[str, str]]  # name -> (recorded, replayed)
    first_difference: str | None = None  # where the replay first departs from the record

    @property
    def reproduces(self) -> bool:
        same = all(recorded == replayed for recorded, replayed in self.hashes.values())
        return same and self.first_difference is None


@dataclass(frozen=True)
class _Computed:
    record: RunRecord
    rows: list[LineRow]
    statements: list[dict[str, Any]]  # statement_json of every statement, in order
    notes: tuple[str, ...]
    adjustments: int
    rulings: int = 0


@dataclass(frozen=True)
class CloseSummary:
    period: str
    run_id: int
    entries: int
    paid: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (payee, currency) -> paid out


CENTS = Decimal("0.00")


def grammar_sha256() -> str:
    return hashlib.sha256(grammar_text().encode()).hexdigest()


def decimal_context() -> dict[str, Any]:
    return {"prec": DECIMAL_CONTEXT.prec, "rounding": DECIMAL_CONTEXT.rounding}


class PayoutCycles:
    def __init__(self, db: Database, pay: PayStage | None = None, workers: int | None = 1):
        """`workers`: processes crediting and evaluating statements at once, each for its own
        teams (see core/batches.py; None: one per core for a large enough company); the result
        is the same for any number.  One by default: a server's threads and forking mix badly."""
        self.db = db
        self.pay = pay or pay_stage
        self.workers = workers

    # ---------------------------------------------------------------- open
    def open(self, period: str) -> None:
        """Open `period` (opening an open period again is a no-op)."""
        try:
            with self.db.transaction() as connection:
                status = self._status(connection, period)
                if status == "closed":
                    raise CycleError(f"{period} is closed; it cannot be opened again (late changes go to the next open period)")
                if status is None:
                    plans = published_at(connection, self.db.now()).versions
                    if plans and period_start(plans, period) is None:
                        raise CycleError(
                            f"{period!r} is not a period of the published plans; "
                            "write a quarter as 2026-Q1, a month as 2026-M03 or a year as FY2026"
                        )
                    connection.execute(insert(cycles).values(period=period, status="open", opened_at=self.db.now()))
        except IntegrityError:
            # another operator opened it at the same moment: it is open, as asked
            if self._status_now(period) is None:
                raise

    def _status_now(self, period: str) -> str | None:
        with self.db.reading() as connection:
            return self._status(connection, period)

    def status(self) -> list[dict[str, Any]]:
        with self.db.reading() as connection:
            return [dict(row._mapping) for row in connection.execute(select(cycles).order_by(cycles.c.opened_at))]

    @staticmethod
    def _status(connection: Connection, period: str, lock: bool = False) -> str | None:
        """The cycle's status; `lock` holds its row to the end of the transaction, so a close
        running at the same time is waited for and seen (PostgreSQL; SQLite writes one at a time)."""
        query = select(cycles.c.status).where(cycles.c.period == period)
        return connection.execute(query.with_for_update() if lock else query).scalar()

    # ---------------------------------------------------------------- calculate
    @paused_gc()  # (see core/gcpause: run whole, as at L the collector re-scanned millions of facts and lines 4 times)
    def calculate(self, period: str, as_of: date | None = None, knowledge_time: datetime | None = None) -> RunSummary:
        """A draft run of `period`: its statements and the adjustments owed to closed periods."""
        knowledge_time = knowledge_time or self.db.now()
        with self.db.reading() as connection:
            status = self._status(connection, period)
            if status is None:
                raise CycleError(f"{period} is not open; open it first (compengine cycle open {period})")
            if status == "closed":
                raise CycleError(f"{period} is closed; late changes are paid as adjustments in the next open period")
            computed = self._compute(connection, period, as_of, knowledge_time, ledger_time=None)
        with self.db.transaction() as connection:
            if self._status(connection, period, lock=True) == "closed":
                raise CycleError(f"{period} was closed while it was being calculated; nothing was written")
            run_id = write_run(connection, computed.record, computed.rows, self.db.now())
            connection.execute(update(cycles).where(cycles.c.period == period, cycles.c.status != "closed").values(status="calculated"))
        earnings = len(computed.rows) - computed.adjustments - computed.rulings
        return RunSummary(
            run_id,
            period,
            computed.record.result_sha256,
            len(computed.statements),
            earnings,
            computed.adjustments,
            computed.notes,
            computed.rulings,
        )

    def replay(self, run_id: int) -> Replay:
        """Calculate a sealed run again exactly as it ran: the same plan versions, the facts as
        known at its knowledge time, and the ledger and closed periods as they stood when it was
        written.  It reproduces when every hash matches."""
        with self.db.reading() as connection:
            row = run_row(connection, run_id)
            computed = self._compute(connection, row.period, row.as_of, row.knowledge_time, ledger_time=row.created_at)
            recorded_lines = stored_line_traces(connection, run_id)
        record = computed.record
        recorded_plans = json.loads(row.plans)
        return Replay(
            run_id,
            row.period,
            {
                "plans": (hash_json(recorded_plans), hash_json(record.plans)),
                "input_sha256": (row.input_sha256, record.input_sha256),
                "result_sha256": (row.result_sha256, record.result_sha256),
                "trace_sha256": (row.trace_sha256, record.trace_sha256),
                "engine_version": (row.engine_version, record.engine_version),
                "grammar_sha256": (row.grammar_sha256, record.grammar_sha256),
            },
            first_difference(recorded_lines, computed.rows),
        )

    def _compute(
        self, connection: Connection, period: str, as_of: date | None, knowledge_time: datetime, ledger_time: datetime | None
    ) -> _Computed:
        """Everything a run of `period` holds, from what was known at `knowledge_time` (and,
        for a replay, the ledger as it stood at `ledger_time`).  Rulings made by the knowledge
        time and not paid by then are paid by it, like the facts it reads."""
        plans = published_at(connection, knowledge_time)
        if not plans.versions:
            raise CycleError("no plan is published yet; publish the plans first (compengine publish PLAN)")
        if as_of is None:  # by default a period is calculated as of its last day
            as_of = period_last_day(plans.versions, period)
            if as_of is None:
                raise CycleError(f"{period!r} is not a period of the published plans; write a quarter as 2026-Q1")
        known = booked_by(as_known_at(connection, knowledge_time), as_of)
        closed = self._closed_before(connection, plans.versions, period, ledger_time)
        paid = {c: _posted_for(connection, c, ledger_time) for c, _ in closed}
        evaluated = evaluate(plans.versions, known.dataset, period, _statement_rows, self.workers)
        statements = [statement for statement, _ in evaluated.parts]
        lines = [row for _, rows in evaluated.parts for row in rows]
        adjustments = [row for c, run_id in closed for row in _adjustments(plans.versions, known, period, c, run_id, paid[c])]
        rulings = [
            _ruling_row(connection, period, r) for r in _rulings_due(connection, plans.versions, period, knowledge_time, ledger_time)
        ]
        record = _record(period, as_of, known, plans.record, statements, lines + adjustments + rulings)
        notes = evaluated.notes + _ruled_and_adjusted(connection, adjustments, knowledge_time)
        return _Computed(record, lines + adjustments + rulings, statements, notes, len(adjustments), len(rulings))

    def _closed_before(
        self, connection: Connection, plans: Sequence[CompiledPlan], period: str, at: datetime | None
    ) -> list[tuple[str, int]]:
        """Closed periods (by `at`, if given) that come before `period` on the plans' calendars, oldest first."""
        start = period_start(plans, period)
        found = []
        query = select(cycles.c.period, cycles.c.closed_run_id).where(cycles.c.status == "closed")
        if at is not None:
            query = query.where(cycles.c.closed_at <= at)
        for row in connection.execute(query):
            begins = period_start(plans, row.period)
            if begins is not None and start is not None and begins < start:
                found.append((begins, row.period, row.closed_run_id))
        return [(label, run_id) for _, label, run_id in sorted(found)]

    # ---------------------------------------------------------------- approve and close
    def approve(self, period: str, run_id: int | None = None) -> int:
        with self.db.transaction() as connection:
            status = self._status(connection, period, lock=True)
            if status == "closed":
                raise CycleError(f"{period} is closed")
            if run_id is None:
                run_id = connection.execute(
                    select(runs.c.id).where(runs.c.period == period, runs.c.status == "draft").order_by(runs.c.id.desc())
                ).scalar()
                if run_id is None:
                    raise CycleError(f"{period} has no draft run to approve; calculate it first")
            row = run_row(connection, run_id)
            if row.period != period or row.status not in ("draft", "approved"):
                raise CycleError(f"run {run_id} is not a draft run of {period}")
            connection.execute(update(runs).where(runs.c.period == period, runs.c.status == "approved").values(status="superseded"))
            set_status(connection, run_id, "approved")
            connection.execute(update(cycles).where(cycles.c.period == period).values(status="approved", approved_run_id=run_id))
            return run_id

    def close(self, period: str) -> CloseSummary:
        """Post the approved run to the ledger and lock the period, or fail having changed nothing."""
        with self.db.transaction() as connection:
            # one close at a time (SQLite serialises writers anyway): each reads what the
            # closes before it posted, so two periods cannot both pay the same adjustment
            connection.execute(select(cycles.c.period).order_by(cycles.c.period).with_for_update())
            now = self.db.now()
            claimed = connection.execute(
                update(cycles)
                .where(cycles.c.period == period, cycles.c.status == "approved")
                .values(status="closed", closed_at=now, closed_run_id=cycles.c.approved_run_id)
            )
            if claimed.rowcount != 1:
                status = self._status(connection, period)
                if status == "closed":
                    raise CycleError(f"{period} is already closed")
                raise CycleError(f"{period} is {status or 'not open'}; approve a run before closing it")
            run_id = connection.execute(select(cycles.c.closed_run_id).where(cycles.c.period == period)).scalar_one()
            lines = stored_lines(connection, run_id)
            stale = _stale_adjustment(connection, run_id, lines)
            if stale is not None:
                raise CycleError(
                    f"run {run_id} of {period} is out of date: more was posted for {stale} since it was calculated; "
                    f"recalculate {period} and approve the new run"
                )
            paid_already = _paid_ruling(connection, lines)
            if paid_already is not None:
                raise CycleError(
                    f"run {run_id} of {period} is out of date: the ruling on dispute {paid_already} was paid by another close "
                    f"since it was calculated; recalculate {period} and approve the new run"
                )
            out_of_order = _out_of_order(connection, run_id, period)
            if out_of_order is not None:
                raise CycleError(out_of_order)
            entries = self.pay(connection, period, lines, now)
            ledger.post(connection, entries, run_id, now)
            set_status(connection, run_id, "closed")
        paid: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for entry in entries:
            if entry.kind == "payment":
                paid[(entry.payee_id, entry.currency)] -= entry.amount
        return CloseSummary(period, run_id, len(entries), dict(paid))

    # ---------------------------------------------------------------- export and views
    def export(self, period: str) -> str:
        """The payroll file of a closed period: one row per payee and currency paid."""
        with self.db.reading() as connection:
            if self._status(connection, period) != "closed":
                raise CycleError(f"{period} is not closed; only a closed period can be exported")
            found = ledger.entries(connection, period=period)
        by_payee: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for entry in found:
            by_payee[(entry.payee_id, entry.currency)].append(entry)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["payee_id", "amount", "currency", "period", "ledger_entries"])
        for (payee_id, currency), entries in sorted(by_payee.items()):
            paid = CENTS - sum((e.amount for e in entries if e.kind == "payment"), ZERO)  # at least two places: 0.00, not 0
            refs = ";".join(f"L{e.id}" for e in entries)
            writer.writerow([payee_id, format(paid, "f"), currency, period, refs])
        return out.getvalue()

    def lines(self, period: str, run_id: int | None = None, payee_id: str | None = None) -> tuple[int, list[StoredLine]]:
        with self.db.reading() as connection:
            if run_id is None:
                run_id = self._current_run(connection, period)
            return run_id, stored_lines(connection, run_id, payee_id)

    def _current_run(self, connection: Connection, period: str) -> int:
        row = connection.execute(select(cycles).where(cycles.c.period == period)).first()
        if row is None:
            raise CycleError(f"{period} is not open")
        run_id = row.closed_run_id or row.approved_run_id
        if run_id is None:
            run_id = connection.execute(select(runs.c.id).where(runs.c.period == period).order_by(runs.c.id.desc())).scalar()
        if run_id is None:
            raise CycleError(f"{period} has not been calculated yet")
        return int(run_id)

    def settlement(self, period: str, payee_id: str | None = None) -> tuple[list[Entry], dict[tuple[str, str, str], Decimal]]:
        """What the close of `period` posted, and every balance (payee, account, currency) just
        after it: what a statement shows beside its lines.  Empty while the period is open."""
        with self.db.reading() as connection:
            closed_at = connection.execute(select(cycles.c.closed_at).where(cycles.c.period == period)).scalar()
            if closed_at is None:
                return [], {}
            history = ledger.entries(connection, payee_id=payee_id, posted_until=closed_at)
        return [e for e in history if e.period == period], ledger.balances(history)

    def ledger(self, payee_id: str | None = None) -> list[Entry]:
        with self.db.reading() as connection:
            return ledger.entries(connection, payee_id=payee_id)


# ------------------------------------------------------------------ runs
def booked_by(known: KnownFacts, as_of: date) -> KnownFacts:
    """The facts a run as of `as_of` counts: deals closed after that day have not happened yet.
    (The facts' fingerprint is unchanged: `as_of` is sealed in the run record beside it.)"""
    deals = tuple(deal for deal in known.dataset.deals if deal.close_date <= as_of)
    if len(deals) == len(known.dataset.deals):
        return known
    return dataclasses.replace(known, dataset=dataclasses.replace(known.dataset, deals=deals))


def first_difference(recorded: dict[str, tuple[Decimal, dict[str, Any]]], replayed: Sequence[LineRow]) -> str | None:
    """The first line, and within its trace the first node, where a replay departs from the record."""
    replayed_ids = {r.line_id for r in replayed}
    for row in replayed:
        if row.line_id not in recorded:
            return f"line {row.line_id}: not in the recorded run"
        amount, trace = recorded[row.line_id]
        if amount != row.amount:
            return f"line {row.line_id}: recorded {amount:f}, replayed {row.amount:f}"
        if hash_json(trace) != row.trace.sha256:
            path = _first_json_difference(trace, row.trace.json(), "trace")
            return f"line {row.line_id}: {path or 'trace'}"
    missing = [line_id for line_id in recorded if line_id not in replayed_ids]
    return f"line {missing[0]}: recorded, but not produced by the replay" if missing else None


def _first_json_difference(recorded: Any, replayed: Any, path: str) -> str | None:
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        for key in sorted(set(recorded) | set(replayed)):
            found = _first_json_difference(recorded.get(key), replayed.get(key), f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(recorded, list) and isinstance(replayed, list):
        for index, (a, b) in enumerate(zip(recorded, replayed, strict=False)):
            found = _first_json_difference(a, b, f"{path}[{index}]")
            if found is not None:
                return found
        return None if len(recorded) == len(replayed) else f"{path}: {len(recorded)} items recorded, {len(replayed)} replayed"
    return None if recorded == replayed else f"{path}: recorded {recorded!r}, replayed {replayed!r}"


def period_start(plans: Sequence[CompiledPlan], label: str) -> date | None:
    for plan in plans:
        try:
            return plan.header.calendar.parse(label, plan.header.period_kind).start
        except PeriodError:
            continue
    return None


def period_last_day(plans: Sequence[CompiledPlan], label: str) -> date | None:
    for plan in plans:
        try:
            return plan.header.calendar.parse(label, plan.header.period_kind).last_day
        except PeriodError:
            continue
    return None


def _statement_rows(statement: Statement) -> tuple[dict[str, Any], list[LineRow]]:
    """What a run keeps of a statement: its JSON (for the result hash) and its lines, traced."""
    return statement_json(statement), [_earning_row(statement, index) for index in range(len(statement.lines))]


def _earning_row(statement: Statement, index: int) -> LineRow:
    line = statement.lines[index]
    return LineRow(
        line.id,
        statement.payee_id,
        statement.plan.id,
        statement.plan.version,
        line.component.name,
        "earning",
        line.amount,
        statement.currency,
        attribution_text((a.deal_id or "-", a.amount) for a in line.attribution),
        SealedTrace.of(trace_json(build_line_trace(statement, line))),
    )


def _record(
    period: str, as_of: date, known: KnownFacts, plans: list[dict[str, object]], statements: list[dict[str, Any]], lines: list[LineRow]
) -> RunRecord:
    def settling(kind: str) -> list[dict[str, Any]]:
        return [{"id": r.line_id, "amount": format(r.amount, "f"), "adjusts": r.adjusts_period} for r in lines if r.kind == kind]

    sealed: dict[str, Any] = {"statements": statements, "adjustments": settling("adjustment")}
    rulings = settling(RULING)
    if rulings:  # (only then, so the hash of every run without one is what it always was)
        sealed["rulings"] = rulings
    traces = hashlib.sha256()
    for row in lines:
        traces.update(row.trace.sha256.encode())
    return RunRecord(
        period,
        as_of,
        known.knowledge_time,
        ENGINE_VERSION,
        grammar_sha256(),
        decimal_context(),
        plans,
        hash_json({"facts": known.sha256, "plans": plans}),
        hash_json(sealed),
        traces.hexdigest(),
    )


# ------------------------------------------------------------------ prior-period adjustments
Key = tuple[str, str, str]  # payee, plan, component


@dataclass
class _Posted:
    amount: Decimal = ZERO
    currency: str = ""
    attribution: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))


def _posted_for(connection: Connection, closed: str, until: datetime | None = None) -> dict[Key, _Posted]:
    """What the ledger recognised as earned for a closed period (by `until`, if given): its
    earnings, plus every adjustment for it posted since."""
    posted: dict[Key, _Posted] = defaultdict(_Posted)
    for entry in ledger.entries(connection, posted_until=until):
        counts = (entry.kind == "earning" and entry.period == closed) or (entry.kind == "adjustment" and entry.adjusts_period == closed)
        if not counts or entry.plan_id is None or entry.component is None:
            continue
        item = posted[(entry.payee_id, entry.plan_id, entry.component)]
        item.amount += entry.amount
        item.currency = entry.currency
        for deal, amount in entry.attribution:
            item.attribution[deal] += amount
    return posted


def _out_of_order(connection: Connection, run_id: int, period: str) -> str | None:
    """Why `period` cannot close yet, if it cannot: periods close in calendar order, because
    what a close pays (draw recoveries, releases, what is owed) carries into the next."""
    plans = published_at(connection, run_row(connection, run_id).knowledge_time).versions
    start = period_start(plans, period)
    if start is None:
        return None
    for row in connection.execute(select(cycles.c.period, cycles.c.status).where(cycles.c.period != period).order_by(cycles.c.period)):
        begins = period_start(plans, row.period)
        if begins is None:
            continue
        if begins < start and row.status != "closed":
            return f"{row.period} comes before {period} and is not closed yet; close {row.period} first (periods close in order)"
        if begins > start and row.status == "closed":
            return f"{row.period}, which comes after {period}, is already closed; {period} can no longer be closed (periods close in order)"
    return None


def _stale_adjustment(connection: Connection, run_id: int, lines: Sequence[StoredLine]) -> str | None:
    """The period of the first adjustment in the run whose basis, what was posted for its closed
    period when the run was calculated, is no longer what is posted (another close paid it)."""
    posted: dict[str, dict[Key, _Posted]] = {}
    for line in lines:
        if line.kind != "adjustment" or line.adjusts_period is None:
            continue
        if line.adjusts_period not in posted:
            posted[line.adjusts_period] = _posted_for(connection, line.adjusts_period)
        now = posted[line.adjusts_period].get((line.payee_id, line.plan_id, line.component), _Posted()).amount
        if Decimal(stored_trace(connection, run_id, line.line_id)["posted"]) != now:
            return line.adjusts_period
    return None


def _adjustments(
    plans: Sequence[CompiledPlan], known: KnownFacts, period: str, closed: str, closed_run: int, posted: dict[Key, _Posted]
) -> list[LineRow]:
    """Lines paying the difference between what `closed` should have paid and what it did."""
    recomputed = calculate(plans, known.dataset, closed)
    should: dict[Key, tuple[Statement, int]] = {}
    for statement in recomputed.statements:
        for index, line in enumerate(statement.lines):
            should[(statement.payee_id, statement.plan.id, line.component.name)] = (statement, index)
    rows = []
    for key in sorted(set(should) | set(posted)):
        payee_id, plan_id, component = key
        paid = posted.get(key, _Posted())
        if key in should:
            statement, index = should[key]
            line = statement.lines[index]
            amount, currency, version = line.amount, statement.currency, statement.plan.version
            attribution = {a.deal_id or "-": a.amount for a in line.attribution}
            recomputed_trace: dict[str, Any] | None = trace_json(build_line_trace(statement, line))
        else:
            amount, currency, version, attribution, recomputed_trace = ZERO, paid.currency, 0, {}, None
        difference = amount - paid.amount
        if difference == 0:
            continue
        deals = sorted(set(attribution) | set(paid.attribution))
        by_deal = tuple((d, attribution.get(d, ZERO) - paid.attribution.get(d, ZERO)) for d in deals)
        by_deal = tuple((d, a) for d, a in by_deal if a != 0)
        trace = {
            "format": "compengine.adjustment/1",
            "adjusts": closed,
            "closed_run": closed_run,
            "should_have_paid": format(amount, "f"),
            "posted": format(paid.amount, "f"),
            "difference": format(difference, "f"),
            "recomputed": recomputed_trace,
        }
        line_id = f"{period}/{payee_id}/{plan_id}/{component}/adjusts/{closed}"
        rows.append(
            LineRow(
                line_id,
                payee_id,
                plan_id,
                version,
                component,
                "adjustment",
                difference,
                currency,
                attribution_text(by_deal),
                SealedTrace.of(trace),
                closed,
                closed_run,
            )
        )
    return rows


# ------------------------------------------------------------------ rulings
def _rulings_due(
    connection: Connection, plans: Sequence[CompiledPlan], period: str, made_by: datetime, paid_by: datetime | None
) -> list[RulingAdjustment]:
    """Ruling adjustments a run of `period` pays: made by `made_by` (the run's knowledge
    time), not paid by `paid_by` (None: now), for a period before `period`.  Whichever open
    period after the disputed one closes first pays it; a close refuses a run whose ruling
    another close has paid since (`_paid_ruling`), so it is paid exactly once."""
    start = period_start(plans, period)
    if start is None:
        return []
    paid = paid_rulings(connection, paid_by)
    due = []
    for adjustment in ruling_adjustments_made_by(connection, made_by):
        disputed = period_start(plans, adjustment.adjusts_period)
        if adjustment.dispute_id not in paid and disputed is not None and disputed < start:
            due.append(adjustment)
    return due


def _ruling_row(connection: Connection, period: str, adjustment: RulingAdjustment) -> LineRow:
    ruling = find_event(connection, adjustment.ruling_event_id)
    payload = ruling.payload if ruling is not None else {}
    trace = {
        "format": "compengine.ruling/1",
        "dispute": adjustment.dispute_id,
        "run": adjustment.run_id,
        "line": adjustment.line_id,
        "adjusts": adjustment.adjusts_period,
        "what_if_event": adjustment.what_if_event_id,
        "ruling_event": adjustment.ruling_event_id,
        "outcome": payload.get("outcome"),
        "amount": format(adjustment.amount, "f"),
        "rationale": payload.get("rationale"),
    }
    return LineRow(
        ruling_line_id(period, adjustment),
        adjustment.payee_id,
        adjustment.plan_id,
        adjustment.plan_version,
        adjustment.component,
        RULING,
        adjustment.amount,
        adjustment.currency,
        attribution_text(adjustment.attribution),
        SealedTrace.of(trace),
        adjustment.adjusts_period,
        adjustment.run_id,
    )


def _ruled_and_adjusted(connection: Connection, adjustments: Sequence[LineRow], made_by: datetime) -> tuple[str, ...]:
    """A warning for every prior-period adjustment of a line an upheld ruling has adjusted
    too: the engine does not net the two (docs/disputes.md), so finance checks it is not
    paid twice before approving."""
    ruled = {(r.payee_id, r.plan_id, r.component, r.adjusts_period): r for r in ruling_adjustments_made_by(connection, made_by)}
    notes = []
    for row in adjustments:
        ruling = ruled.get((row.payee_id, row.plan_id, row.component, row.adjusts_period or ""))
        if ruling is not None:
            notes.append(
                f"{row.payee_id}'s {row.component} of {row.adjusts_period} is adjusted by {format(row.amount, 'f')} {row.currency}, "
                f"and dispute {ruling.dispute_id}'s ruling adjusted it by {format(ruling.amount, 'f')} {ruling.currency}: "
                "check the two do not pay the same correction twice before approving"
            )
    return tuple(notes)


def _paid_ruling(connection: Connection, lines: Sequence[StoredLine]) -> int | None:
    """The dispute of the first ruling line of a run that the ledger has paid already."""
    rulings = [dispute_of_ruling_line(line.line_id) for line in lines if line.kind == RULING]
    if not rulings:
        return None
    paid = paid_rulings(connection)
    return next((dispute_id for dispute_id in rulings if dispute_id in paid), None)
