"""The pay stage, one behaviour per test: what closing a period posts to the payee's ledger.

Lines are given as the payout cycle hands them over (already rounded, attributed to deals),
so each amount below can be checked by hand from the plan's pay policies alone.  The worked
examples of docs/language.md are run in tests/test_docs_examples.py.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from compengine.core.errors import PayoutError
from compengine.core.payout import EXTERNAL_KINDS, TRANSFER_KINDS, LedgerEntry, PaidLine, balances, pay_period
from compengine.core.plan import CompiledPlan
from tests.payout_support import QUARTERS, Closes, close, line, period, with_facts
from tests.support import HEADER, OWNER_BOOKINGS, compile_text, d, deal, payee

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


def plan_with(policies: str, header: str = "") -> CompiledPlan:
    return compile_text(HEADER + header + COMPONENTS + policies)


def m(text: str | int) -> Decimal:
    return Decimal(str(text))


def earned(plan: CompiledPlan, amounts: dict[str, str], component: str = "commission") -> dict[str, list[PaidLine]]:
    """One line per quarter, not attributable to a deal."""
    return {q: [line(plan, q, component, amount)] for q, amount in amounts.items()}


def on_deals(plan: CompiledPlan, quarter: str, amount: str, *deals: tuple[str, str]) -> list[PaidLine]:
    return [line(plan, quarter, "commission", amount, *deals)]


P1 = payee("P1")

RECOVERABLE = """
draw ramp "Ramp draw"
  recoverable
  tops up to 5,000 USD per period
  for the first 2 periods on the plan
  recovers at most 50% of earnings per period
  outstanding at most 10,000 USD
  at termination forgiven
"""

# ------------------------------------------------------------------ draws


def test_a_recoverable_draw_tops_up_what_is_payable_and_records_the_advance() -> None:
    plan = plan_with(RECOVERABLE)
    closes = close(plan, P1, ["2026-Q1"], lines=earned(plan, {"2026-Q1": "1200.00"}))
    # 5,000 − 1,200 = 3,800 advanced: paid now, owed back on draw:ramp
    assert closes.kinds("2026-Q1", "draw") == [m("3800.00")]
    assert closes.kinds("2026-Q1", "draw", "draw:ramp") == [m("-3800.00")]
    assert closes.paid("2026-Q1") == m("5000.00")


def test_a_recoverable_draw_is_recovered_at_most_the_share_of_earnings() -> None:
    plan = plan_with(RECOVERABLE)
    closes = close(plan, P1, QUARTERS[:3], lines=earned(plan, {"2026-Q1": "0.00", "2026-Q2": "0.00", "2026-Q3": "9000.00"}))
    # Q1, Q2: 5,000 advanced each (10,000 outstanding, the cap); Q3: 50% × 9,000 = 4,500 recovered
    assert closes.kinds("2026-Q3", "draw_recovery") == [m("-4500.00")]
    assert closes.paid("2026-Q3") == m("4500.00")
    assert closes.balance("draw:ramp") == m("-5500.00")


def test_the_outstanding_cap_limits_the_top_up() -> None:
    plan = plan_with(RECOVERABLE.replace("outstanding at most 10,000 USD", "outstanding at most 7,000 USD"))
    closes = close(plan, P1, QUARTERS[:2], lines=earned(plan, {"2026-Q1": "1000.00", "2026-Q2": "2000.00"}))
    # Q1: 4,000 advanced; Q2: 3,000 short, but only 7,000 − 4,000 = 3,000 room: 3,000
    assert [closes.kinds(q, "draw") for q in QUARTERS[:2]] == [[m("4000.00")], [m("3000.00")]]
    closes = close(plan, P1, QUARTERS[:2], lines=earned(plan, {"2026-Q1": "0.00", "2026-Q2": "1000.00"}))
    # Q1: 5,000; Q2: 4,000 short, 2,000 room
    assert closes.kinds("2026-Q2", "draw") == [m("2000.00")]
    assert closes.paid("2026-Q2") == m("3000.00")


def test_while_the_draw_applies_only_pay_above_the_draw_amount_recovers_it() -> None:
    plan = plan_with(RECOVERABLE)
    closes = close(plan, P1, QUARTERS[:2], lines=earned(plan, {"2026-Q1": "2000.00", "2026-Q2": "6000.00"}))
    # Q2: 3,000 outstanding; 50% × 6,000 = 3,000, but only 6,000 − 5,000 = 1,000 above the draw
    assert closes.kinds("2026-Q2", "draw_recovery") == [m("-1000.00")]
    assert closes.paid("2026-Q2") == m("5000.00")


def test_nothing_is_recovered_from_a_period_without_earnings() -> None:
    plan = plan_with(RECOVERABLE)
    closes = close(plan, P1, QUARTERS[:3], lines=earned(plan, {"2026-Q1": "0.00", "2026-Q2": "5000.00", "2026-Q3": "0.00"}))
    assert closes.kinds("2026-Q3", "draw_recovery") == []
    assert closes.balance("draw:ramp") == m("-5000.00")


def test_a_guarantee_pays_the_shortfall_for_the_first_two_periods_only() -> None:
    plan = plan_with(RECOVERABLE.replace("  recoverable\n", "  not recoverable\n").split("  recovers")[0])
    closes = close(plan, P1, QUARTERS[:3], lines=earned(plan, {"2026-Q1": "1000.00", "2026-Q2": "4500.00", "2026-Q3": "1000.00"}))
    assert [closes.kinds(q, "guarantee") for q in QUARTERS[:3]] == [[m("4000.00")], [m("500.00")], []]
    assert [closes.paid(q) for q in QUARTERS[:3]] == [m("5000.00"), m("5000.00"), m("1000.00")]
    assert not any(e.account.startswith("draw:") for e in closes.ledger)  # nothing is owed back


def test_the_first_periods_count_from_the_period_the_payee_joins_in() -> None:
    plan = plan_with(RECOVERABLE)
    hired = dataclasses.replace(P1, hire_date=d("2026-05-20"))
    closes = close(plan, hired, QUARTERS, lines=earned(plan, dict.fromkeys(QUARTERS, "0.00")))
    # hired in Q2: Q2 and Q3 are the first two periods
    assert [bool(closes.kinds(q, "draw")) for q in QUARTERS] == [False, True, True, False]


def test_a_draw_after_hire_counts_from_the_hire_date_not_from_joining_the_plan() -> None:
    plan = plan_with(RECOVERABLE.replace("on the plan", "after hire"))
    new_hire = dataclasses.replace(P1, hire_date=d("2026-08-03"))
    closes = close(plan, new_hire, QUARTERS, lines=earned(plan, dict.fromkeys(QUARTERS, "0.00")))
    # hired in Q3: Q3 and Q4 are the first two periods after hire
    assert [bool(closes.kinds(q, "draw")) for q in QUARTERS] == [False, False, True, True]


def test_a_draw_after_hire_does_not_apply_to_a_veteran_joining_this_years_plan() -> None:
    plan = plan_with(RECOVERABLE.replace("on the plan", "after hire"))
    veteran = dataclasses.replace(P1, hire_date=d("2021-03-15"))
    closes = close(plan, veteran, QUARTERS, lines=earned(plan, dict.fromkeys(QUARTERS, "0.00")))
    assert [bool(closes.kinds(q, "draw")) for q in QUARTERS] == [False, False, False, False]
    # the same veteran on a draw counted from joining the plan is topped up in Q1 and Q2
    on_plan = close(plan_with(RECOVERABLE), veteran, QUARTERS, lines=earned(plan, dict.fromkeys(QUARTERS, "0.00")))
    assert [bool(on_plan.kinds(q, "draw")) for q in QUARTERS] == [True, True, False, False]


def test_a_draw_during_dates_applies_to_the_periods_starting_inside_them() -> None:
    plan = plan_with(RECOVERABLE.replace("for the first 2 periods on the plan", "during 2026-04-01 until 2026-10-01"))
    closes = close(plan, P1, QUARTERS, lines=earned(plan, dict.fromkeys(QUARTERS, "0.00")))
    assert [bool(closes.kinds(q, "draw")) for q in QUARTERS] == [False, True, True, False]


def test_at_termination_an_outstanding_draw_is_forgiven() -> None:
    plan = plan_with(RECOVERABLE)
    leaver = dataclasses.replace(P1, termination_date=d("2026-05-10"))
    closes = close(plan, leaver, QUARTERS[:3], lines=earned(plan, {"2026-Q1": "1000.00", "2026-Q2": "2000.00", "2026-Q3": "0.00"}))
    # Q1: 4,000 advanced; Q2 (the termination's period): 3,000 more, then 7,000 forgiven
    assert closes.kinds("2026-Q2", "forgiven", "draw:ramp") == [m("7000.00")]
    assert closes.balance("draw:ramp") == 0
    assert closes.kinds("2026-Q3", "draw") == []  # no draw after the termination date


def test_at_termination_an_outstanding_draw_can_stay_owed() -> None:
    plan = plan_with(RECOVERABLE.replace("at termination forgiven", "at termination owed"))
    leaver = dataclasses.replace(P1, termination_date=d("2026-05-10"))
    closes = close(plan, leaver, QUARTERS[:3], lines=earned(plan, {"2026-Q1": "1000.00", "2026-Q2": "2000.00", "2026-Q3": "2500.00"}))
    assert closes.kinds("2026-Q2", "receivable", "receivable") == [m("-7000.00")]
    assert closes.balance("draw:ramp") == 0
    # Q3: a late line is recovered against what is owed
    assert closes.kinds("2026-Q3", "recovery", "receivable") == [m("2500.00")]
    assert closes.paid("2026-Q3") == 0
    assert closes.balance("receivable") == m("-4500.00")


# ------------------------------------------------------------------ holdbacks
YEAR_END = """
holdback year_end "Year-end holdback"
  holds 20% of commission
  released at the fiscal year end
"""


def test_a_holdback_holds_its_share_of_the_lines_it_names_only() -> None:
    plan = plan_with(YEAR_END)
    lines = {"2026-Q1": [line(plan, "2026-Q1", "commission", "1000.00"), line(plan, "2026-Q1", "spiff", "500.00")]}
    closes = close(plan, P1, ["2026-Q1"], lines=lines)
    assert closes.kinds("2026-Q1", "holdback", "held:year_end") == [m("200.00")]
    assert closes.paid("2026-Q1") == m("1300.00")


def test_a_holdback_holds_nothing_of_a_negative_line() -> None:
    plan = plan_with(YEAR_END)
    closes = close(plan, P1, ["2026-Q1"], lines=earned(plan, {"2026-Q1": "-300.00"}))
    assert closes.kinds("2026-Q1", "holdback") == []


def test_a_held_amount_is_rounded_with_the_plans_rounding() -> None:
    plan = plan_with(YEAR_END.replace("20%", "12.5%"))
    closes = close(plan, P1, ["2026-Q1"], lines=earned(plan, {"2026-Q1": "100.20"}))
    assert closes.kinds("2026-Q1", "holdback") == [m("-12.53")]  # 12.525, half up


def test_a_year_end_holdback_is_released_with_the_last_period_of_the_fiscal_year() -> None:
    plan = plan_with(YEAR_END)
    closes = close(plan, P1, QUARTERS, lines=earned(plan, dict.fromkeys(QUARTERS, "1000.00")))
    assert [closes.paid(q) for q in QUARTERS] == [m(800), m(800), m(800), m(1600)]  # Q4: 1,000 − 200 + 4 × 200
    assert [e.reverses for e in closes.posted["2026-Q4"] if e.kind == "release" and e.account == "payable"] == [
        f"{q}/P1/test_plan/holdback/year_end/{q}/commission" for q in QUARTERS
    ]


def test_a_holdback_released_on_a_date_waits_for_the_close_of_the_period_that_includes_it() -> None:
    plan = plan_with(YEAR_END.replace("released at the fiscal year end", "released on 2026-05-15"))
    closes = close(plan, P1, QUARTERS[:2], lines=earned(plan, {"2026-Q1": "1000.00", "2026-Q2": "1000.00"}))
    assert closes.paid("2026-Q1") == m(800)
    assert closes.paid("2026-Q2") == m(1200)  # 1,000 + Q1's 200 (Q2's own 200 is held and released at once)


def test_a_holdback_released_when_the_invoice_is_paid_holds_deal_by_deal() -> None:
    plan = plan_with(YEAR_END.replace("released at the fiscal year end", "released when the invoice is paid"))
    deals = [with_facts(deal("D1", "P1", 1, "2026-02-01"), invoice_paid="2026-05-02"), deal("D2", "P1", 1, "2026-03-01")]
    lines = {"2026-Q1": on_deals(plan, "2026-Q1", "1000.00", ("-", "100.00"), ("D1", "600.00"), ("D2", "300.00")), "2026-Q2": []}
    closes = close(plan, P1, QUARTERS[:2], deals, lines=lines)
    # 200 held, shared 20 / 120 / 60 over -, D1, D2; the unattributable 20 is not held
    held = {e.deal_id: e.amount for e in closes.posted["2026-Q1"] if e.kind == "holdback" and e.account == "held:year_end"}
    assert held == {"D1": m("120.00"), "D2": m("60.00")}
    assert closes.paid("2026-Q1") == m("820.00")
    assert closes.kinds("2026-Q2", "release") == [m("120.00")]  # D1's invoice was paid in Q2
    assert closes.balance("held:year_end") == m("60.00")


def test_a_holdback_dropped_by_a_revision_releases_what_it_held() -> None:
    plan = plan_with(YEAR_END)
    first = close(plan, P1, ["2026-Q1"], lines=earned(plan, {"2026-Q1": "1000.00"}))
    without = plan_with("")
    then = close(without, P1, ["2026-Q2"], lines={"2026-Q2": []}, history=first.ledger)
    assert then.kinds("2026-Q2", "release") == [m("200.00")]


# ------------------------------------------------------------------ payment timing
INVOICED = "  payment when the invoice is paid\n"


def test_with_payment_on_invoice_each_deals_part_waits_for_its_invoice() -> None:
    plan = plan_with("", INVOICED)
    deals = [
        with_facts(deal("D1", "P1", 1, "2026-02-01"), invoice_paid="2026-03-31"),  # paid in the period itself
        with_facts(deal("D2", "P1", 1, "2026-03-01"), invoice_paid="2026-08-01"),
        deal("D3", "P1", 1, "2026-03-02"),  # never paid
    ]
    lines = {"2026-Q1": on_deals(plan, "2026-Q1", "1000.00", ("-", "100.00"), ("D1", "500.00"), ("D2", "300.00"), ("D3", "100.00"))}
    lines |= {"2026-Q2": [], "2026-Q3": []}
    closes = close(plan, P1, QUARTERS[:3], deals, lines=lines)
    deferred = {e.deal_id: e.amount for e in closes.posted["2026-Q1"] if e.kind == "deferral" and e.account == "deferred"}
    assert deferred == {"D2": m("300.00"), "D3": m("100.00")}
    assert [closes.paid(q) for q in QUARTERS[:3]] == [m("600.00"), 0, m("300.00")]
    assert closes.balance("deferred") == m("100.00")


def test_an_invoice_paid_after_the_close_waits_for_the_next_close() -> None:
    plan = plan_with("", INVOICED)
    deals = [with_facts(deal("D1", "P1", 1, "2026-02-01"), invoice_paid="2026-03-30")]
    lines = {"2026-Q1": on_deals(plan, "2026-Q1", "500.00", ("D1", "500.00"))}
    early = close(plan, P1, ["2026-Q1"], deals, lines=lines, as_of={"2026-Q1": d("2026-03-29")})
    assert early.paid("2026-Q1") == 0


def test_held_and_deferred_parts_of_a_line_never_exceed_it() -> None:
    plan = plan_with(YEAR_END, INVOICED)
    deals = [deal("D1", "P1", 1, "2026-02-01")]
    closes = close(plan, P1, ["2026-Q1"], deals, lines={"2026-Q1": on_deals(plan, "2026-Q1", "1000.00", ("D1", "1000.00"))})
    # 200 held by the holdback, the other 800 waits for the invoice
    assert closes.kinds("2026-Q1", "deferral", "deferred") == [m("800.00")]
    assert closes.paid("2026-Q1") == 0


# ------------------------------------------------------------------ clawbacks
CLAWBACK = """
clawback cancellations "Cancellation clawback"
  for deals cancelled or refunded within 180 days of the close date
  reverses fully
"""


def clawed(policies: str, *facts: tuple[str, str | None], header: str = "") -> Closes:
    """D1 (60,000, closed 2026-02-01) earned 6,000 in Q1 with `facts` (cancelled, refunded); Q2 earns 1,000."""
    plan = plan_with(policies, header)
    cancelled, refunded = facts[0] if facts else ("2026-04-02", None)
    deals = [with_facts(deal("D1", "P1", 60_000, "2026-02-01"), cancelled=cancelled, refunded=refunded)]
    lines = {
        "2026-Q1": on_deals(plan, "2026-Q1", "6000.00", ("D1", "6000.00")),
        "2026-Q2": [line(plan, "2026-Q2", "commission", "1000.00")],
        "2026-Q3": [line(plan, "2026-Q3", "commission", "8000.00")],
    }
    return close(plan, P1, QUARTERS[:3], deals, lines=lines)


def test_a_clawback_reverses_the_deals_earnings_in_full() -> None:
    closes = clawed(CLAWBACK)
    assert closes.kinds("2026-Q2", "clawback") == [m("-6000.00")]


def test_a_clawback_carries_the_opposite_sign_and_links_to_the_line_it_reverses() -> None:
    closes = clawed(CLAWBACK)
    [earning] = [e for e in closes.posted["2026-Q1"] if e.kind == "earning"]
    [reversal] = [e for e in closes.posted["2026-Q2"] if e.kind == "clawback"]
    assert reversal.reverses == earning.movement == "2026-Q1/P1/test_plan/earning/2026-Q1/commission"
    assert (reversal.deal_id, reversal.line_id, reversal.component) == ("D1", earning.line_id, "commission")
    assert reversal.attribution == (("D1", m("-6000.00")),)
    assert reversal.amount == -earning.amount


def test_a_clawback_larger_than_the_pay_is_carried_and_recovered_from_later_pay() -> None:
    closes = clawed(CLAWBACK)
    # Q2: 1,000 − 6,000 = −5,000 carried; Q3: 8,000 pays it back, 3,000 is paid
    assert closes.kinds("2026-Q2", "receivable", "receivable") == [m("-5000.00")]
    assert closes.kinds("2026-Q3", "recovery", "receivable") == [m("5000.00")]
    assert [closes.paid(q) for q in QUARTERS[:3]] == [m(6000), 0, m(3000)]


def test_a_clawback_pro_rata_by_time_reverses_the_part_of_the_window_left() -> None:
    closes = clawed(CLAWBACK.replace("fully", "pro rata by time"), ("2026-03-03", None))
    # cancelled 30 days after closing: 6,000 × 150/180 = 5,000, in the Q1 close itself
    assert closes.kinds("2026-Q1", "clawback") == [m("-5000.00")]
    assert closes.paid("2026-Q1") == m("1000.00")


def test_a_clawback_at_the_rate_originally_paid_reverses_the_refunded_part() -> None:
    closes = clawed(CLAWBACK.replace("fully", "at the rate originally paid"), ("2026-04-02", "20000"))
    assert closes.kinds("2026-Q2", "clawback") == [m("-2000.00")]  # 6,000 × 20,000 / 60,000


def test_a_deal_cancelled_outside_the_window_keeps_its_earnings() -> None:
    closes = clawed(CLAWBACK, ("2026-07-31", None))  # 180 days after 2026-02-01: the window has ended
    assert not [e for e in closes.ledger if e.kind == "clawback"]


def test_the_first_clawback_whose_window_holds_the_cancellation_applies() -> None:
    schedule = CLAWBACK.replace("180 days", "90 days") + CLAWBACK.replace("cancellations", "late").replace("180 days", "1 year").replace(
        "fully", "pro rata by time"
    )
    assert clawed(schedule, ("2026-03-03", None)).kinds("2026-Q1", "clawback") == [m("-6000.00")]
    # 120 days after closing: the second window, 6,000 × 245/365 = 4,027.397… → 4,027.40
    assert clawed(schedule, ("2026-06-01", None)).kinds("2026-Q2", "clawback") == [m("-4027.40")]


def test_each_line_a_deal_earned_on_is_reversed_once() -> None:
    plan = plan_with(CLAWBACK)
    deals = [with_facts(deal("D1", "P1", 1, "2026-02-01"), cancelled="2026-05-05"), deal("D2", "P1", 1, "2026-02-02")]
    lines = {
        "2026-Q1": on_deals(plan, "2026-Q1", "900.00", ("D1", "700.00"), ("D2", "200.00")),
        "2026-Q2": [line(plan, "2026-Q2", "spiff", "500.00", ("D1", "500.00"))],
        "2026-Q3": [],
    }
    closes = close(plan, P1, QUARTERS[:3], deals, lines=lines)
    assert sorted(closes.kinds("2026-Q2", "clawback")) == [m("-700.00"), m("-500.00")]
    assert closes.kinds("2026-Q3", "clawback") == []
    net = sum((dict(e.attribution).get("D1", Decimal(0)) for e in closes.ledger if e.kind in ("earning", "clawback")), Decimal(0))
    assert net == 0


def test_a_deal_that_lowered_a_line_is_given_it_back_when_clawed_back() -> None:
    plan = plan_with(CLAWBACK)
    deals = [with_facts(deal("D1", "P1", 1, "2026-02-01"), cancelled="2026-02-20"), deal("D2", "P1", 1, "2026-02-02")]
    lines = {"2026-Q1": on_deals(plan, "2026-Q1", "800.00", ("D1", "-200.00"), ("D2", "1000.00"))}
    closes = close(plan, P1, ["2026-Q1"], deals, lines=lines)
    assert closes.kinds("2026-Q1", "clawback") == [m("200.00")]


def test_a_clawed_back_deal_releases_what_waited_for_its_invoice() -> None:
    closes = clawed(CLAWBACK, header=INVOICED)
    # Q1: the 6,000 waits for D1's invoice; Q2: D1 is cancelled, the wait ends and the clawback takes it
    assert closes.kinds("2026-Q1", "deferral", "deferred") == [m("6000.00")]
    assert closes.kinds("2026-Q2", "deferral_release") == [m("6000.00")]
    assert closes.balance("deferred") == 0
    assert [closes.paid(q) for q in QUARTERS[:3]] == [0, m(1000), m(8000)]


# ------------------------------------------------------------------ the ledger itself


def test_every_close_pays_out_the_payable_account_and_records_the_payment() -> None:
    plan = plan_with(YEAR_END)
    closes = close(plan, P1, ["2026-Q1", "2026-Q2"], lines={"2026-Q1": [], "2026-Q2": []})
    assert closes.kinds("2026-Q1", "payment") == [Decimal("0")]
    assert str(closes.kinds("2026-Q1", "payment")[0]) in ("0", "0.00")  # never "-0.00"
    assert closes.balance("payable") == 0


def test_transfers_are_two_entries_adding_up_to_zero_and_money_in_or_out_is_one() -> None:
    closes = clawed(RECOVERABLE + YEAR_END + CLAWBACK, header=INVOICED)
    by_movement: dict[str, list[LedgerEntry]] = {}
    for entry in closes.ledger:
        by_movement.setdefault(entry.movement, []).append(entry)
    for movement, entries in by_movement.items():
        kind = entries[0].kind
        assert {e.kind for e in entries} == {kind}
        if kind in EXTERNAL_KINDS:
            assert len(entries) == 1, movement
        else:
            assert kind in TRANSFER_KINDS
            assert len(entries) == 2 and sum(e.amount for e in entries) == 0, movement


def test_balances_are_sums_per_account() -> None:
    entries = [
        LedgerEntry("P1", "2026-Q1", "earning", "payable", m("10.00"), "USD", "a"),
        LedgerEntry("P1", "2026-Q1", "holdback", "payable", m("-2.00"), "USD", "b"),
        LedgerEntry("P1", "2026-Q1", "holdback", "held:h", m("2.00"), "USD", "b"),
    ]
    assert balances(entries) == {"held:h": m("2.00"), "payable": m("8.00")}


def test_closing_a_period_again_posts_nothing() -> None:
    plan = plan_with(RECOVERABLE + YEAR_END)
    closes = close(plan, P1, ["2026-Q1"], lines=earned(plan, {"2026-Q1": "1000.00"}))
    again = pay_period(
        plan, P1, period(plan, "2026-Q1"), earned(plan, {"2026-Q1": "9999.00"})["2026-Q1"], closes.ledger, {}, d("2026-04-01")
    )
    assert again == []


def test_periods_close_in_order() -> None:
    plan = plan_with("")
    later = close(plan, P1, ["2026-Q2"], lines={"2026-Q2": []})
    with pytest.raises(PayoutError, match="already has entries of 2026-Q2, so 2026-Q1 cannot be closed now"):
        pay_period(plan, P1, period(plan, "2026-Q1"), [], later.ledger, {}, d("2026-04-01"))


def test_the_ledgers_of_other_payees_and_plans_are_not_read() -> None:
    plan = plan_with(YEAR_END)
    other = close(plan, payee("P2"), ["2026-Q1"], lines=earned(plan, {"2026-Q1": "1000.00"}))
    foreign = [dataclasses.replace(e, payee_id="P1", plan_id="other_plan") for e in other.ledger]
    closes = close(plan, P1, ["2026-Q1"], lines=earned(plan, {"2026-Q1": "500.00"}), history=other.ledger + foreign)
    assert closes.paid("2026-Q1") == m("400.00")


def test_lines_whose_attribution_does_not_add_up_are_refused() -> None:
    plan = plan_with("")
    bad = PaidLine("L1", plan.id, "commission", m("100.00"), "earning", (("D1", m("90.00")),))
    with pytest.raises(PayoutError, match="does not add up"):
        pay_period(plan, P1, period(plan, "2026-Q1"), [bad], [], {}, d("2026-04-01"))


def test_a_line_of_another_plan_is_refused() -> None:
    plan = plan_with("")
    with pytest.raises(PayoutError, match="is a line of plan other"):
        pay_period(plan, P1, period(plan, "2026-Q1"), [PaidLine("L1", "other", "c", m(1), "earning", ())], [], {}, d("2026-04-01"))


def test_waiting_for_an_invoice_needs_the_deal() -> None:
    plan = plan_with("", INVOICED)
    with pytest.raises(PayoutError, match=r"deal D9 .* is not among the deals given"):
        close(plan, P1, ["2026-Q1"], lines={"2026-Q1": on_deals(plan, "2026-Q1", "5.00", ("D9", "5.00"))})


def test_adjustment_lines_are_posted_with_the_period_they_correct() -> None:
    plan = plan_with(YEAR_END)
    adjustment = dataclasses.replace(line(plan, "2026-Q2", "commission", "100.00", kind="adjustment"), adjusts="2026-Q1")
    closes = close(plan, P1, ["2026-Q2"], lines={"2026-Q2": [adjustment]})
    [entry] = [e for e in closes.ledger if e.kind == "adjustment"]
    assert (entry.adjusts_period, entry.amount) == ("2026-Q1", m("100.00"))
    assert closes.kinds("2026-Q2", "holdback") == [m("-20.00")]  # a positive adjustment is held like an earning


def test_holding_until_the_invoice_is_paid_needs_the_deal() -> None:
    plan = plan_with(YEAR_END.replace("released at the fiscal year end", "released when the invoice is paid"))
    with pytest.raises(PayoutError, match=r"deal D9 \(line 2026-Q1/commission\) is not among the deals given"):
        close(plan, P1, ["2026-Q1"], lines={"2026-Q1": on_deals(plan, "2026-Q1", "5.00", ("D9", "5.00"))})


def test_the_caller_may_say_when_the_payee_joined_the_plan() -> None:
    plan = plan_with(RECOVERABLE)
    lines = earned(plan, {"2026-Q3": "0.00"})["2026-Q3"]
    joined_in_q2 = pay_period(plan, P1, period(plan, "2026-Q3"), lines, [], {}, d("2026-10-01"), joined=d("2026-06-30"))
    assert [e.amount for e in joined_in_q2 if e.kind == "draw" and e.account == "payable"] == [m("5000")]  # Q3 is their second period
    assert not [e for e in pay_period(plan, P1, period(plan, "2026-Q3"), lines, [], {}, d("2026-10-01")) if e.kind == "draw"]
