"""Errors the core raises, each written for the comp admin or finance user who will read it."""

from __future__ import annotations

from compengine.core.source import SourceSpan


class CompengineError(Exception):
    """Base of every error that is shown to a user as a message rather than a traceback."""


class EvaluationError(CompengineError):
    """A plan could not be evaluated on this data (e.g. a missing quota, an unknown table key)."""

    def __init__(self, message: str, *, span: SourceSpan | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class PeriodError(CompengineError):
    """A period label that does not name a period of the plan's calendar."""


class PayoutError(CompengineError):
    """The inputs of a period's pay cannot be settled (lines that do not add up, a ledger
    history from later periods, a deal the policies need that is not given)."""


class DataIssue:
    """One bad data cell or row: where it is and what is wrong, for the person fixing it."""

    __slots__ = ("field", "file", "reason", "row")

    def __init__(self, file: str, row: int | None, field: str | None, reason: str):
        self.file = file
        self.row = row
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.reason}"

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "row": self.row, "field": self.field, "reason": self.reason}


class DataError(CompengineError):
    """Input data that cannot be used; lists every problem found, not just the first."""

    def __init__(self, issues: list[DataIssue]):
        self.issues = issues
        count = len(issues)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the input data")

    def __str__(self) -> str:
        return "\n".join([self.args[0] + ":"] + [f"  {issue}" for issue in self.issues])
