"""The credit stage: which deals count, who is credited, for how much, on which date."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from compengine.core.data import Deal
from compengine.core.errors import EvaluationError
from compengine.core.money import ONE
from compengine.core.plan import CompiledPlan, CreditRule, RecipientKind
from compengine.core.scope import DealScope


@dataclass(frozen=True, slots=True)
class Credit:
    """A payee's credit for a deal under one credit rule."""

    id: str
    rule: str
    deal: Deal
    payee_id: str
    share: Decimal
    role: str
    amount: Decimal
    date: dt.date
    attrs: Mapping[str, Any]

    def sort_key(self) -> tuple[dt.date, str, str]:
        return (self.date, self.deal.id, self.id)


def _shares(rule: CreditRule, deal: Deal, attrs: Mapping[str, Any]) -> list[tuple[str, Decimal, str]]:
    """(payee id, share, role) for each recipient of `deal` under `rule`."""
    shares: list[tuple[str, Decimal, str]] = []
    for recipient in rule.recipients:
        if recipient.kind is RecipientKind.SPLITS:
            if deal.splits:
                shares.extend((s.payee_id, s.share, "split") for s in deal.splits)
            else:
                shares.append((deal.owner, ONE, "owner"))
        elif recipient.kind is RecipientKind.OWNER:
            shares.append((deal.owner, recipient.share or ONE, "owner"))
        else:
            payee_id = attrs.get(recipient.field or "")
            if payee_id:
                shares.append((str(payee_id), recipient.share or ONE, f"deal.{recipient.field}"))
    return shares


def credit_deals(plan: CompiledPlan, deals: Iterable[Deal], attrs_of: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Credit]]:
    """Apply every credit rule of `plan` to `deals`; credits grouped by payee, in date order."""
    by_payee: dict[str, list[Credit]] = defaultdict(list)
    for rule in plan.credits.values():
        for deal in deals:
            for credit in _credit_deal(plan, rule, deal, attrs_of[deal.id]):
                by_payee[credit.payee_id].append(credit)
    for credits in by_payee.values():
        credits.sort(key=Credit.sort_key)
    return dict(by_payee)


def _credit_deal(plan: CompiledPlan, rule: CreditRule, deal: Deal, attrs: Mapping[str, Any]) -> list[Credit]:
    scope = DealScope(plan, deal, attrs, deal.close_date)
    credit_date = rule.date(scope)
    if not plan.in_effect(credit_date):
        return []  # a plan only credits deals dated while it is in effect
    scope = DealScope(plan, deal, attrs, credit_date)
    if rule.filter is not None and not rule.filter(scope):
        return []
    if deal.currency != plan.header.currency:
        raise EvaluationError(
            f"deal {deal.id} ({deal.ref or 'deals'}) is in {deal.currency} but plan {plan.id} calculates in {plan.header.currency}",
            span=rule.span,
            hint="currency conversion is not available yet; exclude the deal with a `where` filter",
        )
    full = rule.amount(scope)
    return [
        Credit(f"{rule.name}/{deal.id}/{payee_id}/{role}", rule.name, deal, payee_id, share, role, full * share, credit_date, attrs)
        for payee_id, share, role in _shares(rule, deal, attrs)
    ]
