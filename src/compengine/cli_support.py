"""What every `compengine` command shares: the consoles, the exit codes, and the guard that
turns any failure into a message for a comp admin instead of a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

import typer
from rich.console import Console

from compengine.core.errors import CompengineError

# Piped or redirected output is read in files and logs, not an 80-column terminal: give tables
# room so amounts are never cut short.
_WIDTH = None if sys.stdout.isatty() else 160
out = Console(highlight=False, soft_wrap=True, width=_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_WIDTH)

T = TypeVar("T")

EXIT_INVALID = 1  # the plans or data are wrong: fix them
EXIT_USAGE = 2
EXIT_INTERNAL = 70


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class ResultFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def guard(action: Callable[[], T]) -> T:
    """Run a command body; turn every failure into a message and an exit code."""
    try:
        return action()
    except typer.Exit:
        raise
    except CompengineError as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as error:
        if _is_unreachable_database(error):
            err.print(f"error: cannot use the database: {_first_line(error)}", markup=False)
            err.print("Check COMPENGINE_DATABASE_URL (or --db) and that the database server is running.", markup=False)
            raise typer.Exit(EXIT_INVALID) from None
        # anything else is a bug in compengine: say so plainly
        if os.environ.get("COMPENGINE_DEBUG"):
            raise
        err.print(
            f"internal error: {type(error).__name__}: {error}\n"
            "This is a bug in compengine, not in your plan or data. "
            "Run again with COMPENGINE_DEBUG=1 to see the details, and please report it.",
            markup=False,
        )
        raise typer.Exit(EXIT_INTERNAL) from None


def count(n: int, noun: str) -> str:
    """`1 line`, `2 lines`, `3 ledger entries`."""
    if n == 1:
        return f"{n} {noun}"
    plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{n} {plural}"


def _is_unreachable_database(error: Exception) -> bool:
    """A database that cannot be reached or opened is the operator's to fix, not a bug."""
    module = type(error).__module__
    return module.startswith("sqlalchemy") and type(error).__name__ in ("OperationalError", "ArgumentError", "NoSuchModuleError")


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
