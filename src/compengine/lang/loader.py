"""Load plan files: read, parse, check and compile, collecting every diagnostic on the way.

A plan may `use` definitions from library files; the library's declarations (and those they
depend on) are checked as part of the plan, and the plan's content hash covers the library
text too, so changing a shared rate table changes the hash of every plan that uses it.  A plan
with revisions compiles to one `CompiledPlan` per version.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from compengine.core.plan import CompiledPlan
from compengine.core.source import SourceSpan
from compengine.lang import ast
from compengine.lang.checker import LIBRARY_KINDS, check, check_versions
from compengine.lang.compiler import compile_plan
from compengine.lang.diagnostics import Diagnostic, has_errors, suggest
from compengine.lang.parser import parse_plan, read_plan_bytes

PLAN_SUFFIX = ".comp"
ARGUMENTS = "<arguments>"  # the pseudo-source of problems with the paths given

Reader = Callable[[str], str]


@dataclass
class PlanSource:
    path: str
    text: str | None
    diagnostics: list[Diagnostic]
    plan: CompiledPlan | None = None
    versions: list[CompiledPlan] = field(default_factory=list)  # every version, base first
    texts: dict[str, str] = field(default_factory=dict)  # the plan's and its libraries' text, by path

    def text_for(self, path: str) -> str | None:
        return self.texts.get(path, self.text if path == self.path else None)


@dataclass
class LoadResult:
    sources: list[PlanSource] = field(default_factory=list)

    @property
    def plans(self) -> list[CompiledPlan]:
        """Every compiled version of every plan (a plan without revisions has one)."""
        return [version for s in self.sources for version in s.versions]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for s in self.sources for d in s.diagnostics]

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def text_of(self, path: str) -> str | None:
        return next((s.text_for(path) for s in self.sources if s.text_for(path) is not None), None)


def plan_files(paths: list[str]) -> tuple[list[str], list[Diagnostic]]:
    """Plan files named directly, or found (sorted) under folders."""
    found: list[str] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(str(p) for p in sorted(path.rglob(f"*{PLAN_SUFFIX}")))
        elif path.is_file():
            found.append(str(path))
        else:
            problems.append(
                Diagnostic(
                    SourceSpan(raw, 1, 1, 1, 1),
                    "E003",
                    f"there is no file or folder {raw}",
                    "check the path: give plan files (*.comp) or folders of them",
                )
            )
    return found, problems


def _read_file(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def compile_source(path: str, text: str, read: Reader = _read_file) -> PlanSource:
    """Parse, check and (if clean) compile one plan's text, with the libraries it uses."""
    parsed = parse_plan(path, text)
    if parsed.plan_file is None:
        return PlanSource(path, text, parsed.diagnostics, texts={path: text})
    plan_file = parsed.plan_file
    libraries = _Libraries(read)
    imported = libraries.resolve(plan_file)
    texts = {path: text, **libraries.texts}
    if plan_file.header is None and plan_file.library is not None:
        result = check(plan_file, imported)
        diagnostics = parsed.diagnostics + libraries.diagnostics + [d for d in result.diagnostics if d.code != "W100"]
        return PlanSource(path, text, diagnostics, texts=texts)
    results = check_versions(plan_file, imported)
    diagnostics = parsed.diagnostics + libraries.diagnostics + results[0].diagnostics
    if has_errors(diagnostics):
        return PlanSource(path, text, diagnostics, texts=texts)
    sha256 = content_hash(path, text, libraries.texts)
    versions = [compile_plan(result, texts, sha256) for result in results]
    return PlanSource(path, text, diagnostics, versions[0], versions, texts)


def resolve_libraries(plan_file: ast.PlanFile, read: Reader = _read_file) -> list[ast.Decl]:
    """The declarations a plan brings in with `use` (problems are left to the checker's run)."""
    return _Libraries(read).resolve(plan_file)


def content_hash(path: str, text: str, libraries: dict[str, str]) -> str:
    """The plan's SHA-256: its own text, plus each library it uses (by relative path)."""
    digest = hashlib.sha256(text.encode("utf-8"))
    if not libraries:
        return digest.hexdigest()
    base = os.path.dirname(path)
    for library in sorted(libraries):
        digest.update(b"\0" + os.path.relpath(library, base or ".").encode("utf-8") + b"\0" + libraries[library].encode("utf-8"))
    return digest.hexdigest()


class _Libraries:
    """Resolves `use` declarations: reads and parses library files (once each), finds the
    names asked for and the library definitions they depend on."""

    def __init__(self, read: Reader):
        self.read = read
        self.texts: dict[str, str] = {}
        self.files: dict[str, ast.PlanFile | None] = {}
        self.diagnostics: list[Diagnostic] = []

    def resolve(self, plan_file: ast.PlanFile, seen: frozenset[str] = frozenset()) -> list[ast.Decl]:
        imported: list[ast.Decl] = []
        names: set[str] = set()
        for use in plan_file.uses:
            library_path = os.path.normpath(os.path.join(os.path.dirname(plan_file.path), use.path))
            library = self._load(use, library_path, seen | {plan_file.path})
            if library is None:
                continue
            available = {_library_key(decl): decl for decl in library.decls}
            for word in use.names:
                decl = available.get(word.text) or available.get(f"deal.{word.text}") or available.get(f"payee.{word.text}")
                if decl is None:
                    self.diagnostics.append(
                        Diagnostic(
                            word.span,
                            "E020",
                            f"library {use.path} has no `{word.text}`",
                            suggest(word.text, list(available)) or "check the name",
                        )
                    )
                    continue
                if not isinstance(decl, LIBRARY_KINDS):  # a component or rule must not slip into the plan unreported
                    self.diagnostics.append(
                        Diagnostic(
                            word.span,
                            "E017",
                            f"`{word.text}` in {use.path} is a {decl.keyword}, which a library cannot share",
                            "move it into this plan",
                        )
                    )
                    continue
                for needed in _with_dependencies(decl, available):
                    if _library_key(needed) not in names:
                        names.add(_library_key(needed))
                        imported.append(needed)
        return imported

    def _load(self, use: ast.UseDecl, library_path: str, seen: frozenset[str]) -> ast.PlanFile | None:
        if library_path in seen:
            self.diagnostics.append(
                Diagnostic(use.path_span, "E060", f"{use.path} uses the file that uses it", "libraries cannot use each other in a circle")
            )
            return None
        if library_path not in self.files:
            self.files[library_path] = self._parse(use, library_path, seen)
        return self.files[library_path]

    def _parse(self, use: ast.UseDecl, library_path: str, seen: frozenset[str]) -> ast.PlanFile | None:
        try:
            text = self.read(library_path)
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
            self.diagnostics.append(
                Diagnostic(use.path_span, "E003", f"cannot read the library {use.path}: {reason}", "check the path, relative to this file")
            )
            return None
        self.texts[library_path] = text
        parsed = parse_plan(library_path, text)
        self.diagnostics.extend(parsed.diagnostics)
        library = parsed.plan_file
        if library is None:
            return None
        if library.library is None:
            self.diagnostics.append(
                Diagnostic(use.path_span, "E017", f"{use.path} is not a library", 'a library file starts with `library <name> "<title>"`')
            )
            return None
        nested = self.resolve(library, seen)
        if nested:
            library.decls = [*nested, *library.decls]
        return library


def _with_dependencies(decl: ast.Decl, available: dict[str, ast.Decl]) -> list[ast.Decl]:
    """`decl` and the library definitions it refers to, dependencies first."""
    ordered: list[ast.Decl] = []
    visiting: set[str] = set()

    def visit(current: ast.Decl) -> None:
        name = _library_key(current)
        if name in visiting or current in ordered:
            return
        visiting.add(name)
        for used in sorted(_names_used(current)):
            if used in available and used != name:
                visit(available[used])
        ordered.append(current)

    visit(decl)
    return ordered


def _library_key(decl: ast.Decl) -> str:
    """How a library definition is found: attributes by `deal.x` / `payee.x`, the rest by name."""
    if isinstance(decl, ast.AttributeDecl):
        return f"{decl.owner}.{decl.name.text}"
    return decl.name.text


def _names_used(node: object) -> set[str]:
    """Every name a declaration refers to (values, quotas, curves, deal and payee fields)."""
    found: set[str] = set()
    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.NameRef | ast.WindowedRef | ast.Call):
            found.add(current.name)
        if isinstance(current, ast.FieldRef):
            found.add(f"{current.scope}.{current.name}")
        if isinstance(current, ast.Node | ast.Expr):
            for value in vars(current).values():
                if isinstance(value, ast.Node | ast.Expr):
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(v for v in value if isinstance(v, ast.Node | ast.Expr))
    return found


def load_plans(paths: list[str]) -> LoadResult:
    files, problems = plan_files(paths)
    result = LoadResult()
    if problems:
        result.sources.append(PlanSource(ARGUMENTS, None, problems))
    for path in files:
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            span = SourceSpan(path, 1, 1, 1, 1)
            result.sources.append(PlanSource(path, None, [Diagnostic(span, "E003", f"cannot read the file: {error.strerror}")]))
            continue
        text, diagnostics = read_plan_bytes(path, data)
        if text is None:
            result.sources.append(PlanSource(path, None, diagnostics))
            continue
        result.sources.append(compile_source(path, text))
    _check_unique_ids(result)
    return result


def _check_unique_ids(result: LoadResult) -> None:
    seen: dict[str, PlanSource] = {}
    for source in result.sources:
        if source.plan is None:
            continue
        plan_id = source.plan.id
        if plan_id in seen:
            first = seen[plan_id]
            source.diagnostics.append(
                Diagnostic(
                    source.plan.header.span, "E021", f"plan `{plan_id}` is also defined in {first.path}", "give each plan its own name"
                )
            )
            source.plan = None
            source.versions = []
        else:
            seen[plan_id] = source
