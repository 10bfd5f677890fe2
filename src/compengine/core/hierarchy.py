"""Who reports to whom, on a given day: the effective-dated reporting lines of the payees.

Managers change mid-year, so every question is asked for a date: a deal rolls up the chain
in effect on its credit date; "earnings of reports" looks at the team on the period's last
day.  A chain that loops back on itself is a data error, reported with the people involved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from compengine.core.data import ReportingLine
from compengine.core.errors import EvaluationError


class Hierarchy:
    __slots__ = ("_chains", "_lines", "_reports")

    def __init__(self, lines: Iterable[ReportingLine]):
        # a rollup asks for the same (payee, day) once per deal and credit rule: remember the answers
        self._chains: dict[tuple[str, date, int | None], tuple[str, ...]] = {}
        self._lines: dict[str, list[ReportingLine]] = defaultdict(list)
        self._reports: dict[str, list[ReportingLine]] = defaultdict(list)
        for line in lines:
            self._lines[line.payee_id].append(line)
            self._reports[line.manager_id].append(line)
        for found in self._lines.values():
            found.sort(key=lambda line: line.start)

    def manager_of(self, payee_id: str, day: date) -> str | None:
        for line in self._lines.get(payee_id, ()):
            if line.covers(day):
                return line.manager_id
        return None

    def chain(self, payee_id: str, day: date, levels: int | None) -> tuple[str, ...]:
        """The managers above `payee_id` on `day`, nearest first, `levels` deep (None: all)."""
        key = (payee_id, day, levels)
        found = self._chains.get(key)
        if found is None:
            found = self._chains[key] = tuple(self._chain(payee_id, day, levels))
        return found

    def _chain(self, payee_id: str, day: date, levels: int | None) -> list[str]:
        managers: list[str] = []
        current = payee_id
        while levels is None or len(managers) < levels:
            manager = self.manager_of(current, day)
            if manager is None:
                break
            if manager == payee_id or manager in managers:
                loop = " → ".join([payee_id, *managers, manager])
                raise EvaluationError(
                    f"the reporting lines on {day.isoformat()} go round in a circle: {loop}",
                    hint="fix reporting_lines.csv so that every chain ends at someone with no manager",
                )
            managers.append(manager)
            current = manager
        return managers

    def ever_below(self, managers: Iterable[str], levels: int | None) -> set[str]:
        """`managers` and everyone who reported to one of them, on any day, within `levels`
        levels (None: all): whoever a rollup of that depth could carry a deal from to them,
        whatever the deal's date (more, never fewer, than on any one day)."""
        found = set(managers)
        frontier = list(found)
        depth = 0
        while frontier and (levels is None or depth < levels):
            depth += 1
            below = {line.payee_id for manager in frontier for line in self._reports.get(manager, ())} - found
            found |= below
            frontier = list(below)
        return found

    def reports_of(self, manager_id: str, day: date, levels: int | None) -> list[tuple[str, int]]:
        """Everyone below `manager_id` on `day` down to `levels` (None: all), with their depth,
        in a stable order (depth, then payee id)."""
        found: list[tuple[str, int]] = []
        frontier = [manager_id]
        depth = 0
        seen = {manager_id}
        while frontier and (levels is None or depth < levels):
            depth += 1
            below = sorted(line.payee_id for manager in frontier for line in self._reports.get(manager, ()) if line.covers(day))
            below = [p for p in below if p not in seen]
            seen.update(below)
            found.extend((p, depth) for p in below)
            frontier = below
        return found
