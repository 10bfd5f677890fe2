"""Work done in a forked process while this one goes on with something else.

A forked child inherits the parent's memory as it is at the fork, so it can read large data
(a load's rows) without anything being sent to it; only its answer comes back, pickled.
Where processes cannot be forked (Windows, macOS's default), the work is simply done in this
process when its answer is asked for, so callers never need a second code path.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

T = TypeVar("T")


def fork_context() -> multiprocessing.context.BaseContext | None:
    """The "fork" start method, or None where this system has none."""
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def usable_cores() -> int:
    """The cores this process may run on (a container's share, where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every system
        return os.cpu_count() or 1


class Alongside(Generic[T]):
    """`task()` running in a forked child from the moment this is made; `result()` waits for
    it.  If the child cannot be forked, or ends without an answer (killed, or its answer
    cannot be pickled), `result()` runs `task()` here, so whatever it raises is raised as
    if it had never left this process.  `task` must not touch anything shared with the
    parent but memory (no database connection, no open file it writes)."""

    def __init__(self, task: Callable[[], T], fork: bool = True) -> None:
        self._task = task
        self._pipe: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        context = fork_context() if fork else None
        if context is None:
            return
        here, there = context.Pipe(duplex=False)
        try:  # (a forked child inherits its target and arguments: `task` is never pickled)
            self._process = context.Process(target=_child, args=(task, there), daemon=True)  # type: ignore[attr-defined]
            self._process.start()
        finally:
            there.close()
        self._pipe = here

    def result(self) -> T:
        answer: tuple[str, object] | None = None
        if self._pipe is not None:
            with contextlib.suppress(EOFError, OSError):
                answer = self._pipe.recv()
            self._pipe.close()
            assert self._process is not None
            self._process.join()
        if answer is not None and answer[0] == "value":
            return answer[1]  # type: ignore[return-value]
        return self._task()  # not forked, or the child failed: done here, where any error shows


def _child(task: Callable[[], object], pipe: Connection) -> None:
    try:
        answer: tuple[str, object] = ("value", task())
    except BaseException:  # whatever it was, the parent does the work again and shows it
        answer = ("failed", None)
    try:
        pipe.send(answer)
    except Exception:  # an answer that cannot be pickled: the parent does the work again
        pipe.send(("failed", None))
    pipe.close()
