"""How much of a period a payee is on a plan, and what that does to quotas and targets.

A payee can join (hire), leave (termination), or change assignment (another plan, another
target incentive) inside a period.  The plan must say what then happens — nothing is assumed:

- `proration by calendar days | weekdays` counts the days on the plan against the days of
  the period; quotas and targets are scaled by that fraction.  Without it, a partial period
  is an error naming the payee and the date.
- `assignment changes within a period are split` weighs each assignment (and each quota
  figure) by its days; `... use the period end` takes the one in effect on the period's last
  day for the whole period.  Without either, two assignments in one period are an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from compengine.core.data import Assignment, Payee
from compengine.core.errors import EvaluationError
from compengine.core.money import ZERO
from compengine.core.periods import Period
from compengine.core.plan import CompiledPlan


def day_count(start: date, end: date, convention: str | None) -> int:
    """Days in `[start, end)`: calendar days, or Monday-to-Friday weekdays."""
    if end <= start:
        return 0
    if convention != "weekdays":
        return (end - start).days
    total = (end - start).days
    weeks, extra = divmod(total, 7)
    count = weeks * 5
    for offset in range(extra):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive days on the plan under one assignment."""

    start: date
    end: date
    assignment: Assignment


@dataclass(frozen=True)
class Coverage:
    """The part of `period` a payee is on a plan."""

    period: Period
    runs: tuple[Run, ...]
    convention: str | None

    @property
    def days(self) -> int:
        return sum(day_count(r.start, r.end, self.convention) for r in self.runs)

    @property
    def period_days(self) -> int:
        return day_count(self.period.start, self.period.end, self.convention)

    @property
    def full(self) -> bool:
        """Every day of the period is covered (by one assignment or several in a row)."""
        return sum((r.end - r.start).days for r in self.runs) == (self.period.end - self.period.start).days

    @property
    def last(self) -> Run:
        return self.runs[-1]

    def contains(self, day: date) -> bool:
        return any(run.start <= day < run.end for run in self.runs)

    def describe(self) -> str:
        if self.full and len(self.runs) > 1:
            return f"on the plan for all of {self.period.label}, under {len(self.runs)} assignments"
        if self.full:
            return f"on the plan for all of {self.period.label}"
        spans = ", ".join(f"{r.start.isoformat()} to {(r.end - timedelta(days=1)).isoformat()}" for r in self.runs)
        unit = "weekdays" if self.convention == "weekdays" else "days"
        return f"on the plan {self.days} of {self.period_days} {unit} of {self.period.label} ({spans})"


def coverage(plan: CompiledPlan, payee: Payee, assignments: Sequence[Assignment], period: Period) -> Coverage | None:
    """The payee's coverage of `period` on `plan`, or None if not on the plan at all then.

    Raises when the period is only partly covered, or covered by two assignments, and the
    plan declares no convention for it.
    """
    effective = plan.header.effective
    left = payee.termination_date + timedelta(days=1) if payee.termination_date else None  # the termination date is the last day worked
    low = max(d for d in (period.start, effective.start, payee.hire_date) if d is not None)
    high = min(d for d in (period.end, effective.end, left) if d is not None)
    found = [a for a in assignments if a.overlaps(period.start, period.end)]
    if not found or high <= low:
        return None
    if len(found) > 1 and plan.changes is None:
        rows = ", ".join(str(a.ref) for a in found if a.ref)
        raise EvaluationError(
            f"payee {payee.id} has {len(found)} assignments to plan {plan.id} during {period.label} ({rows})",
            hint="declare `assignment changes within a period are split` (with `proration by calendar days`) "
            "or `assignment changes within a period use the period end`",
        )
    if plan.changes == "period end":
        at_end = [a for a in found if a.start <= period.last_day and (a.end is None or a.end > period.last_day)]
        if not at_end:
            return None
        runs = [Run(low, high, at_end[0])]
    else:
        runs = [Run(max(low, a.start), min(high, a.end or high), a) for a in found]
        runs = [r for r in runs if r.start < r.end]
    if not runs:
        return None
    result = Coverage(period, tuple(runs), plan.proration)
    if not result.full and plan.proration is None:
        raise EvaluationError(
            f"payee {payee.id} is on plan {plan.id} for only part of {period.label} ({_why(runs, payee, period)}), "
            "and the plan declares no proration",
            hint="declare how to prorate quotas and targets: `proration by calendar days` (or `by weekdays`)",
        )
    return result


def _why(runs: Sequence[Run], payee: Payee, period: Period) -> str:
    if payee.hire_date is not None and period.start < payee.hire_date < period.end:
        return f"hired {payee.hire_date.isoformat()}"
    if payee.termination_date is not None and period.start <= payee.termination_date < period.last_day:
        return f"last day {payee.termination_date.isoformat()}"
    first, last = runs[0], runs[-1]
    if first.start > period.start:
        return f"from {first.start.isoformat()}"
    return f"until {last.end.isoformat()}"


def spread(
    cover: Coverage,
    value_at: Callable[[Run, date], Decimal],
    breaks: Iterable[date],
    changes: str | None,
    what: str,
) -> Decimal:
    """A period's amount (quota, target) over the days the payee is on the plan.

    `value_at(run, day)` is the full-period amount in effect on `day`; `breaks` are the dates
    it can change on.  A full, unchanging period gives the amount itself; otherwise the days
    weigh it (split), or the last value counts for the covered fraction (period end).
    """
    pieces = _pieces(cover, sorted(set(breaks)))
    values = [(value_at(run, start), day_count(start, end, cover.convention)) for run, start, end in pieces]
    period_days = cover.period_days
    if len({v for v, _ in values}) > 1 and changes is None:
        raise EvaluationError(
            f"{what} changes inside {cover.period.label}, and the plan declares no convention for changes within a period",
            hint="declare `assignment changes within a period are split` or `... use the period end`",
        )
    if len({v for v, _ in values}) <= 1 or changes == "period end":
        value = values[-1][0]
        if cover.full:
            return value
        return value * cover.days / period_days
    return sum((v * days for v, days in values), ZERO) / period_days


def _pieces(cover: Coverage, breaks: list[date]) -> list[tuple[Run, date, date]]:
    pieces: list[tuple[Run, date, date]] = []
    for run in cover.runs:
        start = run.start
        for cut in breaks:
            if start < cut < run.end:
                pieces.append((run, start, cut))
                start = cut
        pieces.append((run, start, run.end))
    return pieces
