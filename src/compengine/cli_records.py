"""The `compengine` commands that work on the system of record: load facts, publish plans,
run payout cycles, read statements and the ledger, export payroll.

Each command opens the database named by `--db` (or `COMPENGINE_DATABASE_URL`; by default the
SQLite file `compengine.db` in the current folder), brings its schema up to date, and does one
all-or-nothing unit of work through the same services the API uses.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from compengine.cli_support import EXIT_INVALID, EXIT_USAGE, ResultFormat, count, err, guard, out
from compengine.core.money import ZERO, group_digits
from compengine.core.payout import TRANSFER_KINDS
from compengine.service.cycles import CycleError, PayoutCycles
from compengine.service.views import line_json, money
from compengine.store import facts, plans
from compengine.store.database import Database, database_url
from compengine.store.ledger import Entry, balances
from compengine.store.runs import StoredLine

if TYPE_CHECKING:
    from compengine.service.year import YearOutcome

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $COMPENGINE_DATABASE_URL, else sqlite:///compengine.db).", show_default=False),
]
PeriodArgument = Annotated[str, typer.Argument(help="The period: 2026-Q1, 2026-M03 or FY2026.")]

cycle_app = typer.Typer(help="Run a payout cycle: open → calculate → approve → close.", no_args_is_help=True)
db_app = typer.Typer(help="Look after the database.", no_args_is_help=True)


def _database(url: str | None) -> Database:
    return Database(database_url(url))


def _with_db(url: str | None, action: Callable[[Database], None]) -> None:
    def run() -> None:
        db = _database(url)
        try:
            action(db)
        finally:
            db.dispose()

    guard(run)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"error: {option} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-31", markup=False)
        raise typer.Exit(EXIT_USAGE) from None


def _money(amount: Decimal) -> str:
    return group_digits(amount, 2)


# ---------------------------------------------------------------------- database
@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the database, or bring its schema up to the newest version."""
    _with_db(db, lambda database: out.print(f"database is up to date: {_safe_url(database.url)}", markup=False))


def _safe_url(url: str) -> str:
    """The URL without a password, fit to print."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


# ---------------------------------------------------------------------- facts and plans
def load(
    folder: Annotated[Path, typer.Argument(help="A folder with any of the data files (deals.csv, quotas.csv, ...).")],
    db: DbOption = None,
) -> None:
    """Record the facts in FOLDER: all rows or none; re-loading the same data changes nothing."""

    def action(database: Database) -> None:
        if not folder.is_dir():
            err.print(f"error: {folder} is not a folder of data files", markup=False)
            raise typer.Exit(EXIT_INVALID)
        report = facts.load(database, folder, fork=True)  # a command has no threads: validate alongside
        if report.load_id is None:
            out.print(f"{folder}: nothing new; every row was already known", markup=False)
            return
        kinds = [f"{kind} {n}" for kind, n in sorted(report.new_versions.items())]
        kinds += [f"{kind} {n} retracted" for kind, n in sorted(report.retracted.items())]
        out.print(f"{folder}: recorded {count(report.total, 'new version')} as load {report.load_id} ({', '.join(kinds)})", markup=False)

    _with_db(db, action)


def publish(
    paths: Annotated[list[Path], typer.Argument(help="Plan files (*.comp) to publish.")],
    by: Annotated[str, typer.Option("--by", help="Who publishes (recorded with the version).")],
    db: DbOption = None,
) -> None:
    """Publish plan versions; a plan that does not check cleanly is not published."""

    def action(database: Database) -> None:
        files = sorted(p for path in paths for p in ([path] if path.is_file() else sorted(path.glob("*.comp"))))
        if not files:
            err.print("no plan files (*.comp) were given", markup=False)
            raise typer.Exit(EXIT_INVALID)
        failed = 0
        for path in files:
            try:
                published = plans.publish(database, str(path), by)
            except plans.PublishError as error:
                failed += 1
                for diagnostic in error.diagnostics:
                    err.print(diagnostic.render(error.texts.get(diagnostic.span.file)), markup=False)
                    err.print("", markup=False)
                err.print(f"error: {error}", markup=False)
                continue
            state = "published" if published.new else "already published"
            out.print(f"{path}: {published.plan_id} version {published.version} {state} ({published.sha256[:12]})", markup=False)
        if failed:
            raise typer.Exit(EXIT_INVALID)

    _with_db(db, action)


# ---------------------------------------------------------------------- cycles
@cycle_app.command("open")
def cycle_open(period: PeriodArgument, db: DbOption = None) -> None:
    """Open PERIOD for calculation."""

    def action(database: Database) -> None:
        PayoutCycles(database).open(period)
        out.print(f"{period} is open", markup=False)

    _with_db(db, action)


@cycle_app.command("calculate")
def cycle_calculate(
    period: PeriodArgument,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Count deals closed by this date (default: the period's last day).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes crediting and evaluating statements at once, each for its own teams (the same result for any number); "
            "default: one per core, with at least 250 statements each.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Calculate a draft run of PERIOD, with adjustments for closed periods that changed."""

    def action(database: Database) -> None:
        on = _day(as_of, "--as-of") if as_of else None
        summary = PayoutCycles(database, workers=workers).calculate(period, as_of=on)
        for note in summary.notes:
            err.print(f"note: {note}", markup=False)
        out.print(
            f"{period}: draft run {summary.run_id} · {count(summary.statements, 'statement')} · {count(summary.lines, 'line')}"
            f" · {count(summary.adjustments, 'prior-period adjustment')} · result_sha256 {summary.result_sha256}",
            markup=False,
        )

    _with_db(db, action)


@cycle_app.command("approve")
def cycle_approve(
    period: PeriodArgument,
    run: Annotated[int | None, typer.Option("--run", help="The run to approve (default: the newest draft).")] = None,
    db: DbOption = None,
) -> None:
    """Approve a draft run of PERIOD (the newest unless --run says which)."""

    def action(database: Database) -> None:
        run_id = PayoutCycles(database).approve(period, run)
        out.print(f"{period}: run {run_id} approved", markup=False)

    _with_db(db, action)


@cycle_app.command("close")
def cycle_close(period: PeriodArgument, db: DbOption = None) -> None:
    """Post the approved run of PERIOD to the ledger and lock the period for good."""

    def action(database: Database) -> None:
        summary = PayoutCycles(database).close(period)
        paid = ", ".join(f"{_money(amount)} {currency}" for currency, amount in sorted(_paid_by_currency(summary.paid).items()))
        out.print(
            f"{period}: closed with run {summary.run_id} · {count(summary.entries, 'ledger entry')} · paid {paid or 'nothing'}",
            markup=False,
        )

    _with_db(db, action)


def _paid_by_currency(paid: dict[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (_, currency), amount in paid.items():
        totals[currency] += amount
    return dict(totals)


@cycle_app.command("status")
def cycle_status(db: DbOption = None) -> None:
    """List the periods and where each cycle stands."""

    def action(database: Database) -> None:
        table = Table(title="payout cycles", title_justify="left")
        for column in ("period", "status", "approved run", "closed run", "closed at"):
            table.add_column(column)
        for row in PayoutCycles(database).status():
            table.add_row(
                row["period"],
                row["status"],
                str(row["approved_run_id"] or ""),
                str(row["closed_run_id"] or ""),
                str(row["closed_at"] or ""),
            )
        out.print(table)

    _with_db(db, action)


def replay(run: Annotated[int, typer.Argument(help="The run to calculate again.")], db: DbOption = None) -> None:
    """Calculate a sealed run again exactly as it ran (same plan versions, the facts as known
    then) and compare every hash; exit 1 if anything differs."""

    def action(database: Database) -> None:
        result = PayoutCycles(database).replay(run)
        table = Table(title=f"replay of run {run} ({result.period})", title_justify="left")
        for column in ("", "recorded", "replayed", ""):
            table.add_column(column)
        for name, (recorded, replayed) in result.hashes.items():
            table.add_row(name, recorded, replayed, "same" if recorded == replayed else "DIFFERENT")
        out.print(table)
        if not result.reproduces:
            err.print(f"run {run} does not reproduce: see the rows marked DIFFERENT", markup=False)
            if result.first_difference:
                err.print(f"first difference: {result.first_difference}", markup=False)
            raise typer.Exit(EXIT_INVALID)
        out.print(f"run {run} reproduces exactly", markup=False)

    _with_db(db, action)


# ---------------------------------------------------------------------- statements, ledger, export
def statements(
    period: PeriodArgument,
    run: Annotated[int | None, typer.Option("--run", help="A run of PERIOD (default: closed, else approved, else newest).")] = None,
    payee: Annotated[str | None, typer.Option("--payee", help="Only this payee.")] = None,
    format: Annotated[ResultFormat, typer.Option("--format")] = ResultFormat.table,
    db: DbOption = None,
) -> None:
    """The statement lines of a run of PERIOD: earnings and prior-period adjustments."""

    def action(database: Database) -> None:
        run_id, lines = PayoutCycles(database).lines(period, run, payee)
        if format is ResultFormat.json:
            out.print(json.dumps({"period": period, "run": run_id, "lines": [line_json(line) for line in lines]}, indent=2), markup=False)
        elif format is ResultFormat.csv:
            out.print("run,line_id,payee_id,plan,component,kind,adjusts_period,amount,currency", markup=False)
            for line in lines:
                cells = (run_id, line.line_id, line.payee_id, line.plan_id, line.component, line.kind, line.adjusts_period or "",
                         money(line.amount), line.currency)  # fmt: skip
                out.print(",".join(str(c) for c in cells), markup=False)
        else:
            print_statement_lines(period, run_id, lines)
            posted, balances_after = PayoutCycles(database).settlement(period, payee)
            if posted:
                print_settlement(period, posted, balances_after)

    _with_db(db, action)


def print_statement_lines(period: str, run_id: int, lines: Sequence[StoredLine]) -> None:
    by_payee: dict[tuple[str, str], list[StoredLine]] = defaultdict(list)
    for line in lines:
        by_payee[(line.payee_id, line.currency)].append(line)
    for (payee_id, currency), payee_lines in sorted(by_payee.items()):
        table = Table(title=f"{payee_id} · {period} · run {run_id}", title_justify="left", show_footer=True)
        table.add_column("plan")
        table.add_column("line", footer="total")
        table.add_column(currency, justify="right", footer=_money(sum((line.amount for line in payee_lines), ZERO)))
        for line in payee_lines:
            label = _line_label(line)
            table.add_row(line.plan_id, label, _money(line.amount))
        out.print(table)
    out.print(f"{count(len(by_payee), 'statement')} · {count(len(lines), 'line')} · run {run_id}", markup=False)


def _line_label(line: StoredLine) -> str:
    if line.kind == "earning":
        return line.component
    if line.kind == "ruling":
        return f"{line.component} (ruling on dispute {line.line_id.rpartition('/')[2]}, {line.adjusts_period})"
    return f"{line.component} (adjusts {line.adjusts_period})"


def print_settlement(period: str, posted: Sequence[Entry], balances_after: dict[tuple[str, str, str], Decimal]) -> None:
    """How the close of the period paid each payee, and what is carried forward."""
    table = Table(title=f"{period} paid at close, and balances carried forward", title_justify="left")
    for column in ("payee", "currency", "earned", "clawed back", "held", "released", "advanced", "recovered", "paid", "carried forward"):
        table.add_column(column, justify="left" if column in ("payee", "currency", "carried forward") else "right")
    sums: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for entry in posted:
        adds_to = _SETTLEMENT_COLUMN.get((entry.kind, entry.account == "payable"))
        if adds_to is not None:
            sums[(entry.payee_id, entry.currency)][adds_to] += entry.amount
    for (payee_id, currency), row in sorted(sums.items()):
        carried = [
            f"{account} {_money(amount)}"
            for (p, account, c), amount in sorted(balances_after.items())
            if p == payee_id and c == currency and account != "payable" and amount != 0
        ]
        amounts = (row["earned"], row["clawed back"], row["held"], row["released"], row["advanced"], row["recovered"], -row["paid"])
        table.add_row(payee_id, currency, *(_money(a) for a in amounts), ", ".join(carried) or "nothing")
    out.print(table)


#: (kind, on the payable account) -> the settlement column it adds to
_SETTLEMENT_COLUMN = {
    ("earning", True): "earned",
    ("adjustment", True): "earned",
    ("ruling", True): "earned",
    ("clawback", True): "clawed back",
    ("holdback", True): "held",
    ("deferral", True): "held",
    ("release", True): "released",
    ("deferral_release", True): "released",
    ("draw", True): "advanced",
    ("guarantee", True): "advanced",
    ("draw_recovery", True): "recovered",
    ("recovery", True): "recovered",
    ("payment", True): "paid",
}


def ledger(
    payee: Annotated[str | None, typer.Option("--payee", help="One payee's entries, in order (default: every balance).")] = None,
    db: DbOption = None,
) -> None:
    """Ledger balances per payee and account, or one payee's entries with a running balance."""

    def action(database: Database) -> None:
        found = PayoutCycles(database).ledger(payee)
        if payee is None:
            print_balances(found)
        else:
            print_entries(payee, found)

    _with_db(db, action)


def print_balances(found: Sequence[Entry]) -> None:
    totals = balances(found)
    accounts = sorted({account for _, account, _ in totals})
    table = Table(title="ledger balances", title_justify="left")
    table.add_column("payee")
    table.add_column("currency")
    for account in accounts:
        table.add_column(account, justify="right")
    for payee_id, currency in sorted({(p, c) for p, _, c in totals}):
        table.add_row(payee_id, currency, *(_money(totals.get((payee_id, a, currency), ZERO)) for a in accounts))
    out.print(table)
    out.print(f"{count(len(found), 'ledger entry')}", markup=False)


def print_entries(payee_id: str, found: Sequence[Entry]) -> None:
    table = Table(title=f"ledger of {payee_id}", title_justify="left")
    for column in ("entry", "period", "kind", "account", "memo", "currency"):
        table.add_column(column)
    table.add_column("amount", justify="right")
    table.add_column("balance", justify="right")
    running: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in found:
        running[(entry.account, entry.currency)] += entry.amount
        memo = entry.memo or entry.component or ""
        balance = running[(entry.account, entry.currency)]
        table.add_row(f"L{entry.id}", entry.period, entry.kind, entry.account, memo, entry.currency, _money(entry.amount), _money(balance))
    out.print(table)


def export(
    period: Annotated[str, typer.Option("--period", help="A closed period.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the file here (default: print it).")] = None,
    db: DbOption = None,
) -> None:
    """Write the payroll file of a closed period (the same file every time)."""

    def action(database: Database) -> None:
        text = PayoutCycles(database).export(period)
        if output is None:
            out.print(text, end="", markup=False)
        else:
            output.write_text(text, encoding="utf-8")
            err.print(f"wrote {output} ({count(text.count(chr(10)) - 1, 'payment row')})", markup=False)

    _with_db(db, action)


# ---------------------------------------------------------------------- the main job
YEAR_DB = "sqlite:///compengine-year.db"


def year(
    plans_dir: Annotated[list[Path], typer.Option("--plans", help="Plan files or folders.")] = [Path("plans")],  # noqa: B006
    data: Annotated[Path, typer.Option("--data", help="The company's data folder.")] = Path("fixtures/company"),
    events: Annotated[Path, typer.Option("--events", help="Folders before-<period>/<step>/ of data arriving later.")] = Path(
        "fixtures/year"
    ),
    fiscal_year: Annotated[int, typer.Option("--year", help="The fiscal year to run.")] = 2026,
    out_dir: Annotated[Path, typer.Option("--out", help="Where the payroll files go.")] = Path("payroll"),
    fresh: Annotated[bool, typer.Option("--fresh", help="Start the SQLite file anew (deletes it first).")] = False,
    detail: Annotated[bool, typer.Option("--detail", help="Also print every statement line of every period.")] = False,
    db: Annotated[str, typer.Option("--db", help="Database URL (an empty database).")] = YEAR_DB,
) -> None:
    """Run a whole fiscal year of payout cycles for the example company and print its
    statements and ledger balances: load, publish, then per period calculate, approve, close
    and export, with late changes arriving between closes."""

    def run() -> None:
        from compengine.service.year import run_year

        if fresh:
            _delete_sqlite_file(db)
        files = sorted(p for path in plans_dir for p in ([path] if path.is_file() else sorted(path.glob("*.comp"))))
        database = _database(db)
        try:
            outcome = run_year(database, files, data, events, fiscal_year, out_dir)
            print_year(outcome, database if detail else None)
        finally:
            database.dispose()
        out.print(f"\nthe year's records are in {db}; look closer with e.g. compengine ledger --db {db} --payee P011", markup=False)

    guard(run)


def _delete_sqlite_file(url: str) -> None:
    if not url.startswith("sqlite:///"):
        err.print("error: --fresh only starts a SQLite file anew; give an empty database instead", markup=False)
        raise typer.Exit(EXIT_USAGE)
    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


def print_year(outcome: YearOutcome, detail_from: Database | None) -> None:
    out.print(f"FY{outcome.fiscal_year}: published {count(len(outcome.published), 'plan')}; "
              + "; ".join(f"loaded {x.folder} ({count(x.report.total, 'fact')})" for x in outcome.loaded), markup=False)  # fmt: skip
    for cycle in outcome.cycles:
        for arrived in cycle.loaded:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(arrived.report.new_versions.items())) or "nothing new"
            out.print(f"  before {cycle.period}: loaded {arrived.folder} ({kinds})", markup=False)
        paid = ", ".join(f"{_money(a)} {c}" for c, a in sorted(_paid_by_currency(cycle.closed.paid).items())) or "nothing"
        out.print(
            f"{cycle.period}: run {cycle.run.run_id} · {count(cycle.run.statements, 'statement')} · "
            f"{count(cycle.run.adjustments, 'prior-period adjustment')} · closed · paid {paid} · {cycle.payroll_file} · "
            f"result {cycle.run.result_sha256[:16]}",
            markup=False,
        )
        if detail_from is not None:
            run_id, lines = PayoutCycles(detail_from).lines(cycle.period, cycle.run.run_id)
            print_statement_lines(cycle.period, run_id, lines)
    print_year_statements(outcome)
    print_movements(outcome.ledger)
    print_balances(outcome.ledger)


def print_year_statements(outcome: YearOutcome) -> None:
    """One row per payee: each period's posted earnings and adjustments, and what was paid."""
    periods = [c.period for c in outcome.cycles]
    posted: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for entry in outcome.ledger:
        column = {"earning": entry.period, "adjustment": "adjustments", "ruling": "adjustments", "payment": "paid"}.get(entry.kind)
        if column is not None:
            posted[(entry.payee_id, entry.currency)][column] += -entry.amount if entry.kind == "payment" else entry.amount
    columns = [*periods, "adjustments", "paid"]
    table = Table(title=f"FY{outcome.fiscal_year} statements (earned per period, prior-period adjustments, paid out)", title_justify="left")
    table.add_column("payee")
    table.add_column("currency")
    for column in columns:
        table.add_column(column, justify="right")
    for (payee_id, currency), row in sorted(posted.items()):
        table.add_row(payee_id, currency, *(_money(row[c]) for c in columns))
    out.print(table)


def print_movements(found: Sequence[Entry]) -> None:
    """Every ledger movement other than plain earnings and payments, one row per period, payee,
    kind and account: where the year got interesting.  A transfer between two accounts shows
    on the account other than `payable` (its `payable` side is the same amount, negated)."""
    rows: dict[tuple[str, str, str, str, str], Decimal] = defaultdict(lambda: ZERO)
    about: dict[tuple[str, str, str, str, str], set[str]] = defaultdict(set)
    for entry in found:
        if entry.kind in ("earning", "payment") or (entry.account == "payable" and entry.kind in TRANSFER_KINDS):
            continue
        key = (entry.period, entry.payee_id, entry.kind, entry.account, entry.currency)
        rows[key] += entry.amount
        what = entry.deal_id or entry.component or entry.memo
        if entry.adjusts_period:
            what = f"{what} (adjusts {entry.adjusts_period})"
        if what:
            about[key].add(what)
    if not rows:
        return
    table = Table(title="adjustments, clawbacks, holdbacks, releases and draws", title_justify="left")
    for column in ("period", "payee", "kind", "account", "about"):
        table.add_column(column)
    table.add_column("amount", justify="right")
    for key, amount in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1], _KIND_ORDER.get(item[0][2], 99))):
        period, payee_id, kind, account, currency = key
        table.add_row(period, payee_id, kind, account, ", ".join(sorted(about[key])), f"{_money(amount)} {currency}")
    out.print(table)


_KIND_ORDER = {kind: index for index, kind in enumerate(
    ("adjustment", "clawback", "holdback", "deferral", "release", "deferral_release", "receivable", "recovery",
     "draw", "draw_recovery", "guarantee", "forgiven")
)}  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add these commands to the `compengine` command."""
    app.command()(load)
    app.command()(publish)
    app.command()(replay)
    app.command()(statements)
    app.command()(ledger)
    app.command()(export)
    app.command()(year)
    app.add_typer(cycle_app, name="cycle")
    app.add_typer(db_app, name="db")


__all__ = ["CycleError", "register"]
