"""Evaluating a period's statements on several cores: worker processes, each with its own payees.

A payee's statement depends only on their own credits, quotas and inputs, and on their
reports' statement lines (earnings of reports).  So the payees are shared out between the
workers, whole teams together (a first-line manager and the people reporting to them), and
each worker credits and evaluates only its own: crediting passes over the deals that can
reach none of a worker's payees (core/crediting.py), so the workers share the crediting too,
and nothing but statements and lines ever crosses between processes.

Statements are evaluated in rounds, from the bottom of the organisation up: first everyone
with no reports, then their managers, and so on.  After each round the parent gathers every
worker's lines and hands each worker the ones evaluated elsewhere that its payees may read
(see `_line_readers`), so a manager in the next round reads their reports' lines wherever
those were evaluated.  A worker sends a round's lines before its statements: the parent hands
the lines round at once and reads the statements while the next round runs.  What comes back
of each statement is what `convert` makes of it (plain data: statements hold compiled plans,
which cannot be sent).

The result is the same, in the same order, whatever the number of workers: the parts are put
in statement order (payee, plan) as `calculate` does.  If a worker meets an error, the whole
calculation is redone in this process so the error raised is exactly the one a single process
raises.  Where processes cannot be forked (Windows, macOS's default), it runs in one.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Generic, TypeVar

from compengine.core.calculation import StatementBook, Work, plan_work
from compengine.core.data import Dataset
from compengine.core.errors import CompengineError
from compengine.core.evaluation import Statement
from compengine.core.forking import fork_context, usable_cores
from compengine.core.gcpause import paused_gc
from compengine.core.money import DECIMAL_CONTEXT
from compengine.core.periods import Period
from compengine.core.plan import CompiledPlan, EarningsDef

T = TypeVar("T")
Key = tuple[str, str, Period]
#: A payee's (component, amount) lines under one plan, by period label.
Lines = dict[str, tuple[tuple[str, Decimal], ...]]


@dataclass(frozen=True)
class Evaluated(Generic[T]):
    """What `convert` made of each statement, in statement order, and the calculation's notes."""

    parts: list[T]
    notes: tuple[str, ...]


#: With `workers=None`, at least this many statements per worker: below it, forking and
#: handing lines round cost more than they save.
STATEMENTS_PER_WORKER = 250


def workers_for(statements: int, cores: int | None = None) -> int:
    """The processes `evaluate(workers=None)` uses: one per usable core, as long as each
    gets at least STATEMENTS_PER_WORKER statements (so a small company stays in one)."""
    usable = cores if cores is not None else usable_cores()
    return max(1, min(usable, statements // STATEMENTS_PER_WORKER))


def evaluate(
    plans: Sequence[CompiledPlan],
    data: Dataset,
    period_label: str,
    convert: Callable[[Statement], T],
    workers: int | None = 1,
    payees: Iterable[str] | None = None,
) -> Evaluated[T]:
    """`convert(statement)` for every statement `calculate` would give, in the same order,
    evaluated by `workers` processes (None: as many as `workers_for` the work)."""
    with localcontext(DECIMAL_CONTEXT), paused_gc():  # (as `calculate`: see core/gcpause.py)
        book, work = plan_work(plans, data, period_label, payees)
        if workers is None:
            workers = workers_for(len(work.keys))
        try:
            context = fork_context() if workers > 1 and len(work.keys) > 1 else None
            found = _by_rounds(book, work, convert) if context is None else _in_workers(book, work, convert, workers, context)
            if found is None:  # an error: raised as `calculate` raises it, in its order, from a fresh book
                book.close()
                book, work = plan_work(plans, data, period_label, payees)
                found = _evaluate_batch(book, work.keys, convert)
        finally:
            book.close()
        return Evaluated([part for _, part in sorted(found, key=lambda item: item[0])], work.notes)


def _evaluate_batch(book: StatementBook, keys: Sequence[Key], convert: Callable[[Statement], T]) -> list[tuple[tuple[str, str], T]]:
    found = []
    for key in keys:
        statement = book.statement(*key)
        if statement is not None:
            found.append(((statement.payee_id, statement.plan.id), convert(statement)))
    return found


def _by_rounds(book: StatementBook, work: Work, convert: Callable[[Statement], T]) -> list[tuple[tuple[str, str], T]] | None:
    """In this process: the converted statements, round by round from the bottom of the
    organisation up (each payee's evaluator dropped once done), or None on an error."""
    found: list[tuple[tuple[str, str], T]] = []
    for keys in _rounds(book, work.keys):
        part = _sent(book, keys, convert)
        if part is None:
            return None
        _gather(part, found)
    return found


_FAILED = "failed"  # what a worker sends instead of a round's statements when it met an error


def _in_workers(
    book: StatementBook, work: Work, convert: Callable[[Statement], T], workers: int, context: multiprocessing.context.BaseContext
) -> list[tuple[tuple[str, str], T]] | None:
    """The converted statements, evaluated by `workers` forked processes, each crediting and
    evaluating its own payees round by round; None if one met an error."""
    rounds = _rounds(book, work.keys)
    group = _teams_shared_out(book, work.keys, workers)
    members: list[set[str]] = [set() for _ in range(workers)]  # each worker's payees
    for payee_id, index in group.items():
        members[index].add(payee_id)
    readers = _line_readers(book, members)
    gc.freeze()  # the workers' garbage collector leaves the inherited objects (and their pages) alone
    pipes: list[Connection] = []
    processes = []
    try:
        for index in range(workers):
            mine = [[key for key in keys if group[key[1]] == index] for keys in rounds]
            # the worker's payees whose lines another worker's may read: the only ones it sends
            read_elsewhere = members[index] & set().union(*(readers[other] for other in range(workers) if other != index))
            here, there = context.Pipe()
            # (a forked worker inherits the book and everything else it is given: nothing is pickled)
            process = context.Process(target=_worker, args=(book, mine, convert, read_elsewhere, there), daemon=True)  # type: ignore[attr-defined]
            process.start()
            there.close()
            pipes.append(here)
            processes.append(process)
        found: list[tuple[tuple[str, str], T]] = []
        for pipe in pipes:
            pipe.send({})  # the first round reads nobody's lines
        for number in range(len(rounds)):
            told, statements = [], []
            for pipe in pipes:  # each worker's lines, then its statements as they were pickled
                told.append(pipe.recv())
                if told[-1] != _FAILED:
                    statements.append(pipe.recv_bytes())
            if _FAILED in told:
                return None
            # the round's lines, for each worker's next round: those evaluated by another
            # worker, of payees whose lines one of its own may read
            learned: list[dict[tuple[str, str], Lines]] = [{} for _ in pipes]
            for index, lines_of in enumerate(told):
                for family_id, payee_id, lines in lines_of:
                    for other, lines_for in enumerate(learned):
                        if other != index and payee_id in readers[other]:
                            lines_for[(family_id, payee_id)] = lines
            if number + 1 < len(rounds):
                for pipe, lines_for in zip(pipes, learned, strict=True):
                    pipe.send(lines_for)
            for sent in statements:  # read while the workers go on with the next round
                found.extend((order, converted) for order, converted in ForkingPickler.loads(sent) if order is not None)
        return found
    except EOFError:  # a worker ended without a word (killed): evaluated again here, where any error shows
        return None
    finally:
        for pipe in pipes:
            with contextlib.suppress(OSError):  # (a worker that failed has gone)
                pipe.send(None)  # nothing more: stop
            pipe.close()
        for process in processes:
            process.join()
        gc.unfreeze()


def _worker(
    book: StatementBook, mine: list[list[Key]], convert: Callable[[Statement], object], read_elsewhere: set[str], pipe: Connection
) -> None:
    """In a forked worker: its payees (`mine`, round by round), each round started by the
    lines the other workers evaluated in the round before.  Each round it sends the lines of
    its payees in `read_elsewhere` first, then its statements: the parent hands the lines
    round as soon as it has them, and reads the statements while the next round runs."""
    book.keep_only({payee_id for keys in mine for _, payee_id, _ in keys})
    with localcontext(DECIMAL_CONTEXT):
        for keys in mine:
            learned = pipe.recv()
            if learned is None:
                return
            for (family_id, payee_id), lines in learned.items():
                book.remember_lines(family_id, payee_id, lines)
            try:
                part = _sent(book, keys, convert)
            except Exception:  # a fault, not a plan or data error: shown when evaluated again in the parent
                part = None
            if part is None:
                pipe.send(_FAILED)
                return
            pipe.send([(family_id, payee_id, lines) for (family_id, payee_id, _), _, _, lines in part if payee_id in read_elsewhere])
            pipe.send_bytes(ForkingPickler.dumps([(order, converted) for _, order, converted, _ in part]))
        pipe.recv()  # the parent's "stop"


def _rounds(book: StatementBook, keys: Sequence[Key]) -> list[list[Key]]:
    """The keys by the height of their payee in the organisation on the period's last day
    (0: nobody reports to them), lowest first: each round needs only earlier rounds' lines."""
    heights: dict[tuple[str, date], int] = {}
    by_height: dict[int, list[Key]] = defaultdict(list)
    for key in keys:
        _, payee_id, period = key
        at = (payee_id, period.last_day)
        if at not in heights:
            below = book.hierarchy.reports_of(payee_id, period.last_day, None)
            heights[at] = max((depth for _, depth in below), default=0)
        by_height[heights[at]].append(key)
    return [by_height[height] for height in sorted(by_height)]


def _line_readers(book: StatementBook, members: list[set[str]]) -> list[set[str]]:
    """For each worker (given its payees), the payees whose lines its own may read: everyone who ever
    reported to one of them, as deep as the plans' `earnings of ... reports` go (nobody, if
    no plan reads them).  More, never fewer, than any one period needs; a worker missing a
    report's lines would evaluate that statement itself, so this only saves sending lines
    nobody reads (most of them: teams are kept together)."""
    depths = [
        definition.levels
        for family in book.families.values()
        for version in family.versions
        for definition in version.definitions.values()
        if isinstance(definition, EarningsDef)
    ]
    if not depths:
        return [set() for _ in members]
    deepest = None if None in depths else max(d for d in depths if d is not None)
    return [book.hierarchy.ever_below(payees, deepest) for payees in members]


def _teams_shared_out(book: StatementBook, keys: Sequence[Key], workers: int) -> dict[str, int]:
    """Each payee's worker.  Teams stay together (someone with no reports goes with their
    manager on the period's last day), so a deal rolled up one level is credited by one
    worker, not two; teams go, largest first, to the worker with the fewest statements so far."""
    team_of: dict[str, str] = {}
    size: dict[str, int] = defaultdict(int)
    for _, payee_id, period in keys:
        team = team_of.get(payee_id)
        if team is None:
            day = period.last_day
            manager = book.hierarchy.manager_of(payee_id, day)
            leads = bool(book.hierarchy.reports_of(payee_id, day, 1))
            team = team_of[payee_id] = payee_id if leads or manager is None else manager
        size[team] += 1
    load = [0] * workers
    worker_of_team: dict[str, int] = {}
    for team in sorted(size, key=lambda t: (-size[t], t)):
        index = min(range(workers), key=lambda i: (load[i], i))
        worker_of_team[team] = index
        load[index] += size[team]
    return {payee_id: worker_of_team[team] for payee_id, team in team_of.items()}


#: A statement as it is sent back: its key, its place in statement order (None if the payee
#: had no statement), what `convert` made of it, and the (component, amount) lines of every
#: period evaluated for it, by label (the earlier periods of the year too).
Sent = tuple[Key, tuple[str, str] | None, object, Lines]


def _gather(part: list[Sent], found: list[tuple[tuple[str, str], T]]) -> None:
    for _key, order, converted, _lines in part:
        if order is not None:
            found.append((order, converted))  # type: ignore[arg-type]  # (what `convert` made: a T)


def _sent(book: StatementBook, keys: Sequence[Key], convert: Callable[[Statement], object]) -> list[Sent] | None:
    """The statements of `keys` as they are sent back, or None if evaluating one failed.
    Each payee's lines are remembered and their evaluator dropped as soon as it is done."""
    sent: list[Sent] = []
    try:
        for key in keys:
            family_id, payee_id, _ = key
            statement = book.statement(*key)
            lines = book.evaluated_lines(family_id, payee_id)
            book.remember_lines(family_id, payee_id, lines)
            converted = None if statement is None else convert(statement)
            book.forget(family_id, payee_id)
            sent.append((key, None if statement is None else (statement.payee_id, statement.plan.id), converted, lines))
    except CompengineError:
        return None
    return sent
