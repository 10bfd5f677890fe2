"""A line's trace as text an arbitrator can read aloud in a dispute meeting.

Every number shown comes from the trace tree (`core.trace`); this module only arranges it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from compengine.core.money import group_digits, percent_text
from compengine.core.trace import TraceNode
from compengine.core.values import money_digits


def money_text(value: Any, unit: str | None = None) -> str:
    if not isinstance(value, Decimal):
        return str(value)
    text = money_digits(value)
    return f"{text} {unit}" if unit else text


def value_text(value: Any, unit: str | None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        if unit in ("percent", "ratio"):
            return percent_text(value, 4)
        if unit in ("number", "count"):
            return group_digits(value.normalize()) if value == value.to_integral_value() else str(value.normalize())
        return money_text(value, unit)
    if value is None:
        return ""
    return str(value.isoformat() if hasattr(value, "isoformat") else value)


def explain_line(node: TraceNode) -> str:
    d = node.detail
    unit = node.unit
    where = f"{node.source}" if node.source else ""
    cites = f" ({d['cites']})" if d.get("cites") else ""
    lines = [
        f"{d['payee_name']} ({d['payee']}) · {d['period']} · {node.label}   {money_text(node.value, unit)}   {where}{cites}",
        f"  {d['formula']}   [plan {d['plan']} v{d['plan_version']}]",
    ]
    if d.get("coverage"):
        lines.append(f"  {d['coverage']}" + ("" if "for all of" in d["coverage"] else ": quotas and targets are prorated"))
    body: list[str] = []
    chain = node.children[: d["chain"]]
    start = chain[0]
    if start.kind == "credits":
        if not start.children:
            body.append("no qualifying credits this period")
        for credit in start.children:
            body.extend(_credit_lines(credit, unit))
    else:
        body.extend(_reward_lines(start, unit))
    for step in chain[1:]:
        body.append(_step_text(step, unit))
    for child in node.children[d["chain"] :]:
        if child.kind == "attribution" and child.children:
            parts = [f"{c.label} {money_text(c.value)}" for c in child.children]
            body.append("by deal: " + " · ".join(parts))
        elif child.kind == "inputs" and child.children:
            body.append("\n".join(["values used:"] + [f"  {_input_text(c)}" for c in child.children]))
    lines.extend(_tree(body))
    return "\n".join(lines)


def _tree(items: list[str]) -> list[str]:
    out = []
    for index, item in enumerate(items):
        last = index == len(items) - 1
        first, *rest = item.split("\n")
        out.append(("  └─ " if last else "  ├─ ") + first)
        out.extend(("       " if last else "  │    ") + r for r in rest)
    return out


def _credit_lines(credit: TraceNode, unit: str | None) -> list[str]:
    d = credit.detail
    share = percent_text(d["share"])
    credited = money_text(d["credited"])
    converted = d.get("converted")
    whole = money_text(d["deal_amount"]) + (f" {converted['from']}" if converted else "")
    of = f" of {whole}" if d["share"] != 1 else f" ({whole})" if converted else ""
    head = f"deal {d['deal']} · {credited} credited {share}{of} ({_paths_text(d)}) · {d['date']}   → {money_text(credit.value, unit)}"
    parts = [head]
    if d.get("converted"):
        fx = d["converted"]
        rate = f"{fx['rate']} {fx['to']} per {fx['from']}"
        parts.append(f"  amounts converted from {fx['from']} at {rate} ({fx['rate_type']} rate on {fx['date']})")
    if d.get("plan_version") is not None:
        parts.append(f"  paid under plan version {d['plan_version']}, in force on the credit date")
    chain = credit.children[: d["chain"]]
    parts.extend("  " + line for line in _reward_lines(chain[0], unit))
    parts.extend("  " + _step_text(step, unit) for step in chain[1:])
    for child in credit.children[d["chain"] :]:
        if child.kind == "inputs":
            parts.extend("  " + _input_text(c) for c in child.children)
    return ["\n".join(parts)]


def _paths_text(detail: dict[str, Any]) -> str:
    paths = detail.get("paths") or []
    if len(paths) <= 1:
        return str(detail["role"])
    shown = " + ".join(f"{p['path']} {percent_text(p['share'])}" for p in paths)
    capped = " counted once" if sum((p["share"] for p in paths), Decimal(0)) != detail["share"] else ""
    return f"{shown}{capped}"


def _reward_lines(reward: TraceNode, unit: str | None) -> list[str]:
    d = reward.detail
    lines = []
    position = d.get("position")
    if position:
        before, after = position
        quota = d.get("quota")
        if "running total" not in d["formula"]:
            text = f"on {money_text(after)}"
            if quota:
                text += f" (attainment {percent_text(after / quota)} of {money_text(quota)})"
        else:
            text = f"running total {money_text(before)} → {money_text(after)}"
            if quota:
                text += f" (attainment {percent_text(before / quota)} → {percent_text(after / quota)} of {money_text(quota)})"
        lines.append(text)
    if not reward.children:
        lines.append(f"{d['formula']} = {money_text(reward.value, unit)}")
    for term in reward.children:
        amount, rate = term.children
        sign = "− " if term.detail.get("sign", 1) < 0 else ""
        lines.append(f"{sign}{term.label}: {money_text(amount.value)} × {percent_text(rate.value, 4)} = {money_text(abs(term.value))}")
    return lines


def _step_text(step: TraceNode, unit: str | None) -> str:
    d = step.detail
    if d["applied"] and step.value != d["before"]:
        outcome = f"{money_text(d['before'])} → {money_text(step.value, unit)}"
        return f"{step.label}: {d['reason']} ({outcome})"
    return f"{step.label}: {d['reason']}"


def _input_text(node: TraceNode) -> str:
    d = node.detail
    name = node.label
    if d.get("input") == "quota":
        name = f"{node.label} {d.get('formula', '')}".strip()
    elif d.get("input") == "curve":
        name = f"{node.label}({value_text(d.get('at'), 'ratio')})"
    text = f"{name} = {value_text(node.value, node.unit)}"
    if d.get("formula") and d.get("input") in ("let", "measure", "table"):
        text += f"   ({d['formula']})"
    if d.get("in_effect"):
        effect = d["in_effect"]
        span = f"from {effect['from']}" if effect.get("from") else "always"
        if effect.get("until"):
            span += f" until {effect['until']}"
        text += f"   [in effect {span}]"
    if d.get("input") == "table":
        text += f"   [row {d.get('matched')}]"
    text += _input_detail(d)
    if d.get("credit_count") is not None:
        text += f"   [{d['credit_count']} credit{'s' if d['credit_count'] != 1 else ''}]"
    if node.source:
        text += f"   {node.source}"
    return text


def _input_detail(d: dict[str, Any]) -> str:
    """What a rule, decision table or earnings measure looked at, in one line."""
    kind = d.get("input")
    if kind == "rule":
        considered = []
        for name, condition, applies, overridden in d.get("considered", ()):
            state = "overridden" if overridden else ("applies" if applies else "does not apply")
            considered.append(f"{name} {state}" + (f" ({condition})" if condition else ""))
        return f"   [set by rule {d['rule']}; considered: {'; '.join(considered)}]"
    if kind == "decision":
        tested = ", ".join(f"{text} = {value_text(value, None)}" for text, value in d.get("inputs", ()))
        matched = ", ".join(f"line {line}" for line in d.get("matched", ())) or "none"
        used = ", ".join(str(u) if u == "otherwise" else f"line {u}" for u in d.get("used", ()))
        return f"   [tested {tested}; rows matched: {matched}; used: {used}]"
    if kind == "earnings":
        lines = [f"{payee} {component} {money_text(amount)}" for payee, _plan, component, amount in d.get("lines", ())]
        return f"   [{'; '.join(lines) or 'no lines'}]"
    if kind == "input":
        return f"   [from {d.get('source')}]"
    return ""
