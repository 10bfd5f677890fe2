"""A year of payout cycles, start to finish: the main job of the example company.

Load the company's facts, publish its plans, then for every period of the fiscal year load
what arrived since the last close (a folder `before-<period>/<step>/` of data files: a late
correction, a cancellation, a paid invoice), open, calculate as of the period's last day,
approve, close and export the payroll file.  Everything goes through the same services an
operator uses one command at a time, so the year is also their end-to-end rehearsal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from compengine.core.errors import CompengineError
from compengine.core.periods import Period
from compengine.lang.loader import load_plans
from compengine.service.cycles import CloseSummary, PayoutCycles, RunSummary
from compengine.store import facts, plans
from compengine.store.database import Database
from compengine.store.ledger import Entry
from compengine.store.schema import loads


class YearError(CompengineError):
    """The year cannot be run as asked; the message says why."""


@dataclass(frozen=True)
class Loaded:
    folder: Path
    report: facts.LoadReport


@dataclass(frozen=True)
class CycleOutcome:
    period: str
    loaded: tuple[Loaded, ...]
    run: RunSummary
    closed: CloseSummary
    payroll_file: Path


@dataclass
class YearOutcome:
    fiscal_year: int
    published: list[plans.Published] = field(default_factory=list)
    loaded: list[Loaded] = field(default_factory=list)
    cycles: list[CycleOutcome] = field(default_factory=list)
    ledger: list[Entry] = field(default_factory=list)


Progress = Callable[[str], None]


def run_year(
    db: Database,
    plan_files: list[Path],
    data: Path,
    events: Path | None,
    fiscal_year: int,
    out: Path,
    progress: Progress = lambda _: None,
) -> YearOutcome:
    """Run every period of `fiscal_year` through a full cycle on an empty database."""
    with db.reading() as connection:
        if connection.execute(select(func.count()).select_from(loads)).scalar_one():
            raise YearError("the year needs an empty database, and this one already holds data; use a new file or --fresh")
    outcome = YearOutcome(fiscal_year)
    for path in plan_files:
        outcome.published.append(plans.publish(db, str(path), by="compengine year"))
    outcome.loaded.append(Loaded(data, facts.load(db, data)))
    progress(f"loaded {data} and published {len(outcome.published)} plans")
    cycles = PayoutCycles(db)
    out.mkdir(parents=True, exist_ok=True)
    for period in periods_of(plan_files, fiscal_year):
        arrived = tuple(Loaded(folder, facts.load(db, folder)) for folder in _event_folders(events, period.label))
        cycles.open(period.label)
        run = cycles.calculate(period.label, as_of=period.last_day)
        cycles.approve(period.label, run.run_id)
        closed = cycles.close(period.label)
        payroll = out / f"payroll-{period.label}.csv"
        payroll.write_text(cycles.export(period.label), encoding="utf-8")
        outcome.cycles.append(CycleOutcome(period.label, arrived, run, closed, payroll))
        progress(f"{period.label} closed")
    outcome.ledger = cycles.ledger()
    return outcome


def periods_of(plan_files: list[Path], fiscal_year: int) -> list[Period]:
    """The periods of the fiscal year, on the calendar all the plans share."""
    loaded = load_plans([str(path) for path in plan_files])
    calendars = {(p.header.calendar, p.header.period_kind) for p in loaded.plans}
    if len(calendars) != 1:
        raise YearError("the plans are calculated on different calendars; run their cycles one period at a time instead")
    calendar, kind = calendars.pop()
    return calendar.periods_of_year(kind, fiscal_year)


def _event_folders(events: Path | None, period: str) -> list[Path]:
    """`events/before-<period>/*/`, in name order: what arrived since the previous close."""
    if events is None:
        return []
    folder = events / f"before-{period}"
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
