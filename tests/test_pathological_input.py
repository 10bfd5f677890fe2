"""Input no plan should be: deeply nested, huge, binary, garbled or empty.

Whatever a file holds, checking it ends quickly with diagnostics, never with a traceback or a
RecursionError.  Each case goes through `load_plans` on a real file, as `compengine check`
does; the property test at the end feeds arbitrary text to `compile_source`.
"""

from __future__ import annotations

import random
import re
import string
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from compengine.lang.diagnostics import CODES, Diagnostic, has_errors
from compengine.lang.loader import compile_source, load_plans
from tests.support import HEADER, PLANS_DIR

#: Wall-clock budget for checking one pathological file.
SECONDS = 3.0

PAID_ON = """
credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
"""


def check_file(tmp_path: Path, data: bytes, name: str = "plan.comp") -> list[Diagnostic]:
    """Write `data` to a plan file and load it, failing if that takes more than SECONDS."""
    path = tmp_path / name
    path.write_bytes(data)
    started = time.perf_counter()
    found = load_plans([str(path)]).diagnostics
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS, f"checking took {elapsed:.1f} s"
    return found


def codes(found: list[Diagnostic]) -> list[str]:
    return [d.code for d in found]


def plan_paying(expression: str, clause: str = "pays") -> bytes:
    return (HEADER + PAID_ON + f"  {clause} {expression}\n").encode()


# ---------------------------------------------------------------------- nesting
def test_five_thousand_nested_parentheses_are_refused_as_too_deep(tmp_path: Path) -> None:
    found = check_file(tmp_path, plan_paying("(" * 5000 + "100 USD" + ")" * 5000))
    assert codes(found) == ["E004"]
    assert found[0].span.line == HEADER.count("\n") + PAID_ON.count("\n") + 1


def test_five_thousand_unclosed_parentheses_are_refused_before_parsing(tmp_path: Path) -> None:
    found = check_file(tmp_path, plan_paying("(" * 5000))
    assert codes(found) == ["E004"]


def test_a_few_unclosed_parentheses_are_a_syntax_error(tmp_path: Path) -> None:
    found = check_file(tmp_path, plan_paying("(" * 5))
    assert codes(found) == ["E001"]


def test_five_thousand_nested_negations_are_refused_as_too_deep(tmp_path: Path) -> None:
    found = check_file(tmp_path, plan_paying("-" * 5000 + "100 USD"))
    assert codes(found) == ["E004"]


def test_five_thousand_nested_nots_are_refused_as_too_deep(tmp_path: Path) -> None:
    found = check_file(tmp_path, plan_paying("100 USD\n  gate " + "not " * 5000 + "true"))
    assert codes(found) == ["E004"]


def test_a_sum_of_five_thousand_terms_is_refused_as_too_deep(tmp_path: Path) -> None:
    text = HEADER + "let a = 1%\n" + PAID_ON + "  rate " + " + ".join(["a"] * 5000) + "\n"
    found = check_file(tmp_path, text.encode())
    assert codes(found) == ["E004"]


def test_calls_nested_just_under_the_limit_are_checked_without_exhausting_the_stack(tmp_path: Path) -> None:
    found = check_file(tmp_path, plan_paying("max(" * 190 + "100 USD" + ", 1 USD)" * 190))
    assert codes(found) == []


def test_a_chain_of_a_thousand_definitions_is_refused_as_too_deep(tmp_path: Path) -> None:
    chain = "".join(f"let rate_{i} = rate_{i + 1}\n" for i in range(1000)) + "let rate_1000 = 5%\n"
    found = check_file(tmp_path, (HEADER + PAID_ON + "  rate rate_0\n" + chain).encode())
    assert codes(found) == ["E004"]


def test_two_definitions_each_nested_just_under_the_limit_are_refused_as_too_deep(tmp_path: Path) -> None:
    lets = f"let rate_a = {'-' * 190}rate_b\nlet rate_b = {'abs(' * 190}5%{')' * 190}\n"
    found = check_file(tmp_path, (HEADER + PAID_ON + "  rate rate_a\n" + lets).encode())
    assert codes(found) == ["E004"]


# ---------------------------------------------------------------------- files that are not plan text
def test_a_ten_megabyte_file_is_refused_as_too_large_without_parsing_it(tmp_path: Path) -> None:
    found = check_file(tmp_path, (HEADER + "# " + "x" * 10_000_000 + "\n").encode())
    assert codes(found) == ["E003"]
    assert found[0].message == "the file is 10,000 KB; a plan file may be at most 256 KB"


def test_random_bytes_with_nuls_are_refused_as_binary(tmp_path: Path) -> None:
    rng = random.Random(20260101)
    data = bytes(rng.randrange(256) for _ in range(4096)) + b"\x00"
    found = check_file(tmp_path, data)
    assert codes(found) == ["E003"]
    assert found[0].message == "the file is binary, not plan text"


def test_invalid_utf8_is_refused_at_the_line_and_column_of_the_bad_byte(tmp_path: Path) -> None:
    found = check_file(tmp_path, HEADER.encode() + b"let caf\xc3 = 5%\n")
    assert codes(found) == ["E003"]
    assert found[0].message == "the file is not UTF-8 text"
    assert (found[0].span.line, found[0].span.column) == (HEADER.count("\n") + 1, 8)


def test_an_empty_file_has_no_plan_header(tmp_path: Path) -> None:
    found = check_file(tmp_path, b"")
    assert codes(found) == ["E010"]
    assert (found[0].span.line, found[0].span.column) == (1, 1)


def test_a_file_of_only_comments_has_no_plan_header(tmp_path: Path) -> None:
    found = check_file(tmp_path, b"# Enterprise AE plan\n# to be written\n")
    assert codes(found) == ["E010"]


def test_random_printable_garbage_gives_syntax_diagnostics(tmp_path: Path) -> None:
    rng = random.Random(7)
    garbage = "".join(rng.choice(string.printable) for _ in range(20_000))
    found = check_file(tmp_path, garbage.encode())
    assert found
    assert set(codes(found)) <= {"E001", "E002"}


def test_a_plan_header_followed_by_garbage_reports_each_broken_declaration(tmp_path: Path) -> None:
    broken = "let a = = 5%\ncredit from\ncomponent \n"
    found = check_file(tmp_path, (HEADER + broken).encode())
    assert codes(found) == ["E001", "E001", "E001"]


# ---------------------------------------------------------------------- any text at all
PLAN_WORDS = [
    "plan", "deal", "payee", "parameter", "table", "curve", "credit", "measure", "quota", "let", "component",
    "attribute", "version", "effective", "until", "from", "currency", "calculated", "quarterly", "fiscal", "year",
    "starts", "january", "rounding", "half", "up", "to", "places", "per", "by", "otherwise", "at", "where", "owner",
    "splits", "amount", "dated", "sum", "of", "for", "the", "period", "annual", "spread", "evenly", "cites", "on",
    "ordered", "running", "total", "during", "pays", "rate", "marginal", "tiers", "attainment", "against", "below",
    "and", "above", "multiplied", "when", "gate", "cap", "floor", "true", "false", "never", "negative", "if", "then",
    "else", "not", "in", "or", "target", "incentive", "max", "abs", "x", "deal.amount", "deal.close_date",
    "credit.share", "1", "5%", "100%", "1,000 USD", "10 EUR", "2026-01-01", "2026-02-30", "12 months", '"text"',
    "=", ":", ",", "(", ")", "{", "}", "[", "+", "-", "×", "/", ">=", "==", "\n", "#",
]  # fmt: skip


@settings(max_examples=150)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises_and_gives_diagnostics_or_a_plan(text: str) -> None:
    source = compile_source("fuzz.comp", text)
    assert source.plan is not None or has_errors(source.diagnostics)
    for diagnostic in source.diagnostics:
        assert diagnostic.code in CODES
        diagnostic.render(text)


@settings(max_examples=150)
@given(st.lists(st.sampled_from(PLAN_WORDS), max_size=80).map(" ".join))
def test_arbitrary_plan_words_after_a_header_never_raise(words: str) -> None:
    text = HEADER + words
    source = compile_source("fuzz.comp", text)
    assert source.plan is not None or has_errors(source.diagnostics)
    for diagnostic in source.diagnostics:
        assert diagnostic.code in CODES
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1
        diagnostic.render(text)


EXAMPLE_PLANS = [path.read_text(encoding="utf-8") for path in sorted(PLANS_DIR.glob("*.comp"))]


@st.composite
def mutated_plans(draw: st.DrawFn) -> str:
    """An example plan with a few words replaced, dropped or inserted: mostly still parses, so
    the checker sees plans that are wrong in ways a person might make them wrong."""
    words = re.split(r"(\s+)", draw(st.sampled_from(EXAMPLE_PLANS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(words) - 1))
        action = draw(st.sampled_from(["replace", "drop", "insert"]))
        if action == "replace":
            words[at] = draw(st.sampled_from(PLAN_WORDS))
        elif action == "drop":
            words[at] = ""
        else:
            words.insert(at, draw(st.sampled_from(PLAN_WORDS)) + " ")
    return "".join(words)


@settings(max_examples=200)
@given(mutated_plans())
def test_example_plans_with_a_few_words_changed_never_raise(text: str) -> None:
    source = compile_source("mutated.comp", text)
    assert source.plan is not None or has_errors(source.diagnostics)
    for diagnostic in source.diagnostics:
        assert diagnostic.code in CODES
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1
        diagnostic.render(text)


@settings(max_examples=300)
@given(mutated_plans())
def test_every_diagnostic_on_a_plausibly_broken_plan_comes_with_a_hint(text: str) -> None:
    for diagnostic in compile_source("mutated.comp", text).diagnostics:
        assert diagnostic.hint, f"{diagnostic.code}: {diagnostic.message}"
