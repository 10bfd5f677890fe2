"""The facts a calculation reads: payees, plan assignments, quotas and booked deals.

These are plain, validated records; how they were loaded (CSV files today, a database later)
is an adapter's concern.  Each record remembers the file and row it came from so that a
problem found while evaluating can still be reported as "deals.csv row 12, field term".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RowRef:
    file: str
    row: int

    def __str__(self) -> str:
        return f"{self.file} row {self.row}"


@dataclass(frozen=True, slots=True)
class Payee:
    id: str
    name: str
    hire_date: date | None
    termination_date: date | None
    attributes: Mapping[str, str]
    ref: RowRef | None = None


@dataclass(frozen=True, slots=True)
class SplitShare:
    """One split partner's share of a deal, as a fraction (0.6 for 60%)."""

    payee_id: str
    share: Decimal


@dataclass(frozen=True, slots=True)
class Deal:
    id: str
    owner: str
    type: str
    product: str
    amount: Decimal
    currency: str
    close_date: date
    splits: tuple[SplitShare, ...]
    attributes: Mapping[str, str]
    ref: RowRef | None = None
    #: What happened after the booking, read when a period's pay is settled (core.payout):
    #: the day the deal was cancelled or refunded, the part refunded (in the deal's currency;
    #: None with a date: the whole deal was cancelled), and the day its invoice was paid.
    cancelled_on: date | None = None
    refunded_amount: Decimal | None = None
    invoice_paid_on: date | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """A payee on a plan over `[start, end)` with an annual target incentive."""

    payee_id: str
    plan_id: str
    start: date
    end: date | None
    target_incentive: Decimal
    currency: str
    ref: RowRef | None = None

    def overlaps(self, start: date, end: date) -> bool:
        return self.start < end and (self.end is None or start < self.end)


@dataclass(frozen=True, slots=True)
class QuotaFigure:
    """A quota as given in the data: for a fiscal year (`FY2026`) or one period (`2026-Q1`).

    `effective_from` is set when a quota changes inside its year or period: the figure then
    applies from that date on, and the plan's convention for changes within a period says
    how the two figures are combined.
    """

    payee_id: str
    name: str
    period_label: str
    amount: Decimal
    currency: str
    ref: RowRef | None = None
    effective_from: date | None = None


@dataclass(frozen=True, slots=True)
class ReportingLine:
    """`payee_id` reports to `manager_id` over `[start, end)`."""

    payee_id: str
    manager_id: str
    start: date
    end: date | None
    ref: RowRef | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """One unit of `from_currency` is worth `rate` of `to_currency`, from `start` on, for the
    named rate type (corporate, budget, spot...), until the next rate of the same kind."""

    from_currency: str
    to_currency: str
    rate_type: str
    start: date
    rate: Decimal
    ref: RowRef | None = None


@dataclass(frozen=True, slots=True)
class InputValue:
    """A per-payee value supplied for a period (an MBO score, a discretionary amount)."""

    payee_id: str
    name: str
    period_label: str
    value: str
    ref: RowRef | None = None


@dataclass(frozen=True)
class Dataset:
    """Everything a calculation reads, already checked row by row."""

    payees: Mapping[str, Payee]
    deals: tuple[Deal, ...]
    assignments: tuple[Assignment, ...]
    quotas: tuple[QuotaFigure, ...]
    sources: Mapping[str, str] = field(default_factory=dict)  # file name -> sha256
    reporting_lines: tuple[ReportingLine, ...] = ()
    exchange_rates: tuple[ExchangeRate, ...] = ()
    inputs: tuple[InputValue, ...] = ()
