"""Records as JSON documents for clients: plans checked or published, loads, runs, statements,
lines with their traces and explanations, ledgers.  Nothing here is HTTP-specific, so the CLI
and the API give the same shapes.  Money is always a decimal string, never a number.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from compengine.core.errors import DataError
from compengine.core.money import ZERO
from compengine.core.trace import TRACE_FORMAT, trace_from_json
from compengine.lang.diagnostics import Diagnostic, has_errors
from compengine.lang.loader import compile_source
from compengine.report.explain import explain_line
from compengine.report.plandoc import document_source, render_html, render_markdown
from compengine.service.cycles import RunSummary, period_start
from compengine.store.database import Database
from compengine.store.disputes import RULING
from compengine.store.facts import LoadReport, as_known_at
from compengine.store.ledger import Entry, balances
from compengine.store.plans import PlanVersion, library_reader, published_at
from compengine.store.runs import StoredLine
from compengine.store.schema import runs


def money(amount: Decimal) -> str:
    """An amount as JSON: its exact decimal digits, as text."""
    return format(amount, "f")


# ------------------------------------------------------------------ plans
def diagnostics_json(diagnostics: Iterable[Diagnostic]) -> list[dict[str, object]]:
    return [d.to_json() for d in diagnostics]


def check_source(file_name: str, text: str, libraries: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Check a plan's text (with the libraries given, or none): every diagnostic, with where it is."""
    source = compile_source(file_name, text, library_reader(file_name, libraries or {}))
    plan = source.plan
    return {
        "ok": not has_errors(source.diagnostics) and plan is not None,
        "plan_id": plan.id if plan else None,
        "version": plan.version if plan else None,
        "sha256": plan.source_sha256 if plan else None,
        "diagnostics": diagnostics_json(source.diagnostics),
    }


def plan_version_json(version: PlanVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "plan_id": version.plan_id,
        "version": version.version,
        "sha256": version.sha256,
        "file_name": version.source_path,
        "libraries": sorted(version.libraries),
        "published_by": version.published_by,
        "published_at": version.published_at.isoformat(),
    }


def plan_document(version: PlanVersion, html: bool = False) -> str | None:
    """The plan document of a published version (Markdown, or HTML), from its stored text."""
    outcome = document_source(version.source_path, version.source_text, (), library_reader(version.source_path, version.libraries))
    if outcome.document is None:
        return None
    return render_html(outcome.document) if html else render_markdown(outcome.document)


# ------------------------------------------------------------------ data
def load_report_json(report: LoadReport) -> dict[str, Any]:
    return {
        "load_id": report.load_id,
        "recorded_at": report.recorded_at.isoformat() if report.recorded_at else None,
        "new_versions": dict(sorted(report.new_versions.items())),
        "retracted": dict(sorted(report.retracted.items())),
        "total": report.total,
    }


def data_issues_json(error: DataError) -> list[dict[str, object]]:
    return [issue.to_json() for issue in error.issues]


# ------------------------------------------------------------------ cycles and runs
def is_period(db: Database, period: str) -> bool:
    """Whether `period` is a period of the plans published now (True when none is published yet)."""
    with db.reading() as connection:
        plans = published_at(connection, db.now()).versions
    return not plans or period_start(plans, period) is not None


def run_summary_json(summary: RunSummary) -> dict[str, Any]:
    return {
        "run_id": summary.run_id,
        "period": summary.period,
        "result_sha256": summary.result_sha256,
        "statements": summary.statements,
        "lines": summary.lines,
        "adjustments": summary.adjustments,
        "rulings": summary.rulings,
        "notes": list(summary.notes),
    }


def run_json(row: Any) -> dict[str, Any]:
    """A sealed run's record (without its lines)."""
    return {
        "run_id": row.id,
        "period": row.period,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "as_of": row.as_of.isoformat(),
        "knowledge_time": row.knowledge_time.isoformat(),
        "engine_version": row.engine_version,
        "grammar_sha256": row.grammar_sha256,
        "plans": json.loads(row.plans),
        "input_sha256": row.input_sha256,
        "result_sha256": row.result_sha256,
        "trace_sha256": row.trace_sha256,
        "line_count": row.line_count,
    }


def runs_of(connection: Connection, period: str) -> list[Any]:
    return list(connection.execute(select(runs).where(runs.c.period == period).order_by(runs.c.id)))


def cycle_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "period": row["period"],
        "status": row["status"],
        "opened_at": row["opened_at"].isoformat() if row.get("opened_at") else None,
        "approved_run_id": row.get("approved_run_id"),
        "closed_run_id": row.get("closed_run_id"),
        "closed_at": row["closed_at"].isoformat() if row.get("closed_at") else None,
    }


# ------------------------------------------------------------------ statements and lines
def line_json(line: StoredLine, links: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One line of a run; a ruling line carries `links` to the dispute that pays it."""
    found: dict[str, Any] = {
        "run_id": line.run_id,
        "line_id": line.line_id,
        "payee_id": line.payee_id,
        "plan": line.plan_id,
        "plan_version": line.plan_version,
        "component": line.component,
        "kind": line.kind,
        "amount": money(line.amount),
        "currency": line.currency,
        "by_deal": [[deal, money(amount)] for deal, amount in line.attribution],
        "adjusts_period": line.adjusts_period,
        "adjusts_run_id": line.adjusts_run_id,
    }
    if links is not None:
        found["links"] = dict(links)
    return found


def ruling_links(trace: Mapping[str, Any]) -> dict[str, Any]:
    """What a ruling line pays: the dispute, the disputed run and line, the what-if and the ruling."""
    return {
        "dispute_id": trace.get("dispute"),
        "disputed_run_id": trace.get("run"),
        "disputed_line_id": trace.get("line"),
        "what_if_event_id": trace.get("what_if_event"),
        "ruling_event_id": trace.get("ruling_event"),
        "outcome": trace.get("outcome"),
    }


def statements_json(period: str, run_id: int, lines: Sequence[StoredLine], traces: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A run's lines as one statement per payee and currency, with its total; `traces` holds
    the stored traces of its ruling lines (for their links)."""
    by_payee: dict[tuple[str, str], list[StoredLine]] = defaultdict(list)
    for line in lines:
        by_payee[(line.payee_id, line.currency)].append(line)
    statements = []
    for (payee_id, currency), found in sorted(by_payee.items()):
        statements.append(
            {
                "payee_id": payee_id,
                "currency": currency,
                "total": money(sum((line.amount for line in found), ZERO)),
                "lines": [line_json(line, ruling_links(traces[line.line_id]) if line.line_id in traces else None) for line in found],
            }
        )
    return {"period": period, "run_id": run_id, "statements": statements}


def ruling_line_ids(lines: Iterable[StoredLine]) -> list[str]:
    return [line.line_id for line in lines if line.kind == RULING]


def explain_stored(line: StoredLine, trace: Mapping[str, Any]) -> str:
    """A stored line's explanation in plain words: an earning's full derivation (exactly what
    `compengine explain` prints), an adjustment's basis with the recalculated line, or what a
    ruling line pays and why."""
    document = trace.get("format")
    if document == TRACE_FORMAT:
        return explain_line(trace_from_json(trace))
    if document == "compengine.adjustment/1":
        head = (
            f"{line.line_id}: prior-period adjustment of {trace['adjusts']} (closed run {trace['closed_run']}): "
            f"should have paid {trace['should_have_paid']}, posted {trace['posted']}, "
            f"difference {trace['difference']} {line.currency}"
        )
        recomputed = trace.get("recomputed")
        if not recomputed:
            return head + "\nthe line is no longer owed at all: the recalculated period has no such line"
        return head + "\n\nthe line as recalculated now:\n" + explain_line(trace_from_json(recomputed))
    if document == "compengine.ruling/1":
        outcome = str(trace.get("outcome") or "").replace("_", " ")
        return (
            f"{line.line_id}: pays the {outcome} ruling on dispute {trace['dispute']} "
            f"({trace['line']} of run {trace['run']}, {trace['adjusts']}): {trace['amount']} {line.currency}\n"
            f"  justified by what-if event {trace['what_if_event']}; ruling event {trace['ruling_event']}\n"
            f"  rationale: {trace.get('rationale')}"
        )
    return f"{line.line_id}: {money(line.amount)} {line.currency}"


# ------------------------------------------------------------------ the ledger
def ledger_json(payee_id: str, entries: Sequence[Entry]) -> dict[str, Any]:
    """A payee's entries in the order posted, each with the running balance of its account,
    and the balances per account."""
    running: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    shown = []
    for entry in entries:
        running[(entry.account, entry.currency)] += entry.amount
        shown.append(
            {
                "id": entry.id,
                "run_id": entry.run_id,
                "period": entry.period,
                "kind": entry.kind,
                "account": entry.account,
                "amount": money(entry.amount),
                "currency": entry.currency,
                "balance": money(running[(entry.account, entry.currency)]),
                "plan": entry.plan_id,
                "component": entry.component,
                "line_id": entry.line_id,
                "deal_id": entry.deal_id,
                "adjusts_period": entry.adjusts_period,
                "memo": entry.memo,
            }
        )
    return {"payee_id": payee_id, "entries": shown, "balances": balances_json(entries)}


def balances_json(entries: Iterable[Entry]) -> list[dict[str, str]]:
    return [
        {"payee_id": payee_id, "account": account, "currency": currency, "balance": money(amount)}
        for (payee_id, account, currency), amount in sorted(balances(entries).items())
    ]


# ------------------------------------------------------------------ teams
def team_of(db: Database, manager_id: str) -> set[str]:
    """The payees who report to `manager_id`, directly or below, per the reporting lines as
    known now (a line of any effective dates counts: a manager keeps seeing the statements of
    someone who reported to them)."""
    with db.reading() as connection:
        lines = as_known_at(connection, db.now()).dataset.reporting_lines
    reports: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        reports[line.manager_id].add(line.payee_id)
    team: set[str] = set()
    todo = [manager_id]
    while todo:
        for payee_id in reports.get(todo.pop(), set()):
            if payee_id not in team and payee_id != manager_id:
                team.add(payee_id)
                todo.append(payee_id)
    return team
