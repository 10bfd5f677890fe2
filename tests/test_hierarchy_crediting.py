"""Rollups: a deal credited to a rep is also credited to the managers above them.

Specified by small plans with amounts checked by hand.  Unless a test says otherwise the
company is one chain, every line effective all year:

    C1 (CEO)  <-  V1 (VP)  <-  D1 (director)  <-  M1 (manager)  <-  R1 (rep)

and every payee is on the test plan (quarterly, fiscal year from January) all year.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

import pytest

from compengine.core.calculation import typed_attributes
from compengine.core.crediting import Credit, Crediting
from compengine.core.data import Dataset, Deal, ReportingLine
from compengine.core.errors import EvaluationError
from compengine.core.fx import FxTable
from compengine.core.hierarchy import Hierarchy
from compengine.core.trace import build_line_trace, verify
from compengine.report.explain import explain_line
from tests.support import HEADER, calc, compile_text, d, dataset, deal, line_amounts, payee

CHAIN = (("R1", "M1"), ("M1", "D1"), ("D1", "V1"), ("V1", "C1"))
PEOPLE = ("R1", "M1", "D1", "V1", "C1")


def team_plan(rollup: str, dated: str = "deal.close_date", extra: str = "") -> str:
    """Owner credit rolled up as `rollup` says, and a 10% commission on the period's credits."""
    return (
        HEADER
        + f"""
credit team from deals
  to owner
  {rollup}
  amount deal.amount
  dated {dated}

measure team_total = sum of team

component commission "Commission"
  on team_total
  rate 10%
"""
        + extra
    )


def lines(*pairs: tuple[str, str, str, str | None]) -> tuple[ReportingLine, ...]:
    """(payee, manager, start, end or None) rows."""
    return tuple(ReportingLine(p, m, d(start), d(end) if end else None) for p, m, start, end in pairs)


def all_year(pairs: Iterable[tuple[str, str]]) -> tuple[ReportingLine, ...]:
    return tuple(ReportingLine(p, m, d("2026-01-01"), None) for p, m in pairs)


def company(
    deals: Iterable[Deal],
    reporting: tuple[ReportingLine, ...] = all_year(CHAIN),
    people: Iterable[str] = PEOPLE,
    quotas: dict[tuple[str, str, str], str | int] | None = None,
) -> Dataset:
    return dataclasses.replace(dataset([payee(p) for p in people], deals, quotas=quotas), reporting_lines=reporting)


def only_assigned(data: Dataset, *payee_ids: str) -> Dataset:
    """The same company with only `payee_ids` on the plan (the others need no quota)."""
    return dataclasses.replace(data, assignments=tuple(a for a in data.assignments if a.payee_id in payee_ids))


def credited(text: str, data: Dataset) -> dict[str, dict[str, Decimal]]:
    """Payee -> deal -> credited amount, straight from the credit stage."""
    found: dict[str, dict[str, Decimal]] = {}
    for payee_id, credits in credits_of(text, data).items():
        for credit in credits:
            found.setdefault(payee_id, {})
            found[payee_id][credit.deal.id] = found[payee_id].get(credit.deal.id, Decimal(0)) + credit.amount
    return found


def credits_of(text: str, data: Dataset) -> dict[str, list[Credit]]:
    plan = compile_text(text)
    deal_attrs, payee_attrs = typed_attributes(plan, data)
    crediting = Crediting(plan, data.payees, payee_attrs, Hierarchy(data.reporting_lines), FxTable(data.exchange_rates))
    return crediting.credit(data.deals, deal_attrs)


ONE_DEAL = [deal("X1", "R1", "10000", "2026-02-10")]


# ------------------------------------------------------------------ how far up
def test_rolled_up_1_level_credits_the_direct_manager_and_nobody_above() -> None:
    # R1 10,000 (owner); M1 10,000 (rollup 1); D1, V1, C1 nothing
    assert credited(team_plan("rolled up 1 levels"), company(ONE_DEAL)) == {
        "R1": {"X1": Decimal("10000")},
        "M1": {"X1": Decimal("10000")},
    }


def test_rolled_up_2_levels_credits_the_manager_and_the_managers_manager() -> None:
    # R1, M1 (level 1), D1 (level 2): 10,000 each; V1 and C1 nothing
    result = credited(team_plan("rolled up 2 levels"), company(ONE_DEAL))
    assert result == {p: {"X1": Decimal("10000")} for p in ("R1", "M1", "D1")}


@pytest.mark.parametrize(("levels", "managers"), [(1, ["M1"]), (2, ["M1", "D1"]), (3, ["M1", "D1", "V1"]), (4, ["M1", "D1", "V1", "C1"])])
def test_rolled_up_n_levels_credits_exactly_the_first_n_managers_in_full(levels: int, managers: list[str]) -> None:
    # every manager reached gets the whole 10,000, not a diminishing share
    result = credited(team_plan(f"rolled up {levels} levels"), company(ONE_DEAL))
    assert result == {p: {"X1": Decimal("10000")} for p in ["R1", *managers]}


def test_rolled_up_more_levels_than_the_chain_has_stops_at_the_top() -> None:
    # only four people above R1: 9 levels credits the same five as `to the top`
    result = credited(team_plan("rolled up 9 levels"), company(ONE_DEAL))
    assert set(result) == set(PEOPLE)


def test_rolled_up_to_the_top_credits_everyone_above_the_recipient() -> None:
    # R1, M1, D1, V1, C1: 10,000 each
    result = credited(team_plan("rolled up to the top"), company(ONE_DEAL))
    assert result == {p: {"X1": Decimal("10000")} for p in PEOPLE}


def test_a_deal_owned_by_a_manager_rolls_up_from_the_manager_not_from_below() -> None:
    # D1 owns it: D1 (owner), V1 (level 1), C1 (level 2); M1 and R1 are below and get nothing
    data = company([deal("X1", "D1", "10000", "2026-02-10")])
    assert set(credited(team_plan("rolled up to the top"), data)) == {"D1", "V1", "C1"}


def test_a_recipient_with_no_manager_is_credited_alone() -> None:
    data = company(ONE_DEAL, reporting=())
    assert credited(team_plan("rolled up to the top"), data) == {"R1": {"X1": Decimal("10000")}}


def test_rolled_up_credits_pay_the_managers_on_their_statements() -> None:
    # Q1: X1 10,000 + X2 5,000 (R1) = 15,000 for R1, M1 and D1 alike; × 10% = 1,500.00
    deals = [deal("X1", "R1", "10000", "2026-02-10"), deal("X2", "R1", "5000", "2026-03-31")]
    result = calc(team_plan("rolled up 2 levels"), company(deals), "2026-Q1")
    assert {p: line_amounts(result, p)["commission"] for p in PEOPLE} == {
        "R1": Decimal("1500.00"),
        "M1": Decimal("1500.00"),
        "D1": Decimal("1500.00"),
        "V1": Decimal("0.00"),
        "C1": Decimal("0.00"),
    }


# ------------------------------------------------------------------ the recipient keeps their credit
def test_the_direct_recipient_keeps_their_own_credit_when_it_rolls_up() -> None:
    # a rollup adds credits above R1; it takes nothing away from R1: 10,000 × 10% = 1,000.00
    no_rollup = HEADER + "credit team from deals\n  to owner\n  amount deal.amount\n  dated deal.close_date\n"
    no_rollup += 'measure team_total = sum of team\ncomponent commission "Commission"\n  on team_total\n  rate 10%\n'
    rolled = calc(team_plan("rolled up to the top"), company(ONE_DEAL), "2026-Q1")
    plain = calc(no_rollup, company(ONE_DEAL), "2026-Q1")
    assert line_amounts(rolled, "R1") == line_amounts(plain, "R1") == {"commission": Decimal("1000.00")}


def test_the_recipient_keeps_their_role_and_the_managers_get_rollup_credits() -> None:
    credits = credits_of(team_plan("rolled up 2 levels"), company(ONE_DEAL))
    assert [(c.role, c.share) for c in credits["R1"]] == [("owner", Decimal(1))]
    assert [(c.role, c.share) for c in credits["M1"]] == [("rollup 1 via R1 (owner)", Decimal(1))]
    assert [(c.role, c.share) for c in credits["D1"]] == [("rollup 2 via R1 (owner)", Decimal(1))]


def test_a_split_rolls_up_each_partners_share_to_that_partners_manager() -> None:
    # X1 10,000 split R1 60% / R2 40%; R1 -> M1, R2 -> M2 (both -> D1), rolled up 1 level:
    # M1 6,000 (via R1), M2 4,000 (via R2), D1 nothing
    text = team_plan("rolled up 1 levels").replace("to owner", "to deal splits")
    reporting = all_year([("R1", "M1"), ("R2", "M2"), ("M1", "D1"), ("M2", "D1")])
    data = company([deal("X1", "R1", "10000", "2026-02-10", splits={"R1": "60", "R2": "40"})], reporting, ("R1", "R2", "M1", "M2", "D1"))
    assert credited(text, data) == {
        "R1": {"X1": Decimal("6000.00")},
        "R2": {"X1": Decimal("4000.00")},
        "M1": {"X1": Decimal("6000.00")},
        "M2": {"X1": Decimal("4000.00")},
    }


# ------------------------------------------------------------------ the line in effect on the credit date
MOVE = lines(("R1", "M1", "2026-01-01", "2026-07-01"), ("R1", "M2", "2026-07-01", None))
MOVERS = ("R1", "M1", "M2")


def test_a_deal_before_a_change_of_manager_rolls_up_to_the_old_manager() -> None:
    # R1 reports to M1 until 2026-07-01 (exclusive), then to M2
    data = company([deal("X1", "R1", "10000", "2026-06-30")], MOVE, MOVERS)
    assert set(credited(team_plan("rolled up 1 levels"), data)) == {"R1", "M1"}


def test_a_deal_on_the_day_of_the_change_rolls_up_to_the_new_manager() -> None:
    # a reporting line is half-open: from 2026-07-01 R1 is M2's
    data = company([deal("X1", "R1", "10000", "2026-07-01")], MOVE, MOVERS)
    assert set(credited(team_plan("rolled up 1 levels"), data)) == {"R1", "M2"}


def test_a_mid_year_change_of_manager_splits_the_year_between_the_managers() -> None:
    # X1 20,000 in Q1 -> M1: 2,000.00 in Q1; X2 30,000 in Q3 -> M2: 3,000.00 in Q3.
    # M1 gets nothing in Q3, M2 nothing in Q1, even though both periods are looked at later.
    deals = [deal("X1", "R1", "20000", "2026-02-01"), deal("X2", "R1", "30000", "2026-08-15")]
    data = company(deals, MOVE, MOVERS)
    text = team_plan("rolled up 1 levels")
    q1, q3 = calc(text, data, "2026-Q1"), calc(text, data, "2026-Q3")
    assert (line_amounts(q1, "M1"), line_amounts(q1, "M2")) == ({"commission": Decimal("2000.00")}, {"commission": Decimal("0.00")})
    assert (line_amounts(q3, "M1"), line_amounts(q3, "M2")) == ({"commission": Decimal("0.00")}, {"commission": Decimal("3000.00")})


def test_a_change_of_manager_inside_a_quarter_goes_deal_by_deal() -> None:
    # R1 moves from M1 to M2 on 2026-02-15. Q1: X1 1,000 (02-01) -> M1: 100.00; X2 2,000 (03-01) -> M2: 200.00
    move = lines(("R1", "M1", "2026-01-01", "2026-02-15"), ("R1", "M2", "2026-02-15", None))
    deals = [deal("X1", "R1", "1000", "2026-02-01"), deal("X2", "R1", "2000", "2026-03-01")]
    result = calc(team_plan("rolled up 1 levels"), company(deals, move, MOVERS), "2026-Q1")
    assert line_amounts(result, "M1") == {"commission": Decimal("100.00")}
    assert line_amounts(result, "M2") == {"commission": Decimal("200.00")}


def test_the_reporting_line_is_read_on_the_credit_date_not_the_close_date() -> None:
    # closed 2026-06-20 (M1's time) but dated 30 days later, 2026-07-20 (M2's time) -> M2
    data = company([deal("X1", "R1", "10000", "2026-06-20")], MOVE, MOVERS)
    text = team_plan("rolled up 1 levels", dated="deal.close_date + 30 days")
    result = credits_of(text, data)
    assert set(result) == {"R1", "M2"}
    assert result["M2"][0].date == d("2026-07-20")


def test_a_manager_moving_changes_the_chain_above_for_later_deals_only() -> None:
    # M1 moves from D1 to D2 on 2026-04-01; R1 stays with M1. Rolled up 2 levels:
    # X1 (Q1) reaches D1, X2 (Q2) reaches D2.
    reporting = lines(("R1", "M1", "2026-01-01", None), ("M1", "D1", "2026-01-01", "2026-04-01"), ("M1", "D2", "2026-04-01", None))
    deals = [deal("X1", "R1", "1000", "2026-03-31"), deal("X2", "R1", "2000", "2026-04-01")]
    result = credited(team_plan("rolled up 2 levels"), company(deals, reporting, ("R1", "M1", "D1", "D2")))
    assert result["D1"] == {"X1": Decimal("1000")}
    assert result["D2"] == {"X2": Decimal("2000")}
    assert result["M1"] == {"X1": Decimal("1000"), "X2": Decimal("2000")}


def test_a_gap_in_the_reporting_lines_stops_the_rollup_for_deals_in_the_gap() -> None:
    # R1 has no manager from 2026-03-01 to 2026-04-01: X1 (03-10) reaches no one above R1
    reporting = lines(("R1", "M1", "2026-01-01", "2026-03-01"), ("R1", "M1", "2026-04-01", None))
    data = company([deal("X1", "R1", "1000", "2026-03-10")], reporting, ("R1", "M1"))
    assert set(credited(team_plan("rolled up to the top"), data)) == {"R1"}


# ------------------------------------------------------------------ cycles
def test_a_cycle_in_the_reporting_lines_is_an_error_naming_the_people_in_it() -> None:
    # R1 -> M1 -> D1 -> M1 ...
    reporting = all_year([("R1", "M1"), ("M1", "D1"), ("D1", "M1")])
    data = company(ONE_DEAL, reporting, ("R1", "M1", "D1"))
    with pytest.raises(EvaluationError) as raised:
        calc(team_plan("rolled up to the top"), data, "2026-Q1")
    message = str(raised.value)
    assert "M1 → D1 → M1" in message
    assert "2026-02-10" in message  # the day the lines were read on


def test_someone_reporting_to_themselves_is_a_cycle() -> None:
    reporting = all_year([("R1", "M1"), ("M1", "M1")])
    with pytest.raises(EvaluationError, match="R1 → M1 → M1"):
        calc(team_plan("rolled up to the top"), company(ONE_DEAL, reporting, ("R1", "M1")), "2026-Q1")


def test_a_cycle_is_found_even_when_the_rollup_is_limited_in_levels() -> None:
    # 2 levels from R1 reach M1 and D1; the loop closes at level 3, so 2 levels do not walk into it
    # but 3 levels do.
    reporting = all_year([("R1", "M1"), ("M1", "D1"), ("D1", "M1")])
    data = company(ONE_DEAL, reporting, ("R1", "M1", "D1"))
    assert set(credited(team_plan("rolled up 2 levels"), data)) == {"R1", "M1", "D1"}
    with pytest.raises(EvaluationError, match="go round in a circle"):
        credited(team_plan("rolled up 3 levels"), data)


def test_a_cycle_outside_the_dates_of_the_deals_is_not_walked() -> None:
    # the loop D1 -> M1 exists only in Q4; a Q1 deal rolls up R1 -> M1 -> D1 and stops
    reporting = lines(("R1", "M1", "2026-01-01", None), ("M1", "D1", "2026-01-01", None), ("D1", "M1", "2026-10-01", None))
    data = company(ONE_DEAL, reporting, ("R1", "M1", "D1"))
    assert set(credited(team_plan("rolled up to the top"), data)) == {"R1", "M1", "D1"}


# ------------------------------------------------------------------ team attainment
TEAM_TIERS = (
    HEADER
    + """
credit team from deals
  to owner
  rolled up 1 levels
  amount deal.amount
  dated deal.close_date

measure team_total = sum of team
quota team_quota = "team" annual spread evenly

component team_bonus "Team bonus"
  on team_total
  marginal tiers on attainment against team_quota for the period
    below 100%: 2%
    100% and above: 5%
"""
)


def test_team_attainment_is_the_managers_rolled_up_credit_over_the_managers_quota() -> None:
    # M1's quota 400,000 a year = 100,000 in Q1. R1 70,000 + R2 50,000 = 120,000 (120%).
    # marginal: 100,000 × 2% = 2,000 + 20,000 × 5% = 1,000 -> 3,000.00
    reporting = all_year([("R1", "M1"), ("R2", "M1")])
    deals = [deal("X1", "R1", "70000", "2026-01-20"), deal("X2", "R2", "50000", "2026-03-05")]
    data = only_assigned(company(deals, reporting, ("M1", "R1", "R2"), quotas={("M1", "team", "FY2026"): 400_000}), "M1")
    result = calc(TEAM_TIERS, data, "2026-Q1")
    assert line_amounts(result, "M1") == {"team_bonus": Decimal("3000.00")}


def test_team_attainment_with_a_rate_on_the_attainment() -> None:
    # a bonus of the target incentive × attainment: M1's target 100,000 a year = 25,000 a quarter;
    # team 60,000 of a 100,000 quarterly quota = 60% -> 25,000 × 60% = 15,000.00
    text = team_plan(
        "rolled up 1 levels",
        extra="""
quota team_quota = "team" annual spread evenly
let team_attainment = team_total / team_quota for the period

component attainment_bonus "Attainment bonus"
  pays target incentive for the period × team_attainment
""",
    )
    reporting = all_year([("R1", "M1"), ("R2", "M1")])
    deals = [deal("X1", "R1", "45000", "2026-01-20"), deal("X2", "R2", "15000", "2026-03-05")]
    data = only_assigned(company(deals, reporting, ("M1", "R1", "R2"), quotas={("M1", "team", "FY2026"): 400_000}), "M1")
    result = calc(text, data, "2026-Q1")
    # commission: 60,000 × 10% = 6,000.00
    assert line_amounts(result, "M1") == {"commission": Decimal("6000.00"), "attainment_bonus": Decimal("15000.00")}


# ------------------------------------------------------------------ the trace
def test_the_trace_shows_the_rollup_path_of_a_managers_credit() -> None:
    per_credit = HEADER + (
        "credit team from deals\n  to owner\n  rolled up 2 levels\n  amount deal.amount\n  dated deal.close_date\n"
        'component commission "Commission"\n  per credit of team\n  rate 10%\n'
    )
    result = calc(per_credit, company(ONE_DEAL), "2026-Q1")
    statement = result.statement("D1")
    line = statement.lines[0]
    node = build_line_trace(statement, line)
    assert verify(node) == []
    credit = next(n for n in node.walk() if n.kind == "credit" and "paths" in n.detail)
    assert credit.detail["role"] == "rollup 2 via R1 (owner)"
    assert credit.detail["paths"] == [{"path": "rollup 2 via R1 (owner)", "share": Decimal(1)}]
    text = explain_line(node)
    assert "rollup 2 via R1 (owner)" in text
    m1 = result.statement("M1")
    assert "rollup 1 via R1 (owner)" in explain_line(build_line_trace(m1, m1.lines[0]))


# ------------------------------------------------------------------ whose credits are kept
def test_crediting_can_keep_only_the_plans_own_payees_and_still_rolls_up_from_the_others() -> None:
    # R1 is on another plan: their own 10,000 is not kept, but it still reaches M1 (rollup 1)
    plan = compile_text(team_plan("rolled up 1 levels"))
    data = company(ONE_DEAL)
    deal_attrs, payee_attrs = typed_attributes(plan, data)
    crediting = Crediting(plan, data.payees, payee_attrs, Hierarchy(data.reporting_lines), FxTable(data.exchange_rates))
    kept = crediting.credit(data.deals, deal_attrs, {"M1", "D1"})
    assert {payee: [(c.deal.id, c.amount, c.role) for c in credits] for payee, credits in kept.items()} == {
        "M1": [("X1", Decimal("10000"), "rollup 1 via R1 (owner)")]
    }


def test_a_rep_off_the_plan_still_rolls_up_to_a_manager_on_it() -> None:
    # only M1 is on the plan: 10% of the 10,000 rolled up from R1 = 1,000.00
    data = only_assigned(company(ONE_DEAL), "M1")
    assert line_amounts(calc(team_plan("rolled up 1 levels"), data, "2026-Q1"), "M1") == {"commission": Decimal("1000.00")}


def test_a_deal_that_can_reach_nobody_on_the_plan_is_not_worked_out_for_it() -> None:
    # X2's owner R2 is on no plan and reports to nobody on it: its empty `bonus_base` (read by
    # the amount, no default) cannot stop the plan.  M1 is paid on X1 rolled up from R1: 10% of 10,000
    text = team_plan("rolled up 1 levels").replace("amount deal.amount", "amount deal.bonus_base")
    text = text.replace("credit team from deals", "deal attribute bonus_base: money\n\ncredit team from deals")
    deals = [deal("X1", "R1", "10000", "2026-02-10", bonus_base="10000"), deal("X2", "R2", "5000", "2026-02-11")]
    reporting = all_year((*CHAIN, ("R2", "C1")))
    data = only_assigned(company(deals, reporting, (*PEOPLE, "R2")), "M1")
    assert line_amounts(calc(text, data, "2026-Q1"), "M1") == {"commission": Decimal("1000.00")}


def test_the_same_deal_reaching_someone_on_the_plan_is_still_worked_out_and_its_error_shown() -> None:
    # the same empty `bonus_base`, but R2 reports to M1 (on the plan): the error names the field
    text = team_plan("rolled up 1 levels").replace("amount deal.amount", "amount deal.bonus_base")
    text = text.replace("credit team from deals", "deal attribute bonus_base: money\n\ncredit team from deals")
    deals = [deal("X2", "R2", "5000", "2026-02-11")]
    data = only_assigned(company(deals, all_year((*CHAIN, ("R2", "M1"))), (*PEOPLE, "R2")), "M1")
    with pytest.raises(EvaluationError, match="bonus_base"):
        calc(text, data, "2026-Q1")


def test_everyone_who_ever_reported_within_the_levels_can_roll_up_to_a_manager() -> None:
    # R1 reported to M1 until July, then to M2; R3 reports to R1.  Within 1 level of M1: R1 only;
    # within 2: R3 too; M2 is never below M1
    reporting = lines(("R1", "M1", "2026-01-01", "2026-07-01"), ("R1", "M2", "2026-07-01", None), ("R3", "R1", "2026-01-01", None))
    hierarchy = Hierarchy(reporting)
    assert hierarchy.ever_below(["M1"], 1) == {"M1", "R1"}
    assert hierarchy.ever_below(["M1"], 2) == {"M1", "R1", "R3"}
    assert hierarchy.ever_below(["M1", "M2"], None) == {"M1", "M2", "R1", "R3"}
