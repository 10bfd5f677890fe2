"""Plan versions: `revision N effective <date>` changes a plan from a date on.

A revision's declarations replace those of the same name (and kind); everything else carries
over.  Each version is compiled on its own and is in force from its date until the next
revision or the plan's end.  A statement follows the version in force on the period's last
day; each credit of a per-credit component is paid under the version in force on its credit
date.  Revision numbers must increase and their dates must be in order inside the plan (E016).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from compengine.core.calculation import CalculationResult, calculate, statement_json
from compengine.core.data import Dataset, Deal
from compengine.core.timeline import Interval
from compengine.core.trace import build_line_trace
from compengine.lang.diagnostics import Diagnostic, Severity
from compengine.lang.loader import PlanSource, compile_source
from compengine.report.explain import explain_line
from tests.support import HEADER, OWNER_BOOKINGS, d, dataset, deal, payee

COMMISSION = """
component commission "Commission"
  per credit of bookings
  rate commission_rate
"""

RATE_UP = (
    HEADER
    + OWNER_BOOKINGS
    + """
parameter commission_rate = 5%
"""
    + COMMISSION
    + """
revision 2 effective 2026-02-15 "Rate up"

parameter commission_rate = 8%
"""
)

#: The day before the revision and the day it starts.
AROUND_THE_REVISION = [deal("D1", "P1", 100_000, "2026-02-14"), deal("D2", "P1", 100_000, "2026-02-15")]


def compiled(text: str) -> PlanSource:
    source = compile_source("test.comp", text)
    assert source.plan is not None, [d.message for d in source.diagnostics]
    return source


def run(text: str, deals: list[Deal], period: str = "2026-Q1", data: Dataset | None = None) -> CalculationResult:
    return calculate(compiled(text).versions, data or dataset([payee("P1")], deals), period)


def payouts(result: CalculationResult) -> dict[str, Decimal]:
    [line] = [line for line in result.statement("P1").lines if line.component.name == "commission"]
    return {p.deal_id: p.payout for p in line.credits}


def errors(text: str) -> list[Diagnostic]:
    return [x for x in compile_source("test.comp", text).diagnostics if x.severity is Severity.ERROR]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# ---------------------------------------------------------------------- versions
def test_each_revision_is_a_version_in_force_from_its_date() -> None:
    source = compiled(RATE_UP)
    assert [(v.version, v.in_force, v.revision_note) for v in source.versions] == [
        (1, Interval(d("2026-01-01"), d("2026-02-15")), None),
        (2, Interval(d("2026-02-15"), d("2027-01-01")), "Rate up"),
    ]
    assert len({v.source_sha256 for v in source.versions}) == 1, "one file, one content hash"


def test_deals_before_and_after_a_revision_in_one_quarter_are_paid_under_their_own_versions() -> None:
    # D1 (2026-02-14) under version 1: 100,000 × 5% = 5,000.00
    # D2 (2026-02-15) under version 2: 100,000 × 8% = 8,000.00; line 13,000.00
    result = run(RATE_UP, AROUND_THE_REVISION)
    assert payouts(result) == {"D1": Decimal("5000.00"), "D2": Decimal("8000.00")}
    assert result.statement("P1").total == Decimal("13000.00")


def test_a_revision_replaces_a_rate_table() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
table commission_rate: percent by deal.product
  "software": 5%
  otherwise: 2%
"""
        + COMMISSION
        + """
revision 2 effective 2026-03-01

table commission_rate: percent by deal.product
  "software": 7%
  otherwise: 3%
"""
    )
    deals = [
        deal("D1", "P1", 100_000, "2026-02-28"),
        deal("D2", "P1", 100_000, "2026-02-28", product="hardware"),
        deal("D3", "P1", 100_000, "2026-03-01"),
        deal("D4", "P1", 100_000, "2026-03-01", product="hardware"),
    ]
    # version 1: D1 software 5% = 5,000; D2 hardware 2% = 2,000
    # version 2: D3 software 7% = 7,000; D4 hardware 3% = 3,000
    assert payouts(run(text, deals)) == {
        "D1": Decimal("5000.00"),
        "D2": Decimal("2000.00"),
        "D3": Decimal("7000.00"),
        "D4": Decimal("3000.00"),
    }


def test_a_revision_replaces_a_component_and_its_tiers_see_the_whole_running_total() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
component commission "Commission"
  per credit of bookings
  rate 5%

revision 2 effective 2026-03-01 "Marginal tiers"

component commission "Commission"
  per credit of bookings
  ordered by deal.close_date, deal.id
  marginal tiers on amount
    below 50,000 USD: 5%
    50,000 USD and above: 10%
"""
    )
    # D1 (2026-02-28) under version 1, a flat 5%: 40,000 × 5% = 2,000.00
    # D2 (2026-03-01) under version 2's tiers, running total 40,000 → 80,000:
    #   10,000 × 5% = 500 + 30,000 × 10% = 3,000 → 3,500.00
    deals = [deal("D1", "P1", 40_000, "2026-02-28"), deal("D2", "P1", 40_000, "2026-03-01")]
    assert payouts(run(text, deals)) == {"D1": Decimal("2000.00"), "D2": Decimal("3500.00")}


def test_a_revision_can_add_a_definition_and_a_component() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
component commission "Commission"
  per credit of bookings
  rate 5%

revision 2 effective 2026-04-01 "Quarterly kicker"

parameter kicker = 500 USD

component kicker_line "Kicker"
  pays kicker
"""
    )
    deals = [deal("D1", "P1", 40_000, "2026-02-28"), deal("D2", "P1", 40_000, "2026-04-28")]
    q1, q2 = run(text, deals, "2026-Q1"), run(text, deals, "2026-Q2")
    # Q1 under version 1: 40,000 × 5% = 2,000.00, no kicker line
    assert {line.component.name: line.amount for line in q1.statement("P1").lines} == {"commission": Decimal("2000.00")}
    # Q2 under version 2: 2,000.00 and the 500.00 kicker
    assert {line.component.name: line.amount for line in q2.statement("P1").lines} == {
        "commission": Decimal("2000.00"),
        "kicker_line": Decimal("500.00"),
    }


def test_period_level_values_follow_the_version_in_force_at_the_period_end() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
measure booked = sum of bookings for the period
parameter bonus_rate = 1%

component bonus "Bonus"
  on booked
  rate bonus_rate

revision 2 effective 2026-02-15

parameter bonus_rate = 2%
"""
    )
    # the Q1 statement follows version 2 (in force on 2026-03-31): (100,000 + 100,000) × 2% = 4,000.00
    result = run(text, AROUND_THE_REVISION)
    assert [line.amount for line in result.statement("P1").lines] == [Decimal("4000.00")]


# ---------------------------------------------------------------------- statement and trace
def test_the_statement_names_the_version_in_force_at_the_period_end() -> None:
    result = run(RATE_UP, AROUND_THE_REVISION)
    statement = result.statement("P1")
    assert statement.plan.version == 2
    assert statement_json(statement)["plan_version"] == 2
    later = RATE_UP.replace("revision 2 effective 2026-02-15", "revision 2 effective 2026-04-01")
    assert run(later, AROUND_THE_REVISION).statement("P1").plan.version == 1


def test_the_trace_names_the_version_a_credit_was_paid_under() -> None:
    statement = run(RATE_UP, AROUND_THE_REVISION).statement("P1")
    trace = build_line_trace(statement, statement.lines[0])
    assert trace.detail["plan_version"] == 2
    credits = {n.detail["deal"]: n for n in trace.walk() if n.kind == "credit" and "plan_version" in n.detail}
    # only a credit paid under another version than the statement's says so
    assert (credits["D1"].detail["plan_version"], credits["D2"].detail["plan_version"]) == (1, None)
    rates = {n.source.line for n in credits["D1"].walk() if n.kind == "parameter" and n.source is not None}
    assert rates == {line_of(RATE_UP, "parameter commission_rate = 5%")}
    explained = explain_line(trace)
    assert "paid under plan version 1, in force on the credit date" in explained
    assert "[plan test_plan v2]" in explained


# ---------------------------------------------------------------------- E016
BASE = HEADER + OWNER_BOOKINGS + "\nparameter commission_rate = 5%\n" + COMMISSION


@pytest.mark.parametrize(
    ("marker", "message", "hint"),
    [
        ("revision 1 effective 2026-03-01", "revision 1 does not come after version 1", "number it 2 or higher"),
        (
            "revision 2 effective 2026-01-01",
            "revision 2 starts on 2026-01-01: not after 2026-01-01 and before the plan ends on 2027-01-01",
            "date each revision after the one before it, inside the plan's effective range",
        ),
        (
            "revision 2 effective 2025-12-01",
            "revision 2 starts on 2025-12-01: not after 2026-01-01 and before the plan ends on 2027-01-01",
            "date each revision after the one before it, inside the plan's effective range",
        ),
        (
            "revision 2 effective 2027-01-01",
            "revision 2 starts on 2027-01-01: not after 2026-01-01 and before the plan ends on 2027-01-01",
            "date each revision after the one before it, inside the plan's effective range",
        ),
    ],
)
def test_a_revision_out_of_order_or_outside_the_plan_is_e016(marker: str, message: str, hint: str) -> None:
    text = BASE + f"\n{marker}\n\nparameter commission_rate = 6%\n"
    [found] = errors(text)
    assert (found.code, found.message, found.hint) == ("E016", message, hint)
    assert (found.span.line, found.span.column, found.span.end_column) == (line_of(text, marker), 1, len(marker) + 1)


def test_revisions_must_follow_each_other_in_number_and_date() -> None:
    text = (
        BASE
        + """
revision 3 effective 2026-06-01
parameter commission_rate = 6%

revision 2 effective 2026-03-01
parameter commission_rate = 7%
"""
    )
    found = errors(text)
    assert [(x.code, x.span.line, x.message) for x in found] == [
        ("E016", line_of(text, "revision 2"), "revision 2 does not come after version 3"),
        (
            "E016",
            line_of(text, "revision 2"),
            "revision 2 starts on 2026-03-01: not after 2026-06-01 and before the plan ends on 2027-01-01",
        ),
    ]


def test_a_revision_is_checked_as_a_version_of_its_own() -> None:
    text = BASE + "\nrevision 2 effective 2026-03-01\n\nparameter commission_rate = 500 USD\n"
    # version 2's commission_rate is money, so version 2's component cannot use it as a rate
    [found] = errors(text)
    assert (found.code, found.message) == ("E031", "a rate must be a percentage or number, but this is money (USD)")
    assert found.span.line == line_of(text, "rate commission_rate")


def test_a_revision_redeclaring_an_attributes_default_reads_the_deals_its_own_way() -> None:
    # no `units` cell: D1 (before the revision) counts 1 unit, D2 (after) counts 2: 100 and 200
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
deal attribute units: count, default 1

component commission "Commission"
  per credit of bookings
  pays 100 USD × deal.units

revision 2 effective 2026-02-15 "Two units unless told"

deal attribute units: count, default 2
"""
    )
    assert payouts(run(text, AROUND_THE_REVISION)) == {"D1": Decimal("100"), "D2": Decimal("200")}


def test_a_deal_closed_before_a_revision_but_dated_after_it_is_credited_by_the_revision() -> None:
    # closed 2026-02-10 (version 1's dates), credited on go-live 2026-02-20 (version 2's): 100,000 × 8% = 8,000
    text = RATE_UP.replace("dated deal.close_date", "dated deal.go_live").replace(
        "parameter commission_rate = 5%", "deal attribute go_live: date\n\nparameter commission_rate = 5%"
    )
    closed_before = [deal("D1", "P1", 100_000, "2026-02-10", go_live="2026-02-20")]
    assert payouts(run(text, closed_before)) == {"D1": Decimal("8000.00")}
