"""Disputes, their append-only history, and what upheld rulings owe: table access only.

A dispute row is written once, when the dispute is opened, and never changed.  Everything
that happens to it afterwards (a replay, a what-if, a comment, the ruling) is a new
`dispute_events` row whose payload is canonical JSON stored with its SHA-256, so the history
can be verified byte for byte.  An upheld ruling also writes one `ruling_adjustments` row:
what the ruling owes.  Whether it has been paid is read from the ledger (an entry of kind
`ruling` naming the dispute in its line id), so that row never changes either.

There is deliberately no function here that updates or deletes anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from compengine.core.calculation import canonical_text
from compengine.store.schema import attribution_of, attribution_text, dispute_events, disputes, ledger_entries, ruling_adjustments, users

EVENT_KINDS = ("replay", "what_if", "ruling", "comment")


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Dispute:
    """A payee's dispute of one statement line of a sealed run."""

    id: int
    run_id: int
    line_id: str
    payee_id: str
    period: str
    opened_by: int | None
    opened_at: datetime
    claim: str
    claimed_facts: Any  # the JSON the payee gave (None if nothing)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run": self.run_id,
            "line": self.line_id,
            "payee": self.payee_id,
            "period": self.period,
            "opened_by": self.opened_by,
            "opened_at": self.opened_at.isoformat(),
            "claim": self.claim,
            "claimed_facts": self.claimed_facts,
        }


@dataclass(frozen=True)
class DisputeEvent:
    """One entry of a dispute's history: `payload` is stored as `payload_text`, hashed."""

    id: int
    dispute_id: int
    kind: str  # replay | what_if | ruling | comment
    actor: int | None
    at: datetime
    payload_text: str
    payload_sha256: str

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.payload_text)  # type: ignore[no-any-return]

    @property
    def verifies(self) -> bool:
        """Whether the stored payload still hashes to the stored hash."""
        return text_sha256(self.payload_text) == self.payload_sha256

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dispute": self.dispute_id,
            "kind": self.kind,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "payload": self.payload,
            "payload_sha256": self.payload_sha256,
        }


@dataclass(frozen=True)
class RulingAdjustment:
    """What an upheld (or partially upheld) ruling owes the payee, on the disputed line's
    plan and component, for the disputed period."""

    id: int
    dispute_id: int
    ruling_event_id: int
    what_if_event_id: int
    run_id: int  # the disputed run
    line_id: str  # the disputed line
    payee_id: str
    plan_id: str
    plan_version: int
    component: str
    adjusts_period: str
    amount: Decimal
    currency: str
    attribution: tuple[tuple[str, Decimal], ...]
    created_at: datetime


# ------------------------------------------------------------------ disputes
def insert_dispute(
    connection: Connection,
    *,
    run_id: int,
    line_id: str,
    payee_id: str,
    period: str,
    opened_by: int | None,
    opened_at: datetime,
    claim: str,
    claimed_facts: Any,
) -> Dispute:
    facts = None if claimed_facts is None else canonical_text(claimed_facts)
    dispute_id: int = connection.execute(
        insert(disputes)
        .returning(disputes.c.id)
        .values(
            run_id=run_id,
            line_id=line_id,
            payee_id=payee_id,
            period=period,
            opened_by=opened_by,
            opened_at=opened_at,
            claim=claim,
            claimed_facts=facts,
        )
    ).scalar_one()
    return Dispute(dispute_id, run_id, line_id, payee_id, period, opened_by, opened_at, claim, claimed_facts)


def find_dispute(connection: Connection, dispute_id: int, lock: bool = False) -> Dispute | None:
    """The dispute, or None; `lock` holds its row to the end of the transaction (PostgreSQL),
    so two arbitrators ruling at once are taken one after the other."""
    query = select(disputes).where(disputes.c.id == dispute_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        return None
    facts = None if row.claimed_facts is None else json.loads(row.claimed_facts)
    return Dispute(row.id, row.run_id, row.line_id, row.payee_id, row.period, row.opened_by, row.opened_at, row.claim, facts)


def disputes_of(connection: Connection, payee_id: str | None = None, run_id: int | None = None) -> list[Dispute]:
    """Disputes in the order they were opened (of one payee, or of one run)."""
    query = select(disputes.c.id).order_by(disputes.c.id)
    if payee_id is not None:
        query = query.where(disputes.c.payee_id == payee_id)
    if run_id is not None:
        query = query.where(disputes.c.run_id == run_id)
    found = [find_dispute(connection, dispute_id) for dispute_id in connection.execute(query).scalars()]
    return [dispute for dispute in found if dispute is not None]


def user_exists(connection: Connection, user_id: int) -> bool:
    return connection.execute(select(users.c.id).where(users.c.id == user_id)).first() is not None


# ------------------------------------------------------------------ events
def append_event(connection: Connection, dispute_id: int, kind: str, actor: int | None, at: datetime, payload: Any) -> DisputeEvent:
    if kind not in EVENT_KINDS:
        raise ValueError(f"a dispute event is one of {', '.join(EVENT_KINDS)}, not {kind!r}")
    text = canonical_text(payload)
    digest = text_sha256(text)
    event_id: int = connection.execute(
        insert(dispute_events)
        .returning(dispute_events.c.id)
        .values(dispute_id=dispute_id, kind=kind, actor=actor, at=at, payload=text, payload_sha256=digest)
    ).scalar_one()
    return DisputeEvent(event_id, dispute_id, kind, actor, at, text, digest)


def events_of(connection: Connection, dispute_id: int) -> list[DisputeEvent]:
    """Every event of the dispute, in the order it happened."""
    query = select(dispute_events).where(dispute_events.c.dispute_id == dispute_id).order_by(dispute_events.c.id)
    return [_event(row) for row in connection.execute(query)]


def find_event(connection: Connection, event_id: int) -> DisputeEvent | None:
    row = connection.execute(select(dispute_events).where(dispute_events.c.id == event_id)).first()
    return None if row is None else _event(row)


def ruling_of(connection: Connection, dispute_id: int) -> DisputeEvent | None:
    query = select(dispute_events).where(dispute_events.c.dispute_id == dispute_id, dispute_events.c.kind == "ruling")
    row = connection.execute(query).first()
    return None if row is None else _event(row)


def _event(row: Any) -> DisputeEvent:
    return DisputeEvent(row.id, row.dispute_id, row.kind, row.actor, row.at, row.payload, row.payload_sha256)


# ------------------------------------------------------------------ ruling adjustments
def insert_ruling_adjustment(
    connection: Connection,
    *,
    dispute: Dispute,
    ruling_event_id: int,
    what_if_event_id: int,
    plan_id: str,
    plan_version: int,
    component: str,
    amount: Decimal,
    currency: str,
    attribution: Sequence[tuple[str, Decimal]],
    created_at: datetime,
) -> RulingAdjustment:
    values = {
        "dispute_id": dispute.id,
        "ruling_event_id": ruling_event_id,
        "what_if_event_id": what_if_event_id,
        "run_id": dispute.run_id,
        "line_id": dispute.line_id,
        "payee_id": dispute.payee_id,
        "plan_id": plan_id,
        "plan_version": plan_version,
        "component": component,
        "adjusts_period": dispute.period,
        "amount": format(amount, "f"),
        "currency": currency,
        "attribution": attribution_text(attribution),
        "created_at": created_at,
    }
    row_id: int = connection.execute(insert(ruling_adjustments).returning(ruling_adjustments.c.id).values(**values)).scalar_one()
    return _adjustment(connection.execute(select(ruling_adjustments).where(ruling_adjustments.c.id == row_id)).one())


def ruling_adjustments_made_by(connection: Connection, at: datetime | None = None) -> list[RulingAdjustment]:
    """Every ruling adjustment created by `at` (all of them if None), oldest first."""
    query = select(ruling_adjustments).order_by(ruling_adjustments.c.id)
    if at is not None:
        query = query.where(ruling_adjustments.c.created_at <= at)
    return [_adjustment(row) for row in connection.execute(query)]


def ruling_adjustment_of(connection: Connection, dispute_id: int) -> RulingAdjustment | None:
    row = connection.execute(select(ruling_adjustments).where(ruling_adjustments.c.dispute_id == dispute_id)).first()
    return None if row is None else _adjustment(row)


def _adjustment(row: Any) -> RulingAdjustment:
    return RulingAdjustment(
        row.id,
        row.dispute_id,
        row.ruling_event_id,
        row.what_if_event_id,
        row.run_id,
        row.line_id,
        row.payee_id,
        row.plan_id,
        row.plan_version,
        row.component,
        row.adjusts_period,
        Decimal(row.amount),
        row.currency,
        attribution_of(row.attribution),
        row.created_at,
    )


# ------------------------------------------------------------------ ruling lines and the ledger
RULING = "ruling"  # the kind of a run line, and of the ledger entry, that pays a ruling


def ruling_line_id(period: str, adjustment: RulingAdjustment) -> str:
    """`<period>/<payee>/<plan>/<component>/ruling/<dispute id>`: the line paying it in `period`."""
    return f"{period}/{adjustment.payee_id}/{adjustment.plan_id}/{adjustment.component}/{RULING}/{adjustment.dispute_id}"


def dispute_of_ruling_line(line_id: str) -> int | None:
    """The dispute a ruling line id names (its last part), or None for any other line id."""
    head, _, last = line_id.rpartition("/")
    return int(last) if head.endswith(f"/{RULING}") and last.isdigit() else None


def paid_rulings(connection: Connection, posted_until: datetime | None = None) -> set[int]:
    """The disputes whose ruling the ledger has paid (by `posted_until`, if given)."""
    query = select(ledger_entries.c.line_id).where(ledger_entries.c.kind == RULING, ledger_entries.c.account == "payable")
    if posted_until is not None:
        query = query.where(ledger_entries.c.posted_at <= posted_until)
    found = {dispute_of_ruling_line(line_id or "") for line_id in connection.execute(query).scalars()}
    return {dispute_id for dispute_id in found if dispute_id is not None}
