"""The canonical layout of plan files, written by `compengine fmt`.

Plans are reviewed like code, so every plan should look the same: one declaration per block,
one clause per line, canonical operators, the fewest parentheses that keep the meaning, and
the author's comments kept where they were written.  The formatter prints the syntax tree
(so the layout cannot depend on how the text happened to be typed) and then places each
comment by where it sat in the source relative to the printed lines.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise

from compengine.core.source import SourceSpan
from compengine.lang import ast
from compengine.lang.diagnostics import Diagnostic, has_errors
from compengine.lang.parser import parse_plan

INDENT = "  "
EOL_COMMENT_GAP = "  "

WINDOW_WORDS = {
    "PERIOD": "for the period",
    "QUARTER_TO_DATE": "for the quarter to date",
    "YEAR_TO_DATE": "for the year to date",
    "FULL_YEAR": "for the full year",
}

#: One-line declarations that authors group into blocks; the blank line between two of them
#: is the author's choice (kept, collapsed to one), while every other pair of top-level
#: items is separated by exactly one blank line (so a `revision` marker, like a header,
#: always stands between blank lines).
GROUPABLE = (
    ast.UseDecl,
    ast.AttributeDecl,
    ast.ParameterDecl,
    ast.MeasureDecl,
    ast.EarningsDecl,
    ast.QuotaDecl,
    ast.LetDecl,
    ast.InputDecl,
)

# Binding strength of each expression form, loosest first; a sub-expression is wrapped in
# parentheses exactly when it binds more loosely than its position in the grammar requires.
_IF, _OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _POSTFIX, _ATOM = range(10)


def format_source(path: str, text: str) -> tuple[str | None, list[Diagnostic]]:
    """Format plan text; None and the diagnostics when it does not parse cleanly.

    Text with any parse error is refused rather than formatted, because the tree of a
    broken file (a date not on the calendar, say) holds placeholders, not what was written.
    """
    outcome = parse_plan(path, text)
    if outcome.plan_file is None or has_errors(outcome.diagnostics):
        return None, outcome.diagnostics
    return format_plan(outcome.plan_file), outcome.diagnostics


def format_plan(plan_file: ast.PlanFile) -> str:
    """The canonical text of a parsed plan, comments included."""
    source = _Source(plan_file.text, plan_file.comments)
    lines: list[_Line] = []
    for index, item in enumerate(plan_file.items):
        for depth, text, anchor in _item_lines(item, source):
            lines.append(_Line(index, depth, text, anchor))
    file_end = _place_comments(lines, source)
    return _render(lines, plan_file.items, file_end, source)


# ------------------------------------------------------------------ source positions


@dataclass
class _Comment:
    position: int
    text: str


@dataclass
class _Line:
    """One printed line, anchored at the source offset where its construct starts."""

    item: int
    depth: int
    text: str
    anchor: int
    code_end: int = 0
    leading: list[_Comment] = field(default_factory=list)
    trailing: _Comment | None = None


class _Source:
    """Offsets into the original text, which is what comments are placed against."""

    def __init__(self, text: str, comments: list[ast.Comment]):
        self.text = text
        self.line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
        self.comments = [_Comment(self.offset(c.line, c.column), c.text.rstrip()) for c in comments]
        self.in_comment = bytearray(len(text))
        for comment, original in zip(self.comments, comments, strict=True):
            end = comment.position + len(original.text)
            self.in_comment[comment.position : end] = b"\x01" * (end - comment.position)
        self.blank_lines = [number for number, line in enumerate(text.split("\n"), start=1) if not line.strip()]

    def offset(self, line: int, column: int) -> int:
        return self.line_starts[line - 1] + column - 1

    def line_of(self, position: int) -> int:
        return bisect.bisect_right(self.line_starts, position)

    def _is_gap(self, position: int) -> bool:
        return self.text[position].isspace() or bool(self.in_comment[position])

    def code_end(self, start: int, stop: int) -> int:
        """The offset just after the last code character in [start, stop)."""
        position = stop - 1
        while position > start and self._is_gap(position):
            position -= 1
        return position + 1

    def token_before(self, position: int, count: int = 1) -> int:
        """The start of the `count`th token written before `position`, skipping space and
        comments; a token is a word or a single punctuation mark (`,`, `:`)."""
        for _ in range(count):
            position -= 1
            while position >= 0 and self._is_gap(position):
                position -= 1
            if position >= 0 and not self._is_word(position):
                continue
            while position >= 0 and self._is_word(position):
                position -= 1
            position += 1
        return position

    def _is_word(self, position: int) -> bool:
        char = self.text[position]
        return (char.isalnum() or char == "_") and not self.in_comment[position]

    def blank_between(self, first: int, second: int) -> bool:
        """Whether a blank source line lies strictly between the lines of two offsets."""
        low, high = self.line_of(first), self.line_of(second)
        index = bisect.bisect_right(self.blank_lines, low)
        return index < len(self.blank_lines) and self.blank_lines[index] < high


def _start(node: ast.Node | ast.Expr, source: _Source) -> int:
    return _span_start(node.span, source)


def _span_start(span: SourceSpan, source: _Source) -> int:
    return source.offset(span.line, span.column)


# ------------------------------------------------------------------ comments and blank lines


def _place_comments(lines: list[_Line], source: _Source) -> list[_Comment]:
    """Attach each comment to the printed line it belongs with; return those after the last.

    A comment after a line's code on the same source line stays at the end of that line; a
    comment on a line of its own goes before the next printed line; a comment written in the
    middle of a construct printed on one line goes on its own line just before it.  Since
    printed lines are in source order, comments keep their order.
    """
    anchors = [line.anchor for line in lines]
    if any(a >= b for a, b in pairwise(anchors)):
        raise AssertionError("printed lines are out of source order; comments cannot be placed")
    for index, line in enumerate(lines):
        stop = anchors[index + 1] if index + 1 < len(lines) else len(source.text)
        line.code_end = source.code_end(line.anchor, stop)
    file_end: list[_Comment] = []
    for comment in source.comments:
        index = bisect.bisect_right(anchors, comment.position) - 1
        if not lines:
            file_end.append(comment)
        elif index < 0:
            lines[0].leading.append(comment)
        elif comment.position < lines[index].code_end:
            lines[index].leading.append(comment)
        elif source.line_of(comment.position) == source.line_of(lines[index].code_end - 1):
            lines[index].trailing = comment
        elif index + 1 < len(lines):
            lines[index + 1].leading.append(comment)
        else:
            file_end.append(comment)
    return file_end


def _render(lines: list[_Line], items: list[ast.Node], file_end: list[_Comment], source: _Source) -> str:
    """Join the printed lines, deciding blank lines from the items and the source."""
    out: list[str] = []
    previous: _Line | None = None
    for line in lines:
        indent = INDENT * line.depth
        if previous is not None and line.item != previous.item:
            first = min([line.anchor, *(c.position for c in line.leading[:1])])
            grouped = isinstance(items[previous.item], GROUPABLE) and isinstance(items[line.item], GROUPABLE)
            if not grouped or source.blank_between(previous.code_end - 1, first):
                out.append("")
        if line.depth == 0:
            _comment_block(out, line.leading, source)
        else:
            out.extend(indent + comment.text for comment in line.leading)
        text = indent + line.text
        if line.trailing is not None:
            text += EOL_COMMENT_GAP + line.trailing.text
        out.append(text)
        previous = line
    if file_end:
        if previous is not None and source.blank_between(previous.code_end - 1, file_end[0].position):
            out.append("")
        _comment_block(out, file_end, source)
    return "\n".join(out) + "\n" if out else ""


def _comment_block(out: list[str], comments: list[_Comment], source: _Source) -> None:
    """Top-level comments, keeping (one) blank line where the author separated them."""
    for number, comment in enumerate(comments):
        if number and source.blank_between(comments[number - 1].position, comment.position):
            out.append("")
        out.append(comment.text)


# ------------------------------------------------------------------ declarations


def _item_lines(item: ast.Node, source: _Source) -> list[tuple[int, str, int]]:
    """The printed lines of one top-level item: (depth, text, source anchor)."""
    start = _start(item, source)
    if isinstance(item, ast.PlanHeader):
        head = f"plan {item.name.text}" + (f" {quote(item.title)}" if item.title is not None else "")
        return [(0, head, start)] + [(1, _header_clause(c), _start(c, source)) for c in item.clauses]
    if isinstance(item, ast.LibraryHeader):
        return [(0, f"library {item.name.text}" + (f" {quote(item.title)}" if item.title is not None else ""), start)]
    if isinstance(item, ast.UseDecl):
        return [(0, f"use {', '.join(n.text for n in item.names)} from {quote(item.path)}", start)]
    if isinstance(item, ast.RevisionDecl):
        note = f" {quote(item.note)}" if item.note is not None else ""
        return [(0, f"revision {item.version} effective {_date(item.start)}{note}", start)]
    if isinstance(item, ast.AttributeDecl):
        kind = " list" if item.is_list else ""
        default = f", default {format_literal(item.default)}" if item.default is not None else ""
        return [(0, f"{item.owner} attribute {item.name.text}: {item.type_name.text}{kind}{default}", start)]
    if isinstance(item, ast.ParameterDecl):
        return [(0, f"parameter {item.name.text}{_type(item.type_name)} = {_dated_values(item.values)}", start)]
    if isinstance(item, ast.TableDecl):
        rows = [(1, _table_row(row), _start(row, source)) for row in item.rows]
        return [(0, f"table {item.name.text}{_type(item.type_name)} by {format_expr(item.key)}", start), *rows]
    if isinstance(item, ast.CurveDecl):
        points = [(1, f"at {format_literal(p.at)}: {format_literal(p.value)}", _start(p, source)) for p in item.points]
        return [(0, f"curve {item.name.text}", start), *points]
    if isinstance(item, ast.CreditDecl):
        return _credit_lines(item, source)
    if isinstance(item, ast.MeasureDecl):
        window = f" {WINDOW_WORDS[item.window]}" if item.window is not None else ""
        where = f" where {format_expr(item.where)}" if item.where is not None else ""
        return [(0, f"measure {item.name.text} = {item.aggregate.text} of {item.credit.text}{window}{where}", start)]
    if isinstance(item, ast.EarningsDecl):
        return [(0, f"measure {item.name.text} = earnings of {_earnings_of(item)}", start)]
    if isinstance(item, ast.QuotaDecl):
        return [(0, f"quota {item.name.text} = {quote(item.key)} {_quota_basis(item)}", start)]
    if isinstance(item, ast.LetDecl):
        return [(0, f"let {item.name.text}{_type(item.type_name)} = {format_expr(item.expr)}", start)]
    if isinstance(item, ast.RuleDecl):
        return _rule_lines(item, source)
    if isinstance(item, ast.DecisionDecl):
        return _decision_lines(item, source)
    if isinstance(item, ast.InputDecl):
        default = f", default {format_literal(item.default)}" if item.default is not None else ""
        return [(0, f"input {item.name.text}: {item.type_name.text}{default}", start)]
    if isinstance(item, ast.ComponentDecl):
        lines = [(0, f"component {item.name.text} {quote(item.description)}", start)]
        for clause in item.clauses:
            lines.extend(_clause_lines(clause, source))
        return lines
    if isinstance(item, ast.DrawDecl | ast.HoldbackDecl | ast.ClawbackDecl):
        title = f" {quote(item.title)}" if item.title is not None else ""
        first = (0, f"{item.keyword} {item.name.text}{title}", start)
        return [first, *((1, _pay_clause_text(c), _start(c, source)) for c in item.clauses)]
    raise AssertionError(f"unhandled item {type(item).__name__}")


def _type(type_name: ast.Word | None) -> str:
    return f": {type_name.text}" if type_name is not None else ""


def _header_clause(clause: ast.HeaderClause) -> str:
    values = [v.isoformat() if isinstance(v, date) else str(v) for v in clause.values]
    if clause.kind == "effective":
        return f"effective {values[0]} until {values[1]}"
    if clause.kind == "fiscal":
        return f"fiscal year starts {values[0]}"
    if clause.kind == "rounding":
        return f"rounding half {values[0]} to {values[1]} places per {values[2]}"
    if clause.kind == "proration":
        return "proration by " + " ".join(values)
    if clause.kind == "changes":
        ending = "are split" if clause.values[0] == "split" else "use the period end"
        return f"assignment changes within a period {ending}"
    if clause.kind == "conversion":
        rate_type, on, rounded, mode, places = clause.values
        assert isinstance(rate_type, str)
        when = "on the credit date" if on == "credit date" else "at the period end"
        rounding = f"rounded half {mode} to {places} places" if rounded == "rounded" else "unrounded"
        return f"convert other currencies at {quote(rate_type)} rates {when}, {rounding}"
    if clause.kind == "payment":
        return "payment when the invoice is paid" if clause.values[0] == "invoice paid" else f"payment on {values[0]}"
    return f"{clause.kind} {values[0]}"  # version, currency, calculated


def _dated_values(values: list[ast.DatedValue]) -> str:
    parts = []
    for value in values:
        text = format_expr(value.value)
        if value.start is not None:
            text += f" from {_date(value.start)}"
        if value.until is not None:
            text += f" until {_date(value.until)}"
        parts.append(text)
    return ", ".join(parts)


def _date(value: object) -> str:
    assert isinstance(value, date)
    return value.isoformat()


def _table_row(row: ast.TableRow) -> str:
    key = format_literal(row.key) if row.key is not None else "otherwise"
    return f"{key}: {_dated_values(row.values)}"


def _quota_basis(quota: ast.QuotaDecl) -> str:
    if quota.basis == "evenly":
        return "annual spread evenly"
    if quota.basis == "seasonal":
        return "annual spread " + ", ".join(format_literal(s) for s in quota.seasonality)
    return "per period"


def _earnings_of(earnings: ast.EarningsDecl) -> str:
    """What follows `earnings of`: the reports, and the lines counted if not all."""
    reports = {"direct": "direct reports", "all": "all reports"}.get(earnings.reports, f"reports {_levels(earnings.levels or 0)}")
    if earnings.source_kind is None:
        return reports
    return f"{reports} from {earnings.source_kind} " + ", ".join(n.text for n in earnings.source_names)


def _credit_lines(credit: ast.CreditDecl, source: _Source) -> list[tuple[int, str, int]]:
    """Credit rules keep no span for most of their keywords, so the anchors are found in the
    text, counting tokens back from what follows each keyword."""
    amount_at = source.token_before(_start(credit.amount, source))
    middle: list[tuple[int, str, int]] = []  # the crediting clauses between `to` and `amount`
    if credit.rollup is not None:
        assert credit.rollup_span is not None
        levels = "to the top" if credit.rollup == "top" else _levels(int(credit.rollup))
        middle.append((1, f"rolled up {levels}", _span_start(credit.rollup_span, source)))
    if credit.duplicates is not None:  # duplicate credit counts once | per path
        duplicates_at = source.token_before(amount_at, 4 if credit.duplicates == "once" else 5)
        middle.append((1, f"duplicate credit counts {credit.duplicates}", duplicates_at))
    recipients = [_recipient(r) for r in credit.recipients]
    if not credit.splits:
        to_at = source.token_before(_start(credit.recipients[0], source))
    elif credit.recipients:  # to deal splits, <recipient>...
        to_at = source.token_before(_start(credit.recipients[0], source), 4)
    else:  # to deal splits <what follows>
        to_at = source.token_before(middle[0][2] if middle else amount_at, 3)
    if credit.splits:
        recipients.insert(0, "deal splits")
    lines = [(0, f"credit {credit.name.text} from deals", _start(credit, source))]
    if credit.where is not None:
        lines.append((1, f"where {format_expr(credit.where)}", source.token_before(_start(credit.where, source))))
    lines.append((1, "to " + ", ".join(recipients), to_at))
    lines.extend(middle)
    lines.append((1, f"amount {format_expr(credit.amount)}", amount_at))
    lines.append((1, f"dated {format_expr(credit.dated)}", source.token_before(_start(credit.dated, source))))
    return lines


def _recipient(recipient: ast.Recipient) -> str:
    if recipient.kind == "payees":
        assert recipient.condition is not None
        return f"payees where {format_expr(recipient.condition)}"
    who = "owner" if recipient.kind == "owner" else f"deal.{recipient.field_name}"
    return who + (f" {format_number(recipient.share)}%" if recipient.share is not None else "")


def _rule_lines(rule: ast.RuleDecl, source: _Source) -> list[tuple[int, str, int]]:
    description = f" {quote(rule.description)}" if rule.description is not None else ""
    head = f"rule {rule.name.text}{description} sets {rule.target.text} to {format_expr(rule.value)}"
    lines = [(0, head, _start(rule, source))]
    if rule.when is not None:
        lines.append((1, f"when {format_expr(rule.when)}", source.token_before(_start(rule.when, source))))
    if rule.exceptions:
        names = ", ".join(n.text for n in rule.exceptions)
        lines.append((1, f"exception to {names}", source.token_before(_start(rule.exceptions[0], source), 2)))
    return lines


def _decision_lines(table: ast.DecisionDecl, source: _Source) -> list[tuple[int, str, int]]:
    lines = [(0, f"decision table {table.name.text}{_type(table.type_name)}", _start(table, source))]
    if table.policy_span is not None:
        policy = " ".join(w.text for w in table.policy)
        lines.append((1, f"hit policy {policy}", _span_start(table.policy_span, source)))
    inputs = ", ".join(format_expr(e) for e in table.inputs)
    lines.append((1, f"given {inputs}", source.token_before(_start(table.inputs[0], source))))
    for row in table.rows:
        cells = ", ".join(_cell(c) for c in row.cells)
        lines.append((1, f"row {cells}: {format_expr(row.output)}", _start(row, source)))
    if table.otherwise is not None:
        lines.append((1, f"otherwise: {format_expr(table.otherwise)}", source.token_before(_start(table.otherwise, source), 2)))
    return lines


def _cell(cell: ast.Cell) -> str:
    values = [format_literal(v) for v in cell.values]
    if cell.kind == "any":
        return "any"
    if cell.kind == "equals":
        return values[0]
    if cell.kind == "set":
        return "{" + ", ".join(values) + "}"
    if cell.kind == "range":
        return f"[{values[0]}, {values[1]})"
    return f"{cell.kind} {values[0]}"  # below, from


def _clause_lines(clause: ast.Clause, source: _Source) -> list[tuple[int, str, int]]:
    start = _start(clause, source)
    if isinstance(clause, ast.TiersClause):
        position = "amount" if clause.against is None else f"attainment against {format_expr(clause.against)}"
        rows = [(2, _tier_row(row), _start(row, source)) for row in clause.rows]
        return [(1, f"{clause.mode.text} tiers on {position}", start), *rows]
    return [(1, _clause_text(clause), start)]


def _clause_text(clause: ast.Clause) -> str:
    if isinstance(clause, ast.CitesClause):
        return f"cites {quote(clause.text)}"
    if isinstance(clause, ast.PerCreditClause):
        where = f" where {format_expr(clause.where)}" if clause.where is not None else ""
        return f"per credit of {clause.credit.text}{where}"
    if isinstance(clause, ast.OnClause):
        return f"on {format_expr(clause.amount)}"
    if isinstance(clause, ast.OrderedClause):
        return "ordered by " + ", ".join(format_expr(k) for k in clause.keys)
    if isinstance(clause, ast.RunningClause):
        return f"running total {WINDOW_WORDS[clause.window]}"
    if isinstance(clause, ast.DuringClause):
        return f"during {_date(clause.start)} until {_date(clause.until)}"
    if isinstance(clause, ast.PaysClause):
        return f"pays {format_expr(clause.amount)}"
    if isinstance(clause, ast.RateClause):
        return f"rate {format_expr(clause.rate)}"
    if isinstance(clause, ast.MultiplierClause):
        when = f" when {format_expr(clause.when)}" if clause.when is not None else ""
        return f"multiplied by {format_expr(clause.factor)}{when}"
    if isinstance(clause, ast.GateClause):
        return f"gate {format_expr(clause.condition)}"
    if isinstance(clause, ast.LimitClause):
        return f"{clause.kind} {format_expr(clause.amount)} per {clause.scope.text}"
    if isinstance(clause, ast.TrueUpClause):
        return f"true up {WINDOW_WORDS[clause.window]}" + (", never negative" if clause.never_negative else "")
    raise AssertionError(f"unhandled clause {type(clause).__name__}")


def _pay_clause_text(clause: ast.Clause) -> str:
    """A clause of a draw, holdback or clawback."""
    if isinstance(clause, ast.RecoverableClause):
        return "recoverable" if clause.recoverable else "not recoverable"
    if isinstance(clause, ast.TopsUpClause):
        return f"tops up to {format_literal(clause.amount)} per {clause.per.text}"
    if isinstance(clause, ast.FirstPeriodsClause):
        return f"for the first {clause.count} {clause.unit.text} {'after hire' if clause.after_hire else 'on the plan'}"
    if isinstance(clause, ast.RecoversClause):
        return f"recovers at most {format_literal(clause.rate)} of earnings per {clause.per.text}"
    if isinstance(clause, ast.OutstandingClause):
        return f"outstanding at most {format_literal(clause.amount)}"
    if isinstance(clause, ast.TerminationClause):
        return f"at termination {clause.outcome.text}"
    if isinstance(clause, ast.HoldsClause):
        return f"holds {format_literal(clause.rate)} of " + ", ".join(w.text for w in clause.components)
    if isinstance(clause, ast.ReleaseClause):
        if clause.kind == "year end":
            return "released at the fiscal year end"
        if clause.kind == "on":
            return f"released on {_date(clause.on)}"
        if clause.kind == "invoice paid":
            return "released when the invoice is paid"
        assert clause.after is not None
        return f"released after {format_literal(clause.after)}"
    if isinstance(clause, ast.ClawbackWindowClause):
        return f"for deals cancelled or refunded within {format_literal(clause.length)} of the close date"
    if isinstance(clause, ast.ReversesClause):
        return f"reverses {clause.how}"
    return _clause_text(clause)  # `during`, shared with components


def _tier_row(row: ast.TierRowNode) -> str:
    rate = format_expr(row.rate)
    if row.kind == "below":
        assert row.upper is not None
        return f"below {format_literal(row.upper)}: {rate}"
    assert row.lower is not None
    if row.kind == "between":
        assert row.upper is not None
        return f"{format_literal(row.lower)} to {format_literal(row.upper)}: {rate}"
    if row.kind == "above":
        return f"{format_literal(row.lower)} and above: {rate}"
    return f"at {format_literal(row.lower)}: {rate}"


# ------------------------------------------------------------------ expressions


def format_expr(expr: ast.Expr, minimum: int = _IF) -> str:
    """An expression in canonical spelling, parenthesised if it binds looser than `minimum`."""
    text = _expr_text(expr)
    return f"({text})" if _strength(expr) < minimum else text


def _strength(expr: ast.Expr) -> int:
    if isinstance(expr, ast.IfThenElse):
        return _IF
    if isinstance(expr, ast.BoolOp):
        return _OR if expr.op == "or" else _AND
    if isinstance(expr, ast.Not):
        return _NOT
    if isinstance(expr, ast.Compare | ast.Member):
        return _COMPARE
    if isinstance(expr, ast.Binary):
        return _SUM if expr.op in ("+", "-") else _PRODUCT
    if isinstance(expr, ast.Negate):
        return _UNARY
    if isinstance(expr, ast.WindowedRef | ast.TargetIncentive):
        return _POSTFIX
    return _ATOM


def _expr_text(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Literal):
        return format_literal(expr)
    if isinstance(expr, ast.NameRef):
        return expr.name
    if isinstance(expr, ast.FieldRef):
        return f"{expr.scope}.{expr.name}"
    if isinstance(expr, ast.WindowedRef):
        return f"{expr.name} {WINDOW_WORDS[expr.window]}"
    if isinstance(expr, ast.TargetIncentive):
        return f"target incentive {WINDOW_WORDS[expr.window]}"
    if isinstance(expr, ast.Call):
        return f"{expr.name}({', '.join(format_expr(a) for a in expr.args)})"
    if isinstance(expr, ast.Binary):
        # Both operators are left-associative: the right operand must bind one step tighter.
        strength = _strength(expr)
        return f"{format_expr(expr.left, strength)} {expr.op} {format_expr(expr.right, strength + 1)}"
    if isinstance(expr, ast.Negate):
        return "-" + format_expr(expr.operand, _UNARY)
    if isinstance(expr, ast.Compare):
        return f"{format_expr(expr.left, _SUM)} {expr.op} {format_expr(expr.right, _SUM)}"
    if isinstance(expr, ast.Member):
        keyword = "not in" if expr.negated else "in"
        return f"{format_expr(expr.value, _SUM)} {keyword} {_collection(expr.collection)}"
    if isinstance(expr, ast.BoolOp):
        # `a or b or c` is one node; a nested `(a or b) or c` keeps its parentheses so the
        # tree, not just the truth value, survives formatting.
        strength = _strength(expr)
        return f" {expr.op} ".join(format_expr(o, strength + 1) for o in expr.operands)
    if isinstance(expr, ast.Not):
        return "not " + format_expr(expr.operand, _NOT)
    if isinstance(expr, ast.IfThenElse):
        return f"if {format_expr(expr.condition)} then {format_expr(expr.then)} else {format_expr(expr.otherwise)}"
    raise AssertionError(f"unhandled expression {type(expr).__name__}")


def _collection(collection: ast.SetLit | ast.IntervalLit | ast.ListRef) -> str:
    if isinstance(collection, ast.ListRef):
        return f"{collection.scope}.{collection.name}"
    if isinstance(collection, ast.SetLit):
        return "{" + ", ".join(format_literal(item) for item in collection.items) + "}"
    return f"[{format_expr(collection.start)}, {format_expr(collection.end)})"


# ------------------------------------------------------------------ literals


def format_literal(literal: ast.Literal) -> str:
    value = literal.value
    if literal.kind == "date":
        return _date(value)
    if literal.kind == "text":
        assert isinstance(value, str)
        return quote(value)
    if literal.kind == "boolean":
        return "true" if value else "false"
    assert isinstance(value, Decimal)
    number = format_number(value)
    if literal.kind == "percent":
        return number + "%"
    if literal.kind == "money":
        return f"{number} {literal.currency}"
    if literal.kind == "duration":
        return f"{number} {literal.unit}"
    return number


def format_number(value: Decimal) -> str:
    """Digits as written (trailing zeros kept), with thousands separators from 1,000 up."""
    text = format(value, "f")
    sign = "-" if text.startswith("-") else ""
    whole, dot, fraction = text.removeprefix("-").partition(".")
    return f"{sign}{int(whole):,}{dot}{fraction}"


def quote(text: str) -> str:
    """Text as a plan string literal, escaping exactly what the grammar requires."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _levels(count: int) -> str:
    return f"{count} level" if count == 1 else f"{count} levels"
