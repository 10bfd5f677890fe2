"""The pay stage: what closing a period posts to a payee's payout ledger.

A closed period's approved statement lines are what the payee *earned*; the plan's pay
policies decide what is *paid*: holdbacks keep part of some lines back until a release rule
is met, `payment when the invoice is paid` defers each deal's part until its invoice is
paid, clawbacks reverse the earnings of deals cancelled or refunded inside a window, draws
top up a short period (an advance recovered later, or a guarantee), a negative balance is
carried forward as a receivable, and what is left is paid.

The ledger is append-only and signed from the payee's side: a positive balance is money
the company owes the payee, a negative one money the payee owes.  Accounts:

- `payable`: what this close pays; it is empty again after every close.
- `held:<holdback>`: held back by a holdback, until released.
- `deferred`: earned on deals whose invoice is not paid yet.
- `draw:<draw>`: the outstanding balance of a recoverable draw (negative: an advance).
- `receivable`: what the payee owes from clawbacks larger than their pay (negative).

Money that enters or leaves the ledger (earnings, adjustments, rulings, clawbacks,
guarantees, forgiven draw balances and payments) is one entry (`EXTERNAL_KINDS`); money moving between
two accounts is two entries that add up to zero and share their `movement`.  So the sum of
every entry is what the payee has been granted and not yet paid.

`pay_period` is a pure function of its inputs: the same lines, facts and history give the
same entries with the same ids, in the same order, and a history that already holds the
period gives nothing new.  docs/language.md ("Pay policies and the ledger") specifies it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from compengine.core.data import Deal, Payee
from compengine.core.errors import PayoutError, PeriodError
from compengine.core.money import DECIMAL_CONTEXT, ONE, ZERO, group_digits, percent_text
from compengine.core.periods import Period
from compengine.core.plan import (
    ClawbackPolicy,
    CompiledPlan,
    DrawPolicy,
    HoldbackPolicy,
    PaymentTiming,
    PayPolicies,
    ReleaseRule,
    Reversal,
)
from compengine.core.rounding import allocate, round_amount

PAYABLE = "payable"
DEFERRED = "deferred"
RECEIVABLE = "receivable"
HELD = "held:"  # + the holdback's name
DRAW = "draw:"  # + the draw's name
NOT_ATTRIBUTABLE = "-"

#: Kinds of movement that bring money into the ledger or take it out: one entry each.
EXTERNAL_KINDS = frozenset({"earning", "adjustment", "ruling", "clawback", "guarantee", "forgiven", "payment"})
#: Kinds of statement line a close pays: earnings of the period, prior-period adjustments, and
#: rulings (what an arbitrator's upheld ruling on a disputed line of a closed period awards).
LINE_KINDS = ("earning", "adjustment", "ruling")
#: Kinds of movement between two accounts of the ledger: two entries adding up to zero.
TRANSFER_KINDS = frozenset({"holdback", "release", "deferral", "deferral_release", "draw", "draw_recovery", "receivable", "recovery"})


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One signed amount on one account of a payee's ledger.

    `period` is the period whose close posted it; `movement` groups the entries of one
    movement and is stable (the same inputs always give the same id); `reverses` links a
    clawback to the earning it reverses, and a release to what it releases.
    """

    payee_id: str
    period: str
    kind: str
    account: str
    amount: Decimal
    currency: str
    movement: str
    plan_id: str | None = None
    component: str | None = None
    line_id: str | None = None
    deal_id: str | None = None
    reverses: str | None = None
    adjusts_period: str | None = None
    attribution: tuple[tuple[str, Decimal], ...] = ()
    memo: str = ""


@dataclass(frozen=True, slots=True)
class PaidLine:
    """A statement line of the approved run of the closing period."""

    line_id: str
    plan_id: str
    component: str
    amount: Decimal  # already rounded
    kind: str  # "earning" | "adjustment" (a correction of a closed period) | "ruling" (a dispute's upheld ruling)
    attribution: tuple[tuple[str, Decimal], ...]  # (deal id, or "-" if not attributable, amount); adds up to `amount`
    adjusts: str | None = None  # for an adjustment or a ruling: the period it corrects


def balances(entries: Iterable[LedgerEntry]) -> dict[str, Decimal]:
    """Each account's balance: the sum of its entries."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    with localcontext(DECIMAL_CONTEXT):
        for entry in entries:
            totals[entry.account] += entry.amount
    return dict(sorted(totals.items()))


def pay_period(
    plan: CompiledPlan,
    payee: Payee,
    period: Period,
    lines: Sequence[PaidLine],
    history: Sequence[LedgerEntry],
    deals: Mapping[str, Deal],
    as_of: date,
    *,
    joined: date | None = None,
) -> list[LedgerEntry]:
    """The ledger entries posted when `period` closes for one payee on one plan.

    In order: the lines (earnings, adjustments and rulings); clawbacks of deals cancelled or refunded
    by the close, within a clawback's window, computed from the earnings attributed to them
    (in `history` and in `lines`); holdbacks; deferrals of deals whose invoice is not paid
    (with `payment when the invoice is paid`); releases of held and deferred amounts that
    are due; the receivable (a negative payable carried forward, or a receivable recovered);
    draws (top-up, or recovery within the caps; the balance at termination); the payment.

    `history` is the payee's ledger so far (entries of other payees and plans are ignored);
    if it already holds entries of `period` for this plan, the period is closed and nothing
    is posted.  Facts count if dated on or before `as_of` and the period's last day.
    `joined` is the first day the payee was on the plan, from which `for the first n
    periods on the plan` counts (default: the later of the hire date and the plan's start).
    """
    with localcontext(DECIMAL_CONTEXT):
        return _Close(plan, payee, period, lines, history, deals, as_of, joined).run()


@dataclass(frozen=True, slots=True)
class _Earned:
    """A line the payee was paid (now or in an earlier close), as clawbacks read it."""

    movement: str
    period: str
    line_id: str
    component: str | None
    attribution: dict[str, Decimal]


class _Close:
    def __init__(
        self,
        plan: CompiledPlan,
        payee: Payee,
        period: Period,
        lines: Sequence[PaidLine],
        history: Sequence[LedgerEntry],
        deals: Mapping[str, Deal],
        as_of: date,
        joined: date | None,
    ):
        self.plan = plan
        self.policies = plan.pay or PayPolicies()
        self.payee = payee
        self.period = period
        self.label = period.label
        self.header = plan.header
        self.currency = plan.header.currency
        self.rounding = plan.header.rounding
        self.deals = deals
        self.cutoff = min(as_of, period.last_day)
        known = [day for day in (payee.hire_date, plan.header.effective.start) if day is not None]
        self.joined = joined or (max(known) if known else period.start)
        self._periods: dict[str, Period] = {}
        own = [e for e in history if e.payee_id == payee.id and e.plan_id == plan.id]
        self.already_closed = any(e.period == self.label for e in own)
        for entry in [] if self.already_closed else own:
            earlier = self.period_of(entry.period)
            if earlier.start > period.start:
                raise PayoutError(
                    f"payee {payee.id}'s ledger on plan {plan.id} already has entries of {entry.period}, "
                    f"so {self.label} cannot be closed now; periods close in order"
                )
        self.prior = sorted(own, key=lambda e: (self.period_of(e.period).start, e.movement, e.account))
        self.lines = [self._checked(line) for line in sorted(lines, key=lambda line: line.line_id)]
        self.posted: list[LedgerEntry] = []
        self.balance: dict[str, Decimal] = defaultdict(lambda: ZERO, balances(self.prior))
        self.clawed: set[str] = set()  # deals settled by a clawback at this close
        self.held: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))  # line -> deal -> held
        self.new_earnings = ZERO  # the lines and clawbacks of this close: "earnings" for recovery caps

    # ---------------------------------------------------------------- driver
    def run(self) -> list[LedgerEntry]:
        if self.already_closed:
            return []
        self.earnings()
        self.clawbacks()
        self.holdbacks()
        self.deferrals()
        self.releases()
        self.receivable()
        self.draws()
        self.payment()
        return self.posted

    # ---------------------------------------------------------------- helpers
    def period_of(self, label: str) -> Period:
        found = self._periods.get(label)
        if found is None:
            try:
                found = self.header.calendar.parse(label, self.header.period_kind)
            except PeriodError as error:
                raise PayoutError(f"ledger entry of period {label!r}: {error}") from None
            self._periods[label] = found
        return found

    def _checked(self, line: PaidLine) -> tuple[PaidLine, dict[str, Decimal]]:
        if line.plan_id != self.plan.id:
            raise PayoutError(f"line {line.line_id} is a line of plan {line.plan_id}, not of {self.plan.id}")
        if line.kind not in LINE_KINDS:
            raise PayoutError(f"line {line.line_id} is of kind {line.kind!r}; a line is an earning, an adjustment or a ruling")
        attribution = _merged(line.attribution)
        if not attribution and line.amount != 0:
            attribution = {NOT_ATTRIBUTABLE: line.amount}
        if sum(attribution.values(), ZERO) != line.amount:
            raise PayoutError(f"line {line.line_id}'s attribution to deals does not add up to its amount {line.amount}")
        return line, attribution

    def post(
        self,
        kind: str,
        detail: str,
        legs: Sequence[tuple[str, Decimal]],
        memo: str,
        *,
        component: str | None = None,
        line_id: str | None = None,
        deal_id: str | None = None,
        reverses: str | None = None,
        adjusts_period: str | None = None,
        attribution: tuple[tuple[str, Decimal], ...] = (),
    ) -> None:
        """One movement: a single entry (money in or out) or two adding up to zero (a transfer)."""
        movement = f"{self.label}/{self.payee.id}/{self.plan.id}/{kind}/{detail}"
        quantum = self.rounding.quantum
        for account, signed in legs:
            amount = abs(signed) if signed == 0 else signed  # never "-0.00"
            if amount == amount.quantize(quantum) and amount.as_tuple().exponent != quantum.as_tuple().exponent:
                amount = amount.quantize(quantum)  # written to the plan's places: 5000 → 5000.00
            entry = LedgerEntry(
                self.payee.id,
                self.label,
                kind,
                account,
                amount,
                self.currency,
                movement,
                self.plan.id,
                component,
                line_id,
                deal_id,
                reverses,
                adjusts_period,
                attribution,
                memo,
            )
            self.posted.append(entry)
            self.balance[account] += amount

    def money(self, amount: Decimal) -> str:
        return f"{group_digits(amount, self.rounding.places)} {self.currency}"

    def round(self, amount: Decimal) -> Decimal:
        return round_amount(amount, self.rounding)

    def invoice_paid(self, deal: Deal) -> bool:
        return deal.invoice_paid_on is not None and deal.invoice_paid_on <= self.cutoff

    def deal(self, deal_id: str, line_id: str | None) -> Deal:
        found = self.deals.get(deal_id)
        if found is None:
            where = f" (line {line_id})" if line_id else ""
            raise PayoutError(f"deal {deal_id}{where} is not among the deals given, so its invoice and cancellation are unknown")
        return found

    @property
    def payable(self) -> Decimal:
        return self.balance[PAYABLE]

    # ---------------------------------------------------------------- 1. earnings and adjustments
    def earnings(self) -> None:
        for line, attribution in self.lines:
            if line.kind == "earning":
                memo = f"earned: {line.component}"
            elif line.kind == "ruling":
                memo = f"ruling on a disputed line of {line.adjusts or 'a closed period'}: {line.component} ({line.line_id})"
            else:
                memo = f"adjustment of {line.adjusts or 'a closed period'}: {line.component}"
            self.post(
                line.kind,
                line.line_id,
                [(PAYABLE, line.amount)],
                memo,
                component=line.component,
                line_id=line.line_id,
                adjusts_period=line.adjusts,
                attribution=tuple(attribution.items()),
            )
            self.new_earnings += line.amount

    # ---------------------------------------------------------------- 2. clawbacks
    def earned(self) -> list[_Earned]:
        """Every line the payee has on this plan: the earlier closes', then this one's."""
        found = [
            _Earned(e.movement, e.period, e.line_id or e.movement, e.component, _merged(e.attribution))
            for e in self.prior
            if e.kind in LINE_KINDS and e.account == PAYABLE
        ]
        found += [
            _Earned(e.movement, e.period, e.line_id or e.movement, e.component, dict(e.attribution))
            for e in self.posted
            if e.kind in LINE_KINDS
        ]
        return found

    def clawbacks(self) -> None:
        if not self.policies.clawbacks:
            return
        done = {(e.reverses, e.deal_id) for e in self.prior if e.kind == "clawback"}
        sources = self.earned()
        for deal_id in sorted({d for s in sources for d in s.attribution if d != NOT_ATTRIBUTABLE}):
            deal = self.deals.get(deal_id)  # a deal not given is taken as neither cancelled nor refunded
            if deal is None or deal.cancelled_on is None or deal.cancelled_on > self.cutoff:
                continue
            found = self.clawback_of(deal)
            if found is None:
                continue  # cancelled outside every window: the earnings stand
            policy, factor, why = found
            self.clawed.add(deal_id)
            for source in sources:
                share = source.attribution.get(deal_id, ZERO)
                if share == 0 or (source.movement, deal_id) in done:
                    continue
                amount = share if factor == ONE else self.round(share * factor)
                if amount == 0:
                    continue
                self.post(
                    "clawback",
                    f"{policy.name}/{deal_id}/{source.period}/{source.line_id}",
                    [(PAYABLE, -amount)],
                    f"{policy.title}: {why}",
                    component=source.component,
                    line_id=source.line_id,
                    deal_id=deal_id,
                    reverses=source.movement,
                    attribution=((deal_id, -amount),),
                )
                self.new_earnings -= amount

    def clawback_of(self, deal: Deal) -> tuple[ClawbackPolicy, Decimal, str] | None:
        """The first clawback whose window holds the cancellation, the share of the deal's
        earnings it reverses, and why (for the memo)."""
        cancelled = deal.cancelled_on
        assert cancelled is not None
        refunded = deal.refunded_amount
        event = "cancelled" if refunded is None else f"refunded {group_digits(refunded)} {deal.currency} of {group_digits(deal.amount)}"
        for policy in self.policies.clawbacks:
            end = policy.window.add_to(deal.close_date)
            if cancelled >= end:
                continue
            window = (end - deal.close_date).days
            elapsed = max((cancelled - deal.close_date).days, 0)
            if policy.reversal is Reversal.FULL:
                factor = ONE
            elif policy.reversal is Reversal.PRO_RATA:
                factor = Decimal(window - elapsed) / Decimal(window)
            else:
                factor = ONE if refunded is None or deal.amount == 0 else min(max(refunded / deal.amount, ZERO), ONE)
            why = (
                f"deal {deal.id} {event} on {cancelled.isoformat()}, {elapsed} of {window} days after it closed; "
                f"reverses {policy.reversal.value} ({percent_text(factor, 4)} of what it earned)"
            )
            return policy, factor, why
        return None

    # ---------------------------------------------------------------- 3. holdbacks
    def holdbacks(self) -> None:
        for policy in self.policies.holdbacks:
            for line, attribution in self.lines:
                if line.component not in policy.components or line.amount <= 0:
                    continue
                held = self.round(line.amount * policy.rate)
                if held == 0:
                    continue
                parts = dict(zip(attribution, allocate(held, list(attribution.values()), self.rounding.quantum), strict=True))
                memo = f"{policy.title}: {percent_text(policy.rate, 4)} of {line.component} held, {_release_words(policy)}"
                account = HELD + policy.name
                if policy.release is not ReleaseRule.INVOICE_PAID:
                    for deal_id, part in parts.items():
                        self.held[line.line_id][deal_id] += part
                    legs = [(PAYABLE, -held), (account, held)]
                    self.post("holdback", f"{policy.name}/{line.line_id}", legs, memo, component=line.component, line_id=line.line_id)
                    continue
                for deal_id, part in parts.items():  # held deal by deal; a part not attributable to a deal is not held
                    if deal_id == NOT_ATTRIBUTABLE or part == 0 or deal_id in self.clawed:
                        continue
                    self.deal(deal_id, line.line_id)  # its invoice must be known
                    self.held[line.line_id][deal_id] += part
                    self.post(
                        "holdback",
                        f"{policy.name}/{line.line_id}/{deal_id}",
                        [(PAYABLE, -part), (account, part)],
                        memo,
                        component=line.component,
                        line_id=line.line_id,
                        deal_id=deal_id,
                    )

    # ---------------------------------------------------------------- 4. deferrals
    def deferrals(self) -> None:
        if self.policies.timing is not PaymentTiming.ON_INVOICE:
            return
        for line, attribution in self.lines:
            for deal_id, share in attribution.items():
                if deal_id == NOT_ATTRIBUTABLE:
                    continue
                deal = self.deal(deal_id, line.line_id)
                if self.invoice_paid(deal) or deal_id in self.clawed:
                    continue
                amount = share - self.held[line.line_id][deal_id]
                if amount == 0:
                    continue
                self.post(
                    "deferral",
                    f"{line.line_id}/{deal_id}",
                    [(PAYABLE, -amount), (DEFERRED, amount)],
                    f"deal {deal_id}: payable when its invoice is paid",
                    component=line.component,
                    line_id=line.line_id,
                    deal_id=deal_id,
                )

    # ---------------------------------------------------------------- 5. releases
    def releases(self) -> None:
        done = {e.reverses for e in self.prior if e.kind in ("release", "deferral_release")}
        waiting = [e for e in self.prior + self.posted if e.movement not in done]
        holdbacks = {h.name: h for h in self.policies.holdbacks}
        for entry in [e for e in waiting if e.kind == "holdback" and e.account.startswith(HELD)]:
            name = entry.account.removeprefix(HELD)
            why = self.release_reason(holdbacks.get(name), entry)
            if why is None:
                continue
            deal = f"/{entry.deal_id}" if entry.deal_id else ""
            self.post(
                "release",
                f"{name}/{entry.period}/{entry.line_id}{deal}",
                [(entry.account, -entry.amount), (PAYABLE, entry.amount)],
                f"{holdbacks[name].title if name in holdbacks else name}: released ({why})",
                component=entry.component,
                line_id=entry.line_id,
                deal_id=entry.deal_id,
                reverses=entry.movement,
            )
        for entry in [e for e in waiting if e.kind == "deferral" and e.account == DEFERRED]:
            why = self.deferral_reason(entry)
            if why is None:
                continue
            self.post(
                "deferral_release",
                f"{entry.period}/{entry.line_id}/{entry.deal_id}",
                [(DEFERRED, -entry.amount), (PAYABLE, entry.amount)],
                f"deal {entry.deal_id}: {why}",
                component=entry.component,
                line_id=entry.line_id,
                deal_id=entry.deal_id,
                reverses=entry.movement,
            )

    def release_reason(self, policy: HoldbackPolicy | None, held: LedgerEntry) -> str | None:
        """Why an amount held is released at this close, or None if it is not due yet."""
        if policy is None:
            return "its holdback is no longer in the plan"
        last_day = self.period.last_day
        held_in = self.period_of(held.period)
        if policy.release is ReleaseRule.YEAR_END:
            year = held_in.fiscal_year
            due = self.period.end >= self.header.calendar.year_end(year)
            return f"the end of fiscal year {year}" if due else None
        if policy.release is ReleaseRule.ON_DATE:
            assert policy.release_on is not None
            return f"released on {policy.release_on.isoformat()}" if policy.release_on <= last_day else None
        if policy.release is ReleaseRule.AFTER:
            assert policy.release_after is not None
            day = policy.release_after.add_to(held_in.last_day)
            return f"{policy.release_after} after {held_in.label} ended, on {day.isoformat()}" if day <= last_day else None
        deal = self.deals.get(held.deal_id or "")
        return self._deal_settled(deal)

    def deferral_reason(self, deferred: LedgerEntry) -> str | None:
        if self.policies.timing is not PaymentTiming.ON_INVOICE:
            return "the plan now pays on booking"
        return self._deal_settled(self.deals.get(deferred.deal_id or ""))

    def _deal_settled(self, deal: Deal | None) -> str | None:
        if deal is None:
            return None
        if self.invoice_paid(deal):
            assert deal.invoice_paid_on is not None
            return f"invoice paid on {deal.invoice_paid_on.isoformat()}"
        if deal.id in self.clawed:
            return "the deal was cancelled; its clawback settles what it earned"
        return None

    # ---------------------------------------------------------------- 6. receivable
    def receivable(self) -> None:
        payable = self.payable
        if payable < 0:
            self.post(
                "receivable",
                "carried",
                [(PAYABLE, -payable), (RECEIVABLE, payable)],
                f"{self.money(-payable)} more taken back than earned: carried forward, to be recovered from later pay",
            )
            return
        owed = -self.balance[RECEIVABLE]
        recovered = min(payable, owed)
        if recovered > 0:
            self.post(
                "recovery",
                "recovered",
                [(PAYABLE, -recovered), (RECEIVABLE, recovered)],
                f"recovered from this period's pay: {self.money(recovered)} of the {self.money(owed)} owed",
            )

    # ---------------------------------------------------------------- 7. draws
    def draws(self) -> None:
        for draw in self.policies.draws:
            applies = self.draw_applies(draw)
            amount = draw.amount
            if applies and self.payable < amount:
                self.top_up(draw)
            elif draw.recoverable:
                self.recover(draw, amount if applies else ZERO)
            self.terminate(draw)

    def draw_applies(self, draw: DrawPolicy) -> bool:
        terminated = self.payee.termination_date
        if terminated is not None and terminated < self.period.start:
            return False
        if draw.first_periods is not None:
            kind = self.header.period_kind
            start = self.payee.hire_date if draw.first_after_hire and self.payee.hire_date is not None else self.joined
            first = self.header.calendar.period_containing(kind, start)
            months = (self.period.start.year - first.start.year) * 12 + self.period.start.month - first.start.month
            number = months // kind.months + 1
            return 1 <= number <= draw.first_periods
        if draw.during is not None:
            return draw.during.contains(self.period.start)
        return True

    def top_up(self, draw: DrawPolicy) -> None:
        shortfall = draw.amount - self.payable
        account = DRAW + draw.name
        if not draw.recoverable:
            self.post(
                "guarantee", draw.name, [(PAYABLE, shortfall)], f"{draw.title}: pay topped up to {self.money(draw.amount)} (guaranteed)"
            )
            return
        outstanding = -self.balance[account]
        room = shortfall if draw.outstanding_cap is None else min(shortfall, max(draw.outstanding_cap - outstanding, ZERO))
        if room <= 0:
            return
        capped = "" if room == shortfall else f", limited to {self.money(draw.outstanding_cap or ZERO)} outstanding"
        self.post(
            "draw",
            draw.name,
            [(PAYABLE, room), (account, -room)],
            f"{draw.title}: pay topped up towards {self.money(draw.amount)}{capped}; advanced, to be recovered from later earnings",
        )

    def recover(self, draw: DrawPolicy, keep: Decimal) -> None:
        """Recover the outstanding balance from what is payable above `keep` (the draw amount
        while the draw applies), at most the plan's share of this period's earnings."""
        account = DRAW + draw.name
        outstanding = -self.balance[account]
        if outstanding <= 0 or self.new_earnings <= 0:
            return
        limit = self.round(self.new_earnings * (draw.recovery_rate or ONE))
        recovered = min(outstanding, self.payable - keep, limit)
        if recovered <= 0:
            return
        self.post(
            "draw_recovery",
            draw.name,
            [(PAYABLE, -recovered), (account, recovered)],
            f"{draw.title}: recovered {self.money(recovered)} of {self.money(outstanding)} outstanding "
            f"(at most {percent_text(draw.recovery_rate or ONE, 4)} of this period's earnings, {self.money(limit)})",
        )

    def terminate(self, draw: DrawPolicy) -> None:
        terminated = self.payee.termination_date
        account = DRAW + draw.name
        outstanding = -self.balance[account]
        if not draw.recoverable or terminated is None or terminated > self.period.last_day or outstanding <= 0:
            return
        left = f"{self.money(outstanding)} outstanding at termination on {terminated.isoformat()}"
        if draw.forgiven_at_termination:
            self.post("forgiven", draw.name, [(account, outstanding)], f"{draw.title}: {left}, forgiven")
        else:
            self.post(
                "receivable",
                f"owed/{draw.name}",
                [(account, outstanding), (RECEIVABLE, -outstanding)],
                f"{draw.title}: {left}, owed",
            )

    # ---------------------------------------------------------------- 8. payment
    def payment(self) -> None:
        paid = self.payable
        assert paid >= 0
        self.post("payment", PAYABLE, [(PAYABLE, -paid)], f"paid {self.money(paid)}")


def _merged(pairs: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Attribution by deal id, each deal once, in deal id order."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for deal_id, amount in pairs:
        totals[deal_id] += amount
    return dict(sorted(totals.items()))


def _release_words(policy: HoldbackPolicy) -> str:
    if policy.release is ReleaseRule.YEAR_END:
        return "released at the fiscal year end"
    if policy.release is ReleaseRule.ON_DATE:
        assert policy.release_on is not None
        return f"released on {policy.release_on.isoformat()}"
    if policy.release is ReleaseRule.AFTER:
        return f"released {policy.release_after} after the period"
    return "released when the invoice is paid"
