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

Numbers are read exactly as written (never through binary floating point).  Every case also
re-checks the engine's invariants: each line's trace re-adds, lines add up to the total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from compengine.core.calculation import calculate
from compengine.core.errors import CompengineError
from compengine.core.money import ZERO, decimal_str
from compengine.core.plan import CompiledPlan
from compengine.core.trace import build_line_trace, verify
from compengine.io.csv_data import dataset_from_records
from compengine.lang.diagnostics import has_errors
from compengine.lang.loader import PLAN_SUFFIX, compile_source

TEST_SUFFIX = ".tests.yaml"


class _ExactLoader(yaml.SafeLoader):
    """YAML with decimals kept exact (`0.1` is Decimal("0.1"), not a float) and dates kept as
    written, so an impossible date is reported by the data checks like any other bad cell."""


_ExactLoader.add_constructor(
    "tag:yaml.org,2002:float",
    lambda loader, node: Decimal(str(loader.construct_scalar(node)).replace("_", "")),  # type: ignore[arg-type]
)
_ExactLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: str(loader.construct_scalar(node)))  # type: ignore[arg-type]


@dataclass
class Case:
    file: str
    name: str
    plan_path: str
    spec: Mapping[str, Any]


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
    """The cases of one test file; a file that cannot be read yields one failing case."""
    plan_path = str(path.with_name(path.name.removesuffix(TEST_SUFFIX) + PLAN_SUFFIX))
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_ExactLoader)
    except (OSError, yaml.YAMLError) as error:
        return [Case(str(path), "(file)", plan_path, {"error": f"cannot read the test file: {error}"})]
    if not isinstance(document, dict) or not isinstance(document.get("tests"), list):
        return [Case(str(path), "(file)", plan_path, {"error": "the file must hold `tests:` followed by a list of cases"})]
    if "plan" in document:
        plan_path = str(path.parent / str(document["plan"]))
    cases = []
    for index, spec in enumerate(document["tests"], start=1):
        if not isinstance(spec, dict):
            spec = {"error": f"case {index} is not a mapping of name, period, payees, deals and expect"}
        cases.append(Case(str(path), str(spec.get("name", f"case {index}")), plan_path, spec))
    return cases


def run_plan_tests(paths: list[str]) -> PlanTestReport:
    results = [run_case(case) for path in find_test_files(paths) for case in load_cases(path)]
    return PlanTestReport(results)


def run_case(case: Case, plan: CompiledPlan | None = None) -> CaseResult:
    result = CaseResult(case.file, case.name)
    if "error" in case.spec:
        result.problems.append(str(case.spec["error"]))
        return result
    try:
        plan = plan or _compile(case.plan_path)
        data = dataset_from_records(_tables(case.spec, plan), f"{Path(case.file).name} case {case.name!r}")
        calculated = calculate([plan], data, str(case.spec["period"]))
    except (CompengineError, KeyError, TypeError, ValueError) as error:
        result.problems.append(_describe(error))
        return result
    statements = {s.payee_id: s for s in calculated.statements}
    for payee_id, expected in (case.spec.get("expect") or {}).items():
        statement = statements.get(str(payee_id))
        if statement is None:
            result.problems.append(f"payee {payee_id} has no statement for {case.spec['period']}")
            continue
        result.problems.extend(_compare(str(payee_id), statement, expected))
    for statement in calculated.statements:
        if sum((line.amount for line in statement.lines), ZERO) != statement.total:
            result.problems.append(f"payee {statement.payee_id}: the lines do not add up to the total")
        for line in statement.lines:
            result.problems.extend(f"trace of {line.id}: {p}" for p in verify(build_line_trace(statement, line)))
    return result


def _compile(plan_path: str) -> CompiledPlan:
    path = Path(plan_path)
    if not path.exists():
        raise ValueError(f"there is no plan {plan_path} for these tests")
    source = compile_source(str(path), path.read_text(encoding="utf-8"))
    if has_errors(source.diagnostics) or source.plan is None:
        first = next(d for d in source.diagnostics if d.severity.value == "error")
        raise ValueError(f"the plan does not check: {first.span}: {first.message}")
    return source.plan


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"the case lacks `{error.args[0]}`"
    return str(error)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_str(value)
    return str(value)


def _tables(spec: Mapping[str, Any], plan: CompiledPlan) -> dict[str, list[dict[str, str]]]:
    start = plan.header.effective.start
    payees, assignments, quotas = [], [], []
    for person in spec.get("payees") or []:
        payee_id = _text(person["id"])
        row = {"payee_id": payee_id, "name": _text(person.get("name", payee_id)), "hire_date": _text(person.get("hire_date"))}
        row.update({k: _text(v) for k, v in (person.get("attributes") or {}).items()})
        payees.append(row)
        assignments.append(
            {
                "payee_id": payee_id,
                "plan": plan.id,
                "effective_from": _text(person.get("on_plan_from", start)),
                "effective_until": _text(person.get("on_plan_until")),
                "target_incentive": _text(person.get("target_incentive", 0)),
                "currency": plan.header.currency,
            }
        )
        for quota, by_period in (person.get("quotas") or {}).items():
            for label, amount in by_period.items():
                quotas.append(
                    {
                        "payee_id": payee_id,
                        "quota": _text(quota),
                        "period": _text(label),
                        "amount": _text(amount),
                        "currency": plan.header.currency,
                    }
                )
    deals = []
    for item in spec.get("deals") or []:
        row = {
            "deal_id": _text(item["id"]),
            "owner": _text(item["owner"]),
            "type": _text(item.get("type", "new")),
            "product": _text(item.get("product", "")),
            "amount": _text(item["amount"]),
            "currency": _text(item.get("currency", plan.header.currency)),
            "close_date": _text(item["close_date"]),
            "splits": _text(item.get("splits", "")),
        }
        row.update({k: _text(v) for k, v in item.items() if k not in ("id", *row.keys())})
        deals.append(row)
    return {"payees.csv": payees, "assignments.csv": assignments, "quotas.csv": quotas, "deals.csv": deals}


def _compare(payee_id: str, statement: Any, expected: Mapping[str, Any]) -> list[str]:
    problems = []
    if "total" in expected:
        want = Decimal(_text(expected["total"]))
        if statement.total != want:
            problems.append(f"{payee_id} total: expected {want}, got {statement.total}")
    lines = {line.component.name: line.amount for line in statement.lines}
    for component, amount in (expected.get("lines") or {}).items():
        want = Decimal(_text(amount))
        if component not in lines:
            problems.append(f"{payee_id}: the plan has no component {component!r} (it has {', '.join(lines)})")
        elif lines[component] != want:
            problems.append(f"{payee_id} {component}: expected {want}, got {lines[component]}")
    return problems
