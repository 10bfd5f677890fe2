"""Overlays: `payees where <condition>` credits every payee the condition holds for, 100%.

Specified by small plans with amounts checked by hand, and by a property: the overlay index
(which looks up the payees a deal's joins point at instead of testing every payee) credits
exactly the payees a brute-force check of every payee against the condition finds.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compengine.core.calculation import typed_attributes
from compengine.core.crediting import Credit, Crediting
from compengine.core.data import Dataset, Deal, Payee
from compengine.core.errors import EvaluationError
from compengine.core.fx import FxTable
from compengine.core.hierarchy import Hierarchy
from compengine.core.money import ONE
from compengine.core.plan import CompiledPlan, RecipientKind
from compengine.core.scope import DealScope, MatchScope
from compengine.core.trace import build_line_trace, verify
from tests.support import HEADER, calc, compile_text, dataset, deal, line_amounts, payee

ATTRIBUTES = """
payee attribute role: text, default ""
payee attribute territory: text, default ""
payee attribute accounts: text list
deal attribute territory: text, default ""
deal attribute account: text, default ""
"""


def overlay_plan(condition: str, recipients: str = "to owner, payees where {condition}", attributes: str = ATTRIBUTES) -> str:
    """A 10% commission on the credits of one rule whose recipients include an overlay."""
    return (
        HEADER
        + attributes
        + f"""
credit bookings from deals
  {recipients.format(condition=condition)}
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 10%
"""
    )


def credits_of(plan: CompiledPlan | str, data: Dataset) -> dict[str, list[Credit]]:
    compiled = compile_text(plan) if isinstance(plan, str) else plan
    deal_attrs, payee_attrs = typed_attributes(compiled, data)
    crediting = Crediting(compiled, data.payees, payee_attrs, Hierarchy(data.reporting_lines), FxTable(data.exchange_rates))
    return crediting.credit(data.deals, deal_attrs)


def credited(plan: CompiledPlan | str, data: Dataset) -> dict[tuple[str, str], Decimal]:
    """(payee, deal) -> credited amount, summed over that payee's credits for the deal."""
    found: dict[tuple[str, str], Decimal] = {}
    for payee_id, credits in credits_of(plan, data).items():
        for credit in credits:
            key = (payee_id, credit.deal.id)
            found[key] = found.get(key, Decimal(0)) + credit.amount
    return found


# The sales floor most tests use: one rep, three solution engineers, one AE in EMEA.
FLOOR = [
    payee("R1", role="ae"),
    payee("S1", role="se", territory="EMEA", accounts="A1;A2"),
    payee("S2", role="se", territory="EMEA", accounts="A3"),
    payee("S3", role="se", territory="AMER", accounts="A2; A4"),
    payee("A1", role="ae", territory="EMEA"),
]


# ------------------------------------------------------------------ who an overlay credits
def test_every_matching_payee_is_credited_100_percent_in_addition_to_the_owner() -> None:
    # X1 10,000 in EMEA: R1 (owner) 10,000; S1 and S2 (se in EMEA) 10,000 each; S3 (AMER) and A1 (ae) nothing
    data = dataset(FLOOR, [deal("X1", "R1", "10000", "2026-02-10", territory="EMEA")])
    assert credited(overlay_plan('payee.role == "se" and payee.territory == deal.territory'), data) == {
        ("R1", "X1"): Decimal("10000"),
        ("S1", "X1"): Decimal("10000"),
        ("S2", "X1"): Decimal("10000"),
    }


def test_overlay_credits_pay_each_overlay_the_full_commission() -> None:
    # 10,000 × 10% = 1,000.00 for the owner and for each of the two overlays
    data = dataset(FLOOR, [deal("X1", "R1", "10000", "2026-02-10", territory="EMEA")])
    result = calc(overlay_plan('payee.role == "se" and payee.territory == deal.territory'), data, "2026-Q1")
    assert {p: line_amounts(result, p)["commission"] for p in ("R1", "S1", "S2", "S3", "A1")} == {
        "R1": Decimal("1000.00"),
        "S1": Decimal("1000.00"),
        "S2": Decimal("1000.00"),
        "S3": Decimal("0.00"),
        "A1": Decimal("0.00"),
    }


def test_an_overlay_credit_has_role_overlay_and_share_100_percent() -> None:
    data = dataset(FLOOR, [deal("X1", "R1", "10000", "2026-02-10", territory="AMER")])
    credits = credits_of(overlay_plan('payee.role == "se" and payee.territory == deal.territory'), data)
    assert [(c.role, c.share, c.amount) for c in credits["S3"]] == [("overlay", ONE, Decimal("10000"))]


def test_a_join_on_a_payee_field_matches_on_equal_values_only() -> None:
    # territory join alone (no role filter): the deal in AMER reaches S3 only
    data = dataset(FLOOR, [deal("X1", "R1", "5000", "2026-02-10", territory="AMER")])
    found = credited(overlay_plan("payee.territory == deal.territory"), data)
    assert set(found) == {("R1", "X1"), ("S3", "X1")}


def test_a_join_may_be_written_with_the_deal_side_first() -> None:
    data = dataset(FLOOR, [deal("X1", "R1", "5000", "2026-02-10", territory="EMEA")])
    found = credited(overlay_plan("deal.territory == payee.territory"), data)
    assert set(found) == {("R1", "X1"), ("S1", "X1"), ("S2", "X1"), ("A1", "X1")}


def test_a_payee_only_filter_credits_every_such_payee_on_every_deal() -> None:
    # role == "se": S1, S2, S3 on both deals, whatever their territory
    deals = [deal("X1", "R1", "1000", "2026-02-10", territory="EMEA"), deal("X2", "R1", "2000", "2026-03-10")]
    found = credited(overlay_plan('payee.role == "se"'), dataset(FLOOR, deals))
    assert {k for k in found if k[0] != "R1"} == {(s, x) for s in ("S1", "S2", "S3") for x in ("X1", "X2")}


def test_an_account_list_credits_the_payees_whose_list_holds_the_deals_account() -> None:
    # A2 is in S1's "A1;A2" and in S3's "A2; A4" (spaces around items do not matter)
    data = dataset(FLOOR, [deal("X1", "R1", "8000", "2026-02-10", account="A2")])
    found = credited(overlay_plan("deal.account in payee.accounts"), data)
    assert found == {("R1", "X1"): Decimal("8000"), ("S1", "X1"): Decimal("8000"), ("S3", "X1"): Decimal("8000")}


def test_an_account_list_matches_whole_items_not_parts_of_them() -> None:
    # "A" is a prefix of every account, but no list holds the item "A"
    data = dataset(FLOOR, [deal("X1", "R1", "8000", "2026-02-10", account="A")])
    assert set(credited(overlay_plan("deal.account in payee.accounts"), data)) == {("R1", "X1")}


def test_a_list_overlay_combines_with_a_role_filter() -> None:
    # A1 is in S1's list only; S1 is an se: S1. With role == "ae" nobody but the owner.
    data = dataset(FLOOR, [deal("X1", "R1", "8000", "2026-02-10", account="A1")])
    assert set(credited(overlay_plan('payee.role == "se" and deal.account in payee.accounts'), data)) == {("R1", "X1"), ("S1", "X1")}
    assert set(credited(overlay_plan('payee.role == "ae" and deal.account in payee.accounts'), data)) == {("R1", "X1")}


# ------------------------------------------------------------------ empty attributes
def test_a_payee_with_an_empty_territory_does_not_match_a_deal_with_a_territory() -> None:
    # R1 and the new S4 have no territory (default ""); the deal is in EMEA
    floor = [*FLOOR, payee("S4", role="se")]
    data = dataset(floor, [deal("X1", "R1", "1000", "2026-02-10", territory="EMEA")])
    found = credited(overlay_plan('payee.role == "se" and payee.territory == deal.territory'), data)
    assert ("S4", "X1") not in found
    assert set(found) == {("R1", "X1"), ("S1", "X1"), ("S2", "X1")}


def test_a_payee_with_an_empty_account_list_matches_no_account() -> None:
    # an empty list cell is the empty list: S4 has no accounts, so no deal reaches it
    floor = [*FLOOR, payee("S4", role="se")]
    data = dataset(floor, [deal("X1", "R1", "1000", "2026-02-10", account="A3")])
    assert set(credited(overlay_plan("deal.account in payee.accounts"), data)) == {("R1", "X1"), ("S2", "X1")}


NO_TERRITORY_DEFAULT = ATTRIBUTES.replace('payee attribute territory: text, default ""', "payee attribute territory: text")


@pytest.mark.parametrize(
    "condition",
    ["payee.territory == deal.territory", "payee.territory == deal.territory or false"],
    ids=["indexed join", "condition tested payee by payee"],
)
def test_an_empty_payee_attribute_without_a_default_that_an_overlay_matches_on_stops_the_calculation(condition: str) -> None:
    # S4's territory cell is empty and the attribute has no default: whether the condition is
    # an indexed equality join or tested payee by payee, it is an error naming the field
    floor = [payee("R1", territory="x"), payee("S1", territory="EMEA"), payee("S4")]
    data = dataset(floor, [deal("X1", "R1", "1000", "2026-02-10", territory="EMEA")])
    with pytest.raises(EvaluationError, match="field territory is empty"):
        credited(overlay_plan(condition, attributes=NO_TERRITORY_DEFAULT), data)


def test_an_overlay_condition_stops_early_so_an_unread_empty_deal_field_is_no_error() -> None:
    # `and` stops early (docs: Expressions): the renewal X2's territory is never read, so its
    # empty cell (no default) is no error; the new deal X1 in EMEA reaches S1 and S2.
    attributes = ATTRIBUTES.replace('deal attribute territory: text, default ""', "deal attribute territory: text")
    deals = [deal("X1", "R1", "1000", "2026-02-10", territory="EMEA"), deal("X2", "R1", "2000", "2026-02-11", type="renewal")]
    condition = 'deal.type == "new" and payee.territory == deal.territory'
    found = credited(overlay_plan(condition, attributes=attributes), dataset(FLOOR, deals))
    assert set(found) == {("R1", "X1"), ("S1", "X1"), ("S2", "X1"), ("A1", "X1"), ("R1", "X2")}


def test_an_empty_deal_field_an_overlay_does_read_stops_the_calculation() -> None:
    attributes = ATTRIBUTES.replace('deal attribute territory: text, default ""', "deal attribute territory: text")
    data = dataset(FLOOR, [deal("X1", "R1", "1000", "2026-02-10")])
    with pytest.raises(EvaluationError, match="field territory is empty"):
        credited(overlay_plan("payee.territory == deal.territory", attributes=attributes), data)


# ------------------------------------------------------------------ dates
def test_an_overlay_filter_on_a_dated_parameter_reads_it_on_the_credit_date() -> None:
    # min_level is 3 until July, 1 after: S1 (level 2) is an overlay on the August deal only
    attributes = "payee attribute level: number, default 0\nparameter min_level = 3 from 2026-01-01, 1 from 2026-07-01\n"
    data = dataset([payee("R1"), payee("S1", level="2")], [deal("X1", "R1", "1000", "2026-02-10"), deal("X2", "R1", "2000", "2026-08-10")])
    found = credited(overlay_plan("payee.level >= min_level", attributes=attributes), data)
    assert set(found) == {("R1", "X1"), ("R1", "X2"), ("S1", "X2")}


# ------------------------------------------------------------------ the owner's credit
def test_an_overlay_does_not_change_the_owners_credit() -> None:
    # R1's credit is 10,000 (1,000.00 commission) with or without the overlays on the deal
    data = dataset(FLOOR, [deal("X1", "R1", "10000", "2026-02-10", territory="EMEA")])
    with_overlay = credited(overlay_plan('payee.role == "se" and payee.territory == deal.territory'), data)
    without = credited(overlay_plan("", recipients="to owner"), data)
    assert with_overlay[("R1", "X1")] == without[("R1", "X1")] == Decimal("10000")


def test_an_overlay_does_not_change_split_partners_credits() -> None:
    # X1 10,000 split R1 60% / A1 40%, plus the EMEA se overlays: R1 6,000, A1 4,000, S1 and S2 10,000
    data = dataset(FLOOR, [deal("X1", "R1", "10000", "2026-02-10", territory="EMEA", splits={"R1": "60", "A1": "40"})])
    text = overlay_plan('payee.role == "se" and payee.territory == deal.territory', recipients="to deal splits, payees where {condition}")
    assert credited(text, data) == {
        ("R1", "X1"): Decimal("6000.00"),
        ("A1", "X1"): Decimal("4000.00"),
        ("S1", "X1"): Decimal("10000"),
        ("S2", "X1"): Decimal("10000"),
    }


def test_an_owner_who_also_matches_the_overlay_is_credited_once() -> None:
    # S1 owns an EMEA deal and is an EMEA se: owner 100% + overlay 100% counted once = 10,000
    data = dataset(FLOOR, [deal("X1", "S1", "10000", "2026-02-10", territory="EMEA")])
    credits = credits_of(overlay_plan('payee.role == "se" and payee.territory == deal.territory'), data)
    assert [(c.amount, c.role) for c in credits["S1"]] == [(Decimal("10000"), "owner + overlay")]


def test_an_overlay_line_traces_and_verifies() -> None:
    data = dataset(FLOOR, [deal("X1", "R1", "10000", "2026-02-10", territory="EMEA")])
    statement = calc(overlay_plan('payee.role == "se" and payee.territory == deal.territory'), data, "2026-Q1").statement("S2")
    node = build_line_trace(statement, statement.lines[0])
    assert verify(node) == []
    credit = next(n for n in node.walk() if n.kind == "credit" and "paths" in n.detail)
    assert credit.detail["paths"] == [{"path": "overlay", "share": ONE}]


# ------------------------------------------------------------------ the index against a brute force
CONDITIONS = (
    "payee.territory == deal.territory",
    "deal.territory == payee.territory",
    'payee.role == "se"',
    'payee.role == "se" and payee.territory == deal.territory',
    'payee.territory == deal.territory and payee.role != "ae"',
    "deal.account in payee.accounts",
    'payee.role == "se" and deal.account in payee.accounts and deal.type == "new"',
    "payee.territory == deal.territory or deal.account in payee.accounts",
    'deal.type == "new" and payee.territory == deal.territory and payee.region == deal.region',
    'payee.region == deal.region and not (payee.role == "ae")',
    "payee.id == deal.owner",
    'payee.role == "se" and payee.territory == deal.territory and deal.amount >= 5,000 USD',
    'payee.territory == focus and payee.role != ""',
    "payee.region == focus or payee.territory == focus",
    # `zone` has no default: an empty one is an error only for a deal whose condition reads it
    'deal.type == "new" and payee.territory == deal.zone',
    'payee.role == "se" and deal.type == "new" and deal.zone == payee.region',
    'deal.type == "renewal" or payee.territory == deal.zone',
)

INDEX_ATTRIBUTES = ATTRIBUTES + (
    'payee attribute region: text, default ""\ndeal attribute region: text, default ""\n'
    'parameter focus = "EMEA" from 2026-01-01, "AMER" from 2026-05-01\n'
    "deal attribute zone: text\n"
)
ROLES = ("", "se", "ae")
PLACES = ("", "EMEA", "AMER", "APAC")
ACCOUNTS = ("A1", "A2", "A3", "A4")


@st.composite
def small_floors(draw: st.DrawFn) -> tuple[list[Payee], list[Deal]]:
    count = draw(st.integers(1, 7))
    payees = []
    for i in range(count):
        accounts = draw(st.lists(st.sampled_from(ACCOUNTS), max_size=3, unique=True))
        role, territory, region = draw(st.sampled_from(ROLES)), draw(st.sampled_from(PLACES)), draw(st.sampled_from(PLACES))
        payees.append(payee(f"P{i}", role=role, territory=territory, region=region, accounts=";".join(accounts)))
    deals = []
    for j in range(draw(st.integers(0, 5))):
        owner = draw(st.sampled_from([p.id for p in payees]))
        amount = str(draw(st.integers(-2_000, 20_000)))
        closed = f"2026-0{draw(st.integers(1, 9))}-15"
        kind = draw(st.sampled_from(("new", "renewal")))
        territory, region = draw(st.sampled_from(PLACES)), draw(st.sampled_from(PLACES))
        account = draw(st.sampled_from(("", *ACCOUNTS)))  # an empty cell takes the default ""
        zone = draw(st.sampled_from(PLACES))  # an empty cell is empty: no default
        deals.append(deal(f"X{j}", owner, amount, closed, type=kind, territory=territory, region=region, account=account, zone=zone))
    return payees, deals


COMPILED = {condition: compile_text(overlay_plan(condition, attributes=INDEX_ATTRIBUTES)) for condition in CONDITIONS}


def outcome(find: Callable[[CompiledPlan, Dataset], dict[tuple[str, str], Decimal]], plan: CompiledPlan, data: Dataset) -> object:
    """The credits found, or the error that stopped the calculation."""
    try:
        return find(plan, data)
    except EvaluationError as error:
        return f"error: {error}"


def brute_force(plan: CompiledPlan, data: Dataset) -> dict[tuple[str, str], Decimal]:
    """The credits of the plan's one rule found by testing every payee against the overlay
    condition as written, for every deal; the owner and each overlay counted once."""
    deal_attrs, payee_attrs = typed_attributes(plan, data)
    rule = next(iter(plan.credits.values()))
    overlay = next(r for r in rule.recipients if r.kind is RecipientKind.PAYEES)
    assert overlay.match is not None
    found: dict[tuple[str, str], Decimal] = {}
    for current in data.deals:
        scope = DealScope(plan, current, deal_attrs[current.id], current.close_date)
        reached = {current.owner}
        reached.update(p.id for p in data.payees.values() if overlay.match.condition(MatchScope(scope, p, payee_attrs[p.id])))
        for payee_id in reached:
            found[(payee_id, current.id)] = current.amount
    return found


@settings(max_examples=150)
@given(floor=small_floors(), condition=st.sampled_from(CONDITIONS))
def test_the_overlay_index_credits_exactly_the_payees_a_check_of_every_payee_finds(
    floor: tuple[list[Payee], list[Deal]], condition: str
) -> None:
    payees, deals = floor
    plan = COMPILED[condition]
    data = dataset(payees, deals)
    assert outcome(credited, plan, data) == outcome(brute_force, plan, data)


@settings(max_examples=30)
@given(floor=small_floors(), condition=st.sampled_from(CONDITIONS), seed=st.integers(0, 2**16))
def test_the_overlay_credits_do_not_depend_on_the_order_of_the_payees(
    floor: tuple[list[Payee], list[Deal]], condition: str, seed: int
) -> None:
    payees, deals = floor
    shuffled = list(payees)
    random.Random(seed).shuffle(shuffled)
    plan = COMPILED[condition]
    assert outcome(credited, plan, dataset(payees, deals)) == outcome(credited, plan, dataset(shuffled, deals))
