"""Helpers for writing tests as specifications: a plan text, a few rows of data, amounts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from compengine.core.calculation import CalculationResult, calculate
from compengine.core.data import Assignment, Dataset, Deal, Payee, QuotaFigure, RowRef, SplitShare
from compengine.core.plan import CompiledPlan
from compengine.lang.diagnostics import Diagnostic, has_errors
from compengine.lang.loader import compile_source

REPO = Path(__file__).resolve().parents[1]
PLANS_DIR = REPO / "plans"
COMPANY_DIR = REPO / "fixtures" / "company"

HEADER = """plan test_plan "Test plan"
  version 1
  effective 2026-01-01 until 2027-01-01
  currency USD
  calculated quarterly
  fiscal year starts january
  rounding half up to 2 places per component
"""

#: The simplest credit rule: each deal's owner is credited with its amount on its close date.
OWNER_BOOKINGS = """
credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date
"""


def diagnostics(text: str, path: str = "test.comp") -> list[Diagnostic]:
    return compile_source(path, text).diagnostics


def compile_text(text: str, path: str = "test.comp") -> CompiledPlan:
    """Compile plan text, failing the test with the rendered diagnostics if it has errors."""
    source = compile_source(path, text)
    if has_errors(source.diagnostics) or source.plan is None:
        rendered = "\n".join(d.render(text) for d in source.diagnostics)
        raise AssertionError(f"the plan does not compile:\n{rendered}")
    return source.plan


def d(text: str) -> date:
    return date.fromisoformat(text)


def money(text: str | int) -> Decimal:
    return Decimal(str(text))


def payee(payee_id: str, name: str | None = None, **attributes: str) -> Payee:
    return Payee(payee_id, name or payee_id, d("2020-01-01"), None, attributes, RowRef("payees.csv", 0))


def deal(
    deal_id: str,
    owner: str,
    amount: str | int,
    close: str,
    type: str = "new",
    product: str = "software",
    currency: str = "USD",
    splits: Mapping[str, str] | None = None,
    **attributes: str,
) -> Deal:
    """A deal; `splits` maps payee id to a percentage string such as "60"."""
    shares = tuple(SplitShare(p, Decimal(s) / 100) for p, s in (splits or {}).items())
    return Deal(deal_id, owner, type, product, money(amount), currency, d(close), shares, attributes, RowRef("deals.csv", 0))


def dataset(
    payees: Iterable[Payee],
    deals: Iterable[Deal] = (),
    plan: str = "test_plan",
    target_incentive: str | int = 100_000,
    quotas: Mapping[tuple[str, str, str], str | int] | None = None,
    assignments: Iterable[Assignment] | None = None,
) -> Dataset:
    """A dataset where every payee is on `plan` all year unless `assignments` says otherwise.

    `quotas` maps (payee, quota name, period label) to an amount in USD.
    """
    people = {p.id: p for p in payees}
    if assignments is None:
        assignments = [Assignment(p, plan, d("2026-01-01"), None, money(target_incentive), "USD") for p in people]
    figures = [QuotaFigure(p, name, label, money(amount), "USD") for (p, name, label), amount in (quotas or {}).items()]
    return Dataset(people, tuple(deals), tuple(assignments), tuple(figures))


def calc(plan: CompiledPlan | str, data: Dataset, period: str, **kwargs: Any) -> CalculationResult:
    compiled = compile_text(plan) if isinstance(plan, str) else plan
    return calculate([compiled], data, period, **kwargs)


def line_amounts(result: CalculationResult, payee_id: str) -> dict[str, Decimal]:
    statement = result.statement(payee_id)
    return {line.component.name: line.amount for line in statement.lines}
