"""Dispute arbitration by exact replay: the service layer the API (and any other client) calls.

1. A payee opens a dispute on an earning line of an approved or closed run (`open_dispute`).
2. An arbitrator replays the disputed run from its sealed record (`replay`): do the result
   and trace hashes reproduce, and if not, where is the first difference?
3. The arbitrator runs what-ifs (`what_if`): overlays on the pinned run — its facts as known
   at its knowledge time, its plan versions — never edits of history.  Each gives a
   line-by-line diff with both explanations and the clauses responsible, and is hashed.
4. The arbitrator rules (`rule`): upheld, partially upheld or denied, with a rationale.  An
   upheld ruling owes the what-if's difference on the disputed line (or, partially upheld,
   a smaller amount); it is paid as a `ruling` line of the next open period's run and posted
   to the ledger at that period's close, once.  A denied ruling changes nothing else.
5. `history` gives the dispute and every event, in order, each with its payload hash.

Actors are user ids (`users.id`), passed in by the caller, who has authenticated them.
Every function runs in its own transaction.  Errors are `DisputeError`s (`DisputeNotFound`,
`DisputeInvalid`, `DisputeConflict`) or, for a bad overlay, `OverlayError`; each message
says what to do instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from compengine.core.calculation import CalculationResult, calculate
from compengine.core.errors import CompengineError, DataError, EvaluationError, PeriodError
from compengine.core.money import ZERO, decimal_str, parse_decimal
from compengine.core.plan import CompiledPlan
from compengine.core.rounding import allocate
from compengine.core.trace import build_line_trace, trace_json
from compengine.io.csv_data import dataset_from_rows
from compengine.service.cycles import PayoutCycles, booked_by
from compengine.service.whatif import (
    WHAT_IF_FORMAT,
    DealFieldOverlay,
    Overlay,
    OverlayError,
    PublishedVersion,
    apply_overlays,
    did_you_mean,
    diff,
    overlay_json,
    parse_overlays,
    result_hashes,
)
from compengine.store import disputes as store
from compengine.store.database import Database
from compengine.store.disputes import Dispute, DisputeEvent, RulingAdjustment
from compengine.store.facts import KnownFacts, rows_known_at
from compengine.store.plans import compile_published, published_at
from compengine.store.runs import run_row, stored_line, stored_line_traces, stored_lines, stored_trace
from compengine.store.schema import plan_versions

OUTCOMES = ("upheld", "partially_upheld", "denied")

__all__ = [
    "OUTCOMES",
    "Dispute",
    "DisputeConflict",
    "DisputeError",
    "DisputeEvent",
    "DisputeHistory",
    "DisputeInvalid",
    "DisputeNotFound",
    "Overlay",
    "OverlayError",
    "Ruling",
    "RulingAdjustment",
    "comment",
    "get_dispute",
    "history",
    "list_disputes",
    "open_dispute",
    "replay",
    "rule",
    "what_if",
]


class DisputeError(CompengineError):
    """Something a dispute cannot do; the message says what to do instead."""


class DisputeNotFound(DisputeError):
    """An unknown dispute, run, line, user or what-if event."""


class DisputeInvalid(DisputeError):
    """A request that can never succeed as written: an empty claim or rationale, an unknown
    outcome, an amount larger than the what-if's difference, a line that is not an earning."""


class DisputeConflict(DisputeError):
    """A request the dispute's (or the run's) state does not allow now: a draft run, a
    dispute already ruled."""


@dataclass(frozen=True)
class DisputeHistory:
    dispute: Dispute
    events: list[DisputeEvent]

    @property
    def ruled(self) -> bool:
        return any(event.kind == "ruling" for event in self.events)

    @property
    def verifies(self) -> bool:
        """Every event's payload still hashes to the hash stored with it."""
        return all(event.verifies for event in self.events)

    def to_json(self) -> dict[str, Any]:
        return {"dispute": self.dispute.to_json(), "events": [event.to_json() for event in self.events]}


@dataclass(frozen=True)
class Ruling:
    event: DisputeEvent
    adjustment: RulingAdjustment | None  # None for a denied ruling


# ------------------------------------------------------------------ 1. open
def open_dispute(db: Database, run_id: int, line_id: str, claim: str, claimed_facts: Any, actor: int | None) -> Dispute:
    """Open a dispute of one earning line of an approved or closed run.  `claimed_facts` is
    any JSON the payee gives (the facts they believe are right), or None."""
    claim = (claim or "").strip()
    if not claim:
        raise DisputeInvalid("a dispute needs a claim: say in words what is wrong with the line")
    try:
        json.dumps(claimed_facts, allow_nan=False)
    except (TypeError, ValueError):
        raise DisputeInvalid("claimed_facts must be plain JSON (objects, lists, text, numbers, true/false, null)") from None
    with db.transaction() as connection:
        _check_actor(connection, actor)
        run = _run(connection, run_id)
        if run.status == "draft":
            raise DisputeConflict(f"run {run_id} of {run.period} is a draft; only a line of an approved or closed run can be disputed")
        if run.status == "superseded":
            raise DisputeConflict(
                f"run {run_id} of {run.period} was superseded by a later approval; dispute the line of the run that was approved"
            )
        line = stored_line(connection, run_id, line_id)
        if line is None:
            known = [found.line_id for found in stored_lines(connection, run_id)]
            raise DisputeNotFound(f"run {run_id} has no line {line_id!r}{did_you_mean(line_id, known, cutoff=0.8)}")
        if line.kind != "earning":
            raise DisputeInvalid(
                f"line {line_id} is a {line.kind} line (it settles {line.adjusts_period}); dispute the earning line of "
                f"{line.adjusts_period} it corrects, in that period's run"
            )
        return store.insert_dispute(
            connection,
            run_id=run_id,
            line_id=line_id,
            payee_id=line.payee_id,
            period=run.period,
            opened_by=actor,
            opened_at=db.now(),
            claim=claim,
            claimed_facts=claimed_facts,
        )


def get_dispute(db: Database, dispute_id: int) -> Dispute:
    with db.reading() as connection:
        return _dispute(connection, dispute_id)


def list_disputes(db: Database, payee_id: str | None = None, run_id: int | None = None) -> list[Dispute]:
    """Disputes in the order they were opened: all, one payee's, or one run's."""
    with db.reading() as connection:
        return store.disputes_of(connection, payee_id, run_id)


# ------------------------------------------------------------------ 2. replay
def replay(db: Database, dispute_id: int, actor: int | None) -> DisputeEvent:
    """Recompute the disputed run from its sealed record and record a `replay` event: each
    hash as recorded and as replayed, whether it reproduces, and the first difference."""
    with db.reading() as connection:
        dispute = _dispute(connection, dispute_id)
    outcome = PayoutCycles(db).replay(dispute.run_id)
    payload = {
        "run": dispute.run_id,
        "period": outcome.period,
        "reproduces": outcome.reproduces,
        "hashes": {name: {"recorded": recorded, "replayed": replayed} for name, (recorded, replayed) in sorted(outcome.hashes.items())},
        "first_difference": outcome.first_difference,
    }
    with db.transaction() as connection:
        _check_actor(connection, actor)
        return store.append_event(connection, dispute_id, "replay", actor, db.now(), payload)


# ------------------------------------------------------------------ 3. what-if
def what_if(db: Database, dispute_id: int, overlay: Any, actor: int | None) -> DisputeEvent:
    """Recalculate the disputed period as the pinned run would have with `overlay` (one
    overlay, or a list applied in order; models or their JSON), record a `what_if` event and
    return it.  Its payload holds the overlays, the pinned inputs' hashes, the what-if's
    result and trace hashes, whether the run's record reproduces, and the diff: every line of
    the disputed payee and every other line the overlay changes, each with the amount
    recorded, recomputed and under the what-if, the difference (in all and by deal), both
    explanations, and the clauses responsible.  The same overlay on the same run always
    gives the same payload, byte for byte."""
    overlays = parse_overlays(overlay)
    with db.reading() as connection:
        dispute = _dispute(connection, dispute_id)
        if store.ruling_of(connection, dispute_id) is not None:
            raise DisputeConflict(f"dispute {dispute_id} has been ruled; its what-ifs are closed")
        run = run_row(connection, dispute.run_id)
        rows, facts_sha256 = rows_known_at(connection, run.knowledge_time)
        plans = published_at(connection, run.knowledge_time)
        earnings = {line.line_id for line in stored_lines(connection, dispute.run_id) if line.kind == "earning"}
        recorded = {line_id: found for line_id, found in stored_line_traces(connection, dispute.run_id).items() if line_id in earnings}
        disputed_line = stored_line(connection, dispute.run_id, dispute.line_id)
        assert disputed_line is not None, "a dispute names a line of its run"
        overlaid_rows, overlaid_plans = apply_overlays(
            overlays, rows, plans.versions, disputed_line.plan_id, lambda published_id: _published(connection, published_id)
        )
    known = KnownFacts(dataset_from_rows(rows), facts_sha256, run.knowledge_time)
    original = _calculate(plans.versions, known, run.as_of, run.period)
    try:
        overlaid = KnownFacts(dataset_from_rows(overlaid_rows, _WHAT_IF_NAMES), facts_sha256, run.knowledge_time)
    except DataError as error:
        raise OverlayError(f"with the what-if, the data would not load: {'; '.join(str(issue) for issue in error.issues)}") from None
    try:
        result = _calculate(overlaid_plans, overlaid, run.as_of, run.period)
    except ArithmeticError:
        raise OverlayError("the period cannot be calculated with the what-if: a number in it is too large to calculate with") from None
    except (DataError, EvaluationError, PeriodError) as error:
        raise OverlayError(f"the period cannot be calculated with the what-if: {error}") from None
    lines = diff(original, result, dispute.payee_id, {line_id: amount for line_id, (amount, _) in recorded.items()})
    disputed = next((line for line in lines if line["line"] == dispute.line_id), None)
    payload = {
        "format": WHAT_IF_FORMAT,
        "dispute": dispute_id,
        "run": dispute.run_id,
        "period": run.period,
        "as_of": run.as_of.isoformat(),
        "knowledge_time": run.knowledge_time.isoformat(),
        "facts_sha256": facts_sha256,
        "plans": plans.record,
        "overlays": [overlay_json(o) for o in overlays],
        "notes": _notes(overlays),
        "reproduces": _reproduces(original, recorded),
        "original": result_hashes(original),
        "what_if": result_hashes(result),
        "disputed_line": None
        if disputed is None
        else {key: disputed[key] for key in ("line", "recorded", "original", "what_if", "difference", "currency")},
        "lines": lines,
    }
    with db.transaction() as connection:
        _check_actor(connection, actor)
        return store.append_event(connection, dispute_id, "what_if", actor, db.now(), payload)


_WHAT_IF_NAMES = {"deals.csv": "deals (with the what-if)", "quotas.csv": "quotas (with the what-if)"}


def _calculate(plans: Sequence[CompiledPlan], known: KnownFacts, as_of: Any, period: str) -> CalculationResult:
    return calculate(plans, booked_by(known, as_of).dataset, period)


def _reproduces(original: CalculationResult, recorded: dict[str, tuple[Decimal, dict[str, Any]]]) -> bool:
    """Whether the run's earning lines, recomputed from its record, are the lines it sealed."""
    recomputed = {
        line.id: (line.amount, trace_json(build_line_trace(statement, line)))
        for statement in original.statements
        for line in statement.lines
    }
    return recomputed == recorded


def _notes(overlays: Sequence[Overlay]) -> list[str]:
    notes = []
    for overlay in overlays:
        if isinstance(overlay, DealFieldOverlay) and overlay.field in ("cancelled_on", "refunded_amount", "invoice_paid_on"):
            notes.append(
                f"deal {overlay.deal}'s {overlay.field} changes no statement line: cancellations, refunds and paid invoices "
                "are settled by the pay stage when a period closes (clawbacks, deferrals), not by the calculation"
            )
    return notes


def _published(connection: Connection, published_id: int) -> PublishedVersion | None:
    row = connection.execute(select(plan_versions).where(plan_versions.c.id == published_id)).first()
    if row is None:
        return None
    compiled = compile_published(row.source_path, row.source_text, json.loads(row.libraries))
    return PublishedVersion(row.id, row.plan_id, row.version, row.source_sha256, compiled)


# ------------------------------------------------------------------ 4. rule
def rule(
    db: Database,
    dispute_id: int,
    outcome: str,
    rationale: str,
    actor: int | None,
    what_if_event_id: int | None = None,
    amount: Decimal | str | None = None,
) -> Ruling:
    """Rule on a dispute, once.  `upheld` owes the difference the what-if event made on the
    disputed line; `partially_upheld` owes it too, or the smaller `amount` (same sign) given;
    both write a ruling adjustment that the next open period's run pays.  `denied` records
    the ruling and changes nothing else."""
    if outcome not in OUTCOMES:
        raise DisputeInvalid(f"a ruling is one of {', '.join(OUTCOMES)}, not {outcome!r}")
    rationale = (rationale or "").strip()
    if not rationale:
        raise DisputeInvalid("a ruling needs a rationale: say in words why it was decided this way")
    given = _amount(amount)
    if given is not None and outcome != "partially_upheld":
        raise DisputeInvalid(
            "only a partially upheld ruling takes an amount; an upheld one owes the what-if's difference and a denied one nothing"
        )
    if outcome != "denied" and what_if_event_id is None:
        raise DisputeInvalid(f"an {outcome.replace('_', ' ')} ruling needs the what-if that justifies it (what_if_event_id)")
    try:
        with db.transaction() as connection:
            _check_actor(connection, actor)
            dispute = _dispute(connection, dispute_id, lock=True)
            if store.ruling_of(connection, dispute_id) is not None:
                raise DisputeConflict(f"dispute {dispute_id} has already been ruled; a dispute is ruled once")
            evidence = None if what_if_event_id is None else _what_if_event(connection, dispute, what_if_event_id)
            payload: dict[str, Any] = {
                "outcome": outcome,
                "rationale": rationale,
                "run": dispute.run_id,
                "line": dispute.line_id,
                "what_if_event": what_if_event_id,
                "what_if_sha256": evidence.payload_sha256 if evidence else None,
            }
            if outcome == "denied":
                event = store.append_event(connection, dispute_id, "ruling", actor, db.now(), {**payload, "amount": None})
                return Ruling(event, None)
            assert evidence is not None and what_if_event_id is not None
            line = _owed(connection, dispute, evidence, outcome, given)
            payload.update(amount=decimal_str(line.amount), currency=line.currency)
            now = db.now()
            event = store.append_event(connection, dispute_id, "ruling", actor, now, payload)
            adjustment = store.insert_ruling_adjustment(
                connection,
                dispute=dispute,
                ruling_event_id=event.id,
                what_if_event_id=what_if_event_id,
                plan_id=line.plan_id,
                plan_version=line.plan_version,
                component=line.component,
                amount=line.amount,
                currency=line.currency,
                attribution=line.attribution,
                created_at=now,
            )
            return Ruling(event, adjustment)
    except IntegrityError:
        # another arbitrator's ruling won the race (the database keeps one ruling per dispute)
        raise DisputeConflict(f"dispute {dispute_id} has already been ruled; a dispute is ruled once") from None


@dataclass(frozen=True)
class _Owed:
    plan_id: str
    plan_version: int
    component: str
    amount: Decimal
    currency: str
    attribution: tuple[tuple[str, Decimal], ...]


def _what_if_event(connection: Connection, dispute: Dispute, event_id: int) -> DisputeEvent:
    event = store.find_event(connection, event_id)
    if event is None or event.dispute_id != dispute.id:
        raise DisputeNotFound(f"dispute {dispute.id} has no event {event_id}")
    if event.kind != "what_if":
        raise DisputeInvalid(f"event {event_id} of dispute {dispute.id} is a {event.kind}, not a what-if")
    return event


def _owed(connection: Connection, dispute: Dispute, evidence: DisputeEvent, outcome: str, given: Decimal | None) -> _Owed:
    """What an upheld or partially upheld ruling owes, from the what-if's disputed line."""
    payload = evidence.payload
    label = outcome.replace("_", " ")
    if not payload.get("reproduces"):
        raise DisputeConflict(
            f"what-if {evidence.id} was run on a record that does not reproduce (replay the run); an {label} ruling cannot rest on it"
        )
    line = next((found for found in payload["lines"] if found["line"] == dispute.line_id), None)
    difference = ZERO if line is None else Decimal(line["difference"])
    if line is None or difference == 0:
        raise DisputeInvalid(
            f"what-if {evidence.id} does not change the disputed line {dispute.line_id}; deny the dispute, or run a what-if that does"
        )
    amount = difference
    by_deal = tuple((deal, Decimal(part)) for deal, part in line["difference_by_deal"])
    if given is not None:
        if given == 0 or (given > 0) != (difference > 0) or abs(given) > abs(difference):
            raise DisputeInvalid(
                f"a partially upheld ruling gives an amount of the same sign as the what-if's difference "
                f"{decimal_str(difference)} and no larger, not {decimal_str(given)}"
            )
        places = stored_trace(connection, dispute.run_id, dispute.line_id)["trace"]["detail"]["rounding"]["places"]
        quantum = Decimal(1).scaleb(-int(places))
        if given != given.quantize(quantum):
            raise DisputeInvalid(f"the amount {decimal_str(given)} has more than the plan's {places} decimal places")
        amount = given
        parts = allocate(given, [part for _, part in by_deal], quantum) if by_deal else []
        by_deal = tuple((deal, part) for (deal, _), part in zip(by_deal, parts, strict=True) if part != 0)
    if sum((part for _, part in by_deal), ZERO) != amount:
        by_deal = (("-", amount),)  # not attributable to deals (a line without deals behind it)
    return _Owed(line["plan"], line["plan_version"], line["component"], amount, line["currency"], by_deal)


def _amount(amount: Decimal | str | None) -> Decimal | None:
    if amount is None or isinstance(amount, Decimal):
        if isinstance(amount, Decimal) and not amount.is_finite():
            raise DisputeInvalid(f"{amount} is not an amount")
        return amount
    try:
        return parse_decimal(str(amount))
    except (ValueError, InvalidOperation):
        raise DisputeInvalid(f"{amount!r} is not an amount (write it like 250.00 or -1,200.50)") from None


# ------------------------------------------------------------------ comments and history
def comment(db: Database, dispute_id: int, text: str, actor: int | None) -> DisputeEvent:
    """A remark in the dispute's history (a hearing held, a document received)."""
    text = (text or "").strip()
    if not text:
        raise DisputeInvalid("a comment needs some text")
    with db.transaction() as connection:
        _check_actor(connection, actor)
        _dispute(connection, dispute_id)
        return store.append_event(connection, dispute_id, "comment", actor, db.now(), {"text": text})


def history(db: Database, dispute_id: int) -> DisputeHistory:
    """The dispute and every event, in the order they happened, each with its payload hash."""
    with db.reading() as connection:
        return DisputeHistory(_dispute(connection, dispute_id), store.events_of(connection, dispute_id))


# ------------------------------------------------------------------ helpers
def _dispute(connection: Connection, dispute_id: int, lock: bool = False) -> Dispute:
    found = store.find_dispute(connection, dispute_id, lock)
    if found is None:
        raise DisputeNotFound(f"there is no dispute {dispute_id}")
    return found


def _run(connection: Connection, run_id: int) -> Any:
    try:
        return run_row(connection, run_id)
    except LookupError:
        raise DisputeNotFound(f"there is no run {run_id}") from None


def _check_actor(connection: Connection, actor: int | None) -> None:
    if actor is not None and not store.user_exists(connection, actor):
        raise DisputeNotFound(f"there is no user {actor}")
