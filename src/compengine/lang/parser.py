"""Parsing plan text with the Lark grammar, turning every syntax problem into a diagnostic.

The parser never lets a Lark exception reach a user: unexpected tokens become
"expected ... but found ..." messages in plan terms, and after an error it carries on with
the next declaration so one run reports every broken declaration.  Oversized, binary and
absurdly nested input is refused with a diagnostic before it can exhaust time or stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from compengine.core.source import SourceSpan
from compengine.lang import ast
from compengine.lang.builder import build_plan_file
from compengine.lang.diagnostics import Diagnostic, suggest

MAX_PLAN_BYTES = 256_000  # ~6,000 plan lines; keeps a worst-case parse to a few seconds
MAX_DEPTH = 200

#: Top-level keywords; a line starting with one begins a new declaration (used to resume
#: after a syntax error).
DECLARATION_KEYWORDS = (
    "plan", "library", "use", "revision", "deal", "payee", "parameter", "table", "curve", "credit",
    "measure", "quota", "let", "rule", "decision", "input", "component", "draw", "holdback", "clawback",
)  # fmt: skip

_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "INT": "a whole number",
    "DATE": "a date (YYYY-MM-DD)",
    "STRING": 'quoted text ("...")',
    "CURRENCY": "a currency code such as USD",
    "COMPARE": "a comparison (>=, <=, ==, !=, <, >)",
    "ADD_OP": "+ or -",
    "MUL_OP": "× or /",
    "DURATION_UNIT": "days, months or years",
    "$END": "the end of the file",
}


def grammar_text() -> str:
    """The grammar shipped in the package, or the repository's `grammar/` when running from
    a source checkout (an editable install does not copy it into the package)."""
    packaged = resources.files("compengine").joinpath("grammar/compengine.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    repo = Path(__file__).resolve().parents[3] / "grammar" / "compengine.lark"
    return repo.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True)


@dataclass
class ParseOutcome:
    plan_file: ast.PlanFile | None
    diagnostics: list[Diagnostic]


def read_plan_bytes(path: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    """Decode a plan file, refusing what cannot be a plan with a diagnostic."""
    where = SourceSpan(path, 1, 1, 1, 2)
    if len(data) > MAX_PLAN_BYTES:
        size = len(data) / 1000
        return None, [
            Diagnostic(where, "E003", f"the file is {size:,.0f} KB; a plan file may be at most 256 KB", "split the plan into several files")
        ]
    if b"\x00" in data:
        return None, [Diagnostic(where, "E003", "the file is binary, not plan text", "check that this is the plan file you meant")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        col = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        span = SourceSpan(path, line, col, line, col + 1)
        return None, [Diagnostic(span, "E003", "the file is not UTF-8 text", "save the plan as UTF-8")]


def parse_plan(path: str, text: str) -> ParseOutcome:
    """Parse a whole plan file; on syntax errors, each declaration is parsed on its own."""
    nested = _bracket_depth(path, text)
    if nested is not None:
        return ParseOutcome(None, [nested])
    comments: list[ast.Comment] = []
    try:
        tree = _parse(text, comments)
    except UnexpectedInput as error:
        outcome = _parse_by_declaration(path, text)
        if not outcome.diagnostics:  # the split did not isolate it: report the whole-file error
            outcome.diagnostics.append(syntax_diagnostic(path, text, error))
        return outcome
    deep = _too_deep(path, tree)
    if deep:
        return ParseOutcome(None, [deep])
    plan_file, diagnostics = build_plan_file(path, text, tree, comments)
    return ParseOutcome(plan_file, diagnostics)


def _parse(text: str, comments: list[ast.Comment]) -> Tree[Token]:
    tree = lark_parser().parse(text)
    comments.extend(_comments(text))
    return tree


_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\["\\n])*"|#[^\n]*')


def _comments(text: str) -> list[ast.Comment]:
    found = []
    for match in _COMMENT_OR_STRING.finditer(text):
        if match.group().startswith("#"):
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            found.append(ast.Comment(line, column, match.group()))
    return found


def _parse_by_declaration(path: str, text: str) -> ParseOutcome:
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _starts_declaration(line)] or [0]
    if starts[0] != 0:
        starts.insert(0, 0)
    diagnostics: list[Diagnostic] = []
    for index, first in enumerate(starts):
        last = starts[index + 1] if index + 1 < len(starts) else len(lines)
        chunk = "\n" * first + "\n".join(lines[first:last])
        try:
            tree = lark_parser().parse(chunk)
        except UnexpectedInput as error:
            diagnostics.append(syntax_diagnostic(path, chunk, error, at_file_end=last == len(lines)))
            continue
        deep = _too_deep(path, tree)
        if deep:
            diagnostics.append(deep)
    return ParseOutcome(None, diagnostics)


def _starts_declaration(line: str) -> bool:
    word = line.split(" ", 1)[0].split("\t", 1)[0]
    return word in DECLARATION_KEYWORDS


_BRACKETS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[()\[\]{}]')


def _bracket_depth(path: str, text: str) -> Diagnostic | None:
    """Refuse absurd bracket nesting before the parser spends seconds on it."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        char = match.group()
        if char in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                span = SourceSpan(path, line, column, line, column + 1)
                return Diagnostic(
                    span, "E004", f"this expression is nested more than {MAX_DEPTH} levels deep", "break it into `let` definitions"
                )
        elif char in ")]}":
            depth = max(depth - 1, 0)
    return None


def _too_deep(path: str, tree: Tree[Token]) -> Diagnostic | None:
    stack: list[tuple[Tree[Token] | Token, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Tree):
            continue
        if depth > MAX_DEPTH:
            meta = node.meta
            span = (
                SourceSpan(path, meta.line, meta.column, meta.end_line, meta.end_column) if not meta.empty else SourceSpan(path, 1, 1, 1, 2)
            )
            return Diagnostic(
                span, "E004", f"this expression is nested more than {MAX_DEPTH} levels deep", "break it into `let` definitions"
            )
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return None


def syntax_diagnostic(path: str, text: str, error: UnexpectedInput, at_file_end: bool = True) -> Diagnostic:
    """An UnexpectedInput from Lark, explained in plan terms.

    `at_file_end` is False when `text` is one declaration of a larger file, cut off where the
    next declaration starts.
    """
    if isinstance(error, UnexpectedCharacters):
        line, column, position = error.line, error.column, error.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        span = SourceSpan(path, line, column, line, column + 1)
        return Diagnostic(span, "E002", f"unexpected character `{char}`", _character_hint(text, position))
    if isinstance(error, UnexpectedEOF):
        return _ends_too_early(path, text, error.expected, at_file_end)
    assert isinstance(error, UnexpectedToken)
    token = error.token
    expected = sorted(error.accepts or error.expected)
    if token.type == "$END":
        return _ends_too_early(path, text, expected, at_file_end)
    if expected == ["TIERS"] and error.token_history:
        misspelt = _not_a_clause(path, error.token_history[-1])
        if misspelt is not None:
            return misspelt
    span = SourceSpan(
        path, token.line or 1, token.column or 1, token.end_line or token.line or 1, token.end_column or (token.column or 1) + 1
    )
    found = f"`{token.value}`"
    hint = _token_hint(str(token.value), expected)
    return Diagnostic(span, "E001", f"unexpected {found}; expected {_expected(expected)}", hint)


def _ends_too_early(path: str, text: str, expected: Iterable[str], at_file_end: bool) -> Diagnostic:
    """Input that stops mid-declaration, pointed at just after its last word."""
    body = text.rstrip()
    line = body.count("\n") + 1
    column = len(body) - (body.rfind("\n") + 1) + 1
    span = SourceSpan(path, line, column, line, column + 1)
    if at_file_end:
        return Diagnostic(
            span,
            "E001",
            f"the file ends too early; expected {_expected(sorted(expected))}",
            "finish the last declaration; a missing word or closing bracket is the usual cause",
        )
    return Diagnostic(
        span,
        "E001",
        f"this declaration stops before it is complete; expected {_expected(sorted(expected))}",
        "finish it before the next declaration",
    )


#: Words that start a component clause; a name elsewhere is read as a tier mode (`marginal tiers`).
_CLAUSE_KEYWORDS = ("cites", "per", "on", "ordered", "running", "during", "pays", "rate", "multiplied", "gate", "cap", "floor", "true")
_TIER_MODE_WORDS = ("marginal", "retroactive", "interpolated")


def _not_a_clause(path: str, previous: Token) -> Diagnostic | None:
    """`rat 5%` in a component: Lark read the name `rat` as a tier mode and wanted `tiers` after it."""
    word = str(previous)
    if previous.type != "NAME" or word in _TIER_MODE_WORDS:
        return None
    line, column = previous.line or 1, previous.column or 1
    span = SourceSpan(path, line, column, line, column + len(word))
    hint = suggest(word, _CLAUSE_KEYWORDS + _TIER_MODE_WORDS) or "a clause starts with " + ", ".join(f"`{k}`" for k in _CLAUSE_KEYWORDS)
    return Diagnostic(span, "E001", f"`{word}` does not start a component clause", hint)


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    for terminal in lark_parser().terminals:
        if terminal.name == name:
            pattern = terminal.pattern
            if pattern.type == "str":
                return f"`{pattern.value}`"
    return name.lower()


def _expected(names: list[str] | set[str]) -> str:
    described = sorted({_describe_terminal(n) for n in names})
    if len(described) > 8:
        keywords = [d for d in described if d.startswith("`")]
        if all(k.strip("`") in DECLARATION_KEYWORDS for k in keywords) and keywords:
            return "a new declaration (" + ", ".join(keywords) + ") or a clause of the one above"
        return ", ".join(described[:8]) + f" or one of {len(described) - 8} more"
    if len(described) == 1:
        return described[0]
    return ", ".join(described[:-1]) + " or " + described[-1]


def _token_hint(found: str, expected: list[str]) -> str:
    """A misspelt keyword if one is close; otherwise what to look for, in plan terms."""
    keywords = [_describe_terminal(n).strip("`") for n in expected]
    close = suggest(found, [k for k in keywords if k.isidentifier()])
    if close:
        return close
    described = {_describe_terminal(n) for n in expected}
    if len(described) == 1:
        return f"write {described.pop()} here"
    if {"`component`", "`credit`", "`parameter`"} <= described:
        return "a clause or declaration starts here, so the one before may be unfinished or have an extra word; check both lines"
    return "compare this line with the examples in docs/language.md; the words that can come here are listed above"


def _character_hint(text: str, position: int) -> str | None:
    char = text[position] if position < len(text) else ""
    if char.isupper():
        return "names start with a lower-case letter; currency codes (USD) follow a number"
    if char == "'":
        return 'quote text with double quotes: "like this"'
    if char == "$":
        return "write money as a number and a currency code: 1,000 USD"
    if char in "≥≤≠×÷":
        return None
    return "remove it, or put it inside quotes or a comment (#)"
