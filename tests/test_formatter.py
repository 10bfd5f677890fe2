"""`compengine fmt`: the canonical layout, and proof that formatting changes layout only.

Every plan must come out of the formatter with the same syntax tree (compared without
positions), the same comments in the same order, and already in its final form, so
`fmt --check` can gate a repository.  Random plans written in messy layouts check the same
three promises far beyond the examples.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from compengine.cli import app
from compengine.lang import ast
from compengine.lang.astdump import dump_plan
from compengine.lang.formatter import format_source
from compengine.lang.parser import parse_plan
from tests.support import PLANS_DIR

PLANS = sorted(PLANS_DIR.glob("*.comp"))


def fmt(text: str) -> str:
    formatted, diagnostics = format_source("test.comp", text)
    assert formatted is not None, [d.render(text) for d in diagnostics]
    return formatted


def parsed(text: str) -> ast.PlanFile:
    outcome = parse_plan("test.comp", text)
    assert outcome.plan_file is not None and not outcome.diagnostics, [d.render(text) for d in outcome.diagnostics]
    return outcome.plan_file


def dump(text: str) -> list[object]:
    return dump_plan(parsed(text))


def comment_texts(text: str) -> list[str]:
    return [c.text.rstrip() for c in parsed(text).comments]


def assert_layout_only(original: str) -> str:
    """Format `original` and check the formatter's promises; return the formatted text."""
    formatted = fmt(original)
    assert fmt(formatted) == formatted, "formatting is not idempotent"
    assert dump(formatted) == dump(original), "formatting changed the meaning"
    assert comment_texts(formatted) == comment_texts(original), "formatting lost or reordered comments"
    if formatted:
        assert formatted.endswith("\n") and not formatted.endswith("\n\n")
    assert not any(line != line.rstrip() for line in formatted.split("\n")), "trailing whitespace"
    assert "\n\n\n" not in formatted and not formatted.startswith("\n")
    return formatted


# ------------------------------------------------------------------ the example plans


@pytest.mark.parametrize("path", PLANS, ids=[p.name for p in PLANS])
def test_example_plan_is_canonical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert fmt(text) == text


@pytest.mark.parametrize("path", PLANS, ids=[p.name for p in PLANS])
def test_example_plan_keeps_meaning_and_comments(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert parsed(text).comments, "the example plans are expected to carry comments"
    assert_layout_only(text)


@pytest.mark.parametrize("path", PLANS, ids=[p.name for p in PLANS])
def test_example_plan_squashed_onto_one_line_comes_back_canonical(path: Path) -> None:
    """Without comments, layout carries nothing the formatter cannot rebuild."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for comment in parsed(text).comments:
        lines[comment.line - 1] = lines[comment.line - 1][: comment.column - 1]
    code = "\n".join(lines)
    squashed = " ".join(code.split())
    expected = fmt(code)
    assert dump(squashed) == dump(text)
    assert fmt(squashed).replace("\n\n", "\n") == expected.replace("\n\n", "\n")


# ------------------------------------------------------------------ expressions


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("a * b", "a × b"),
        ("a ÷ b", "a / b"),
        ("a ≥ b", "a >= b"),
        ("a ≤ b", "a <= b"),
        ("a ≠ b", "a != b"),
        ("a==b", "a == b"),
    ],
)
def test_operators_are_written_in_canonical_symbols(written: str, canonical: str) -> None:
    assert fmt(f"let x = {written}") == f"let x = {canonical}\n"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("(a × b) + c", "a × b + c"),
        ("(a - b) - c", "a - b - c"),
        ("a - (b - c)", "a - (b - c)"),
        ("a / (b × c)", "a / (b × c)"),
        ("(a + b) × c", "(a + b) × c"),
        ("-(a + b)", "-(a + b)"),
        ("-(f(a))", "-f(a)"),
        ("((a))", "a"),
        ("f((a + b), (c))", "f(a + b, c)"),
        ("(a or b) or c", "(a or b) or c"),
        ("a or (b and c)", "a or b and c"),
        ("(a or b) and c", "(a or b) and c"),
        ("not (a == b)", "not a == b"),
        ("not (a and b)", "not (a and b)"),
        ("(a == b) == c", "(a == b) == c"),
        ("(a + 1) in {1, 2}", "a + 1 in {1, 2}"),
        ("1 + (if a then b else c)", "1 + (if a then b else c)"),
        ("if (a and b) then (c) else (if d then e else f)", "if a and b then c else if d then e else f"),
        ("(q for the period) × 2", "q for the period × 2"),
        ("(target incentive for the full year) × 3", "target incentive for the full year × 3"),
    ],
)
def test_parentheses_only_where_the_grammar_needs_them(written: str, canonical: str) -> None:
    assert fmt(f"let x = {written}") == f"let x = {canonical}\n"
    assert dump(f"let x = {written}") == dump(f"let x = {canonical}")


def test_collections_and_windows_are_spaced_canonically() -> None:
    text = 'let x = d in[2026-01-01,2026-04-01 ) and t not in{ "a","b" } and m for  the\nquarter to date > 0'
    assert fmt(text) == 'let x = d in [2026-01-01, 2026-04-01) and t not in {"a", "b"} and m for the quarter to date > 0\n'


# ------------------------------------------------------------------ literals


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("1000 USD", "1,000 USD"),
        ("50000 USD", "50,000 USD"),
        ("1234567.50", "1,234,567.50"),
        ("1,000", "1,000"),
        ("999", "999"),
        ("12.5%", "12.5%"),
        ("1.20", "1.20"),
        ("0.0", "0.0"),
        ("2500 days", "2,500 days"),
        ("12 months", "12 months"),
    ],
)
def test_numbers_keep_their_digits_and_gain_thousands_separators(written: str, canonical: str) -> None:
    assert fmt(f"let x = {written}") == f"let x = {canonical}\n"


def test_header_integers_are_not_grouped() -> None:
    """`version` and `places` take whole numbers, which the grammar does not allow commas in."""
    assert fmt("plan p version 1000") == "plan p\n  version 1000\n"


@pytest.mark.parametrize(
    ("value", "literal"),
    [('say "hi"', r'"say \"hi\""'), ("back\\slash", r'"back\\slash"'), ("two\nlines", r'"two\nlines"'), ("\\n", r'"\\n"')],
)
def test_strings_are_requoted_with_escapes(value: str, literal: str) -> None:
    formatted = fmt(f"let x = {literal}")
    assert formatted == f"let x = {literal}\n"
    let = parsed(formatted).decls[0]
    assert isinstance(let, ast.LetDecl) and isinstance(let.expr, ast.Literal)
    assert let.expr.value == value


# ------------------------------------------------------------------ declarations


def test_declarations_get_one_line_per_clause() -> None:
    text = (
        "credit c from deals where deal.x == 1 to owner 60%, deal.other 40% amount deal.amount dated deal.close_date "
        'table t: percent by deal.tier "gold": 10% otherwise: 4% '
        "curve k at 0%: 0% at 100%: 100% "
        'component m "M" cites "§1" per credit of c marginal tiers on amount below 50 USD: 4% 50 USD to 100 USD: 8% '
        "100 USD and above: 12% at 5%: 1% true up for the year to date, never negative"
    )
    assert fmt(text) == (
        "credit c from deals\n"
        "  where deal.x == 1\n"
        "  to owner 60%, deal.other 40%\n"
        "  amount deal.amount\n"
        "  dated deal.close_date\n"
        "\n"
        "table t: percent by deal.tier\n"
        '  "gold": 10%\n'
        "  otherwise: 4%\n"
        "\n"
        "curve k\n"
        "  at 0%: 0%\n"
        "  at 100%: 100%\n"
        "\n"
        'component m "M"\n'
        '  cites "§1"\n'
        "  per credit of c\n"
        "  marginal tiers on amount\n"
        "    below 50 USD: 4%\n"
        "    50 USD to 100 USD: 8%\n"
        "    100 USD and above: 12%\n"
        "    at 5%: 1%\n"
        "  true up for the year to date, never negative\n"
    )


def test_one_line_declarations_are_one_line_each() -> None:
    text = (
        "parameter x : percent = 8 % from 2026-01-01 until 2026-07-01 ,\n 9% from 2026-07-01 "
        "deal attribute a : count ,default 12 "
        'quota q = "k" annual spread 20%,30%,20%,30% '
        "measure m = sum of c for the full year where deal.x"
    )
    assert fmt(text) == (
        "parameter x: percent = 8% from 2026-01-01 until 2026-07-01, 9% from 2026-07-01\n"
        "deal attribute a: count, default 12\n"
        'quota q = "k" annual spread 20%, 30%, 20%, 30%\n'
        "measure m = sum of c for the full year where deal.x\n"
    )


def test_header_clauses_stay_in_the_order_written() -> None:
    text = 'plan p "P" currency USD version 2 rounding half up to 2 places per component'
    assert fmt(text) == 'plan p "P"\n  currency USD\n  version 2\n  rounding half up to 2 places per component\n'


# ------------------------------------------------------------------ libraries, uses and revisions


def test_library_header_is_one_line() -> None:
    assert fmt('library\nshared_rates\n  "Shared rates"   let a = 1') == 'library shared_rates "Shared rates"\n\nlet a = 1\n'


def test_use_lines_are_one_per_line() -> None:
    assert fmt('use a ,b,\n c from\n"shared/rates.comp" use d from "x.comp"') == (
        'use a, b, c from "shared/rates.comp"\nuse d from "x.comp"\n'
    )


def test_use_lines_group_with_one_line_declarations() -> None:
    text = 'use a from "r.comp"\nlet b = 2\n\n\nuse c from "s.comp"\ninput d: percent\n'
    assert fmt(text) == 'use a from "r.comp"\nlet b = 2\n\nuse c from "s.comp"\ninput d: percent\n'


def test_revision_marker_is_at_column_one_with_a_blank_line_before_it() -> None:
    text = 'let a = 1\n   revision  4\n effective 2026-07-01 "mid-year"\nlet a = 2\nlet b = 3\n'
    assert fmt(text) == 'let a = 1\n\nrevision 4 effective 2026-07-01 "mid-year"\n\nlet a = 2\nlet b = 3\n'


def test_revision_note_is_optional() -> None:
    assert fmt("revision 2 effective 2026-07-01") == "revision 2 effective 2026-07-01\n"


def test_declarations_after_a_revision_stay_in_that_revision() -> None:
    text = "let a = 1 revision 2 effective 2026-04-01 let a = 2 revision 3 effective 2026-07-01 let a = 3"
    formatted = fmt(text)
    plan = parsed(formatted)
    assert [[d.name.text for d in r.decls] for r in plan.revisions] == [["a"], ["a"]]
    assert [r.marker.version for r in plan.revisions] == [2, 3]
    assert dump(formatted) == dump(text)


# ------------------------------------------------------------------ new header clauses


def test_new_header_clauses_are_one_per_line_in_the_order_written() -> None:
    text = (
        'plan p convert other currencies at "corporate" rates on the credit date , rounded half up to 2 places '
        "assignment changes within a period are split proration by calendar days version 1"
    )
    assert fmt(text) == (
        "plan p\n"
        '  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places\n'
        "  assignment changes within a period are split\n"
        "  proration by calendar days\n"
        "  version 1\n"
    )


@pytest.mark.parametrize(
    "clause",
    [
        "proration by days",
        "assignment changes within a period use the period end",
        'convert other currencies at "spot" rates at the period end, unrounded',
    ],
)
def test_each_form_of_the_new_header_clauses_is_kept(clause: str) -> None:
    assert fmt(f"plan p {clause}") == f"plan p\n  {clause}\n"


# ------------------------------------------------------------------ new declarations


def test_list_attribute_is_written_after_its_type() -> None:
    assert fmt('payee attribute accounts : text\nlist , default "x"') == 'payee attribute accounts: text list, default "x"\n'


def test_membership_in_a_list_attribute_is_spaced_canonically() -> None:
    assert fmt("let x = deal.account in  payee . accounts") == "let x = deal.account in payee.accounts\n"


def test_rollup_and_duplicate_control_get_their_own_lines_before_amount() -> None:
    text = "credit c from deals to owner rolled up 3 levels duplicate credit counts per path amount deal.amount dated deal.close_date"
    assert fmt(text) == (
        "credit c from deals\n"
        "  to owner\n"
        "  rolled up 3 levels\n"
        "  duplicate credit counts per path\n"
        "  amount deal.amount\n"
        "  dated deal.close_date\n"
    )


@pytest.mark.parametrize("clause", ["rolled up to the top", "duplicate credit counts once"])
def test_each_crediting_clause_stands_alone(clause: str) -> None:
    text = f"credit c from deals to deal splits {clause} amount 1 dated 2"
    assert fmt(text) == f"credit c from deals\n  to deal splits\n  {clause}\n  amount 1\n  dated 2\n"


def test_payees_where_recipients_follow_deal_splits_on_the_to_line() -> None:
    text = 'credit c from deals to deal splits ,payees where payee.role=="se", owner 10% amount 1 dated 2'
    assert fmt(text) == ('credit c from deals\n  to deal splits, payees where payee.role == "se", owner 10%\n  amount 1\n  dated 2\n')


@pytest.mark.parametrize(
    "measure",
    [
        "earnings of direct reports",
        "earnings of reports 2 levels from components a, b",
        "earnings of all reports from plan enterprise_ae",
    ],
)
def test_earnings_measures_are_one_line(measure: str) -> None:
    assert fmt(f"measure m =\n  {measure.replace(' ', '  ')}") == f"measure m = {measure}\n"


def test_earnings_measures_group_with_other_measures() -> None:
    text = "measure a = sum of c\nmeasure b = earnings of all reports\n"
    assert fmt(text) == text


def test_inputs_are_one_line() -> None:
    assert fmt("input mbo :percent ,\n default 0 %\ninput bonus: money") == "input mbo: percent, default 0%\ninput bonus: money\n"


def test_rule_conditions_and_exceptions_go_on_their_own_lines() -> None:
    text = 'rule strategic "Strategic deals" sets rate to 12% when deal.strategic exception to base ,other'
    assert fmt(text) == ('rule strategic "Strategic deals" sets rate to 12%\n  when deal.strategic\n  exception to base, other\n')


def test_a_rule_without_condition_or_exceptions_is_one_line() -> None:
    assert fmt("rule base\nsets rate\nto 8%") == "rule base sets rate to 8%\n"


def test_a_rule_may_have_exceptions_without_a_condition() -> None:
    assert fmt("rule r sets rate to 1% exception to base") == "rule r sets rate to 1%\n  exception to base\n"


def test_decision_tables_get_one_line_per_clause_and_row() -> None:
    text = (
        "decision table rate : percent hit policy first given deal.region , deal.amount "
        'row "EMEA" , [0 USD,100000 USD ) : 8% row {"AMER","APAC"}, from 100000 USD: 9% '
        "row any , below 5 USD : 1% row true, 3: 2% otherwise : 5%"
    )
    assert fmt(text) == (
        "decision table rate: percent\n"
        "  hit policy first\n"
        "  given deal.region, deal.amount\n"
        '  row "EMEA", [0 USD, 100,000 USD): 8%\n'
        '  row {"AMER", "APAC"}, from 100,000 USD: 9%\n'
        "  row any, below 5 USD: 1%\n"
        "  row true, 3: 2%\n"
        "  otherwise: 5%\n"
    )


@pytest.mark.parametrize("policy", ["first", "unique", "collect sum", "collect max", "collect min"])
def test_every_hit_policy_is_kept(policy: str) -> None:
    assert (
        fmt(f"decision table t hit  policy  {policy} given x row 1: 2")
        == f"decision table t\n  hit policy {policy}\n  given x\n  row 1: 2\n"
    )


def test_a_decision_table_without_hit_policy_or_otherwise() -> None:
    assert fmt("decision table t given x row any: 1") == "decision table t\n  given x\n  row any: 1\n"


def test_comments_keep_their_places_in_the_new_blocks() -> None:
    text = (
        "credit c from deals\n"
        "  to owner\n"
        "  # only three levels\n"
        "  rolled up 3 levels\n"
        "  duplicate credit counts once  # the default\n"
        "  amount 1\n"
        "  dated 2\n"
        "\n"
        "rule r sets t to 1\n"
        "  # strategic only\n"
        "  when x\n"
        "  exception to a  # a is the base\n"
        "\n"
        "decision table d\n"
        "  given x\n"
        "  # the big ones\n"
        "  row from 5: 1\n"
        "  # anything else\n"
        "  otherwise: 0\n"
        "\n"
        "# after this date\n"
        'revision 2 effective 2026-07-01 "why"  # note\n'
    )
    assert assert_layout_only(text) == text


EVERY_NEW_CONSTRUCT = """\
library shared "Shared definitions"

plan sales_manager "Sales Manager"
  version 1
  proration by calendar days
  assignment changes within a period use the period end
  convert other currencies at "corporate" rates at the period end, unrounded

use partner_rate, spiff from "shared/rates.comp"
payee attribute accounts: text list

credit team_bookings from deals
  where deal.account in payee.accounts
  to deal splits, payees where payee.role == "se"
  rolled up to the top
  duplicate credit counts per path
  amount deal.amount
  dated deal.close_date

measure team = earnings of all reports from components new_business, renewals
input mbo_score: percent, default 0%

rule base "Base rate" sets rate to 8%

rule strategic sets rate to 12%
  when deal.strategic
  exception to base

decision table deal_rate: percent
  hit policy collect max
  given deal.region, deal.amount
  row {"AMER", "APAC"}, [0 USD, 100,000 USD): 8%
  row any, below 5 USD: 1%

revision 2 effective 2026-07-01

parameter x = 5%
"""


def test_a_plan_with_every_new_construct_is_canonical_and_survives_squashing() -> None:
    assert fmt(EVERY_NEW_CONSTRUCT) == EVERY_NEW_CONSTRUCT
    squashed = " ".join(EVERY_NEW_CONSTRUCT.split())
    assert dump(squashed) == dump(EVERY_NEW_CONSTRUCT)
    assert fmt(squashed).replace("\n\n", "\n") == EVERY_NEW_CONSTRUCT.replace("\n\n", "\n")


PAY_POLICIES = """\
plan enterprise_ae "Enterprise AE"
  version 1
  payment when the invoice is paid

draw ramp "New-hire draw"
  recoverable
  tops up to 5,000 USD per period
  for the first 2 periods on the plan
  recovers at most 50% of earnings per period
  outstanding at most 10,000 USD
  at termination forgiven

draw guarantee
  not recoverable
  tops up to 2,500 USD per period
  during 2026-01-01 until 2026-07-01

draw new_hires
  not recoverable
  tops up to 1,000 USD per period
  for the first 1 period after hire

holdback year_end "Year-end holdback"
  holds 20% of new_business, new_logo_spiff
  released at the fiscal year end

holdback on_invoice
  holds 12.5% of renewals
  released when the invoice is paid

holdback dated
  holds 10% of spiff
  released on 2026-11-30

holdback later
  holds 5% of overlay
  released after 90 days

clawback early "Early cancellations"
  for deals cancelled or refunded within 90 days of the close date
  reverses fully

clawback pro_rata
  for deals cancelled or refunded within 1 year of the close date
  reverses pro rata by time

clawback refunds
  for deals cancelled or refunded within 6 months of the close date
  reverses at the rate originally paid
"""


def test_pay_policies_are_canonical_and_survive_squashing() -> None:
    assert fmt(PAY_POLICIES) == PAY_POLICIES
    squashed = " ".join(PAY_POLICIES.split())
    assert dump(squashed) == dump(PAY_POLICIES)
    assert fmt(squashed).replace("\n\n", "\n") == PAY_POLICIES.replace("\n\n", "\n")


def test_pay_policy_clauses_go_one_per_line_in_the_order_written() -> None:
    written = (
        "holdback h released on 2026-03-01 holds 10.0% of a,b\n"
        "clawback c reverses fully for deals cancelled or refunded within 1 month of the close date"
    )
    assert fmt(written) == (
        "holdback h\n  released on 2026-03-01\n  holds 10.0% of a, b\n\n"
        "clawback c\n  reverses fully\n  for deals cancelled or refunded within 1 month of the close date\n"
    )


def test_comments_keep_their_places_in_pay_policies() -> None:
    text = (
        'draw ramp "Ramp"  # §5\n'
        "  # an advance\n"
        "  recoverable\n"
        "  tops up to 5,000 USD per period  # each quarter\n"
        "\n"
        "holdback h\n"
        "  holds 20% of a  # of the line\n"
        "  # at year end\n"
        "  released at the fiscal year end\n"
    )
    assert assert_layout_only(text) == text


def test_dump_compares_names_and_paths() -> None:
    """Words (`text`) and use paths (`path`) are meaning, not position."""
    assert dump("let a = 1") != dump("let b = 1")
    assert dump('use a from "x.comp"') != dump('use a from "y.comp"')
    assert dump('component c "C" cites "§1"') != dump('component c "C" cites "§2"')


# ------------------------------------------------------------------ blank lines


def test_exactly_one_blank_line_between_blocks() -> None:
    text = "\n\n\ncurve a at 0: 0\n\n\n\ncurve b at 0: 0\ncurve c at 0: 0\n\n\n"
    assert fmt(text) == "curve a\n  at 0: 0\n\ncurve b\n  at 0: 0\n\ncurve c\n  at 0: 0\n"


def test_no_blank_lines_inside_a_declaration() -> None:
    assert fmt("curve a\n\n  at 0: 0\n\n  at 1: 1\n") == "curve a\n  at 0: 0\n  at 1: 1\n"


def test_one_line_declarations_keep_the_authors_grouping() -> None:
    text = 'let a = 1\nlet b = 2\n\n\n\nmeasure m = sum of c\nquota q = "q" per period\n'
    assert fmt(text) == 'let a = 1\nlet b = 2\n\nmeasure m = sum of c\nquota q = "q" per period\n'


def test_comment_blocks_inside_a_declaration_lose_their_blank_lines() -> None:
    assert fmt("curve a\n  at 0: 0\n\n  # one\n\n  # two\n\n  at 1: 1\n") == "curve a\n  at 0: 0\n  # one\n  # two\n  at 1: 1\n"


def test_top_level_comment_blocks_keep_one_blank_line_where_the_author_left_one() -> None:
    assert fmt("# one\n\n\n\n# two\n# three\n\nlet a = 1\n") == "# one\n\n# two\n# three\nlet a = 1\n"


def test_a_blank_line_before_a_comment_block_is_the_separator() -> None:
    text = "let a = 1\n\n# about b\n\nlet b = 2\ncurve k\n# about k\n  at 0: 0\n"
    assert fmt(text) == "let a = 1\n\n# about b\nlet b = 2\n\ncurve k\n  # about k\n  at 0: 0\n"


# ------------------------------------------------------------------ comments


def test_own_line_comment_stays_before_the_clause_it_precedes() -> None:
    text = 'component c "C"\n# why the rate\n      rate 5%\n    # the cap\n cap 10 USD per deal\n'
    assert fmt(text) == 'component c "C"\n  # why the rate\n  rate 5%\n  # the cap\n  cap 10 USD per deal\n'


def test_own_line_comment_before_a_tier_row_is_indented_like_the_row() -> None:
    text = 'component c "C" marginal tiers on amount\n# low\nbelow 5 USD: 1%\n5 USD and above: 2%'
    assert fmt(text) == 'component c "C"\n  marginal tiers on amount\n    # low\n    below 5 USD: 1%\n    5 USD and above: 2%\n'


def test_end_of_line_comment_stays_at_the_end_of_its_line() -> None:
    text = 'plan p "P"   # the plan\nversion 1# first\nlet x = (1)   # one\n'
    assert fmt(text) == 'plan p "P"  # the plan\n  version 1  # first\n\nlet x = 1  # one\n'


def test_comment_inside_a_one_line_construct_moves_just_before_it() -> None:
    text = "let x = 1 + # why two\n  2 # sum\n"
    assert fmt(text) == "# why two\nlet x = 1 + 2  # sum\n"


def test_comments_at_the_end_of_the_file_stay_at_the_end() -> None:
    text = "let x = 1\n  # done\n\n\n# really done   \n# bye"
    assert fmt(text) == "let x = 1\n# done\n\n# really done\n# bye\n"


def test_a_file_of_only_comments_is_kept() -> None:
    assert fmt("\n# a\n\n\n# b\n") == "# a\n\n# b\n"


def test_an_empty_file_stays_empty() -> None:
    assert fmt("") == ""
    assert fmt("\n\n  \n") == ""


def test_a_hash_inside_a_string_is_not_a_comment() -> None:
    assert fmt('let x = "#1"   # the first\n') == 'let x = "#1"  # the first\n'


def test_windows_line_endings_become_newlines() -> None:
    assert fmt("let a = 1 # one\r\n\r\nlet b = 2\r\n") == "let a = 1  # one\n\nlet b = 2\n"


# ------------------------------------------------------------------ refusing broken plans


def test_a_plan_with_a_syntax_error_is_not_formatted() -> None:
    formatted, diagnostics = format_source("test.comp", "let x = (1\n")
    assert formatted is None
    assert [d.code for d in diagnostics] == ["E001"]


def test_a_plan_with_an_impossible_date_is_not_formatted() -> None:
    """The tree holds a placeholder for the date; printing it would change the plan."""
    formatted, diagnostics = format_source("test.comp", "let x = 2026-02-30\n")
    assert formatted is None
    assert [d.code for d in diagnostics] == ["E005"]


# ------------------------------------------------------------------ the command


def test_fmt_check_passes_on_the_example_plans() -> None:
    result = CliRunner().invoke(app, ["fmt", "--check", str(PLANS_DIR)])
    assert result.exit_code == 0, result.output


def test_fmt_check_fails_until_fmt_rewrites_the_file(tmp_path: Path) -> None:
    original = PLANS[0].read_text(encoding="utf-8")
    messy = tmp_path / "messy.comp"
    messy.write_text(original.replace("\n  ", "\n\t\t").replace(" = ", "=").replace("\n\n", "\n\n\n"), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["fmt", "--check", str(messy)]).exit_code == 1
    assert runner.invoke(app, ["fmt", str(messy)]).exit_code == 0
    assert runner.invoke(app, ["fmt", "--check", str(messy)]).exit_code == 0
    assert messy.read_text(encoding="utf-8") == original


# ------------------------------------------------------------------ generated plans

# Precedence as the grammar defines it, loosest first; the generator leaves out parentheses
# only where the grammar allows (and sometimes adds needless ones).
IF, OR, AND, NOT, COMPARE, SUM, PRODUCT, UNARY, POSTFIX, ATOM = range(10)

Tokens = list[str]
Expr = tuple[Tokens, int]

NAMES = ["alpha", "beta", "gamma", "bookings", "quota_1", "x", "y2", "_hidden", "camelCase", "new_logo"]
CURRENCIES = ["USD", "EUR", "GBP"]
WINDOWS: list[Tokens] = [
    ["for", "the", "period"],
    ["for", "the", "quarter", "to", "date"],
    ["for", "the", "year", "to", "date"],
    ["for", "the", "full", "year"],
]
ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n"}

names = st.sampled_from(NAMES)
windows = st.sampled_from(WINDOWS)
extra_parens = st.sampled_from([False, False, False, False, True])


@st.composite
def numbers(draw: st.DrawFn) -> str:
    whole = draw(st.one_of(st.integers(0, 999), st.integers(1_000, 10**9)))
    fraction = draw(st.text("0123456789", max_size=3))
    written = f"{whole:,}" if whole >= 1000 and draw(st.booleans()) else str(whole)
    return written + ("." + fraction if fraction else "")


def string_literal(text: str) -> str:
    return '"' + "".join(ESCAPES.get(char, char) for char in text) + '"'


strings = st.text(st.sampled_from(list('ab n"\\#§é{},%\n\t')), max_size=8).map(string_literal)
dates = st.dates(date(1990, 1, 1), date(2099, 12, 31)).map(date.isoformat)


@st.composite
def bounds(draw: st.DrawFn) -> Tokens:
    number = draw(numbers())
    return draw(st.sampled_from([[number], [number, "%"], [number, draw(st.sampled_from(CURRENCIES))]]))


@st.composite
def literals(draw: st.DrawFn) -> Tokens:
    kind = draw(st.sampled_from(["bound", "bound", "duration", "date", "string", "boolean"]))
    if kind == "bound":
        return draw(bounds())
    if kind == "duration":
        return [draw(numbers()), draw(st.sampled_from(["day", "days", "month", "months", "years"]))]
    if kind == "date":
        return [draw(dates)]
    if kind == "string":
        return [draw(strings)]
    return [draw(st.sampled_from(["true", "false"]))]


@st.composite
def leaves(draw: st.DrawFn) -> Expr:
    kind = draw(st.sampled_from(["literal", "literal", "name", "name", "field", "windowed", "target"]))
    if kind == "literal":
        return draw(literals()), ATOM
    if kind == "name":
        return [draw(names)], ATOM
    if kind == "field":
        return [draw(st.sampled_from(["deal", "payee", "credit"])), ".", draw(names)], ATOM
    if kind == "windowed":
        return [draw(names), *draw(windows)], POSTFIX
    return ["target", "incentive", *draw(windows)], POSTFIX


def operand(draw: st.DrawFn, expr: Expr, minimum: int) -> Tokens:
    tokens, strength = expr
    return ["(", *tokens, ")"] if strength < minimum or draw(extra_parens) else tokens


def compound(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    @st.composite
    def build(draw: st.DrawFn) -> Expr:
        kind = draw(st.sampled_from(["binary", "binary", "negate", "compare", "member", "bool", "bool", "not", "if", "call"]))
        if kind == "binary":
            op = draw(st.sampled_from(["+", "-", "*", "×", "/", "÷"]))
            strength = SUM if op in "+-" else PRODUCT
            left, right = operand(draw, draw(children), strength), operand(draw, draw(children), strength + 1)
            return [*left, op, *right], strength
        if kind == "negate":
            return ["-", *operand(draw, draw(children), UNARY)], UNARY
        if kind == "compare":
            op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "≥", "≤", "≠"]))
            return [*operand(draw, draw(children), SUM), op, *operand(draw, draw(children), SUM)], COMPARE
        if kind == "member":
            keyword = draw(st.sampled_from([["in"], ["not", "in"]]))
            collection_kind = draw(st.sampled_from(["set", "interval", "list"]))
            if collection_kind == "set":
                items = draw(st.lists(literals(), max_size=3))
                collection = ["{", *[t for i, item in enumerate(items) for t in ([","] if i else []) + item], "}"]
            elif collection_kind == "interval":
                collection = ["[", *operand(draw, draw(children), IF), ",", *operand(draw, draw(children), IF), ")"]
            else:  # a list attribute
                collection = [draw(st.sampled_from(["deal", "payee", "credit"])), ".", draw(names)]
            return [*operand(draw, draw(children), SUM), *keyword, *collection], COMPARE
        if kind == "bool":
            op = draw(st.sampled_from(["and", "or"]))
            strength = AND if op == "and" else OR
            parts = [operand(draw, child, strength + 1) for child in draw(st.lists(children, min_size=2, max_size=3))]
            return [t for i, part in enumerate(parts) for t in ([op] if i else []) + part], strength
        if kind == "not":
            return ["not", *operand(draw, draw(children), NOT)], NOT
        if kind == "if":
            condition, then, otherwise = (operand(draw, draw(children), IF) for _ in range(3))
            return ["if", *condition, "then", *then, "else", *otherwise], IF
        args = [operand(draw, child, IF) for child in draw(st.lists(children, max_size=3))]
        return [draw(names), "(", *[t for i, arg in enumerate(args) for t in ([","] if i else []) + arg], ")"], ATOM

    return build()


expressions = st.recursive(leaves(), compound, max_leaves=8)


small_expressions = st.recursive(leaves(), compound, max_leaves=3)


@st.composite
def exprs(draw: st.DrawFn, small: bool = False) -> Tokens:
    """An expression; `small` ones keep the many expressions of decision tables cheap to draw."""
    return operand(draw, draw(small_expressions if small else expressions), IF)


def optional(draw: st.DrawFn, tokens: Tokens) -> Tokens:
    return tokens if draw(st.booleans()) else []


def joined(parts: list[Tokens]) -> Tokens:
    return [t for i, part in enumerate(parts) for t in ([","] if i else []) + part]


@st.composite
def dated_values(draw: st.DrawFn) -> Tokens:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        value = draw(exprs())
        if draw(st.booleans()):
            value += ["from", draw(dates), *optional(draw, ["until", draw(dates)])]
        parts.append(value)
    return joined(parts)


@st.composite
def headers(draw: st.DrawFn) -> Tokens:
    choices: list[Tokens] = [
        ["version", str(draw(st.integers(0, 5000)))],
        ["effective", draw(dates), "until", draw(dates)],
        ["currency", draw(st.sampled_from(CURRENCIES))],
        ["calculated", draw(st.sampled_from(["quarterly", "monthly"]))],
        ["fiscal", "year", "starts", draw(st.sampled_from(["january", "april"]))],
        ["rounding", "half", draw(st.sampled_from(["up", "even"])), "to", str(draw(st.integers(0, 4))), "places", "per", "component"],
        ["proration", "by", *draw(st.sampled_from([["calendar", "days"], ["working", "days"], ["days"], ["alpha"]]))],
        ["assignment", "changes", "within", "a", "period", *draw(st.sampled_from([["are", "split"], ["use", "the", "period", "end"]]))],
        [
            *["convert", "other", "currencies", "at", draw(strings), "rates"],
            *draw(st.sampled_from([["on", "the", "credit", "date"], ["at", "the", "period", "end"]])),
            ",",
            *draw(
                st.sampled_from(
                    [
                        ["unrounded"],
                        ["rounded", "half", draw(st.sampled_from(["up", "even"])), "to", str(draw(st.integers(0, 4))), "places"],
                    ]
                )
            ),
        ],
        ["payment", *draw(st.sampled_from([["on", "booking"], ["on", draw(names)], ["when", "the", "invoice", "is", "paid"]]))],
    ]
    clauses = draw(st.lists(st.sampled_from(choices), max_size=6))
    return ["plan", draw(names), *optional(draw, [draw(strings)]), *[t for c in clauses for t in c]]


@st.composite
def libraries(draw: st.DrawFn) -> Tokens:
    return ["library", draw(names), *optional(draw, [draw(strings)])]


@st.composite
def uses(draw: st.DrawFn) -> Tokens:
    return ["use", *joined([[n] for n in draw(st.lists(names, min_size=1, max_size=3))]), "from", draw(strings)]


@st.composite
def revisions(draw: st.DrawFn) -> Tokens:
    return ["revision", str(draw(st.integers(0, 300))), "effective", draw(dates), *optional(draw, [draw(strings)])]


@st.composite
def recipients(draw: st.DrawFn) -> Tokens:
    parts = [["deal", "splits"]] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0 if parts else 1, 3))):
        kind = draw(st.sampled_from(["owner", "field", "payees"]))
        if kind == "payees":
            parts.append(["payees", "where", *draw(exprs())])
        else:
            who = ["owner"] if kind == "owner" else ["deal", ".", draw(names)]
            parts.append(who + optional(draw, [draw(numbers()), "%"]))
    return joined(parts)


@st.composite
def tiers(draw: st.DrawFn) -> Tokens:
    position = ["amount"] if draw(st.booleans()) else ["attainment", "against", *draw(exprs())]
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["below", "between", "above", "at"]))
        bound = draw(bounds())
        head = {
            "below": ["below", *bound],
            "between": [*bound, "to", *draw(bounds())],
            "above": [*bound, "and", "above"],
            "at": ["at", *bound],
        }[kind]
        rows += [*head, ":", *draw(exprs())]
    return [draw(st.sampled_from(["marginal", "retroactive"])), "tiers", "on", *position, *rows]


@st.composite
def clauses(draw: st.DrawFn) -> Tokens:
    kind = draw(
        st.sampled_from(["cites", "per", "on", "ordered", "running", "during", "pays", "rate", "tiers", "by", "gate", "limit", "true"])
    )
    if kind == "cites":
        return ["cites", draw(strings)]
    if kind == "per":
        return ["per", "credit", "of", draw(names), *optional(draw, ["where", *draw(exprs())])]
    if kind == "ordered":
        return ["ordered", "by", *joined(draw(st.lists(exprs(), min_size=1, max_size=3)))]
    if kind == "running":
        return ["running", "total", *draw(windows)]
    if kind == "during":
        return ["during", draw(dates), "until", draw(dates)]
    if kind == "tiers":
        return draw(tiers())
    if kind == "by":
        return ["multiplied", "by", *draw(exprs()), *optional(draw, ["when", *draw(exprs())])]
    if kind == "limit":
        return [draw(st.sampled_from(["cap", "floor"])), *draw(exprs()), "per", draw(st.sampled_from(["period", "year", "deal"]))]
    if kind == "true":
        return ["true", "up", *draw(windows), *optional(draw, [",", "never", "negative"])]
    return [kind, *draw(exprs())]  # on, pays, rate, gate


@st.composite
def lengths(draw: st.DrawFn) -> Tokens:
    return [draw(numbers()), draw(st.sampled_from(["day", "days", "month", "months", "year", "years"]))]


@st.composite
def pay_clauses(draw: st.DrawFn, keyword: str) -> Tokens:
    """A clause of a draw, holdback or clawback (any of them, in any order: the parser takes
    what the checker would refuse)."""
    kind = draw(
        st.sampled_from(
            {
                "draw": ["recoverable", "not", "tops", "first", "during", "recovers", "outstanding", "termination"],
                "holdback": ["holds", "released"],
                "clawback": ["window", "reverses"],
            }[keyword]
        )
    )
    if kind == "recoverable":
        return ["recoverable"]
    if kind == "not":
        return ["not", "recoverable"]
    if kind == "tops":
        return ["tops", "up", "to", *draw(bounds()), "per", draw(st.sampled_from(["period", *NAMES]))]
    if kind == "first":
        count = str(draw(st.integers(0, 40)))
        return ["for", "the", "first", count, draw(st.sampled_from(["periods", "period", *NAMES])), "on", "the", "plan"]
    if kind == "during":
        return ["during", draw(dates), "until", draw(dates)]
    if kind == "recovers":
        return ["recovers", "at", "most", *draw(bounds()), "of", "earnings", "per", draw(names)]
    if kind == "outstanding":
        return ["outstanding", "at", "most", *draw(bounds())]
    if kind == "termination":
        return ["at", "termination", draw(st.sampled_from(["forgiven", "owed", *NAMES]))]
    if kind == "holds":
        return ["holds", *draw(bounds()), "of", *joined([[n] for n in draw(st.lists(names, min_size=1, max_size=3))])]
    if kind == "released":
        return draw(
            st.sampled_from(
                [
                    ["released", "at", "the", "fiscal", "year", "end"],
                    ["released", "on", draw(dates)],
                    ["released", "when", "the", "invoice", "is", "paid"],
                    ["released", "after", *draw(lengths())],
                ]
            )
        )
    if kind == "window":
        return ["for", "deals", "cancelled", "or", "refunded", "within", *draw(lengths()), "of", "the", "close", "date"]
    how = draw(st.sampled_from([["fully"], ["pro", "rata", "by", "time"], ["at", "the", "rate", "originally", "paid"]]))
    return ["reverses", *how]


@st.composite
def cells(draw: st.DrawFn) -> Tokens:
    kind = draw(st.sampled_from(["any", "equals", "set", "range", "below", "from"]))
    if kind == "any":
        return ["any"]
    if kind == "equals":
        return draw(st.one_of(bounds(), strings.map(lambda s: [s]), st.sampled_from([["true"], ["false"]])))
    if kind == "set":
        return ["{", *joined(draw(st.lists(literals(), min_size=1, max_size=3))), "}"]
    if kind == "range":
        return ["[", *draw(bounds()), ",", *draw(bounds()), ")"]
    return [kind, *draw(bounds())]  # below, from


@st.composite
def decision_tables(draw: st.DrawFn, name: str, typed: Tokens) -> Tokens:
    policy = draw(st.sampled_from([[], ["first"], ["unique"], ["collect", "sum"], ["collect", "max"], ["collect", "min"]]))
    inputs = draw(st.lists(exprs(small=True), min_size=1, max_size=3))
    rows = []
    for _ in range(draw(st.integers(1, 3))):
        rows += ["row", *joined([draw(cells()) for _ in inputs]), ":", *draw(exprs(small=True))]
    otherwise = optional(draw, ["otherwise", ":", *draw(exprs(small=True))])
    return ["decision", "table", name, *typed, *(["hit", "policy", *policy] if policy else []), "given", *joined(inputs), *rows, *otherwise]


@st.composite
def declarations(draw: st.DrawFn) -> Tokens:
    kind = draw(
        st.sampled_from(
            [
                *["attribute", "parameter", "table", "curve", "credit", "measure", "quota", "let", "component"],
                *["earnings", "rule", "decision", "input"],
                *["draw", "holdback", "clawback"],
            ]
        )
    )
    name = draw(names)
    typed = optional(draw, [":", draw(st.sampled_from(["money", "percent", "count"]))])
    if kind == "attribute":
        owner = draw(st.sampled_from(["deal", "payee"]))
        default = optional(draw, [",", "default", *draw(literals())])
        is_list = optional(draw, ["list"])
        return [owner, "attribute", name, ":", draw(st.sampled_from(["money", "text", "payee"])), *is_list, *default]
    if kind == "parameter":
        return ["parameter", name, *typed, "=", *draw(dated_values())]
    if kind == "table":
        rows = [[*draw(literals()), ":", *draw(dated_values())] for _ in range(draw(st.integers(1, 3)))]
        if draw(st.booleans()):
            rows.insert(draw(st.integers(0, len(rows))), ["otherwise", ":", *draw(dated_values())])
        return ["table", name, *typed, "by", *draw(exprs()), *[t for row in rows for t in row]]
    if kind == "curve":
        points = [["at", *draw(bounds()), ":", *draw(bounds())] for _ in range(draw(st.integers(1, 4)))]
        return ["curve", name, *[t for point in points for t in point]]
    if kind == "credit":
        where = optional(draw, ["where", *draw(exprs())])
        rollup = optional(draw, ["rolled", "up", *draw(st.sampled_from([[str(draw(st.integers(0, 20))), "levels"], ["to", "the", "top"]]))])
        duplicates = optional(draw, ["duplicate", "credit", "counts", *draw(st.sampled_from([["once"], ["per", "path"]]))])
        amounts = ["amount", *draw(exprs()), "dated", *draw(exprs())]
        return ["credit", name, "from", "deals", *where, "to", *draw(recipients()), *rollup, *duplicates, *amounts]
    if kind == "measure":
        window = optional(draw, draw(windows))
        return [
            "measure",
            name,
            "=",
            draw(st.sampled_from(["sum", "count"])),
            "of",
            draw(names),
            *window,
            *optional(draw, ["where", *draw(exprs())]),
        ]
    if kind == "quota":
        basis = draw(
            st.sampled_from(
                [
                    ["annual", "spread", "evenly"],
                    ["per", "period"],
                    ["annual", "spread", *joined(draw(st.lists(literals(), min_size=1, max_size=4)))],
                ]
            )
        )
        return ["quota", name, "=", draw(strings), *basis]
    if kind == "let":
        return ["let", name, *typed, "=", *draw(exprs())]
    if kind == "earnings":
        reports = draw(st.sampled_from([["direct", "reports"], ["reports", str(draw(st.integers(0, 20))), "levels"], ["all", "reports"]]))
        source = draw(
            st.sampled_from(
                [
                    [],
                    ["from", "components", *joined([[n] for n in draw(st.lists(names, min_size=1, max_size=3))])],
                    ["from", "plan", draw(names)],
                ]
            )
        )
        return ["measure", name, "=", "earnings", "of", *reports, *source]
    if kind == "rule":
        description = optional(draw, [draw(strings)])
        when = optional(draw, ["when", *draw(exprs())])
        exceptions = optional(draw, ["exception", "to", *joined([[n] for n in draw(st.lists(names, min_size=1, max_size=3))])])
        return ["rule", name, *description, "sets", draw(names), "to", *draw(exprs()), *when, *exceptions]
    if kind == "decision":
        return draw(decision_tables(name, typed))
    if kind == "input":
        default = optional(draw, [",", "default", *draw(literals())])
        return ["input", name, ":", draw(st.sampled_from(["money", "percent", "count"])), *default]
    if kind in ("draw", "holdback", "clawback"):
        body = [t for clause in draw(st.lists(pay_clauses(kind), max_size=5)) for t in clause]
        return [kind, name, *optional(draw, [draw(strings)]), *body]
    body = [t for clause in draw(st.lists(clauses(), max_size=6)) for t in clause]
    return ["component", name, draw(strings), *body]


comment_texts_strategy = st.text(st.sampled_from(list('ab #"§\\{ ')), max_size=10)
SPACES = [" ", " ", " ", " ", " ", "  ", "\n", "\n", "\n  ", "\n    ", "\t", "\n\n", " \r\n", "\n\n\n  "]
COMMENT = "#"
#: What follows each token: mostly layout, a fifth of the time a comment.  One cheap draw per
#: token (a comment's parts are drawn only when one is chosen) keeps large plans fast to make.
separator_kinds = st.sampled_from([*SPACES, *[COMMENT] * 4])
comments = st.builds(
    lambda before, text, after: f"{before}#{text}{after}",
    st.sampled_from(["", " ", "\n", "\n\n  ", "\n    "]),
    comment_texts_strategy,
    st.sampled_from(["\n", "\n  ", "\n\n", "\r\n", "\n\n\n"]),
)


@st.composite
def plan_texts(draw: st.DrawFn) -> str:
    items = draw(st.lists(declarations(), max_size=7))
    for extra in draw(st.lists(st.one_of(uses(), revisions()), max_size=3)):  # revisions take the declarations after them
        items.insert(draw(st.integers(0, len(items))), extra)
    header = draw(st.sampled_from([headers(), headers(), libraries(), None]))
    if header is not None:
        items.insert(0, draw(header))
    if draw(st.integers(0, 9)) == 0:  # a second header, anywhere: it parses, and the checker reports it
        items.insert(draw(st.integers(0, len(items))), draw(st.one_of(headers(), libraries())))
    tokens = [t for item in items for t in item]
    text = draw(st.sampled_from(["", "", "\n", "# top\n", "\n\n# top\n\n"]))
    for token in tokens:
        separator = draw(separator_kinds)
        text += token + (draw(comments) if separator == COMMENT else separator)
    return text + draw(st.sampled_from(["", "# last", "\n# last\n"]))


@settings(max_examples=300)
@given(plan_texts())
def test_generated_plans_format_idempotently_keeping_meaning_and_comments(text: str) -> None:
    assert_layout_only(text)


@settings(max_examples=100)
@given(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=12))
def test_any_text_survives_a_string_literal_round_trip(value: str) -> None:
    formatted = fmt(f"let x = {string_literal(value)}")
    let = parsed(formatted).decls[0]
    assert isinstance(let, ast.LetDecl) and isinstance(let.expr, ast.Literal)
    assert let.expr.value == value
