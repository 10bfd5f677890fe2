"""Duplicate-credit control: one payee reached by several paths of one credit rule.

`duplicate credit counts once` (the default) gives such a payee one credit whose share is
the sum of the paths' shares, at most 100% of the deal; `duplicate credit counts per path`
gives one credit per path.  Amounts checked by hand; every deal is 10,000 USD closed in Q1.

The plan pays 10% of each credit and a 100 USD spiff per credit, so the number of credits a
payee gets shows on the statement as well as the credited amount.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

import pytest

from compengine.core.calculation import typed_attributes
from compengine.core.crediting import Credit, Crediting
from compengine.core.data import Dataset, Deal, ReportingLine
from compengine.core.fx import FxTable
from compengine.core.hierarchy import Hierarchy
from compengine.core.money import ONE
from compengine.core.trace import build_line_trace, verify
from compengine.report.explain import explain_line
from tests.support import HEADER, calc, compile_text, d, dataset, deal, line_amounts, payee

ONCE = "duplicate credit counts once"
PER_PATH = "duplicate credit counts per path"


def plan(recipients: str, rollup: str = "rolled up 1 levels", duplicates: str = "") -> str:
    return (
        HEADER
        + f"""
payee attribute territory: text, default ""
deal attribute territory: text, default ""

credit team from deals
  to {recipients}
  {rollup}
  {duplicates}
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of team
  rate 10%

component spiff "Spiff per credit"
  per credit of team
  pays 100 USD
"""
    )


def company(deals: Iterable[Deal], reporting: Iterable[tuple[str, str]], people: Iterable[str], **territories: str) -> Dataset:
    payees = [payee(p, territory=territories.get(p, "")) for p in people]
    lines = tuple(ReportingLine(p, m, d("2026-01-01"), None) for p, m in reporting)
    return dataclasses.replace(dataset(payees, deals), reporting_lines=lines)


def credits_of(text: str, data: Dataset) -> dict[str, list[Credit]]:
    compiled = compile_text(text)
    deal_attrs, payee_attrs = typed_attributes(compiled, data)
    crediting = Crediting(compiled, data.payees, payee_attrs, Hierarchy(data.reporting_lines), FxTable(data.exchange_rates))
    return crediting.credit(data.deals, deal_attrs)


def shares(credits: list[Credit]) -> list[tuple[str, Decimal, Decimal]]:
    """(role, share, credited amount) of each credit, in a stable order.  A role counted once
    lists its paths in the order they were found: the recipients as written, each followed by
    the managers its credit rolls up to."""
    return sorted((c.role, c.share, c.amount) for c in credits)


# ------------------------------------------------------------------ a split partner who manages the other partner
# X1 10,000 split R1 60% / M1 40%; R1 reports to M1; the rule rolls up 1 level.
# M1 is reached twice: as a split partner (40%) and as R1's manager (60%).
PARTNER_MANAGER = company([deal("X1", "R1", "10000", "2026-02-10", splits={"R1": "60", "M1": "40"})], [("R1", "M1")], ["R1", "M1"])


def test_a_partner_who_manages_the_other_partner_is_credited_once_by_default() -> None:
    # one credit: 40% + 60% = 100% of 10,000 = 10,000
    credits = credits_of(plan("deal splits"), PARTNER_MANAGER)
    assert shares(credits["M1"]) == [("rollup 1 via R1 (split) + split", ONE, Decimal("10000.00"))]


def test_counts_once_is_the_default() -> None:
    explicit = credits_of(plan("deal splits", duplicates=ONCE), PARTNER_MANAGER)
    default = credits_of(plan("deal splits"), PARTNER_MANAGER)
    assert explicit == default


def test_a_partner_who_manages_the_other_partner_counted_per_path_gets_a_credit_per_path() -> None:
    # split 40% = 4,000; rollup via R1's 60% = 6,000
    credits = credits_of(plan("deal splits", duplicates=PER_PATH), PARTNER_MANAGER)
    assert shares(credits["M1"]) == [
        ("rollup 1 via R1 (split)", Decimal("0.6"), Decimal("6000.00")),
        ("split", Decimal("0.4"), Decimal("4000.00")),
    ]


def test_a_partner_who_manages_the_other_partner_on_the_statement_once_vs_per_path() -> None:
    # once: commission 10,000 × 10% = 1,000.00, one spiff 100.00
    # per path: 4,000 × 10% + 6,000 × 10% = 1,000.00, two spiffs 200.00
    once = calc(plan("deal splits"), PARTNER_MANAGER, "2026-Q1")
    per_path = calc(plan("deal splits", duplicates=PER_PATH), PARTNER_MANAGER, "2026-Q1")
    assert line_amounts(once, "M1") == {"commission": Decimal("1000.00"), "spiff": Decimal("100.00")}
    assert line_amounts(per_path, "M1") == {"commission": Decimal("1000.00"), "spiff": Decimal("200.00")}


def test_the_other_partner_is_not_affected_by_the_duplicate_control() -> None:
    # R1: 60% = 6,000 either way -> 600.00 commission, 100.00 spiff
    for duplicates in (ONCE, PER_PATH):
        result = calc(plan("deal splits", duplicates=duplicates), PARTNER_MANAGER, "2026-Q1")
        assert line_amounts(result, "R1") == {"commission": Decimal("600.00"), "spiff": Decimal("100.00")}


# ------------------------------------------------------------------ an overlay and a rollup reaching one manager
# R1 owns X1 (EMEA) and reports to M1; M1 is the EMEA overlay.
OVERLAY_AND_ROLLUP = company([deal("X1", "R1", "10000", "2026-02-10", territory="EMEA")], [("R1", "M1")], ["R1", "M1"], M1="EMEA")
OVERLAY = "owner, payees where payee.territory == deal.territory"


def test_an_overlay_and_a_rollup_to_the_same_manager_count_once_as_100_percent_of_the_deal() -> None:
    # overlay 100% + rollup 100% = 200%, capped at 100%: 10,000; commission 1,000.00, one spiff
    credits = credits_of(plan(OVERLAY), OVERLAY_AND_ROLLUP)
    assert shares(credits["M1"]) == [("rollup 1 via R1 (owner) + overlay", ONE, Decimal("10000"))]
    result = calc(plan(OVERLAY), OVERLAY_AND_ROLLUP, "2026-Q1")
    assert line_amounts(result, "M1") == {"commission": Decimal("1000.00"), "spiff": Decimal("100.00")}


def test_an_overlay_and_a_rollup_to_the_same_manager_counted_per_path_are_200_percent_of_the_deal() -> None:
    # two credits of 10,000: 20,000 credited; commission 2,000.00, two spiffs 200.00
    credits = credits_of(plan(OVERLAY, duplicates=PER_PATH), OVERLAY_AND_ROLLUP)
    assert shares(credits["M1"]) == [("overlay", ONE, Decimal("10000")), ("rollup 1 via R1 (owner)", ONE, Decimal("10000"))]
    assert sum(c.amount for c in credits["M1"]) == Decimal("20000")
    result = calc(plan(OVERLAY, duplicates=PER_PATH), OVERLAY_AND_ROLLUP, "2026-Q1")
    assert line_amounts(result, "M1") == {"commission": Decimal("2000.00"), "spiff": Decimal("200.00")}


def test_counts_once_caps_at_100_percent_also_two_levels_up() -> None:
    # M1 -> D1 too, rolled up 2 levels: D1 is reached via M1's overlay (level 1) and via R1 (level 2)
    data = company(OVERLAY_AND_ROLLUP.deals, [("R1", "M1"), ("M1", "D1")], ["R1", "M1", "D1"], M1="EMEA")
    once = credits_of(plan(OVERLAY, rollup="rolled up 2 levels"), data)
    assert shares(once["D1"]) == [("rollup 2 via R1 (owner) + rollup 1 via M1 (overlay)", ONE, Decimal("10000"))]
    per_path = credits_of(plan(OVERLAY, rollup="rolled up 2 levels", duplicates=PER_PATH), data)
    assert sum(c.amount for c in per_path["D1"]) == Decimal("20000")


# ------------------------------------------------------------------ two partners under one manager
# X1 10,000 split R1 60% / R2 40%, both reporting to M1.
TWO_PARTNERS = company(
    [deal("X1", "R1", "10000", "2026-02-10", splits={"R1": "60", "R2": "40"})], [("R1", "M1"), ("R2", "M1")], ["R1", "R2", "M1"]
)


def test_two_partners_under_one_manager_roll_up_to_one_credit_of_60_plus_40_percent() -> None:
    # 60% + 40% = 100%: 10,000 once; commission 1,000.00, one spiff
    credits = credits_of(plan("deal splits"), TWO_PARTNERS)
    assert shares(credits["M1"]) == [("rollup 1 via R1 (split) + rollup 1 via R2 (split)", ONE, Decimal("10000.00"))]
    assert line_amounts(calc(plan("deal splits"), TWO_PARTNERS, "2026-Q1"), "M1") == {
        "commission": Decimal("1000.00"),
        "spiff": Decimal("100.00"),
    }


def test_two_partners_under_one_manager_counted_per_path_are_two_credits_adding_to_the_deal() -> None:
    # 6,000 + 4,000 = 10,000; commission 600.00 + 400.00 = 1,000.00, two spiffs 200.00
    credits = credits_of(plan("deal splits", duplicates=PER_PATH), TWO_PARTNERS)
    assert shares(credits["M1"]) == [
        ("rollup 1 via R1 (split)", Decimal("0.6"), Decimal("6000.00")),
        ("rollup 1 via R2 (split)", Decimal("0.4"), Decimal("4000.00")),
    ]
    assert line_amounts(calc(plan("deal splits", duplicates=PER_PATH), TWO_PARTNERS, "2026-Q1"), "M1") == {
        "commission": Decimal("1000.00"),
        "spiff": Decimal("200.00"),
    }


def test_shares_below_100_percent_are_added_not_raised_to_100_percent() -> None:
    # X1 split R1 30% / R2 30% / R3 40%; only R1 and R2 report to M1: 30% + 30% = 60% = 6,000
    deals = [deal("X1", "R1", "10000", "2026-02-10", splits={"R1": "30", "R2": "30", "R3": "40"})]
    data = company(deals, [("R1", "M1"), ("R2", "M1")], ["R1", "R2", "R3", "M1"])
    credits = credits_of(plan("deal splits"), data)
    assert shares(credits["M1"]) == [("rollup 1 via R1 (split) + rollup 1 via R2 (split)", Decimal("0.6"), Decimal("6000.00"))]


def test_two_overlays_of_one_rule_matching_one_payee_counted_per_path_are_two_credits_with_distinct_ids() -> None:
    # M1 matches both `payees where` recipients: two identical "overlay" paths, two credits
    text = plan('owner, payees where payee.territory == deal.territory, payees where payee.territory != ""', rollup="", duplicates=PER_PATH)
    credits = credits_of(text, OVERLAY_AND_ROLLUP)
    assert [c.amount for c in credits["M1"]] == [Decimal("10000"), Decimal("10000")]
    assert len({c.id for c in credits["M1"]}) == 2
    once = credits_of(text.replace(PER_PATH, ONCE), OVERLAY_AND_ROLLUP)
    assert shares(once["M1"]) == [("overlay + overlay", ONE, Decimal("10000"))]


# ------------------------------------------------------------------ the trace
def _credit_nodes(result_text: str, data: Dataset, payee_id: str) -> tuple[list[dict[str, object]], str]:
    statement = calc(result_text, data, "2026-Q1").statement(payee_id)
    line = statement.lines[0]
    node = build_line_trace(statement, line)
    assert verify(node) == []
    details = [n.detail for n in node.walk() if n.kind == "credit" and "paths" in n.detail]
    return details, explain_line(node)


def test_the_trace_of_a_credit_counted_once_lists_every_path_with_its_share() -> None:
    details, text = _credit_nodes(plan("deal splits"), TWO_PARTNERS, "M1")
    assert [detail["paths"] for detail in details] == [
        [{"path": "rollup 1 via R1 (split)", "share": Decimal("0.6")}, {"path": "rollup 1 via R2 (split)", "share": Decimal("0.4")}]
    ]
    assert details[0]["share"] == ONE
    assert "rollup 1 via R1 (split) 60% + rollup 1 via R2 (split) 40%" in text


def test_the_trace_says_when_paths_were_capped_to_count_once() -> None:
    details, text = _credit_nodes(plan(OVERLAY), OVERLAY_AND_ROLLUP, "M1")
    assert details[0]["paths"] == [{"path": "rollup 1 via R1 (owner)", "share": ONE}, {"path": "overlay", "share": ONE}]
    assert "rollup 1 via R1 (owner) 100% + overlay 100% counted once" in text


def test_the_trace_of_credits_counted_per_path_shows_one_path_per_credit() -> None:
    details, text = _credit_nodes(plan(OVERLAY, duplicates=PER_PATH), OVERLAY_AND_ROLLUP, "M1")
    assert sorted(str(detail["role"]) for detail in details) == ["overlay", "rollup 1 via R1 (owner)"]
    assert all(len(detail["paths"]) == 1 for detail in details)  # type: ignore[arg-type]
    assert "counted once" not in text


@pytest.mark.parametrize("duplicates", [ONCE, PER_PATH])
def test_duplicate_control_never_changes_the_total_credited_to_the_direct_recipients(duplicates: str) -> None:
    # R1 owner 10,000 in both modes
    credits = credits_of(plan(OVERLAY, duplicates=duplicates), OVERLAY_AND_ROLLUP)
    assert shares(credits["R1"]) == [("owner", ONE, Decimal("10000"))]
