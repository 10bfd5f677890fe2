"""The audit trail of a statement line, as a tree of nodes that re-add exactly.

Every node has a stable id, a kind, a human label, a value with its unit, an `op` that says
how the value follows from its children, the plan source it comes from, and structured
detail (deal, share, interval in effect, why a rule did or did not apply).  `verify` checks
every node's arithmetic, so "the trace re-adds to the line" is a tested property rather than
a promise.  The tree is built on demand from the compact records evaluation keeps.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from compengine.core.evaluation import Line, Statement
from compengine.core.money import DECIMAL_CONTEXT, ZERO, decimal_str
from compengine.core.records import CreditPayout, InputRecord, RewardDetail, Step, Term
from compengine.core.rounding import RoundingLevel, RoundingMode, RoundingPolicy, round_amount
from compengine.core.source import SourceSpan
from compengine.core.units import Kind, Type, money
from compengine.core.values import to_json_value

TRACE_FORMAT = "compengine.trace/1"


@dataclass(slots=True)
class TraceNode:
    """One node of a line's trace.

    ops: `given` (a fact or input), `sum` (children add up to it), `product` (sign × children
    multiplied), `chain` (the first `detail["chain"]` children are a start value followed by
    steps, and this is the last step's value), `step` (follows from `detail["before"]` and
    `detail["operand"]` by its kind), `info` (context only, no arithmetic).
    """

    id: str
    kind: str
    label: str
    value: Any
    unit: str | None
    op: str
    children: list[TraceNode] = field(default_factory=list)
    source: SourceSpan | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def walk(self) -> Iterator[TraceNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_json(self) -> dict[str, Any]:
        return _node_json(self)


def _node_json(node: TraceNode) -> dict[str, Any]:
    """`TraceNode.to_json`, as a plain recursive function with the common value types
    converted inline (a trace has ~45 nodes a line; this is the bulk of writing traces)."""
    value = node.value
    kind = type(value)
    if kind is Decimal:
        value = decimal_str(value)
    elif not (value is None or kind is str or kind is bool or kind is int):
        value = to_json_value(value)
    source = node.source
    return {
        "id": node.id,
        "kind": node.kind,
        "label": node.label,
        "value": value,
        "unit": node.unit,
        "op": node.op,
        "source": source.to_json() if source else None,
        "detail": {key: _json_any(item) for key, item in node.detail.items()} if node.detail else {},
        "children": [_node_json(child) for child in node.children],
    }


def unit_of(type_: Type | None) -> str | None:
    if type_ is None:
        return None
    if type_.kind is Kind.MONEY:
        return type_.currency
    return str(type_.kind.value)


# ------------------------------------------------------------------ building
def build_line_trace(statement: Statement, line: Line) -> TraceNode:
    plan = statement.plan
    currency = money(plan.header.currency)
    unit = unit_of(currency)
    component = line.component
    chain: list[TraceNode] = []
    if line.reward is None:
        chain.append(
            TraceNode(
                f"{line.id}#credits",
                "credits",
                f"{len(line.credits)} credit{'s' if len(line.credits) != 1 else ''} paid",
                line.subtotal,
                unit,
                "sum",
                [_credit_node(line.id, payout, unit, plan.header.rounding) for payout in line.credits],
            )
        )
    else:
        chain.append(_reward_node(f"{line.id}#reward", line.reward, unit, component.span))
    steps = list(line.steps) + ([line.statement_rounding] if line.statement_rounding else [])
    chain.extend(_step_node(f"{line.id}#step{i + 1}", step, unit, plan.header.rounding) for i, step in enumerate(steps))
    attribution = TraceNode(
        f"{line.id}#attribution",
        "attribution",
        "share of the line by deal",
        sum((a.amount for a in line.attribution), ZERO),
        unit,
        "sum",
        [
            TraceNode(f"{line.id}#deal:{a.deal_id or '-'}", "deal", a.deal_id or "not attributable to a deal", a.amount, unit, "given")
            for a in line.attribution
        ],
    )
    inputs = TraceNode(
        f"{line.id}#inputs",
        "inputs",
        "values used",
        None,
        None,
        "info",
        [_input_node(f"{line.id}#input:{i}", record) for i, record in enumerate(line.inputs)],
    )
    return TraceNode(
        line.id,
        "line",
        component.description,
        line.amount,
        unit,
        "chain",
        [*chain, attribution, inputs],
        component.span,
        {
            "chain": len(chain),
            "component": component.name,
            "cites": component.cites,
            "formula": component.formula,
            "payee": statement.payee_id,
            "payee_name": statement.payee_name,
            "period": statement.period.label,
            "plan": plan.id,
            "plan_version": plan.header.version,
            "plan_sha256": plan.source_sha256,
            "rounding": plan.header.rounding.to_json(),
            "coverage": statement.coverage,
        },
    )


def _credit_node(line_id: str, payout: CreditPayout, unit: str | None, rounding: RoundingPolicy) -> TraceNode:
    node_id = f"{line_id}#credit:{payout.credit_id}"
    chain = [_reward_node(f"{node_id}/reward", payout.reward, unit, None)]
    chain.extend(_step_node(f"{node_id}/step{i + 1}", step, unit, rounding) for i, step in enumerate(payout.steps))
    used = [_input_node(f"{node_id}/input:{i}", record) for i, record in enumerate(payout.inputs)]
    children = [*chain, TraceNode(f"{node_id}/inputs", "inputs", "values used for this credit", None, None, "info", used)]
    return TraceNode(
        node_id,
        "credit",
        f"deal {payout.deal_id}",
        payout.payout,
        unit,
        "chain",
        children,
        detail={
            "chain": len(chain),
            "deal": payout.deal_id,
            "credit": payout.credit_id,
            "share": payout.share,
            "role": payout.role,
            "credited": payout.credited,
            "deal_amount": payout.deal_amount,
            "date": payout.date,
            "position": list(payout.reward.position) if payout.reward.position else None,
            "paths": [{"path": path, "share": share} for path, share in payout.paths],
            "plan_version": payout.version,
            "converted": _fx_json(payout.fx),
        },
    )


def _fx_json(fx: tuple[str, str, str, str, Decimal] | None) -> dict[str, Any] | None:
    if fx is None:
        return None
    source, target, rate_type, day, rate = fx
    return {"from": source, "to": target, "rate_type": rate_type, "date": day, "rate": rate}


def _reward_node(node_id: str, reward: RewardDetail, unit: str | None, source: SourceSpan | None) -> TraceNode:
    detail: dict[str, Any] = {"mode": reward.kind, "formula": reward.formula}
    if reward.position is not None:
        detail["position"] = list(reward.position)
    if reward.scale is not None:
        detail["quota"] = reward.scale
    if not reward.terms:
        return TraceNode(node_id, "reward", reward.formula, reward.value, unit, "given", [], source, detail)
    terms = [_term_node(f"{node_id}/term{i + 1}", term, unit, reward.scale) for i, term in enumerate(reward.terms)]
    return TraceNode(node_id, "reward", reward.formula, reward.value, unit, "sum", terms, source, detail)


def _term_node(node_id: str, term: Term, unit: str | None, scale: Decimal | None) -> TraceNode:
    detail: dict[str, Any] = {"sign": term.sign}
    if term.band is not None:
        detail["band"] = term.band + 1
    return TraceNode(
        node_id,
        "term",
        term.label,
        term.value,
        unit,
        "product",
        [
            TraceNode(f"{node_id}/amount", "amount", "amount", term.quantity, unit, "given"),
            TraceNode(f"{node_id}/rate", "rate", "rate", term.rate, "percent", "given"),
        ],
        detail=detail,
    )


def _step_node(node_id: str, step: Step, unit: str | None, rounding: RoundingPolicy) -> TraceNode:
    detail: dict[str, Any] = {
        "step": step.kind,
        "before": step.before,
        "operand": step.operand,
        "applied": step.applied,
        "reason": step.reason,
    }
    if step.kind == "round":
        detail["rounding"] = rounding.to_json()
    return TraceNode(node_id, "step", step.label, step.after, unit, "step", [], step.span, detail)


def _input_node(node_id: str, record: InputRecord) -> TraceNode:
    detail: dict[str, Any] = {"input": record.kind}
    if record.formula:
        detail["formula"] = record.formula
    if record.interval is not None:
        detail["in_effect"] = record.interval.to_json()
    children: list[TraceNode] = []
    op = "given"
    for key, value in record.detail.items():
        if key == "credits":
            children = [
                TraceNode(f"{node_id}/{i}", "credit", f"deal {deal}", amount, unit_of(record.type), "given", detail={"date": day})
                for i, (deal, amount, day) in enumerate(value)
            ]
            op = "sum" if record.formula and record.formula.startswith("sum") else "info"
            detail["credit_count"] = len(value)
        else:
            detail[key] = value
    return TraceNode(node_id, record.kind, record.name, record.value, unit_of(record.type), op, children, record.span, detail)


def _json_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _json_any(value) for key, value in detail.items()}


def _json_any(value: Any) -> Any:
    kind = type(value)  # the exact common types first; anything else as before
    if kind is str or value is None or kind is bool or kind is int:
        return value
    if kind is Decimal:
        return decimal_str(value)
    if kind is list or kind is tuple:
        return [_json_any(v) for v in value]
    if isinstance(value, dict):
        return _json_detail(value)
    if isinstance(value, list | tuple):
        return [_json_any(v) for v in value]
    return to_json_value(value)


def trace_json(node: TraceNode) -> dict[str, Any]:
    return {"format": TRACE_FORMAT, "trace": node.to_json()}


# ------------------------------------------------------------------ reading a stored trace
_DECIMAL_TEXT = re.compile(r"-?\d+(\.\d+)?")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_TEXT_UNITS = ("text", "payee", "duration")


def trace_from_json(data: Mapping[str, Any]) -> TraceNode:
    """A trace tree read back from its JSON (`TraceNode.to_json`, or `trace_json`'s document):
    decimal strings become `Decimal`s again and dates `date`s, so a stored line can be
    explained exactly as a freshly calculated one."""
    node = data["trace"] if "trace" in data and "kind" not in data else data
    source = node.get("source")
    span = (
        None if source is None else SourceSpan(source["file"], source["line"], source["column"], source["end_line"], source["end_column"])
    )
    return TraceNode(
        node["id"],
        node["kind"],
        node["label"],
        _value_from_json(node.get("value"), node.get("unit")),
        node.get("unit"),
        node["op"],
        [trace_from_json(child) for child in node.get("children", ())],
        span,
        {key: _detail_from_json(value) for key, value in (node.get("detail") or {}).items()},
    )


def _value_from_json(value: Any, unit: str | None) -> Any:
    if not isinstance(value, str) or unit in _TEXT_UNITS:
        return value
    if unit == "date" and _DATE_TEXT.fullmatch(value):
        return date.fromisoformat(value)
    return Decimal(value) if _DECIMAL_TEXT.fullmatch(value) else value


def _detail_from_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _detail_from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_detail_from_json(item) for item in value]
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
        return Decimal(value)
    return value


# ------------------------------------------------------------------ verification
def verify(node: TraceNode) -> list[str]:
    """Every arithmetic claim in the tree, re-checked; returns the nodes that do not add up."""
    problems: list[str] = []
    for current in node.walk():
        with localcontext(DECIMAL_CONTEXT):  # re-check in the engine's arithmetic, not the caller's
            problem = _check(current)
        if problem:
            problems.append(f"{current.id}: {problem}")
    return problems


def _check(node: TraceNode) -> str | None:
    if node.op in ("given", "info"):
        return None
    if node.op == "sum":
        total = sum((c.value for c in node.children), ZERO)
        return None if total == node.value else f"children add up to {total}, not {node.value}"
    if node.op == "product":
        product = Decimal(1)
        for child in node.children:
            product *= child.value
        if node.detail.get("sign", 1) < 0:
            product = -product
        return None if product == node.value else f"children multiply to {product}, not {node.value}"
    if node.op == "chain":
        return _check_chain(node)
    if node.op == "step":
        return _check_step(node)
    return f"unknown op {node.op!r}"


def _check_chain(node: TraceNode) -> str | None:
    members = node.children[: node.detail["chain"]]
    for previous, step in itertools.pairwise(members):
        if step.detail.get("before") != previous.value:
            return f"step {step.id} starts from {step.detail.get('before')}, not {previous.value}"
    if members[-1].value != node.value:
        return f"the last step gives {members[-1].value}, not {node.value}"
    for child in node.children:
        if child.kind == "attribution" and child.value != node.value:
            return f"deal attributions add up to {child.value}, not {node.value}"
    return None


def _check_step(node: TraceNode) -> str | None:
    d = node.detail
    before, operand, applied, kind, after = d["before"], d["operand"], d["applied"], d["step"], node.value
    if kind == "multiplier":
        expected = before * operand if applied else before
    elif kind in ("cap", "floor") and operand is None:
        expected = before
    elif kind in ("cap", "floor"):
        beyond = before > operand if kind == "cap" else before < operand
        if applied != beyond:
            return f"{kind} {operand} {'should not' if applied else 'should'} have applied to {before}"
        expected = operand if applied else before
    elif kind == "gate":
        expected = ZERO if applied else before
    elif kind == "true_up":
        expected = before - operand
    elif kind == "round":
        policy = _policy(d["rounding"])
        if policy.level is RoundingLevel.STATEMENT:  # shared over lines: within one quantum
            return None if abs(after - before) <= policy.quantum else f"statement rounding moved {before} to {after}"
        expected = round_amount(before, policy)
    else:
        return f"unknown step {kind!r}"
    return None if expected == after else f"{kind} step should give {expected}, not {after}"


def _policy(rounding: Mapping[str, Any]) -> RoundingPolicy:
    return RoundingPolicy(RoundingMode[rounding["mode"].upper()], rounding["places"], RoundingLevel(rounding["level"]))
