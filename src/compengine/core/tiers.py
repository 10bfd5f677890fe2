"""Tier schedules: marginal, retroactive and interpolated rates over a position.

A schedule prices a money amount `x` (a period total, or a running total that grows credit by
credit).  Band bounds are written in *position units*: money when tiering on an amount, a
fraction when tiering on attainment, in which case `scale` is the quota and a bound of 50%
sits at 0.5 × quota in money.  Working in money space keeps every slice exact.

The aggregate payout of a schedule is F(x):
- marginal:     each slice of [0, x) earns its own band's rate (like tax brackets);
- retroactive:  all of x earns the rate of the band x falls in;
- interpolated: all of x earns a rate read off a straight line between the points.
A credit that moves the running total from a to b earns F(b) - F(a); for marginal schedules
that difference is decomposed into the slices a credit crossing a boundary is split into.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from compengine.core.money import ZERO


class TierMode(Enum):
    MARGINAL = "marginal"
    RETROACTIVE = "retroactive"
    INTERPOLATED = "interpolated"


@dataclass(frozen=True, slots=True)
class Band:
    """`[lower, upper)` in position units; None means unbounded on that side."""

    lower: Decimal | None
    upper: Decimal | None
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Point:
    at: Decimal
    value: Decimal


@dataclass(frozen=True, slots=True)
class Slice:
    """The part of a move that fell inside one band: `amount` money at `rate`."""

    band: int
    start: Decimal
    end: Decimal
    amount: Decimal
    rate: Decimal

    @property
    def payout(self) -> Decimal:
        return self.amount * self.rate


def _money_bound(bound: Decimal | None, scale: Decimal) -> Decimal | None:
    return None if bound is None else bound * scale


def band_index(bands: Sequence[Band], scale: Decimal, x: Decimal) -> int:
    """Index of the band containing money amount `x`; bands are half-open, so a value exactly
    on a bound belongs to the band above it.  Below the first band counts as the first band."""
    for i in range(len(bands) - 1, 0, -1):
        lower = _money_bound(bands[i].lower, scale)
        if lower is None or x >= lower:
            return i
    return 0


def slices(bands: Sequence[Band], scale: Decimal, start: Decimal, end: Decimal) -> list[Slice]:
    """Split a move of the running total from `start` to `end` across the bands it crosses.

    A downward move (a negative credit) yields negative amounts, walked from `start` down.
    """
    if start == end:
        return []
    low, high = (start, end) if start < end else (end, start)
    pieces: list[Slice] = []
    last = len(bands) - 1
    for i, band in enumerate(bands):  # (per credit: bounds inlined; `b if b > a else a` is max(a, b) exactly)
        lo = low
        if i != 0 and band.lower is not None:
            lower = band.lower * scale
            lo = lower if lower > low else low
        hi = high
        if i != last and band.upper is not None:
            upper = band.upper * scale
            hi = upper if upper < high else high
        if hi > lo:
            pieces.append(Slice(i, lo, hi, hi - lo, band.rate))
    if start > end:
        pieces = [Slice(p.band, p.end, p.start, -p.amount, p.rate) for p in reversed(pieces)]
    return pieces


def marginal_total(bands: Sequence[Band], scale: Decimal, x: Decimal) -> Decimal:
    return sum((s.payout for s in slices(bands, scale, ZERO, x)), ZERO)


def retroactive_total(bands: Sequence[Band], scale: Decimal, x: Decimal) -> Decimal:
    return x * bands[band_index(bands, scale, x)].rate


def interpolate(points: Sequence[Point], x: Decimal, scale: Decimal = Decimal(1)) -> tuple[Decimal, int]:
    """The value of the piecewise-linear curve through `points` at `x` (money when scaled).

    Flat beyond the first and last points.  Returns the value and the index of the segment's
    left point (-1 below the first point, len-1 at or above the last).
    """
    first, last = points[0], points[-1]
    if x <= first.at * scale:
        return first.value, -1 if x < first.at * scale else 0
    if x >= last.at * scale:
        return last.value, len(points) - 1
    for i in range(len(points) - 1):
        left, right = points[i], points[i + 1]
        x0, x1 = left.at * scale, right.at * scale
        if x0 <= x < x1:
            return left.value + (right.value - left.value) * (x - x0) / (x1 - x0), i
    raise AssertionError("unreachable: points are strictly increasing")


def interpolated_total(points: Sequence[Point], scale: Decimal, x: Decimal) -> Decimal:
    return x * interpolate(points, x, scale)[0]
