"""Helpers for specifying the pay stage: close periods one after the other, as the payout
cycle does, and read what each close posted and paid."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from compengine.core.calculation import calculate
from compengine.core.data import Deal, Payee
from compengine.core.money import ZERO
from compengine.core.payout import LedgerEntry, PaidLine, balances, pay_period
from compengine.core.periods import Period
from compengine.core.plan import CompiledPlan
from tests.support import d, dataset


def period(plan: CompiledPlan, label: str) -> Period:
    return plan.header.calendar.parse(label, plan.header.period_kind)


def line(plan: CompiledPlan, label: str, component: str, amount: str, *deals: tuple[str, str], kind: str = "earning") -> PaidLine:
    """A line of `amount` attributed to `deals` ((deal, amount) pairs; none: to deal "-")."""
    attribution = tuple((deal, Decimal(part)) for deal, part in deals) or (("-", Decimal(amount)),)
    return PaidLine(f"{label}/{component}", plan.id, component, Decimal(amount), kind, attribution)


def statement_lines(plan: CompiledPlan, payee: Payee, deals: Sequence[Deal], label: str) -> list[PaidLine]:
    """The lines the engine calculates for `payee` in `label`, as the cycle hands them over."""
    result = calculate([plan], dataset([payee], deals, plan=plan.id), label)
    found = [s for s in result.statements if s.payee_id == payee.id]
    return [
        PaidLine(
            line.id,
            plan.id,
            line.component.name,
            line.amount,
            "earning",
            tuple((a.deal_id or "-", a.amount) for a in line.attribution),
        )
        for statement in found
        for line in statement.lines
    ]


@dataclasses.dataclass
class Closes:
    """The entries each close posted, in order, and the ledger they make up."""

    posted: dict[str, list[LedgerEntry]]

    @property
    def ledger(self) -> list[LedgerEntry]:
        return [e for entries in self.posted.values() for e in entries]

    def paid(self, label: str) -> Decimal:
        return -sum((e.amount for e in self.posted[label] if e.kind == "payment"), ZERO)

    def kinds(self, label: str, kind: str, account: str = "payable") -> list[Decimal]:
        """Amounts of the entries of `kind` on `account` posted by the close of `label`."""
        return [e.amount for e in self.posted[label] if e.kind == kind and e.account == account]

    def balance(self, account: str, upto: str | None = None) -> Decimal:
        entries: list[LedgerEntry] = []
        for label, posted in self.posted.items():
            entries += posted
            if label == upto:
                break
        return balances(entries).get(account, ZERO)


def close(
    plan: CompiledPlan,
    payee: Payee,
    labels: Iterable[str],
    deals: Sequence[Deal] = (),
    lines: Mapping[str, list[PaidLine]] | None = None,
    history: Sequence[LedgerEntry] = (),
    as_of: Mapping[str, date] | None = None,
) -> Closes:
    """Close each period in turn: its lines (given, or calculated from `deals`) are paid
    against the ledger so far; each close is on the day after the period ends."""
    ledger = list(history)
    posted: dict[str, list[LedgerEntry]] = {}
    facts = {deal.id: deal for deal in deals}
    for label in labels:
        found = period(plan, label)
        paid_lines = lines[label] if lines is not None else statement_lines(plan, payee, deals, label)
        day = (as_of or {}).get(label, found.end)
        entries = pay_period(plan, payee, found, paid_lines, ledger, facts, day)
        posted[label] = entries
        ledger += entries
    return Closes(posted)


def with_facts(deal: Deal, cancelled: str | None = None, refunded: str | None = None, invoice_paid: str | None = None) -> Deal:
    return dataclasses.replace(
        deal,
        cancelled_on=d(cancelled) if cancelled else None,
        refunded_amount=Decimal(refunded) if refunded else None,
        invoice_paid_on=d(invoice_paid) if invoice_paid else None,
    )


QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
