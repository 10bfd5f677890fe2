"""Work done alongside in a forked process gives what it would give here, errors included."""

from __future__ import annotations

import os

import pytest

from compengine.core.errors import DataError, DataIssue
from compengine.core.forking import Alongside, fork_context

needs_fork = pytest.mark.skipif(fork_context() is None, reason="this system cannot fork processes")


@needs_fork
def test_the_work_runs_in_another_process_and_its_answer_comes_back() -> None:
    parent = os.getpid()

    pid = Alongside(os.getpid).result()

    assert pid != parent


def test_without_forking_the_work_is_done_here_when_its_answer_is_asked_for() -> None:
    done: list[int] = []
    work = Alongside(lambda: done.append(os.getpid()) or len(done), fork=False)

    assert done == []  # nothing yet
    assert work.result() == 1 and done == [os.getpid()]


def _refuse() -> None:
    raise DataError([DataIssue("deals.csv", 3, "amount", "'1.2e3' is not a decimal number")])


@pytest.mark.parametrize("fork", [False, True], ids=["here", "forked"])
def test_an_error_in_the_work_is_raised_by_result_as_if_it_had_run_here(fork: bool) -> None:
    work = Alongside(_refuse, fork=fork)

    with pytest.raises(DataError) as raised:
        work.result()

    assert [(i.file, i.row, i.field) for i in raised.value.issues] == [("deals.csv", 3, "amount")]


@needs_fork
def test_an_answer_that_cannot_be_sent_back_is_worked_out_here_instead() -> None:
    parent = os.getpid()

    answer = Alongside(lambda: (os.getpid(), lambda: None)).result()  # a function cannot be pickled

    assert answer[0] == parent
