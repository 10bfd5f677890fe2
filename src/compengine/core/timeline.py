"""Effective-dated values: step functions over half-open intervals `[from, until)`.

`8% from 2026-01-01, 9% from 2026-07-01` is a timeline of two intervals; asking for the
value on 2026-06-30 gives 8% and on 2026-07-01 gives 9%.  The checker rejects gaps and
overlaps inside the plan's window before a timeline is ever built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from compengine.core.source import SourceSpan

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Interval:
    start: date | None  # None: since always
    end: date | None  # None: open-ended

    def contains(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)

    def describe(self) -> str:
        start = f"from {self.start.isoformat()}" if self.start else "always"
        end = f" until {self.end.isoformat()}" if self.end else ""
        return start + end

    def to_json(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "until": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True, slots=True)
class Dated(Generic[T]):
    """One value with the interval it is in effect for, and where the plan states it."""

    value: T
    interval: Interval
    span: SourceSpan | None = None


class Timeline(Generic[T]):
    """An ordered, non-overlapping sequence of dated values."""

    __slots__ = ("entries",)

    def __init__(self, entries: Sequence[Dated[T]]):
        self.entries = tuple(entries)

    def at(self, day: date) -> Dated[T] | None:
        """The entry in effect on `day`, or None when nothing is (outside every interval)."""
        for entry in self.entries:
            if entry.interval.contains(day):
                return entry
        return None

    @property
    def is_constant(self) -> bool:
        return len(self.entries) == 1 and self.entries[0].interval == Interval(None, None)
