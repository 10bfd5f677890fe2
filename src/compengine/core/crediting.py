"""The credit stage: which deals count, who is credited, for how much, on which date.

A deal reaches a payee by one or more *paths*: as owner or split partner, through a deal
field naming them, as an overlay (`payees where ...`), or as the manager of any of those
(a rollup along the reporting line in effect on the credit date).  When one payee is reached
by several paths of one rule, the rule says whether the credit counts once (the default: the
shares are added and capped at 100% of the deal, so nobody is credited twice for the same
deal) or once per path.  Every credit keeps its paths for the trace.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from compengine.core.data import Deal, Payee
from compengine.core.errors import EvaluationError
from compengine.core.fx import FxTable, FxUse
from compengine.core.gcpause import paused_gc
from compengine.core.hierarchy import Hierarchy
from compengine.core.money import ONE, ZERO
from compengine.core.plan import CompiledPlan, CreditRule, PayeeMatch, RecipientKind
from compengine.core.scope import DealScope, MatchScope
from compengine.core.values import MISSING


class CreditPath(NamedTuple):
    """One way a deal reached a payee: `role` (owner, split, deal.<field>, overlay, rollup),
    the share of the deal it carries, and for a rollup whose credit it rolls up and how far.

    A named tuple (immutable, like every record here) because one is made per credit path:
    it builds several times faster than a frozen dataclass."""

    role: str
    share: Decimal
    via: str | None = None
    level: int = 0
    via_role: str | None = None  # how the deal reached the person it rolls up from

    def describe(self) -> str:
        if self.via is None:
            return self.role
        return f"{self.role} {self.level} via {self.via} ({self.via_role})"


class Credit(NamedTuple):
    """A payee's credit for a deal under one credit rule (a named tuple, as `CreditPath`)."""

    id: str
    rule: str
    deal: Deal
    payee_id: str
    share: Decimal
    role: str
    amount: Decimal
    date: dt.date
    attrs: Mapping[str, Any]
    paths: tuple[CreditPath, ...] = ()
    fx: FxUse | None = None
    version: int | None = None  # the plan version that credited it

    def sort_key(self) -> tuple[dt.date, str, str]:
        return (self.date, self.deal.id, self.id)


class OverlayIndex:
    """The payees a `payees where ...` condition can hold for, indexed on its equality tests so
    each deal looks at a handful of candidates instead of every payee."""

    def __init__(self, plan: CompiledPlan, match: PayeeMatch, payees: Mapping[str, Payee], payee_attrs: Mapping[str, Mapping[str, Any]]):
        self.match = match
        self.attrs = payee_attrs
        probe = DealScope(plan, None, {}, plan.header.effective.start or dt.date.min)
        self.payees = sorted(payees.values(), key=lambda p: p.id)
        candidates = [p for p in self.payees if self._pre(match, probe, p)]
        self.index: dict[tuple[Any, ...], list[Payee]] = defaultdict(list)
        for payee in candidates:
            key = tuple(payee_field(payee, payee_attrs[payee.id], name) for name, _ in match.joins)
            for (name, _), value in zip(match.joins, key, strict=True):
                if value is MISSING:
                    raise EvaluationError(
                        f"{payee.ref or 'payees'}, field {name} is empty, and plan {plan.id} needs it for payee {payee.id}",
                        hint=f"fill it in, or declare a default: `payee attribute {name}: ..., default ...`",
                    )
            self.index[key].append(payee)

    def _pre(self, match: PayeeMatch, probe: DealScope, payee: Payee) -> bool:
        return match.payee_only is None or bool(match.payee_only(MatchScope(probe, payee, self.attrs[payee.id])))

    def payees_for(self, scope: DealScope) -> list[str]:
        try:
            key = tuple(expr(scope) for _, expr in self.match.joins)
        except EvaluationError:  # a join read an empty field the condition, stopping early, may never reach
            return [p.id for p in self.payees if self.match.condition(MatchScope(scope, p, self.attrs[p.id]))]
        residual = self.match.residual
        return [
            payee.id for payee in self.index.get(key, ()) if residual is None or residual(MatchScope(scope, payee, self.attrs[payee.id]))
        ]


def payee_field(payee: Payee, attrs: Mapping[str, Any], name: str) -> Any:
    if name == "id":
        return payee.id
    if name == "name":
        return payee.name
    if name == "hire_date":
        return payee.hire_date
    return attrs.get(name)


class Crediting:
    """Applies one plan version's credit rules to deals.

    Everything that does not depend on the deal (the version's date range, its currency, the
    overlay indexes) is worked out once here, so the per-deal loop only evaluates the rule's
    compiled expressions and builds the credits.
    """

    def __init__(
        self,
        plan: CompiledPlan,
        payees: Mapping[str, Payee],
        payee_attrs: Mapping[str, Mapping[str, Any]],
        hierarchy: Hierarchy,
        fx: FxTable,
    ):
        self.plan = plan
        self.hierarchy = hierarchy
        self.fx = fx
        self.overlays = {
            (rule.name, index): OverlayIndex(plan, recipient.match, payees, payee_attrs)
            for rule in plan.credits.values()
            for index, recipient in enumerate(rule.recipients)
            if recipient.kind is RecipientKind.PAYEES and recipient.match is not None
        }
        in_force = plan.in_force
        self._from = in_force.start
        self._until = in_force.end
        self._currency = plan.header.currency
        self._splits: dict[str, _SplitPaths] = {}  # by deal id, for one call of `credit`: its rules share them
        self._unsplit: dict[str, _SplitPaths] = {}  # an unsplit deal's, by its owner: the same for all their deals
        self._rolled: dict[tuple[str, tuple[str, ...]], list[_Grant]] = {}  # see `_grants`
        self._alone: dict[tuple[Any, ...], tuple[Decimal, str, tuple[CreditPath, ...]]] = {}  # see `_grants`

    def credit(
        self, deals: Iterable[Deal], attrs_of: Mapping[str, Mapping[str, Any]], kept: AbstractSet[str] | None = None
    ) -> dict[str, list[Credit]]:
        """Credits grouped by payee, in date order: every payee's, or only those of the payees
        in `kept` (a plan's own payees: a deal reaches its owner's manager whatever plan the
        owner is on, but nobody reads the credits of a payee who is not on the plan, and a
        deal that can reach none of them is passed over)."""
        by_payee: dict[str, list[Credit]] = defaultdict(list)
        self._splits = {}  # another call may bring other deals under the same ids (a what-if)
        dated_in_force: list[Deal] | None = None  # the deals closed while this version is in force
        with paused_gc():  # credits live long and make no cycles (see core/gcpause)
            for rule in self.plan.credits.values():
                credit_deal = self._credit_deal
                scanned = deals
                if rule.dated_on_close:  # a deal closed outside the version's dates credits nothing under it
                    if dated_in_force is None:
                        dated_in_force = self._closed_in_force(deals)
                    scanned = dated_in_force
                if kept is not None:
                    scanned = self._may_reach(rule, kept, scanned)
                for deal in scanned:
                    credit_deal(rule, deal, attrs_of[deal.id], by_payee, kept)
        self._splits = {}
        for credits in by_payee.values():
            credits.sort(key=CREDIT_ORDER)
        return dict(by_payee)

    def _may_reach(self, rule: CreditRule, kept: AbstractSet[str], deals: Iterable[Deal]) -> Iterable[Deal]:
        """The deals that may credit one of the payees kept under `rule`, found before anything
        is evaluated, when the rule credits split partners or owners (rolled up or not): a
        deal whose partners, and everyone they ever reported to within the rollup's levels,
        are all off the plan credits nobody on it, so its date, filter and amount are not
        worked out (nor can they fail).  Other recipients (deal fields, `payees where`)
        cannot be foreseen: every deal is looked at."""
        kinds = {recipient.kind for recipient in rule.recipients}
        if not kinds <= {RecipientKind.SPLITS, RecipientKind.OWNER}:
            return deals
        sources = kept if rule.rollup is None else self.hierarchy.ever_below(kept, rule.rollup.levels)
        splits, owner = RecipientKind.SPLITS in kinds, RecipientKind.OWNER in kinds
        found = []
        for deal in deals:  # (a loop, not one expression: most deals are unsplit and need one look)
            shares = deal.splits
            if not shares:  # its owner has it all, whether the rule credits owners or split partners
                if deal.owner in sources:
                    found.append(deal)
            elif (owner and deal.owner in sources) or (splits and any(share.payee_id in sources for share in shares)):
                found.append(deal)
        return found

    def _closed_in_force(self, deals: Iterable[Deal]) -> list[Deal]:
        """The deals whose close date falls while this version is in force, in their order."""
        start, until = self._from or dt.date.min, self._until or dt.date.max
        return [deal for deal in deals if start <= deal.close_date < until]

    def _credit_deal(
        self, rule: CreditRule, deal: Deal, attrs: Mapping[str, Any], by_payee: dict[str, list[Credit]], kept: AbstractSet[str] | None
    ) -> None:
        """Add the deal's credits under `rule` to `by_payee` (those of the payees kept, or all).

        The rule's expressions are called through `.fn`: one Python call fewer per expression,
        and this runs for every deal and rule."""
        plan = self.plan
        scope = DealScope(plan, deal, attrs, deal.close_date)
        credit_date = deal.close_date if rule.dated_on_close else rule.date.fn(scope)
        if (self._from is not None and credit_date < self._from) or (self._until is not None and credit_date >= self._until):
            return  # a plan version only credits deals dated while it is in effect
        foreign = deal.currency != self._currency
        fx = self._fx(rule, deal, credit_date) if foreign and plan.conversion is not None else None
        if fx is not None or credit_date != deal.close_date:
            scope = DealScope(plan, deal, attrs, credit_date, fx.rate if fx else None)
        # else the scope the date was computed in sees exactly what a new one would
        if rule.filter is not None and not rule.filter.fn(scope):
            return
        if foreign and plan.conversion is None:
            self._fx(rule, deal, credit_date)  # a deal in another currency passed the filter of a plan that converts nothing: stop
        full = rule.amount.fn(scope)
        name, version = rule.name, plan.version
        prefix = f"{name}/{deal.id}/"
        if rule.counts_once:
            for payee_id, share, role, paths in self._grants(rule, deal, attrs, scope, credit_date):
                if kept is None or payee_id in kept:
                    by_payee[payee_id].append(
                        Credit(prefix + payee_id, name, deal, payee_id, share, role, full * share, credit_date, attrs, paths, fx, version)
                    )
            return
        used_ids: set[str] = set()
        for payee_id, group in self._paths(rule, deal, attrs, scope, credit_date).items():
            if kept is not None and payee_id not in kept:
                continue  # (its paths' ids are its own: skipping them changes no other credit's id)
            for path in group:
                role = path.describe()
                credit_id = f"{prefix}{payee_id}/{role}"
                while credit_id in used_ids:  # two identical paths, counted per path
                    credit_id += "+"
                used_ids.add(credit_id)
                share = path.share
                by_payee[payee_id].append(
                    Credit(credit_id, name, deal, payee_id, share, role, full * share, credit_date, attrs, (path,), fx, version)
                )

    def _grants(self, rule: CreditRule, deal: Deal, attrs: Mapping[str, Any], scope: DealScope, day: dt.date) -> Sequence[_Grant]:
        """Each payee's one credit when duplicates count once (the usual case)."""
        recipients = rule.recipients
        rollup = rule.rollup
        if len(recipients) == 1 and recipients[0].kind is RecipientKind.SPLITS:
            if rollup is None:
                return self._split_paths(deal).grants  # made once per deal (or owner), shared by the rules
            if not deal.splits:  # the owner and the managers above them that day: the same for all their deals
                chain = self.hierarchy.chain(deal.owner, day, rollup.levels)
                found = self._rolled.get((deal.owner, chain))
                if found is None:
                    found = self._rolled[(deal.owner, chain)] = _grants(self._paths(rule, deal, attrs, scope, day), self._alone)
                return found
        return _grants(self._paths(rule, deal, attrs, scope, day), self._alone)

    def _fx(self, rule: CreditRule, deal: Deal, credit_date: dt.date) -> FxUse | None:
        plan = self.plan
        if deal.currency == plan.header.currency:
            return None
        conversion = plan.conversion
        if conversion is None:
            raise EvaluationError(
                f"deal {deal.id} ({deal.ref or 'deals'}) is in {deal.currency} but plan {plan.id} calculates in {plan.header.currency}",
                span=rule.span,
                hint='declare it: `convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places`',
            )
        day = credit_date
        if conversion.on == "period end":
            day = plan.header.calendar.period_containing(plan.header.period_kind, credit_date).last_day
        return self.fx.use(deal.currency, plan.header.currency, conversion.rate_type, day, f"deal {deal.id}")

    def _split_paths(self, deal: Deal) -> _SplitPaths:
        """The deal's split partners (or its owner, unsplit), made once per deal (once per owner
        for unsplit deals, most of them): in row order, and as grants (what a rule with no
        other recipients and no rollup credits)."""
        if not deal.splits:
            found = self._unsplit.get(deal.owner)
            if found is None:
                found = self._unsplit[deal.owner] = _SplitPaths(
                    ((deal.owner, _OWNER),), tuple(_grants({deal.owner: [_OWNER]}, self._alone))
                )
            return found
        found = self._splits.get(deal.id)
        if found is None:
            flat = tuple((s.payee_id, CreditPath("split", s.share)) for s in deal.splits)
            grouped: dict[str, list[CreditPath]] = {}
            for payee_id, path in flat:
                grouped.setdefault(payee_id, []).append(path)
            found = _SplitPaths(flat, tuple(_grants(grouped, self._alone)))
            self._splits[deal.id] = found
        return found

    def _paths(
        self, rule: CreditRule, deal: Deal, attrs: Mapping[str, Any], scope: DealScope, day: dt.date
    ) -> Mapping[str, Sequence[CreditPath]]:
        """Every payee the deal reaches under `rule`, with the paths that reach them, in the
        order the recipients and then the rollups find them."""
        direct: list[tuple[str, CreditPath]] = []
        for index, recipient in enumerate(rule.recipients):
            if recipient.kind is RecipientKind.SPLITS:
                direct.extend(self._split_paths(deal).flat)
            elif recipient.kind is RecipientKind.OWNER:
                direct.append((deal.owner, CreditPath("owner", recipient.share) if recipient.share else _OWNER))
            elif recipient.kind is RecipientKind.FIELD:
                payee_id = attrs.get(recipient.field or "")
                if payee_id:
                    direct.append((str(payee_id), CreditPath(f"deal.{recipient.field}", recipient.share or ONE)))
            else:
                overlay = self.overlays[(rule.name, index)]
                direct.extend((payee_id, _OVERLAY) for payee_id in overlay.payees_for(scope))
        paths: dict[str, list[CreditPath]] = {}
        rollup = rule.rollup
        for payee_id, path in direct:
            found = paths.get(payee_id)
            if found is None:
                paths[payee_id] = [path]
            else:
                found.append(path)
            if rollup is not None:
                chain = self.hierarchy.chain(payee_id, day, rollup.levels)
                for level, manager in enumerate(chain, start=1):
                    rolled = CreditPath("rollup", path.share, payee_id, level, path.role)
                    found = paths.get(manager)
                    if found is None:
                        paths[manager] = [rolled]
                    else:
                        found.append(rolled)
        return paths


class _Grant(NamedTuple):
    """A payee's one credit for a deal when duplicates count once: the paths' shares added
    (at most 100% of the deal), how the deal reached them, and the paths."""

    payee_id: str
    share: Decimal
    role: str
    paths: tuple[CreditPath, ...]


def _grants(
    paths: Mapping[str, Sequence[CreditPath]], alone: dict[tuple[Any, ...], tuple[Decimal, str, tuple[CreditPath, ...]]]
) -> list[_Grant]:
    """The grants of `paths`.  A payee reached by one path (the usual case) gets its share,
    role and paths from `alone`, made once per distinct path and shared by every credit like
    it: a credit then owns little more than its id and amount (memory flat as deals grow).
    The key holds the share's exact text, so a shared share is written exactly as before."""
    grants = []
    for payee_id, group in paths.items():
        if len(group) == 1:
            path = group[0]
            key = (path.role, str(path.share), path.via, path.level, path.via_role)
            made = alone.get(key)
            if made is None:
                made = alone[key] = (min(ZERO + path.share, ONE), path.describe(), (path,))
            grants.append(_Grant(payee_id, *made))
        else:
            share = min(sum((p.share for p in group), ZERO), ONE)
            grants.append(_Grant(payee_id, share, " + ".join(p.describe() for p in group), tuple(group)))
    return grants


class _SplitPaths(NamedTuple):
    flat: tuple[tuple[str, CreditPath], ...]
    grants: tuple[_Grant, ...]


_OWNER = CreditPath("owner", ONE)
_OVERLAY = CreditPath("overlay", ONE)
CREDIT_ORDER = attrgetter("date", "deal.id", "id")  # Credit.sort_key, without a Python call per credit


def credit_deals(
    plan: CompiledPlan,
    deals: Iterable[Deal],
    attrs_of: Mapping[str, Mapping[str, Any]],
    payees: Mapping[str, Payee] | None = None,
    payee_attrs: Mapping[str, Mapping[str, Any]] | None = None,
    hierarchy: Hierarchy | None = None,
    fx: FxTable | None = None,
) -> dict[str, list[Credit]]:
    """Apply every credit rule of `plan` to `deals`; credits grouped by payee, in date order."""
    crediting = Crediting(plan, payees or {}, payee_attrs or {}, hierarchy or Hierarchy(()), fx or FxTable(()))
    return crediting.credit(deals, attrs_of)
