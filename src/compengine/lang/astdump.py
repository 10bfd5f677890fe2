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

#: Fields of the whole file that are not part of any item's meaning.
FILE_FIELDS = frozenset({"path", "text", "comments"})


def _ignored(node: object, name: str) -> bool:
    """Whether a field records where something was written rather than what it means: every
    span (`span`, `name_span`, `rollup_span`...), and the file's own bookkeeping.

    Only positions are left out: a `text` or `path` field of a node (a `Word`'s name, a
    `cites` text, a `use` path) is meaning and is compared.
    """
    return name == "span" or name.endswith("_span") or (isinstance(node, ast.PlanFile) and name in FILE_FIELDS)


def dump_plan(plan_file: ast.PlanFile) -> list[object]:
    """The items of a plan (headers, uses, revision markers and declarations, in source
    order) as nested data; which revision a declaration belongs to follows from the order."""
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
        fields = {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value) if not _ignored(value, f.name)}
        return {"node": type(value).__name__, **fields}
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"cannot dump {type(value).__name__}")
