"""The pay stage of a close: the approved run's lines, through each plan's pay policies, into
ledger entries.

`core.payout.pay_period` decides what a close posts for one payee on one plan; this module
gathers what it needs from the store — the plan versions the run used, the facts as known at
the close (a cancellation or a paid invoice recorded since the run counts), the ledger so
far — and calls it for every payee and plan that has lines in the run *or* a ledger history
on the plan, so held, deferred and owed amounts keep moving for a payee with nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, select

from compengine.core.data import Dataset
from compengine.core.errors import CompengineError, PeriodError
from compengine.core.money import ZERO
from compengine.core.payout import LedgerEntry, PaidLine, pay_period
from compengine.core.periods import Period
from compengine.core.plan import CompiledPlan
from compengine.store import ledger
from compengine.store.facts import as_known_at
from compengine.store.ledger import Entry
from compengine.store.plans import published_at
from compengine.store.runs import StoredLine, run_row
from compengine.store.schema import cycles


def pay_stage(connection: Connection, period: str, lines: Sequence[StoredLine], now: datetime) -> list[Entry]:
    """The entries the close of `period` posts, from the run the close claimed."""
    run_id = connection.execute(select(cycles.c.closed_run_id).where(cycles.c.period == period)).scalar_one()
    run = run_row(connection, run_id)
    plans = published_at(connection, run.knowledge_time).versions
    known = as_known_at(connection, now).dataset
    history: list[LedgerEntry] = list(ledger.entries(connection))  # a stored entry is a core entry
    by_pair: dict[tuple[str, str], list[StoredLine]] = defaultdict(list)
    for line in lines:
        by_pair[(line.payee_id, line.plan_id)].append(line)
    pairs = set(by_pair) | {(e.payee_id, e.plan_id) for e in history if e.plan_id is not None}
    history_of: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in history:
        history_of[entry.payee_id].append(entry)
    deals = {deal.id: deal for deal in known.deals}
    posted: list[Entry] = []
    for payee_id, plan_id in sorted(pairs):
        plan = _version_for(plans, plan_id, period)
        if plan is None:
            continue  # the plan does not run on this period's calendar
        payee = known.payees.get(payee_id)
        if payee is None:
            raise CompengineError(f"payee {payee_id} has lines or ledger entries on plan {plan_id} but is not in the data")
        paid_lines = [_to_paid(line) for line in by_pair.get((payee_id, plan_id), [])]
        if not paid_lines and _settled(history_of[payee_id], plan_id):
            continue  # nothing new, nothing held, deferred or owed: nothing to post
        entries = pay_period(
            plan, payee, _period(plan, period), paid_lines, history_of[payee_id], deals, run.as_of, joined=_joined(known, payee_id, plan_id)
        )
        posted.extend(Entry.of(entry) for entry in entries)
    return posted


def _settled(history: Sequence[LedgerEntry], plan_id: str) -> bool:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in history:
        if entry.plan_id == plan_id:
            totals[entry.account] += entry.amount
    return all(amount == 0 for amount in totals.values())


def _version_for(plans: Sequence[CompiledPlan], plan_id: str, label: str) -> CompiledPlan | None:
    """The version of the plan in force on the period's last day (else the last one before it)."""
    versions = [p for p in plans if p.id == plan_id]
    if not versions:
        return None
    try:
        period = _period(versions[0], label)
    except PeriodError:
        return None
    in_force = [p for p in versions if p.in_effect(period.last_day)]
    if in_force:
        return in_force[0]
    earlier = [p for p in versions if p.in_force.start is None or p.in_force.start <= period.last_day]
    return max(earlier, key=lambda p: p.in_force.start or date.min) if earlier else versions[0]


def _period(plan: CompiledPlan, label: str) -> Period:
    return plan.header.calendar.parse(label, plan.header.period_kind)


def _joined(known: Dataset, payee_id: str, plan_id: str) -> date | None:
    """The first day of the payee's first assignment to the plan: where a new hire's draw counts from."""
    starts = [a.start for a in known.assignments if a.payee_id == payee_id and a.plan_id == plan_id]
    return min(starts) if starts else None


def _to_paid(line: StoredLine) -> PaidLine:
    return PaidLine(line.line_id, line.plan_id, line.component, line.amount, line.kind, line.attribution, line.adjusts_period)
