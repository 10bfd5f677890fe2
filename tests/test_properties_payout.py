"""Properties of the pay stage, on random pay policies, lines, deal facts and terminations.

For every plan and every sequence of closes: an account's balance is the sum of its
entries and transfers add up to zero; nothing is paid twice; closing a period again posts
nothing; a deal clawed back in full nets to zero across its earnings and their reversals;
and the entries do not depend on the order the inputs come in.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from compengine.core.data import Deal, Payee
from compengine.core.money import ZERO
from compengine.core.payout import EXTERNAL_KINDS, LedgerEntry, PaidLine, balances, pay_period
from compengine.core.plan import CompiledPlan
from tests.payout_support import QUARTERS, period
from tests.support import HEADER, OWNER_BOOKINGS, compile_text, deal, payee

COMPONENTS = (
    OWNER_BOOKINGS
    + """
component commission "Commission"
  per credit of bookings
  rate 10%

component spiff "SPIFF"
  per credit of bookings
  pays 500 USD
"""
)
DRAWS = {
    "none": "",
    "recoverable": """
draw ramp "Ramp"
  recoverable
  tops up to 3,000 USD per period
  for the first 2 periods on the plan
  recovers at most 40% of earnings per period
  outstanding at most 4,000 USD
  at termination {termination}
""",
    "guarantee": """
draw floor "Guarantee"
  not recoverable
  tops up to 1,500 USD per period
  during 2026-04-01 until 2026-10-01
""",
}
RELEASES = ["", "released at the fiscal year end", "released on 2026-08-20", "released after 100 days", "released when the invoice is paid"]
REVERSALS = ["", "fully", "pro rata by time", "at the rate originally paid"]
DEAL_IDS = ["D1", "D2", "D3", "D4"]
YEAR_START = date(2026, 1, 1)


@cache
def plan_for(draw: str, termination: str, release: str, reversal: str, invoiced: bool) -> CompiledPlan:
    text = HEADER + ("  payment when the invoice is paid\n" if invoiced else "") + COMPONENTS
    text += DRAWS[draw].format(termination=termination)
    if release:
        text += f'\nholdback held "Holdback"\n  holds 15% of commission\n  {release}\n'
    if reversal:
        text += (
            '\nclawback cancellations "Clawback"\n'
            "  for deals cancelled or refunded within 150 days of the close date\n"
            f"  reverses {reversal}\n"
        )
    return compile_text(text)


plans = st.builds(
    plan_for,
    st.sampled_from(sorted(DRAWS)),
    st.sampled_from(["forgiven", "owed"]),
    st.sampled_from(RELEASES),
    st.sampled_from(REVERSALS),
    st.booleans(),
)
days_in_year = st.integers(0, 364).map(lambda n: YEAR_START + timedelta(days=n))
cents = st.integers(-50_000, 400_000).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def deals(draw: st.DrawFn) -> dict[str, Deal]:
    found = {}
    for deal_id in DEAL_IDS:
        closed = draw(days_in_year)
        amount = Decimal(draw(st.integers(1, 100_000)))
        later = st.integers(0, 300).map(lambda n, c=closed: c + timedelta(days=n))
        cancelled = draw(st.one_of(st.none(), later))
        refunded = draw(st.one_of(st.none(), st.integers(0, int(amount)).map(Decimal))) if cancelled else None
        paid = draw(st.one_of(st.none(), later))
        base = deal(deal_id, "P1", str(amount), closed.isoformat())
        found[deal_id] = dataclasses.replace(base, cancelled_on=cancelled, refunded_amount=refunded, invoice_paid_on=paid)
    return found


@st.composite
def quarter_lines(draw: st.DrawFn, plan: CompiledPlan, label: str) -> list[PaidLine]:
    lines = []
    for component in draw(st.lists(st.sampled_from(["commission", "spiff"]), unique=True, max_size=2)):
        parts = draw(st.lists(st.tuples(st.sampled_from(["-", *DEAL_IDS]), cents), min_size=0, max_size=3))
        attribution = tuple(parts)
        amount = sum((a for _, a in attribution), ZERO)
        lines.append(PaidLine(f"{label}/{component}", plan.id, component, amount, "earning", attribution))
    return lines


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[CompiledPlan, Payee, dict[str, Deal], dict[str, list[PaidLine]]]:
    plan = draw(plans)
    person = payee("P1")
    if draw(st.booleans()):
        person = dataclasses.replace(person, termination_date=draw(days_in_year))
    return plan, person, draw(deals()), {q: draw(quarter_lines(plan, q)) for q in QUARTERS}


def run(plan: CompiledPlan, person: Payee, facts: dict[str, Deal], lines: dict[str, list[PaidLine]]) -> dict[str, list[LedgerEntry]]:
    ledger: list[LedgerEntry] = []
    posted = {}
    for label in QUARTERS:
        entries = pay_period(plan, person, period(plan, label), lines[label], ledger, facts, period(plan, label).end)
        posted[label] = entries
        ledger += entries
    return posted


def everything(posted: dict[str, list[LedgerEntry]]) -> list[LedgerEntry]:
    return [e for entries in posted.values() for e in entries]


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_balances_are_the_sums_of_entries_and_transfers_add_up_to_zero(scenario: tuple) -> None:  # type: ignore[type-arg]
    posted = run(*scenario)
    ledger: list[LedgerEntry] = []
    for entries in posted.values():
        ledger += entries
        assert balances(ledger).get("payable", ZERO) == 0  # every close pays out (or carries) all that is payable
        for account, balance in balances(ledger).items():
            assert balance == sum((e.amount for e in ledger if e.account == account), ZERO)
            if account.startswith(("held:", "deferred")):  # only a negative part of a line can wait as a negative amount
                assert balance >= 0 or any(a < 0 for found in scenario[3].values() for line in found for _, a in line.attribution)
            if account.startswith("draw:"):
                assert balance <= 0
    movements: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in ledger:
        movements[entry.movement].append(entry)
    for entries in movements.values():
        if entries[0].kind in EXTERNAL_KINDS:
            assert len(entries) == 1
        else:
            assert len(entries) == 2 and sum((e.amount for e in entries), ZERO) == 0
    external = sum((e.amount for e in ledger if e.kind in EXTERNAL_KINDS), ZERO)
    assert external == sum(balances(ledger).values(), ZERO)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_nothing_is_paid_twice(scenario: tuple) -> None:  # type: ignore[type-arg]
    posted = run(*scenario)
    ledger = everything(posted)
    payments = [e.amount for e in ledger if e.kind == "payment"]
    assert len(payments) == len(QUARTERS) and all(p <= 0 for p in payments)
    paid = -sum(payments, ZERO)
    assert paid <= sum((e.amount for e in ledger if e.account == "payable" and e.amount > 0), ZERO)
    # what was paid is what was granted less what is still held, deferred or owed
    granted = sum((e.amount for e in ledger if e.kind in EXTERNAL_KINDS and e.kind != "payment"), ZERO)
    standing = balances(ledger)
    assert paid == granted - sum((v for k, v in standing.items() if k != "payable"), ZERO)
    # each movement is posted once, each held or deferred amount released once, each line reversed once per deal
    assert len({e.movement for e in ledger}) == len({(e.period, e.movement) for e in ledger})
    released = Counter(e.reverses for e in ledger if e.kind in ("release", "deferral_release") and e.account == "payable")
    assert all(count == 1 for count in released.values())
    reversed_ = Counter((e.reverses, e.deal_id) for e in ledger if e.kind == "clawback")
    assert all(count == 1 for count in reversed_.values())


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_closing_a_period_again_posts_nothing(scenario: tuple) -> None:  # type: ignore[type-arg]
    plan, person, facts, lines = scenario
    posted = run(plan, person, facts, lines)
    ledger = everything(posted)
    for label in QUARTERS:
        later = period(plan, label).end + timedelta(days=200)  # even with facts learned since
        assert pay_period(plan, person, period(plan, label), lines[label], ledger, facts, later) == []


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_a_deal_clawed_back_in_full_nets_to_zero(scenario: tuple) -> None:  # type: ignore[type-arg]
    plan, person, facts, lines = scenario
    plan = plan_for("none", "owed", "", "fully", False)
    lines = {q: [dataclasses.replace(line, plan_id=plan.id) for line in found] for q, found in lines.items()}
    ledger = everything(run(plan, person, facts, lines))
    for deal_id, found in facts.items():
        cancelled = found.cancelled_on
        if cancelled is None or cancelled > date(2026, 12, 31) or (cancelled - found.close_date).days >= 150:
            continue
        earned = sum((a for e in ledger if e.kind == "earning" for d, a in e.attribution if d == deal_id), ZERO)
        clawed = sum((e.amount for e in ledger if e.kind == "clawback" and e.deal_id == deal_id), ZERO)
        assert earned != 0 or clawed == 0
        assert earned + clawed == 0


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_entries_do_not_depend_on_the_order_of_the_inputs(scenario: tuple, shuffler: random.Random) -> None:  # type: ignore[type-arg]
    plan, person, facts, lines = scenario
    posted = run(plan, person, facts, lines)
    ledger: list[LedgerEntry] = []
    for label in QUARTERS:
        shuffled_lines = [dataclasses.replace(line, attribution=_shuffled(line.attribution, shuffler)) for line in lines[label]]
        shuffled_lines = _shuffled(shuffled_lines, shuffler)
        shuffled_history = _shuffled(ledger, shuffler)
        shuffled_facts = dict(_shuffled(list(facts.items()), shuffler))
        found = period(plan, label)
        assert pay_period(plan, person, found, shuffled_lines, shuffled_history, shuffled_facts, found.end) == posted[label]
        ledger += posted[label]


def _shuffled(items, shuffler: random.Random):  # type: ignore[no-untyped-def]
    copy = list(items)
    shuffler.shuffle(copy)
    return type(items)(copy) if isinstance(items, tuple) else copy
