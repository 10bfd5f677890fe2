"""The checker: everything that can be known wrong about a plan before any data is seen.

It resolves names, infers the type and unit of every expression, decides where each value
can be computed (per deal, per payee-period, or anywhere), and checks the plan's structure:
header, tier bands, effective-dated timelines, split shares, seasonality, component clauses,
definition cycles and unused definitions.  It reports every problem it finds, each with the
span to underline and a hint, and hands the compiler the types it inferred.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from compengine.core import units
from compengine.core.periods import PeriodKind, Window
from compengine.core.plan import Level
from compengine.core.rounding import RoundingLevel, RoundingMode, RoundingPolicy
from compengine.core.source import SourceSpan
from compengine.core.units import Kind, Type, UnitError
from compengine.lang import ast
from compengine.lang.builder import INVALID_DATE
from compengine.lang.diagnostics import Diagnostic, choose_hint, suggest
from compengine.lang.parser import MAX_DEPTH
from compengine.lang.symbols import (
    AGGREGATES,
    CREDIT_FIELDS,
    DEAL_FIELDS,
    FUNCTIONS,
    LIMIT_SCOPES,
    MONTHS,
    PAYEE_FIELDS,
    PERIOD_WORDS,
    ROUNDING_LEVELS,
    ROUNDING_MODES,
    TIER_MODES,
)

# What an expression reads, which decides where it can be computed.
DEAL, CREDIT, PAYEE, PERIOD, DATED = "deal", "credit", "payee", "period", "dated"
Uses = frozenset[str]
NOTHING: Uses = frozenset()


def level_of(uses: Iterable[str]) -> Level:
    found = set(uses)
    if found & {DEAL, CREDIT}:
        return Level.CREDIT
    if found & {PAYEE, PERIOD}:
        return Level.PERIOD
    if DATED in found:
        return Level.DATED
    return Level.CONST


@dataclass(frozen=True)
class Context:
    """Where an expression is written: what it may read, and how to say where it is."""

    where: str
    forbid: frozenset[str] = frozenset()
    constant: bool = False  # literals and arithmetic on them only


CONSTANT = Context("in a parameter or table value", frozenset({DEAL, CREDIT, PAYEE, PERIOD, DATED}), constant=True)
ANYWHERE = Context("here")


@dataclass(frozen=True)
class HeaderInfo:
    id: str
    title: str
    version: int
    effective: tuple[date, date]
    currency: str
    period_kind: PeriodKind
    fiscal_start_month: int
    rounding: RoundingPolicy
    span: SourceSpan


@dataclass
class DefInfo:
    kind: str
    decl: ast.Decl
    type: Type | None = None
    uses: Uses = NOTHING
    deps: set[str] = field(default_factory=set)
    checked: bool = False


@dataclass
class CheckResult:
    plan_file: ast.PlanFile
    diagnostics: list[Diagnostic]
    header: HeaderInfo | None
    defs: dict[str, DefInfo]
    components: list[ast.ComponentDecl]
    attributes: dict[str, tuple[Type, ast.AttributeDecl]]  # "deal.x" / "payee.x"
    types: dict[int, Type]
    uses: dict[int, Uses]
    component_deps: dict[str, set[str]]
    version: VersionInfo | None = None
    rules: dict[str, ast.RuleDecl] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # definitions and attributes some component reaches
    proration: str | None = None
    changes: str | None = None
    conversion: tuple[str, str, RoundingPolicy | None] | None = None
    pay: list[ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl] = field(default_factory=list)  # in the order written
    payment: str | None = None  # "booking" | "invoice paid"; None: not written (on booking)

    def type_of(self, expr: ast.Expr) -> Type:
        return self.types[id(expr)]

    def level_of(self, expr: ast.Expr) -> Level:
        return level_of(self.uses[id(expr)])


VALUE_KINDS = ("parameter", "table", "let", "measure", "decided value", "decision", "input")
LIBRARY_KINDS = (ast.AttributeDecl, ast.ParameterDecl, ast.TableDecl, ast.CurveDecl, ast.DecisionDecl, ast.LetDecl)
PRORATIONS = ("calendar days", "weekdays")
POLICIES = ("unique", "first", "collect sum", "collect max", "collect min")
T = TypeVar("T")


@dataclass(frozen=True)
class VersionInfo:
    """Which version of a plan is being checked: the base, or a revision from a date."""

    version: int
    start: date | None  # None: the base version, from the plan's start
    end: date | None  # None: until the plan's end
    note: str | None = None


class Checker:
    def __init__(self, plan_file: ast.PlanFile, decls: Sequence[ast.Decl] | None = None, version: VersionInfo | None = None):
        self.file = plan_file
        self.decls: list[ast.Decl] = list(plan_file.decls if decls is None else decls)
        self.version = version
        self.library = plan_file.library is not None and plan_file.header is None
        self.diagnostics: list[Diagnostic] = []
        self.header: HeaderInfo | None = None
        self.currency: str | None = None
        self.defs: dict[str, DefInfo] = {}
        self.rules: dict[str, ast.RuleDecl] = {}
        self.proration: str | None = None
        self.changes: str | None = None
        self.conversion: tuple[str, str, RoundingPolicy | None] | None = None
        self.payment: str | None = None
        self.pay: list[ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl] = []
        self.components: list[ast.ComponentDecl] = []
        self.attributes: dict[str, tuple[Type, ast.AttributeDecl]] = {}
        self.types: dict[int, Type] = {}
        self.uses: dict[int, Uses] = {}
        self.used_attributes: set[str] = set()
        self.component_deps: dict[str, set[str]] = {}
        self._in_progress: list[str] = []
        self._depth = 0  # nesting of expressions and the definitions they use, to stay off the stack limit
        self._too_deep_reported = False

    # ---------------------------------------------------------------- driver
    def run(self) -> CheckResult:
        if self.library:
            self.check_library()
        else:
            self.check_header()
        self.collect()
        for name, info in self.defs.items():
            self.ensure(name, info.decl.name.span)
        for component in self.components:
            self.check_component(component)
        self.check_pay()
        self.check_unused()
        self.diagnostics.sort(key=lambda d: (d.span.line, d.span.column, d.code))
        return CheckResult(
            self.file,
            self.diagnostics,
            self.header,
            self.defs,
            self.components,
            self.attributes,
            self.types,
            self.uses,
            self.component_deps,
            self.version,
            self.rules,
            self.used_names(),
            self.proration,
            self.changes,
            self.conversion,
            self.pay,
            self.payment,
        )

    def error(self, span: SourceSpan, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(span, code, message, hint))

    @property
    def money(self) -> Type:
        return units.money(self.currency)

    # ---------------------------------------------------------------- header
    def check_header(self) -> None:
        start = SourceSpan(self.file.path, 1, 1, 1, 2)
        header = self.file.header
        if header is None:
            self.error(start, "E010", "the file has no plan header", 'start the file with `plan <name> "<title>"` and its clauses')
            return
        if self.file.items and self.file.items[0] is not header:
            self.error(header.span, "E010", "the plan header must come before every declaration", "move it to the top of the file")
        for item in self.file.items:
            if isinstance(item, ast.PlanHeader) and item is not header:
                self.error(item.span, "E010", "a file holds one plan; this is a second header", "put each plan in its own file")
        clauses: dict[str, ast.HeaderClause] = {}
        for clause in header.clauses:
            if clause.kind in clauses:
                self.error(clause.span, "E013", f"the `{_header_keyword(clause.kind)}` clause is given twice", "keep one")
                continue
            clauses[clause.kind] = clause
        info = self._header_values(header, clauses)
        if info is not None:
            self.header = info
            self.currency = info.currency
        elif "currency" in clauses:
            self.currency = str(clauses["currency"].values[0])

    def check_library(self) -> None:
        library = self.file.library
        assert library is not None
        for item in self.file.items:
            if isinstance(item, ast.LibraryHeader) and item is not library:
                self.error(item.span, "E010", "a file holds one library; this is a second header", "put each library in its own file")
            if isinstance(item, ast.PlanHeader | ast.RevisionDecl):
                self.error(
                    item.span, "E017", "a library holds shared definitions only, not a plan or its revisions", "move this into a plan file"
                )
        for decl in self.decls:
            if not isinstance(decl, LIBRARY_KINDS):
                self.error(
                    decl.span,
                    "E017",
                    f"a library can share attributes, parameters, tables, curves, decision tables and lets, not a {decl.keyword}",
                    "move this into the plans that need it",
                )

    def _header_values(self, header: ast.PlanHeader, clauses: dict[str, ast.HeaderClause]) -> HeaderInfo | None:
        ok = True
        self._policies(clauses)
        required = {
            "version": "version 1",
            "effective": "effective 2026-01-01 until 2027-01-01",
            "currency": "currency USD",
            "calculated": "calculated quarterly",
            "fiscal": "fiscal year starts january",
        }
        for kind, example in required.items():
            if kind not in clauses:
                self.error(header.name.span, "E011", f"plan {header.name.text} has no `{_header_keyword(kind)}` clause", f"add `{example}`")
                ok = False
        if "rounding" not in clauses:
            self.error(
                header.name.span,
                "E012",
                f"plan {header.name.text} has no rounding policy",
                "add e.g. `rounding half up to 2 places per component` (half up or half even; per credit, component or statement)",
            )
            ok = False
        period_kind = self._choice(clauses.get("calculated"), 0, PERIOD_WORDS, "a calculation period")
        month = self._choice(clauses.get("fiscal"), 0, MONTHS, "a month")
        rounding = self._rounding(clauses.get("rounding"))
        effective = clauses.get("effective")
        if effective is not None:
            start, until = effective.values
            assert isinstance(start, date) and isinstance(until, date)
            if INVALID_DATE in (start, until):
                ok = False  # already reported as E005
            elif until <= start:
                self.error(
                    effective.span,
                    "E015",
                    f"the plan is effective for no time: {until} is not after {start}",
                    "`until` is the first day the plan no longer applies",
                )
                ok = False
        if not ok or period_kind is None or month is None or rounding is None or effective is None:
            return None
        version = clauses["version"].values[0] if self.version is None else self.version.version
        assert isinstance(version, int)
        return HeaderInfo(
            header.name.text,
            header.title or header.name.text,
            version,
            (effective.values[0], effective.values[1]),  # type: ignore[arg-type]
            str(clauses["currency"].values[0]),
            period_kind,
            month,
            rounding,
            header.span,
        )

    def _policies(self, clauses: dict[str, ast.HeaderClause]) -> None:
        """Proration, changes within a period and currency conversion (all optional clauses)."""
        proration = clauses.get("proration")
        if proration is not None:
            words = " ".join(str(v) for v in proration.values)
            if words not in PRORATIONS:
                self.error(
                    proration.span,
                    "E014",
                    f"`proration by {words}` is not a day-count convention",
                    choose_hint(words, list(PRORATIONS)),
                )
            else:
                self.proration = words
        changes = clauses.get("changes")
        if changes is not None:
            self.changes = str(changes.values[0])
            if self.changes == "split" and proration is None:
                self.error(
                    changes.span,
                    "E011",
                    "splitting a period between assignments weighs each by its days, so the plan needs a day-count convention",
                    "add `proration by calendar days` (or `by weekdays`)",
                )
        conversion = clauses.get("conversion")
        if conversion is not None:
            rate_type, on, rounded, mode, places = conversion.values
            policy = None
            if rounded == "rounded":
                assert isinstance(places, int)
                if mode not in ROUNDING_MODES:
                    self.error(conversion.words[0].span, "E014", f"`half {mode}` is not a rounding mode", "write `half up` or `half even`")
                elif places > 6:
                    self.error(conversion.span, "E014", f"rounding to {places} places is finer than any currency", "use 0 to 6 places")
                else:
                    policy = RoundingPolicy(RoundingMode.HALF_UP if mode == "up" else RoundingMode.HALF_EVEN, places, RoundingLevel.CREDIT)
            self.conversion = (str(rate_type), str(on), policy)
        payment = clauses.get("payment")
        if payment is not None:
            if payment.words and payment.words[0].text != "booking":
                word = payment.words[0]
                self.error(
                    word.span,
                    "E014",
                    f"`payment on {word.text}` is not a payment timing",
                    "write `payment on booking` or `payment when the invoice is paid`",
                )
            else:
                self.payment = str(payment.values[0])

    def _choice(self, clause: ast.HeaderClause | None, index: int, choices: Mapping[str, T], what: str) -> T | None:
        if clause is None:
            return None
        word = clause.words[index]
        if word.text not in choices:
            self.error(word.span, "E014", f"`{word.text}` is not {what}", choose_hint(word.text, list(choices)))
            return None
        return choices[word.text]

    def _rounding(self, clause: ast.HeaderClause | None) -> RoundingPolicy | None:
        if clause is None:
            return None
        mode_word, level_word = clause.words
        places = clause.values[1]
        assert isinstance(places, int)
        ok = True
        if mode_word.text not in ROUNDING_MODES:
            self.error(mode_word.span, "E014", f"`half {mode_word.text}` is not a rounding mode", "write `half up` or `half even`")
            ok = False
        if level_word.text not in ROUNDING_LEVELS:
            self.error(
                level_word.span,
                "E014",
                f"`per {level_word.text}` is not a rounding level",
                choose_hint(level_word.text, list(ROUNDING_LEVELS)),
            )
            ok = False
        if places > 6:
            self.error(clause.span, "E014", f"rounding to {places} places is finer than any currency", "use 0 to 6 places")
            ok = False
        if not ok:
            return None
        mode = RoundingMode.HALF_UP if mode_word.text == "up" else RoundingMode.HALF_EVEN
        return RoundingPolicy(mode, places, ROUNDING_LEVELS[level_word.text])

    # ---------------------------------------------------------------- declarations
    def collect(self) -> None:
        names: dict[str, ast.Decl] = {}
        for decl in self.decls:
            if isinstance(decl, ast.RuleDecl):
                self.collect_rule(decl, names)
                continue
            if isinstance(decl, ast.ComponentDecl):
                if any(c.name.text == decl.name.text for c in self.components):
                    self.error(decl.name.span, "E021", f"component `{decl.name.text}` is defined twice", "give each component its own name")
                    continue
                self.components.append(decl)
                continue
            if isinstance(decl, ast.AttributeDecl):
                self.collect_attribute(decl)
                continue
            if isinstance(decl, ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl):
                self.collect_pay(decl)
                continue
            name = decl.name.text
            if name in names:
                first = names[name].name.span
                self.error(decl.name.span, "E021", f"`{name}` is already defined at line {first.line}", "rename one of them")
                continue
            if name in FUNCTIONS:
                self.error(decl.name.span, "E021", f"`{name}` is a built-in function", "choose another name")
                continue
            names[name] = decl
            self.defs[name] = DefInfo(decl.keyword, decl)

    def collect_pay(self, decl: ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl) -> None:
        """Draws, holdbacks and clawbacks share one namespace of their own: their names are
        used in ledger accounts and movements, never as values."""
        same = next((d for d in self.pay if d.name.text == decl.name.text), None)
        if same is not None:
            self.error(
                decl.name.span,
                "E021",
                f"`{decl.name.text}` already names the {same.keyword} at line {same.name.span.line}",
                "give each draw, holdback and clawback its own name",
            )
            return
        self.pay.append(decl)

    def collect_rule(self, decl: ast.RuleDecl, names: dict[str, ast.Decl]) -> None:
        """A rule labels one way of setting a value; the rules setting one value define it."""
        label = decl.name.text
        if label in self.rules:
            first = self.rules[label].name.span
            self.error(decl.name.span, "E021", f"rule `{label}` is already defined at line {first.line}", "give each rule its own label")
            return
        self.rules[label] = decl
        target = decl.target.text
        existing = names.get(target)
        if existing is not None and not isinstance(existing, ast.RuleDecl):
            self.error(
                decl.target.span,
                "E021",
                f"`{target}` is already defined at line {existing.name.span.line}, so rules cannot set it",
                "rules set a value that only rules define; rename one of them",
            )
            return
        if existing is None:
            names[target] = decl
            self.defs[target] = DefInfo("decided value", decl)

    def collect_attribute(self, decl: ast.AttributeDecl) -> None:
        key = f"{decl.owner}.{decl.name.text}"
        builtins = DEAL_FIELDS if decl.owner == "deal" else PAYEE_FIELDS
        if decl.name.text in builtins:
            self.error(decl.name.span, "E021", f"`{key}` is a built-in field", "choose another attribute name")
            return
        if key in self.attributes:
            self.error(decl.name.span, "E021", f"`{key}` is declared twice", "keep one declaration")
            return
        kind = units.TYPE_NAMES.get(decl.type_name.text)
        if kind is None:
            self.error(
                decl.type_name.span,
                "E023",
                f"`{decl.type_name.text}` is not a type",
                choose_hint(decl.type_name.text, list(units.TYPE_NAMES)),
            )
            return
        type_ = units.money(self.currency) if kind is Kind.MONEY else Type(kind)
        if decl.is_list:
            if kind is not Kind.TEXT:
                self.error(decl.type_name.span, "E023", "only text can be a list", "write `text list`")
                return
            type_ = units.TEXT_LIST
        if decl.default is not None:
            default_type, _ = self.expr(decl.default, CONSTANT)
            if default_type is not None and not _assignable(default_type, type_):
                self.error(decl.default.span, "E031", f"the default of `{key}` is {default_type}, but the attribute is {type_}")
        self.attributes[key] = (type_, decl)

    def ensure(self, name: str, span: SourceSpan) -> DefInfo | None:
        """Check a definition (once), returning it with its type and uses."""
        info = self.defs[name]
        if info.checked:
            return info
        if name in self._in_progress:
            cycle = [*self._in_progress[self._in_progress.index(name) :], name]
            self.error(
                info.decl.name.span,
                "E060",
                f"`{name}` is defined in terms of itself: {' → '.join(cycle)}",
                "define one of these without using the others",
            )
            info.checked = True
            return info
        self._in_progress.append(name)
        self._depth += 1
        try:
            self._check_definition(info)
        finally:
            self._depth -= 1
            self._in_progress.pop()
            info.checked = True
        return info

    def _check_definition(self, info: DefInfo) -> None:
        decl = info.decl
        if isinstance(decl, ast.ParameterDecl):
            info.type = self.check_parameter(decl)
            info.uses = frozenset({DATED})
        elif isinstance(decl, ast.TableDecl):
            info.type, key_uses = self.check_table(decl, info)
            info.uses = key_uses | {DATED}
        elif isinstance(decl, ast.CurveDecl):
            info.type = self.check_curve(decl)
        elif isinstance(decl, ast.CreditDecl):
            self.check_credit(decl, info)
        elif isinstance(decl, ast.MeasureDecl):
            info.type = self.check_measure(decl, info)
            info.uses = frozenset({PERIOD})
        elif isinstance(decl, ast.QuotaDecl):
            self.check_quota(decl)
            info.type = self.money
            info.uses = frozenset({PERIOD})
        elif isinstance(decl, ast.LetDecl):
            found, info.uses = self.expr(decl.expr, ANYWHERE, info.deps)
            info.type = self._check_annotation(decl.type_name, found, decl.expr.span)
        elif isinstance(decl, ast.EarningsDecl):
            info.type = self.money
            info.uses = frozenset({PERIOD})
            if decl.reports == "levels" and (decl.levels or 0) < 1:
                self.error(
                    decl.span, "E014", "earnings of reports go at least 1 level down", "write `direct reports` or `reports 2 levels`"
                )
        elif isinstance(decl, ast.RuleDecl):
            info.type, info.uses = self.check_rules(decl.target.text, info)
        elif isinstance(decl, ast.DecisionDecl):
            info.type, info.uses = self.check_decision(decl, info)
        elif isinstance(decl, ast.InputDecl):
            info.type = self.check_input(decl)
            info.uses = frozenset({PERIOD})

    def _check_annotation(self, annotation: ast.Word | None, found: Type | None, span: SourceSpan) -> Type | None:
        if annotation is None:
            return found
        kind = units.TYPE_NAMES.get(annotation.text)
        if kind is None:
            self.error(annotation.span, "E023", f"`{annotation.text}` is not a type", choose_hint(annotation.text, list(units.TYPE_NAMES)))
            return found
        declared = units.money(self.currency) if kind is Kind.MONEY else Type(kind)
        if found is not None and not _assignable(found, declared):
            self.error(span, "E031", f"this is {found}, but it is declared as {declared}")
        return declared

    def check_parameter(self, decl: ast.ParameterDecl) -> Type | None:
        found = self._dated_values(decl.values, f"parameter `{decl.name.text}`")
        return self._check_annotation(decl.type_name, found, decl.values[0].span)

    def _dated_values(self, values: Sequence[ast.DatedValue], what: str) -> Type | None:
        found: Type | None = None
        for value in values:
            type_, _ = self.expr(value.value, CONSTANT)
            if type_ is None:
                continue
            if found is None:
                found = type_
            elif not _assignable(type_, found) and not _assignable(found, type_):
                self.error(
                    value.value.span,
                    "E031",
                    f"{what} changes type over time: {found} before, {type_} here",
                    f"write every value as {found}",
                )
        self.check_timeline(values, what)
        return found

    def check_timeline(self, values: Sequence[ast.DatedValue], what: str) -> None:
        if any(INVALID_DATE in (value.start, value.until) for value in values):
            return  # a date not on the calendar (E005) leaves nothing to compare
        if len(values) == 1 and values[0].start is None:
            if values[0].until is not None:
                self.error(values[0].span, "E052", f"{what} has an `until` without a `from`", "add `from <date>`")
            return
        for value in values:
            if value.start is None:
                self.error(value.span, "E052", f"{what} has several values, so each needs a `from` date", "add `from <date>`")
                return
            if value.until is not None and value.until <= value.start:  # type: ignore[operator]
                self.error(
                    value.span,
                    "E015",
                    f"{what} is in effect for no time here: {value.until} is not after {value.start}",
                    "`until` is the first day the value no longer applies; make it later than `from`",
                )
                return
        for previous, current in itertools.pairwise(values):
            assert isinstance(previous.start, date) and isinstance(current.start, date)
            end = previous.until
            if current.start <= previous.start:
                self.error(
                    current.span,
                    "E051",
                    f"{what}: the value from {current.start} overlaps the one from {previous.start}",
                    "list values in date order, each from a later date",
                )
            elif end is not None and end < current.start:  # type: ignore[operator]
                self.error(
                    current.span,
                    "E050",
                    f"{what} has no value from {end} until {current.start}",
                    f"end the previous value at {current.start}, or start this one at {end}",
                )
            elif end is not None and end > current.start:  # type: ignore[operator]
                self.error(
                    current.span,
                    "E051",
                    f"{what}: the value until {end} overlaps the one from {current.start}",
                    f"end the previous value at {current.start}",
                )
        if self.header is None:
            return
        plan_start, plan_end = self.header.effective
        first, last = values[0], values[-1]
        assert isinstance(first.start, date)
        if first.start > plan_start:
            self.error(
                first.span,
                "E052",
                f"{what} has no value from the plan's start {plan_start} until {first.start}",
                f"start the first value `from {plan_start}`",
            )
        if last.until is not None and last.until < plan_end:  # type: ignore[operator]
            self.error(
                last.span,
                "E050",
                f"{what} has no value from {last.until} until the plan ends on {plan_end}",
                "extend the last value, or drop its `until`",
            )

    def check_table(self, decl: ast.TableDecl, info: DefInfo) -> tuple[Type | None, Uses]:
        key_type, key_uses = self.expr(decl.key, Context(f"as the key of table `{decl.name.text}`"), info.deps)
        found: Type | None = None
        seen: dict[object, ast.TableRow] = {}
        otherwise = 0
        for row in decl.rows:
            if row.key is None:
                otherwise += 1
                if otherwise > 1:
                    self.error(row.span, "E090", f"table `{decl.name.text}` has two `otherwise` rows", "keep one")
            else:
                literal_type, _ = self.expr(row.key, CONSTANT)
                if key_type is not None and literal_type is not None and not units.comparable(key_type, literal_type):
                    self.error(row.key.span, "E031", f"this key is {literal_type}, but the table is keyed by {key_type}")
                key = _literal_key(row.key)
                if key in seen:
                    self.error(
                        row.key.span,
                        "E090",
                        f"table `{decl.name.text}` has a row for {_show_key(row.key)} already (line {seen[key].span.line})",
                        "keep one row per key",
                    )
                seen[key] = row
            type_ = self._dated_values(row.values, f"table `{decl.name.text}`")
            if type_ is not None:
                if found is None:
                    found = type_
                elif not _assignable(type_, found) and not _assignable(found, type_):
                    self.error(row.span, "E031", f"rows of table `{decl.name.text}` hold different types: {found} and {type_}")
        return self._check_annotation(decl.type_name, found, decl.name.span), key_uses

    def check_curve(self, decl: ast.CurveDecl) -> Type | None:
        if len(decl.points) < 2:
            self.error(
                decl.name.span, "E044", f"curve `{decl.name.text}` needs at least two points", "add another `at <position>: <value>` row"
            )
        x_type = y_type = None
        previous: Decimal | None = None
        for point in decl.points:
            xt, _ = self.expr(point.at, CONSTANT)
            yt, _ = self.expr(point.value, CONSTANT)
            x_type = x_type or xt
            y_type = y_type or yt
            if xt is not None and x_type is not None and not units.comparable(xt, x_type):
                self.error(point.at.span, "E045", f"curve points mix {x_type} and {xt}", f"write every point's position as {x_type}")
            x = _literal_decimal(point.at)
            if previous is not None and x is not None and x <= previous:
                self.error(
                    point.at.span,
                    "E044",
                    f"curve `{decl.name.text}` points must go up: {_show_key(point.at)} does not come after the point before it",
                    "list the points from the lowest position to the highest, each position once",
                )
            previous = x
        return y_type

    def check_credit(self, decl: ast.CreditDecl, info: DefInfo) -> None:
        context = Context(
            f"in credit rule `{decl.name.text}`",
            frozenset({CREDIT, PAYEE, PERIOD}),
        )
        if decl.where is not None:
            self.expect(decl.where, units.BOOLEAN, context, info.deps, "a `where` filter")
        self.expect_money(decl.amount, context, info.deps, "the credited amount")
        self.expect(decl.dated, units.DATE, context, info.deps, "the credit date")
        overlays = [r for r in decl.recipients if r.kind == "payees"]
        for overlay in overlays:
            assert overlay.condition is not None
            where = Context(f"in the `payees where` condition of credit rule `{decl.name.text}`", frozenset({CREDIT, PERIOD}))
            self.expect(overlay.condition, units.BOOLEAN, where, info.deps, "the condition choosing payees")
        if isinstance(decl.rollup, int) and decl.rollup < 1:
            assert decl.rollup_span is not None
            self.error(
                decl.rollup_span,
                "E014",
                "a rollup goes at least 1 level up",
                "write `rolled up 1 levels` or more, or `rolled up to the top`",
            )
        direct = [r for r in decl.recipients if r.kind != "payees"]
        if decl.splits and direct:
            self.error(
                direct[0].span,
                "E070",
                "with `deal splits`, the deal's splits say who shares its credit; other recipients can only be `payees where` overlays",
                "remove this recipient, or credit it in a credit rule of its own",
            )
            return
        shares = [r.share for r in direct]
        if len(direct) > 1 or any(s is not None for s in shares):
            if any(s is None for s in shares):
                missing = next(r for r in direct if r.share is None)
                self.error(
                    missing.span,
                    "E070",
                    f"credit rule `{decl.name.text}` has several recipients, so each needs a share, and this one has none",
                    "give each recipient a percentage, adding up to 100%: `owner 70%, deal.overlay 30%`",
                )
            else:
                total = sum((share for share in shares if share is not None), Decimal(0))
                if total != 100:
                    self.error(
                        direct[0].span,
                        "E070",
                        f"the shares of credit rule `{decl.name.text}` add up to {total}%, not 100%",
                        "credit must be conserved: make them add up to 100%",
                    )
        for recipient in decl.recipients:
            if recipient.kind == "field":
                key = f"deal.{recipient.field_name}"
                attribute = self.attributes.get(key)
                self.used_attributes.add(key)
                if attribute is None and self._declared_with_error(key):
                    pass  # the declaration's own error is reported already
                elif attribute is None:
                    self.error(
                        recipient.span,
                        "E022",
                        f"`{key}` is not a declared deal attribute",
                        f"declare it: `deal attribute {recipient.field_name}: payee`",
                    )
                elif attribute[0].kind is not Kind.PAYEE:
                    self.error(
                        recipient.span,
                        "E031",
                        f"`{key}` is {attribute[0]}, but credit can only go to a payee",
                        f"declare it as `deal attribute {recipient.field_name}: payee`",
                    )

    def _declared_with_error(self, key: str) -> bool:
        """Whether attribute `key` is declared, but with an error (such as an unknown type) already reported."""
        return any(isinstance(d, ast.AttributeDecl) and f"{d.owner}.{d.name.text}" == key for d in self.decls)

    def check_measure(self, decl: ast.MeasureDecl, info: DefInfo) -> Type | None:
        aggregate = AGGREGATES.get(decl.aggregate.text)
        if aggregate is None:
            self.error(
                decl.aggregate.span,
                "E014",
                f"`{decl.aggregate.text}` is not a way to aggregate credits",
                choose_hint(decl.aggregate.text, list(AGGREGATES)),
            )
        self.credit_ref(decl.credit, info.deps)
        if decl.window == "QUARTER_TO_DATE" and self.header is not None and self.header.period_kind is PeriodKind.YEAR:
            self.error(decl.span, "E014", "a yearly plan has no quarter to date", "use `for the period` or `for the year to date`")
        if decl.where is not None:
            context = Context(f"in the filter of measure `{decl.name.text}`", frozenset({PERIOD}))
            self.expect(decl.where, units.BOOLEAN, context, info.deps, "a `where` filter")
        if aggregate is not None and aggregate.value == "count":
            return units.COUNT
        return self.money

    def credit_ref(self, word: ast.Word, deps: set[str]) -> bool:
        info = self.defs.get(word.text)
        if info is None:
            credits = [n for n, d in self.defs.items() if d.kind == "credit"]
            self.error(word.span, "E020", f"there is no credit rule `{word.text}`", suggest(word.text, credits))
            return False
        if info.kind != "credit":
            deps.add(word.text)  # used, even if wrongly: no `not used` warning on top of this error
            credits = [n for n, d in self.defs.items() if d.kind == "credit"]
            self.error(
                word.span,
                "E032",
                f"`{word.text}` is a {info.kind}, not a credit rule",
                choose_hint(word.text, credits) if credits else "declare one: `credit <name> from deals ...`",
            )
            return False
        deps.add(word.text)
        return True

    def check_quota(self, decl: ast.QuotaDecl) -> None:
        if decl.basis != "seasonal":
            return
        total = Decimal(0)
        for literal in decl.seasonality:
            if literal.kind != "percent":
                self.error(
                    literal.span,
                    "E071",
                    "seasonality is written in percentages, e.g. `20%`",
                    "add `%` to each share, e.g. `annual spread 20%, 25%, 25%, 30%`",
                )
                return
            total += literal.value  # type: ignore[operator]
        if self.header is not None and len(decl.seasonality) != self.header.period_kind.per_year:
            count = self.header.period_kind.per_year
            self.error(
                decl.span,
                "E071",
                f"the plan has {count} periods a year, but the seasonality gives {len(decl.seasonality)} shares",
                f"give {count} percentages",
            )
        if total != 100:
            self.error(
                decl.span,
                "E071",
                f"the seasonality adds up to {total}%, not 100%",
                "the shares spread one annual quota, so they must add up to 100%",
            )

    # ---------------------------------------------------------------- rules, decisions, inputs
    def check_rules(self, target: str, info: DefInfo) -> tuple[Type | None, Uses]:
        """The rules setting `target`: one type, known exceptions, no cycle, no certain conflict."""
        rules = [r for r in self.rules.values() if r.target.text == target]
        found: Type | None = None
        uses: Uses = NOTHING
        for rule in rules:
            value, value_uses = self.expr(rule.value, ANYWHERE, info.deps)
            uses = uses | value_uses
            if value is not None and found is not None and not (_assignable(value, found) or _assignable(found, value)):
                self.error(
                    rule.value.span,
                    "E031",
                    f"rule `{rule.name.text}` sets `{target}` to {value}, but other rules set it to {found}",
                    f"write every rule's value as {found}",
                )
            found = found or value
            if rule.when is not None:
                condition, condition_uses = self.expr(rule.when, ANYWHERE, info.deps)
                uses = uses | condition_uses
                if condition is not None and condition.kind is not Kind.BOOLEAN:
                    self.error(rule.when.span, "E031", f"`when` needs a condition, but this is {condition}", _wanted_hint(units.BOOLEAN))
            for base in rule.exceptions:
                self._check_exception(rule, base, target)
        overrides = self._overrides(rules)
        self._check_conflicts(target, rules, overrides)
        return found, uses

    def _check_exception(self, rule: ast.RuleDecl, base: ast.Word, target: str) -> None:
        other = self.rules.get(base.text)
        if other is None:
            self.error(
                base.span,
                "E020",
                f"there is no rule `{base.text}`",
                suggest(base.text, list(self.rules)) or "name a rule declared with `rule <label> sets ...`",
            )
        elif other.target.text != target:
            self.error(
                base.span,
                "E032",
                f"rule `{base.text}` sets `{other.target.text}`, but `{rule.name.text}` sets `{target}`",
                "an exception overrides a rule setting the same value",
            )
        elif other is rule:
            self.error(base.span, "E060", f"rule `{rule.name.text}` cannot be an exception to itself", "name the rule it overrides")

    def _overrides(self, rules: list[ast.RuleDecl]) -> dict[str, set[str]]:
        """For each rule, the rules it overrides directly or through other exceptions."""
        direct = {r.name.text: {b.text for b in r.exceptions if b.text in self.rules and b.text != r.name.text} for r in rules}
        closed: dict[str, set[str]] = {}
        for rule in rules:
            label = rule.name.text
            seen: set[str] = set()
            pending = list(direct.get(label, ()))
            while pending:
                base = pending.pop()
                if base == label and label not in seen:
                    self.error(
                        rule.name.span,
                        "E060",
                        f"rule `{label}` overrides itself through its exceptions",
                        "make the exceptions a tree: each rule overrides only more general rules",
                    )  # no early stop: a partial closure made the E061s reported depend on set order
                if base not in seen:
                    seen.add(base)
                    pending.extend(direct.get(base, ()))
            closed[label] = seen
        return closed

    def _check_conflicts(self, target: str, rules: list[ast.RuleDecl], overrides: dict[str, set[str]]) -> None:
        """Two rules with no precedence that certainly both apply: one has no condition, or
        both have the same condition.  Others can only be told apart by the data."""
        for index, first in enumerate(rules):
            for second in rules[index + 1 :]:
                a, b = first.name.text, second.name.text
                if a in overrides.get(b, ()) or b in overrides.get(a, ()):
                    continue
                if any(e.text not in self.rules for e in (*first.exceptions, *second.exceptions)):
                    continue  # a misspelt exception is reported already; its intent is unknown
                same = first.when is not None and second.when is not None and self._text(first.when.span) == self._text(second.when.span)
                if first.when is None or second.when is None or same:
                    where = f"{first.span.file}:{first.span.line}:{first.span.column}"
                    self.error(
                        second.name.span,
                        "E061",
                        f"rules `{b}` and `{a}` (at {where}) both set `{target}` when `{b}` applies; neither is an exception to the other",
                        f"write `exception to {a}` on the more specific rule",
                    )

    def _text(self, span: SourceSpan) -> str:
        lines = self.file.text.split("\n")
        if span.line == span.end_line:
            return " ".join(lines[span.line - 1][span.column - 1 : span.end_column - 1].split())
        return " ".join(" ".join(lines[span.line - 1 : span.end_line]).split())

    def check_decision(self, decl: ast.DecisionDecl, info: DefInfo) -> tuple[Type | None, Uses]:
        name = decl.name.text
        policy = " ".join(w.text for w in decl.policy) or "unique"
        if policy not in POLICIES:
            assert decl.policy_span is not None
            self.error(decl.policy_span, "E014", f"`hit policy {policy}` is not a hit policy", choose_hint(policy, list(POLICIES)))
        uses: Uses = NOTHING
        inputs: list[Type | None] = []
        for given in decl.inputs:
            found, given_uses = self.expr(given, ANYWHERE, info.deps)
            inputs.append(found)
            uses = uses | given_uses
        output: Type | None = None
        outputs = [(row.output, row.span) for row in decl.rows] + ([(decl.otherwise, decl.otherwise.span)] if decl.otherwise else [])
        for expr, span in outputs:
            found, output_uses = self.expr(expr, ANYWHERE, info.deps)
            uses = uses | output_uses
            if found is not None and output is not None and not (_assignable(found, output) or _assignable(output, found)):
                self.error(
                    span,
                    "E031",
                    f"rows of decision table `{name}` give different types: {output} and {found}",
                    f"write every output as {output}",
                )
            output = output or found
        for row in decl.rows:
            self._check_row(name, row, inputs)
        if policy == "collect sum" and output is not None and not output.is_numeric:
            self.error(
                decl.name.span,
                "E031",
                f"`collect sum` adds outputs up, but `{name}` gives {output}",
                "use `first` or `unique` for values that cannot be added",
            )
        if policy == "unique":
            self._check_overlaps(name, decl.rows)
        return self._check_annotation(decl.type_name, output, decl.name.span), uses | {DATED}

    def _check_row(self, name: str, row: ast.DecisionRow, inputs: list[Type | None]) -> None:
        if len(row.cells) != len(inputs):
            self.error(
                row.span,
                "E031",
                f"this row of `{name}` has {_plural(len(row.cells), 'test')}, but the table is given {_plural(len(inputs), 'input')}",
                "write one test per input, `any` where a row does not care",
            )
            return
        for cell, wanted in zip(row.cells, inputs, strict=True):
            for literal in cell.values:
                found, _ = self.expr(literal, CONSTANT)
                if wanted is not None and found is not None and not units.comparable(wanted, found):
                    self.error(literal.span, "E030", f"this test compares {wanted} with {found}", f"write a value that is {wanted}")
            if cell.kind in ("range", "below", "from") and wanted is not None and not units.ordered(wanted):
                self.error(
                    cell.span,
                    "E030",
                    f"{wanted} values have no order, so they cannot be tested against a range",
                    "test them with a value or a set",
                )
            if cell.kind == "range":
                low, high = (_literal_key(v) for v in cell.values)
                if isinstance(low, Decimal) and isinstance(high, Decimal) and high <= low:
                    self.error(
                        cell.span,
                        "E015",
                        "this range is empty: its upper bound is not above its lower bound",
                        "write `[low, high)` with high above low",
                    )

    def _check_overlaps(self, name: str, rows: list[ast.DecisionRow]) -> None:
        for index, first in enumerate(rows):
            for second in rows[index + 1 :]:
                if len(first.cells) == len(second.cells) and all(_cells_meet(a, b) for a, b in zip(first.cells, second.cells, strict=True)):
                    self.error(
                        second.span,
                        "E092",
                        f"rows of decision table `{name}` overlap: the same inputs match this row and the one at line {first.span.line}",
                        "make the rows' tests exclusive, or declare `hit policy first` to use the first matching row",
                    )

    def check_input(self, decl: ast.InputDecl) -> Type | None:
        kind = units.TYPE_NAMES.get(decl.type_name.text)
        if kind is None:
            self.error(
                decl.type_name.span,
                "E023",
                f"`{decl.type_name.text}` is not a type",
                choose_hint(decl.type_name.text, list(units.TYPE_NAMES)),
            )
            return None
        type_ = units.money(self.currency) if kind is Kind.MONEY else Type(kind)
        if decl.default is not None:
            found, _ = self.expr(decl.default, CONSTANT)
            if found is not None and not _assignable(found, type_):
                self.error(
                    decl.default.span,
                    "E031",
                    f"the default of input `{decl.name.text}` is {found}, but the input is {type_}",
                    f"write a default that is {type_}",
                )
        return type_

    def used_names(self) -> set[str]:
        used = set(self.used_attributes)
        for deps in self.component_deps.values():
            used |= deps
        return used

    # ---------------------------------------------------------------- components
    def check_component(self, decl: ast.ComponentDecl) -> None:
        deps: set[str] = set()
        self.component_deps[decl.name.text] = deps
        by_kind: dict[type, list[ast.Clause]] = {}
        for clause in decl.clauses:
            by_kind.setdefault(type(clause), []).append(clause)
        single = (
            ast.CitesClause,
            ast.PerCreditClause,
            ast.OnClause,
            ast.OrderedClause,
            ast.RunningClause,
            ast.DuringClause,
            ast.TrueUpClause,
        )
        for kind in single:
            for extra in by_kind.get(kind, [])[1:]:
                self.error(extra.span, "E082", f"component `{decl.name.text}` gives this clause twice", "keep one")
        rewards = [c for c in decl.clauses if isinstance(c, ast.PaysClause | ast.RateClause | ast.TiersClause)]
        per_credit = _first(by_kind, ast.PerCreditClause)
        on = _first(by_kind, ast.OnClause)
        name = decl.name.text
        if not rewards:
            self.error(decl.name.span, "E080", f"component `{name}` pays nothing", "add a `pays`, `rate` or `tiers` clause")
        for extra in rewards[1:]:
            self.error(
                extra.span,
                "E081",
                f"component `{name}` already has a reward clause",
                "a component has one `pays`, `rate` or tiers clause; split it into two components",
            )
        if per_credit is not None and on is not None:
            self.error(
                on.span, "E081", "a component is paid either per credit or on a period amount, not both", "remove `on` or `per credit`"
            )
        reward = rewards[0] if rewards else None
        if per_credit is not None:
            assert isinstance(per_credit, ast.PerCreditClause)
            self.credit_ref(per_credit.credit, deps)
        credit_ctx = Context(f"in component `{name}`")
        period_ctx = Context(
            f"in component `{name}`, which is computed once per period",
            frozenset({DEAL, CREDIT}),
        )
        line_ctx = credit_ctx if per_credit is not None else period_ctx
        period_only = Context(f"in a period-level clause of `{name}`", frozenset({DEAL, CREDIT}))
        if per_credit is not None and per_credit.where is not None:
            self.expect(per_credit.where, units.BOOLEAN, credit_ctx, deps, "a `where` filter")
        if on is not None:
            assert isinstance(on, ast.OnClause)
            self.expect_money(on.amount, period_ctx, deps, "the amount a component is paid on")
            if isinstance(reward, ast.PaysClause):
                self.error(
                    on.span, "E081", "`on` gives the amount that a rate or tiers apply to; `pays` already says the amount", "remove `on`"
                )
        if isinstance(reward, ast.RateClause | ast.TiersClause) and per_credit is None and on is None:
            self.error(
                reward.span,
                "E080",
                f"component `{name}` has a rate but nothing to apply it to",
                "add `per credit of <credit rule>` or `on <amount>`",
            )
        if isinstance(reward, ast.PaysClause):
            self.expect_money(reward.amount, line_ctx, deps, "what a component pays")
        elif isinstance(reward, ast.RateClause):
            self.expect_rate(reward.rate, line_ctx, deps, "a rate")
        elif isinstance(reward, ast.TiersClause):
            self.check_tiers(reward, line_ctx, period_only, deps)
        ordered = _first(by_kind, ast.OrderedClause)
        running = _first(by_kind, ast.RunningClause)
        if isinstance(reward, ast.TiersClause) and per_credit is not None and ordered is None:
            self.error(
                reward.span, "E080", "tiers applied credit by credit need a declared order", "add `ordered by deal.close_date, deal.id`"
            )
        placed: list[tuple[ast.Clause | None, str]] = [(ordered, "`ordered by`"), (running, "`running total`")]
        for misplaced, what in placed:
            if misplaced is not None and per_credit is None:
                self.error(
                    misplaced.span, "E081", f"{what} only applies to components paid per credit", "add `per credit of <credit rule>`"
                )
        if running is not None and not isinstance(reward, ast.TiersClause):
            self.error(running.span, "E081", "`running total` only matters for tiers", "remove it, or pay with tiers")
        if isinstance(running, ast.RunningClause) and running.window == "FULL_YEAR":
            self.error(
                running.span,
                "E014",
                "a running total adds up credits as they come, so it cannot run `for the full year`",
                "write `running total for the year to date`",
            )
        if ordered is not None:
            assert isinstance(ordered, ast.OrderedClause)
            for key in ordered.keys:
                type_, _ = self.expr(key, credit_ctx, deps)
                if type_ is not None and not (units.ordered(type_) or type_.kind in (Kind.TEXT, Kind.PAYEE)):
                    self.error(key.span, "E031", f"credits cannot be ordered by {type_}")
        during = _first(by_kind, ast.DuringClause)
        if during is not None:
            assert isinstance(during, ast.DuringClause)
            if per_credit is None:
                self.error(
                    during.span,
                    "E081",
                    "`during` picks credits by date, so it needs `per credit of <credit rule>`",
                    "add `per credit of <credit rule>`, or filter the measure the component is paid on",
                )
            if during.until <= during.start and INVALID_DATE not in (during.start, during.until):  # type: ignore[operator]
                self.error(
                    during.span,
                    "E015",
                    f"`during` covers no time: {during.until} is not after {during.start}",
                    "`until` is the first day the component no longer applies; make it later than the start",
                )
        for clause in by_kind.get(ast.MultiplierClause, []):
            assert isinstance(clause, ast.MultiplierClause)
            self.expect_rate(clause.factor, line_ctx, deps, "a multiplier")
            if clause.when is not None:
                self.expect(clause.when, units.BOOLEAN, line_ctx, deps, "a `when` condition")
        for clause in by_kind.get(ast.GateClause, []):
            assert isinstance(clause, ast.GateClause)
            self.expect(clause.condition, units.BOOLEAN, period_only, deps, "a gate")
        for clause in by_kind.get(ast.LimitClause, []):
            assert isinstance(clause, ast.LimitClause)
            self.check_limit(clause, per_credit is not None, credit_ctx, period_only, deps)
        true_up = _first(by_kind, ast.TrueUpClause)
        if true_up is not None:
            assert isinstance(true_up, ast.TrueUpClause)
            if per_credit is not None:
                self.error(
                    true_up.span,
                    "E081",
                    "a true-up recomputes cumulative earnings, which a per-credit component already pays as it goes",
                    "remove `true up`, or pay on a year-to-date amount",
                )
            if true_up.window not in ("YEAR_TO_DATE", "QUARTER_TO_DATE"):
                self.error(
                    true_up.span,
                    "E014",
                    "a true-up runs `for the year to date` or `for the quarter to date`",
                    "write `true up for the year to date` or `true up for the quarter to date`",
                )
        elif per_credit is None:
            self._warn_unsettled_ytd(decl, deps)
        self._close_deps(deps)

    def _warn_unsettled_ytd(self, decl: ast.ComponentDecl, deps: set[str]) -> None:
        for name in sorted(deps):
            info = self.defs.get(name)
            if (
                info is not None
                and isinstance(info.decl, ast.MeasureDecl)
                and info.decl.window in ("YEAR_TO_DATE", "FULL_YEAR")
                and self._pays_on(decl, name)
            ):
                self.error(
                    decl.name.span,
                    "W101",
                    f"component `{decl.name.text}` pays on `{name}`, a year-to-date amount, every period",
                    "add `true up for the year to date` so earlier periods' pay is subtracted",
                )
                return

    def _pays_on(self, decl: ast.ComponentDecl, name: str) -> bool:
        for clause in decl.clauses:
            if isinstance(clause, ast.OnClause) and name in _names_in(clause.amount):
                return True
            if isinstance(clause, ast.PaysClause) and name in _names_in(clause.amount):
                return True
        return False

    def check_tiers(self, clause: ast.TiersClause, ctx: Context, period_only: Context, deps: set[str]) -> None:
        mode = TIER_MODES.get(clause.mode.text)
        if mode is None:
            self.error(
                clause.mode.span, "E014", f"`{clause.mode.text}` is not a tier mode", choose_hint(clause.mode.text, list(TIER_MODES))
            )
        attainment = clause.against is not None
        if clause.against is not None:
            self.expect_money(clause.against, period_only, deps, "the quota attainment is measured against")
        for row in clause.rows:
            self.expect_rate(row.rate, ctx, deps, "a tier rate")
            for bound in (row.lower, row.upper):
                if bound is None:
                    continue
                type_, _ = self.expr(bound, CONSTANT)
                if type_ is None:
                    continue
                if attainment and not type_.is_dimensionless:
                    self.error(
                        bound.span, "E045", f"tiers on attainment are bounded by percentages, not {type_}", "write bounds like `50%`"
                    )
                if not attainment and type_.kind is not Kind.MONEY:
                    self.error(
                        bound.span,
                        "E045",
                        f"tiers on an amount are bounded by money, not {type_}",
                        f"write bounds like `100,000 {self.currency}`, or tier on `attainment against <quota>`",
                    )
                elif not attainment and type_ != self.money:
                    self.error(
                        bound.span,
                        "E030",
                        f"this bound is {type_}, but the plan pays in {self.currency}",
                        f"write the bound in {self.currency}",
                    )
        if mode is not None and mode.value == "interpolated":
            self._check_points(clause)
        elif mode is not None:
            self._check_bands(clause)

    def _check_points(self, clause: ast.TiersClause) -> None:
        points = [row for row in clause.rows if row.kind == "point"]
        for row in clause.rows:
            if row.kind != "point":
                self.error(row.span, "E044", "interpolated tiers are written as points: `at 100%: 8%`", "use `at <position>: <rate>` rows")
                return
        if len(points) < 2:
            self.error(clause.span, "E044", "interpolated tiers need at least two points", "add another `at <position>: <rate>` row")
        previous: Decimal | None = None
        for row in points:
            at = _literal_decimal(row.lower)
            if previous is not None and at is not None and at <= previous:
                self.error(
                    row.span,
                    "E044",
                    "points must go up: each `at` must be above the one before",
                    "list the points from the lowest position to the highest, each position once",
                )
            previous = at

    def _check_bands(self, clause: ast.TiersClause) -> None:
        rows = clause.rows
        for row in rows:
            if row.kind == "point":
                self.error(
                    row.span,
                    "E044",
                    f"{clause.mode.text} tiers are written as bands (`below 50%`, `50% to 100%`, `100% and above`)",
                    "use `interpolated tiers` for points",
                )
                return
        first = rows[0]
        if first.kind != "below" and _literal_decimal(first.lower) not in (None, Decimal(0)):
            self.error(
                first.span,
                "E043",
                "the first band does not start at zero, so nothing says what lower amounts earn",
                f"start with `below {_show_key(first.lower)}: 0%` or begin the band at 0",
            )
        for index, row in enumerate(rows):
            if row.kind == "below" and index != 0:
                self.error(
                    row.span,
                    "E041",
                    "only the first band can be `below`; this overlaps the bands above it",
                    "write it as `<from> to <to>`, starting where the band before it ends",
                )
            if row.kind == "above" and index != len(rows) - 1:
                self.error(
                    row.span,
                    "E041",
                    "only the last band can be `and above`; this overlaps the bands after it",
                    "write it as `<from> to <to>`, ending where the next band starts",
                )
            lower, upper = _literal_decimal(row.lower), _literal_decimal(row.upper)
            if row.kind == "between" and lower is not None and upper is not None and upper <= lower:
                self.error(
                    row.span,
                    "E041",
                    "this band is empty: its upper bound is not above its lower bound",
                    "make the second bound higher than the first, or remove the band",
                )
        for previous, current in itertools.pairwise(rows):
            end, start = _literal_decimal(previous.upper), _literal_decimal(current.lower)
            if end is None or start is None:
                continue
            if start > end:
                self.error(
                    current.span,
                    "E040",
                    f"nothing covers {_show_key(previous.upper)} to {_show_key(current.lower)}",
                    f"start this band at {_show_key(previous.upper)}",
                )
            elif start < end:
                self.error(
                    current.span,
                    "E041",
                    f"this band starts at {_show_key(current.lower)}, inside the band before it (ending at {_show_key(previous.upper)})",
                    f"start this band at {_show_key(previous.upper)}",
                )
        last = rows[-1]
        if last.kind != "above":
            self.error(
                last.span,
                "E042",
                "the last band ends, so nothing says what amounts above it earn",
                f"make it open-ended: `{_show_key(last.lower) if last.lower else '...'} and above`",
            )

    def check_limit(self, clause: ast.LimitClause, per_credit: bool, credit_ctx: Context, period_only: Context, deps: set[str]) -> None:
        scope = LIMIT_SCOPES.get(clause.scope.text)
        if scope is None:
            self.error(
                clause.scope.span,
                "E014",
                f"`per {clause.scope.text}` is not a limit scope",
                choose_hint(clause.scope.text, list(LIMIT_SCOPES)),
            )
            self.expect_money(clause.amount, credit_ctx, deps, f"a {clause.kind}")
            return
        if scope.value == "deal" and not per_credit:
            self.error(
                clause.span,
                "E081",
                f"a {clause.kind} per deal needs a component paid per credit",
                "add `per credit of <credit rule>`, or limit `per period`",
            )
        ctx = credit_ctx if scope.value == "deal" else period_only
        self.expect_money(clause.amount, ctx, deps, f"a {clause.kind}")

    # ---------------------------------------------------------------- pay policies
    def check_pay(self) -> None:
        held_by: dict[str, ast.HoldbackDecl] = {}
        for decl in self.pay:
            clauses = self._pay_clauses(decl)
            if isinstance(decl, ast.DrawDecl):
                self.check_draw(decl, clauses)
            elif isinstance(decl, ast.HoldbackDecl):
                self.check_holdback(decl, clauses, held_by)
            else:
                self.check_clawback(decl, clauses)

    def _pay_clauses(self, decl: ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl) -> dict[type, ast.Clause]:
        """The first clause of each kind; a repeated clause is E082."""
        found: dict[type, ast.Clause] = {}
        for clause in decl.clauses:
            if type(clause) in found:
                self.error(clause.span, "E082", f"{decl.keyword} `{decl.name.text}` gives this clause twice", "keep one")
                continue
            found[type(clause)] = clause
        return found

    def _missing(self, decl: ast.Decl, what: str, hint: str) -> None:
        self.error(decl.name.span, "E080", f"{decl.keyword} `{decl.name.text}` {what}", hint)

    def _per_period(self, word: ast.Word, what: str) -> None:
        if word.text != "period":
            self.error(
                word.span, "E014", f"`per {word.text}` is not how often {what}", f"write `per period`: {what} each calculation period"
            )

    def _pay_money(self, literal: ast.Literal, what: str) -> None:
        """A literal amount in the plan's currency, above zero."""
        if literal.kind != "money":
            self.error(
                literal.span,
                "E031",
                f"{what} must be money, but this is {_literal_type(literal, self.currency)}",
                f"write an amount like `5,000 {self.currency or 'USD'}`",
            )
        elif self.currency is not None and literal.currency != self.currency:
            self.error(
                literal.span,
                "E030",
                f"{what} is in {literal.currency}, but the plan pays in {self.currency}",
                f"write amounts in {self.currency}",
            )
        elif isinstance(literal.value, Decimal) and literal.value <= 0:
            self.error(literal.span, "E031", f"{what} must be above 0", f"write an amount like `5,000 {self.currency}`")

    def _pay_share(self, literal: ast.Literal, what: str) -> None:
        """A literal percentage above 0% and at most 100%."""
        if literal.kind != "percent":
            self.error(
                literal.span,
                "E031",
                f"{what} must be a percentage, but this is {_literal_type(literal, self.currency)}",
                "write a percentage like `20%`",
            )
        elif isinstance(literal.value, Decimal) and not Decimal(0) < literal.value <= 100:
            self.error(
                literal.span, "E031", f"{what} must be above 0% and at most 100%, not {_show_key(literal)}", "write a percentage like `20%`"
            )

    def _pay_length(self, literal: ast.Literal, what: str) -> None:
        """A whole number of days, months or years, at least 1."""
        value = literal.value
        if isinstance(value, Decimal) and (value != value.to_integral_value() or value < 1):
            self.error(
                literal.span,
                "E031",
                f"{what} must be a whole number of days, months or years, at least 1",
                "write e.g. `90 days` or `6 months`",
            )

    def check_draw(self, decl: ast.DrawDecl, clauses: dict[type, ast.Clause]) -> None:
        kind = clauses.get(ast.RecoverableClause)
        tops = clauses.get(ast.TopsUpClause)
        first = clauses.get(ast.FirstPeriodsClause)
        during = clauses.get(ast.DuringClause)
        if kind is None:
            self._missing(
                decl,
                "does not say whether it is recoverable",
                "add `recoverable` (an advance, recovered from later earnings) or `not recoverable` (a guarantee)",
            )
        if tops is None:
            self._missing(decl, "tops up nothing", f"add e.g. `tops up to 5,000 {self.currency or 'USD'} per period`")
        else:
            assert isinstance(tops, ast.TopsUpClause)
            self._pay_money(tops.amount, "what a draw tops up to")
            self._per_period(tops.per, "a draw tops up")
        if first is not None and during is not None:
            self.error(
                during.span,
                "E081",
                "a draw applies either for the first periods on the plan or during dates, not both",
                "remove `for the first ...` or `during ...`",
            )
        if isinstance(first, ast.FirstPeriodsClause):
            if first.count < 1:
                self.error(first.span, "E014", "a draw applies for at least 1 period", "write `for the first 1 period on the plan` or more")
            if first.unit.text not in ("period", "periods"):
                self.error(
                    first.unit.span,
                    "E014",
                    f"`{first.unit.text}` is not `periods`",
                    f"write `for the first {first.count} periods {'after hire' if first.after_hire else 'on the plan'}`",
                )
        if isinstance(during, ast.DuringClause) and during.until <= during.start and INVALID_DATE not in (during.start, during.until):  # type: ignore[operator]
            self.error(
                during.span,
                "E015",
                f"`during` covers no time: {during.until} is not after {during.start}",
                "`until` is the first day the draw no longer applies; make it later than the start",
            )
        recovers = clauses.get(ast.RecoversClause)
        outstanding = clauses.get(ast.OutstandingClause)
        termination = clauses.get(ast.TerminationClause)
        if isinstance(recovers, ast.RecoversClause):
            self._pay_share(recovers.rate, "the share of earnings a draw recovers")
            self._per_period(recovers.per, "a draw is recovered")
        if isinstance(outstanding, ast.OutstandingClause):
            self._pay_money(outstanding.amount, "the most a draw may have outstanding")
        if isinstance(termination, ast.TerminationClause) and termination.outcome.text not in ("forgiven", "owed"):
            self.error(
                termination.outcome.span,
                "E014",
                f"`at termination {termination.outcome.text}` is not what happens to a draw balance",
                choose_hint(termination.outcome.text, ["forgiven", "owed"]),
            )
        if not isinstance(kind, ast.RecoverableClause):
            return
        if kind.recoverable:
            if recovers is None:
                self._missing(
                    decl, "is recoverable but does not say how it is recovered", "add e.g. `recovers at most 50% of earnings per period`"
                )
            if termination is None:
                self._missing(
                    decl,
                    "is recoverable but does not say what happens to its balance at termination",
                    "add `at termination forgiven` or `at termination owed`",
                )
            return
        for clause, words in ((recovers, "`recovers`"), (outstanding, "`outstanding at most`"), (termination, "`at termination`")):
            if clause is not None:
                self.error(
                    clause.span,
                    "E081",
                    f"draw `{decl.name.text}` is not recoverable (a guarantee), so nothing is recovered and {words} has no meaning",
                    "remove it, or make the draw `recoverable`",
                )
        if first is None and during is None:
            self._missing(
                decl,
                "is a guarantee with no end",
                "say which periods it covers: `for the first 2 periods on the plan` or `during 2026-01-01 until 2026-07-01`",
            )

    def check_holdback(self, decl: ast.HoldbackDecl, clauses: dict[type, ast.Clause], held_by: dict[str, ast.HoldbackDecl]) -> None:
        holds = clauses.get(ast.HoldsClause)
        release = clauses.get(ast.ReleaseClause)
        if holds is None:
            self._missing(decl, "holds nothing", "add e.g. `holds 20% of <component>, <component>`")
        if release is None:
            self._missing(
                decl,
                "is never released",
                "add `released at the fiscal year end`, `released on <date>`, `released when the invoice is paid` "
                "or `released after 90 days`",
            )
        if isinstance(holds, ast.HoldsClause):
            self._pay_share(holds.rate, "the share a holdback holds")
            names = [c.name.text for c in self.components]
            for word in holds.components:
                if word.text not in names:
                    self.error(
                        word.span,
                        "E020",
                        f"there is no component `{word.text}`",
                        suggest(word.text, names) or "name a component of this plan",
                    )
                    continue
                other = held_by.get(word.text)
                if other is not None:
                    self.error(
                        word.span,
                        "E021",
                        f"component `{word.text}` is already held back by `{other.name.text}` (line {other.name.span.line})",
                        "hold each component in one holdback",
                    )
                    continue
                held_by[word.text] = decl
        if isinstance(release, ast.ReleaseClause):
            if release.kind == "after" and release.after is not None:
                self._pay_length(release.after, "the time before a holdback is released")
            if release.kind == "on" and self.header is not None and isinstance(release.on, date) and release.on != INVALID_DATE:
                start, end = self.header.effective
                if not start <= release.on < end:
                    self.error(
                        release.span,
                        "E015",
                        f"holdback `{decl.name.text}` is released on {release.on}, outside the plan (from {start} until {end}), "
                        "so no close of this plan reaches it",
                        "release it on a date inside the plan's effective range",
                    )

    def check_clawback(self, decl: ast.ClawbackDecl, clauses: dict[type, ast.Clause]) -> None:
        window = clauses.get(ast.ClawbackWindowClause)
        if window is None:
            self._missing(decl, "has no window", "add e.g. `for deals cancelled or refunded within 180 days of the close date`")
        elif isinstance(window, ast.ClawbackWindowClause):
            self._pay_length(window.length, "a clawback window")
        if ast.ReversesClause not in clauses:
            self._missing(
                decl,
                "does not say what it reverses",
                "add `reverses fully`, `reverses pro rata by time` or `reverses at the rate originally paid`",
            )

    def _close_deps(self, deps: set[str]) -> None:
        """Extend `deps` with everything its definitions depend on, transitively."""
        pending = list(deps)
        while pending:
            info = self.defs.get(pending.pop())
            if info is None:
                continue
            for dep in info.deps:
                if dep not in deps:
                    deps.add(dep)
                    pending.append(dep)

    # ---------------------------------------------------------------- unused
    def check_unused(self) -> None:
        if self._too_deep_reported:
            return  # definitions past the depth limit were not followed, so their uses are unknown
        reached: set[str] = set()
        for deps in self.component_deps.values():
            reached |= deps
        for name, info in self.defs.items():
            if name not in reached:
                self.error(info.decl.name.span, "W100", f"{info.kind} `{name}` is not used by any component", "remove it, or use it")
        for key, (_, decl) in self.attributes.items():
            if key not in self.used_attributes:
                self.error(decl.name.span, "W100", f"attribute `{key}` is not used", "remove it, or use it")

    # ---------------------------------------------------------------- expressions
    def expect(self, expr: ast.Expr, wanted: Type, ctx: Context, deps: set[str], what: str) -> None:
        found, _ = self.expr(expr, ctx, deps)
        if found is not None and not _assignable(found, wanted):
            self.error(expr.span, "E031", f"{what} must be {wanted}, but this is {found}", _wanted_hint(wanted))

    def expect_money(self, expr: ast.Expr, ctx: Context, deps: set[str], what: str) -> None:
        found, _ = self.expr(expr, ctx, deps)
        if found is None:
            return
        if found.kind is not Kind.MONEY:
            hint = "multiply a rate by an amount, or write an amount like `500 " + f"{self.currency}`" if found.is_dimensionless else None
            self.error(expr.span, "E031", f"{what} must be money, but this is {found}", hint)
        elif self.currency is not None and found.currency != self.currency:  # no currency: E011, or a library
            self.error(
                expr.span,
                "E030",
                f"{what} is in {found.currency}, but the plan pays in {self.currency}",
                f"write amounts in {self.currency}",
            )

    def expect_rate(self, expr: ast.Expr, ctx: Context, deps: set[str], what: str) -> None:
        found, _ = self.expr(expr, ctx, deps)
        if found is not None and not found.is_dimensionless:
            hint = "write a percentage such as `5%`; to pay a fixed amount, use `pays`" if found.kind is Kind.MONEY else None
            self.error(expr.span, "E031", f"{what} must be a percentage or number, but this is {found}", hint)

    def expr(self, expr: ast.Expr, ctx: Context, deps: set[str] | None = None) -> tuple[Type | None, Uses]:
        """Type of `expr` and what it reads; None after a reported error."""
        deps = deps if deps is not None else set()
        if self._depth >= MAX_DEPTH:
            self._report_too_deep(expr.span)
            return None, NOTHING
        self._depth += 1
        try:
            type_, uses = self._expr(expr, ctx, deps)
        finally:
            self._depth -= 1
        if type_ is not None:
            self.types[id(expr)] = type_
        self.uses[id(expr)] = uses
        return type_, uses

    def _report_too_deep(self, span: SourceSpan) -> None:
        if self._too_deep_reported:
            return
        self._too_deep_reported = True
        if self._in_progress:
            first = self.defs[self._in_progress[0]].decl.name
            span = first.span
            message = f"`{first.text}` is built from definitions and expressions nested more than {MAX_DEPTH} levels deep"
        else:
            message = f"this expression, with the definitions it uses, is nested more than {MAX_DEPTH} levels deep"
        self.error(span, "E004", message, "define some of the values it uses directly, rather than each in terms of the next")

    def _expr(self, expr: ast.Expr, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        if isinstance(expr, ast.Literal):
            return _literal_type(expr, self.currency), NOTHING
        if ctx.constant and not isinstance(expr, ast.Binary | ast.Negate):
            self.error(
                expr.span,
                "E033",
                f"only fixed values can be written {ctx.where}",
                "write a value such as `8%` or `1,000 USD`; for a value worked out from deals or other definitions, use `let`",
            )
            return None, NOTHING
        handler = getattr(self, f"_expr_{type(expr).__name__}")
        return handler(expr, ctx, deps)  # type: ignore[no-any-return]

    def _forbidden(self, uses: Uses, ctx: Context, span: SourceSpan, what: str) -> bool:
        bad = uses & ctx.forbid
        if not bad:
            return False
        if bad & {DEAL, CREDIT}:
            message = f"{what} differs from deal to deal, so it cannot be used {ctx.where}"
            hint = "use it in a per-credit clause, or aggregate it with a measure"
        elif bad & {PERIOD}:
            message = f"{what} is worked out for each payee and period, so it cannot be used {ctx.where}"
            hint = "credit rules and measure filters can only read the deal"
        elif bad & {PAYEE}:
            message = f"{what} belongs to the credited payee, who is not known yet {ctx.where}"
            hint = "a credit rule decides who is credited from the deal alone; filter on payees in a component"
        else:
            message = f"{what} cannot be used {ctx.where}"
            hint = None
        self.error(span, "E033", message, hint)
        return True

    def _expr_NameRef(self, expr: ast.NameRef, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        info = self.defs.get(expr.name)
        if info is None:
            self.error(expr.span, "E020", f"unknown name `{expr.name}`", self._name_hint(expr.name))
            return None, NOTHING
        deps.add(expr.name)  # used, even if wrongly: no `not used` warning on top of the error below
        if info.kind in ("quota",):
            self.error(
                expr.span,
                "E032",
                f"`{expr.name}` is a quota; say which part of it",
                f"write `{expr.name} for the period`, `for the year to date` or `for the full year`",
            )
            return None, NOTHING
        if info.kind == "curve":
            self.error(expr.span, "E032", f"`{expr.name}` is a curve; apply it to a value", f"write `{expr.name}(attainment)`")
            return None, NOTHING
        if info.kind == "credit":
            self.error(
                expr.span,
                "E032",
                f"`{expr.name}` is a credit rule, not a value",
                f"aggregate it with a measure: `measure total = sum of {expr.name}`",
            )
            return None, NOTHING
        self.ensure(expr.name, expr.span)
        deps.add(expr.name)
        if self._forbidden(info.uses, ctx, expr.span, f"`{expr.name}`"):
            return info.type, info.uses
        return info.type, info.uses

    def _name_hint(self, name: str) -> str | None:
        if name in FUNCTIONS:
            return f"`{name}` is a function; give it values in brackets: `{name}(...)`"
        values = [n for n, d in self.defs.items() if d.kind in VALUE_KINDS]
        hint = suggest(name, values)
        if hint:
            return hint
        fields = list(DEAL_FIELDS) + [k.split(".", 1)[1] for k in self.attributes if k.startswith("deal.")]
        if name in fields:
            return f"deal fields are written `deal.{name}`"
        return suggest(name, [n for n in self.defs] + list(FUNCTIONS)) or f"check the spelling, or define it: `let {name} = ...`"

    def _expr_FieldRef(self, expr: ast.FieldRef, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        uses = frozenset({DEAL if expr.scope == "deal" else CREDIT if expr.scope == "credit" else PAYEE})
        type_ = self._field_type(expr)
        if type_ is None:
            return None, uses
        self._forbidden(uses, ctx, expr.span, f"`{expr.scope}.{expr.name}`")
        return type_, uses

    def _field_type(self, expr: ast.FieldRef) -> Type | None:
        builtins: dict[str, Type | None]
        if expr.scope == "deal":
            builtins = DEAL_FIELDS
        elif expr.scope == "credit":
            builtins = CREDIT_FIELDS
        else:
            builtins = dict(PAYEE_FIELDS)
        if expr.name in builtins:
            found = builtins[expr.name]
            return found if found is not None else self.money
        key = f"{expr.scope}.{expr.name}"
        if key in self.attributes:
            self.used_attributes.add(key)
            return self.attributes[key][0]
        if self._declared_with_error(key):
            return None
        declared = [k.split(".", 1)[1] for k in self.attributes if k.startswith(f"{expr.scope}.")]
        hint = suggest(expr.name, list(builtins) + declared)
        if hint is None and expr.scope != "credit":
            hint = f"declare it: `{expr.scope} attribute {expr.name}: <type>`"
        self.error(expr.name_span, "E022", f"`{key}` is not a {expr.scope} field", hint)
        return None

    def _expr_WindowedRef(self, expr: ast.WindowedRef, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        info = self.defs.get(expr.name)
        if info is None:
            quotas = [n for n, d in self.defs.items() if d.kind == "quota"]
            self.error(expr.name_span, "E020", f"unknown quota `{expr.name}`", suggest(expr.name, quotas))
            return None, NOTHING
        deps.add(expr.name)  # used, even if wrongly: no `not used` warning on top of the error below
        if info.kind != "quota":
            self.error(
                expr.span,
                "E032",
                f"only quotas and the target incentive take a window, and `{expr.name}` is a {info.kind}",
                f"write just `{expr.name}`",
            )
            return None, NOTHING
        if expr.window == "QUARTER_TO_DATE" and self.header is not None and self.header.period_kind is PeriodKind.YEAR:
            self.error(expr.span, "E014", "a yearly plan has no quarter to date")
        self.ensure(expr.name, expr.span)
        deps.add(expr.name)
        uses = frozenset({PERIOD})
        self._forbidden(uses, ctx, expr.span, f"quota `{expr.name}`")
        return self.money, uses

    def _expr_TargetIncentive(self, expr: ast.TargetIncentive, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        uses = frozenset({PERIOD})
        deps.add(f"target incentive {Window[expr.window].value}")
        self._forbidden(uses, ctx, expr.span, "the target incentive")
        return self.money, uses

    def _expr_Call(self, expr: ast.Call, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        results = [self.expr(arg, ctx, deps) for arg in expr.args]
        uses = frozenset().union(*(u for _, u in results)) if results else NOTHING
        types = [t for t, _ in results]
        info = self.defs.get(expr.name)
        if info is not None and info.kind == "curve":
            self.ensure(expr.name, expr.span)
            deps.add(expr.name)
            if len(expr.args) != 1:
                self.error(expr.span, "E032", f"curve `{expr.name}` takes one value, the position to read it at")
                return info.type, uses
            if types[0] is not None and not types[0].is_dimensionless:
                self.error(expr.args[0].span, "E031", f"curve `{expr.name}` is read at a percentage or ratio, not {types[0]}")
            return info.type, uses
        if expr.name not in FUNCTIONS:
            curves = [n for n, d in self.defs.items() if d.kind == "curve"]
            self.error(
                expr.name_span,
                "E020",
                f"unknown function `{expr.name}`",
                suggest(expr.name, list(FUNCTIONS) + curves) or "functions are min, max, abs and the plan's curves",
            )
            return None, uses
        if None in types:
            return None, uses
        if expr.name == "abs":
            if len(types) != 1 or not types[0].is_numeric:  # type: ignore[union-attr]
                self.error(expr.span, "E032", "abs takes one number or amount")
                return None, uses
            return types[0], uses
        if len(types) < 2:
            self.error(expr.span, "E032", f"{expr.name} compares two or more values")
            return None, uses
        result = types[0]
        for other, arg in zip(types[1:], expr.args[1:], strict=True):
            assert result is not None and other is not None
            if not units.comparable(result, other) or not units.ordered(result):
                self.error(arg.span, "E030", f"{expr.name} cannot compare {result} with {other}")
                return None, uses
            if result.is_dimensionless and other.is_dimensionless and result != other:
                result = units.RATIO
        return result, uses

    def _expr_Binary(self, expr: ast.Binary, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        left, left_uses = self.expr(expr.left, ctx, deps)
        right, right_uses = self.expr(expr.right, ctx, deps)
        uses = left_uses | right_uses
        if left is None or right is None:
            return None, uses
        try:
            if expr.op in "+-":
                return units.add_type(expr.op, left, right), uses
            if expr.op == "×":
                return units.multiply_type(left, right), uses
            return units.divide_type(left, right), uses
        except UnitError as error:
            self.error(expr.span, "E030", str(error), _unit_hint(expr.op, left, right, self.currency))
            return None, uses

    def _expr_Negate(self, expr: ast.Negate, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        type_, uses = self.expr(expr.operand, ctx, deps)
        if type_ is not None and not (type_.is_numeric or type_.kind is Kind.DURATION):
            self.error(expr.span, "E030", f"cannot negate {type_}")
            return None, uses
        return type_, uses

    def _expr_Compare(self, expr: ast.Compare, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        left, left_uses = self.expr(expr.left, ctx, deps)
        right, right_uses = self.expr(expr.right, ctx, deps)
        uses = left_uses | right_uses
        if left is None or right is None:
            return units.BOOLEAN, uses
        if not units.comparable(left, right):
            self.error(expr.span, "E030", f"cannot compare {left} with {right}")
        elif expr.op not in ("==", "!=") and not units.ordered(left):
            self.error(expr.span, "E030", f"{left} values have no order; only `==` and `!=` compare them")
        return units.BOOLEAN, uses

    def _expr_Member(self, expr: ast.Member, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        value, uses = self.expr(expr.value, ctx, deps)
        collection = expr.collection
        if isinstance(collection, ast.SetLit):
            for item in collection.items:
                item_type, _ = self.expr(item, CONSTANT)
                if value is not None and item_type is not None and not units.comparable(value, item_type):
                    self.error(item.span, "E030", f"a set of {item_type} cannot hold {value}")
        elif isinstance(collection, ast.ListRef):
            uses = uses | self._list_ref(collection, value, ctx)
        else:
            start, start_uses = self.expr(collection.start, ctx, deps)
            end, end_uses = self.expr(collection.end, ctx, deps)
            uses = uses | start_uses | end_uses
            for bound_type, bound in ((start, collection.start), (end, collection.end)):
                if value is not None and bound_type is not None and (not units.comparable(value, bound_type) or not units.ordered(value)):
                    self.error(bound.span, "E030", f"{value} cannot be tested against a range of {bound_type}")
        return units.BOOLEAN, uses

    def _list_ref(self, ref: ast.ListRef, value: Type | None, ctx: Context) -> Uses:
        uses = frozenset({DEAL if ref.scope == "deal" else CREDIT if ref.scope == "credit" else PAYEE})
        key = f"{ref.scope}.{ref.name}"
        declared = self.attributes.get(key)
        if declared is None:
            lists = [k.split(".", 1)[1] for k, (t, _) in self.attributes.items() if t.kind is Kind.TEXT_LIST and k.startswith(ref.scope)]
            self.error(
                ref.name_span,
                "E022",
                f"`{key}` is not a declared list attribute",
                suggest(ref.name, lists) or f"declare it: `{ref.scope} attribute {ref.name}: text list`",
            )
            return uses
        self.used_attributes.add(key)
        if declared[0].kind is not Kind.TEXT_LIST:
            self.error(
                ref.span,
                "E031",
                f"`in` needs a list here, but `{key}` is {declared[0]}",
                f"declare it as `{ref.scope} attribute {ref.name}: text list`",
            )
        elif value is not None and value.kind not in (Kind.TEXT, Kind.PAYEE):
            self.error(ref.span, "E030", f"a list of text cannot hold {value}", "test a text value, such as `deal.account`")
        self._forbidden(uses, ctx, ref.span, f"`{key}`")
        return uses

    def _expr_BoolOp(self, expr: ast.BoolOp, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        uses: Uses = NOTHING
        for operand in expr.operands:
            found, operand_uses = self.expr(operand, ctx, deps)
            uses = uses | operand_uses
            if found is not None and found.kind is not Kind.BOOLEAN:
                self.error(operand.span, "E031", f"`{expr.op}` joins conditions, but this is {found}")
        return units.BOOLEAN, uses

    def _expr_Not(self, expr: ast.Not, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        found, uses = self.expr(expr.operand, ctx, deps)
        if found is not None and found.kind is not Kind.BOOLEAN:
            self.error(expr.operand.span, "E031", f"`not` applies to a condition, but this is {found}")
        return units.BOOLEAN, uses

    def _expr_IfThenElse(self, expr: ast.IfThenElse, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        condition, cond_uses = self.expr(expr.condition, ctx, deps)
        then, then_uses = self.expr(expr.then, ctx, deps)
        otherwise, else_uses = self.expr(expr.otherwise, ctx, deps)
        uses = cond_uses | then_uses | else_uses
        if condition is not None and condition.kind is not Kind.BOOLEAN:
            self.error(expr.condition.span, "E031", f"`if` needs a condition, but this is {condition}")
        if then is None or otherwise is None:
            return None, uses
        if _assignable(then, otherwise):
            return otherwise, uses
        if _assignable(otherwise, then):
            return then, uses
        if then.is_dimensionless and otherwise.is_dimensionless:
            return units.RATIO, uses
        self.error(expr.span, "E030", f"the two branches give different kinds of value: {then} and {otherwise}")
        return None, uses

    def _expr_SetLit(self, expr: ast.SetLit, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        self.error(expr.span, "E031", "a set of values can only follow `in`")
        return None, NOTHING

    def _expr_IntervalLit(self, expr: ast.IntervalLit, ctx: Context, deps: set[str]) -> tuple[Type | None, Uses]:
        self.error(expr.span, "E031", "a range can only follow `in`")
        return None, NOTHING


# ------------------------------------------------------------------ helpers
def check(plan_file: ast.PlanFile, imported: Sequence[ast.Decl] = ()) -> CheckResult:
    """Check a plan's base version (or a library), with declarations brought in by `use`."""
    return Checker(plan_file, [*imported, *plan_file.decls]).run()


def check_versions(plan_file: ast.PlanFile, imported: Sequence[ast.Decl] = ()) -> list[CheckResult]:
    """Check every version of a plan: the base, then each revision applied on top of the one
    before.  Diagnostics repeated by several versions are reported once; a definition only
    counts as unused if no version uses it."""
    base = check(plan_file, imported)
    results = [base]
    diagnostics = list(base.diagnostics)
    diagnostics.extend(_revision_order(plan_file, base.header))
    decls = [*imported, *plan_file.decls]
    revisions = plan_file.revisions
    for index, revision in enumerate(revisions):
        decls = _revise(decls, revision.decls)
        marker = revision.marker
        end = revisions[index + 1].marker.start if index + 1 < len(revisions) else None
        version = VersionInfo(marker.version, marker.start, end, marker.note)  # type: ignore[arg-type]
        result = Checker(plan_file, decls, version).run()
        results.append(result)
        diagnostics.extend(result.diagnostics)
    used = set().union(*(r.used for r in results))
    unique: dict[tuple[object, ...], Diagnostic] = {}
    for diagnostic in diagnostics:
        key = (diagnostic.span, diagnostic.code, diagnostic.message)
        if diagnostic.code == "W100" and len(results) > 1 and any(f"`{name}`" in diagnostic.message for name in used):
            continue
        unique.setdefault(key, diagnostic)
    merged = sorted(unique.values(), key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))
    for result in results:
        result.diagnostics = merged
    return results


def _revise(decls: list[ast.Decl], changes: list[ast.Decl]) -> list[ast.Decl]:
    """The declarations of a version: those of the version before, with each declaration the
    revision repeats (same name and kind) replaced, and new ones added."""

    def key(decl: ast.Decl) -> tuple[str, str]:
        if isinstance(decl, ast.AttributeDecl):
            return (f"attribute {decl.owner}", decl.name.text)
        return (type(decl).__name__, decl.name.text)

    replaced = {key(change): change for change in changes}
    kept = [replaced.pop(key(decl), decl) for decl in decls]
    return kept + [change for change in changes if key(change) in replaced]


def _revision_order(plan_file: ast.PlanFile, header: HeaderInfo | None) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    if header is None:
        return problems
    previous_version, previous_start = header.version, header.effective[0]
    end = header.effective[1]
    for revision in plan_file.revisions:
        marker = revision.marker
        if marker.version <= previous_version:
            problems.append(
                Diagnostic(
                    marker.span,
                    "E016",
                    f"revision {marker.version} does not come after version {previous_version}",
                    f"number it {previous_version + 1} or higher",
                )
            )
        if not (previous_start < marker.start < end):  # type: ignore[operator]
            problems.append(
                Diagnostic(
                    marker.span,
                    "E016",
                    f"revision {marker.version} starts on {marker.start}: not after {previous_start} and before the plan ends on {end}",
                    "date each revision after the one before it, inside the plan's effective range",
                )
            )
        previous_version, previous_start = marker.version, marker.start  # type: ignore[assignment]
    return problems


def _first(by_kind: dict[type, list[ast.Clause]], kind: type) -> ast.Clause | None:
    found = by_kind.get(kind)
    return found[0] if found else None


def _header_keyword(kind: str) -> str:
    return {"fiscal": "fiscal year starts", "calculated": "calculated"}.get(kind, kind)


def _literal_type(literal: ast.Literal, currency: str | None) -> Type:
    return {
        "number": units.NUMBER,
        "percent": units.PERCENT,
        "duration": units.DURATION,
        "date": units.DATE,
        "text": units.TEXT,
        "boolean": units.BOOLEAN,
    }.get(literal.kind) or units.money(literal.currency)


def _literal_decimal(literal: ast.Literal | None) -> Decimal | None:
    if literal is None or not isinstance(literal.value, Decimal):
        return None
    return literal.value / 100 if literal.kind == "percent" else literal.value


def _literal_key(literal: ast.Literal) -> object:
    return _literal_decimal(literal) if isinstance(literal.value, Decimal) else literal.value


def _show_key(literal: ast.Literal | None) -> str:
    if literal is None:
        return "?"
    if literal.kind == "percent":
        return f"{literal.value}%"
    if literal.kind == "money":
        return f"{literal.value} {literal.currency}"
    if literal.kind == "text":
        return f'"{literal.value}"'
    return str(literal.value)


def _assignable(found: Type, wanted: Type) -> bool:
    """Whether a value of type `found` may be used where `wanted` is expected."""
    if found == wanted:
        return True
    if found.kind is Kind.MONEY and wanted.kind is Kind.MONEY:
        return found.currency == wanted.currency
    if found.is_dimensionless and wanted.is_dimensionless:
        return wanted.kind is not Kind.COUNT or found.kind in (Kind.COUNT, Kind.NUMBER)
    return {found.kind, wanted.kind} == {Kind.TEXT, Kind.PAYEE}


def _unit_hint(op: str, left: Type, right: Type, currency: str | None) -> str | None:
    if op in "+-" and (left.is_dimensionless or right.is_dimensionless) and Kind.MONEY in (left.kind, right.kind):
        return "to raise an amount by a percentage, multiply: `amount × (1 + 10%)`"
    if left.kind is Kind.MONEY and right.kind is Kind.MONEY:
        if left.currency != right.currency:
            return f"the plan pays in {currency}; write amounts in {currency}"
        if op == "×":
            return "multiply an amount by a rate or a number; to compare two amounts, divide them (`bookings / quota`)"
    if op == "/" and right.kind is Kind.MONEY:
        return "only an amount can be divided by an amount (giving a ratio)"
    return "see the table of units in docs/language.md for what combines with what"


def _wanted_hint(wanted: Type) -> str:
    examples = {
        Kind.BOOLEAN: 'write a condition, such as `deal.amount > 0 USD` or `deal.type == "new"`',
        Kind.DATE: "write a date, such as `deal.close_date`",
        Kind.PAYEE: "use a payee attribute, such as `deal.owner`",
    }
    return examples.get(wanted.kind, f"write a value that is {wanted}")


def _names_in(expr: ast.Expr) -> set[str]:
    found: set[str] = set()
    stack: list[object] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.NameRef):
            found.add(node.name)
        if isinstance(node, ast.Expr):
            for value in vars(node).values():
                if isinstance(value, ast.Expr):
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(v for v in value if isinstance(v, ast.Expr))
    return found


def _cell_values(cell: ast.Cell) -> tuple[set[object] | None, tuple[object | None, object | None] | None]:
    """A cell as a finite set of values, or as an interval [low, high) (None: unbounded)."""
    values = [_literal_key(v) for v in cell.values]
    if cell.kind == "equals":
        return set(values), None
    if cell.kind == "set":
        return set(values), None
    if cell.kind == "range":
        return None, (values[0], values[1])
    if cell.kind == "below":
        return None, (None, values[0])
    if cell.kind == "from":
        return None, (values[0], None)
    return None, (None, None)  # any


def _cells_meet(a: ast.Cell, b: ast.Cell) -> bool:
    """Whether some value passes both tests (decided exactly: tests are literal)."""
    set_a, range_a = _cell_values(a)
    set_b, range_b = _cell_values(b)
    if set_a is not None and set_b is not None:
        return bool(set_a & set_b)
    if set_a is not None:
        return any(_in_range(v, range_b) for v in set_a)
    if set_b is not None:
        return any(_in_range(v, range_a) for v in set_b)
    assert range_a is not None and range_b is not None
    low = _tighter(max, range_a[0], range_b[0])
    high = _tighter(min, range_a[1], range_b[1])
    return low is None or high is None or low < high


def _in_range(value: object, bounds: tuple[object | None, object | None] | None) -> bool:
    if bounds is None:
        return False
    low, high = bounds
    try:
        return (low is None or low <= value) and (high is None or value < high)  # type: ignore[operator]
    except TypeError:
        return False


def _tighter(pick: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """The tighter of two bounds, where None is no bound at all."""
    if a is None:
        return b
    if b is None:
        return a
    return pick(a, b)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
