"""The plan document a payee signs, generated from the plan's own source.

`compengine doc PLAN` writes it as Markdown or as a standalone HTML page.  Everything in it
comes from the plan's syntax tree (so it can describe each construct as written), the
checker's result (types), and the plan's test cases (the worked examples), so the document
and the rules the engine runs cannot drift apart.  The footer carries the SHA-256 of the plan
text, the same hash the engine records with every statement it calculates.

The document is built once as a small model (sections of paragraphs, lists, fact lists and
tables made of styled text runs) and rendered by two independent renderers, one per format,
each doing its own escaping.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal, TypeVar

from compengine import __version__
from compengine.core.money import group_digits, percent_text
from compengine.core.periods import MONTH_NAMES
from compengine.core.source import SourceSpan
from compengine.core.units import Kind, Type
from compengine.lang import ast
from compengine.lang.checker import CheckResult, check
from compengine.lang.diagnostics import Diagnostic, has_errors
from compengine.lang.loader import Reader, compile_source, resolve_libraries
from compengine.lang.parser import parse_plan, read_plan_bytes
from compengine.plantest import TEST_SUFFIX, Case, DealCase, Expectation, load_cases

# ================================================================== the document model

Style = Literal["plain", "code", "strong", "em"]


@dataclass(frozen=True)
class Run:
    """A piece of text in one style; `code` is the plan's own wording."""

    text: str
    style: Style = "plain"


Inline = tuple[Run, ...]


def plain(text: str) -> Inline:
    return (Run(text),)


def code(text: str) -> Inline:
    return (Run(text, "code"),)


def strong(text: str) -> Inline:
    return (Run(text, "strong"),)


def em(text: str) -> Inline:
    return (Run(text, "em"),)


def join(parts: Iterable[Inline], separator: str = ", ", last: str | None = None) -> Inline:
    """Parts joined by `separator`, the last two by `last` ("a, b and c")."""
    items = list(parts)
    result: Inline = ()
    for index, part in enumerate(items):
        if index:
            result += plain(last if last is not None and index == len(items) - 1 else separator)
        result += part
    return result


def inline_text(content: Inline) -> str:
    return "".join(run.text for run in content)


@dataclass
class Paragraph:
    text: Inline


@dataclass
class BulletList:
    items: list[Inline]


@dataclass
class Facts:
    """Labelled facts: "Version: 3"."""

    items: list[tuple[str, Inline]]


@dataclass
class Table:
    headers: list[Inline]
    rows: list[list[Inline]]
    numeric: frozenset[int] = frozenset()  # columns of amounts, aligned right


Block = Paragraph | BulletList | Facts | Table


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


@dataclass
class PlanDocument:
    title: str
    plan_id: str
    version: int | None
    source_path: str
    source_sha256: str
    engine_version: str
    intro: list[Block]
    sections: list[Section]
    footer: list[Inline]


# ================================================================== loading a plan for its document


@dataclass
class DocumentOutcome:
    """The document of one plan file, or the diagnostics that stop it from being written."""

    path: str
    text: str | None
    diagnostics: list[Diagnostic]
    document: PlanDocument | None


def source_sha256(text: str) -> str:
    """The plan's content hash, exactly as the compiler records it (`CompiledPlan.source_sha256`)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_examples(plan_path: str | Path) -> list[Case]:
    """The test cases written for a plan: its `*.tests.yaml` file, and any test file in the
    same folder whose `plan:` key names it."""
    path = Path(plan_path)
    folder = path.parent
    target = path.resolve()
    cases: list[Case] = []
    candidates = sorted(folder.glob(f"*{TEST_SUFFIX}")) if folder.is_dir() else []
    for test_file in candidates:
        for case in load_cases(test_file):
            if Path(case.plan_path).resolve() == target:
                cases.append(case)
    return cases


def document_source(path: str, text: str, cases: Sequence[Case] = (), read: Reader | None = None) -> DocumentOutcome:
    """Parse and check plan text (with the libraries it uses, read from disk or by `read`); if
    it has no errors, build its document, showing the shared definitions it uses as its own."""
    compiled = compile_source(path, text) if read is None else compile_source(path, text, read)
    if has_errors(compiled.diagnostics):
        return DocumentOutcome(path, text, compiled.diagnostics, None)
    parsed = parse_plan(path, text)
    assert parsed.plan_file is not None
    plan_file = parsed.plan_file
    imported = resolve_libraries(plan_file) if read is None else resolve_libraries(plan_file, read)
    checked = check(plan_file, imported)
    if imported:
        plan_file = dataclasses.replace(plan_file, decls=[*imported, *plan_file.decls])
    sha = compiled.plan.source_sha256 if compiled.plan is not None else None
    return DocumentOutcome(path, text, compiled.diagnostics, build_document(plan_file, checked, cases, sha256=sha))


def document_plan(path: str) -> DocumentOutcome:
    """Read a plan file and build its document, with the examples from its test cases."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        problem = Diagnostic(
            SourceSpan(path, 1, 1, 1, 1), "E003", f"cannot read the file: {error.strerror}", "give the path of a plan file (*.comp)"
        )
        return DocumentOutcome(path, None, [problem], None)
    text, problems = read_plan_bytes(path, data)
    if text is None:
        return DocumentOutcome(path, None, problems, None)
    return document_source(path, text, plan_examples(path))


# ================================================================== plain words for plan values

WINDOWS = ("PERIOD", "QUARTER_TO_DATE", "YEAR_TO_DATE", "FULL_YEAR")
PERIOD_NOUNS = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}
COMPARISONS = {">=": "is at least", ">": "is more than", "<=": "is at most", "<": "is less than", "==": "is", "!=": "is not"}
OPERATORS = {"×": "×", "/": "÷", "+": "+", "-": "−"}
AGGREGATE_WORDS = {"sum": "total", "count": "number", "min": "smallest", "max": "largest", "average": "average"}
TYPE_WORDS = {
    "money": "an amount",
    "percent": "a percentage",
    "ratio": "a ratio (shown as a percentage)",
    "number": "a number",
    "count": "a whole number",
    "date": "a date",
    "duration": "a length of time",
    "boolean": "yes or no",
    "text": "text",
    "payee": "a payee",
}
DEAL_FIELD_WORDS = {
    "id": "the deal id",
    "owner": "the deal owner",
    "type": "the deal type",
    "product": "the deal's product",
    "amount": "the deal amount",
    "currency": "the deal currency",
    "close_date": "the deal's close date",
}
PAYEE_FIELD_WORDS = {"id": "your payee id", "name": "your name", "hire_date": "your hire date"}
CREDIT_FIELD_WORDS = {
    "amount": "the credited amount",
    "share": "your share of the deal",
    "date": "the credit date",
    "role": "the credit's role",
    "rule": "the credit rule",
}
TIER_MODE_WORDS = {
    "marginal": "Marginal tiers: each part of the amount is paid at the rate of the band that part falls in, like tax brackets.",
    "retroactive": (
        "Retroactive tiers: the whole amount is paid at the rate of the band it reaches, so reaching a higher band "
        "also raises the rate on everything counted before it."
    ),
    "interpolated": (
        "Interpolated tiers: the whole amount is paid at a rate read off a straight line between the two points around it; "
        "below the first point the first rate applies, at or above the last point the last rate."
    ),
}

# Precedence, for parentheses when phrasing nested expressions.
P_IF, P_OR, P_AND, P_NOT, P_COMPARE, P_ADD, P_MUL, P_NEGATE, P_ATOM = range(1, 10)

_SOURCE_PIECES = re.compile(r'"(?:[^"\\\n]|\\.)*"|(?:\s+|#[^\n]*)+')


def human(name: str) -> str:
    """`term_months` -> `term months`."""
    return name.replace("_", " ").strip() or name


def number_text(value: Decimal) -> str:
    return group_digits(value)


def day(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def last_day(until: object) -> str:
    """The last day covered by a half-open range ending at `until`."""
    if isinstance(until, date) and until > date.min:
        return (until - timedelta(days=1)).isoformat()
    return day(until)


def date_range(start: object | None, until: object | None) -> str:
    if start is None and until is None:
        return "always"
    if start is None:
        return f"up to and including {last_day(until)}"
    if until is None:
        return f"from {day(start)} on"
    return f"from {day(start)} through {last_day(until)}"


def literal_text(literal: ast.Literal) -> str:
    value = literal.value
    if literal.kind == "date":
        return day(value)
    if literal.kind == "text":
        return f"“{value}”"
    if literal.kind == "boolean":
        return "yes" if value else "no"
    if isinstance(value, tuple) and value and isinstance(value[0], Decimal):  # (amount, unit) durations
        return f"{number_text(value[0])} {value[1]}"
    if not isinstance(value, Decimal):
        return str(value)
    if literal.kind == "percent":
        return f"{number_text(value)}%"
    if literal.kind == "money":
        return f"{number_text(value)} {literal.currency}"
    if literal.kind == "duration":
        return f"{number_text(value)} {literal.unit or ''}".strip()
    return number_text(value)


def type_words(found: Type | str | None, currency: str | None = None) -> str | None:
    if found is None:
        return None
    if isinstance(found, Type):
        if found.kind is Kind.MONEY:
            return f"an amount in {found.currency or currency}" if (found.currency or currency) else "an amount"
        return TYPE_WORDS.get(found.kind.value)
    if found == "money" and currency:
        return f"an amount in {currency}"
    return TYPE_WORDS.get(found, found)


E = TypeVar("E", bound=ast.Clause)


def first_clause(clauses: Sequence[ast.Clause], kind: type[E]) -> E | None:
    return next((c for c in clauses if isinstance(c, kind)), None)


def all_clauses(clauses: Sequence[ast.Clause], kind: type[E]) -> list[E]:
    return [c for c in clauses if isinstance(c, kind)]


def sub_expressions(expr: ast.Expr) -> list[ast.Expr]:
    if isinstance(expr, ast.Call):
        return list(expr.args)
    if isinstance(expr, ast.Binary | ast.Compare):
        return [expr.left, expr.right]
    if isinstance(expr, ast.Negate | ast.Not):
        return [expr.operand]
    if isinstance(expr, ast.Member):
        return [expr.value, expr.collection]
    if isinstance(expr, ast.IntervalLit):
        return [expr.start, expr.end]
    if isinstance(expr, ast.BoolOp):
        return list(expr.operands)
    if isinstance(expr, ast.IfThenElse):
        return [expr.condition, expr.then, expr.otherwise]
    return []


def decl_expressions(decl: ast.Decl) -> list[ast.Expr]:
    """The expressions written in a declaration (not those of the definitions it names)."""
    found: list[ast.Expr | None] = []
    if isinstance(decl, ast.ParameterDecl):
        found += [v.value for v in decl.values]
    elif isinstance(decl, ast.TableDecl):
        found += [decl.key] + [v.value for row in decl.rows for v in row.values]
    elif isinstance(decl, ast.CreditDecl):
        found += [decl.where, decl.amount, decl.dated] + [r.condition for r in decl.recipients]
    elif isinstance(decl, ast.MeasureDecl):
        found.append(decl.where)
    elif isinstance(decl, ast.LetDecl):
        found.append(decl.expr)
    elif isinstance(decl, ast.RuleDecl):
        found += [decl.value, decl.when]
    elif isinstance(decl, ast.DecisionDecl):
        found += list(decl.inputs) + [row.output for row in decl.rows] + [decl.otherwise]
    elif isinstance(decl, ast.ComponentDecl):
        for clause in decl.clauses:
            found += clause_expressions(clause)
    return [e for e in found if e is not None]


def clause_expressions(clause: ast.Clause) -> list[ast.Expr | None]:
    if isinstance(clause, ast.PerCreditClause):
        return [clause.where]
    if isinstance(clause, ast.OnClause | ast.PaysClause):
        return [clause.amount]
    if isinstance(clause, ast.OrderedClause):
        return list(clause.keys)
    if isinstance(clause, ast.RateClause):
        return [clause.rate]
    if isinstance(clause, ast.TiersClause):
        return [clause.against] + [row.rate for row in clause.rows]
    if isinstance(clause, ast.MultiplierClause):
        return [clause.factor, clause.when]
    if isinstance(clause, ast.GateClause):
        return [clause.condition]
    if isinstance(clause, ast.LimitClause):
        return [clause.amount]
    return []


def walk_expressions(roots: Iterable[ast.Expr]) -> Iterator[ast.Expr]:
    stack = list(roots)
    while stack:
        expr = stack.pop()
        yield expr
        stack.extend(sub_expressions(expr))


class _Plan:
    """What phrasing needs to know about the plan: its declarations, header and source."""

    def __init__(self, plan_file: ast.PlanFile, checked: CheckResult | None, decls: Sequence[ast.Decl]):
        self.file = plan_file
        self.checked = checked
        self.text = plan_file.text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        header = plan_file.header
        self.clauses = {c.kind: c for c in header.clauses} if header else {}
        calculated = self.clauses.get("calculated")
        self.period = PERIOD_NOUNS.get(str(calculated.values[0]), "period") if calculated and calculated.values else "period"
        currency = self.clauses.get("currency")
        self.currency = str(currency.values[0]) if currency and currency.values else None
        rounding = self.clauses.get("rounding")
        places = rounding.values[1] if rounding and len(rounding.values) > 1 else 2
        self.places = places if isinstance(places, int) else 2
        self.names: dict[str, ast.Decl] = {}
        self.components: dict[str, ast.ComponentDecl] = {}
        self.attributes: dict[str, ast.AttributeDecl] = {}
        self.rules: dict[str, list[ast.RuleDecl]] = {}
        self.pay: dict[str, ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl] = {}  # their own namespace
        self.add(decls)

    def add(self, decls: Sequence[ast.Decl]) -> None:
        """Declarations that replace those of the same name (the base plan, then a revision)."""
        for decl in decls:
            if isinstance(decl, ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl):
                self.pay[decl.name.text] = decl
            elif isinstance(decl, ast.ComponentDecl):
                self.components[decl.name.text] = decl
            elif isinstance(decl, ast.AttributeDecl):
                self.attributes[f"{decl.owner}.{decl.name.text}"] = decl
            else:
                self.names[decl.name.text] = decl
                if isinstance(decl, ast.RuleDecl):
                    for target, rules in self.rules.items():
                        self.rules[target] = [r for r in rules if r.name.text != decl.name.text]
                    self.rules.setdefault(decl.target.text, []).append(decl)

    def copy_with(self, decls: Sequence[ast.Decl]) -> _Plan:
        revised = _Plan(self.file, self.checked, [])
        revised.names = dict(self.names)
        revised.components = dict(self.components)
        revised.attributes = dict(self.attributes)
        revised.rules = {k: list(v) for k, v in self.rules.items()}
        revised.pay = dict(self.pay)
        revised.add(decls)
        return revised

    # ------------------------------------------------------------------ source text
    def source(self, span: SourceSpan) -> str:
        """The text at a span with comments dropped and whitespace normalised."""
        if not 1 <= span.line <= span.end_line <= len(self._line_starts):
            return ""
        start = self._line_starts[span.line - 1] + span.column - 1
        end = self._line_starts[span.end_line - 1] + span.end_column - 1
        raw = self.text[start:end]

        def piece(match: re.Match[str]) -> str:
            text = match.group()
            return text if text.startswith('"') else " "  # a run of spaces, line breaks and comments: one space

        return _SOURCE_PIECES.sub(piece, raw).strip()

    def as_written(self, node: ast.Expr | ast.Node) -> Inline:
        text = self.source(node.span)
        return code(text) if text else plain("(see the plan)")

    # ------------------------------------------------------------------ types
    def type_of(self, expr: ast.Expr) -> Type | None:
        return self.checked.types.get(id(expr)) if self.checked else None

    def is_boolean(self, expr: ast.Expr) -> bool:
        found = self.type_of(expr)
        if found is not None:
            return found.kind is Kind.BOOLEAN
        if isinstance(expr, ast.FieldRef):
            attribute = self.attributes.get(f"{expr.scope}.{expr.name}")
            return attribute is not None and attribute.type_name.text == "boolean"
        if isinstance(expr, ast.NameRef):
            decl = self.names.get(expr.name)
            annotation = getattr(decl, "type_name", None)
            return isinstance(annotation, ast.Word) and annotation.text == "boolean"
        return False

    def definition_type(self, name: str) -> Type | None:
        if self.checked is None:
            return None
        info = self.checked.defs.get(name)
        return info.type if info is not None else None

    # ------------------------------------------------------------------ windows
    def window(self, window: str) -> str:
        return {
            "PERIOD": f"for the {self.period}",
            "QUARTER_TO_DATE": "for the fiscal quarter to date",
            "YEAR_TO_DATE": "for the fiscal year to date",
            "FULL_YEAR": "for the full fiscal year",
        }.get(window, human(window.lower()))

    def credits_window(self, window: str | None) -> str:
        return {
            "PERIOD": f"dated in the {self.period}",
            "QUARTER_TO_DATE": f"dated from the start of the fiscal quarter to the end of the {self.period}",
            "YEAR_TO_DATE": f"dated from the start of the fiscal year to the end of the {self.period}",
            "FULL_YEAR": f"dated anywhere in the fiscal year, including later {self.period}s",
        }.get(window or "PERIOD", human((window or "").lower()))

    # ------------------------------------------------------------------ expressions
    def expr(self, expr: ast.Expr, need: int = P_OR) -> Inline:
        """An expression in words; an `if` is put in parentheses unless `need` says otherwise,
        so that it cannot run into the words around it."""
        phrase, precedence = self._phrase(expr)
        return plain("(") + phrase + plain(")") if precedence < need else phrase

    def condition(self, expr: ast.Expr, need: int = P_OR) -> Inline:
        """A condition in words; a yes/no value reads "… is yes"."""
        if self.is_boolean(expr) and isinstance(expr, ast.FieldRef | ast.NameRef):
            return self.expr(expr) + plain(" is yes")
        if isinstance(expr, ast.Not) and self.is_boolean(expr.operand) and isinstance(expr.operand, ast.FieldRef | ast.NameRef):
            return self.expr(expr.operand) + plain(" is no")
        return self.expr(expr, need)

    def _phrase(self, expr: ast.Expr) -> tuple[Inline, int]:
        if isinstance(expr, ast.Literal):
            return plain(literal_text(expr)), P_ATOM
        if isinstance(expr, ast.NameRef):
            return code(expr.name), P_ATOM
        if isinstance(expr, ast.FieldRef):
            return plain(self.field_words(expr.scope, expr.name)), P_ATOM
        if isinstance(expr, ast.TargetIncentive):
            return plain(f"your target incentive {self.window(expr.window)}"), P_ATOM
        if isinstance(expr, ast.WindowedRef):
            quota = self.names.get(expr.name)
            if isinstance(quota, ast.QuotaDecl):
                return plain(f"your {quota.key} quota {self.window(expr.window)}"), P_ATOM
            return code(expr.name) + plain(f" {self.window(expr.window)}"), P_ATOM
        if isinstance(expr, ast.Call):
            return self._call(expr)
        if isinstance(expr, ast.Binary):
            own = P_MUL if expr.op in ("×", "/") else P_ADD
            op = OPERATORS.get(expr.op, expr.op)
            return self.expr(expr.left, own) + plain(f" {op} ") + self.expr(expr.right, own + 1), own
        if isinstance(expr, ast.Negate):
            return plain("−") + self.expr(expr.operand, P_NEGATE), P_NEGATE
        if isinstance(expr, ast.Compare):
            words = COMPARISONS.get(expr.op, expr.op)
            return self.expr(expr.left, P_ADD) + plain(f" {words} ") + self.expr(expr.right, P_ADD), P_COMPARE
        if isinstance(expr, ast.Member):
            return self._member(expr)
        if isinstance(expr, ast.BoolOp):
            own = P_AND if expr.op == "and" else P_OR
            return join((self.condition(o, own + 1) for o in expr.operands), f" {expr.op} "), own
        if isinstance(expr, ast.Not):
            return plain("not ") + self.condition(expr.operand, P_ATOM), P_NOT
        if isinstance(expr, ast.IfThenElse):
            phrase = (
                plain("if ")
                + self.condition(expr.condition, P_OR)
                + plain(" then ")
                + self.expr(expr.then, P_OR)
                + plain(", otherwise ")
                + self.expr(expr.otherwise, P_OR)
            )
            return phrase, P_IF
        return self.as_written(expr), P_ATOM

    def _call(self, expr: ast.Call) -> tuple[Inline, int]:
        args = [self.expr(a, P_IF + 1) for a in expr.args]
        if expr.name in ("min", "max") and len(args) >= 2:
            which = {"min": "smaller", "max": "larger"} if len(args) == 2 else {"min": "smallest", "max": "largest"}
            return plain(f"the {which[expr.name]} of ") + join(args, ", ", " and "), P_ATOM
        if expr.name == "abs" and len(args) == 1:
            return plain("the absolute value of ") + args[0], P_ATOM
        target = self.names.get(expr.name)
        if isinstance(target, ast.CurveDecl) and len(args) == 1:
            return plain("the ") + code(expr.name) + plain(" curve read at ") + args[0], P_ATOM
        if isinstance(target, ast.DecisionDecl):
            return plain("the value of decision table ") + code(expr.name) + plain(" for ") + join(args, ", ", " and "), P_ATOM
        return self.as_written(expr), P_ATOM

    def _member(self, expr: ast.Member) -> tuple[Inline, int]:
        value = self.expr(expr.value, P_ADD)
        collection = expr.collection
        if isinstance(collection, ast.SetLit) and collection.items:
            items = [plain(literal_text(item)) for item in collection.items]
            if not expr.negated:
                return value + plain(" is ") + join(items, ", ", " or "), P_COMPARE
            if len(items) == 1:
                return value + plain(" is not ") + items[0], P_COMPARE
            if len(items) == 2:
                return value + plain(" is neither ") + items[0] + plain(" nor ") + items[1], P_COMPARE
            return value + plain(" is none of ") + join(items, ", ", " and "), P_COMPARE
        if isinstance(collection, ast.IntervalLit):
            start, end = self.expr(collection.start, P_ADD), self.expr(collection.end, P_ADD)
            bounds = plain("from ") + start + plain(" up to, not including, ") + end
            return value + plain(" is not " if expr.negated else " is ") + bounds, P_COMPARE
        if isinstance(collection, ast.ListRef):
            owner = self.field_words(collection.scope, collection.name)
            return value + plain(f" is {'not ' if expr.negated else ''}one of {owner}"), P_COMPARE
        return self.as_written(expr), P_ATOM

    def field_words(self, scope: str, name: str) -> str:
        if scope == "deal":
            return DEAL_FIELD_WORDS.get(name, f"the deal's {human(name)}")
        if scope == "payee":
            return PAYEE_FIELD_WORDS.get(name, f"your {human(name)}")
        if scope == "credit":
            return CREDIT_FIELD_WORDS.get(name, f"the credit's {human(name)}")
        return f"{scope} {human(name)}"

    # ------------------------------------------------------------------ what a component reaches
    def reached(self, roots: Iterable[ast.Expr], credit_names: Iterable[str] = ()) -> tuple[list[ast.Decl], list[str]]:
        """The named definitions (in order of first use) and credit rules that expressions use,
        directly or through other definitions."""
        found: dict[str, ast.Decl] = {}
        credits: list[str] = []

        def credit(name: str) -> None:
            if name not in credits:
                credits.append(name)

        for name in credit_names:
            credit(name)
        pending = list(roots)
        while pending:
            names: list[str] = []
            for expr in walk_expressions(pending):
                if isinstance(expr, ast.NameRef | ast.WindowedRef | ast.Call):
                    names.append(expr.name)
            pending = []
            for name in names:
                for decl in self._named(name):
                    key = decl.name.text
                    if key in found:
                        continue
                    found[key] = decl
                    pending.extend(decl_expressions(decl))
                    if isinstance(decl, ast.MeasureDecl):
                        credit(decl.credit.text)
        return [d for d in found.values() if not isinstance(d, ast.CreditDecl)], credits

    def _named(self, name: str) -> list[ast.Decl]:
        decls: list[ast.Decl] = []
        if name in self.names:
            decls.append(self.names[name])
        decls.extend(self.rules.get(name, []))
        return decls


# ================================================================== building the document


class _Anchors:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, title: str) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
        anchor, n = base, 2
        while anchor in self.seen:
            anchor, n = f"{base}-{n}", n + 1
        self.seen.add(anchor)
        return anchor


class _Builder:
    def __init__(self, plan_file: ast.PlanFile, checked: CheckResult | None, cases: Sequence[Case], sha256: str | None = None):
        self.file = plan_file
        self.sha256 = sha256
        self.plan = _Plan(plan_file, checked, plan_file.decls)
        self.cases = cases
        self.anchor = _Anchors()
        header = plan_file.header
        library = plan_file.library
        self.plan_id = header.name.text if header else library.name.text if library else Path(plan_file.path).stem
        self.title = (header.title or header.name.text) if header else (library.title or library.name.text) if library else self.plan_id
        version = self.plan.clauses.get("version")
        self.version = version.values[0] if version and version.values and isinstance(version.values[0], int) else None

    def section(self, title: str, blocks: list[Block] | None = None, sections: list[Section] | None = None) -> Section:
        return Section(title, self.anchor(title), blocks or [], sections or [])

    def build(self, engine_version: str) -> PlanDocument:
        sha = self.sha256 or source_sha256(self.file.text)
        sections = [self.summary(), self.components_section(self.plan, list(self.plan.components.values()))]
        if self.plan.pay or "payment" in self.plan.clauses:
            sections.append(self.pay_section(self.plan, list(self.plan.pay.values())))
        definitions = self.definitions(self.plan, self.file.decls, self.unused_credits())
        if self.file.uses:
            definitions.append(self.uses_section())
        if definitions:
            sections.append(self.section("Values and definitions", [Paragraph(plain(self.definitions_intro()))], definitions))
        sections.extend(self.revision_sections())
        sections.append(self.examples_section())
        path = self.file.path
        footer = [
            plain(f"Generated by compengine {engine_version} from the plan file ") + code(path) + plain("."),
            plain("Plan content hash (SHA-256): ") + code(sha),
            plain(
                "The hash identifies this exact plan text: any change to the plan, even to a comment, changes it. "
                "The engine records the same hash (plan_sha256) with every statement it calculates, so a statement "
                "with this hash was calculated by the rules described here."
            ),
        ]
        return PlanDocument(self.title, self.plan_id, self.version, path, sha, engine_version, self.intro(), sections, footer)

    # ------------------------------------------------------------------ introduction and summary
    def intro(self) -> list[Block]:
        what = f"version {self.version} of " if self.version is not None else ""
        if self.file.header is None and self.file.library is not None:
            return [Paragraph(plain(f"This document describes the shared definitions of the library {self.title}."))]
        return [
            Paragraph(
                plain(f"This document describes {what}the {self.title} compensation plan. It is generated from the plan file the ")
                + plain("compensation engine runs, so the rules below are exactly the rules used to calculate your pay, and the ")
                + plain("worked examples at the end are the figures the engine is tested against. Where the document quotes the ")
                + plain("plan's own wording, it is shown ")
                + code("like this")
                + plain(". Dates are written year-month-day.")
            )
        ]

    def summary(self) -> Section:
        plan = self.plan
        clauses = plan.clauses
        facts: list[tuple[str, Inline]] = [("Plan", code(self.plan_id))]
        if self.version is not None:
            facts.append(("Version", plain(str(self.version))))
        effective = clauses.get("effective")
        if effective and len(effective.values) == 2:
            start, until = effective.values
            facts.append(
                (
                    "In effect",
                    plain(f"from {day(start)} through {last_day(until)} (the plan no longer applies from {day(until)})"),
                )
            )
        if plan.currency:
            facts.append(("Currency", plain(f"{plan.currency}: every amount in this plan is in {plan.currency}")))
        calculated = clauses.get("calculated")
        if calculated and calculated.values:
            word = str(calculated.values[0])
            facts.append(("Calculation period", plain(f"{word}: you receive a statement for each {plan.period} you are on the plan")))
        fiscal = clauses.get("fiscal")
        if fiscal and fiscal.values:
            facts.append(("Fiscal year", plain(self.fiscal_words(str(fiscal.values[0])))))
        rounding = clauses.get("rounding")
        if rounding and len(rounding.values) == 3:
            facts.append(("Rounding", plain(self.rounding_words(str(rounding.values[0]), plan.places, str(rounding.values[2])))))
        proration = clauses.get("proration")
        if proration:
            facts.append(("Part periods", plain(f"pay for part of a {plan.period} is prorated by {' '.join(map(str, proration.values))}")))
        changes = clauses.get("changes")
        if changes:
            facts.append(("Assignment changes", plain(self.changes_words(str(changes.values[0]) if changes.values else ""))))
        conversion = clauses.get("conversion")
        if conversion:
            facts.append(("Other currencies", plain(self.conversion_words(conversion.values))))
        payment = clauses.get("payment")
        if payment:
            facts.append(("Payment", plain(self.payment_words(payment))))
        for kind, clause in clauses.items():
            if kind not in (
                *("version", "effective", "currency", "calculated", "fiscal", "rounding"),
                *("proration", "changes", "conversion", "payment"),
            ):
                facts.append((human(kind).capitalize(), plan.as_written(clause)))
        return self.section("Plan summary", [Facts(facts)])

    def fiscal_words(self, month: str) -> str:
        names = [m.capitalize() for m in MONTH_NAMES]
        if month not in MONTH_NAMES:
            return f"starts in {month}"
        first = MONTH_NAMES.index(month)
        text = (
            "the calendar year"
            if first == 0
            else f"starts on 1 {names[first]}; a fiscal year is named after the calendar year it starts in"
        )
        if self.plan.period == "quarter":
            quarters = [f"Q{q + 1} {names[(first + 3 * q) % 12]} to {names[(first + 3 * q + 2) % 12]}" for q in range(4)]
            text += "; the quarters are " + ", ".join(quarters)
        elif self.plan.period == "month" and first:
            text += f"; month 1 is {names[first]}"
        return text

    @staticmethod
    def rounding_words(mode: str, places: int, level: str) -> str:
        last_place = "one cent" if places == 2 else "one unit" if places == 0 else f"one unit of the last of the {places} places"
        unit = "whole units" if places == 0 else f"{places} decimal place{'s' if places != 1 else ''}"
        if mode == "up":
            how = "halves are rounded away from zero" + (" (2.345 becomes 2.35)" if places == 2 else "")
        elif mode == "even":
            how = "halves are rounded to the even digit" + (" (2.345 becomes 2.34, 2.355 becomes 2.36)" if places == 2 else "")
        else:
            how = f"halves are rounded {mode}"
        where = {
            "credit": "each deal's payout is rounded, and then each statement line",
            "component": "each statement line is rounded once",
            "statement": (
                "the lines of a statement are rounded together so that they add up exactly to the rounded total "
                f"(a line may differ by {last_place} from its own rounded amount)"
            ),
        }.get(level, f"rounding applies per {level}")
        return f"amounts are rounded to {unit}; {how}; {where}; nothing else is rounded: every other calculation is exact"

    def changes_words(self, value: str) -> str:
        if value == "split":
            return (
                f"if your assignment changes within a {self.plan.period}, the {self.plan.period} is split and "
                "each part is calculated under the assignment in force"
            )
        if value == "period end":
            return (
                f"if your assignment changes within a {self.plan.period}, the assignment in force on the "
                f"{self.plan.period}'s last day applies to the whole {self.plan.period}"
            )
        return value

    @staticmethod
    def conversion_words(values: Sequence[object]) -> str:
        rate_type = values[0] if values else ""
        when = values[1] if len(values) > 1 else ""
        text = f"deals in other currencies are converted at the “{rate_type}” rates"
        text += " on each credit date" if when == "credit date" else " at the end of the period" if when == "period end" else ""
        if len(values) > 4 and values[2] == "rounded":
            text += f", rounded half {values[3]} to {values[4]} places"
        elif len(values) > 2 and values[2] == "unrounded":
            text += ", without rounding"
        return text

    def payment_words(self, clause: ast.HeaderClause | None) -> str:
        period = self.plan.period
        if clause is not None and clause.values and clause.values[0] == "invoice paid":
            return (
                "when the invoice is paid — the part of each line earned on a deal is paid with the close of the "
                f"{period} in which the customer's invoice for that deal is paid"
            )
        return f"on booking — what you earn in a {period} is paid when that {period} closes"

    # ------------------------------------------------------------------ pay policies
    def pay_section(
        self, plan: _Plan, decls: Sequence[ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl], title: str | None = None
    ) -> Section:
        period = plan.period
        intro = Paragraph(
            plain(f"Your statement lines say what you earned. When a {period} closes, they are posted to your payout ledger ")
            + plain(f"and paid, in this order: the {period}'s lines; clawbacks of cancelled or refunded deals; holdbacks; ")
            + plain("amounts waiting for invoices; releases of held and waiting amounts that are due; recovery of anything ")
            + plain("you owe from earlier clawbacks (or, if more was taken back than you earned, the difference is carried ")
            + plain("forward and recovered from later pay); draws; and the payment of what is left. ")
            + plain("Held amounts, waiting amounts, draw balances and anything you owe are shown as balances on each statement.")
        )
        blocks: list[Block] = [intro, Paragraph(strong("Payment: ") + plain(self.payment_words(plan.clauses.get("payment")) + "."))]
        sections = [self.pay_policy(plan, decl) for decl in decls]
        return self.section(title or "How your earnings are paid", blocks, sections)

    def pay_policy(self, plan: _Plan, decl: ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl) -> Section:
        name = decl.title or human(decl.name.text).capitalize()
        if isinstance(decl, ast.DrawDecl):
            items, kind = self.draw_words(plan, decl)
        elif isinstance(decl, ast.HoldbackDecl):
            items, kind = self.holdback_words(plan, decl), "Holdback"
        else:
            items, kind = self.clawback_words(decl), "Clawback"
        facts = Facts([("Ledger name", code(decl.name.text))])
        return self.section(f"{kind}: {name}", [facts, BulletList(items)])

    def draw_words(self, plan: _Plan, decl: ast.DrawDecl) -> tuple[list[Inline], str]:
        period = plan.period
        kind = first_clause(decl.clauses, ast.RecoverableClause)
        recoverable = kind is not None and kind.recoverable
        tops = first_clause(decl.clauses, ast.TopsUpClause)
        amount = literal_text(tops.amount) if tops else "the draw amount"
        items: list[Inline] = []
        paid = "advanced to you" if recoverable else "paid to you, and never taken back"
        items.append(
            plain(f"Each {period} the draw applies, if what is payable to you for the {period} (after holdbacks and ")
            + plain(f"amounts waiting for invoices) is less than {amount}, the difference is {paid}.")
        )
        first = first_clause(decl.clauses, ast.FirstPeriodsClause)
        during = first_clause(decl.clauses, ast.DuringClause)
        if first is not None:
            count = f"{first.count} {period}s" if first.count != 1 else f"1 {period}"
            if first.after_hire:
                items.append(
                    plain(f"It applies for your first {count} after you are hired; the {period} you are hired in counts as the first.")
                )
            else:
                items.append(plain(f"It applies for your first {count} on the plan; the {period} you join in counts as the first."))
        elif during is not None:
            items.append(plain(f"It applies in the {period}s that start from {day(during.start)} through {last_day(during.until)}."))
        else:
            items.append(plain(f"It applies every {period} you are on the plan."))
        recovers = first_clause(decl.clauses, ast.RecoversClause)
        if recoverable and recovers is not None:
            rate = literal_text(recovers.rate)
            items.append(
                plain("What was advanced is recovered from your later earnings: each ")
                + plain(f"{period}, at most {rate} of that {period}'s earnings, and, while the draw applies, only from what is ")
                + plain(f"payable to you above {amount}.")
            )
        outstanding = first_clause(decl.clauses, ast.OutstandingClause)
        if recoverable and outstanding is not None:
            cap = literal_text(outstanding.amount)
            items.append(plain(f"At most {cap} may be outstanding at any time; a top-up is reduced so that this is not exceeded."))
        termination = first_clause(decl.clauses, ast.TerminationClause)
        if recoverable and termination is not None:
            if termination.outcome.text == "forgiven":
                items.append(plain("If you leave the company with an amount outstanding, it is forgiven."))
            else:
                items.append(
                    plain("If you leave the company with an amount outstanding, you still owe it; it is recovered from any later pay.")
                )
        return items, "Recoverable draw" if recoverable else "Guarantee"

    def holdback_words(self, plan: _Plan, decl: ast.HoldbackDecl) -> list[Inline]:
        period = plan.period
        items: list[Inline] = []
        holds = first_clause(decl.clauses, ast.HoldsClause)
        if holds is not None:
            names = [code(w.text) for w in holds.components]
            items.append(
                plain(f"{literal_text(holds.rate)} of each positive statement line of ")
                + join(names, ", ", " and ")
                + plain(" is held back (rounded as the plan rounds).")
            )
        release = first_clause(decl.clauses, ast.ReleaseClause)
        if release is not None:
            if release.kind == "year end":
                text = f"with the close of the last {period} of the fiscal year in which it was held"
            elif release.kind == "on":
                text = f"with the close of the {period} that includes {day(release.on)}"
            elif release.kind == "invoice paid":
                text = (
                    f"deal by deal, with the close of the {period} in which the customer's invoice for the deal is paid "
                    "(a part of a line not earned on a deal is not held)"
                )
            else:
                length = literal_text(release.after) if release.after is not None else "the stated time"
                text = f"with the first close of a {period} ending at least {length} after the end of the {period} it was held in"
            items.append(plain(f"It is released {text}."))
        return items

    def clawback_words(self, decl: ast.ClawbackDecl) -> list[Inline]:
        window = first_clause(decl.clauses, ast.ClawbackWindowClause)
        length = literal_text(window.length) if window is not None else "the window"
        reverses = first_clause(decl.clauses, ast.ReversesClause)
        how = {
            "fully": " in full, whatever part of the deal was refunded",
            "pro rata by time": f" in proportion to the part of the {length} that was left when it was cancelled or refunded",
            "at the rate originally paid": (
                " at the rate it was originally paid: what it earned × the refunded amount ÷ the deal amount (all of it for a cancellation)"
            ),
        }.get(reverses.how if reverses is not None else "", "")
        items: list[Inline] = [
            plain(f"If a deal is cancelled or refunded within {length} of its close date, what it earned you is reversed{how}.")
        ]
        items.append(
            plain("The reversal is linked to the line it reverses and taken from your pay when the cancellation is known; ")
            + plain("if it is more than that pay, the difference is carried forward and recovered from later pay.")
        )
        return items

    # ------------------------------------------------------------------ components
    def components_section(self, plan: _Plan, components: Sequence[ast.ComponentDecl], title: str = "What you are paid for") -> Section:
        period = plan.period
        intro = Paragraph(
            plain(f"Each component below is one line on your statement for each {period}. Within a component the steps are ")
            + plain("applied in this order: the reward (a fixed amount, a rate or tiered rates); multipliers; caps and floors per ")
            + plain(f"deal; then, for the line, the true-up; caps and floors per {period}; caps and floors per fiscal year; ")
            + plain("conditions (gates); and rounding.")
        )
        sections = [self.component(plan, decl, index) for index, decl in enumerate(components, start=1)]
        if not sections:
            return self.section(title, [Paragraph(plain("This plan has no components."))])
        return self.section(title, [intro], sections)

    def component(self, plan: _Plan, decl: ast.ComponentDecl, number: int | None, note: str | None = None) -> Section:
        clauses = decl.clauses
        blocks: list[Block] = []
        facts: list[tuple[str, Inline]] = []
        cites = first_clause(clauses, ast.CitesClause)
        if cites:
            facts.append(("Plan reference", plain(cites.text)))
        facts.append(("Statement line", code(decl.name.text)))
        blocks.append(Facts(facts))
        blocks.append(Paragraph(strong("What it pays: ") + self.reward_words(plan, decl)))
        how = self.how_words(plan, decl)
        if how:
            blocks.append(BulletList(how))
        for tiers in all_clauses(clauses, ast.TiersClause):
            blocks.extend(self.tier_blocks(plan, decl, tiers))
        multipliers = all_clauses(clauses, ast.MultiplierClause)
        if multipliers:
            blocks.append(Paragraph(strong("Multipliers") + plain(", applied one after the other in this order:")))
            blocks.append(BulletList([self.multiplier_words(plan, m) for m in multipliers]))
        limits = self.limit_words(plan, clauses)
        if limits:
            blocks.append(Paragraph(strong("Caps, floors, conditions and true-up:")))
            blocks.append(BulletList(limits))
        unknown = [c for c in clauses if not isinstance(c, KNOWN_CLAUSES)]
        if unknown:
            blocks.append(Paragraph(strong("Also, as written in the plan:")))
            blocks.append(BulletList([plan.as_written(c) for c in unknown]))
        per_credit = first_clause(clauses, ast.PerCreditClause)
        roots = decl_expressions(decl)
        decls, credits = plan.reached(roots, [per_credit.credit.text] if per_credit else [])
        windows = self.windows_used(plan, roots + [e for d in decls for e in decl_expressions(d)])
        if windows:
            blocks.append(Paragraph(strong("Quota and target incentive used: ") + join(windows, "; ") + plain(".")))
        values = sorted((d for d in decls if not isinstance(d, ast.QuotaDecl)), key=lambda d: (d.span.line, d.span.column))
        if values:
            names = [code(d.name.text) for d in values]
            blocks.append(Paragraph(strong("Values used: ") + join(names, ", ", " and ") + plain(" (see Values and definitions).")))
        sections = []
        for name in credits:
            credit = plan.names.get(name)
            if isinstance(credit, ast.CreditDecl):
                sections.append(self.section(f"Which deals count: {name}", [BulletList(self.credit_words(plan, credit))]))
        title = f"{number}. {decl.description}" if number is not None else decl.description
        if note:
            title += f", {note}"
        return self.section(title, blocks, sections)

    def reward_words(self, plan: _Plan, decl: ast.ComponentDecl) -> Inline:
        clauses = decl.clauses
        per_credit = first_clause(clauses, ast.PerCreditClause)
        on = first_clause(clauses, ast.OnClause)
        pays = first_clause(clauses, ast.PaysClause)
        rate = first_clause(clauses, ast.RateClause)
        tiers = first_clause(clauses, ast.TiersClause)
        if per_credit is not None:
            text = plain("for each deal credited to you under ") + code(per_credit.credit.text)
            if per_credit.where is not None:
                text += plain(" for which ") + plan.condition(per_credit.where)
            if pays is not None:
                return text + plain(", it pays ") + plan.expr(pays.amount) + plain(".")
            if rate is not None:
                return text + plain(", it pays the credited amount × ") + plan.expr(rate.rate, P_MUL + 1) + plain(".")
            if tiers is not None:
                return text + plain(", it pays tiered rates on the credited amount (see the table below).")
            return text + plain(", it pays nothing (the plan gives no amount or rate).")
        period = plan.period
        if on is not None:
            text = plain(f"once per {period}, on ") + plan.expr(on.amount)
            if rate is not None:
                return text + plain(": that amount × ") + plan.expr(rate.rate, P_MUL + 1) + plain(".")
            if tiers is not None:
                return text + plain(", at tiered rates (see the table below).")
            return text + plain(".")
        if pays is not None:
            return plain(f"once per {period}, it pays ") + plan.expr(pays.amount) + plain(".")
        return plain("nothing (the plan gives no amount or rate).")

    def how_words(self, plan: _Plan, decl: ast.ComponentDecl) -> list[Inline]:
        clauses = decl.clauses
        items: list[Inline] = []
        tiers = first_clause(clauses, ast.TiersClause)
        for during in all_clauses(clauses, ast.DuringClause):
            text = plain(f"Promotion window: only deals credited from {day(during.start)} through {last_day(during.until)} are paid")
            if tiers is not None:
                text += plain("; deals outside the window still count towards the running total")
            items.append(text + plain("."))
        ordered = first_clause(clauses, ast.OrderedClause)
        if ordered is not None:
            keys = join([plan.expr(k) for k in ordered.keys], ", then by ")
            unique = any(isinstance(k, ast.FieldRef) and k.scope == "deal" and k.name == "id" for k in ordered.keys)
            ties = "" if unique else " (any remaining ties by credit date, then deal id)"
            items.append(plain("Deals are applied one at a time, in order of ") + keys + plain(f"{ties}."))
        if tiers is not None and first_clause(clauses, ast.PerCreditClause) is not None:
            running = first_clause(clauses, ast.RunningClause)
            window = running.window if running else "PERIOD"
            if window == "PERIOD":
                start = f"starts at zero each {plan.period}"
            elif window == "QUARTER_TO_DATE":
                start = f"carries over from earlier {plan.period}s of the same fiscal quarter"
            else:
                start = f"carries over from earlier {plan.period}s of the fiscal year"
            items.append(
                plain(f"Each deal moves a running total of your credited amounts, which {start}. A deal earns the difference ")
                + plain("its move makes to the tiered payout, so deals that cross a band boundary are paid partly at each rate.")
            )
        return items

    def tier_blocks(self, plan: _Plan, decl: ast.ComponentDecl, tiers: ast.TiersClause) -> list[Block]:
        mode = tiers.mode.text
        text = strong("Tiered rates. ") + plain(TIER_MODE_WORDS.get(mode, f"{mode.capitalize()} tiers."))
        per_credit = first_clause(decl.clauses, ast.PerCreditClause) is not None
        measured = "the running total" if per_credit else "the amount"
        if tiers.against is not None:
            text += plain(f" The bands are measured as attainment: {measured} as a percentage of ") + plan.expr(tiers.against) + plain(".")
        else:
            currency = f" in {plan.currency}" if plan.currency else ""
            text += plain(f" The bands are amounts{currency} of {measured}.")
        points = all(row.kind == "point" for row in tiers.rows)
        if not points:
            text += plain(" A band includes its lower bound but not its upper bound: exactly on a boundary, the higher band applies.")
        blocks: list[Block] = [Paragraph(text)]
        attainment = tiers.against is not None
        if points:
            rows = [[plain(self.bound(row.lower, attainment)), plan.expr(row.rate)] for row in tiers.rows]
            header = "At attainment" if attainment else "At amount"
            blocks.append(Table([plain(header), plain("Rate")], rows))
        else:
            rows = [[plain(str(n)), plain(self.band(row, attainment)), plan.expr(row.rate)] for n, row in enumerate(tiers.rows, start=1)]
            header = "Attainment" if attainment else "Amount"
            blocks.append(Table([plain("Band"), plain(header), plain("Rate")], rows))
        return blocks

    @staticmethod
    def bound(literal: ast.Literal | None, attainment: bool) -> str:
        if literal is None:
            return ""
        if attainment and literal.kind == "number" and isinstance(literal.value, Decimal):
            return percent_text(literal.value, 4)
        return literal_text(literal)

    def band(self, row: ast.TierRowNode, attainment: bool) -> str:
        lower, upper = self.bound(row.lower, attainment), self.bound(row.upper, attainment)
        if row.kind == "below":
            return f"below {upper}"
        if row.kind == "between":
            return f"{lower} up to {upper}"
        if row.kind == "above":
            return f"{lower} and above"
        return f"at {lower}"

    @staticmethod
    def multiplier_words(plan: _Plan, clause: ast.MultiplierClause) -> Inline:
        factor = plain("× ") + plan.expr(clause.factor, P_MUL + 1)
        if clause.when is None:
            return factor + plain(", always")
        return factor + plain(" when ") + plan.condition(clause.when)

    def limit_words(self, plan: _Plan, clauses: Sequence[ast.Clause]) -> list[Inline]:
        period = plan.period
        items: list[Inline] = []
        for clause in clauses:
            if isinstance(clause, ast.LimitClause):
                amount = plan.expr(clause.amount)
                scope = clause.scope.text
                if clause.kind == "cap":
                    if scope == "deal":
                        items.append(plain("Cap per deal: at most ") + amount + plain(" for each credited deal."))
                    elif scope == "period":
                        items.append(plain(f"Cap per {period}: at most ") + amount + plain(f" each {period}."))
                    elif scope == "year":
                        items.append(
                            plain("Cap per fiscal year: this component pays at most ")
                            + amount
                            + plain(" over a fiscal year; once that is reached, it pays 0 for the rest of the year.")
                        )
                    else:
                        items.append(plain(f"Cap per {scope}: at most ") + amount + plain("."))
                elif scope == "deal":
                    items.append(plain("Floor per deal: at least ") + amount + plain(" for each credited deal."))
                elif scope == "period":
                    items.append(
                        plain(f"Floor per {period}: at least ") + amount + plain(f" in every {period}, even one with no earnings.")
                    )
                elif scope == "year":
                    items.append(
                        plain("Floor per fiscal year: if this component's total for the fiscal year is below ")
                        + amount
                        + plain(f", the last {period} of the year is raised by the difference.")
                    )
                else:
                    items.append(plain(f"{clause.kind.capitalize()} per {scope}: ") + amount + plain("."))
            elif isinstance(clause, ast.GateClause):
                items.append(
                    plain("Condition: this component pays only if ")
                    + plan.condition(clause.condition)
                    + plain(f" at the end of the {period}; otherwise it pays 0 for that {period}.")
                )
            elif isinstance(clause, ast.TrueUpClause):
                span = "fiscal quarter" if clause.window == "QUARTER_TO_DATE" else "fiscal year"
                text = plain(
                    f"True-up: each {period}, this component pays what has been earned so far in the {span}, minus what it "
                    f"already paid in earlier {period}s of the {span}."
                )
                if clause.never_negative:
                    text += plain(" If that is negative, nothing is taken back: the overpayment is offset against later earnings.")
                else:
                    text += plain(" If that is negative, the difference is deducted from your pay (a clawback).")
                items.append(text)
        return items

    @staticmethod
    def windows_used(plan: _Plan, roots: Sequence[ast.Expr]) -> list[Inline]:
        seen: dict[tuple[str, str], Inline] = {}
        for expr in walk_expressions(roots):
            if isinstance(expr, ast.TargetIncentive):
                seen.setdefault(("", expr.window), plan.expr(expr))
            elif isinstance(expr, ast.WindowedRef) and isinstance(plan.names.get(expr.name), ast.QuotaDecl):
                seen.setdefault((expr.name, expr.window), plan.expr(expr))
        return [seen[key] for key in sorted(seen, key=lambda k: (k[0] == "", k[0], WINDOWS.index(k[1]) if k[1] in WINDOWS else 9))]

    # ------------------------------------------------------------------ credit rules
    def credit_words(self, plan: _Plan, decl: ast.CreditDecl) -> list[Inline]:
        items: list[Inline] = []
        if decl.where is None:
            items.append(plain("Every deal dated while the plan is in effect counts."))
        else:
            items.append(plain("A deal dated while the plan is in effect counts when ") + plan.condition(decl.where) + plain("."))
        items.append(self.recipients_words(plan, decl))
        if decl.rollup is not None:
            if decl.rollup == "top":
                items.append(plain("The credit also rolls up to every manager above the credited payee, up to the top."))
            else:
                levels = f"{decl.rollup} level{'s' if decl.rollup != 1 else ''}"
                items.append(plain(f"The credit also rolls up to the credited payee's managers, {levels} up."))
        if decl.duplicates == "once":
            items.append(plain("A payee credited for the same deal along more than one path is credited once."))
        elif decl.duplicates == "per path":
            items.append(plain("A payee credited for the same deal along more than one path is credited once for each path."))
        items.append(plain("Amount credited: ") + plan.expr(decl.amount) + plain(", times the credited payee's share."))
        items.append(plain("Credit date: ") + plan.expr(decl.dated) + plain(f"; it decides which {plan.period} the credit counts in."))
        return items

    def recipients_words(self, plan: _Plan, decl: ast.CreditDecl) -> Inline:
        parts: list[Inline] = []
        for recipient in decl.recipients:
            if recipient.kind == "owner":
                who = plain("the deal owner")
            elif recipient.kind == "field" and recipient.field_name:
                who = plain(f"the payee named in the deal's {human(recipient.field_name)} field")
            elif recipient.kind == "payees" and recipient.condition is not None:
                who = plain("every payee for whom ") + plan.condition(recipient.condition)
            else:
                who = plan.as_written(recipient)
            if recipient.share is not None:
                who += plain(f" ({number_text(recipient.share)}%)")
            parts.append(who)
        if decl.splits:
            text = plain(
                "Credited to: each split partner named on the deal, for their share of it "
                "(a deal without split partners credits its owner in full)"
            )
            if parts:
                text += plain("; also ") + join(parts, ", ", " and ")
            return text + plain(".")
        if len(parts) == 1 and decl.recipients[0].share is None:
            return plain("Credited to: ") + parts[0] + plain(", in full.")
        return plain("Credited to: ") + join(parts, ", ", " and ") + plain(".")

    def unused_credits(self) -> list[ast.CreditDecl]:
        used: set[str] = set()
        for component in self.plan.components.values():
            per_credit = first_clause(component.clauses, ast.PerCreditClause)
            _, credits = self.plan.reached(decl_expressions(component), [per_credit.credit.text] if per_credit else [])
            used.update(credits)
        return [d for d in self.file.decls if isinstance(d, ast.CreditDecl) and d.name.text not in used]

    # ------------------------------------------------------------------ definitions
    def definitions_intro(self) -> str:
        return (
            "The named values the components use. A value that changes over time applies over the dates shown; "
            "a value used for a deal is taken on the deal's credit date, and a value used for a whole "
            f"{self.plan.period} on the {self.plan.period}'s last day."
        )

    def definitions(self, plan: _Plan, decls: Sequence[ast.Decl], credits: Sequence[ast.CreditDecl]) -> list[Section]:
        sections: list[Section] = []
        parameters = [d for d in decls if isinstance(d, ast.ParameterDecl)]
        if parameters:
            rows = []
            for parameter in parameters:
                for index, value in enumerate(parameter.values):
                    rows.append([code(parameter.name.text), plan.expr(value.value), plain(self.in_effect(parameter.values, index))])
            sections.append(self.section("Amounts and rates", [Table([plain("Name"), plain("Value"), plain("In effect")], rows)]))
        for table in (d for d in decls if isinstance(d, ast.TableDecl)):
            sections.append(self.table_section(plan, table))
        for curve in (d for d in decls if isinstance(d, ast.CurveDecl)):
            sections.append(self.curve_section(curve))
        for decision in (d for d in decls if isinstance(d, ast.DecisionDecl)):
            sections.append(self.decision_section(plan, decision))
        rules = [d for d in decls if isinstance(d, ast.RuleDecl)]
        if rules:
            sections.append(self.rules_section(plan, rules))
        measures = [d for d in decls if isinstance(d, ast.MeasureDecl | ast.EarningsDecl)]
        if measures:
            rows = [[code(m.name.text), self.measure_words(plan, m)] for m in measures]
            sections.append(self.section("Measures", [Table([plain("Name"), plain("What it is")], rows)]))
        quotas = [d for d in decls if isinstance(d, ast.QuotaDecl)]
        if quotas:
            rows = [[code(q.name.text), plain(f"your {q.key} quota"), plain(self.quota_words(plan, q))] for q in quotas]
            sections.append(self.section("Quotas", [Table([plain("Name"), plain("Quota"), plain("How it applies")], rows)]))
        lets = [d for d in decls if isinstance(d, ast.LetDecl)]
        if lets:
            rows = []
            for let in lets:
                kind = type_words(plan.definition_type(let.name.text) or (let.type_name.text if let.type_name else None), plan.currency)
                rows.append([code(let.name.text), plan.expr(let.expr), plain(kind or "")])
            sections.append(self.section("Calculated values", [Table([plain("Name"), plain("How it is calculated"), plain("Kind")], rows)]))
        inputs = [d for d in decls if isinstance(d, ast.InputDecl)]
        if inputs:
            rows = [
                [
                    code(i.name.text),
                    plain(type_words(i.type_name.text, plan.currency) or i.type_name.text),
                    plain(literal_text(i.default) if i.default else "must be supplied"),
                ]
                for i in inputs
            ]
            sections.append(
                self.section(
                    "Values supplied each period",
                    [
                        Paragraph(plain(f"These values are supplied for you each {plan.period} (for example a score or an award).")),
                        Table([plain("Input"), plain("Kind"), plain("If not supplied")], rows),
                    ],
                )
            )
        attributes = [d for d in decls if isinstance(d, ast.AttributeDecl)]
        if attributes:
            rows = []
            for attribute in attributes:
                kind = type_words(attribute.type_name.text, plan.currency) or attribute.type_name.text
                if attribute.is_list:
                    kind = f"a list of {attribute.type_name.text} values"
                if attribute.default is not None:
                    missing = literal_text(attribute.default)
                elif attribute.type_name.text == "payee":
                    missing = "nobody"
                else:
                    missing = "must be given whenever a rule reads it"
                rows.append(
                    [plain(plan.field_words(attribute.owner, attribute.name.text)), code(attribute.name.text), plain(kind), plain(missing)]
                )
            sections.append(
                self.section(
                    "Deal and payee information",
                    [Table([plain("Information"), plain("Data column"), plain("Kind"), plain("If empty")], rows)],
                )
            )
        if credits:
            sections.append(
                self.section(
                    "Other credit rules",
                    [
                        b
                        for c in credits
                        for b in (Paragraph(strong("Credit rule ") + code(c.name.text)), BulletList(self.credit_words(plan, c)))
                    ],
                )
            )
        return sections

    @staticmethod
    def in_effect(values: Sequence[ast.DatedValue], index: int) -> str:
        value = values[index]
        until = value.until
        if until is None and index + 1 < len(values):
            until = values[index + 1].start
        return date_range(value.start, until)

    def table_section(self, plan: _Plan, table: ast.TableDecl) -> Section:
        kind = type_words(plan.definition_type(table.name.text) or (table.type_name.text if table.type_name else None), plan.currency)
        intro = code(table.name.text) + plain(f" gives {kind or 'a value'}, looked up by ") + plan.expr(table.key) + plain(".")
        rows = []
        for row in table.rows:
            key = plain(literal_text(row.key)) if row.key is not None else em("any other value")
            for index, value in enumerate(row.values):
                rows.append([key, plan.expr(value.value), plain(self.in_effect(row.values, index))])
        if not any(row.key is None for row in table.rows):
            intro += plain(" A value with no row stops the calculation with an error.")
        header = plain("When ") + plan.expr(table.key) + plain(" is")
        return self.section(f"Table {table.name.text}", [Paragraph(intro), Table([header, plain("Value"), plain("In effect")], rows)])

    def curve_section(self, curve: ast.CurveDecl) -> Section:
        intro = (
            plain("Payout curve ")
            + code(curve.name.text)
            + plain(
                ". Between two points the value is read off the straight line joining them; below the first point the "
                "first value applies, and at or above the last point the last value."
            )
        )
        rows = [[plain(literal_text(p.at)), plain(literal_text(p.value))] for p in curve.points]
        return self.section(f"Curve {curve.name.text}", [Paragraph(intro), Table([plain("At"), plain("Value")], rows)])

    def decision_section(self, plan: _Plan, decision: ast.DecisionDecl) -> Section:
        policy = [w.text for w in decision.policy]
        if not policy or policy == ["unique"]:
            how = "At most one row can match; the value of the row that matches is used."
        elif policy == ["first"]:
            how = "The rows are checked from the top; the first row that matches gives the value."
        elif policy[0] == "collect":
            aggregate = policy[1] if len(policy) > 1 else None
            how = {
                "sum": "Every row that matches counts, and their values are added up.",
                "max": "Every row that matches counts, and the largest of their values is used.",
                "min": "Every row that matches counts, and the smallest of their values is used.",
                "count": "Every row that matches counts, and the value is how many rows match.",
            }.get(aggregate or "", "Every row that matches contributes its value.")
        else:
            how = f"Hit policy: {' '.join(policy)}."
        declared = decision.type_name.text if decision.type_name else None
        kind = type_words(plan.definition_type(decision.name.text) or declared, plan.currency)
        intro = (
            plain("Decision table ")
            + code(decision.name.text)
            + plain(f" gives {kind or 'a value'} from ")
            + join([plan.expr(i) for i in decision.inputs], ", ", " and ")
            + plain(f". {how}")
        )
        if decision.otherwise is not None:
            intro += plain(" If no row matches, the “otherwise” value is used.")
        headers = [plan.expr(i) for i in decision.inputs] + [plain("Value")]
        rows = [[plain(self.cell_words(c)) for c in row.cells] + [plan.expr(row.output)] for row in decision.rows]
        if decision.otherwise is not None:
            rows.append([em("otherwise")] + [plain("") for _ in decision.inputs[1:]] + [plan.expr(decision.otherwise)])
        return self.section(f"Decision table {decision.name.text}", [Paragraph(intro), Table(headers, rows)])

    @staticmethod
    def cell_words(cell: ast.Cell) -> str:
        values = [literal_text(v) for v in cell.values]
        if cell.kind == "any":
            return "any"
        if cell.kind == "equals" and values:
            return values[0]
        if cell.kind == "set":
            return " or ".join(values)
        if cell.kind == "range" and len(values) == 2:
            return f"{values[0]} up to {values[1]} (not including)"
        if cell.kind == "below" and values:
            return f"below {values[0]}"
        if cell.kind == "from" and values:
            return f"{values[0]} or more"
        return " ".join([cell.kind, *values])

    def rules_section(self, plan: _Plan, rules: Sequence[ast.RuleDecl]) -> Section:
        blocks: list[Block] = [
            Paragraph(
                plain("Each rule sets a value when its condition holds. An exception overrides the rules it names whenever ")
                + plain("its own condition holds; two rules that both apply without one being an exception to the other are an error.")
            )
        ]
        targets: dict[str, list[ast.RuleDecl]] = {}
        for rule in rules:
            targets.setdefault(rule.target.text, []).append(rule)
        for target, group in targets.items():
            blocks.append(Paragraph(strong("How ") + code(target) + strong(" is set:")))
            items = []
            for rule in group:
                text = strong(rule.name.text)
                if rule.description:
                    text += plain(f" ({rule.description})")
                text += plain(": ") + plan.expr(rule.value)
                text += plain(" when ") + plan.condition(rule.when) if rule.when is not None else plain(", always")
                if rule.exceptions:
                    text += plain("; an exception to ") + join([code(w.text) for w in rule.exceptions], ", ", " and ")
                items.append(text + plain("."))
            blocks.append(BulletList(items))
        return self.section("Rules", blocks)

    def measure_words(self, plan: _Plan, measure: ast.MeasureDecl | ast.EarningsDecl) -> Inline:
        if isinstance(measure, ast.EarningsDecl):
            reports = {
                "direct": "your direct reports",
                "all": "everyone who reports to you, at every level",
            }.get(measure.reports, f"the people reporting to you, up to {measure.levels} levels down")
            text = plain(f"the total earnings of {reports}")
            if measure.source_kind == "components":
                text += plain(" from the components ") + join([code(w.text) for w in measure.source_names], ", ", " and ")
            elif measure.source_kind == "plan":
                text += plain(" under the plan ") + join([code(w.text) for w in measure.source_names])
            return text + plain(f" for the {plan.period}")
        aggregate = AGGREGATE_WORDS.get(measure.aggregate.text, measure.aggregate.text)
        text = plain(f"the {aggregate} of your ") + code(measure.credit.text) + plain(f" credits {plan.credits_window(measure.window)}")
        if measure.aggregate.text not in ("count", "sum"):
            text += plain(" (the credited amounts)")
        if measure.where is not None:
            text += plain(", counting only credits for which ") + plan.condition(measure.where)
        return text

    @staticmethod
    def quota_words(plan: _Plan, quota: ast.QuotaDecl) -> str:
        period = plan.period
        if quota.basis == "evenly":
            return f"an annual figure, spread evenly: each {period} has an equal share"
        if quota.basis == "seasonal":
            shares = [literal_text(s) for s in quota.seasonality]
            labels = {"quarter": "Q", "month": "M"}
            if period in labels:
                shares = [f"{labels[period]}{i} {s}" for i, s in enumerate(shares, start=1)]
            return f"an annual figure, spread over the {period}s of the fiscal year: " + ", ".join(shares)
        if quota.basis == "per_period":
            return f"a separate figure for each {period}"
        return quota.basis

    def uses_section(self) -> Section:
        items = [
            join([code(w.text) for w in use.names], ", ", " and ") + plain(" from the shared file ") + code(use.path)
            for use in self.file.uses
        ]
        return self.section(
            "Shared definitions",
            [
                Paragraph(plain("These values are defined in shared files and used by this plan as they are defined there:")),
                BulletList(items),
            ],
        )

    # ------------------------------------------------------------------ revisions
    def revision_sections(self) -> list[Section]:
        sections: list[Section] = []
        plan = self.plan
        revisions = self.file.revisions
        for index, revision in enumerate(revisions):
            marker = revision.marker
            plan = plan.copy_with(revision.decls)
            ends = revisions[index + 1].marker.start if index + 1 < len(revisions) else None
            lasts = f"until {last_day(ends)}" if ends is not None else "until the plan ends"
            blocks: list[Block] = []
            if marker.note:
                blocks.append(Paragraph(strong(marker.note)))
            blocks.append(
                Paragraph(
                    plain(f"From {day(marker.start)} ({lasts}), version {marker.version} of the plan applies: the components and ")
                    + plain("definitions below replace those of the same name; everything else stays as described above.")
                )
            )
            components = [d for d in revision.decls if isinstance(d, ast.ComponentDecl)]
            subsections = [self.component(plan, c, None, f"from {day(marker.start)}") for c in components]
            subsections.extend(self.definitions(plan, revision.decls, []))
            pay = [d for d in revision.decls if isinstance(d, ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl)]
            if pay:
                subsections.append(self.pay_section(plan, pay, f"How your earnings are paid, from {day(marker.start)}"))
            if not subsections:
                blocks.append(Paragraph(plain("This revision changes nothing else.")))
            sections.append(self.section(f"Changes from {day(marker.start)}", blocks, subsections))
        return sections

    # ------------------------------------------------------------------ worked examples
    def examples_section(self) -> Section:
        title = "Worked examples"
        if not self.cases:
            return self.section(title, [Paragraph(plain("This plan has no test cases, so there are no worked examples."))])
        files = sorted({Path(c.file).name for c in self.cases})
        intro = (
            plain("These examples are the plan's test cases (")
            + join([code(f) for f in files], ", ", " and ")
            + plain("). The engine is tested against exactly these figures: ")
            + code("compengine test")
            + plain(
                " calculates each example and fails if any amount differs by as much as a cent. "
                "Each payee is on the plan for the whole plan period unless stated otherwise."
            )
        )
        sections = [self.example(index, case) for index, case in enumerate(self.cases, start=1)]
        return self.section(title, [Paragraph(intro)], sections)

    def example(self, index: int, case: Case) -> Section:
        title = f"Example {index}: {case.name}"
        spec = case.spec
        if spec is None:
            return self.section(title, [Paragraph(plain(f"This example cannot be read: {case.error or 'unknown problem'}."))])
        currency = self.plan.currency or ""
        blocks: list[Block] = [Paragraph(strong("Period: ") + plain(f"{spec.period}."))]
        if spec.payees:
            rows = []
            for person in spec.payees:
                quotas = "; ".join(
                    f"{quota} {label}: {group_digits(amount)} {currency}".strip()
                    for quota, by_label in person.quotas.items()
                    for label, amount in by_label.items()
                )
                details = []
                if person.name:
                    details.append(f"name {person.name}")
                if person.hire_date:
                    details.append(f"hired {person.hire_date}")
                if person.on_plan_from:
                    details.append(f"on the plan from {person.on_plan_from}")
                if person.on_plan_until:
                    details.append(f"on the plan until {last_day(_as_date(person.on_plan_until))}")
                details.extend(f"{human(k)}: {cell_text(v)}" for k, v in person.attributes.items())
                rows.append(
                    [
                        plain(person.id),
                        plain(f"{group_digits(person.target_incentive)} {currency}".strip()),
                        plain(quotas or "none"),
                        plain("; ".join(details)),
                    ]
                )
            headers = [plain("Payee"), plain("Target incentive (a year)"), plain("Quotas"), plain("Other details")]
            if not any(inline_text(r[3]) for r in rows):
                headers, rows = headers[:3], [r[:3] for r in rows]
            blocks.append(Paragraph(strong("Payees")))
            blocks.append(Table(headers, rows, frozenset({1})))
        blocks.append(Paragraph(strong("Deals")))
        if spec.deals:
            blocks.append(self.deals_table(spec.deals, currency))
        else:
            blocks.append(Paragraph(plain("No deals.")))
        in_currency = f" in {currency}" if currency else ""
        blocks.append(Paragraph(strong("Expected payouts") + plain(f"{in_currency} for {spec.period}:")))
        blocks.append(self.expected_table(spec.expect))
        return self.section(title, blocks)

    def deals_table(self, items: Sequence[DealCase], currency: str) -> Table:
        extras: list[str] = []
        for item in items:
            for key in item.model_extra or {}:
                if key not in extras:
                    extras.append(key)
        optional: list[tuple[str, str, Callable[[DealCase], str]]] = [
            ("splits", "Split partners", lambda d: split_text(d.splits)),
            ("product", "Product", lambda d: d.product),
            ("currency", "Currency", lambda d: d.currency or ""),
        ]
        present = [(name, label, get) for name, label, get in optional if any(get(d) for d in items)]
        headers = [
            plain("Deal"),
            plain("Owner"),
            plain("Type"),
            plain(f"Amount ({currency})" if currency else "Amount"),
            plain("Close date"),
        ]
        headers += [plain(label) for _, label, _ in present] + [plain(human(k)) for k in extras]
        numeric = {3} | {5 + len(present) + i for i, k in enumerate(extras) if all(_is_number(_extra(d, k)) for d in items)}
        rows = []
        for item in items:
            row = [plain(item.id), plain(item.owner), plain(item.type), plain(group_digits(item.amount)), plain(item.close_date)]
            row += [plain(get(item)) for _, _, get in present]
            row += [plain(cell_text(_extra(item, k))) for k in extras]
            rows.append(row)
        return Table(headers, rows, frozenset(numeric))

    def expected_table(self, expect: Mapping[str, Expectation]) -> Table:
        components = list(self.plan.components.values())
        names = [c.name.text for c in components]
        used: list[str] = []
        for expectation in expect.values():
            for name in expectation.lines:
                if name not in used:
                    used.append(name)
        columns = [n for n in names if n in used] + [n for n in used if n not in names]
        descriptions = {c.name.text: c.description for c in components}
        headers = [plain("Payee")] + [plain(descriptions.get(n, n)) for n in columns] + [plain("Total")]
        rows = []
        for payee_id, expectation in expect.items():
            row = [plain(payee_id)]
            row += [plain(self.amount(expectation.lines[n]) if n in expectation.lines else "—") for n in columns]
            row.append(strong(self.amount(expectation.total)) if expectation.total is not None else plain("—"))
            rows.append(row)
        return Table(headers, rows, frozenset(range(1, len(columns) + 2)))

    def amount(self, value: Decimal) -> str:
        places = self.plan.places
        quantum = Decimal(1).scaleb(-places)
        return group_digits(value, places) if value == value.quantize(quantum) else group_digits(value)


KNOWN_CLAUSES = (
    ast.CitesClause,
    ast.PerCreditClause,
    ast.OnClause,
    ast.OrderedClause,
    ast.RunningClause,
    ast.DuringClause,
    ast.PaysClause,
    ast.RateClause,
    ast.TiersClause,
    ast.MultiplierClause,
    ast.GateClause,
    ast.LimitClause,
    ast.TrueUpClause,
)


def _as_date(text: str) -> object:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


def _extra(item: DealCase, key: str) -> object:
    return (item.model_extra or {}).get(key)


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return group_digits(Decimal(value))
    if isinstance(value, Decimal):
        return group_digits(value)
    return str(value)


def split_text(splits: str) -> str:
    """`P1:50%;P2:50%` -> `P1 50%, P2 50%`."""
    if not splits.strip():
        return ""
    parts = []
    for part in splits.split(";"):
        payee, _, share = part.partition(":")
        parts.append(f"{payee.strip()} {share.strip()}".strip())
    return ", ".join(parts)


def build_document(
    plan_file: ast.PlanFile,
    checked: CheckResult | None = None,
    cases: Sequence[Case] = (),
    engine_version: str = __version__,
    sha256: str | None = None,
) -> PlanDocument:
    """The document of a parsed plan; `checked` (the checker's result) adds the types of values.
    `sha256` is the plan's content hash when it uses libraries (it then covers them too)."""
    return _Builder(plan_file, checked, cases, sha256).build(engine_version)


# ================================================================== Markdown

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_MD_BLOCK_START = re.compile(r"^([#=+-]|\d+[.)])")


def _md_text(text: str) -> str:
    text = " ".join(text.split("\n"))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    return _MD_ENTITY.sub(r"\\&", text)


def _md_code(text: str, in_table: bool) -> str:
    text = " ".join(text.split("\n"))
    longest = max((len(m) for m in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ") and text.strip()) else ""
    rendered = f"{fence}{pad}{text}{pad}{fence}"
    return rendered.replace("|", "\\|") if in_table else rendered


def _md_inline(content: Inline, in_table: bool = False) -> str:
    out: list[str] = []
    for run in content:
        if not run.text:
            continue
        if run.style == "code":
            out.append(_md_code(run.text, in_table))
            continue
        stripped = run.text.strip()
        if run.style in ("strong", "em") and stripped:
            lead = run.text[: len(run.text) - len(run.text.lstrip())]
            trail = run.text[len(run.text.rstrip()) :]
            mark = "**" if run.style == "strong" else "*"
            out.append(f"{_md_text(lead)}{mark}{_md_text(stripped)}{mark}{_md_text(trail)}")
        else:
            out.append(_md_text(run.text))
    return "".join(out)


def _md_block_text(content: Inline) -> str:
    text = _md_inline(content)
    return "\\" + text if _MD_BLOCK_START.match(text) else text


def _md_table(table: Table) -> list[str]:
    def row(cells: Sequence[Inline]) -> str:
        return "| " + " | ".join(_md_inline(c, in_table=True) or " " for c in cells) + " |"

    width = len(table.headers)
    lines = [row(table.headers), "| " + " | ".join("---:" if i in table.numeric else "---" for i in range(width)) + " |"]
    lines.extend(row(list(r) + [plain("")] * (width - len(r))) for r in table.rows)
    return lines


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        return [_md_block_text(block.text)]
    if isinstance(block, BulletList):
        return [f"- {_md_inline(item)}" for item in block.items]
    if isinstance(block, Facts):
        return [f"- **{_md_text(label)}:** {_md_inline(value)}" for label, value in block.items]
    return _md_table(block)


def render_markdown(document: PlanDocument) -> str:
    """The document as Markdown (GitHub-flavoured: tables)."""
    chunks: list[list[str]] = [[f"# {_md_text(document.title)}"]]
    chunks.extend(_md_block(b) for b in document.intro)

    def section(item: Section, level: int) -> None:
        chunks.append([f"{'#' * min(level, 6)} {_md_text(item.title)}"])
        chunks.extend(_md_block(b) for b in item.blocks)
        for child in item.sections:
            section(child, level + 1)

    for item in document.sections:
        section(item, 2)
    chunks.append(["---"])
    chunks.extend([_md_block_text(line)] for line in document.footer)
    return "\n\n".join("\n".join(chunk) for chunk in chunks) + "\n"


# ================================================================== HTML

STYLESHEET = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; color: #1b1b1b; margin: 0; }
main { max-width: 54rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.9rem; margin-bottom: 0.5rem; }
h2 { font-size: 1.45rem; border-bottom: 1px solid #d0d0d0; padding-bottom: 0.2rem; margin-top: 2.4rem; }
h3 { font-size: 1.2rem; margin-top: 1.8rem; }
h4, h5, h6 { font-size: 1.02rem; margin-top: 1.2rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.95rem; }
th, td { border: 1px solid #c8c8c8; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
thead th { background: #f1f1f1; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.facts th { background: #f7f7f7; white-space: nowrap; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; background: #f3f3f3;
  padding: 0 0.2em; border-radius: 3px; }
footer { margin-top: 3rem; border-top: 1px solid #d0d0d0; padding-top: 0.8rem; font-size: 0.9rem; color: #444; }
footer code { word-break: break-all; }
@media print { main { margin: 0; max-width: none; } h2, h3 { break-after: avoid; } table { break-inside: avoid; } }
""".strip()


def _h(text: str) -> str:
    """Text content; attribute values go through `_attribute`."""
    return html.escape(text, quote=False)


def _attribute(text: str) -> str:
    return html.escape(text, quote=True)


def _html_inline(content: Inline) -> str:
    tags = {"code": "code", "strong": "strong", "em": "em"}
    out = []
    for run in content:
        text = _h(run.text)
        out.append(f"<{tags[run.style]}>{text}</{tags[run.style]}>" if run.style in tags else text)
    return "".join(out)


def _html_block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{_html_inline(block.text)}</p>"
    if isinstance(block, BulletList):
        return "<ul>\n" + "\n".join(f"<li>{_html_inline(item)}</li>" for item in block.items) + "\n</ul>"
    if isinstance(block, Facts):
        rows = "\n".join(f'<tr><th scope="row">{_h(label)}</th><td>{_html_inline(value)}</td></tr>' for label, value in block.items)
        return f'<table class="facts">\n<tbody>\n{rows}\n</tbody>\n</table>'

    def cell(tag: str, index: int, content: Inline) -> str:
        attributes = ' class="num"' if index in block.numeric else ""
        return f"<{tag}{attributes}>{_html_inline(content)}</{tag}>"

    head = "<tr>" + "".join(cell("th", i, h) for i, h in enumerate(block.headers)) + "</tr>"
    body = "\n".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in block.rows)
    return f"<table>\n<thead>\n{head}\n</thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def render_html(document: PlanDocument) -> str:
    """The document as a standalone HTML page with a small embedded stylesheet."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="compengine {_attribute(document.engine_version)}">',
        f"<title>{_h(document.title)} · version {_h(str(document.version))}</title>"
        if document.version is not None
        else f"<title>{_h(document.title)}</title>",
        f"<style>\n{STYLESHEET}\n</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_h(document.title)}</h1>",
    ]
    parts.extend(_html_block(b) for b in document.intro)

    def section(item: Section, level: int) -> None:
        tag = f"h{min(level, 6)}"
        parts.append(f'<section id="{_attribute(item.anchor)}">')
        parts.append(f"<{tag}>{_h(item.title)}</{tag}>")
        parts.extend(_html_block(b) for b in item.blocks)
        for child in item.sections:
            section(child, level + 1)
        parts.append("</section>")

    for item in document.sections:
        section(item, 2)
    parts.append("<footer>")
    parts.extend(f"<p>{_html_inline(line)}</p>" for line in document.footer)
    parts += ["</footer>", "</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
