"""The system-of-record commands as a comp admin runs them: `db upgrade`, `load`, `publish`,
`cycle open/calculate/approve/close/status`, `statements`, `ledger` and `export`, on an
embedded SQLite file (`--db sqlite:///…`).

The plan pays 10% of each deal its owner books: in 2026-Q1, P1's D1 of 1,000.00 pays 100.00
and P2's D2 of 2,500.50 pays 250.05; 350.05 USD in all.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Table
from typer.testing import CliRunner, Result

from compengine.cli import app
from compengine.store.database import Database
from compengine.store.schema import facts, ledger_entries, plan_versions
from tests.records_support import FLAT_PLAN, company_folder, count_rows, deal_row, plan_file

DEALS = [deal_row("D1", "P1", "1000", "2026-02-10"), deal_row("D2", "P2", "2500.50", "2026-03-20")]
SHA256 = re.compile(r"result_sha256 [0-9a-f]{64}")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--db", url])


def ok(url: str, *args: str) -> Result:
    result = run(url, *args)
    assert result.exit_code == 0, result.output
    return result


def count(url: str, table: Table) -> int:
    db = Database(url)
    try:
        return count_rows(db, table)
    finally:
        db.dispose()


@pytest.fixture
def loaded(url: str, tmp_path: Path) -> str:
    """A database with the two payees and their deals loaded and the flat plan published."""
    ok(url, "load", str(company_folder(tmp_path / "data", DEALS)))
    ok(url, "publish", str(plan_file(tmp_path / "plans")), "--by", "admin@example.com")
    return url


@pytest.fixture
def closed(loaded: str) -> str:
    """… and 2026-Q1 calculated, approved and closed."""
    for step in ("open", "calculate", "approve", "close"):
        ok(loaded, "cycle", step, "2026-Q1")
    return loaded


# ------------------------------------------------------------------ db upgrade
def test_db_upgrade_creates_the_database_and_is_safe_to_run_again(url: str, tmp_path: Path) -> None:
    first = ok(url, "db", "upgrade")
    again = ok(url, "db", "upgrade")
    assert "database is up to date" in first.output and "database is up to date" in again.output
    assert (tmp_path / "x.db").is_file()


def test_an_unreachable_postgresql_server_is_a_clear_message_not_a_traceback() -> None:
    result = run("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "db", "upgrade")
    assert result.exit_code == 1
    assert "error: cannot use the database" in result.output
    assert "Check COMPENGINE_DATABASE_URL (or --db)" in result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ load
def test_load_reports_the_new_versions_and_a_second_load_reports_nothing_new(url: str, tmp_path: Path) -> None:
    folder = company_folder(tmp_path / "data", DEALS)
    first = ok(url, "load", str(folder))
    second = ok(url, "load", str(folder))
    assert "recorded 6 new versions as load 1 (assignment 2, deal 2, payee 2)" in first.output
    assert "nothing new; every row was already known" in second.output
    assert count(url, facts) == 6


def test_a_corrected_deal_is_reported_as_one_new_version(url: str, tmp_path: Path) -> None:
    ok(url, "load", str(company_folder(tmp_path / "v1", DEALS)))
    result = ok(url, "load", str(company_folder(tmp_path / "v2", [deal_row("D1", "P1", "1200", "2026-02-10"), DEALS[1]])))
    assert "recorded 1 new version as load 2 (deal 1)" in result.output


def test_load_with_a_bad_row_exits_1_naming_the_row_and_field_and_writes_nothing(url: str, tmp_path: Path) -> None:
    folder = company_folder(tmp_path / "data", [DEALS[0], deal_row("D2", "P2", "1.2e3", "2026-03-20")])
    result = run(url, "load", str(folder))
    assert result.exit_code == 1
    assert "deals.csv row 3, field amount" in result.output
    assert "Traceback" not in result.output
    assert count(url, facts) == 0


# ------------------------------------------------------------------ publish
def test_publish_reports_the_version_and_publishing_it_again_changes_nothing(url: str, tmp_path: Path) -> None:
    path = plan_file(tmp_path / "plans")
    first = ok(url, "publish", str(path), "--by", "admin@example.com")
    again = ok(url, "publish", str(path), "--by", "admin@example.com")
    assert re.search(r"flat version 1 published \([0-9a-f]{12}\)", first.output)
    assert "flat version 1 already published" in again.output
    assert count(url, plan_versions) == 1


def test_publishing_a_plan_with_an_error_exits_1_with_caret_diagnostics_and_stores_nothing(url: str, tmp_path: Path) -> None:
    path = plan_file(tmp_path / "plans", FLAT_PLAN.replace("rate 10%", "rate comission_rate"))
    result = run(url, "publish", str(path), "--by", "admin@example.com")
    assert result.exit_code == 1
    location = re.search(rf"{re.escape(str(path))}:(\d+):(\d+): error\[E\d+\]", result.output)
    assert location is not None, result.output
    assert (int(location[1]), int(location[2])) == (16, 8)  # line 16 `  rate comission_rate`: the name
    assert re.search(r"^\s*\|?\s*\^+", result.output, re.MULTILINE), result.output
    assert "was not published" in result.output
    assert count(url, plan_versions) == 0


# ------------------------------------------------------------------ cycles
def test_a_cycle_runs_open_calculate_approve_close_and_status_shows_it(loaded: str) -> None:
    assert "2026-Q1 is open" in ok(loaded, "cycle", "open", "2026-Q1").output
    calculated = ok(loaded, "cycle", "calculate", "2026-Q1").output
    assert "2026-Q1: draft run 1 · 2 statements · 2 lines · 0 prior-period adjustments" in calculated
    assert SHA256.search(calculated)
    assert "2026-Q1: run 1 approved" in ok(loaded, "cycle", "approve", "2026-Q1").output
    closed = ok(loaded, "cycle", "close", "2026-Q1").output
    assert "2026-Q1: closed with run 1 · 4 ledger entries · paid 350.05 USD" in closed

    status = ok(loaded, "cycle", "status").output
    assert re.search(r"2026-Q1\s*│?\s*closed\s*│?\s*1\s*│?\s*1", status), status


def test_calculating_with_two_workers_seals_the_result_of_one(loaded: str) -> None:
    ok(loaded, "cycle", "open", "2026-Q1")
    alone = SHA256.search(ok(loaded, "cycle", "calculate", "2026-Q1").output)
    together = SHA256.search(ok(loaded, "cycle", "calculate", "2026-Q1", "--workers", "2").output)
    assert alone is not None and together is not None
    assert alone[0] == together[0]


def test_calculating_a_period_that_is_not_open_exits_1_saying_to_open_it(loaded: str) -> None:
    result = run(loaded, "cycle", "calculate", "2026-Q1")
    assert result.exit_code == 1
    assert "2026-Q1 is not open; open it first (compengine cycle open 2026-Q1)" in result.output


def test_a_closed_period_cannot_be_calculated_again(closed: str) -> None:
    result = run(closed, "cycle", "calculate", "2026-Q1")
    assert result.exit_code == 1
    assert "2026-Q1 is closed" in result.output and "next open period" in result.output


# ------------------------------------------------------------------ statements
def test_statements_as_a_table_show_each_payees_lines_and_total(closed: str) -> None:
    output = ok(closed, "statements", "2026-Q1").output
    assert "P1 · 2026-Q1 · run 1" in output and "P2 · 2026-Q1 · run 1" in output
    assert "100.00" in output and "250.05" in output
    assert "2 statements · 2 lines · run 1" in output


def test_statements_as_json_carry_every_line_with_decimal_strings(closed: str) -> None:
    document = json.loads(ok(closed, "statements", "2026-Q1", "--format", "json").output)
    assert (document["period"], document["run"]) == ("2026-Q1", 1)
    assert [(line["payee_id"], line["component"], line["kind"], line["amount"], line["currency"]) for line in document["lines"]] == [
        ("P1", "commission", "earning", "100.00", "USD"),
        ("P2", "commission", "earning", "250.05", "USD"),
    ]


def test_statements_as_csv_have_a_header_and_a_row_per_line(closed: str) -> None:
    rows = list(csv.DictReader(io.StringIO(ok(closed, "statements", "2026-Q1", "--format", "csv").output)))
    assert [(r["run"], r["payee_id"], r["kind"], r["amount"], r["currency"]) for r in rows] == [
        ("1", "P1", "earning", "100.00", "USD"),
        ("1", "P2", "earning", "250.05", "USD"),
    ]


def test_statements_for_one_payee(closed: str) -> None:
    document = json.loads(ok(closed, "statements", "2026-Q1", "--payee", "P2", "--format", "json").output)
    assert [line["amount"] for line in document["lines"]] == ["250.05"]


# ------------------------------------------------------------------ ledger
def test_ledger_balances_are_zero_once_everything_earned_is_paid(closed: str) -> None:
    output = ok(closed, "ledger").output
    assert re.search(r"P1\s*│?\s*USD\s*│?\s*0\.00", output), output
    assert re.search(r"P2\s*│?\s*USD\s*│?\s*0\.00", output), output
    assert "4 ledger entries" in output


def test_ledger_of_one_payee_lists_their_entries_with_a_running_balance(closed: str) -> None:
    output = ok(closed, "ledger", "--payee", "P2").output
    assert "ledger of P2" in output
    earning = re.search(r"earning.*?250\.05\s*│?\s*250\.05", output)
    payment = re.search(r"payment.*?-250\.05\s*│?\s*0\.00", output)
    assert earning and payment, output
    assert "P1" not in output.replace("ledger of P2", "")


# ------------------------------------------------------------------ export
EXPECTED_EXPORT = "payee_id,amount,currency,period,ledger_entries\nP1,100.00,USD,2026-Q1,L1;L2\nP2,250.05,USD,2026-Q1,L3;L4\n"


def test_export_of_a_closed_period_prints_the_payroll_file_and_twice_gives_the_same_file(closed: str) -> None:
    first = ok(closed, "export", "--period", "2026-Q1").stdout
    second = ok(closed, "export", "--period", "2026-Q1").stdout
    assert first == second == EXPECTED_EXPORT
    assert count(closed, ledger_entries) == 4  # exporting posts nothing


def test_export_with_output_writes_the_same_file(closed: str, tmp_path: Path) -> None:
    target = tmp_path / "payroll.csv"
    result = ok(closed, "export", "--period", "2026-Q1", "--output", str(target))
    assert target.read_text(encoding="utf-8") == EXPECTED_EXPORT
    assert "wrote" in result.output and "2 payment rows" in result.output


def test_export_of_an_open_period_exits_1_saying_it_is_not_closed(loaded: str) -> None:
    ok(loaded, "cycle", "open", "2026-Q1")
    result = run(loaded, "export", "--period", "2026-Q1")
    assert result.exit_code == 1
    assert "2026-Q1 is not closed; only a closed period can be exported" in result.output
