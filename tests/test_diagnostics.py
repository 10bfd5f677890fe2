"""Every diagnostic code, specified by a small plan that has exactly that problem.

Each test writes a plan with one mistake and states what a comp admin is told: the code,
the message (or its key phrase), where the caret goes and, when the checker has one, the
hint.  Tests are registered with `@covers(...)`; the last test checks that together they
exercise every code in `CODES`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from compengine.lang.diagnostics import CODES, Diagnostic, Severity
from compengine.lang.loader import compile_source, load_plans
from tests.support import HEADER, diagnostics

COVERED: set[str] = set()
TestFunction = TypeVar("TestFunction", bound=Callable[..., None])


def covers(*codes: str) -> Callable[[TestFunction], TestFunction]:
    """Register the codes a test exercises (checked against `CODES` by the last test)."""
    unknown = set(codes) - set(CODES)
    assert not unknown, f"not diagnostic codes: {sorted(unknown)}"

    def register(test: TestFunction) -> TestFunction:
        COVERED.update(codes)
        return test

    return register


# ---------------------------------------------------------------------- helpers
BOOKINGS = """
credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date
"""

#: Credit, a period measure and a quota: what period-level components are paid on.
PERIOD_BASE = (
    BOOKINGS
    + """
measure booked = sum of bookings for the period
quota bookings_quota = "bookings" annual spread evenly
"""
)


def commission(rate: str = "5%") -> str:
    """A component paying `rate` on each bookings credit."""
    return f"""
component commission "Commission"
  per credit of bookings
  rate {rate}
"""


def at(text: str, needle: str, occurrence: int = 1, part: str | None = None) -> tuple[int, int, int]:
    """Line, column and end column (all from 1) of the `occurrence`-th `needle` in `text`, or
    of `part` within it when the needle has context around what is underlined."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    underlined = needle if part is None else part
    index += needle.index(underlined)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column, column + len(underlined)


def where(diagnostic: Diagnostic) -> tuple[int, int, int]:
    return diagnostic.span.line, diagnostic.span.column, diagnostic.span.end_column


def starts_at(diagnostic: Diagnostic) -> tuple[int, int]:
    return diagnostic.span.line, diagnostic.span.column


def rendered(text: str, found: list[Diagnostic]) -> str:
    return "\n".join(d.render(text) for d in found) or "(no diagnostics)"


def sole(text: str) -> Diagnostic:
    """The only diagnostic for `text`; fails, showing them all, if there is not exactly one."""
    found = diagnostics(text)
    assert len(found) == 1, rendered(text, found)
    return found[0]


def sole_error(text: str) -> Diagnostic:
    """The only error for `text` (warnings aside, such as a misspelt name's target being unused)."""
    found = diagnostics(text)
    errors = [d for d in found if d.severity is Severity.ERROR]
    assert len(errors) == 1, rendered(text, found)
    return errors[0]


def all_with(text: str, code: str) -> list[Diagnostic]:
    """Every diagnostic for `text`, which must all have `code`."""
    found = diagnostics(text)
    assert found and all(d.code == code for d in found), rendered(text, found)
    return found


def tiers(rows: str, mode: str = "marginal", position: str = "attainment against bookings_quota for the period") -> str:
    """A plan paying `mode` tiers with `rows` on the period's bookings."""
    return (
        HEADER
        + PERIOD_BASE
        + f"""
component attainment_commission "Attainment commission"
  on booked
  {mode} tiers on {position}
{rows}"""
    )


# ---------------------------------------------------------------------- syntax: E001, E002
@covers("E001")
def test_a_misspelt_keyword_suggests_the_keyword_expected_there() -> None:
    text = HEADER + BOOKINGS.replace("to owner", "to ownr") + commission()
    found = sole(text)
    assert found.code == "E001"
    assert found.message == "unexpected `ownr`; expected `deal`, `owner` or `payees`"
    assert where(found) == at(text, "ownr")
    assert found.hint == "did you mean `owner`?"


@covers("E001")
def test_a_misspelt_component_clause_is_underlined_itself_with_the_closest_clause() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "rat 5%")
    found = sole(text)
    assert found.code == "E001"
    assert found.message == "`rat` does not start a component clause"
    assert where(found) == at(text, "rat 5%", part="rat")
    assert found.hint == "did you mean `rate`?"


@covers("E001")
def test_a_tier_mode_without_the_word_tiers_asks_for_it() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "marginal on amount\n    below 1 USD: 1%\n    1 USD and above: 2%")
    found = sole(text)
    assert found.code == "E001"
    assert found.message == "unexpected `on`; expected `tiers`"
    assert where(found) == at(text, "marginal on", part="on")


@covers("E001")
def test_a_declaration_cut_short_is_reported_just_after_its_last_word() -> None:
    text = HEADER + BOOKINGS + "\nlet bonus_rate = 5% +\n" + commission()
    found = sole(text)
    assert found.code == "E001"
    assert found.message.startswith("this declaration stops before it is complete; expected")
    line, _, end = at(text, "5% +")
    assert starts_at(found) == (line, end)
    assert found.hint == "finish it before the next declaration"


@covers("E001")
def test_a_file_that_ends_mid_clause_says_what_was_expected_after_the_last_word() -> None:
    text = HEADER + BOOKINGS + commission() + "  cap 100 USD\n\n"
    found = sole(text)
    assert found.code == "E001"
    assert found.message == "the file ends too early; expected `per`"
    line, _, end = at(text, "cap 100 USD")
    assert starts_at(found) == (line, end)


@covers("E001")
def test_syntax_errors_in_separate_declarations_are_all_reported() -> None:
    text = HEADER + BOOKINGS.replace("to owner", "to ownr") + "\nlet bonus_rate = 5% +\n" + commission().replace("rate 5%", "rat 5%")
    found = diagnostics(text)
    assert [d.code for d in found] == ["E001", "E001", "E001"]
    assert [d.span.line for d in found] == [at(text, "ownr")[0], at(text, "5% +")[0], at(text, "rat 5%")[0]]


@covers("E002")
def test_a_dollar_sign_is_explained_as_how_to_write_money() -> None:
    text = HEADER + BOOKINGS + commission() + "  cap $100 per deal\n"
    found = sole(text)
    assert found.code == "E002"
    assert found.message == "unexpected character `$`"
    assert where(found) == at(text, "$")
    assert found.hint == "write money as a number and a currency code: 1,000 USD"


@covers("E002")
def test_single_quotes_are_explained_as_how_to_quote_text() -> None:
    text = HEADER + BOOKINGS.replace("to owner", "where deal.type == 'new'\n  to owner") + commission()
    found = sole(text)
    assert found.code == "E002"
    assert found.message == "unexpected character `'`"
    assert where(found) == at(text, "'")
    assert found.hint == 'quote text with double quotes: "like this"'


# ---------------------------------------------------------------------- input: E003, E004
@covers("E003")
def test_a_file_that_is_not_utf8_is_refused_at_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.comp"
    path.write_bytes((HEADER + "# commission for the caf").encode() + b"\xe9\n")
    found = load_plans([str(path)]).diagnostics
    assert [d.code for d in found] == ["E003"]
    assert found[0].message == "the file is not UTF-8 text"
    assert (found[0].span.line, found[0].span.column) == (8, 25)
    assert found[0].hint == "save the plan as UTF-8"


@covers("E003")
def test_a_path_that_does_not_exist_is_reported_by_name(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.comp")
    found = load_plans([missing]).diagnostics
    assert [d.code for d in found] == ["E003"]
    assert found[0].message == f"there is no file or folder {missing}"


@covers("E004")
def test_parentheses_nested_too_deep_are_refused_with_a_hint() -> None:
    text = HEADER + BOOKINGS + commission("(" * 300 + "5%" + ")" * 300)
    found = sole(text)
    assert found.code == "E004"
    assert found.message == "this expression is nested more than 200 levels deep"
    assert found.span.line == at(text, "rate (")[0]
    assert found.hint == "break it into `let` definitions"


@covers("E004")
def test_a_long_chain_of_definitions_is_refused_at_its_first_definition() -> None:
    chain = "".join(f"let rate_{i} = rate_{i + 1}\n" for i in range(150)) + "let rate_150 = 5%\n"
    text = HEADER + BOOKINGS + commission("rate_0") + chain
    found = sole(text)
    assert found.code == "E004"
    assert found.message == "`rate_0` is built from definitions and expressions nested more than 200 levels deep"
    assert where(found) == at(text, "rate_0 =", part="rate_0")
    assert found.hint is not None


# ---------------------------------------------------------------------- dates: E005, E015
@covers("E005")
def test_a_date_that_is_not_on_the_calendar_is_underlined() -> None:
    text = HEADER.replace("until 2027-01-01", "until 2027-02-30") + BOOKINGS + commission()
    found = sole(text)
    assert found.code == "E005"
    assert found.message == "2027-02-30 is not a date on the calendar"
    assert where(found) == at(text, "2027-02-30")
    assert found.hint == "write a real date as YYYY-MM-DD"


@covers("E005")
def test_an_impossible_date_in_a_timeline_is_not_also_reported_as_an_overlap() -> None:
    text = HEADER + BOOKINGS + commission("bonus_rate") + "parameter bonus_rate = 5% from 2026-01-01, 6% from 2026-13-01\n"
    found = sole(text)
    assert found.code == "E005"
    assert where(found) == at(text, "2026-13-01")


@covers("E015")
def test_a_plan_effective_for_no_time_is_reported_on_its_effective_clause() -> None:
    text = HEADER.replace("until 2027-01-01", "until 2025-01-01") + BOOKINGS + commission()
    found = sole(text)
    assert found.code == "E015"
    assert found.message == "the plan is effective for no time: 2025-01-01 is not after 2026-01-01"
    assert where(found) == at(text, "effective 2026-01-01 until 2025-01-01")
    assert found.hint == "`until` is the first day the plan no longer applies"


@covers("E015")
def test_a_parameter_value_that_ends_before_it_starts_is_reported() -> None:
    text = HEADER + BOOKINGS + commission("bonus_rate") + "parameter bonus_rate = 5% from 2026-06-01 until 2026-01-01\n"
    found = sole(text)
    assert found.code == "E015"
    assert found.message == "parameter `bonus_rate` is in effect for no time here: 2026-01-01 is not after 2026-06-01"
    assert where(found) == at(text, "5% from 2026-06-01 until 2026-01-01")
    assert found.hint is not None and "`until`" in found.hint


@covers("E015")
def test_a_during_clause_that_ends_before_it_starts_is_reported() -> None:
    text = HEADER + BOOKINGS + commission() + "  during 2026-03-01 until 2026-01-01\n"
    found = sole(text)
    assert found.code == "E015"
    assert found.message == "`during` covers no time: 2026-01-01 is not after 2026-03-01"
    assert where(found) == at(text, "during 2026-03-01 until 2026-01-01")
    assert found.hint is not None


# ---------------------------------------------------------------------- header: E010-E014
@covers("E010")
def test_a_file_without_a_plan_header_is_reported_at_its_start() -> None:
    text = BOOKINGS + commission()
    found = sole(text)
    assert found.code == "E010"
    assert found.message == "the file has no plan header"
    assert where(found) == (1, 1, 2)
    assert found.hint == 'start the file with `plan <name> "<title>"` and its clauses'


@covers("E010")
def test_a_plan_header_after_a_declaration_is_reported_where_it_is() -> None:
    text = BOOKINGS + commission() + HEADER
    found = sole(text)
    assert found.code == "E010"
    assert found.message == "the plan header must come before every declaration"
    assert starts_at(found) == at(text, "plan test_plan")[:2]
    assert found.hint == "move it to the top of the file"


@covers("E010")
def test_a_second_plan_header_in_one_file_is_reported() -> None:
    second = HEADER.replace("plan test_plan", "plan other_plan")
    text = HEADER + BOOKINGS + commission() + second
    found = sole(text)
    assert found.code == "E010"
    assert found.message == "a file holds one plan; this is a second header"
    assert starts_at(found) == at(text, "plan other_plan")[:2]
    assert found.hint == "put each plan in its own file"


@covers("E011")
def test_a_missing_currency_clause_is_reported_on_the_plan_name_with_an_example() -> None:
    text = HEADER.replace("  currency USD\n", "") + BOOKINGS + commission()
    found = sole(text)
    assert found.code == "E011"
    assert found.message == "plan test_plan has no `currency` clause"
    assert where(found) == at(text, "test_plan")
    assert found.hint == "add `currency USD`"


@covers("E011")
def test_each_missing_header_clause_is_reported() -> None:
    text = HEADER.replace("  version 1\n", "").replace("  fiscal year starts january\n", "") + BOOKINGS + commission()
    found = all_with(text, "E011")
    assert [d.message for d in found] == ["plan test_plan has no `version` clause", "plan test_plan has no `fiscal year starts` clause"]


@covers("E012")
def test_a_plan_without_a_rounding_policy_is_reported_with_an_example_policy() -> None:
    text = HEADER.replace("  rounding half up to 2 places per component\n", "") + BOOKINGS + commission()
    found = sole(text)
    assert found.code == "E012"
    assert found.message == "plan test_plan has no rounding policy"
    assert where(found) == at(text, "test_plan")
    assert found.hint is not None and "rounding half up to 2 places per component" in found.hint


@covers("E013")
def test_a_repeated_header_clause_is_reported_on_the_repeat() -> None:
    text = HEADER + "  version 2\n" + BOOKINGS + commission()
    found = sole(text)
    assert found.code == "E013"
    assert found.message == "the `version` clause is given twice"
    assert where(found) == at(text, "version 2")
    assert found.hint == "keep one"


@covers("E014")
def test_a_misspelt_calculation_period_suggests_the_closest_choice() -> None:
    text = HEADER.replace("calculated quarterly", "calculated quartely") + BOOKINGS + commission()
    found = sole(text)
    assert found.code == "E014"
    assert found.message == "`quartely` is not a calculation period"
    assert where(found) == at(text, "quartely")
    assert found.hint == "did you mean `quarterly`?"


@covers("E014")
def test_an_invalid_rounding_level_lists_the_valid_levels() -> None:
    text = HEADER.replace("per component", "per deal") + BOOKINGS + commission()
    found = sole(text)
    assert found.code == "E014"
    assert found.message == "`per deal` is not a rounding level"
    assert where(found) == at(text, "per deal", part="deal")
    assert found.hint == "write one of: `credit`, `component`, `statement`"


@covers("E014")
def test_a_misspelt_limit_scope_suggests_the_closest_scope() -> None:
    text = HEADER + BOOKINGS + commission() + "  cap 100 USD per dael\n"
    found = sole(text)
    assert found.code == "E014"
    assert found.message == "`per dael` is not a limit scope"
    assert where(found) == at(text, "dael")
    assert found.hint == "did you mean `deal`?"


@covers("E014")
def test_a_running_total_for_the_full_year_is_refused() -> None:
    text = (
        HEADER
        + BOOKINGS
        + """
component commission "Commission"
  per credit of bookings
  ordered by deal.close_date
  running total for the full year
  marginal tiers on amount
    below 1,000 USD: 1%
    1,000 USD and above: 2%
"""
    )
    found = sole(text)
    assert found.code == "E014"
    assert found.message == "a running total adds up credits as they come, so it cannot run `for the full year`"
    assert starts_at(found) == at(text, "running total")[:2]
    assert found.hint == "write `running total for the year to date`"


@covers("E033")
def test_a_payee_field_in_a_credit_rule_says_the_payee_is_not_known_yet() -> None:
    text = HEADER + BOOKINGS.replace("  to owner", '  where payee.name == "x"\n  to owner') + commission()
    found = sole(text)
    assert found.code == "E033"
    assert found.message == "`payee.name` belongs to the credited payee, who is not known yet in credit rule `bookings`"
    assert where(found) == at(text, "payee.name")


# ---------------------------------------------------------------------- revisions and libraries: E016, E017
@covers("E016")
def test_a_revision_numbered_no_higher_than_the_version_before_is_reported_on_its_marker() -> None:
    text = HEADER + BOOKINGS + commission() + "\nrevision 1 effective 2026-03-01\n" + commission("6%")
    found = sole(text)
    assert found.code == "E016"
    assert found.message == "revision 1 does not come after version 1"
    assert where(found) == at(text, "revision 1 effective 2026-03-01")
    assert found.hint == "number it 2 or higher"


@covers("E016")
def test_a_revision_dated_outside_the_plan_is_reported_with_the_plan_range() -> None:
    text = HEADER + BOOKINGS + commission() + "\nrevision 2 effective 2027-01-01\n" + commission("6%")
    found = sole(text)
    assert found.code == "E016"
    assert found.message == "revision 2 starts on 2027-01-01: not after 2026-01-01 and before the plan ends on 2027-01-01"
    assert where(found) == at(text, "revision 2 effective 2027-01-01")
    assert found.hint == "date each revision after the one before it, inside the plan's effective range"


@covers("E017")
def test_a_library_holding_a_component_is_reported_on_the_component() -> None:
    text = 'library shared "Shared rates"\n\nparameter base_rate = 5%\n\ncomponent bonus "Bonus"\n  pays 100 USD\n'
    found = sole(text)
    assert found.code == "E017"
    assert found.message == "a library can share attributes, parameters, tables, curves, decision tables and lets, not a component"
    assert starts_at(found) == at(text, "component bonus")[:2]
    assert found.hint == "move this into the plans that need it"


@covers("E017")
def test_using_a_plan_file_as_a_library_is_reported_on_the_path() -> None:
    text = HEADER + 'use base_rate from "rates.comp"\n' + BOOKINGS + commission("base_rate")
    found = [d for d in compile_source("plan.comp", text, read=lambda path: HEADER).diagnostics if d.code == "E017"]
    assert len(found) == 1, found
    assert found[0].message == "rates.comp is not a library"
    assert where(found[0]) == at(text, '"rates.comp"')
    assert found[0].hint == 'a library file starts with `library <name> "<title>"`'


# ---------------------------------------------------------------------- names: E020-E023
@covers("E020")
def test_an_unknown_name_suggests_the_closest_definition() -> None:
    text = HEADER + BOOKINGS + "\nlet bonus_rate = 5%\n" + commission("bonus_rte")
    found = sole_error(text)
    assert found.code == "E020"
    assert found.message == "unknown name `bonus_rte`"
    assert where(found) == at(text, "bonus_rte")
    assert found.hint == "did you mean `bonus_rate`?"


@covers("E020")
def test_an_unknown_name_with_nothing_close_says_to_check_the_spelling_or_define_it() -> None:
    text = HEADER + BOOKINGS + commission("accelerator")
    found = sole(text)
    assert found.code == "E020"
    assert found.message == "unknown name `accelerator`"
    assert where(found) == at(text, "accelerator")
    assert found.hint == "check the spelling, or define it: `let accelerator = ...`"


@covers("E020")
def test_an_unknown_credit_rule_suggests_the_closest_credit_rule() -> None:
    text = HEADER + BOOKINGS + commission().replace("of bookings", "of bookngs")
    found = [d for d in diagnostics(text) if d.severity is Severity.ERROR]
    assert [d.code for d in found] == ["E020"]
    assert found[0].message == "there is no credit rule `bookngs`"
    assert where(found[0]) == at(text, "bookngs")
    assert found[0].hint == "did you mean `bookings`?"


@covers("E020")
def test_a_deal_field_written_without_deal_prefix_is_explained() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "pays amount")
    found = sole(text)
    assert found.code == "E020"
    assert found.message == "unknown name `amount`"
    assert where(found) == at(text, "pays amount", part="amount")
    assert found.hint == "deal fields are written `deal.amount`"


@covers("E020", "E021")
def test_a_builtin_function_name_used_as_a_value_says_it_is_a_function() -> None:
    text = HEADER + BOOKINGS + "\nlet max = 5%\n" + commission("max")
    found = diagnostics(text)
    assert [d.code for d in found] == ["E021", "E020"]
    assert found[0].message == "`max` is a built-in function"
    assert found[1].message == "unknown name `max`"
    assert found[1].hint == "`max` is a function; give it values in brackets: `max(...)`"


@covers("E021")
def test_a_name_defined_twice_points_at_the_second_definition_and_the_first_line() -> None:
    text = HEADER + BOOKINGS + "\nlet bonus_rate = 5%\nlet bonus_rate = 6%\n" + commission("bonus_rate")
    found = sole(text)
    assert found.code == "E021"
    first_line = at(text, "let bonus_rate = 5%")[0]
    assert found.message == f"`bonus_rate` is already defined at line {first_line}"
    assert where(found) == at(text, "bonus_rate", 2)
    assert found.hint == "rename one of them"


@covers("E022")
def test_an_unknown_deal_field_suggests_the_closest_field() -> None:
    text = HEADER + BOOKINGS.replace("amount deal.amount", "amount deal.amont") + commission()
    found = sole(text)
    assert found.code == "E022"
    assert found.message == "`deal.amont` is not a deal field"
    assert where(found) == at(text, "amont")
    assert found.hint == "did you mean `amount`?"


@covers("E022")
def test_an_unknown_deal_field_with_nothing_close_says_how_to_declare_it() -> None:
    text = HEADER + BOOKINGS.replace("to owner", 'where deal.segment == "smb"\n  to owner') + commission()
    found = sole(text)
    assert found.code == "E022"
    assert found.message == "`deal.segment` is not a deal field"
    assert where(found) == at(text, "segment")
    assert found.hint == "declare it: `deal attribute segment: <type>`"


@covers("E022")
def test_crediting_an_undeclared_deal_attribute_says_how_to_declare_it() -> None:
    text = HEADER + BOOKINGS.replace("to owner", "to deal.overlay") + commission()
    found = sole(text)
    assert found.code == "E022"
    assert found.message == "`deal.overlay` is not a declared deal attribute"
    assert where(found) == at(text, "deal.overlay")
    assert found.hint == "declare it: `deal attribute overlay: payee`"


@covers("E023")
def test_an_unknown_attribute_type_suggests_the_closest_type() -> None:
    text = HEADER + "deal attribute region: txt\n" + BOOKINGS.replace("to owner", 'where deal.region == "emea"\n  to owner') + commission()
    found = sole(text)
    assert found.code == "E023"
    assert found.message == "`txt` is not a type"
    assert where(found) == at(text, "txt")
    assert found.hint == "did you mean `text`?"


# ---------------------------------------------------------------------- units and types: E030-E033
@covers("E030")
def test_adding_a_percentage_to_money_suggests_multiplying() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "pays deal.amount + 5%")
    found = sole(text)
    assert found.code == "E030"
    assert found.message == "cannot add money (USD) and percent: money only adds to money"
    assert where(found) == at(text, "deal.amount + 5%")
    assert found.hint == "to raise an amount by a percentage, multiply: `amount × (1 + 10%)`"


@covers("E030")
def test_adding_euros_to_dollars_says_the_currencies_differ() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "pays deal.amount + 100 EUR")
    found = sole(text)
    assert found.code == "E030"
    assert found.message == "cannot add money (USD) and money (EUR): the currencies differ"
    assert where(found) == at(text, "deal.amount + 100 EUR")
    assert found.hint == "the plan pays in USD; write amounts in USD"


@covers("E030")
def test_multiplying_money_by_money_is_refused() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "pays deal.amount × deal.amount")
    found = sole(text)
    assert found.code == "E030"
    assert found.message == "cannot multiply money (USD) by money (USD): money times money has no meaning"
    assert where(found) == at(text, "deal.amount × deal.amount")


@covers("E030")
def test_a_fixed_payment_in_another_currency_is_refused() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "pays 100 EUR")
    found = sole(text)
    assert found.code == "E030"
    assert found.message == "what a component pays is in EUR, but the plan pays in USD"
    assert where(found) == at(text, "100 EUR")
    assert found.hint == "write amounts in USD"


@covers("E031")
def test_a_rate_written_as_money_suggests_pays() -> None:
    text = HEADER + BOOKINGS + commission("100 USD")
    found = sole(text)
    assert found.code == "E031"
    assert found.message == "a rate must be a percentage or number, but this is money (USD)"
    assert where(found) == at(text, "100 USD")
    assert found.hint == "write a percentage such as `5%`; to pay a fixed amount, use `pays`"


@covers("E031")
def test_paying_a_percentage_suggests_an_amount() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "pays 5%")
    found = sole(text)
    assert found.code == "E031"
    assert found.message == "what a component pays must be money, but this is percent"
    assert where(found) == at(text, "5%")
    assert found.hint == "multiply a rate by an amount, or write an amount like `500 USD`"


@covers("E031")
def test_a_where_filter_that_is_not_a_condition_is_refused() -> None:
    text = HEADER + BOOKINGS.replace("to owner", "where deal.amount\n  to owner") + commission()
    found = sole(text)
    assert found.code == "E031"
    assert found.message == "a `where` filter must be boolean, but this is money (USD)"
    assert where(found) == at(text, "where deal.amount", part="deal.amount")


@covers("E032")
def test_a_quota_without_a_window_asks_which_part_of_it() -> None:
    text = (
        HEADER
        + PERIOD_BASE
        + """
component attainment_bonus "Attainment bonus"
  on booked
  rate booked / bookings_quota
"""
    )
    found = sole(text)
    assert found.code == "E032"
    assert found.message == "`bookings_quota` is a quota; say which part of it"
    assert where(found) == at(text, "/ bookings_quota", part="bookings_quota")
    assert found.hint == "write `bookings_quota for the period`, `for the year to date` or `for the full year`"


@covers("E032")
def test_a_credit_rule_used_as_a_value_suggests_a_measure() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "pays bookings")
    found = sole(text)
    assert found.code == "E032"
    assert found.message == "`bookings` is a credit rule, not a value"
    assert where(found) == at(text, "pays bookings", part="bookings")
    assert found.hint == "aggregate it with a measure: `measure total = sum of bookings`"


@covers("E032")
def test_a_measure_of_something_other_than_a_credit_rule_lists_the_credit_rules() -> None:
    text = (
        HEADER
        + BOOKINGS
        + """
let bonus_rate = 5%
measure booked = sum of bonus_rate for the period

component attainment_bonus "Attainment bonus"
  on booked
  rate 5%
"""
        + commission()
    )
    found = sole(text)
    assert found.code == "E032"
    assert found.message == "`bonus_rate` is a let, not a credit rule"
    assert where(found) == at(text, "bonus_rate", 2)
    assert found.hint == "write one of: `bookings`"


@covers("E033")
def test_a_deal_field_in_a_gate_is_refused_because_a_gate_is_per_period() -> None:
    text = HEADER + BOOKINGS + commission() + "  gate deal.amount > 1,000 USD\n"
    found = sole(text)
    assert found.code == "E033"
    assert found.message == "`deal.amount` differs from deal to deal, so it cannot be used in a period-level clause of `commission`"
    assert where(found) == at(text, "gate deal.amount", part="deal.amount")
    assert found.hint == "use it in a per-credit clause, or aggregate it with a measure"


@covers("E033")
def test_a_measure_in_a_credit_rule_is_refused_because_credit_is_decided_per_deal() -> None:
    text = (
        HEADER
        + PERIOD_BASE
        + """
credit big_deals from deals
  where booked > 100,000 USD
  to owner
  amount deal.amount
  dated deal.close_date

component big_deal_bonus "Big-deal bonus"
  per credit of big_deals
  pays 100 USD

component attainment_bonus "Attainment bonus"
  on booked
  rate booked / bookings_quota for the period
"""
    )
    found = sole(text)
    assert found.code == "E033"
    assert found.message == "`booked` is worked out for each payee and period, so it cannot be used in credit rule `big_deals`"
    assert where(found) == at(text, "where booked", part="booked")
    assert found.hint == "credit rules and measure filters can only read the deal"


@covers("E033")
def test_a_parameter_computed_from_a_deal_field_says_to_use_let() -> None:
    text = HEADER + BOOKINGS + commission().replace("rate 5%", "pays bonus") + "parameter bonus = deal.amount\n"
    found = sole(text)
    assert found.code == "E033"
    assert found.message == "only fixed values can be written in a parameter or table value"
    assert where(found) == at(text, "bonus = deal.amount", part="deal.amount")
    assert found.hint is not None and "use `let`" in found.hint


# ---------------------------------------------------------------------- tiers: E040-E045
@covers("E040")
def test_a_gap_between_tier_bands_names_the_uncovered_range() -> None:
    text = tiers("    below 50%: 4%\n    60% to 100%: 8%\n    100% and above: 12%\n")
    found = sole(text)
    assert found.code == "E040"
    assert found.message == "nothing covers 50% to 60%"
    assert where(found) == at(text, "60% to 100%: 8%")
    assert found.hint == "start this band at 50%"


@covers("E041")
def test_overlapping_tier_bands_point_at_the_later_band() -> None:
    text = tiers("    below 50%: 4%\n    40% to 100%: 8%\n    100% and above: 12%\n")
    found = sole(text)
    assert found.code == "E041"
    assert found.message == "this band starts at 40%, inside the band before it (ending at 50%)"
    assert where(found) == at(text, "40% to 100%: 8%")
    assert found.hint == "start this band at 50%"


@covers("E041")
def test_an_empty_tier_band_is_reported() -> None:
    text = tiers("    below 50%: 4%\n    50% to 50%: 8%\n    50% and above: 12%\n")
    found = sole(text)
    assert found.code == "E041"
    assert found.message == "this band is empty: its upper bound is not above its lower bound"
    assert where(found) == at(text, "50% to 50%: 8%")
    assert found.hint is not None


@covers("E042")
def test_a_last_tier_band_that_ends_suggests_making_it_open_ended() -> None:
    text = tiers("    below 50%: 4%\n    50% to 100%: 8%\n")
    found = sole(text)
    assert found.code == "E042"
    assert found.message == "the last band ends, so nothing says what amounts above it earn"
    assert where(found) == at(text, "50% to 100%: 8%")
    assert found.hint == "make it open-ended: `50% and above`"


@covers("E043")
def test_a_first_tier_band_above_zero_suggests_a_band_below_it() -> None:
    text = tiers("    10% to 50%: 4%\n    50% and above: 8%\n")
    found = sole(text)
    assert found.code == "E043"
    assert found.message == "the first band does not start at zero, so nothing says what lower amounts earn"
    assert where(found) == at(text, "10% to 50%: 4%")
    assert found.hint == "start with `below 10%: 0%` or begin the band at 0"


@covers("E044")
def test_points_in_banded_tiers_suggest_interpolated_tiers() -> None:
    text = tiers("    at 0%: 4%\n    at 100%: 8%\n")
    found = sole(text)
    assert found.code == "E044"
    assert found.message == "marginal tiers are written as bands (`below 50%`, `50% to 100%`, `100% and above`)"
    assert where(found) == at(text, "at 0%: 4%")
    assert found.hint == "use `interpolated tiers` for points"


@covers("E044")
def test_bands_in_interpolated_tiers_ask_for_points() -> None:
    text = tiers("    below 50%: 4%\n    50% and above: 8%\n", mode="interpolated")
    found = sole(text)
    assert found.code == "E044"
    assert found.message == "interpolated tiers are written as points: `at 100%: 8%`"
    assert where(found) == at(text, "below 50%: 4%")
    assert found.hint == "use `at <position>: <rate>` rows"


@covers("E044")
def test_interpolated_points_that_go_down_are_reported() -> None:
    text = tiers("    at 50%: 4%\n    at 10%: 8%\n", mode="interpolated")
    found = sole(text)
    assert found.code == "E044"
    assert found.message == "points must go up: each `at` must be above the one before"
    assert where(found) == at(text, "at 10%: 8%")
    assert found.hint is not None


@covers("E045")
def test_money_bounds_on_attainment_tiers_ask_for_percentages() -> None:
    text = tiers("    below 50,000 USD: 4%\n    50,000 USD and above: 8%\n")
    found = all_with(text, "E045")
    assert [where(d) for d in found] == [at(text, "50,000 USD"), at(text, "50,000 USD", 2)]
    assert found[0].message == "tiers on attainment are bounded by percentages, not money (USD)"
    assert found[0].hint == "write bounds like `50%`"


@covers("E045")
def test_percentage_bounds_on_amount_tiers_ask_for_money() -> None:
    text = tiers("    below 50%: 4%\n    50% and above: 8%\n", position="amount").replace(
        'quota bookings_quota = "bookings" annual spread evenly\n', ""
    )
    found = all_with(text, "E045")
    assert [where(d) for d in found] == [at(text, "50%"), at(text, "50%", 2)]
    assert found[0].message == "tiers on an amount are bounded by money, not percent"
    assert found[0].hint == "write bounds like `100,000 USD`, or tier on `attainment against <quota>`"


# ---------------------------------------------------------------------- timelines: E050-E052
def with_parameter(values: str) -> str:
    return HEADER + BOOKINGS + commission("bonus_rate") + f"parameter bonus_rate = {values}\n"


@covers("E050")
def test_a_gap_between_parameter_values_names_the_missing_dates() -> None:
    text = with_parameter("5% from 2026-01-01 until 2026-06-01, 6% from 2026-07-01")
    found = sole(text)
    assert found.code == "E050"
    assert found.message == "parameter `bonus_rate` has no value from 2026-06-01 until 2026-07-01"
    assert where(found) == at(text, "6% from 2026-07-01")
    assert found.hint == "end the previous value at 2026-07-01, or start this one at 2026-06-01"


@covers("E050")
def test_a_parameter_that_stops_before_the_plan_ends_is_reported() -> None:
    text = with_parameter("5% from 2026-01-01 until 2026-06-01")
    found = sole(text)
    assert found.code == "E050"
    assert found.message == "parameter `bonus_rate` has no value from 2026-06-01 until the plan ends on 2027-01-01"
    assert where(found) == at(text, "5% from 2026-01-01 until 2026-06-01")
    assert found.hint == "extend the last value, or drop its `until`"


@covers("E051")
def test_overlapping_parameter_values_are_reported_on_the_later_value() -> None:
    text = with_parameter("5% from 2026-01-01 until 2026-08-01, 6% from 2026-07-01")
    found = sole(text)
    assert found.code == "E051"
    assert found.message == "parameter `bonus_rate`: the value until 2026-08-01 overlaps the one from 2026-07-01"
    assert where(found) == at(text, "6% from 2026-07-01")
    assert found.hint == "end the previous value at 2026-07-01"


@covers("E052")
def test_a_parameter_that_starts_after_the_plan_is_reported() -> None:
    text = with_parameter("5% from 2026-03-01")
    found = sole(text)
    assert found.code == "E052"
    assert found.message == "parameter `bonus_rate` has no value from the plan's start 2026-01-01 until 2026-03-01"
    assert where(found) == at(text, "5% from 2026-03-01")
    assert found.hint == "start the first value `from 2026-01-01`"


@covers("E052")
def test_one_of_several_parameter_values_without_a_from_date_is_reported() -> None:
    text = with_parameter("5% from 2026-01-01, 6%")
    found = sole(text)
    assert found.code == "E052"
    assert found.message == "parameter `bonus_rate` has several values, so each needs a `from` date"
    assert where(found) == at(text, ", 6%", part="6%")
    assert found.hint == "add `from <date>`"


# ---------------------------------------------------------------------- structure: E060-E090
@covers("E060")
def test_definitions_that_depend_on_each_other_show_the_cycle() -> None:
    text = HEADER + BOOKINGS + commission("base_rate") + "let base_rate = bonus_rate\nlet bonus_rate = base_rate\n"
    found = sole(text)
    assert found.code == "E060"
    assert found.message == "`base_rate` is defined in terms of itself: base_rate → bonus_rate → base_rate"
    assert where(found) == at(text, "let base_rate", part="base_rate")
    assert found.hint is not None


@covers("E061")
def test_two_rules_setting_one_value_without_precedence_are_reported_on_the_later_rule() -> None:
    rules = "rule base sets commission_rate to 5%\nrule other sets commission_rate to 6%\n"
    text = HEADER + BOOKINGS + commission("commission_rate") + rules
    found = sole(text)
    assert found.code == "E061"
    base_line = at(text, "rule base")[0]
    assert found.message == (
        f"rules `other` and `base` (at test.comp:{base_line}:1) both set `commission_rate` when `other` applies; "
        "neither is an exception to the other"
    )
    assert where(found) == at(text, "rule other", part="other")
    assert found.hint == "write `exception to base` on the more specific rule"


@covers("E070")
def test_split_shares_that_do_not_add_up_to_100_percent_show_the_total() -> None:
    text = HEADER + "deal attribute overlay: payee\n" + BOOKINGS.replace("to owner", "to owner 60%, deal.overlay 30%") + commission()
    found = sole(text)
    assert found.code == "E070"
    assert found.message == "the shares of credit rule `bookings` add up to 90%, not 100%"
    assert where(found) == at(text, "owner 60%")
    assert found.hint == "credit must be conserved: make them add up to 100%"


@covers("E070")
def test_a_recipient_without_a_share_among_several_is_underlined() -> None:
    text = HEADER + "deal attribute overlay: payee\n" + BOOKINGS.replace("to owner", "to owner 70%, deal.overlay") + commission()
    found = sole(text)
    assert found.code == "E070"
    assert found.message == "credit rule `bookings` has several recipients, so each needs a share, and this one has none"
    assert where(found) == at(text, "70%, deal.overlay", part="deal.overlay")
    assert found.hint is not None and "100%" in found.hint


def with_seasonality(spread: str) -> str:
    return (
        HEADER
        + BOOKINGS
        + f"""
measure booked = sum of bookings for the period
quota bookings_quota = "bookings" annual spread {spread}

component attainment_bonus "Attainment bonus"
  on booked
  rate booked / bookings_quota for the period
"""
    )


@covers("E071")
def test_seasonality_that_does_not_add_up_to_100_percent_shows_the_total() -> None:
    text = with_seasonality("20%, 20%, 20%, 30%")
    found = sole(text)
    assert found.code == "E071"
    assert found.message == "the seasonality adds up to 90%, not 100%"
    assert starts_at(found) == at(text, "quota bookings_quota")[:2]
    assert found.hint == "the shares spread one annual quota, so they must add up to 100%"


@covers("E071")
def test_seasonality_with_the_wrong_number_of_shares_says_how_many_periods() -> None:
    text = with_seasonality("50%, 50%")
    found = sole(text)
    assert found.code == "E071"
    assert found.message == "the plan has 4 periods a year, but the seasonality gives 2 shares"
    assert starts_at(found) == at(text, "quota bookings_quota")[:2]
    assert found.hint == "give 4 percentages"


@covers("E071")
def test_seasonality_without_percent_signs_is_reported_on_the_first_share() -> None:
    text = with_seasonality("25, 25, 25, 25")
    found = sole(text)
    assert found.code == "E071"
    assert found.message == "seasonality is written in percentages, e.g. `20%`"
    assert where(found) == at(text, "spread 25", part="25")
    assert found.hint is not None


@covers("E080")
def test_a_component_that_pays_nothing_is_reported_on_its_name() -> None:
    text = HEADER + BOOKINGS + commission().replace("  rate 5%\n", "")
    found = sole(text)
    assert found.code == "E080"
    assert found.message == "component `commission` pays nothing"
    assert where(found) == at(text, "component commission", part="commission")
    assert found.hint == "add a `pays`, `rate` or `tiers` clause"


@covers("E080")
def test_a_rate_with_nothing_to_apply_it_to_asks_for_per_credit_or_on() -> None:
    text = HEADER + BOOKINGS + commission().replace("  per credit of bookings\n", "")
    found = [d for d in diagnostics(text) if d.severity is Severity.ERROR]
    assert [d.code for d in found] == ["E080"]
    assert found[0].message == "component `commission` has a rate but nothing to apply it to"
    assert where(found[0]) == at(text, "rate 5%")
    assert found[0].hint == "add `per credit of <credit rule>` or `on <amount>`"


@covers("E080")
def test_tiers_applied_per_credit_need_a_declared_order() -> None:
    text = (
        HEADER
        + BOOKINGS
        + """
component commission "Commission"
  per credit of bookings
  marginal tiers on amount
    below 10,000 USD: 2%
    10,000 USD and above: 4%
"""
    )
    found = sole(text)
    assert found.code == "E080"
    assert found.message == "tiers applied credit by credit need a declared order"
    assert starts_at(found) == at(text, "marginal tiers")[:2]
    assert found.hint == "add `ordered by deal.close_date, deal.id`"


@covers("E081")
def test_a_second_reward_clause_is_reported() -> None:
    text = HEADER + BOOKINGS + commission() + "  pays 100 USD\n"
    found = sole(text)
    assert found.code == "E081"
    assert found.message == "component `commission` already has a reward clause"
    assert where(found) == at(text, "pays 100 USD")
    assert found.hint == "a component has one `pays`, `rate` or tiers clause; split it into two components"


@covers("E081")
def test_a_component_paid_both_per_credit_and_on_an_amount_is_reported_on_the_on_clause() -> None:
    text = HEADER + PERIOD_BASE.replace('quota bookings_quota = "bookings" annual spread evenly\n', "") + commission() + "  on booked\n"
    found = sole(text)
    assert found.code == "E081"
    assert found.message == "a component is paid either per credit or on a period amount, not both"
    assert where(found) == at(text, "on booked")
    assert found.hint == "remove `on` or `per credit`"


@covers("E082")
def test_a_clause_given_twice_is_reported_on_the_second() -> None:
    text = HEADER + BOOKINGS + commission() + '  cites "§3.1"\n  cites "§3.2"\n'
    found = sole(text)
    assert found.code == "E082"
    assert found.message == "component `commission` gives this clause twice"
    assert where(found) == at(text, 'cites "§3.2"')
    assert found.hint == "keep one"


@covers("E090")
def test_a_table_key_given_twice_names_the_line_of_the_first() -> None:
    table = 'table product_rate: percent by deal.product\n  "software": 5%\n  "services": 3%\n  "software": 6%\n'
    text = HEADER + BOOKINGS + commission("product_rate") + table
    found = sole(text)
    assert found.code == "E090"
    first_line = at(text, '"software": 5%')[0]
    assert found.message == f'table `product_rate` has a row for "software" already (line {first_line})'
    assert where(found) == at(text, '"software"', 2)
    assert found.hint == "keep one row per key"


@covers("E090")
def test_two_otherwise_rows_in_a_table_are_reported() -> None:
    table = 'table product_rate: percent by deal.product\n  "software": 5%\n  otherwise: 3%\n  otherwise: 4%\n'
    text = HEADER + BOOKINGS + commission("product_rate") + table
    found = sole(text)
    assert found.code == "E090"
    assert found.message == "table `product_rate` has two `otherwise` rows"
    assert where(found) == at(text, "otherwise: 4%")
    assert found.hint == "keep one"


@covers("E092")
def test_overlapping_rows_of_a_unique_decision_table_are_reported_on_the_later_row() -> None:
    table = """
decision table commission_rate: percent
  given deal.amount
  row below 50,000 USD: 5%
  row [25,000 USD, 100,000 USD): 6%
  row from 100,000 USD: 8%
"""
    text = HEADER + BOOKINGS + commission("commission_rate") + table
    found = sole(text)
    assert found.code == "E092"
    first_line = at(text, "row below")[0]
    assert found.message == (
        f"rows of decision table `commission_rate` overlap: the same inputs match this row and the one at line {first_line}"
    )
    assert where(found) == at(text, "row [25,000 USD, 100,000 USD): 6%")
    assert found.hint == "make the rows' tests exclusive, or declare `hit policy first` to use the first matching row"


# ---------------------------------------------------------------------- warnings: W100, W101
@covers("W100")
def test_a_definition_no_component_uses_is_a_warning() -> None:
    text = HEADER + BOOKINGS + commission() + "let spare_rate = 5%\n"
    found = sole(text)
    assert found.code == "W100"
    assert found.severity is Severity.WARNING
    assert found.message == "let `spare_rate` is not used by any component"
    assert where(found) == at(text, "spare_rate")
    assert found.hint == "remove it, or use it"


@covers("W100")
def test_an_attribute_nothing_reads_is_a_warning() -> None:
    text = HEADER + "deal attribute region: text\n" + BOOKINGS + commission()
    found = sole(text)
    assert found.code == "W100"
    assert found.message == "attribute `deal.region` is not used"
    assert where(found) == at(text, "region")


@covers("E032", "W100")
def test_a_quota_used_the_wrong_way_is_not_also_called_unused() -> None:
    text = (
        HEADER
        + PERIOD_BASE
        + """
component attainment_bonus "Attainment bonus"
  on booked
  rate booked / bookings_quota
"""
    )
    assert [d.code for d in diagnostics(text)] == ["E032"]


@covers("W101")
def test_a_year_to_date_amount_paid_every_period_without_a_true_up_is_a_warning() -> None:
    text = (
        HEADER
        + BOOKINGS
        + """
measure booked_ytd = sum of bookings for the year to date

component ytd_commission "Year-to-date commission"
  on booked_ytd
  rate 5%
"""
    )
    found = sole(text)
    assert found.code == "W101"
    assert found.severity is Severity.WARNING
    assert found.message == "component `ytd_commission` pays on `booked_ytd`, a year-to-date amount, every period"
    assert where(found) == at(text, "ytd_commission")
    assert found.hint == "add `true up for the year to date` so earlier periods' pay is subtracted"


def test_a_year_to_date_amount_with_a_true_up_has_no_warning() -> None:
    text = (
        HEADER
        + BOOKINGS
        + """
measure booked_ytd = sum of bookings for the year to date

component ytd_commission "Year-to-date commission"
  on booked_ytd
  rate 5%
  true up for the year to date
"""
    )
    assert diagnostics(text) == []


# ---------------------------------------------------------------------- pay policies
DRAW = """
draw ramp "New-hire draw"
  recoverable
  tops up to 5,000 USD per period
  for the first 2 periods on the plan
  recovers at most 50% of earnings per period
  outstanding at most 10,000 USD
  at termination forgiven
"""
HOLDBACK = """
holdback year_end "Year-end holdback"
  holds 20% of commission
  released at the fiscal year end
"""
CLAWBACK = """
clawback cancellations "Cancellation clawback"
  for deals cancelled or refunded within 180 days of the close date
  reverses fully
"""


def pay(policies: str, header: str = "") -> str:
    return HEADER + header + BOOKINGS + commission() + policies


def test_well_formed_pay_policies_have_no_diagnostics() -> None:
    assert diagnostics(pay(DRAW + HOLDBACK + CLAWBACK, "  payment when the invoice is paid\n")) == []


@covers("E014")
def test_an_unknown_payment_timing_names_both() -> None:
    text = pay("", "  payment on invoice\n")
    found = sole(text)
    assert found.code == "E014"
    assert found.message == "`payment on invoice` is not a payment timing"
    assert where(found) == at(text, "invoice")
    assert found.hint == "write `payment on booking` or `payment when the invoice is paid`"


@covers("E014")
def test_a_draw_tops_up_per_period_only() -> None:
    text = pay(DRAW.replace("5,000 USD per period", "5,000 USD per quarter"))
    found = sole(text)
    assert (found.code, found.message) == ("E014", "`per quarter` is not how often a draw tops up")
    assert where(found) == at(text, "per quarter", part="quarter")
    assert found.hint == "write `per period`: a draw tops up each calculation period"


@covers("E014")
def test_an_unknown_termination_outcome_suggests_the_closest() -> None:
    text = pay(DRAW.replace("at termination forgiven", "at termination forgven"))
    found = sole(text)
    assert (found.code, found.message) == ("E014", "`at termination forgven` is not what happens to a draw balance")
    assert found.hint == "did you mean `forgiven`?"


@covers("E014")
def test_a_draw_for_the_first_zero_periods() -> None:
    found = sole(pay(DRAW.replace("first 2 periods", "first 0 periods")))
    assert (found.code, found.message) == ("E014", "a draw applies for at least 1 period")


@covers("E015")
def test_a_draw_during_no_time() -> None:
    text = pay(DRAW.replace("for the first 2 periods on the plan", "during 2026-07-01 until 2026-07-01"))
    found = sole(text)
    assert (found.code, found.message) == ("E015", "`during` covers no time: 2026-07-01 is not after 2026-07-01")


@covers("E015")
def test_a_holdback_released_after_the_plan_ends_is_never_released() -> None:
    text = pay(HOLDBACK.replace("released at the fiscal year end", "released on 2027-01-31"))
    found = sole(text)
    assert found.code == "E015"
    assert found.message == (
        "holdback `year_end` is released on 2027-01-31, outside the plan (from 2026-01-01 until 2027-01-01), "
        "so no close of this plan reaches it"
    )
    assert where(found) == at(text, "released on 2027-01-31")


@covers("E017")
def test_a_library_cannot_hold_a_draw() -> None:
    found = sole('library shared "Shared"\n' + DRAW)
    assert found.code == "E017"
    assert found.message == "a library can share attributes, parameters, tables, curves, decision tables and lets, not a draw"


@covers("E020")
def test_a_holdback_of_an_unknown_component_suggests_the_closest() -> None:
    text = pay(HOLDBACK.replace("of commission", "of comission"))
    found = sole(text)
    assert (found.code, found.message) == ("E020", "there is no component `comission`")
    assert where(found) == at(text, "comission")
    assert found.hint == "did you mean `commission`?"


@covers("E021")
def test_two_pay_policies_with_one_name() -> None:
    text = pay(HOLDBACK + CLAWBACK.replace("cancellations", "year_end"))
    found = sole(text)
    line = at(text, "holdback year_end")[0]
    assert (found.code, found.message) == ("E021", f"`year_end` already names the holdback at line {line}")
    assert where(found) == at(text, "year_end", 2)


@covers("E021")
def test_a_component_held_by_two_holdbacks() -> None:
    text = pay(HOLDBACK + HOLDBACK.replace("year_end", "q_end"))
    found = sole(text)
    assert found.code == "E021"
    assert found.message == f"component `commission` is already held back by `year_end` (line {at(text, 'holdback year_end')[0]})"
    assert where(found) == at(text, "of commission", 2, part="commission")
    assert found.hint == "hold each component in one holdback"


@covers("E030")
def test_a_draw_amount_in_another_currency() -> None:
    text = pay(DRAW.replace("5,000 USD", "5,000 EUR"))
    found = sole(text)
    assert (found.code, found.message) == ("E030", "what a draw tops up to is in EUR, but the plan pays in USD")
    assert where(found) == at(text, "5,000 EUR")


@covers("E031")
def test_a_holdback_share_that_is_not_a_percentage() -> None:
    text = pay(HOLDBACK.replace("holds 20%", "holds 200 USD"))
    found = sole(text)
    assert (found.code, found.message) == ("E031", "the share a holdback holds must be a percentage, but this is money (USD)")
    assert where(found) == at(text, "200 USD")


@covers("E031")
def test_a_recovery_share_above_100_percent() -> None:
    found = sole(pay(DRAW.replace("at most 50%", "at most 150%")))
    assert (found.code, found.message) == ("E031", "the share of earnings a draw recovers must be above 0% and at most 100%, not 150%")


@covers("E031")
def test_a_draw_amount_must_be_money_above_zero() -> None:
    found = sole(pay(DRAW.replace("tops up to 5,000 USD", "tops up to 0 USD")))
    assert (found.code, found.message) == ("E031", "what a draw tops up to must be above 0")


@covers("E031")
def test_a_clawback_window_of_no_time() -> None:
    found = sole(pay(CLAWBACK.replace("180 days", "0 days")))
    assert (found.code, found.message) == ("E031", "a clawback window must be a whole number of days, months or years, at least 1")


@covers("E080")
def test_a_draw_that_does_not_say_whether_it_is_recoverable() -> None:
    text = pay(DRAW.replace("  recoverable\n", ""))
    found = sole(text)
    assert (found.code, found.message) == ("E080", "draw `ramp` does not say whether it is recoverable")
    assert where(found) == at(text, "ramp")
    assert found.hint == "add `recoverable` (an advance, recovered from later earnings) or `not recoverable` (a guarantee)"


@covers("E080")
def test_a_recoverable_draw_must_say_how_it_is_recovered_and_what_happens_at_termination() -> None:
    text = pay(DRAW.replace("  recovers at most 50% of earnings per period\n", "").replace("  at termination forgiven\n", ""))
    found = all_with(text, "E080")
    assert [f.message for f in found] == [
        "draw `ramp` is recoverable but does not say how it is recovered",
        "draw `ramp` is recoverable but does not say what happens to its balance at termination",
    ]


@covers("E080")
def test_a_guarantee_needs_the_periods_it_covers() -> None:
    text = pay('draw g "Guarantee"\n  not recoverable\n  tops up to 1,000 USD per period\n')
    found = sole(text)
    assert (found.code, found.message) == ("E080", "draw `g` is a guarantee with no end")


@covers("E080")
def test_a_holdback_and_a_clawback_need_both_their_clauses() -> None:
    text = pay('holdback h "H"\n  holds 10% of commission\n\nclawback c "C"\n  reverses fully\n')
    assert [(f.code, f.message) for f in diagnostics(text)] == [
        ("E080", "holdback `h` is never released"),
        ("E080", "clawback `c` has no window"),
    ]


@covers("E081")
def test_a_guarantee_is_not_recovered() -> None:
    text = pay(DRAW.replace("  recoverable\n", "  not recoverable\n"))
    found = all_with(text, "E081")
    assert [f.message for f in found] == [
        "draw `ramp` is not recoverable (a guarantee), so nothing is recovered and `recovers` has no meaning",
        "draw `ramp` is not recoverable (a guarantee), so nothing is recovered and `outstanding at most` has no meaning",
        "draw `ramp` is not recoverable (a guarantee), so nothing is recovered and `at termination` has no meaning",
    ]
    assert where(found[0]) == at(text, "recovers at most 50% of earnings per period")


@covers("E081")
def test_a_draw_applies_for_its_first_periods_or_during_dates_not_both() -> None:
    text = pay(DRAW + "  during 2026-01-01 until 2026-07-01\n")
    found = sole(text)
    assert (found.code, found.message) == ("E081", "a draw applies either for the first periods on the plan or during dates, not both")


@covers("E082")
def test_a_pay_policy_clause_given_twice() -> None:
    text = pay(CLAWBACK + "  reverses pro rata by time\n")
    found = sole(text)
    assert (found.code, found.message) == ("E082", "clawback `cancellations` gives this clause twice")
    assert where(found) == at(text, "reverses pro rata by time")


@covers("E001")
def test_a_misspelt_reversal_lists_the_ways_to_reverse() -> None:
    text = pay(CLAWBACK.replace("reverses fully", "reverses fuly"))
    found = sole(text)
    assert found.code == "E001"
    assert found.message == "unexpected `fuly`; expected `at`, `fully` or `pro`"
    assert found.hint == "did you mean `fully`?"


# ---------------------------------------------------------------------- coverage
def test_every_diagnostic_code_is_exercised_by_a_test() -> None:
    assert set(CODES) - COVERED == set(), "codes without a test"
    assert set(CODES) == COVERED
