"""Calculate a period: credit every plan's deals, evaluate every assigned payee, hash it.

This is the core's front door.  Inputs are compiled plans and a validated dataset; the
output is a `CalculationResult` whose `result_sha256` depends only on those inputs (never on
the order of rows, the machine, or the time of day).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import localcontext
from typing import Any

from compengine.core.crediting import credit_deals
from compengine.core.data import Dataset, QuotaFigure
from compengine.core.errors import DataError, DataIssue, PeriodError
from compengine.core.evaluation import PayeeEvaluator, Statement
from compengine.core.money import DECIMAL_CONTEXT, decimal_str
from compengine.core.plan import AttributeDef, CompiledPlan
from compengine.core.scope import PayeeFacts
from compengine.core.units import Kind
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
    return {
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


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def hash_json(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def calculate(
    plans: Sequence[CompiledPlan],
    data: Dataset,
    period_label: str,
    payees: Iterable[str] | None = None,
) -> CalculationResult:
    """Statements of every payee on any of `plans` for the period named `period_label`."""
    wanted = set(payees) if payees is not None else None
    with localcontext(DECIMAL_CONTEXT):
        typed = {plan.id: typed_attributes(plan, data) for plan in plans}
        statements: list[Statement] = []
        notes: list[str] = _unknown_plans(plans, data)
        period_errors: list[PeriodError] = []
        for plan in sorted(plans, key=lambda p: p.id):
            try:
                period = plan.header.calendar.parse(period_label, plan.header.period_kind)
            except PeriodError as error:
                period_errors.append(error)
                notes.append(f"plan {plan.id} not calculated: {error}")
                continue
            deal_attrs, payee_attrs = typed[plan.id]
            credits = credit_deals(plan, data.deals, deal_attrs)
            for facts in _payee_facts(plan, data, credits, payee_attrs, wanted):
                statement = PayeeEvaluator(plan, facts).statement(period)
                if statement is not None:
                    statements.append(statement)
        if period_errors and len(period_errors) == len(plans):
            raise period_errors[0]
        statements.sort(key=lambda s: (s.payee_id, s.plan.id))
        return CalculationResult(period_label, tuple(statements), tuple(notes))


def _unknown_plans(plans: Sequence[CompiledPlan], data: Dataset) -> list[str]:
    """Assignments to plans that were not given: most likely a typo in assignments.csv."""
    known = {plan.id for plan in plans}
    notes = []
    for plan_id in sorted({a.plan_id for a in data.assignments} - known):
        rows = [str(a.ref) for a in data.assignments if a.plan_id == plan_id and a.ref]
        where = f" ({', '.join(rows[:3])}{', ...' if len(rows) > 3 else ''})" if rows else ""
        notes.append(f"payees are assigned to plan {plan_id!r}{where}, but no such plan was given")
    return notes


def _payee_facts(
    plan: CompiledPlan,
    data: Dataset,
    credits: Mapping[str, Any],
    payee_attrs: Mapping[str, Mapping[str, Any]],
    wanted: set[str] | None,
) -> list[PayeeFacts]:
    assignments: dict[str, list[Any]] = defaultdict(list)
    for assignment in data.assignments:
        if assignment.plan_id == plan.id and (wanted is None or assignment.payee_id in wanted):
            assignments[assignment.payee_id].append(assignment)
    quotas: dict[str, dict[tuple[str, str], QuotaFigure]] = defaultdict(dict)
    for quota in data.quotas:
        quotas[quota.payee_id][(quota.name, quota.period_label)] = quota
    facts = []
    for payee_id in sorted(assignments):
        payee = data.payees[payee_id]
        by_rule: dict[str, list[Any]] = defaultdict(list)
        for credit in credits.get(payee_id, ()):
            by_rule[credit.rule].append(credit)
        mine = tuple(sorted(assignments[payee_id], key=lambda a: a.start))
        facts.append(PayeeFacts(payee, payee_attrs[payee_id], mine, dict(by_rule), quotas[payee_id]))
    return facts


def typed_attributes(plan: CompiledPlan, data: Dataset) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Read the deal and payee attributes the plan declares; every bad cell is reported."""
    issues: list[DataIssue] = []
    deals = {deal.id: _typed(plan.deal_attributes, deal.attributes, deal.ref, deal.id, issues, data) for deal in data.deals}
    payees = {
        payee.id: _typed(plan.payee_attributes, payee.attributes, payee.ref, payee.id, issues, data) for payee in data.payees.values()
    }
    if issues:
        raise DataError(issues)
    return deals, payees


def _typed(
    declared: Sequence[AttributeDef],
    raw: Mapping[str, str],
    ref: Any,
    owner_id: str,
    issues: list[DataIssue],
    data: Dataset,
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    file, row = (ref.file, ref.row) if ref else ("data", None)
    for attribute in declared:
        text = raw.get(attribute.name)
        if text is None or text.strip() == "":
            if attribute.default is not None or attribute.type.kind is Kind.PAYEE:
                values[attribute.name] = attribute.default
            else:
                values[attribute.name] = MISSING  # an error only where a rule reads it
            continue
        try:
            values[attribute.name] = parse_value(text, attribute.type)
        except ValueError as error:
            issues.append(DataIssue(file, row, attribute.name, f"{error} (a {attribute.type} is expected)"))
            continue
        if attribute.type.kind is Kind.PAYEE and values[attribute.name] not in data.payees:
            issues.append(DataIssue(file, row, attribute.name, f"there is no payee {text!r}"))
    return values
