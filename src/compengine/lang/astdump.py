"""A plan's syntax tree as plain nested data, without positions or comments.

Two plan texts mean the same thing exactly when their dumps are equal, which is how the
formatter is shown to change layout only.  The dump walks the dataclasses generically, so
a field added to the tree is compared without anyone remembering to add it here.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from compengine.core.source import SourceSpan
from compengine.lang import ast

#: Fields that record where or how something was written, not what it means.
IGNORED_FIELDS = frozenset({"span", "name_span", "path", "text", "comments"})


def dump_plan(plan_file: ast.PlanFile) -> list[object]:
    """The items of a plan (header and declarations, in order) as nested data."""
    return [dump(item) for item in plan_file.items]


def dump(value: object) -> object:
    """A tree node or field value as dicts, lists and tagged scalars.

    Decimals are dumped as their text so `1.0` and `1.00` differ: the digits a plan was
    written with are part of what the formatter must keep.
    """
    if isinstance(value, SourceSpan | ast.Comment):
        return None
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    if isinstance(value, date):
        return ("date", value.isoformat())
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in IGNORED_FIELDS}
        return {"node": type(value).__name__, **fields}
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"cannot dump {type(value).__name__}")
