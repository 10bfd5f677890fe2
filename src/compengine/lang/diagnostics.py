"""Diagnostics: what is wrong with a plan, where, and how to fix it.

Rendered for people as

    plans/ae.comp:12:5: error[E020]: unknown name `bookngs`
       12 |   on bookngs
          |      ^^^^^^^
      hint: did you mean `bookings`?

and for tools as JSON objects with the same fields.  Every code is listed in `CODES` with a
one-line summary; docs/language.md documents them all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from compengine.core.source import SourceSpan

CODES: dict[str, str] = {
    "E001": "syntax error",
    "E002": "a character the language does not use",
    "E003": "the file cannot be read as a plan (missing, binary, not UTF-8, or too large)",
    "E004": "nesting too deep",
    "E005": "a date that is not on the calendar",
    "E010": "the plan header is missing, repeated, or not first",
    "E011": "a required header clause is missing",
    "E012": "no rounding policy",
    "E013": "a header clause is repeated",
    "E014": "an invalid choice in a fixed-choice position",
    "E015": "an empty or reversed date range",
    "E016": "revisions out of order",
    "E017": "something a library cannot hold",
    "E020": "unknown name",
    "E021": "a name is defined twice",
    "E022": "unknown field",
    "E023": "unknown type",
    "E030": "units that cannot be combined",
    "E031": "a value of the wrong type",
    "E032": "a name used the wrong way",
    "E033": "a value used where it cannot be known",
    "E040": "a gap between tier bands",
    "E041": "overlapping tier bands",
    "E042": "the last tier band is not open-ended",
    "E043": "the first tier band does not start at zero",
    "E044": "tier rows that do not fit the tier mode",
    "E045": "tier bounds in the wrong unit",
    "E050": "a gap in an effective-dated value",
    "E051": "overlapping effective dates",
    "E052": "an effective-dated value that does not cover the plan's start",
    "E060": "definitions that depend on each other in a cycle",
    "E061": "rules for one value that both apply, with no precedence between them",
    "E070": "split shares that do not add up to 100%",
    "E071": "seasonality that does not fit the calendar",
    "E080": "a component missing a clause it needs",
    "E081": "a component with clauses that cannot go together",
    "E082": "a clause given twice",
    "E090": "a table key given twice",
    "E092": "overlapping rows in a decision table whose hit policy is unique",
    "W100": "a definition that nothing uses",
    "W101": "a year-to-date amount paid every period without a true-up",
}


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    span: SourceSpan
    code: str
    message: str
    hint: str | None = None

    @property
    def severity(self) -> Severity:
        return Severity.WARNING if self.code.startswith("W") else Severity.ERROR

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }

    def render(self, source: str | None) -> str:
        """The diagnostic with the offending source line and a caret under the span."""
        head = f"{self.span}: {self.severity.value}[{self.code}]: {self.message}"
        lines = [head]
        source_line = _line_of(source, self.span.line)
        if source_line is not None:
            gutter = f"{self.span.line:>5} | "
            lines.append(gutter + source_line)
            start = max(self.span.column - 1, 0)
            if self.span.end_line == self.span.line:
                width = max(self.span.end_column - self.span.column, 1)
            else:
                width = max(len(source_line) - start, 1)
            lines.append(" " * (len(gutter) - 2) + "| " + _caret_pad(source_line, start) + "^" * width)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def _line_of(source: str | None, line: int) -> str | None:
    if source is None:
        return None
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return None
    return lines[line - 1].rstrip("\r")[:300]


def _caret_pad(source_line: str, width: int) -> str:
    """Spaces under the text before the caret, keeping tabs so the caret lines up."""
    return "".join("\t" if ch == "\t" else " " for ch in source_line[:width])


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """A `did you mean` hint for a misspelt name, or None when nothing is close."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean `{close[0]}`?"
    return None


def choose_hint(word: str, choices: Iterable[str]) -> str:
    """The closest choice if there is one, else the list of valid choices."""
    options = list(choices)
    return suggest(word, options) or "write one of: " + ", ".join(f"`{c}`" for c in options)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
