"""Load plan files: read, parse, check and compile, collecting every diagnostic on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compengine.core.plan import CompiledPlan
from compengine.core.source import SourceSpan
from compengine.lang.checker import check
from compengine.lang.compiler import compile_plan
from compengine.lang.diagnostics import Diagnostic, has_errors
from compengine.lang.parser import parse_plan, read_plan_bytes

PLAN_SUFFIX = ".comp"
ARGUMENTS = "<arguments>"  # the pseudo-source of problems with the paths given


@dataclass
class PlanSource:
    path: str
    text: str | None
    diagnostics: list[Diagnostic]
    plan: CompiledPlan | None = None


@dataclass
class LoadResult:
    sources: list[PlanSource] = field(default_factory=list)

    @property
    def plans(self) -> list[CompiledPlan]:
        return [s.plan for s in self.sources if s.plan is not None]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for s in self.sources for d in s.diagnostics]

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def text_of(self, path: str) -> str | None:
        return next((s.text for s in self.sources if s.path == path), None)


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


def compile_source(path: str, text: str) -> PlanSource:
    """Parse, check and (if clean) compile one plan's text."""
    parsed = parse_plan(path, text)
    if parsed.plan_file is None:
        return PlanSource(path, text, parsed.diagnostics)
    checked = check(parsed.plan_file)
    diagnostics = parsed.diagnostics + checked.diagnostics
    plan = None if has_errors(diagnostics) else compile_plan(checked)
    return PlanSource(path, text, diagnostics, plan)


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
        else:
            seen[plan_id] = source
