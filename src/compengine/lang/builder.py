"""Build the plan syntax tree (`ast`) from Lark's parse tree.

The parse tree mirrors the grammar; the syntax tree mirrors the language: one node per
declaration, clause and expression, with spans, canonical operators and decoded literals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from lark import Token, Tree

from compengine.core.source import SourceSpan
from compengine.lang import ast
from compengine.lang.diagnostics import Diagnostic

_OPERATORS = {"*": "×", "×": "×", "/": "/", "÷": "/", "+": "+", "-": "-"}
_COMPARISONS = {"≥": ">=", "≤": "<=", "≠": "!=", ">=": ">=", "<=": "<=", "==": "==", "!=": "!=", ">": ">", "<": "<"}
_WINDOWS = {
    "window_period": "PERIOD",
    "window_qtd": "QUARTER_TO_DATE",
    "window_ytd": "YEAR_TO_DATE",
    "window_year": "FULL_YEAR",
}

Child = Tree[Token] | Token | None

#: Stands in for a date that is not on the calendar (already reported as E005), so the checker
#: can skip comparisons that would only repeat that error with a made-up date.
INVALID_DATE = date.min


def build_plan_file(path: str, text: str, tree: Tree[Token], comments: list[ast.Comment]) -> tuple[ast.PlanFile, list[Diagnostic]]:
    builder = _Builder(path)
    return builder.plan_file(text, tree, comments), builder.diagnostics


def decode_string(raw: str) -> str:
    body = raw[1:-1]
    return "\\".join(part.replace("\\n", "\n").replace('\\"', '"') for part in body.split("\\\\"))


def parse_number(raw: str) -> Decimal:
    return Decimal(raw.replace(",", ""))


class _Builder:
    def __init__(self, path: str):
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self._decls: dict[str, Callable[[Tree[Token]], ast.Decl]] = {
            "attribute_decl": self.attribute_decl,
            "parameter_decl": self.parameter_decl,
            "table_decl": self.table_decl,
            "curve_decl": self.curve_decl,
            "credit_decl": self.credit_decl,
            "measure_decl": self.measure_decl,
            "quota_decl": self.quota_decl,
            "let_decl": self.let_decl,
            "component_decl": self.component_decl,
            "earnings_decl": self.earnings_decl,
            "rule_decl": self.rule_decl,
            "decision_decl": self.decision_decl,
            "input_decl": self.input_decl,
            "draw_decl": self.draw_decl,
            "holdback_decl": self.holdback_decl,
            "clawback_decl": self.clawback_decl,
        }

    # ---------------------------------------------------------------- spans
    def span(self, node: Tree[Token] | Token) -> SourceSpan:
        if isinstance(node, Token):
            line = node.line or 1
            column = node.column or 1
            return SourceSpan(self.path, line, column, node.end_line or line, node.end_column or column + 1)
        meta = node.meta
        if meta.empty:
            return SourceSpan(self.path, 1, 1, 1, 1)
        return SourceSpan(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def date(self, token: Any) -> date:
        try:
            return date.fromisoformat(str(token))
        except ValueError:
            self.diagnostics.append(
                Diagnostic(self.span(token), "E005", f"{token} is not a date on the calendar", "write a real date as YYYY-MM-DD")
            )
            return INVALID_DATE

    def word(self, token: Token) -> ast.Word:
        return ast.Word(self.span(token), str(token))

    # ---------------------------------------------------------------- file
    def plan_file(self, text: str, tree: Tree[Token], comments: list[ast.Comment]) -> ast.PlanFile:
        header: ast.PlanHeader | None = None
        library: ast.LibraryHeader | None = None
        uses: list[ast.UseDecl] = []
        revisions: list[ast.Revision] = []
        decls: list[ast.Decl] = []
        items: list[ast.Node] = []
        for child in tree.children:
            assert isinstance(child, Tree)
            node: ast.Node
            if child.data == "plan_header":
                node = self.plan_header(child)
                header = header or node
            elif child.data == "library_header":
                node = self.library_header(child)
                library = library or node
            elif child.data == "use_decl":
                node = self.use_decl(child)
                uses.append(node)
            elif child.data == "revision_decl":
                node = self.revision_decl(child)
                revisions.append(ast.Revision(node, []))
            else:
                node = self._decls[str(child.data)](child)
                (revisions[-1].decls if revisions else decls).append(node)
            items.append(node)
        return ast.PlanFile(self.path, text, header, decls, items, comments, library, uses, revisions)

    def plan_header(self, tree: Tree[Token]) -> ast.PlanHeader:
        children = list(tree.children)
        name = children.pop(0)
        assert isinstance(name, Token)
        title = None
        if children and isinstance(children[0], Token) and children[0].type == "STRING":
            title = decode_string(str(children.pop(0)))
        clauses = [self.header_clause(c) for c in children if isinstance(c, Tree)]
        return ast.PlanHeader(self.span(tree), self.word(name), title, clauses)

    def library_header(self, tree: Tree[Token]) -> ast.LibraryHeader:
        name, *rest = tree.children
        assert isinstance(name, Token)
        title = decode_string(str(rest[0])) if rest and rest[0] is not None else None
        return ast.LibraryHeader(self.span(tree), self.word(name), title)

    def use_decl(self, tree: Tree[Token]) -> ast.UseDecl:
        *names, path = tree.children
        assert isinstance(path, Token)
        return ast.UseDecl(
            self.span(tree), [self.word(n) for n in names if isinstance(n, Token)], decode_string(str(path)), self.span(path)
        )

    def revision_decl(self, tree: Tree[Token]) -> ast.RevisionDecl:
        version, start, *note = tree.children
        text = decode_string(str(note[0])) if note and note[0] is not None else None
        return ast.RevisionDecl(self.span(tree), int(str(version)), self.date(start), text)

    def header_clause(self, tree: Tree[Token]) -> ast.HeaderClause:
        if tree.data in ("changes_split", "changes_period_end"):
            return ast.HeaderClause(self.span(tree), "changes", ["split" if tree.data == "changes_split" else "period end"])
        if tree.data == "conversion_clause":
            return self.conversion_clause(tree)
        if tree.data == "payment_when_invoice_paid":
            return ast.HeaderClause(self.span(tree), "payment", ["invoice paid"])
        if tree.data == "payment_on":
            word = tree.children[0]
            assert isinstance(word, Token)
            return ast.HeaderClause(self.span(tree), "payment", [str(word)], [self.word(word)])
        kind = str(tree.data).removesuffix("_clause")
        tokens = [c for c in tree.children if isinstance(c, Token)]
        values: list[object] = []
        words: list[ast.Word] = []
        for token in tokens:
            if token.type == "INT":
                values.append(int(token))
            elif token.type == "DATE":
                values.append(self.date(token))
            else:
                values.append(str(token))
                words.append(self.word(token))
        return ast.HeaderClause(self.span(tree), kind, values, words)

    def conversion_clause(self, tree: Tree[Token]) -> ast.HeaderClause:
        """values: [rate type, "credit date" | "period end", "rounded" | "unrounded", mode, places]."""
        rate_type, when, rounding = tree.children
        assert isinstance(rate_type, Token) and isinstance(when, Tree) and isinstance(rounding, Tree)
        on = "credit date" if when.data == "convert_on_credit_date" else "period end"
        values: list[object] = [decode_string(str(rate_type)), on]
        words: list[ast.Word] = []
        if rounding.data == "conversion_rounded":
            mode, places = rounding.children
            assert isinstance(mode, Token)
            values += ["rounded", str(mode), int(str(places))]
            words.append(self.word(mode))
        else:
            values += ["unrounded", None, None]
        return ast.HeaderClause(self.span(tree), "conversion", values, words)

    # ---------------------------------------------------------------- declarations
    def _name_and_type(self, children: Sequence[Child]) -> tuple[ast.Word, ast.Word | None, list[Child]]:
        rest = list(children)
        name = rest.pop(0)
        assert isinstance(name, Token)
        type_name = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "NAME":
            type_name = self.word(rest.pop(0))  # type: ignore[arg-type]
        return self.word(name), type_name, rest

    def attribute_decl(self, tree: Tree[Token]) -> ast.AttributeDecl:
        owner_tree, name, type_name, *rest = tree.children
        assert isinstance(owner_tree, Tree) and isinstance(name, Token) and isinstance(type_name, Token)
        owner = str(owner_tree.children[0])
        is_list = bool(rest) and isinstance(rest[0], Token) and rest[0].type == "LIST"
        if is_list:
            rest = rest[1:]
        default = self.literal(rest[0]) if rest and isinstance(rest[0], Tree) else None
        return ast.AttributeDecl(self.span(tree), self.word(name), owner, self.word(type_name), default, is_list)

    def parameter_decl(self, tree: Tree[Token]) -> ast.ParameterDecl:
        name, type_name, rest = self._name_and_type(tree.children)
        return ast.ParameterDecl(self.span(tree), name, type_name, self.dated_values(rest[0]))  # type: ignore[arg-type]

    def dated_values(self, tree: Tree[Token]) -> list[ast.DatedValue]:
        values = []
        for child in tree.children:
            assert isinstance(child, Tree)
            expr, *dates = child.children
            start = self.date(dates[0]) if dates and dates[0] is not None else None
            until = self.date(dates[1]) if len(dates) > 1 and dates[1] is not None else None
            values.append(ast.DatedValue(self.span(child), self.expr(expr), start, until))
        return values

    def table_decl(self, tree: Tree[Token]) -> ast.TableDecl:
        name, type_name, rest = self._name_and_type(tree.children)
        key, *rows = rest
        built = []
        for row in rows:
            assert isinstance(row, Tree)
            if row.data == "table_otherwise":
                built.append(ast.TableRow(self.span(row), None, self.dated_values(row.children[0])))  # type: ignore[arg-type]
            else:
                built.append(ast.TableRow(self.span(row), self.literal(row.children[0]), self.dated_values(row.children[1])))  # type: ignore[arg-type]
        return ast.TableDecl(self.span(tree), name, type_name, self.expr(key), built)

    def curve_decl(self, tree: Tree[Token]) -> ast.CurveDecl:
        name, *points = tree.children
        assert isinstance(name, Token)
        built = []
        for point in points:
            assert isinstance(point, Tree)
            built.append(ast.CurvePoint(self.span(point), self.literal(point.children[0]), self.literal(point.children[1])))  # type: ignore[arg-type]
        return ast.CurveDecl(self.span(tree), self.word(name), built)

    def credit_decl(self, tree: Tree[Token]) -> ast.CreditDecl:
        name, *rest = tree.children
        assert isinstance(name, Token)
        where = None
        first = rest[0]
        if isinstance(first, Tree) and first.data == "where_clause":
            rest.pop(0)
            where = self.expr(first.children[0])
        recipients_tree, *rest = rest
        assert isinstance(recipients_tree, Tree)
        splits = recipients_tree.data == "deal_splits"
        recipients = [self.recipient(r) for r in recipients_tree.children if isinstance(r, Tree)]
        rollup: int | str | None = None
        rollup_span = None
        duplicates = None
        while rest and isinstance(rest[0], Tree) and (rest[0].data.startswith("rollup") or rest[0].data.startswith("duplicates")):
            clause = rest.pop(0)
            assert isinstance(clause, Tree)
            if clause.data == "rollup_levels":
                rollup, rollup_span = int(str(clause.children[0])), self.span(clause)
            elif clause.data == "rollup_top":
                rollup, rollup_span = "top", self.span(clause)
            else:
                duplicates = "once" if clause.data == "duplicates_once" else "per path"
        amount, dated = rest
        return ast.CreditDecl(
            self.span(tree),
            self.word(name),
            where,
            splits,
            recipients,
            self.expr(amount),
            self.expr(dated),
            rollup,
            duplicates,
            rollup_span,
        )

    def recipient(self, tree: Tree[Token]) -> ast.Recipient:
        children = [c for c in tree.children if c is not None]
        share = None
        if children and isinstance(children[-1], Tree) and children[-1].data == "share":
            share = parse_number(str(children.pop().children[0]))  # type: ignore[union-attr]
        if tree.data == "owner_recipient":
            return ast.Recipient(self.span(tree), "owner", None, share)
        if tree.data == "payees_recipient":
            return ast.Recipient(self.span(tree), "payees", None, None, self.expr(children[0]))
        return ast.Recipient(self.span(tree), "field", str(children[0]), share)

    def measure_decl(self, tree: Tree[Token]) -> ast.MeasureDecl:
        name, aggregate, credit, *rest = tree.children
        assert isinstance(name, Token) and isinstance(aggregate, Token) and isinstance(credit, Token)
        window = None
        where = None
        for child in rest:
            if isinstance(child, Tree) and child.data in _WINDOWS:
                window = _WINDOWS[str(child.data)]
            elif isinstance(child, Tree) and child.data == "where_clause":
                where = self.expr(child.children[0])
        return ast.MeasureDecl(self.span(tree), self.word(name), self.word(aggregate), self.word(credit), window, where)

    def earnings_decl(self, tree: Tree[Token]) -> ast.EarningsDecl:
        name, reports, *source = tree.children
        assert isinstance(name, Token) and isinstance(reports, Tree)
        kind = {"direct_reports": "direct", "reports_levels": "levels", "all_reports": "all"}[str(reports.data)]
        levels = int(str(reports.children[0])) if kind == "levels" else (1 if kind == "direct" else None)
        source_kind = None
        names: list[ast.Word] = []
        if source and isinstance(source[0], Tree):
            source_kind = "components" if source[0].data == "from_components" else "plan"
            names = [self.word(n) for n in source[0].children if isinstance(n, Token)]
        return ast.EarningsDecl(self.span(tree), self.word(name), kind, levels, source_kind, names)

    def rule_decl(self, tree: Tree[Token]) -> ast.RuleDecl:
        name, *rest = tree.children
        assert isinstance(name, Token)
        description = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            description = decode_string(str(rest.pop(0)))
        target, value, *more = rest
        assert isinstance(target, Token)
        when = self.expr(more.pop(0)) if more and isinstance(more[0], Tree) else None
        exceptions = [self.word(t) for t in more if isinstance(t, Token)]
        return ast.RuleDecl(self.span(tree), self.word(name), description, self.word(target), self.expr(value), when, exceptions)

    def decision_decl(self, tree: Tree[Token]) -> ast.DecisionDecl:
        name, type_name, rest = self._name_and_type(tree.children)
        policy: list[ast.Word] = []
        policy_span = None
        inputs: list[ast.Expr] = []
        rows: list[ast.DecisionRow] = []
        otherwise = None
        for child in rest:
            if not isinstance(child, Tree):
                continue
            if child.data == "hit_policy":
                policy = [self.word(t) for t in child.children if isinstance(t, Token)]
                policy_span = self.span(child)
            elif child.data == "decision_row":
                *cells, output = child.children
                rows.append(ast.DecisionRow(self.span(child), [self.cell(c) for c in cells if isinstance(c, Tree)], self.expr(output)))
            elif child.data == "decision_otherwise":
                otherwise = self.expr(child.children[0])
            else:
                inputs.append(self.expr(child))
        return ast.DecisionDecl(self.span(tree), name, type_name, policy, policy_span, inputs, rows, otherwise)

    def cell(self, tree: Tree[Token]) -> ast.Cell:
        kind = str(tree.data).removeprefix("cell_")
        span = self.span(tree)
        if kind == "text":
            return ast.Cell(span, "equals", [ast.Literal(span, "text", decode_string(str(tree.children[0])))])
        if kind in ("true", "false"):
            return ast.Cell(span, "equals", [ast.Literal(span, "boolean", kind == "true")])
        values = [self.literal(c) for c in tree.children if isinstance(c, Tree)]
        return ast.Cell(span, kind, values)

    def input_decl(self, tree: Tree[Token]) -> ast.InputDecl:
        name, type_name, *rest = tree.children
        assert isinstance(name, Token) and isinstance(type_name, Token)
        default = self.literal(rest[0]) if rest and isinstance(rest[0], Tree) else None
        return ast.InputDecl(self.span(tree), self.word(name), self.word(type_name), default)

    def quota_decl(self, tree: Tree[Token]) -> ast.QuotaDecl:
        name, key, basis = tree.children
        assert isinstance(name, Token) and isinstance(key, Token) and isinstance(basis, Tree)
        kind = {"spread_evenly": "evenly", "spread_seasonal": "seasonal", "per_period": "per_period"}[str(basis.data)]
        seasonality = [self.literal(c) for c in basis.children if isinstance(c, Tree)]
        return ast.QuotaDecl(self.span(tree), self.word(name), decode_string(str(key)), kind, seasonality)

    def let_decl(self, tree: Tree[Token]) -> ast.LetDecl:
        name, type_name, rest = self._name_and_type(tree.children)
        return ast.LetDecl(self.span(tree), name, type_name, self.expr(rest[0]))

    # ---------------------------------------------------------------- components
    def component_decl(self, tree: Tree[Token]) -> ast.ComponentDecl:
        name, description, *clauses = tree.children
        assert isinstance(name, Token) and isinstance(description, Token)
        built = [self.clause(c) for c in clauses if isinstance(c, Tree)]
        return ast.ComponentDecl(self.span(tree), self.word(name), decode_string(str(description)), built)

    def clause(self, tree: Tree[Token]) -> ast.Clause:
        span = self.span(tree)
        data = str(tree.data)
        children = [c for c in tree.children if c is not None]
        if data == "cites_clause":
            return ast.CitesClause(span, decode_string(str(children[0])))
        if data == "per_credit_clause":
            where_tree = children[1] if len(children) > 1 else None
            where = self.expr(where_tree.children[0]) if isinstance(where_tree, Tree) else None
            return ast.PerCreditClause(span, self.word(children[0]), where)  # type: ignore[arg-type]
        if data == "on_clause":
            return ast.OnClause(span, self.expr(children[0]))
        if data == "ordered_clause":
            return ast.OrderedClause(span, [self.expr(c) for c in children])
        if data == "running_clause":
            return ast.RunningClause(span, _WINDOWS[str(children[0].data)])  # type: ignore[union-attr]
        if data == "during_clause":
            return ast.DuringClause(span, self.date(children[0]), self.date(children[1]))
        if data == "pays_clause":
            return ast.PaysClause(span, self.expr(children[0]))
        if data == "rate_clause":
            return ast.RateClause(span, self.expr(children[0]))
        if data == "tiers_clause":
            return self.tiers_clause(tree)
        if data == "multiplier_clause":
            when = self.expr(children[1]) if len(children) > 1 else None
            return ast.MultiplierClause(span, self.expr(children[0]), when)
        if data == "gate_clause":
            return ast.GateClause(span, self.expr(children[0]))
        if data == "limit_clause":
            kind_tree, amount, scope = children
            return ast.LimitClause(span, str(kind_tree.children[0]), self.expr(amount), self.word(scope))  # type: ignore[union-attr, arg-type]
        if data == "true_up_clause":
            window = _WINDOWS[str(children[0].data)]  # type: ignore[union-attr]
            return ast.TrueUpClause(span, window, len(children) > 1)
        raise AssertionError(f"unhandled clause {data}")

    def tiers_clause(self, tree: Tree[Token]) -> ast.TiersClause:
        mode, position, *rows = tree.children
        assert isinstance(mode, Token) and isinstance(position, Tree)
        against = self.expr(position.children[0]) if position.data == "position_attainment" else None
        built = []
        for row in rows:
            assert isinstance(row, Tree)
            kind = {"band_below": "below", "band_between": "between", "band_above": "above", "tier_point": "point"}[str(row.data)]
            parts = row.children
            rate = self.expr(parts[-1])
            if kind == "between":
                lower, upper = self.literal(parts[0]), self.literal(parts[1])  # type: ignore[arg-type]
            elif kind == "below":
                lower, upper = None, self.literal(parts[0])  # type: ignore[arg-type]
            else:
                lower, upper = self.literal(parts[0]), None  # type: ignore[arg-type]
            built.append(ast.TierRowNode(self.span(row), kind, lower, upper, rate))
        return ast.TiersClause(self.span(tree), self.word(mode), against, built)

    # ---------------------------------------------------------------- pay policies
    def _pay_head(self, tree: Tree[Token]) -> tuple[ast.Word, str | None, list[ast.Clause]]:
        name, *rest = tree.children
        assert isinstance(name, Token)
        title = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            title = decode_string(str(rest.pop(0)))
        elif rest and rest[0] is None:
            rest.pop(0)
        return self.word(name), title, [self.pay_clause(c) for c in rest if isinstance(c, Tree)]

    def draw_decl(self, tree: Tree[Token]) -> ast.DrawDecl:
        name, title, clauses = self._pay_head(tree)
        return ast.DrawDecl(self.span(tree), name, title, clauses)

    def holdback_decl(self, tree: Tree[Token]) -> ast.HoldbackDecl:
        name, title, clauses = self._pay_head(tree)
        return ast.HoldbackDecl(self.span(tree), name, title, clauses)

    def clawback_decl(self, tree: Tree[Token]) -> ast.ClawbackDecl:
        name, title, clauses = self._pay_head(tree)
        return ast.ClawbackDecl(self.span(tree), name, title, clauses)

    def pay_clause(self, tree: Tree[Token]) -> ast.Clause:
        span = self.span(tree)
        data = str(tree.data)
        children = [c for c in tree.children if c is not None]
        if data in ("recoverable", "not_recoverable"):
            return ast.RecoverableClause(span, data == "recoverable")
        if data == "tops_up_clause":
            amount, per = children
            return ast.TopsUpClause(span, self.literal(amount), self.word(per))  # type: ignore[arg-type]
        if data in ("draw_periods_clause", "draw_hire_periods_clause"):
            count, unit = children
            return ast.FirstPeriodsClause(span, int(str(count)), self.word(unit), data == "draw_hire_periods_clause")  # type: ignore[arg-type]
        if data == "during_clause":
            return ast.DuringClause(span, self.date(children[0]), self.date(children[1]))
        if data == "recovers_clause":
            rate, per = children
            return ast.RecoversClause(span, self.literal(rate), self.word(per))  # type: ignore[arg-type]
        if data == "outstanding_clause":
            return ast.OutstandingClause(span, self.literal(children[0]))  # type: ignore[arg-type]
        if data == "termination_clause":
            return ast.TerminationClause(span, self.word(children[0]))  # type: ignore[arg-type]
        if data == "holds_clause":
            rate, *names = children
            return ast.HoldsClause(span, self.literal(rate), [self.word(n) for n in names if isinstance(n, Token)])  # type: ignore[arg-type]
        if data == "release_year_end":
            return ast.ReleaseClause(span, "year end")
        if data == "release_on":
            return ast.ReleaseClause(span, "on", on=self.date(children[0]))
        if data == "release_invoice_paid":
            return ast.ReleaseClause(span, "invoice paid")
        if data == "release_after":
            return ast.ReleaseClause(span, "after", after=self.literal(children[0]))  # type: ignore[arg-type]
        if data == "clawback_window_clause":
            return ast.ClawbackWindowClause(span, self.literal(children[0]))  # type: ignore[arg-type]
        if data.startswith("reverses_"):
            how = {"reverses_fully": "fully", "reverses_pro_rata": "pro rata by time", "reverses_at_rate": "at the rate originally paid"}
            return ast.ReversesClause(span, how[data])
        raise AssertionError(f"unhandled pay clause {data}")

    # ---------------------------------------------------------------- expressions
    def expr(self, node: Child) -> ast.Expr:
        assert isinstance(node, Tree), node
        span = self.span(node)
        data = str(node.data)
        children = node.children
        if data.endswith("_lit") and data not in ("set_lit", "interval_lit"):
            return self.literal(node)
        if data == "name_ref":
            return ast.NameRef(span, str(children[0]))
        if data == "field_ref":
            scope_tree, name = children
            assert isinstance(scope_tree, Tree) and isinstance(name, Token)
            return ast.FieldRef(span, str(scope_tree.children[0]), str(name), self.span(name))
        if data == "windowed_ref":
            name, window = children
            assert isinstance(name, Token) and isinstance(window, Tree)
            return ast.WindowedRef(span, str(name), self.span(name), _WINDOWS[str(window.data)])
        if data == "target_incentive":
            return ast.TargetIncentive(span, _WINDOWS[str(children[0].data)])  # type: ignore[union-attr]
        if data == "call":
            name, *args = children
            return ast.Call(span, str(name), self.span(name), [self.expr(a) for a in args if a is not None])
        if data == "paren":
            inner = self.expr(children[0])
            inner.span = span
            return inner
        if data == "binary":
            left, op, right = children
            return ast.Binary(span, _OPERATORS[str(op)], self.expr(left), self.expr(right))
        if data == "negate":
            return ast.Negate(span, self.expr(children[0]))
        if data == "compare":
            left, op, right = children
            return ast.Compare(span, _COMPARISONS[str(op)], self.expr(left), self.expr(right))
        if data in ("member", "not_member"):
            value, collection = children
            return ast.Member(span, self.expr(value), self.collection(collection), data == "not_member")  # type: ignore[arg-type]
        if data in ("or_expr", "and_expr"):
            return ast.BoolOp(span, data.removesuffix("_expr"), [self.expr(c) for c in children])
        if data == "not_op":
            return ast.Not(span, self.expr(children[0]))
        if data == "if_then_else":
            condition, then, otherwise = children
            return ast.IfThenElse(span, self.expr(condition), self.expr(then), self.expr(otherwise))
        raise AssertionError(f"unhandled expression {data}")

    def collection(self, tree: Tree[Token]) -> ast.SetLit | ast.IntervalLit | ast.ListRef:
        if tree.data == "list_ref":
            scope_tree, name = tree.children
            assert isinstance(scope_tree, Tree) and isinstance(name, Token)
            return ast.ListRef(self.span(tree), str(scope_tree.children[0]), str(name), self.span(name))
        if tree.data == "set_lit":
            return ast.SetLit(self.span(tree), [self.literal(c) for c in tree.children if c is not None])  # type: ignore[arg-type]
        return ast.IntervalLit(self.span(tree), self.expr(tree.children[0]), self.expr(tree.children[1]))

    def literal(self, tree: Tree[Token]) -> ast.Literal:
        span = self.span(tree)
        data = str(tree.data)
        tokens = [c for c in tree.children if isinstance(c, Token)]
        if data == "number_lit":
            return ast.Literal(span, "number", parse_number(tokens[0]))
        if data == "percent_lit":
            return ast.Literal(span, "percent", parse_number(tokens[0]))
        if data == "money_lit":
            return ast.Literal(span, "money", parse_number(tokens[0]), currency=str(tokens[1]))
        if data == "duration_lit":
            unit = str(tokens[1])
            return ast.Literal(span, "duration", parse_number(tokens[0]), unit=unit)
        if data == "date_lit":
            return ast.Literal(span, "date", self.date(tokens[0]))
        if data == "string_lit":
            return ast.Literal(span, "text", decode_string(str(tokens[0])))
        if data in ("true_lit", "false_lit"):
            return ast.Literal(span, "boolean", data == "true_lit")
        raise AssertionError(f"unhandled literal {data}")
