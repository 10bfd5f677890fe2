"""Labelled rules with exceptions: several rules set one value, and an exception overrides the
rules it names when its own condition holds.

Of the rules whose conditions hold, those overridden by an applicable exception (directly or
through other exceptions) drop out, and exactly one must remain.  Two rules that certainly
both apply with no precedence between them are a check error (E061); two whose conditions
only the data can tell apart are an evaluation error naming both rules and the deal.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from compengine.core.errors import EvaluationError
from compengine.core.trace import TraceNode, build_line_trace
from compengine.lang.diagnostics import Diagnostic, Severity
from compengine.report.explain import explain_line
from tests.support import HEADER, OWNER_BOOKINGS, calc, dataset, deal, diagnostics, line_amounts, payee

ATTRIBUTES = """
deal attribute strategic: boolean, default false
deal attribute region: text, default "AMER"
"""

COMMISSION = """
component commission "Commission"
  per credit of bookings
  rate commission_rate
"""

BASE_AND_STRATEGIC = """
rule base sets commission_rate to 5%
rule strategic "Strategic accounts" sets commission_rate to 12% when deal.strategic
  exception to base
"""


def plan(rules: str, component: str = COMMISSION) -> str:
    return HEADER + OWNER_BOOKINGS + ATTRIBUTES + rules + component


def errors(text: str) -> list[Diagnostic]:
    return [d for d in diagnostics(text) if d.severity is Severity.ERROR]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def column_of(text: str, needle: str) -> int:
    index = text.index(needle)
    return index - text.rfind("\n", 0, index)


def rule_records(node: TraceNode) -> list[TraceNode]:
    return [n for n in node.walk() if n.kind == "rule"]


# ---------------------------------------------------------------------- precedence
def test_a_strategic_account_rule_overrides_the_base_rule_for_strategic_deals_only() -> None:
    text = plan(BASE_AND_STRATEGIC)
    assert errors(text) == []
    deals = [deal("D1", "P1", 100_000, "2026-02-01", strategic="true"), deal("D2", "P1", 50_000, "2026-02-02")]
    # D1 is strategic: 100,000 × 12% = 12,000.00; D2 is not: 50,000 × 5% = 2,500.00; line 14,500.00
    result = calc(text, dataset([payee("P1")], deals), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": Decimal("14500.00")}
    [line] = result.statement("P1").lines
    assert [(p.deal_id, p.payout) for p in line.credits] == [("D1", Decimal("12000.00")), ("D2", Decimal("2500.00"))]


def test_an_exception_to_an_exception_wins_where_it_applies_the_most_specific_rule_applying() -> None:
    rules = (
        BASE_AND_STRATEGIC
        + """
rule emea_strategic sets commission_rate to 15% when deal.strategic and deal.region == "EMEA"
  exception to strategic
"""
    )
    deals = [
        deal("D1", "P1", 100_000, "2026-02-01", strategic="true", region="EMEA"),
        deal("D2", "P1", 100_000, "2026-02-02", strategic="true", region="AMER"),
        deal("D3", "P1", 100_000, "2026-02-03", region="EMEA"),
    ]
    # D1 strategic in EMEA: all three rules apply; emea_strategic overrides strategic, which
    #    overrides base: 100,000 × 15% = 15,000.00
    # D2 strategic elsewhere: base and strategic apply; strategic wins: 100,000 × 12% = 12,000.00
    # D3 EMEA but not strategic: only base applies: 100,000 × 5% = 5,000.00
    result = calc(plan(rules), dataset([payee("P1")], deals), "2026-Q1")
    [line] = result.statement("P1").lines
    assert [(p.deal_id, p.payout) for p in line.credits] == [
        ("D1", Decimal("15000.00")),
        ("D2", Decimal("12000.00")),
        ("D3", Decimal("5000.00")),
    ]
    assert line.amount == Decimal("32000.00")


def test_an_exception_also_overrides_the_rules_its_base_overrides_when_its_base_does_not_apply() -> None:
    rules = (
        BASE_AND_STRATEGIC
        + """
rule emea sets commission_rate to 7% when deal.region == "EMEA"
  exception to strategic
"""
    )
    # D1 is in EMEA but not strategic: base and emea apply; emea is an exception to strategic,
    # which is an exception to base, so emea is the more specific: 100,000 × 7% = 7,000.00
    data = dataset([payee("P1")], [deal("D1", "P1", 100_000, "2026-02-01", region="EMEA")])
    assert line_amounts(calc(plan(rules), data, "2026-Q1"), "P1") == {"commission": Decimal("7000.00")}


# ---------------------------------------------------------------------- evaluation errors
def test_no_rule_applying_is_an_error_naming_the_value_and_the_deal() -> None:
    rules = """
rule strategic sets commission_rate to 12% when deal.strategic
rule emea sets commission_rate to 8% when deal.region == "EMEA"
  exception to strategic
"""
    text = plan(rules)
    assert errors(text) == []
    deals = [deal("D1", "P1", 1000, "2026-02-01", strategic="true"), deal("D2", "P1", 1000, "2026-02-02", region="AMER")]
    with pytest.raises(EvaluationError) as caught:
        calc(text, dataset([payee("P1")], deals), "2026-Q1")
    assert caught.value.message == "no rule sets commission_rate (deal D2, payee P1)"
    assert caught.value.hint == "add a rule without `when` for the general case"


def test_two_conditional_rules_without_precedence_both_applying_name_both_rules_and_the_deal() -> None:
    rules = (
        BASE_AND_STRATEGIC
        + """
rule emea sets commission_rate to 8% when deal.region == "EMEA"
  exception to base
"""
    )
    text = plan(rules)
    assert errors(text) == [], "the conditions differ, so only the data can show them both applying"
    # D2 (strategic only) is fine: strategic wins over base; D1 is strategic *and* in EMEA
    deals = [
        deal("D1", "P1", 1000, "2026-02-01", strategic="true", region="EMEA"),
        deal("D2", "P1", 1000, "2026-02-02", strategic="true"),
    ]
    with pytest.raises(EvaluationError) as caught:
        calc(text, dataset([payee("P1")], deals), "2026-Q1")
    strategic, emea = line_of(text, "rule strategic"), line_of(text, "rule emea")
    assert caught.value.message == (
        f"rules `strategic` (test.comp:{strategic}:1) and `emea` (test.comp:{emea}:1) both set commission_rate "
        "(deal D1, payee P1), and neither is an exception to the other"
    )
    assert caught.value.hint == "write `exception to strategic` on the rule that should win"


def test_only_the_deals_where_both_rules_apply_are_a_problem() -> None:
    rules = (
        BASE_AND_STRATEGIC
        + """
rule emea sets commission_rate to 8% when deal.region == "EMEA"
  exception to base
"""
    )
    deals = [deal("D1", "P1", 100_000, "2026-02-01", strategic="true"), deal("D2", "P1", 100_000, "2026-02-02", region="EMEA")]
    # D1: strategic 12% = 12,000.00; D2: emea 8% = 8,000.00
    assert line_amounts(calc(plan(rules), dataset([payee("P1")], deals), "2026-Q1"), "P1") == {"commission": Decimal("20000.00")}


# ---------------------------------------------------------------------- check errors
def test_two_unconditional_rules_for_one_value_are_e061() -> None:
    rules = """
rule base sets commission_rate to 5%
rule other sets commission_rate to 6%
"""
    text = plan(rules)
    [found] = errors(text)
    assert found.code == "E061"
    assert found.message == (
        f"rules `other` and `base` (at test.comp:{line_of(text, 'rule base')}:1) both set `commission_rate` "
        "when `other` applies; neither is an exception to the other"
    )
    assert (found.span.line, found.span.column) == (line_of(text, "rule other"), 6)
    assert found.hint == "write `exception to base` on the more specific rule"


def test_a_conditional_rule_beside_an_unconditional_one_without_an_exception_is_e061() -> None:
    rules = """
rule base sets commission_rate to 5%
rule strategic sets commission_rate to 12% when deal.strategic
"""
    [found] = errors(plan(rules))
    assert found.code == "E061"
    assert "rules `strategic` and `base`" in found.message


def test_two_rules_with_the_same_condition_are_e061_however_the_condition_is_spaced() -> None:
    rules = """
rule a sets commission_rate to 5% when deal.strategic
rule b sets commission_rate to 6% when   deal.strategic
"""
    text = plan(rules)
    [found] = errors(text)
    assert found.code == "E061"
    assert found.message.startswith("rules `b` and `a`")
    assert found.span.line == line_of(text, "rule b sets")


def test_rules_in_an_exception_chain_or_with_different_conditions_are_not_e061() -> None:
    rules = (
        BASE_AND_STRATEGIC
        + """
rule emea sets commission_rate to 8% when deal.region == "EMEA"
  exception to base
rule emea_strategic sets commission_rate to 15% when deal.strategic and deal.region == "EMEA"
  exception to strategic, emea
"""
    )
    assert diagnostics(plan(rules)) == []


def test_an_exception_to_an_unknown_rule_is_e020_with_the_closest_label() -> None:
    rules = """
rule emea sets commission_rate to 8% when deal.region == "EMEA"
rule strategic sets commission_rate to 12% when deal.strategic
  exception to emae
"""
    text = plan(rules)
    [found] = errors(text)
    assert found.code == "E020"
    assert found.message == "there is no rule `emae`"
    assert (found.span.line, found.span.column, found.span.end_column) == (
        line_of(text, "exception to emae"),
        column_of(text, "emae"),
        column_of(text, "emae") + 4,
    )
    assert found.hint == "did you mean `emea`?"


def test_an_exception_to_a_rule_setting_another_value_is_e032() -> None:
    rules = """
rule base sets commission_rate to 5%
rule spiff_base sets spiff to 100 USD
rule strategic sets commission_rate to 12% when deal.strategic
  exception to base, spiff_base
"""
    spiff = """
component spiff_line "Spiff"
  per credit of bookings
  pays spiff
"""
    text = plan(rules, COMMISSION + spiff)
    [found] = errors(text)
    assert found.code == "E032"
    assert found.message == "rule `spiff_base` sets `spiff`, but `strategic` sets `commission_rate`"
    assert found.span.line == line_of(text, "exception to base, spiff_base")
    assert found.hint == "an exception overrides a rule setting the same value"


def test_a_rule_that_is_an_exception_to_itself_is_e060() -> None:
    rules = """
rule base sets commission_rate to 5%
rule strategic sets commission_rate to 12% when deal.strategic
  exception to strategic, base
"""
    [found] = errors(plan(rules))
    assert found.code == "E060"
    assert found.message == "rule `strategic` cannot be an exception to itself"


def test_exceptions_that_override_each_other_in_a_cycle_are_e060_on_each_rule_of_the_cycle() -> None:
    rules = """
rule base sets commission_rate to 5%
rule a sets commission_rate to 12% when deal.strategic
  exception to base, b
rule b sets commission_rate to 8% when deal.region == "EMEA"
  exception to a
"""
    text = plan(rules)
    found = errors(text)
    assert [(d.code, d.span.line, d.message) for d in found] == [
        ("E060", line_of(text, "rule a sets"), "rule `a` overrides itself through its exceptions"),
        ("E060", line_of(text, "rule b sets"), "rule `b` overrides itself through its exceptions"),
    ]
    assert found[0].hint == "make the exceptions a tree: each rule overrides only more general rules"


# ---------------------------------------------------------------------- period-level rules
PERIOD_RULES = (
    HEADER
    + OWNER_BOOKINGS
    + """
payee attribute level: text

measure booked = sum of bookings for the period

rule base sets bonus_rate to 2%
rule senior sets bonus_rate to 3% when payee.level == "senior"
  exception to base
rule accelerated sets bonus_rate to 4% when booked >= 100,000 USD
  exception to senior

component bonus "Quarterly bonus"
  on booked
  rate bonus_rate
"""
)


@pytest.mark.parametrize(
    ("level", "amounts", "expected"),
    [
        # senior, 60,000 booked: senior applies, accelerated does not: 60,000 × 3% = 1,800.00
        ("senior", (60_000,), "1800.00"),
        # senior, 60,000 + 40,000 = 100,000 booked: accelerated overrides senior: 100,000 × 4% = 4,000.00
        ("senior", (60_000, 40_000), "4000.00"),
        # junior, 60,000: only base: 60,000 × 2% = 1,200.00
        ("junior", (60_000,), "1200.00"),
        # junior, 100,000: base and accelerated apply; accelerated overrides base through senior: 4,000.00
        ("junior", (60_000, 40_000), "4000.00"),
    ],
)
def test_rules_read_payee_fields_and_measures_in_a_period_level_component(level: str, amounts: tuple[int, ...], expected: str) -> None:
    deals = [deal(f"D{i}", "P1", amount, f"2026-02-0{i}") for i, amount in enumerate(amounts, start=1)]
    data = dataset([payee("P1", level=level)], deals)
    assert line_amounts(calc(PERIOD_RULES, data, "2026-Q1"), "P1") == {"bonus": Decimal(expected)}


def test_a_rule_can_decide_a_gate() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
measure booked = sum of bookings for the period

rule closed sets eligible to false
rule opened sets eligible to true when booked >= 50,000 USD
  exception to closed

component bonus "Bonus"
  on booked
  rate 1%
  gate eligible
"""
    )
    # 60,000 booked opens the gate: 60,000 × 1% = 600.00; 40,000 keeps it shut: 0.00
    assert line_amounts(calc(text, dataset([payee("P1")], [deal("D1", "P1", 60_000, "2026-02-01")]), "2026-Q1"), "P1") == {
        "bonus": Decimal("600.00")
    }
    assert line_amounts(calc(text, dataset([payee("P1")], [deal("D1", "P1", 40_000, "2026-02-01")]), "2026-Q1"), "P1") == {
        "bonus": Decimal("0.00")
    }


def test_a_rule_reading_the_deal_cannot_be_used_in_a_period_level_component() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + ATTRIBUTES.replace('deal attribute region: text, default "AMER"\n', "")
        + """
measure booked = sum of bookings for the period

rule base sets bonus_rate to 2%
rule strategic sets bonus_rate to 3% when deal.strategic
  exception to base

component bonus "Bonus"
  on booked
  rate bonus_rate
"""
    )
    [found] = errors(text)
    assert found.code == "E033"
    assert found.message == (
        "`bonus_rate` differs from deal to deal, so it cannot be used in component `bonus`, which is computed once per period"
    )


# ---------------------------------------------------------------------- trace
def test_the_trace_names_the_winning_rule_and_lists_every_rule_considered() -> None:
    text = plan(BASE_AND_STRATEGIC)
    deals = [deal("D1", "P1", 100_000, "2026-02-01", strategic="true"), deal("D2", "P1", 50_000, "2026-02-02")]
    statement = calc(text, dataset([payee("P1")], deals), "2026-Q1").statement("P1")
    trace = build_line_trace(statement, statement.lines[0])
    first, second = rule_records(trace)
    assert (first.label, first.value) == ("commission_rate", Decimal("0.12"))
    assert first.detail["rule"] == "strategic"
    assert first.detail["description"] == "Strategic accounts"
    # (label, condition, applies, overridden) for each rule, in declaration order
    assert first.detail["considered"] == (("base", None, True, True), ("strategic", "deal.strategic", True, False))
    assert first.source is not None and first.source.line == line_of(text, "rule strategic")
    assert second.detail["rule"] == "base"
    assert second.detail["considered"] == (("base", None, True, False), ("strategic", "deal.strategic", False, False))
    assert second.source is not None and second.source.line == line_of(text, "rule base")
    explained = explain_line(trace)
    assert "commission_rate = 12%   [set by rule strategic; considered: base overridden; strategic applies (deal.strategic)]" in explained
    assert "commission_rate = 5%   [set by rule base; considered: base applies; strategic does not apply (deal.strategic)]" in explained
