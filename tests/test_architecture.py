"""The dependency direction: the domain core knows nothing of its adapters.

The language front end compiles into the core; CSV loading, the CLI and reports are adapters
around it.  So no module of `compengine.core` may import the parser library, the front end,
the adapters, or a terminal / web / database library.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import REPO

CORE = REPO / "src" / "compengine" / "core"
FORBIDDEN = (
    "lark",
    "typer",
    "rich",
    "yaml",
    "sqlalchemy",
    "fastapi",
    "pydantic",
    "compengine.lang",
    "compengine.io",
    "compengine.cli",
    "compengine.cli_support",
    "compengine.cli_records",
    "compengine.store",
    "compengine.service",
    "compengine.report",
    "compengine.plantest",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_the_core_imports_nothing_from_the_front_end_or_the_adapters(module: Path) -> None:
    offending = sorted(m for m in imported_modules(module) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert offending == [], f"{module.name} imports {offending}"


def test_the_core_never_uses_binary_floating_point_for_amounts() -> None:
    for module in CORE.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "float"]
        floats = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)]
        assert not calls and not floats, f"{module.name} uses float"


SERVICE_AND_STORE = sorted([*(REPO / "src" / "compengine" / "service").glob("*.py"), *(REPO / "src" / "compengine" / "store").glob("*.py")])
WEB = ("compengine.api", "fastapi", "starlette", "uvicorn")


@pytest.mark.parametrize("module", SERVICE_AND_STORE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_service_and_the_store_never_import_the_api_or_the_web_framework(module: Path) -> None:
    """The API is a thin layer over the service; the CLI uses the same service without it."""
    offending = sorted(m for m in imported_modules(module) if any(m == w or m.startswith(w + ".") for w in WEB))
    assert offending == [], f"{module.name} imports {offending}"
