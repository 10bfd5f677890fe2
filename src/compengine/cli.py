"""The `compengine` command: check, format, calculate, explain and test plans.

The CLI only translates between the terminal and the library: every command calls the same
functions a service would, and every failure reaches the user as a message, never a
traceback (set COMPENGINE_DEBUG=1 to see one).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from compengine import __version__
from compengine.cli_records import register
from compengine.cli_service import register as register_service
from compengine.cli_support import EXIT_INTERNAL, EXIT_INVALID, ResultFormat, TextOrJson, count, err, guard, out
from compengine.core.calculation import CalculationResult, calculate
from compengine.core.money import group_digits
from compengine.core.trace import build_line_trace, trace_json
from compengine.io.csv_data import load_dataset
from compengine.lang.diagnostics import Severity
from compengine.lang.loader import ARGUMENTS, LoadResult, load_plans
from compengine.report.explain import explain_line

app = typer.Typer(
    help="compengine: sales compensation plans as checked, explainable code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_diagnostics(result: LoadResult, fmt: TextOrJson, stream: Console) -> None:
    diagnostics = result.diagnostics
    if fmt is TextOrJson.json:
        out.print(json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False), markup=False)
        return
    for source in result.sources:
        for diagnostic in source.diagnostics:
            stream.print(diagnostic.render(source.text_for(diagnostic.span.file)), markup=False)
            stream.print("", markup=False)


def _load_or_exit(paths: list[str]) -> LoadResult:
    result = load_plans(paths)
    if not result.ok:
        _print_diagnostics(result, TextOrJson.text, err)
        errors = sum(1 for d in result.diagnostics if d.severity is Severity.ERROR)
        err.print(f"{errors} error{'s' if errors != 1 else ''} in the plans; nothing was calculated.", markup=False)
        raise typer.Exit(EXIT_INVALID)
    if not result.plans:
        err.print("no plan files (*.comp) were found", markup=False)
        raise typer.Exit(EXIT_INVALID)
    return result


@app.command()
def check(
    paths: Annotated[list[str], typer.Argument(help="Plan files or folders of plans (*.comp).")],
    format: Annotated[TextOrJson, typer.Option("--format", help="text for people, json for tools")] = TextOrJson.text,
) -> None:
    """Check plans and report every problem with its file:line:col; exit 1 on any error."""

    def run() -> None:
        result = load_plans(paths)
        _print_diagnostics(result, format, out)
        errors = sum(1 for d in result.diagnostics if d.severity is Severity.ERROR)
        warnings = len(result.diagnostics) - errors
        files = sum(1 for source in result.sources if source.path != ARGUMENTS)
        if files == 0 and errors == 0:
            err.print(f"no plan files (*.comp) were found in {', '.join(paths)}", markup=False)
            raise typer.Exit(EXIT_INVALID)
        if format is TextOrJson.text:
            summary = f"checked {count(files, 'file')}: {count(errors, 'error')}, {count(warnings, 'warning')}"
            (out if errors == 0 else err).print(summary, markup=False)
        if errors:
            raise typer.Exit(EXIT_INVALID)

    guard(run)


@app.command()
def fmt(
    paths: Annotated[list[str], typer.Argument(help="Plan files or folders of plans.")],
    check_only: Annotated[bool, typer.Option("--check", help="Only report files that are not formatted; change nothing.")] = False,
) -> None:
    """Rewrite plans in the canonical layout (or, with --check, list those that differ)."""

    def run() -> None:
        from compengine.lang.formatter import format_source
        from compengine.lang.loader import plan_files

        files, problems = plan_files(paths)
        if problems:
            for problem in problems:
                err.print(problem.render(None), markup=False)
            raise typer.Exit(EXIT_INVALID)
        changed = 0
        failed = 0
        for path in files:
            text = Path(path).read_text(encoding="utf-8")
            formatted, diagnostics = format_source(path, text)
            if formatted is None:
                failed += 1
                for diagnostic in diagnostics:
                    err.print(diagnostic.render(text), markup=False)
                continue
            if formatted != text:
                changed += 1
                if check_only:
                    out.print(f"would reformat {path}", markup=False)
                else:
                    Path(path).write_text(formatted, encoding="utf-8")
                    out.print(f"reformatted {path}", markup=False)
        if failed:
            raise typer.Exit(EXIT_INVALID)
        if check_only and changed:
            raise typer.Exit(EXIT_INVALID)
        if not changed:
            out.print(f"{len(files)} file{'s' if len(files) != 1 else ''} already formatted", markup=False)

    guard(run)


def _calculate(plans: list[str], data: str, period: str, payee: list[str] | None) -> CalculationResult:
    loaded = _load_or_exit(plans)
    dataset = load_dataset(data)
    result = calculate(loaded.plans, dataset, period, payee or None)
    for note in result.notes:
        err.print(f"note: {note}", markup=False)
    if payee:
        missing = sorted(set(payee) - {s.payee_id for s in result.statements})
        for payee_id in missing:
            err.print(f"note: no statement for payee {payee_id} in {period} (not assigned to any of these plans then)", markup=False)
    return result


PlansOption = Annotated[list[str], typer.Option("--plans", help="Plan files or folders (repeatable).")]
DataOption = Annotated[str, typer.Option("--data", help="Folder with payees.csv, assignments.csv, quotas.csv, deals.csv.")]
PeriodOption = Annotated[str, typer.Option("--period", help="The period: 2026-Q1, 2026-M03 or FY2026.")]


@app.command()
def calc(
    plans: PlansOption,
    data: DataOption,
    period: PeriodOption,
    payee: Annotated[list[str] | None, typer.Option("--payee", help="Only these payees (repeatable).")] = None,
    format: Annotated[ResultFormat, typer.Option("--format")] = ResultFormat.table,
) -> None:
    """Calculate every payee's statement for a period."""

    def run() -> None:
        result = _calculate(plans, data, period, payee)
        if format is ResultFormat.json:
            out.print(json.dumps(result.to_json(), indent=2, ensure_ascii=False), markup=False)
        elif format is ResultFormat.csv:
            out.print(_result_csv(result), end="", markup=False)
        else:
            _print_statements(result)

    guard(run)


def _result_csv(result: CalculationResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", "payee", "payee_name", "plan", "line_id", "component", "description", "amount", "currency"])
    for statement in result.statements:
        for line in statement.lines:
            writer.writerow(
                [
                    statement.period.label,
                    statement.payee_id,
                    statement.payee_name,
                    statement.plan.id,
                    line.id,
                    line.component.name,
                    line.component.description,
                    f"{line.amount:f}",
                    statement.currency,
                ]
            )
    return buffer.getvalue()


def _print_statements(result: CalculationResult) -> None:
    if not result.statements:
        out.print(f"no statements for {result.period}", markup=False)
        return
    for statement in result.statements:
        plan = statement.plan
        table = Table(
            title=f"{statement.payee_name} ({statement.payee_id}) · {statement.period.label} · {plan.header.title} v{plan.header.version}",
            title_justify="left",
            show_footer=True,
        )
        table.add_column("line", footer="total")
        table.add_column("description")
        table.add_column(statement.currency, justify="right", footer=group_digits(statement.total, plan.header.rounding.places))
        for line in statement.lines:
            table.add_row(line.component.name, line.component.description, group_digits(line.amount, plan.header.rounding.places))
        out.print(table)
    total_payees = len({s.payee_id for s in result.statements})
    out.print(f"{len(result.statements)} statements for {total_payees} payees · result_sha256 {result.result_sha256}", markup=False)


@app.command()
def explain(
    plans: PlansOption,
    data: DataOption,
    period: PeriodOption,
    payee: Annotated[str, typer.Option("--payee", help="The payee whose statement to explain.")],
    line: Annotated[str | None, typer.Option("--line", help="One line: its id or its component name.")] = None,
    format: Annotated[TextOrJson, typer.Option("--format")] = TextOrJson.text,
) -> None:
    """Explain a payee's statement lines down to the deals, as a tree or as JSON."""

    def run() -> None:
        result = _calculate(plans, data, period, [payee])
        statements = [s for s in result.statements if s.payee_id == payee]
        if not statements:
            raise typer.Exit(EXIT_INVALID)
        traces = []
        for statement in statements:
            for item in statement.lines:
                if line is None or line in (item.id, item.component.name):
                    traces.append(build_line_trace(statement, item))
        if not traces:
            names = ", ".join(item.component.name for s in statements for item in s.lines)
            err.print(f"error: payee {payee} has no line {line!r} in {period}; the lines are: {names}", markup=False)
            raise typer.Exit(EXIT_INVALID)
        if format is TextOrJson.json:
            payload: Any = [trace_json(t) for t in traces]
            out.print(json.dumps(payload if len(payload) > 1 else payload[0], indent=2, ensure_ascii=False), markup=False)
        else:
            out.print("\n\n".join(explain_line(t) for t in traces), markup=False)

    guard(run)


@app.command("test")
def test_plans(
    paths: Annotated[list[str], typer.Argument(help="Plan files or folders; their *.tests.yaml files are run.")],
) -> None:
    """Run the plan test cases (YAML files next to the plans)."""

    def run() -> None:
        from compengine.plantest import run_plan_tests

        report = run_plan_tests(paths)
        for case in report.cases:
            mark = "ok  " if case.passed else "FAIL"
            out.print(f"{mark} {case.file}: {case.name}", markup=False)
            for problem in case.problems:
                out.print(f"     {problem}", markup=False)
        failed = sum(1 for c in report.cases if not c.passed)
        out.print(f"{len(report.cases)} plan tests, {failed} failed", markup=False)
        if failed or not report.cases:
            raise typer.Exit(EXIT_INVALID)

    guard(run)


class DocFormat(StrEnum):
    markdown = "markdown"
    html = "html"


@app.command()
def doc(
    plan: Annotated[str, typer.Argument(help="The plan file (*.comp); its *.tests.yaml cases become the worked examples.")],
    format: Annotated[DocFormat, typer.Option("--format", help="markdown, or html for a standalone page")] = DocFormat.markdown,
    output: Annotated[str | None, typer.Option("--output", help="Write the document to this file instead of printing it.")] = None,
) -> None:
    """Write the plan document a payee signs: rates, tiers, caps, dates, worked examples and the plan's hash."""

    def run() -> None:
        from compengine.report.plandoc import document_plan, render_html, render_markdown

        outcome = document_plan(plan)
        for diagnostic in outcome.diagnostics:
            err.print(diagnostic.render(outcome.text), markup=False)
            err.print("", markup=False)
        if outcome.document is None:
            errors = sum(1 for d in outcome.diagnostics if d.severity is Severity.ERROR)
            err.print(f"{count(errors, 'error')} in {plan}; no document was written.", markup=False)
            raise typer.Exit(EXIT_INVALID)
        text = render_html(outcome.document) if format is DocFormat.html else render_markdown(outcome.document)
        if output is None:
            out.print(text, end="", markup=False, emoji=False)
        else:
            Path(output).write_text(text, encoding="utf-8")
            err.print(f"wrote {output}", markup=False)

    guard(run)


@app.command()
def version() -> None:
    """Print the engine version."""
    out.print(f"compengine {__version__}", markup=False)


register(app)
register_service(app)


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as error:  # pragma: no cover - last resort, _guard handles command bodies
        if os.environ.get("COMPENGINE_DEBUG"):
            raise
        print(f"internal error: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)
