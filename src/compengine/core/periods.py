"""Calculation periods on a fiscal calendar, and the windows (period, quarter to date, year
to date, full year) that measures and quotas are taken over.

Every span of time is half-open, `[start, end)`: a deal closed on the first day of April is
in Q2, never in both Q1 and Q2.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import lru_cache

from compengine.core.errors import PeriodError

MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


class PeriodKind(Enum):
    MONTH = "monthly"
    QUARTER = "quarterly"
    YEAR = "yearly"

    @property
    def months(self) -> int:
        return _MONTHS[self.value]

    @property
    def per_year(self) -> int:
        return 12 // _MONTHS[self.value]


_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}  # by value: an enum's own hash is a Python call


class Window(Enum):
    """A span of time relative to the period being calculated."""

    PERIOD = "for the period"
    QUARTER_TO_DATE = "for the quarter to date"
    YEAR_TO_DATE = "for the year to date"
    FULL_YEAR = "for the full year"


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, kept inside the month it lands in (Jan 31 + 1 month is
    Feb 28 or 29), as pendulum's `add(months=...)` does, in plain date arithmetic: periods are
    worked out by the hundred thousand."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Period:
    """One calculation period of a fiscal year; `index` counts from 1."""

    kind: PeriodKind
    fiscal_year: int
    index: int
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.YEAR:
            return f"FY{self.fiscal_year}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.fiscal_year}-Q{self.index}"
        return f"{self.fiscal_year}-M{self.index:02d}"

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __str__(self) -> str:
        return self.label


_LABEL = re.compile(r"(?:FY)?(\d{4})(?:-(Q)([1-4])|-M(\d{2}))?")


@dataclass(frozen=True, slots=True)
class FiscalCalendar:
    """A fiscal year starting on the first day of `start_month` (1 = January).

    A fiscal year is named by the calendar year in which it starts: with a February start,
    FY2026 runs from 2026-02-01 until 2027-02-01.
    """

    start_month: int = 1

    def year_start(self, fiscal_year: int) -> date:
        return date(fiscal_year, self.start_month, 1)

    def year_end(self, fiscal_year: int) -> date:
        return add_months(self.year_start(fiscal_year), 12)

    def fiscal_year_of(self, day: date) -> int:
        return day.year if day.month >= self.start_month else day.year - 1

    def period(self, kind: PeriodKind, fiscal_year: int, index: int) -> Period:
        return _period(self, kind, fiscal_year, index)

    def period_containing(self, kind: PeriodKind, day: date) -> Period:
        return _period_containing(self, kind, day)

    def periods_of_year(self, kind: PeriodKind, fiscal_year: int) -> list[Period]:
        return list(_periods_of_year(self, kind, fiscal_year))

    def window(self, window: Window, period: Period) -> tuple[date, date]:
        """The half-open date range a window covers when `period` is being calculated."""
        if window is Window.PERIOD:
            return period.start, period.end
        if window is Window.YEAR_TO_DATE:
            return self.year_start(period.fiscal_year), period.end
        if window is Window.FULL_YEAR:
            fy = period.fiscal_year
            return self.year_start(fy), self.year_end(fy)
        if period.kind is PeriodKind.YEAR:
            raise PeriodError("'for the quarter to date' has no meaning in a yearly plan")
        quarter = self.period_containing(PeriodKind.QUARTER, period.start)
        return quarter.start, period.end

    def parse(self, label: str, kind: PeriodKind) -> Period:
        """Read `2026-Q1`, `2026-M03`, `FY2026` (or `2026`) as a period of the given kind."""
        match = _LABEL.fullmatch(label.strip())
        if not match:
            raise PeriodError(
                f"{label!r} is not a period; write a quarter as 2026-Q1, a month as 2026-M03 (fiscal month 3) or a year as FY2026"
            )
        year = int(match.group(1))
        if match.group(2):
            found, index = PeriodKind.QUARTER, int(match.group(3))
        elif match.group(4):
            found, index = PeriodKind.MONTH, int(match.group(4))
        else:
            found, index = PeriodKind.YEAR, 1
        if found is not kind:
            raise PeriodError(f"{label!r} is a {found.value} period but the plan is calculated {kind.value}")
        return self.period(kind, year, index)


# Periods are immutable and asked for over and over (per payee, per credit, per day), so each
# is made once per calendar and kept.  The caches are bounded: a process that walks many
# years of days keeps only the recent ones.


@lru_cache(maxsize=4096)
def _period(calendar: FiscalCalendar, kind: PeriodKind, fiscal_year: int, index: int) -> Period:
    if not 1 <= index <= kind.per_year:
        raise PeriodError(f"a fiscal year has {kind.per_year} {kind.value} periods, not {index}")
    start = add_months(calendar.year_start(fiscal_year), (index - 1) * kind.months)
    return Period(kind, fiscal_year, index, start, add_months(start, kind.months))


@lru_cache(maxsize=65536)
def _period_containing(calendar: FiscalCalendar, kind: PeriodKind, day: date) -> Period:
    fiscal_year = calendar.fiscal_year_of(day)
    months_in = (day.month - calendar.start_month) % 12
    return _period(calendar, kind, fiscal_year, months_in // kind.months + 1)


@lru_cache(maxsize=1024)
def _periods_of_year(calendar: FiscalCalendar, kind: PeriodKind, fiscal_year: int) -> tuple[Period, ...]:
    return tuple(_period(calendar, kind, fiscal_year, i) for i in range(1, kind.per_year + 1))
