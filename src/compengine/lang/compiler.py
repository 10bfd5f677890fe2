"""Compile a checked plan into the core's `CompiledPlan`.

Each expression becomes a Python closure built once, here; evaluation then calls closures
and never looks at the syntax tree again.  Only the plan's own constructs can be compiled:
there is no path from plan text to Python code, attribute access or imports.
"""

from __future__ import annotations

import decimal
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from compengine.core.errors import EvaluationError
from compengine.core.periods import FiscalCalendar, Window
from compengine.core.plan import (
    Aggregate,
    AggregateBasis,
    AttributeDef,
    ClawbackPolicy,
    CompiledPlan,
    Component,
    Conversion,
    CreditRule,
    CurveDef,
    DecidedDef,
    DecisionCell,
    DecisionRowDef,
    DecisionTableDef,
    Definition,
    DrawPolicy,
    EarningsDef,
    Expression,
    Gate,
    HoldbackPolicy,
    InputDef,
    LetDef,
    Level,
    Limit,
    LimitKind,
    LimitScope,
    MeasureDef,
    Multiplier,
    ParameterDef,
    PayeeMatch,
    PaymentTiming,
    PayPolicies,
    PaysReward,
    PerCreditBasis,
    PlanHeader,
    QuotaBasis,
    QuotaDef,
    RateReward,
    Recipient,
    RecipientKind,
    ReleaseRule,
    Reversal,
    Rollup,
    RuleDef,
    TableDef,
    TableRow,
    TieredReward,
    TierRow,
    TrueUp,
)
from compengine.core.source import SourceSpan
from compengine.core.tiers import TierMode
from compengine.core.timeline import Dated, Interval, Timeline
from compengine.core.units import Kind, Type
from compengine.core.values import MISSING, Duration
from compengine.lang import ast
from compengine.lang.checker import CheckResult, level_of

Fn = Callable[[Any], Any]

_DEAL_BUILTINS: dict[str, Fn] = {
    "id": lambda s: s.deal.id,
    "owner": lambda s: s.deal.owner,
    "type": lambda s: s.deal.type,
    "product": lambda s: s.deal.product,
    "amount": lambda s: s.money(s.deal.amount),
    "currency": lambda s: s.deal.currency,
    "close_date": lambda s: s.deal.close_date,
}
_PAYEE_BUILTINS: dict[str, Fn] = {
    "id": lambda s: s.payee.id,
    "name": lambda s: s.payee.name,
    "hire_date": lambda s: _hire_date(s),
}
_CREDIT_BUILTINS: dict[str, Fn] = {
    "amount": lambda s: s.credit.amount,
    "share": lambda s: s.credit.share,
    "date": lambda s: s.credit.date,
    "role": lambda s: s.credit.role,
    "rule": lambda s: s.credit.rule,
}
_HUNDRED = Decimal(100)


def compile_plan(result: CheckResult, sources: Mapping[str, str] | None = None, sha256: str | None = None) -> CompiledPlan:
    """Build the core plan; `result` must be free of errors.

    `sources` gives the text of every file the plan's declarations come from (the plan and
    the libraries it uses), so traces quote each in its own words; `sha256` is the content
    hash covering all of them (the plan file's own hash when it uses no library).
    """
    return _Compiler(result, sources or {}, sha256).plan()


def literal_value(literal: ast.Literal) -> Any:
    if literal.kind == "percent":
        return literal.value / _HUNDRED  # type: ignore[operator]
    if literal.kind == "duration":
        count = int(literal.value)  # type: ignore[call-overload]
        unit = literal.unit or "days"
        if unit.startswith("month"):
            return Duration(months=count)
        if unit.startswith("year"):
            return Duration(months=12 * count)
        return Duration(days=count)
    return literal.value


class _Compiler:
    def __init__(self, result: CheckResult, sources: Mapping[str, str], sha256: str | None):
        self.result = result
        self.file = result.plan_file
        assert result.header is not None
        self.header = result.header
        self.lines = {path: text.split("\n") for path, text in sources.items()}
        self.lines.setdefault(self.file.path, self.file.text.split("\n"))
        self.sha256 = sha256 or hashlib.sha256(self.file.text.encode("utf-8")).hexdigest()

    # ---------------------------------------------------------------- plan
    def plan(self) -> CompiledPlan:
        info = self.header
        header = PlanHeader(
            info.id,
            info.title,
            info.version,
            Interval(*info.effective),
            info.currency,
            info.period_kind,
            FiscalCalendar(info.fiscal_start_month),
            info.rounding,
            info.span,
        )
        attributes = {
            key: AttributeDef(decl.owner, decl.name.text, type_, literal_value(decl.default) if decl.default else None, decl.name.span)
            for key, (type_, decl) in self.result.attributes.items()
        }
        definitions: dict[str, Definition] = {}
        credits: dict[str, CreditRule] = {}
        levels: dict[str, Level] = {}
        for name, definition in self.result.defs.items():
            decl = definition.decl
            levels[name] = level_of(definition.uses)
            if isinstance(decl, ast.CreditDecl):
                credits[name] = self.credit(decl)
            elif isinstance(decl, ast.RuleDecl):
                definitions[name] = self.decided(name, definition.type)
            else:
                definitions[name] = self.definition(decl, definition.type)
        version = self.result.version
        segment = None
        if version is not None:
            segment = Interval(version.start or info.effective[0], version.end or info.effective[1])
        elif self.file.revisions:
            segment = Interval(info.effective[0], self.file.revisions[0].marker.start)  # type: ignore[arg-type]
        conversion = None
        if self.result.conversion is not None:
            rate_type, on, rounding = self.result.conversion
            conversion = Conversion(rate_type, on, rounding)
        return CompiledPlan(
            header,
            self.sha256,
            self.file.path,
            attributes,
            credits,
            definitions,
            levels,
            tuple(self.component(c) for c in self.result.components),
            tuple(a for a in attributes.values() if a.owner == "deal"),
            tuple(a for a in attributes.values() if a.owner == "payee"),
            self.result.proration,
            self.result.changes,
            conversion,
            segment,
            version.note if version else None,
            self.pay(),
        )

    # ---------------------------------------------------------------- pay policies
    def pay(self) -> PayPolicies:
        timing = PaymentTiming.ON_INVOICE if self.result.payment == "invoice paid" else PaymentTiming.ON_BOOKING
        draws: list[DrawPolicy] = []
        holdbacks: list[HoldbackPolicy] = []
        clawbacks: list[ClawbackPolicy] = []
        for decl in self.result.pay:
            title = decl.title or decl.name.text
            if isinstance(decl, ast.DrawDecl):
                draws.append(self.draw(decl, title))
            elif isinstance(decl, ast.HoldbackDecl):
                holds = _clause(decl.clauses, ast.HoldsClause)
                release = _clause(decl.clauses, ast.ReleaseClause)
                rule = {
                    "year end": ReleaseRule.YEAR_END,
                    "on": ReleaseRule.ON_DATE,
                    "invoice paid": ReleaseRule.INVOICE_PAID,
                    "after": ReleaseRule.AFTER,
                }[release.kind]
                after = literal_value(release.after) if release.after is not None else None
                components = tuple(dict.fromkeys(w.text for w in holds.components))
                holdbacks.append(
                    HoldbackPolicy(
                        decl.name.text,
                        title,
                        literal_value(holds.rate),
                        components,
                        rule,
                        release.on,  # type: ignore[arg-type]
                        after,
                        decl.name.span,
                    )
                )
            else:
                window = _clause(decl.clauses, ast.ClawbackWindowClause)
                how = {"fully": Reversal.FULL, "pro rata by time": Reversal.PRO_RATA, "at the rate originally paid": Reversal.ORIGINAL_RATE}
                reversal = how[_clause(decl.clauses, ast.ReversesClause).how]
                clawbacks.append(ClawbackPolicy(decl.name.text, title, literal_value(window.length), reversal, decl.name.span))
        return PayPolicies(timing, tuple(draws), tuple(holdbacks), tuple(clawbacks))

    def draw(self, decl: ast.DrawDecl, title: str) -> DrawPolicy:
        recoverable = _clause(decl.clauses, ast.RecoverableClause).recoverable
        amount = _clause(decl.clauses, ast.TopsUpClause).amount.value
        assert isinstance(amount, Decimal)
        first = _optional(decl.clauses, ast.FirstPeriodsClause)
        during = _optional(decl.clauses, ast.DuringClause)
        recovers = _optional(decl.clauses, ast.RecoversClause)
        outstanding = _optional(decl.clauses, ast.OutstandingClause)
        termination = _optional(decl.clauses, ast.TerminationClause)
        return DrawPolicy(
            decl.name.text,
            title,
            recoverable,
            amount,
            first.count if first is not None else None,
            first is not None and first.after_hire,
            Interval(during.start, during.until) if during is not None else None,  # type: ignore[arg-type]
            literal_value(recovers.rate) if recovers is not None else None,
            outstanding.amount.value if outstanding is not None else None,  # type: ignore[arg-type]
            termination is not None and termination.outcome.text == "forgiven",
            decl.name.span,
        )

    def text(self, span: SourceSpan) -> str:
        """The plan's own words for a span, on one line."""
        lines = self.lines.get(span.file, self.lines[self.file.path])
        if span.line == span.end_line:
            raw = lines[span.line - 1][span.column - 1 : span.end_column - 1]
        else:
            parts = [lines[span.line - 1][span.column - 1 :]]
            parts += lines[span.line : span.end_line - 1]
            parts.append(lines[span.end_line - 1][: span.end_column - 1])
            raw = " ".join(parts)
        return " ".join(raw.split())

    # ---------------------------------------------------------------- definitions
    def definition(self, decl: ast.Decl, type_: Type | None) -> Definition:
        assert type_ is not None or isinstance(decl, ast.CurveDecl | ast.QuotaDecl)
        if isinstance(decl, ast.ParameterDecl):
            return ParameterDef(decl.name.text, decl.name.span, type_, self.timeline(decl.values))  # type: ignore[arg-type]
        if isinstance(decl, ast.TableDecl):
            rows: dict[Any, TableRow] = {}
            otherwise = None
            for row in decl.rows:
                compiled = TableRow(None if row.key is None else literal_value(row.key), self.timeline(row.values), row.span)
                if row.key is None:
                    otherwise = compiled
                else:
                    rows[compiled.key] = compiled
            return TableDef(decl.name.text, decl.name.span, type_, self.expr(decl.key), rows, otherwise)  # type: ignore[arg-type]
        if isinstance(decl, ast.CurveDecl):
            points = tuple((literal_value(p.at), literal_value(p.value)) for p in decl.points)
            return CurveDef(decl.name.text, decl.name.span, points, type_)  # type: ignore[arg-type]
        if isinstance(decl, ast.MeasureDecl):
            window = Window[decl.window] if decl.window else Window.PERIOD
            where = self.expr(decl.where) if decl.where else None
            return MeasureDef(decl.name.text, decl.span, Aggregate(decl.aggregate.text), decl.credit.text, window, where, type_)  # type: ignore[arg-type]
        if isinstance(decl, ast.QuotaDecl):
            basis = {"evenly": QuotaBasis.ANNUAL_EVEN, "seasonal": QuotaBasis.ANNUAL_SEASONAL, "per_period": QuotaBasis.PER_PERIOD}[
                decl.basis
            ]
            seasonality = tuple(literal_value(s) for s in decl.seasonality)
            return QuotaDef(decl.name.text, decl.key, decl.span, basis, seasonality, type_)
        if isinstance(decl, ast.EarningsDecl):
            components = tuple(w.text for w in decl.source_names) if decl.source_kind == "components" else None
            plan = decl.source_names[0].text if decl.source_kind == "plan" else None
            levels = None if decl.reports == "all" else decl.levels
            return EarningsDef(decl.name.text, decl.span, levels, components, plan, type_)  # type: ignore[arg-type]
        if isinstance(decl, ast.DecisionDecl):
            return self.decision(decl, type_)  # type: ignore[arg-type]
        if isinstance(decl, ast.InputDecl):
            default = literal_value(decl.default) if decl.default is not None else None
            return InputDef(decl.name.text, decl.name.span, type_, default)  # type: ignore[arg-type]
        assert isinstance(decl, ast.LetDecl)
        expr = self.expr(decl.expr)
        return LetDef(decl.name.text, decl.span, replace(expr, type=type_) if type_ is not None else expr)

    def decided(self, name: str, type_: Type | None) -> DecidedDef:
        rules = [r for r in self.result.rules.values() if r.target.text == name]
        direct = {r.name.text: {b.text for b in r.exceptions} for r in rules}
        compiled = []
        for rule in rules:
            overridden: set[str] = set()
            pending = list(direct[rule.name.text])
            while pending:
                base = pending.pop()
                if base not in overridden:
                    overridden.add(base)
                    pending.extend(direct.get(base, ()))
            when = self.expr(rule.when) if rule.when is not None else None
            compiled.append(RuleDef(rule.name.text, rule.description, rule.span, self.expr(rule.value), when, frozenset(overridden)))
        assert type_ is not None
        return DecidedDef(name, rules[0].target.span, type_, tuple(compiled))

    def decision(self, decl: ast.DecisionDecl, type_: Type) -> DecisionTableDef:
        policy = " ".join(w.text for w in decl.policy) or "unique"
        rows = tuple(DecisionRowDef(tuple(self.cell(c) for c in row.cells), self.expr(row.output), row.span) for row in decl.rows)
        otherwise = self.expr(decl.otherwise) if decl.otherwise is not None else None
        return DecisionTableDef(decl.name.text, decl.name.span, type_, policy, tuple(self.expr(e) for e in decl.inputs), rows, otherwise)

    def timeline(self, values: list[ast.DatedValue]) -> Timeline[Any]:
        entries = []
        for index, value in enumerate(values):
            start = value.start
            end = value.until
            if end is None and index + 1 < len(values):
                end = values[index + 1].start
            constant = self.expr(value.value).fn(None)
            entries.append(Dated(constant, Interval(start, end), value.span))  # type: ignore[arg-type]
        return Timeline(entries)

    def credit(self, decl: ast.CreditDecl) -> CreditRule:
        recipients: list[Recipient] = [Recipient(RecipientKind.SPLITS)] if decl.splits else []
        for r in decl.recipients:
            if r.kind == "payees":
                assert r.condition is not None
                recipients.append(Recipient(RecipientKind.PAYEES, match=self.payee_match(r.condition)))
            else:
                kind = RecipientKind.OWNER if r.kind == "owner" else RecipientKind.FIELD
                recipients.append(Recipient(kind, r.field_name, None if r.share is None else r.share / _HUNDRED))
        where = self.expr(decl.where) if decl.where else None
        rollup = None
        if decl.rollup is not None:
            assert decl.rollup_span is not None
            rollup = Rollup(None if decl.rollup == "top" else int(decl.rollup), decl.rollup_span)
        return CreditRule(
            decl.name.text,
            decl.span,
            where,
            tuple(recipients),
            self.expr(decl.amount),
            self.expr(decl.dated),
            rollup,
            decl.duplicates != "per path",
            isinstance(decl.dated, ast.FieldRef) and decl.dated.scope == "deal" and decl.dated.name == "close_date",
        )

    def cell(self, cell: ast.Cell) -> DecisionCell:
        return DecisionCell(cell.kind, tuple(literal_value(v) for v in cell.values))

    def payee_match(self, condition: ast.Expr) -> PayeeMatch:
        """Split an overlay condition into a payee pre-filter, indexable joins and the rest."""
        conjuncts = condition.operands if isinstance(condition, ast.BoolOp) and condition.op == "and" else [condition]
        payee_only: list[ast.Expr] = []
        joins: list[tuple[str, Expression]] = []
        residual: list[ast.Expr] = []
        for conjunct in conjuncts:
            uses = self.result.uses[id(conjunct)]
            if "payee" in uses and not uses & {"deal", "credit", "period", "dated"}:  # dated: looked up on the credit date
                payee_only.append(conjunct)
            elif isinstance(conjunct, ast.Compare) and conjunct.op == "==" and (join := self._join(conjunct)) is not None:
                joins.append(join)
            else:
                residual.append(conjunct)
        return PayeeMatch(self.expr(condition), self._conjunction(payee_only), tuple(joins), self._conjunction(residual))

    def _join(self, compare: ast.Compare) -> tuple[str, Expression] | None:
        for payee_side, other in ((compare.left, compare.right), (compare.right, compare.left)):
            if isinstance(payee_side, ast.FieldRef) and payee_side.scope == "payee" and "payee" not in self.result.uses[id(other)]:
                return payee_side.name, self.expr(other)
        return None

    def _conjunction(self, parts: list[ast.Expr]) -> Expression | None:
        if not parts:
            return None
        compiled = [self.expr(p) for p in parts]
        if len(compiled) == 1:
            return compiled[0]
        fns = [c.fn for c in compiled]
        first = compiled[0]
        return Expression(
            lambda s: all(f(s) for f in fns), first.type, max(c.level for c in compiled), " and ".join(c.text for c in compiled), first.span
        )

    # ---------------------------------------------------------------- components
    def component(self, decl: ast.ComponentDecl) -> Component:
        clauses = {type(c): c for c in reversed(decl.clauses)}  # first of each kind wins
        reward_clause = next(c for c in decl.clauses if isinstance(c, ast.PaysClause | ast.RateClause | ast.TiersClause))
        per_credit = clauses.get(ast.PerCreditClause)
        on = clauses.get(ast.OnClause)
        if isinstance(per_credit, ast.PerCreditClause):
            ordered = clauses.get(ast.OrderedClause)
            running = clauses.get(ast.RunningClause)
            basis: PerCreditBasis | AggregateBasis = PerCreditBasis(
                per_credit.credit.text,
                self.expr(per_credit.where) if per_credit.where else None,
                tuple(self.expr(k) for k in ordered.keys) if isinstance(ordered, ast.OrderedClause) else (),
                Window[running.window] if isinstance(running, ast.RunningClause) else Window.PERIOD,
            )
        else:
            basis = AggregateBasis(self.expr(on.amount) if isinstance(on, ast.OnClause) else None)
        during = clauses.get(ast.DuringClause)
        true_up = clauses.get(ast.TrueUpClause)
        cites = clauses.get(ast.CitesClause)
        inputs = list(self.result.component_deps.get(decl.name.text, ()))
        order = {name: i for i, name in enumerate(self.result.defs)}
        inputs.sort(key=lambda n: order.get(n, -1))
        return Component(
            decl.name.text,
            decl.description,
            cites.text if isinstance(cites, ast.CitesClause) else None,
            decl.span,
            basis,
            Interval(during.start, during.until) if isinstance(during, ast.DuringClause) else None,  # type: ignore[arg-type]
            self.reward(reward_clause),
            tuple(
                Multiplier(self.expr(c.factor), self.expr(c.when) if c.when else None, c.span)
                for c in decl.clauses
                if isinstance(c, ast.MultiplierClause)
            ),
            tuple(Gate(self.expr(c.condition), c.span) for c in decl.clauses if isinstance(c, ast.GateClause)),
            tuple(
                Limit(LimitKind(c.kind), self.expr(c.amount), LimitScope(c.scope.text), c.span)
                for c in decl.clauses
                if isinstance(c, ast.LimitClause)
            ),
            TrueUp(Window[true_up.window], true_up.never_negative, true_up.span) if isinstance(true_up, ast.TrueUpClause) else None,
            tuple(inputs),
            self.text(reward_clause.span) if not isinstance(reward_clause, ast.TiersClause) else self.tiers_text(reward_clause),
        )

    def tiers_text(self, clause: ast.TiersClause) -> str:
        position = "amount" if clause.against is None else f"attainment against {self.text(clause.against.span)}"
        return f"{clause.mode.text} tiers on {position}"

    def reward(self, clause: ast.Clause) -> PaysReward | RateReward | TieredReward:
        if isinstance(clause, ast.PaysClause):
            return PaysReward(self.expr(clause.amount))
        if isinstance(clause, ast.RateClause):
            return RateReward(self.expr(clause.rate))
        assert isinstance(clause, ast.TiersClause)
        mode = TierMode(clause.mode.text)
        rows = []
        for index, row in enumerate(clause.rows):
            lower = None if row.lower is None else literal_value(row.lower)
            if index == 0 and mode is not TierMode.INTERPOLATED:
                lower = None  # the first band also prices amounts below zero (net cancellations)
            upper = None if row.upper is None else literal_value(row.upper)
            rows.append(TierRow(lower, upper, self.expr(row.rate), row.span))
        against = self.expr(clause.against) if clause.against is not None else None
        return TieredReward(mode, against, tuple(rows), clause.span)

    # ---------------------------------------------------------------- expressions
    def expr(self, node: ast.Expr, with_parts: bool = True) -> Expression:
        type_ = self.result.types[id(node)]
        level = self.result.level_of(node)
        fn = self.fn(node)
        parts = tuple(self.expr(p, False) for p in _parts(node)) if with_parts and type_.kind is Kind.BOOLEAN else ()
        return Expression(fn, type_, level, self.text(node.span), node.span, parts)

    def fn(self, node: ast.Expr) -> Fn:
        method: Callable[[Any], Fn] = getattr(self, f"_fn_{type(node).__name__}")
        return method(node)

    def _fn_Literal(self, node: ast.Literal) -> Fn:
        value = literal_value(node)
        return lambda s: value

    def _fn_NameRef(self, node: ast.NameRef) -> Fn:
        name = node.name
        return lambda s: s.named(name)

    def _fn_FieldRef(self, node: ast.FieldRef) -> Fn:
        name = node.name
        builtins = {"deal": _DEAL_BUILTINS, "payee": _PAYEE_BUILTINS, "credit": _CREDIT_BUILTINS}[node.scope]
        if name in builtins:
            return builtins[name]
        owner = node.scope
        converts = owner == "deal" and self.result.types[id(node)].kind is Kind.MONEY

        def attribute(s: Any) -> Any:
            value = (s.attrs if owner == "deal" else s.payee_attrs)[name]
            if value is MISSING:
                raise missing_attribute(s, owner, name)
            return s.money(value) if converts else value

        return attribute

    def _fn_WindowedRef(self, node: ast.WindowedRef) -> Fn:
        name, window = node.name, Window[node.window]
        return lambda s: s.windowed(name, window)

    def _fn_TargetIncentive(self, node: ast.TargetIncentive) -> Fn:
        window = Window[node.window]
        return lambda s: s.target_incentive(window)

    def _fn_Call(self, node: ast.Call) -> Fn:
        args = [self.fn(a) for a in node.args]
        name = node.name
        if name == "abs":
            only = args[0]
            return lambda s: abs(only(s))
        if name in ("min", "max"):
            pick = min if name == "min" else max
            return lambda s: pick(f(s) for f in args)
        position = args[0]
        return lambda s: s.curve(name, position(s))

    def _fn_Binary(self, node: ast.Binary) -> Fn:
        left, right = self.fn(node.left), self.fn(node.right)
        lt, rt = self.result.types[id(node.left)], self.result.types[id(node.right)]
        op = node.op
        if op == "+":
            if lt.kind is Kind.DATE:
                return lambda s: right(s).add_to(left(s))
            if rt.kind is Kind.DATE:
                return lambda s: left(s).add_to(right(s))
            if lt.kind is Kind.DURATION:
                return lambda s: _add_durations(left(s), right(s), 1)
            return lambda s: left(s) + right(s)
        if op == "-":
            if lt.kind is Kind.DATE and rt.kind is Kind.DATE:
                return lambda s: Duration(days=(left(s) - right(s)).days)
            if lt.kind is Kind.DATE:
                return lambda s: right(s).add_to(left(s), -1)
            if lt.kind is Kind.DURATION:
                return lambda s: _add_durations(left(s), right(s), -1)
            return lambda s: left(s) - right(s)
        if op == "×":
            return lambda s: left(s) * right(s)
        text, span = self.text(node.span), node.span

        def divide(s: Any) -> Any:
            try:
                return left(s) / right(s)
            except (decimal.DivisionByZero, decimal.InvalidOperation):
                raise EvaluationError(f"`{text}` divides by zero{s._subject()}", span=span) from None

        return divide

    def _fn_Negate(self, node: ast.Negate) -> Fn:
        operand = self.fn(node.operand)
        if self.result.types[id(node.operand)].kind is Kind.DURATION:
            return lambda s: Duration(-operand(s).months, -operand(s).days)
        return lambda s: -operand(s)

    def _fn_Compare(self, node: ast.Compare) -> Fn:
        left, right = self.fn(node.left), self.fn(node.right)
        op = node.op
        if self.result.types[id(node.left)].kind is Kind.DURATION:
            text, span = self.text(node.span), node.span
            compare = _COMPARE[op]

            def durations(s: Any) -> bool:
                a, b = left(s), right(s)
                if not a.comparable_with(b):
                    raise EvaluationError(f"`{text}` compares months with days", span=span)
                return compare(a.key(), b.key())

            return durations
        return _compare_fn(op, left, right)

    def _fn_Member(self, node: ast.Member) -> Fn:
        value = self.fn(node.value)
        negated = node.negated
        collection = node.collection
        if isinstance(collection, ast.ListRef):
            listed = self._fn_FieldRef(ast.FieldRef(collection.span, collection.scope, collection.name, collection.name_span))
            if negated:
                return lambda s: value(s) not in listed(s)
            return lambda s: value(s) in listed(s)
        if isinstance(collection, ast.SetLit):
            members = frozenset(literal_value(item) for item in collection.items)
            if negated:
                return lambda s: value(s) not in members
            return lambda s: value(s) in members
        start, end = self.fn(collection.start), self.fn(collection.end)
        if negated:
            return lambda s: not (start(s) <= value(s) < end(s))
        return lambda s: start(s) <= value(s) < end(s)

    def _fn_BoolOp(self, node: ast.BoolOp) -> Fn:
        operands = [self.fn(o) for o in node.operands]
        if len(operands) == 2:
            a, b = operands
            if node.op == "and":
                return lambda s: a(s) and b(s)
            return lambda s: a(s) or b(s)
        if node.op == "and":
            return lambda s: all(f(s) for f in operands)
        return lambda s: any(f(s) for f in operands)

    def _fn_Not(self, node: ast.Not) -> Fn:
        operand = self.fn(node.operand)
        return lambda s: not operand(s)

    def _fn_IfThenElse(self, node: ast.IfThenElse) -> Fn:
        condition, then, otherwise = self.fn(node.condition), self.fn(node.then), self.fn(node.otherwise)
        return lambda s: then(s) if condition(s) else otherwise(s)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare_fn(op: str, left: Fn, right: Fn) -> Fn:
    if op == "==":
        return lambda s: left(s) == right(s)
    if op == "!=":
        return lambda s: left(s) != right(s)
    if op == "<":
        return lambda s: left(s) < right(s)
    if op == "<=":
        return lambda s: left(s) <= right(s)
    if op == ">":
        return lambda s: left(s) > right(s)
    return lambda s: left(s) >= right(s)


def _hire_date(scope: Any) -> Any:
    hired = scope.payee.hire_date
    if hired is None:
        ref = scope.payee.ref
        where = f"{ref}, field hire_date" if ref else f"payee {scope.payee.id}, field hire_date"
        raise EvaluationError(f"{where} is empty, and plan {scope.plan.id} reads it", hint="fill in the hire date")
    return hired


def missing_attribute(scope: Any, owner: str, name: str) -> EvaluationError:
    record = scope.deal if owner == "deal" else scope.payee
    where = f"{record.ref}, field {name}" if record.ref else f"{owner} {record.id}, field {name}"
    return EvaluationError(
        f"{where} is empty, and plan {scope.plan.id} needs it for {owner} {record.id}",
        hint=f"fill it in, or declare a default: `{owner} attribute {name}: ..., default ...`",
    )


C = TypeVar("C", bound=ast.Clause)


def _optional(clauses: list[ast.Clause], kind: type[C]) -> C | None:
    """The first clause of a kind (the checker reports any repeat)."""
    return next((c for c in clauses if isinstance(c, kind)), None)


def _clause(clauses: list[ast.Clause], kind: type[C]) -> C:
    """A clause the checker made sure is there."""
    found = _optional(clauses, kind)
    assert found is not None, kind
    return found


def _add_durations(a: Duration, b: Duration, sign: int) -> Duration:
    return Duration(a.months + sign * b.months, a.days + sign * b.days)


def _parts(node: ast.Expr) -> list[ast.Expr]:
    """The named values and fields a condition reads, in reading order, each once."""
    found: list[ast.Expr] = []
    seen: set[str] = set()

    def visit(n: ast.Expr) -> None:
        if isinstance(n, ast.NameRef | ast.FieldRef | ast.WindowedRef | ast.TargetIncentive | ast.Call):
            key = f"{type(n).__name__}:{getattr(n, 'scope', '')}:{getattr(n, 'name', '')}:{getattr(n, 'window', '')}"
            if key not in seen:
                seen.add(key)
                found.append(n)
            return
        for value in vars(n).values():
            if isinstance(value, ast.Expr):
                visit(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.Expr) and not isinstance(item, ast.Literal):
                        visit(item)

    visit(node)
    return found
