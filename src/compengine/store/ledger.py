"""The payout ledger: every money movement of every payee, append-only.

Entries are inserted when a period closes and never changed or deleted; a correction is a
new entry (an adjustment, a reversal) that links to what it corrects.  Balances are sums.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, insert, select

from compengine.core.payout import LedgerEntry
from compengine.store.schema import attribution_of, attribution_text, ledger_entries


@dataclass(frozen=True, slots=True)
class Entry(LedgerEntry):
    """A ledger entry as stored: the core's entry, with the run that posted it and its row id
    (`None` until it is stored)."""

    run_id: int | None = None
    id: int | None = None

    @classmethod
    def of(cls, entry: LedgerEntry) -> Entry:
        return cls(*(getattr(entry, f.name) for f in fields(LedgerEntry)))


def post(connection: Connection, entries: Sequence[Entry], run_id: int, posted_at: datetime) -> None:
    if not entries:
        return
    rows = [
        {
            "payee_id": e.payee_id,
            "period": e.period,
            "kind": e.kind,
            "account": e.account,
            "amount": format(e.amount, "f"),
            "currency": e.currency,
            "movement": e.movement,
            "plan_id": e.plan_id,
            "component": e.component,
            "line_id": e.line_id,
            "deal_id": e.deal_id,
            "reverses": e.reverses,
            "adjusts_period": e.adjusts_period,
            "attribution": attribution_text(e.attribution),
            "memo": e.memo,
            "run_id": run_id,
            "posted_at": posted_at,
        }
        for e in entries
    ]
    connection.execute(insert(ledger_entries), rows)


def entries(
    connection: Connection, payee_id: str | None = None, period: str | None = None, posted_until: datetime | None = None
) -> list[Entry]:
    """Entries in the order they were posted; `posted_until` gives the ledger as it stood then."""
    query = select(ledger_entries).order_by(ledger_entries.c.id)
    if posted_until is not None:
        query = query.where(ledger_entries.c.posted_at <= posted_until)
    if payee_id is not None:
        query = query.where(ledger_entries.c.payee_id == payee_id)
    if period is not None:
        query = query.where(ledger_entries.c.period == period)
    return [
        Entry(
            row.payee_id,
            row.period,
            row.kind,
            row.account,
            Decimal(row.amount),
            row.currency,
            row.movement,
            row.plan_id,
            row.component,
            row.line_id,
            row.deal_id,
            row.reverses,
            row.adjusts_period,
            attribution_of(row.attribution),
            row.memo,
            row.run_id,
            row.id,
        )
        for row in connection.execute(query)
    ]


def balances(found: Iterable[Entry]) -> dict[tuple[str, str, str], Decimal]:
    """(payee, account, currency) -> the sum of its entries."""
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: Decimal(0))
    for entry in found:
        totals[(entry.payee_id, entry.account, entry.currency)] += entry.amount
    return dict(totals)
