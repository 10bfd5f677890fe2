"""Plan tests: cases a comp admin writes next to a plan, in YAML, and runs with `compengine test`.

`plans/enterprise_ae.tests.yaml` holds cases for `plans/enterprise_ae.comp`:

    tests:
      - name: a deal crossing 50% of quota is paid at two rates
        period: 2026-Q1
        payees:
          - id: P1
            target_incentive: 100000
            quotas: {bookings: {FY2026: 400000}}
        deals:
          - {id: D1, owner: P1, amount: 300000, close_date: 2026-02-10, acv: 300000}
        expect:
          P1:
            total: 16000.00
            lines: {new_business: 16000.00}

Besides `payees` and `deals`, a case may give `reporting_lines` ({payee, manager, from,
until}), `exchange_rates` ({from, to, type, since, rate}) and `inputs` ({payee, input, period,
value}): the rows of reporting_lines.csv, exchange_rates.csv and inputs.csv.  A payee with
`on_plan: false` is in the data (a deal owner, someone's report) but not on the plan.

The shape of a file is checked by the pydantic models below, so a misspelt key or a missing
field is reported by its path ("payees 1 → id: field required") rather than failing late.
Numbers are read exactly as written (never through binary floating point).  Every case also
re-checks the engine's invariants: each line's trace re-adds, lines add up to the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compengine.core.calculation import calculate
from compengine.core.errors import CompengineError
from compengine.core.evaluation import Statement
from compengine.core.money import ZERO, decimal_str
from compengine.core.plan import CompiledPlan, EarningsDef
from compengine.core.trace import build_line_trace, verify
from compengine.io.csv_data import dataset_from_records
from compengine.lang.diagnostics import Severity, has_errors
from compengine.lang.loader import PLAN_SUFFIX, compile_source, load_plans

TEST_SUFFIX = ".tests.yaml"


class _ExactLoader(yaml.SafeLoader):
    """YAML with decimals kept exact (`0.1` is Decimal("0.1"), not a float) and dates kept as
    written, so an impossible date is reported by the data checks like any other bad cell."""


_ExactLoader.add_constructor(
    "tag:yaml.org,2002:float",
    lambda loader, node: Decimal(str(loader.construct_scalar(node)).replace("_", "")),  # type: ignore[arg-type]
)
_ExactLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: str(loader.construct_scalar(node)))  # type: ignore[arg-type]

Cell = str | Decimal | int | bool | None


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


class PayeeCase(_Schema):
    """A payee on the plan under test, with what the assignment and quota files would say.
    `on_plan: false` gives a payee who is only in the data (a deal's owner, someone's report)."""

    id: str
    name: str | None = None
    hire_date: str | None = None
    target_incentive: Decimal = ZERO
    on_plan: bool = True
    on_plan_from: str | None = None
    on_plan_until: str | None = None
    quotas: dict[str, dict[str, Decimal]] = {}
    attributes: dict[str, Cell] = {}


class DealCase(_Schema):
    """A deal; keys beyond the built-in columns are the deal's attributes."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, frozen=True)
    id: str
    owner: str
    type: str = "new"
    product: str = ""
    amount: Decimal
    currency: str | None = None
    close_date: str
    splits: str = ""


class ReportingLineCase(_Schema):
    """A row of reporting_lines.csv: `payee` reports to `manager` from `from` (default: the
    plan's start) until `until` (the first day they no longer do; default: open-ended)."""

    payee: str
    manager: str
    from_: str | None = Field(default=None, alias="from")
    until: str | None = None


class ExchangeRateCase(_Schema):
    """A row of exchange_rates.csv: 1 `from` = `rate` `to` (default: the plan's currency) at
    rates of `type`, from `since` until the next rate of the same pair and type."""

    from_: str = Field(alias="from")
    to: str | None = None
    type: str
    since: str
    rate: Decimal


class InputCase(_Schema):
    """A row of inputs.csv: a payee's value of a plan input for a period (default: the case's)."""

    payee: str
    input: str
    period: str | None = None
    value: str | Decimal | int | bool


class Expectation(_Schema):
    total: Decimal | None = None
    lines: dict[str, Decimal] = {}


class CaseSpec(_Schema):
    name: str
    period: str
    payees: list[PayeeCase] = []
    deals: list[DealCase] = []
    reporting_lines: list[ReportingLineCase] = []
    exchange_rates: list[ExchangeRateCase] = []
    inputs: list[InputCase] = []
    expect: dict[str, Expectation] = {}


@dataclass
class Case:
    file: str
    name: str
    plan_path: str
    spec: CaseSpec | None
    error: str | None = None


@dataclass
class CaseResult:
    file: str
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class PlanTestReport:
    cases: list[CaseResult]


def find_test_files(paths: list[str]) -> list[Path]:
    """Test files named directly, next to named plans, or found under folders."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{TEST_SUFFIX}")))
        elif path.name.endswith(TEST_SUFFIX):
            found.append(path)
        elif path.suffix == PLAN_SUFFIX:
            sibling = path.with_name(path.stem + TEST_SUFFIX)
            if sibling.exists():
                found.append(sibling)
    return found


def load_cases(path: Path) -> list[Case]:
    """The cases of one test file; a case (or file) that cannot be read is a failing case."""
    plan_path = str(path.with_name(path.name.removesuffix(TEST_SUFFIX) + PLAN_SUFFIX))
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_ExactLoader)
    except (OSError, yaml.YAMLError) as error:
        return [Case(str(path), "(file)", plan_path, None, f"cannot read the test file: {error}")]
    if not isinstance(document, dict) or not isinstance(document.get("tests"), list) or set(document) - {"tests", "plan"}:
        return [Case(str(path), "(file)", plan_path, None, "the file must hold `tests:` (a list of cases) and optionally `plan:`")]
    if "plan" in document:
        plan_path = str(path.parent / str(document["plan"]))
    return [_case(str(path), plan_path, index, raw) for index, raw in enumerate(document["tests"], start=1)]


def _case(file: str, plan_path: str, index: int, raw: object) -> Case:
    name = str(raw.get("name", f"case {index}")) if isinstance(raw, dict) else f"case {index}"
    try:
        return Case(file, name, plan_path, CaseSpec.model_validate(raw))
    except ValidationError as error:
        return Case(file, name, plan_path, None, "; ".join(_schema_problems(error)))


def _schema_problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        path = " → ".join(str(p + 1) if isinstance(p, int) else str(p) for p in item["loc"])
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"].lower()
        problems.append(f"{path}: {message}" if path else message)
    return problems


def run_plan_tests(paths: list[str]) -> PlanTestReport:
    results = [run_case(case) for path in find_test_files(paths) for case in load_cases(path)]
    return PlanTestReport(results)


def run_case(case: Case, plan: CompiledPlan | Sequence[CompiledPlan] | None = None) -> CaseResult:
    """Run one case against the plan at `case.plan_path` (or `plan`: one version, or every
    version of a plan with revisions, base first)."""
    result = CaseResult(case.file, case.name)
    if case.spec is None:
        result.problems.append(case.error or "the case cannot be read")
        return result
    spec = case.spec
    try:
        versions = _compile(case.plan_path) if plan is None else [plan] if isinstance(plan, CompiledPlan) else list(plan)
        data = dataset_from_records(_tables(spec, versions[0]), f"{Path(case.file).name} case {case.name!r}")
        calculated = calculate(versions, data, spec.period)
    except (CompengineError, ValueError) as error:
        result.problems.append(str(error))
        return result
    statements = {s.payee_id: s for s in calculated.statements}
    for payee_id, expected in spec.expect.items():
        statement = statements.get(payee_id)
        if statement is None:
            result.problems.append(f"payee {payee_id} has no statement for {spec.period}")
            continue
        result.problems.extend(_compare(payee_id, statement, expected))
    result.problems.extend(_invariant_problems(calculated.statements))
    return result


def _invariant_problems(statements: Iterable[Statement]) -> list[str]:
    problems = []
    for statement in statements:
        if sum((line.amount for line in statement.lines), ZERO) != statement.total:
            problems.append(f"payee {statement.payee_id}: the lines do not add up to the total")
        for line in statement.lines:
            problems.extend(f"trace of {line.id}: {p}" for p in verify(build_line_trace(statement, line)))
    return problems


def _compile(plan_path: str) -> list[CompiledPlan]:
    """Every version of the plan (a plan with revisions has several), base first; then every
    version of the plans in the same folder that its `earnings of ... from plan <id>` names
    (nobody in a case is on them, but they must be known to be counted)."""
    path = Path(plan_path)
    if not path.exists():
        raise ValueError(f"there is no plan {plan_path} for these tests")
    source = compile_source(str(path), path.read_text(encoding="utf-8"))
    if has_errors(source.diagnostics) or source.plan is None:
        first = next(d for d in source.diagnostics if d.severity is Severity.ERROR)
        raise ValueError(f"the plan does not check: {first.span}: {first.message}")
    definitions = [d for version in source.versions for d in version.definitions.values()]
    named = {d.plan for d in definitions if isinstance(d, EarningsDef) and d.plan not in (None, source.plan.id)}
    others = [plan for plan in load_plans([str(path.parent)]).plans if plan.id in named] if named else []
    return [*source.versions, *others]


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_str(value)
    return str(value)


def _tables(spec: CaseSpec, plan: CompiledPlan) -> dict[str, list[dict[str, str]]]:
    """The case as the rows of a data folder, so it is validated exactly like CSV files."""
    start = plan.header.effective.start
    currency = plan.header.currency
    payees, assignments, quotas = [], [], []
    for person in spec.payees:
        row = {"payee_id": person.id, "name": person.name or person.id, "hire_date": _text(person.hire_date)}
        row.update({key: _text(value) for key, value in person.attributes.items()})
        payees.append(row)
        if not person.on_plan:
            continue
        assignments.append(
            {
                "payee_id": person.id,
                "plan": plan.id,
                "effective_from": person.on_plan_from or (start.isoformat() if start else ""),
                "effective_until": _text(person.on_plan_until),
                "target_incentive": _text(person.target_incentive),
                "currency": currency,
            }
        )
        for quota, by_period in person.quotas.items():
            for label, amount in by_period.items():
                quotas.append({"payee_id": person.id, "quota": quota, "period": label, "amount": _text(amount), "currency": currency})
    deals = []
    for item in spec.deals:
        row = {
            "deal_id": item.id,
            "owner": item.owner,
            "type": item.type,
            "product": item.product,
            "amount": _text(item.amount),
            "currency": item.currency or currency,
            "close_date": item.close_date,
            "splits": item.splits,
        }
        row.update({key: _text(value) for key, value in (item.model_extra or {}).items()})
        deals.append(row)
    lines = [
        {
            "payee_id": line.payee,
            "manager_id": line.manager,
            "effective_from": line.from_ or (start.isoformat() if start else ""),
            "effective_until": _text(line.until),
        }
        for line in spec.reporting_lines
    ]
    rates = [
        {
            "from_currency": rate.from_,
            "to_currency": rate.to or currency,
            "rate_type": rate.type,
            "effective_from": rate.since,
            "rate": _text(rate.rate),
        }
        for rate in spec.exchange_rates
    ]
    inputs = [
        {"payee_id": item.payee, "input": item.input, "period": item.period or spec.period, "value": _text(item.value)}
        for item in spec.inputs
    ]
    return {
        "payees.csv": payees,
        "assignments.csv": assignments,
        "quotas.csv": quotas,
        "deals.csv": deals,
        "reporting_lines.csv": lines,
        "exchange_rates.csv": rates,
        "inputs.csv": inputs,
    }


def _compare(payee_id: str, statement: Statement, expected: Expectation) -> list[str]:
    problems = []
    if expected.total is not None and statement.total != expected.total:
        problems.append(f"{payee_id} total: expected {expected.total}, got {statement.total}")
    lines = {line.component.name: line.amount for line in statement.lines}
    for component, want in expected.lines.items():
        if component not in lines:
            problems.append(f"{payee_id}: the plan has no component {component!r} (it has {', '.join(lines)})")
        elif lines[component] != want:
            problems.append(f"{payee_id} {component}: expected {want}, got {lines[component]}")
    return problems
