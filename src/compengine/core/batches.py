"""Evaluating a period's statements on several cores: worker processes over batches of payees.

After crediting, a payee's statement depends only on their own credits, quotas and inputs,
and on their reports' statements for earnings of reports, which the book evaluates on demand.
So the statements can be evaluated in separate processes: the parent credits every plan once,
then forks; each worker inherits the credited book (copy-on-write, nothing is sent) and
evaluates its batches of payees; what it sends back is what `convert` makes of each
statement (plain data: statements hold compiled plans, which cannot be sent).  A report's
statement evaluated in two workers is evaluated twice, identically.

The result is the same, in the same order, whatever the number of workers: the parts are put
in statement order (payee, plan) as `calculate` does.  If a worker meets an error, the whole
calculation is redone in this process so the error raised is exactly the one a single process
raises.  Where processes cannot be forked (Windows, macOS's default), it runs in one.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import localcontext
from typing import Generic, TypeVar

from compengine.core.calculation import StatementBook, Work, plan_work
from compengine.core.data import Dataset
from compengine.core.errors import CompengineError
from compengine.core.evaluation import Statement
from compengine.core.money import DECIMAL_CONTEXT
from compengine.core.periods import Period
from compengine.core.plan import CompiledPlan

T = TypeVar("T")
Key = tuple[str, str, Period]

#: Batches per worker: smaller batches even out payees of unequal cost (managers cost more).
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
    with localcontext(DECIMAL_CONTEXT):
        book, work = plan_work(plans, data, period_label, payees)
        context = _fork_context()
        if workers > 1 and context is not None and len(work.keys) > 1:
            book.credit_all()
            found = _in_workers(context, book, work, convert, workers)
            if found is not None:
                return Evaluated([part for _, part in sorted(found, key=lambda item: item[0])], work.notes)
        ordered = _evaluate_batch(book, work.keys, convert)
        return Evaluated([part for _, part in sorted(ordered, key=lambda item: item[0])], work.notes)


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


def _in_workers(
    context: multiprocessing.context.BaseContext, book: StatementBook, work: Work, convert: Callable[[Statement], T], workers: int
) -> list[tuple[tuple[str, str], T]] | None:
    """The converted statements, or None if a worker met an error (to be raised in-process)."""
    global _job
    count = min(len(work.keys), workers * BATCHES_PER_WORKER)
    size = -(-len(work.keys) // count)
    batches = [list(work.keys[i : i + size]) for i in range(0, len(work.keys), size)]
    _job = (book, batches, convert)
    try:
        with context.Pool(workers) as pool:
            parts = pool.map(_run_batch, range(len(batches)), chunksize=1)
    finally:
        _job = None
    found: list[tuple[tuple[str, str], T]] = []
    for part in parts:
        if part is None:
            return None
        found.extend(part)  # type: ignore[arg-type]  # (what `convert` made: a T)
    return found


def _run_batch(index: int) -> list[tuple[tuple[str, str], object]] | None:
    """In a worker: one batch's converted statements, or None if evaluating it failed."""
    assert _job is not None, "a batch runs in a forked worker, which inherits the job"
    book, batches, convert = _job
    try:
        with localcontext(DECIMAL_CONTEXT):
            return _evaluate_batch(book, batches[index], convert)
    except CompengineError:
        return None
