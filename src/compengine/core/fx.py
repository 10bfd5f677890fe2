"""Exchange rates: step functions over time, one per currency pair and rate type.

A rate applies from its `effective_from` date until the next rate of the same pair and type.
Only direct rates are used (EUR→USD is not derived from USD→EUR), so what converts a deal
is always a row someone can point at in exchange_rates.csv.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from compengine.core.data import ExchangeRate, RowRef
from compengine.core.errors import EvaluationError


@dataclass(frozen=True, slots=True)
class FxUse:
    """The rate that converted one deal, for the trace: 1 `source` = `rate` `target`."""

    source: str
    target: str
    rate_type: str
    day: date
    rate: Decimal
    since: date
    ref: RowRef | None


class FxTable:
    def __init__(self, rates: Iterable[ExchangeRate]):
        self._rates: dict[tuple[str, str, str], list[ExchangeRate]] = defaultdict(list)
        for rate in rates:
            self._rates[(rate.from_currency, rate.to_currency, rate.rate_type)].append(rate)
        for found in self._rates.values():
            found.sort(key=lambda r: r.start)
        self._starts = {key: [r.start for r in found] for key, found in self._rates.items()}

    def use(self, source: str, target: str, rate_type: str, day: date, subject: str) -> FxUse:
        key = (source, target, rate_type)
        found = self._rates.get(key, [])
        index = bisect_right(self._starts.get(key, []), day) - 1
        if index < 0:
            raise EvaluationError(
                f"there is no {rate_type!r} {source}→{target} exchange rate in effect on {day.isoformat()} ({subject})",
                hint=f"add a row to exchange_rates.csv: {source},{target},{rate_type},<from date>,<rate>",
            )
        rate = found[index]
        return FxUse(source, target, rate_type, day, rate.rate, rate.start, rate.ref)
