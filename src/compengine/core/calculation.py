"""Calculate a period: credit every plan's deals, evaluate every assigned payee, hash it.

This is the core's front door.  Inputs are compiled plans and a validated dataset; the
output is a `CalculationResult` whose `result_sha256` depends only on those inputs (never on
the order of rows, the machine, or the time of day).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from compengine.core.crediting import CREDIT_ORDER, Credit, Crediting
from compengine.core.data import Assignment, Dataset, InputValue, QuotaFigure
from compengine.core.errors import DataError, DataIssue, EvaluationError, PeriodError
from compengine.core.evaluation import PayeeEvaluator, Statement
from compengine.core.fx import FxTable
from compengine.core.gcpause import paused_gc
from compengine.core.hierarchy import Hierarchy
from compengine.core.money import DECIMAL_CONTEXT, decimal_str
from compengine.core.periods import Period
from compengine.core.plan import AttributeDef, CompiledPlan, EarningsDef, PlanFamily
from compengine.core.scope import PayeeFacts
from compengine.core.units import Kind, Type
from compengine.core.values import MISSING, parse_value

RESULT_FORMAT = "compengine.result/1"


@dataclass(frozen=True)
class CalculationResult:
    period: str
    statements: tuple[Statement, ...]
    notes: tuple[str, ...]  # plans not calculated for this period, and why

    def to_json(self) -> dict[str, Any]:
        statements = [statement_json(s) for s in self.statements]
        return {
            "format": RESULT_FORMAT,
            "period": self.period,
            "result_sha256": hash_json(statements),
            "statements": statements,
        }

    @property
    def result_sha256(self) -> str:
        return hash_json([statement_json(s) for s in self.statements])

    def statement(self, payee_id: str) -> Statement:
        return next(s for s in self.statements if s.payee_id == payee_id)


def statement_json(statement: Statement) -> dict[str, Any]:
    plan = statement.plan
    found: dict[str, Any] = {
        "payee": statement.payee_id,
        "payee_name": statement.payee_name,
        "plan": plan.id,
        "plan_version": plan.header.version,
        "plan_sha256": plan.source_sha256,
        "period": statement.period.label,
        "currency": statement.currency,
        "total": decimal_str(statement.total),
        "lines": [
            {
                "id": line.id,
                "component": line.component.name,
                "description": line.component.description,
                "amount": decimal_str(line.amount),
            }
            for line in statement.lines
        ],
    }
    if statement.coverage is not None:  # only prorated statements carry it
        found["coverage"] = statement.coverage
    return found


def canonical_text(value: Any) -> str:
    """The one JSON text of a value that is hashed: keys sorted, no spaces, UTF-8 as is."""
    return _CANONICAL.encode(value)


def canonical_json(value: Any) -> bytes:
    return canonical_text(value).encode()


#: What `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` makes per call,
#: made once (every line's trace and every row of a load go through it).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def hash_json(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def calculate(
    plans: Sequence[CompiledPlan],
    data: Dataset,
    period_label: str,
    payees: Iterable[str] | None = None,
) -> CalculationResult:
    """Statements of every payee on any of `plans` for the period named `period_label`.

    Several versions of one plan (a plan with revisions) calculate as one plan.  A payee's
    statement may depend on their reports' statements (earnings of reports); those are
    calculated first, on demand, so the order of payees never matters.
    """
    with localcontext(DECIMAL_CONTEXT), paused_gc():  # see gcpause: nothing to collect until it returns
        book, work = plan_work(plans, data, period_label, payees)
        statements = [s for s in (book.statement(*key) for key in work.keys) if s is not None]
        book.close()
        statements.sort(key=statement_order)
        return CalculationResult(period_label, tuple(statements), work.notes)


@dataclass(frozen=True)
class Work:
    """The statements a calculation evaluates, as (plan, payee, period), and its notes."""

    keys: tuple[tuple[str, str, Period], ...]
    notes: tuple[str, ...]  # plans not calculated for this period, and why


def plan_work(
    plans: Sequence[CompiledPlan], data: Dataset, period_label: str, payees: Iterable[str] | None = None
) -> tuple[StatementBook, Work]:
    """The book every statement is evaluated from, and which statements to evaluate.  A
    period label no plan's calendar knows is an error; one that only some plans' calendars
    know leaves the others out, with a note."""
    wanted = set(payees) if payees is not None else None
    families = families_of(plans)
    book = StatementBook(families, data)
    notes: list[str] = _unknown_plans(plans, data) + _earnings_notes(families)
    period_errors: list[PeriodError] = []
    keys: list[tuple[str, str, Period]] = []
    for family in book.families.values():
        header = family.first.header
        try:
            period = header.calendar.parse(period_label, header.period_kind)
        except PeriodError as error:
            period_errors.append(error)
            notes.append(f"plan {family.id} not calculated: {error}")
            continue
        keys.extend((family.id, payee_id, period) for payee_id in book.assigned(family.id) if wanted is None or payee_id in wanted)
    if period_errors and len(period_errors) == len(book.families):
        raise period_errors[0]
    return book, Work(tuple(keys), tuple(notes))


def statement_order(statement: Statement) -> tuple[str, str]:
    """Statements are listed by payee, then plan: the order the result hash is taken in."""
    return (statement.payee_id, statement.plan.id)


def families_of(plans: Sequence[CompiledPlan]) -> dict[str, PlanFamily]:
    """Plans grouped by id, each family's versions in date order."""
    grouped: dict[str, list[CompiledPlan]] = defaultdict(list)
    for plan in plans:
        grouped[plan.id].append(plan)
    return {
        plan_id: PlanFamily(tuple(sorted(found, key=lambda p: (p.in_force.start or date.min, p.version))))
        for plan_id, found in sorted(grouped.items())
    }


class StatementBook:
    """Every payee's evaluator under every plan, created and run on first use.

    A manager's "earnings of reports" asks the book for the reports' statements, which are
    evaluated then (and remembered); a loop in that chain is an error, not a hang.
    """

    def __init__(self, families: dict[str, PlanFamily], data: Dataset):
        self.families = families
        self.data = data
        self.hierarchy = Hierarchy(data.reporting_lines)
        self.fx = FxTable(data.exchange_rates)
        parsed: dict[Type, dict[str, Any]] = {}  # shared by every version: most cells repeat
        tables: dict[Any, dict[str, dict[str, Any]]] = {}  # versions declaring the same attributes share one table
        self._typed = {
            family_id: [typed_attributes(v, data, parsed, tables) for v in family.versions] for family_id, family in families.items()
        }
        self._assignments: dict[tuple[str, str], list[Assignment]] = defaultdict(list)
        for assignment in data.assignments:
            self._assignments[(assignment.plan_id, assignment.payee_id)].append(assignment)
        self._quotas: dict[str, dict[tuple[str, str], list[QuotaFigure]]] = defaultdict(lambda: defaultdict(list))
        for quota in data.quotas:
            self._quotas[quota.payee_id][(quota.name, quota.period_label)].append(quota)
        for figures in self._quotas.values():
            for found in figures.values():
                found.sort(key=lambda q: q.effective_from or date.min)
        self._inputs: dict[str, dict[tuple[str, str], InputValue]] = defaultdict(dict)
        for value in data.inputs:
            self._inputs[value.payee_id][(value.name, value.period_label)] = value
        self._credits: dict[str, dict[str, list[Credit]]] = {}
        self._only: set[str] | None = None  # see `keep_only`
        self._evaluators: dict[tuple[str, str], PayeeEvaluator] = {}
        self._in_progress: set[tuple[str, str, str]] = set()
        self._known_lines: dict[tuple[str, str, str], tuple[tuple[str, Decimal], ...]] = {}

    def remember_lines(self, family_id: str, payee_id: str, lines: Mapping[str, tuple[tuple[str, Decimal], ...]]) -> None:
        """The (component, amount) lines of a payee's statements by period label (none for a
        period without one), evaluated elsewhere or before their evaluator was dropped:
        earnings of reports read them rather than evaluating the statements again."""
        for label, found in lines.items():
            self._known_lines[(family_id, payee_id, label)] = found

    def evaluated_lines(self, family_id: str, payee_id: str) -> dict[str, tuple[tuple[str, Decimal], ...]]:
        """The (component, amount) lines of every period the payee's statement has been
        evaluated for so far, by period label (a statement evaluates the earlier periods of
        its fiscal year too): what another worker's managers need of it."""
        evaluator = self._evaluators.get((family_id, payee_id))
        if evaluator is None:
            return {}
        return {
            label: () if statement is None else tuple((line.component.name, line.amount) for line in statement.lines)
            for label, statement in evaluator.statements.items()
        }

    def forget(self, family_id: str, payee_id: str) -> None:
        """Drop the payee's evaluator (and the statements and per-credit records it holds)
        once its lines are remembered: evaluation then holds one payee at a time, not all."""
        self._evaluators.pop((family_id, payee_id), None)

    def keep_only(self, payees: set[str]) -> None:
        """Credit only these payees (a worker's share of them): crediting then passes over the
        deals that reach none of them.  Should another payee's statement be needed (a report
        who moved teams during the year), their credits are worked out then, on their own."""
        self._only = set(payees)

    def close(self) -> None:
        """Drop the evaluators once every statement is out.  Each points back to the book (for
        earnings of reports): left alone, that cycle keeps the whole book, credits and all,
        for the cyclic garbage collector instead of freeing it at once."""
        self._evaluators.clear()

    def assigned(self, family_id: str) -> list[str]:
        return sorted(payee for plan, payee in self._assignments if plan == family_id)

    def statement(self, family_id: str, payee_id: str, period: Period) -> Statement | None:
        key = (family_id, payee_id, period.label)
        if key in self._in_progress:
            raise EvaluationError(
                f"payee {payee_id}'s {period.label} statement under plan {family_id} depends on itself through earnings of reports",
                hint="check reporting_lines.csv for someone who is their own (indirect) report",
            )
        self._in_progress.add(key)
        try:
            return self._evaluator(family_id, payee_id).statement(period)
        finally:
            self._in_progress.discard(key)

    def _evaluator(self, family_id: str, payee_id: str) -> PayeeEvaluator:
        key = (family_id, payee_id)
        if key not in self._evaluators:
            family = self.families[family_id]
            mine = self._only is None or payee_id in self._only
            credits = self._credits_of(family_id) if mine else self._credit(family_id, {payee_id})
            by_rule: dict[str, list[Credit]] = defaultdict(list)
            for credit in credits.get(payee_id, ()):
                by_rule[credit.rule].append(credit)
            payee_attrs = self._typed[family_id][-1][1]
            facts = PayeeFacts(
                self.data.payees[payee_id],
                payee_attrs[payee_id],
                tuple(sorted(self._assignments[key], key=lambda a: a.start)),
                dict(by_rule),
                self._quotas[payee_id],
                self._inputs[payee_id],
                self,
            )
            self._evaluators[key] = PayeeEvaluator(family, facts)
        return self._evaluators[key]

    def _credits_of(self, family_id: str) -> dict[str, list[Credit]]:
        """The credits of a plan's payees (those kept: see `keep_only`), made on first use."""
        if family_id not in self._credits:
            on_plan = set(self.assigned(family_id))  # nobody else's credits are read
            self._credits[family_id] = self._credit(family_id, on_plan if self._only is None else on_plan & self._only)
        return self._credits[family_id]

    def _credit(self, family_id: str, payees: set[str]) -> dict[str, list[Credit]]:
        """Every version's credits of a plan for `payees`: each version credits the deals dated
        while it is in force."""
        merged: dict[str, list[Credit]] = defaultdict(list)
        family = self.families[family_id]
        for version, (deal_attrs, payee_attrs) in zip(family.versions, self._typed[family_id], strict=True):
            crediting = Crediting(version, self.data.payees, payee_attrs, self.hierarchy, self.fx)
            for payee_id, credits in crediting.credit(self.data.deals, deal_attrs, payees).items():
                merged[payee_id].extend(credits)
        if len(family.versions) > 1:  # (one version's credits come in this order already)
            for credits in merged.values():
                credits.sort(key=CREDIT_ORDER)
        return dict(merged)

    def lines_below(self, manager_id: str, period: Period, levels: int | None) -> list[tuple[str, str, str, Decimal]]:
        """(payee, plan, component, amount) of the reports' statement lines for the same dates."""
        lines: list[tuple[str, str, str, Decimal]] = []
        for payee_id, _depth in sorted(self.hierarchy.reports_of(manager_id, period.last_day, levels)):
            for family_id, family in self.families.items():
                if (family_id, payee_id) not in self._assignments:
                    continue
                header = family.first.header
                same = header.calendar.period_containing(header.period_kind, period.start)
                if (same.start, same.end) != (period.start, period.end):
                    continue  # a plan calculated over other periods cannot be matched line for line
                known = self._known_lines.get((family_id, payee_id, same.label))
                if known is not None:
                    lines.extend((payee_id, family_id, component, amount) for component, amount in known)
                    continue
                statement = self.statement(family_id, payee_id, same)
                if statement is not None:
                    lines.extend((payee_id, family_id, line.component.name, line.amount) for line in statement.lines)
        return lines


def _earnings_notes(families: dict[str, PlanFamily]) -> list[str]:
    """`earnings of ... from components a` / `from plan p` naming nothing among the plans given
    counts nothing; say so, since a misspelt name would otherwise pass unnoticed."""
    notes: list[str] = []
    components = sorted({c.name for f in families.values() for v in f.versions for c in v.components})
    for family in families.values():
        for definition in family.versions[-1].definitions.values():
            if not isinstance(definition, EarningsDef):
                continue
            if definition.plan is not None and definition.plan not in families:
                notes.append(
                    f"measure {definition.name} of plan {family.id} counts plan {definition.plan!r}, which was not given: it counts 0"
                )
            for name in definition.components or ():
                if name not in components:
                    close = difflib.get_close_matches(name, components, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    notes.append(f"measure {definition.name} of plan {family.id} counts component {name!r}, which no plan given has{hint}")
    return notes


def _unknown_plans(plans: Sequence[CompiledPlan], data: Dataset) -> list[str]:
    """Assignments to plans that were not given: most likely a typo in assignments.csv."""
    known = {plan.id for plan in plans}
    notes = []
    for plan_id in sorted({a.plan_id for a in data.assignments} - known):
        rows = [str(a.ref) for a in data.assignments if a.plan_id == plan_id and a.ref]
        where = f" ({', '.join(rows[:3])}{', ...' if len(rows) > 3 else ''})" if rows else ""
        notes.append(f"payees are assigned to plan {plan_id!r}{where}, but no such plan was given")
    return notes


def typed_attributes(
    plan: CompiledPlan,
    data: Dataset,
    parsed: dict[Type, dict[str, Any]] | None = None,
    tables: dict[Any, dict[str, dict[str, Any]]] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Read the deal and payee attributes the plan declares; every bad cell is reported.

    `parsed` remembers each cell text read, by type, so a value repeated across deals, or
    across the versions of a plan, is parsed once (values are immutable, so sharing is safe).
    `tables` remembers whole tables by what they declare: plans (or versions of a plan)
    declaring the same attributes, with the same types and defaults, read them once and share
    the result (at size M, a deal table is half a million dicts).
    """
    issues: list[DataIssue] = []
    memo: dict[Type, dict[str, Any]] = {} if parsed is None else parsed
    known: dict[Any, dict[str, dict[str, Any]]] = {} if tables is None else tables
    deal_key = ("deal", _declared(plan.deal_attributes))
    deals = known.get(deal_key)
    if deals is None:
        readers = _readers(plan.deal_attributes, memo)
        deals = {deal.id: _typed(readers, deal.attributes, deal.ref, issues, data) for deal in data.deals}
    payee_key = ("payee", _declared(plan.payee_attributes))
    payees = known.get(payee_key)
    if payees is None:
        readers = _readers(plan.payee_attributes, memo)
        payees = {payee.id: _typed(readers, payee.attributes, payee.ref, issues, data) for payee in data.payees.values()}
    if issues:
        raise DataError(issues)
    known[deal_key], known[payee_key] = deals, payees
    return deals, payees


def _declared(declared: Sequence[AttributeDef]) -> tuple[tuple[str, Type, str, str], ...]:
    """What a table of attributes depends on: each one's name, type and default (by its type
    and exact text, so that 12 and 12.0 stay apart)."""
    return tuple((a.name, a.type, type(a.default).__name__, repr(a.default)) for a in declared)


#: How one declared attribute is read: its name, its type, the value of an empty cell, the
#: cells of its type read so far (shared by every attribute of that type), and whether it
#: names a payee.
_Reader = tuple[str, Type, Any, dict[str, Any], bool]


def _readers(declared: Sequence[AttributeDef], memo: dict[Type, dict[str, Any]]) -> list[_Reader]:
    readers: list[_Reader] = []
    for attribute in declared:
        kind = attribute.type.kind
        if attribute.default is not None or kind is Kind.PAYEE:
            empty = attribute.default
        elif kind is Kind.TEXT_LIST:
            empty = ()  # an empty list cell is the empty list (a list cannot declare a default)
        else:
            empty = MISSING  # an error only where a rule reads it
        readers.append((attribute.name, attribute.type, empty, memo.setdefault(attribute.type, {}), kind is Kind.PAYEE))
    return readers


_UNSEEN = object()


def _typed(readers: list[_Reader], raw: Mapping[str, str], ref: Any, issues: list[DataIssue], data: Dataset) -> dict[str, Any]:
    values: dict[str, Any] = {}
    get = raw.get
    for name, type_, empty, seen, names_payee in readers:
        text = get(name)
        # a cell read before is not blank (only cells that parse are remembered), so most
        # cells are found without stripping them; a cell seen once (an amount) is looked up
        # without raising KeyError
        value = seen.get(text, _UNSEEN) if text else _UNSEEN
        if value is _UNSEEN:
            if text is None or not text.strip():
                values[name] = empty
                continue
            try:
                value = seen[text] = parse_value(text, type_)
            except ValueError as error:  # not remembered: each bad cell is reported
                issues.append(DataIssue(*_where(ref), name, f"{error} (a {type_} is expected)"))
                continue
        values[name] = value
        if names_payee and value not in data.payees:
            issues.append(DataIssue(*_where(ref), name, f"there is no payee {text!r}"))
    return values


def _where(ref: Any) -> tuple[str, int | None]:
    return (ref.file, ref.row) if ref else ("data", None)
