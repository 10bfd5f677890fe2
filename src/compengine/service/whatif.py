"""What-ifs: overlays on a pinned run, and the line-by-line diff they make.

An overlay says "calculate this run again as if ...": as if a deal's credit went to other
payees, as if one of its fields were different, as if a quota, or a plan parameter, had
another value, or as if another published version of a plan had been in force.  It is
applied to copies of the run's inputs — the fact rows as known at its knowledge time and
its compiled plan versions — and never to anything stored.  The overlaid rows are validated
exactly as a load validates them, so an overlay cannot produce data a load would refuse.

Overlays are pydantic models (the API takes them as JSON, see docs/disputes.md):

    {"kind": "credit", "deal": "D-5102", "splits": "P009:70%;P004:30%"}
    {"kind": "credit", "deal": "D-5102", "owner": "P004", "splits": ""}
    {"kind": "deal_field", "deal": "D-5102", "field": "amount", "value": "180000.00"}
    {"kind": "quota", "payee": "P009", "quota": "bookings", "period": "FY2026", "amount": "700000.00"}
    {"kind": "parameter", "name": "new_logo_spiff", "value": "1,200 USD", "plan": "enterprise_ae"}
    {"kind": "plan_version", "published_id": 7}
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from compengine.core.calculation import CalculationResult, hash_json, statement_json
from compengine.core.errors import CompengineError
from compengine.core.evaluation import Line, Statement
from compengine.core.money import ZERO, decimal_str
from compengine.core.plan import CompiledPlan, ParameterDef, TieredReward, component_named, with_parameter
from compengine.core.source import SourceSpan
from compengine.core.trace import TraceNode, build_line_trace, trace_json
from compengine.core.units import Kind
from compengine.core.values import parse_value, to_json_value
from compengine.io.csv_data import DEAL_COLUMNS
from compengine.report.explain import explain_line

Rows = dict[str, list[tuple[int, dict[str, str]]]]  # data file -> [(source row, cells)]

WHAT_IF_FORMAT = "compengine.what_if/1"


class OverlayError(CompengineError):
    """An overlay that cannot be applied: it names something the pinned run does not have, or
    it would make the data invalid.  `field` is where in the request, if known."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------ the overlays
class _Overlay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CreditOverlay(_Overlay):
    """Reassign or split a deal's credit: a new owner, new split partners, or both.  `splits`
    is written as in deals.csv (`P009:70%;P004:30%`); an empty text removes the splits, so the
    whole deal is credited to its owner."""

    kind: Literal["credit"]
    deal: str = Field(min_length=1)
    owner: str | None = Field(default=None, min_length=1)
    splits: str | None = None

    @model_validator(mode="after")
    def _something(self) -> CreditOverlay:
        if self.owner is None and self.splits is None:
            raise ValueError("give the deal's new owner, its new splits (P001:60%;P002:40%), or both")
        return self


class DealFieldOverlay(_Overlay):
    """Correct one field of a deal: amount, currency, close_date, product, type, cancelled_on,
    refunded_amount, invoice_paid_on, or any attribute column (acv, term_months, ...), written
    as in deals.csv.  An empty value empties an optional field."""

    kind: Literal["deal_field"]
    deal: str = Field(min_length=1)
    field: str = Field(min_length=1)
    value: str

    @model_validator(mode="after")
    def _field(self) -> DealFieldOverlay:
        if self.field == "deal_id":
            raise ValueError("a deal's id cannot be overlaid; dispute the deal under its own id")
        if self.field in ("owner", "splits"):
            raise ValueError(f"a deal's {self.field} is changed with a credit overlay: " + '{"kind": "credit", ...}')
        return self


class QuotaOverlay(_Overlay):
    """Override a payee's quota figure for a period label as given in quotas.csv (`FY2026`,
    `2026-Q1`): every figure of that payee, quota and period is replaced by `amount` (or only
    the one from `effective_from`, if given)."""

    kind: Literal["quota"]
    payee: str = Field(min_length=1)
    quota: str = Field(min_length=1)
    period: str = Field(min_length=1)
    amount: str = Field(min_length=1)
    currency: str | None = None  # default: the figure's own currency
    effective_from: str | None = None


class ParameterOverlay(_Overlay):
    """Evaluate as if a plan's parameter had `value` on every date, written as a literal of
    the parameter's type in the plan's unit (`1,200 USD` or `1200` for money, `12%`, `3`)."""

    kind: Literal["parameter"]
    name: str = Field(min_length=1)
    value: str = Field(min_length=1)
    plan: str | None = None  # default: the plan of the disputed line


class PlanVersionOverlay(_Overlay):
    """Evaluate under another published version of one of the run's plans, by its published id."""

    kind: Literal["plan_version"]
    published_id: int = Field(gt=0)


Overlay = Annotated[
    CreditOverlay | DealFieldOverlay | QuotaOverlay | ParameterOverlay | PlanVersionOverlay,
    Field(discriminator="kind"),
]
_OVERLAYS: TypeAdapter[list[Overlay]] = TypeAdapter(list[Overlay])


def parse_overlays(value: Any) -> tuple[Overlay, ...]:
    """Overlays from a model, a JSON object, or a list of either; at least one."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise OverlayError("a what-if needs at least one overlay", "overlays")
    plain = [item.model_dump() if isinstance(item, BaseModel) else item for item in items]
    try:
        return tuple(_OVERLAYS.validate_python(plain))
    except ValidationError as error:
        first = error.errors()[0]
        where = "overlays" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise OverlayError(f"{where}: {message}", where) from None


def overlay_json(overlay: Overlay) -> dict[str, Any]:
    return overlay.model_dump(mode="json", exclude_none=True)


# ------------------------------------------------------------------ applying them
@dataclass(frozen=True)
class PublishedVersion:
    """A published plan version another plan_version overlay asks for."""

    id: int
    plan_id: str
    version: int
    sha256: str
    compiled: list[CompiledPlan]


def apply_overlays(
    overlays: Sequence[Overlay],
    rows: Rows,
    plans: Sequence[CompiledPlan],
    default_plan: str,
    published: Callable[[int], PublishedVersion | None],
) -> tuple[Rows, list[CompiledPlan]]:
    """Copies of `rows` and `plans` with every overlay applied in order (the originals are
    not touched).  `published` finds a published plan version by id."""
    rows = {file: [(number, dict(cells)) for number, cells in found] for file, found in rows.items()}
    plans = list(plans)
    for index, overlay in enumerate(overlays):
        where = f"overlays[{index}]"
        if isinstance(overlay, CreditOverlay):
            cells = _deal_cells(rows, overlay.deal, where)
            if overlay.owner is not None:
                cells["owner"] = overlay.owner
            if overlay.splits is not None:
                cells["splits"] = overlay.splits
        elif isinstance(overlay, DealFieldOverlay):
            cells = _deal_cells(rows, overlay.deal, where)
            if overlay.field not in DEAL_COLUMNS and overlay.field not in cells and not _reads(plans, overlay.field):
                read = sorted({a.name for p in plans for a in p.deal_attributes})
                raise OverlayError(
                    f"{where}.field: deal {overlay.deal} has no field {overlay.field!r} and no plan of the run reads an attribute "
                    f"of that name{did_you_mean(overlay.field, [*DEAL_COLUMNS, *read])}",
                    f"{where}.field",
                )
            cells[overlay.field] = overlay.value
        elif isinstance(overlay, QuotaOverlay):
            _override_quota(rows, overlay, where)
        elif isinstance(overlay, ParameterOverlay):
            plans = _override_parameter(plans, overlay, overlay.plan or default_plan, where)
        else:
            plans = _other_version(plans, overlay, published, where)
    return rows, plans


def _deal_cells(rows: Rows, deal_id: str, where: str) -> dict[str, str]:
    for _, cells in rows.get("deals.csv", []):
        if cells.get("deal_id", "").strip() == deal_id:
            return cells
    known = [cells.get("deal_id", "") for _, cells in rows.get("deals.csv", [])]
    raise OverlayError(
        f"{where}.deal: there was no deal {deal_id!r} when the run was calculated{did_you_mean(deal_id, known)}", f"{where}.deal"
    )


def _reads(plans: Sequence[CompiledPlan], attribute: str) -> bool:
    return any(a.name == attribute for plan in plans for a in plan.deal_attributes)


def _override_quota(rows: Rows, overlay: QuotaOverlay, where: str) -> None:
    quotas = rows.setdefault("quotas.csv", [])

    def matches(cells: Mapping[str, str]) -> bool:
        same = (cells.get("payee_id", "").strip(), cells.get("quota", "").strip(), cells.get("period", "").strip()) == (
            overlay.payee,
            overlay.quota,
            overlay.period,
        )
        return same and (overlay.effective_from is None or cells.get("effective_from", "").strip() == overlay.effective_from)

    replaced = [(number, cells) for number, cells in quotas if matches(cells)]
    currency = overlay.currency or (replaced[0][1].get("currency", "").strip() if replaced else "")
    if not currency:
        held = sorted({f"{c.get('quota')} {c.get('period')}" for _, c in quotas if c.get("payee_id", "").strip() == overlay.payee})
        raise OverlayError(
            f"{where}: payee {overlay.payee} has no {overlay.quota!r} quota for {overlay.period}"
            + (f" (they have: {', '.join(held)})" if held else "")
            + "; to add one, give its currency",
            f"{where}.quota",
        )
    number = replaced[0][0] if replaced else 0
    quotas[:] = [(n, cells) for n, cells in quotas if not matches(cells)]
    figure = {"payee_id": overlay.payee, "quota": overlay.quota, "period": overlay.period, "amount": overlay.amount, "currency": currency}
    figure["effective_from"] = overlay.effective_from or ""
    quotas.append((number, figure))


def _override_parameter(plans: list[CompiledPlan], overlay: ParameterOverlay, plan_id: str, where: str) -> list[CompiledPlan]:
    versions = [p for p in plans if p.id == plan_id]
    if not versions:
        ids = sorted({p.id for p in plans})
        raise OverlayError(f"{where}.plan: the run used no plan {plan_id!r}{did_you_mean(plan_id, ids)}", f"{where}.plan")
    defining = [p for p in versions if isinstance(p.definitions.get(overlay.name), ParameterDef)]
    if not defining:
        names = sorted({n for p in versions for n, d in p.definitions.items() if isinstance(d, ParameterDef)})
        listed = f" (its parameters: {', '.join(names)})" if names else " (it has none)"
        raise OverlayError(
            f"{where}.name: plan {plan_id} has no parameter {overlay.name!r}{did_you_mean(overlay.name, names)}{listed}", f"{where}.name"
        )
    definition = defining[0].definitions[overlay.name]
    assert isinstance(definition, ParameterDef)
    value = _parameter_value(overlay.value, definition, where)
    return [with_parameter(p, overlay.name, value) if p in defining else p for p in plans]


_WITH_CURRENCY = re.compile(r"(.*?)\s*\b([A-Z]{3})")


def _parameter_value(text: str, definition: ParameterDef, where: str) -> Any:
    type_ = definition.type
    if type_.kind is Kind.MONEY:
        found = _WITH_CURRENCY.fullmatch(text)
        if found:
            if found.group(2) != type_.currency:
                raise OverlayError(
                    f"{where}.value: parameter {definition.name} is in {type_.currency}, not {found.group(2)}", f"{where}.value"
                )
            text = found.group(1)
    try:
        return parse_value(text, type_)
    except ValueError as error:
        raise OverlayError(f"{where}.value: {error} (parameter {definition.name} is a {type_})", f"{where}.value") from None


def _other_version(
    plans: list[CompiledPlan], overlay: PlanVersionOverlay, published: Callable[[int], PublishedVersion | None], where: str
) -> list[CompiledPlan]:
    found = published(overlay.published_id)
    if found is None:
        raise OverlayError(f"{where}.published_id: no plan version was published with id {overlay.published_id}", f"{where}.published_id")
    if not any(p.id == found.plan_id for p in plans):
        raise OverlayError(
            f"{where}.published_id: published version {found.id} is of plan {found.plan_id}, which the run did not use",
            f"{where}.published_id",
        )
    return [p for p in plans if p.id != found.plan_id] + found.compiled


def did_you_mean(name: str, candidates: Sequence[str], cutoff: float = 0.6) -> str:
    """` (did you mean 'x'?)` for the candidate closest to a misspelt `name`, or nothing."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ------------------------------------------------------------------ the diff
@dataclass(frozen=True)
class _Side:
    statement: Statement
    line: Line
    trace: TraceNode


def _lines_of(result: CalculationResult) -> dict[str, _Side]:
    return {line.id: _Side(s, line, build_line_trace(s, line)) for s in result.statements for line in s.lines}


def result_hashes(result: CalculationResult) -> dict[str, str]:
    """The what-if's result hash (as `compengine calc` computes it) and the hash of its traces."""
    traces = [hash_json(trace_json(side.trace)) for side in _lines_of(result).values()]
    return {"result_sha256": hash_json([statement_json(s) for s in result.statements]), "trace_sha256": hash_json(traces)}


def diff(original: CalculationResult, what_if: CalculationResult, payee_id: str, recorded: Mapping[str, Decimal]) -> list[dict[str, Any]]:
    """Line by line: every line of `payee_id`, and every other line whose amount or trace the
    overlay changes (split partners, managers rolling the deal up).  `recorded` holds the
    amounts sealed in the run, beside the `original` recomputed from its record."""
    before, after = _lines_of(original), _lines_of(what_if)
    found = []
    for line_id in sorted(set(before) | set(after)):
        old, new = before.get(line_id), after.get(line_id)
        side = new or old
        assert side is not None
        old_json = trace_json(old.trace) if old else None
        new_json = trace_json(new.trace) if new else None
        if side.statement.payee_id != payee_id and old_json == new_json:
            continue
        old_amount = old.line.amount if old else ZERO
        new_amount = new.line.amount if new else ZERO
        found.append(
            {
                "line": line_id,
                "payee": side.statement.payee_id,
                "plan": side.statement.plan.id,
                "plan_version": side.statement.plan.version,
                "component": side.line.component.name,
                "currency": side.statement.currency,
                "recorded": decimal_str(recorded[line_id]) if line_id in recorded else None,
                "original": decimal_str(old.line.amount) if old else None,
                "what_if": decimal_str(new.line.amount) if new else None,
                "difference": decimal_str(new_amount - old_amount),
                "difference_by_deal": _by_deal(old.line if old else None, new.line if new else None),
                "explanation": {
                    "original": explain_line(old.trace) if old else None,
                    "what_if": explain_line(new.trace) if new else None,
                },
                "clauses": responsible_clauses(old.trace if old else None, new.trace if new else None, side.statement.plan),
            }
        )
    return found


def _by_deal(old: Line | None, new: Line | None) -> list[list[str]]:
    totals: dict[str, Decimal] = {}
    for line, sign in ((old, -1), (new, 1)):
        for part in line.attribution if line else ():
            deal = part.deal_id or "-"
            totals[deal] = totals.get(deal, ZERO) + sign * part.amount
    return [[deal, decimal_str(amount)] for deal, amount in sorted(totals.items()) if amount != 0]


def responsible_clauses(old: TraceNode | None, new: TraceNode | None, plan: CompiledPlan | None = None) -> list[dict[str, Any]]:
    """The trace nodes of a line whose values differ between the original and the what-if and
    that come from a clause of the plan, each with its source location (`file:line:col`):
    the line's component itself; a credit whose share or credited amount differs (at its
    credit rule); a reward that differs (at the component's tiers or rate); a step — a
    multiplier, cap, floor, gate, true-up or rounding — that applies on either side (one that
    applies on neither only passes the value on); and the values used (quotas, parameters,
    measures, tables, earnings of reports).  A node met on one side only counts as differing.
    `plan` (the what-if's plan of the line) places credits and per-credit rewards, whose
    trace nodes carry no source of their own."""
    before, after = _nodes(old), _nodes(new)
    found = []
    for key in [*before, *(k for k in after if k not in before)]:
        a, b = before.get(key), after.get(key)
        node = b or a
        assert node is not None
        value_a = to_json_value(a.value) if a else None
        value_b = to_json_value(b.value) if b else None
        extra: dict[str, Any] = {}
        if node.kind == "credit" and "credit" in node.detail:
            changed = {name: [_detail(a, name), _detail(b, name)] for name in ("share", "credited") if _detail(a, name) != _detail(b, name)}
            if not changed:
                continue  # the same credit: what differs about it is explained by its reward and steps
            extra = {"credit": changed}
            source = _credit_rule_span(plan, str(node.detail["credit"]))
        elif value_a == value_b or (node.kind == "step" and not (a and a.detail.get("applied")) and not (b and b.detail.get("applied"))):
            continue
        elif node.source is None and node.kind == "reward" and plan is not None:
            source = _reward_span(plan, str((new or old).detail.get("component")))  # type: ignore[union-attr]
        else:
            source = (b.source if b else None) or (a.source if a else None)
        if source is None:
            continue
        found.append(
            {
                "node": node.id,
                "kind": node.kind,
                "name": node.label,
                "source": str(source),
                "original": value_a,
                "what_if": value_b,
                **extra,
            }
        )
    return found


def _detail(node: TraceNode | None, name: str) -> Any:
    return None if node is None else to_json_value(node.detail.get(name))


def _credit_rule_span(plan: CompiledPlan | None, credit_id: str) -> SourceSpan | None:
    rule = plan.credits.get(credit_id.split("/", 1)[0]) if plan is not None else None
    return rule.span if rule is not None else None


def _reward_span(plan: CompiledPlan, component_name: str) -> SourceSpan | None:
    component = component_named(plan, component_name)
    if component is None:
        return None
    return component.reward.span if isinstance(component.reward, TieredReward) else component.span


def _nodes(root: TraceNode | None) -> dict[str, TraceNode]:
    """Nodes by a key stable across the two traces: the node id, except that the values used
    are keyed by what they are (their kind and name), not by their position in the list."""
    found: dict[str, TraceNode] = {}

    def visit(node: TraceNode, key: str) -> None:
        found[key] = node
        for child in node.children:
            by_name = "#input:" in child.id or "/input:" in child.id
            visit(child, f"{key}>{child.kind}:{child.label}" if by_name else child.id)

    if root is not None:
        visit(root, root.id)
    return found
