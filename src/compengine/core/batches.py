"""Evaluating a period's statements on several cores: worker processes over batches of payees.

After crediting, a payee's statement depends only on their own credits, quotas and inputs,
and on their reports' statement lines (earnings of reports).  So the parent credits every
plan once and evaluates in rounds, from the bottom of the organisation up: first everyone
with no reports, then their managers, and so on.  For each round it forks workers, which
inherit the credited book (copy-on-write: nothing is sent to them) and evaluate their
batches of payees; what comes back is what `convert` makes of each statement (plain data:
statements hold compiled plans, which cannot be sent) and the statement's lines, which the
parent remembers in the book so that the next round's managers read them instead of
evaluating their reports again.

The result is the same, in the same order, whatever the number of workers: the parts are put
in statement order (payee, plan) as `calculate` does.  If a worker meets an error, the whole
calculation is redone in this process so the error raised is exactly the one a single process
raises.  Where processes cannot be forked (Windows, macOS's default), it runs in one.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Generic, TypeVar

from compengine.core.calculation import StatementBook, Work, plan_work
from compengine.core.data import Dataset
from compengine.core.errors import CompengineError
from compengine.core.evaluation import Statement
from compengine.core.gcpause import paused_gc
from compengine.core.money import DECIMAL_CONTEXT
from compengine.core.periods import Period
from compengine.core.plan import CompiledPlan

T = TypeVar("T")
Key = tuple[str, str, Period]

#: Batches per worker: smaller batches even out payees of unequal cost (managers, and plans
#: with proration or currencies, cost more).
BATCHES_PER_WORKER = 4


@dataclass(frozen=True)
class Evaluated(Generic[T]):
    """What `convert` made of each statement, in statement order, and the calculation's notes."""

    parts: list[T]
    notes: tuple[str, ...]


def evaluate(
    plans: Sequence[CompiledPlan],
    data: Dataset,
    period_label: str,
    convert: Callable[[Statement], T],
    workers: int = 1,
    payees: Iterable[str] | None = None,
) -> Evaluated[T]:
    """`convert(statement)` for every statement `calculate` would give, in the same order,
    evaluated by `workers` processes."""
    with localcontext(DECIMAL_CONTEXT), paused_gc():  # (as `calculate`: see core/gcpause.py)
        book, work = plan_work(plans, data, period_label, payees)
        try:
            found = _by_rounds(book, work, convert, workers)
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


def _fork_context() -> multiprocessing.context.BaseContext | None:
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


# What the forked workers read: set in the parent just before forking (inherited, never sent).
_job: tuple[StatementBook, list[list[Key]], Callable[[Statement], object]] | None = None


def _by_rounds(book: StatementBook, work: Work, convert: Callable[[Statement], T], workers: int) -> list[tuple[tuple[str, str], T]] | None:
    """The converted statements, round by round from the bottom of the organisation up, or
    None if evaluating one met an error (to be raised as a single process raises it).

    With one worker (or where processes cannot be forked) every round is evaluated here.
    Otherwise each round is shared out to forked workers, which inherit the credited book;
    the first statement is evaluated here before any fork, so the caches it fills
    (calendars, typed values) are inherited warm rather than filled again in every worker,
    and a round too small to share is evaluated here too."""
    global _job
    context = _fork_context() if workers > 1 and len(work.keys) > 1 else None
    if context is not None:
        book.credit_all()
    found: list[tuple[tuple[str, str], T]] = []
    for index, keys in enumerate(_rounds(book, work.keys)):
        here = keys if context is None or len(keys) < workers * 2 else keys[:1] if index == 0 else []
        parts = [_sent(book, here, convert)]
        keys = keys[len(here) :]
        if keys:
            assert context is not None
            count = min(len(keys), workers * BATCHES_PER_WORKER)
            batches = [keys[i::count] for i in range(count)]  # dealt out in turn: each batch gets some of every plan
            _job = (book, batches, convert)
            gc.freeze()  # the workers' garbage collector leaves the inherited objects (and their pages) alone
            try:
                with context.Pool(min(workers, len(batches))) as pool:
                    parts += pool.map(_run_batch, range(len(batches)), chunksize=1)
            finally:
                _job = None
                gc.unfreeze()
        for part in parts:
            if part is None:
                return None
            for (family_id, payee_id, _), order, converted, lines in part:
                book.remember_lines(family_id, payee_id, lines)  # (a worker's: this book has not seen them)
                if order is not None:
                    found.append((order, converted))  # type: ignore[arg-type]  # (what `convert` made: a T)
    return found


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


#: A statement as a worker sends it back: its key, its place in statement order (None if the
#: payee had no statement), what `convert` made of it, and the (component, amount) lines of
#: every period evaluated for it, by label (the earlier periods of the year too).
Sent = tuple[Key, tuple[str, str] | None, object, dict[str, tuple[tuple[str, Decimal], ...]]]


def _run_batch(index: int) -> list[Sent] | None:
    """In a worker: one batch's statements."""
    assert _job is not None, "a batch runs in a forked worker, which inherits the job"
    book, batches, convert = _job
    with localcontext(DECIMAL_CONTEXT):
        return _sent(book, batches[index], convert)


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
