"""The README's main job, `compengine year`, and what a statement shows after its closes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from compengine.cli import app
from tests.support import REPO

runner = CliRunner()


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    folder = tmp_path_factory.mktemp("year")
    db = f"sqlite:///{folder / 'year.db'}"
    args = ["year", "--plans", str(REPO / "plans"), "--data", str(REPO / "fixtures" / "company")]
    args += ["--events", str(REPO / "fixtures" / "year"), "--out", str(folder / "payroll"), "--db", db]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return db, folder, result.output


def test_the_year_prints_each_quarter_closed_and_paid(year: tuple[str, Path, str]) -> None:
    # the quarters' totals are the engine's (bulk payees are not hand-worked); the hand-worked
    # ledgers of P009, P011 and P022 are checked in tests/test_fixture_year.py
    _, folder, output = year
    for quarter, paid in (("Q1", "362,779.41"), ("Q2", "417,493.42"), ("Q3", "556,368.30"), ("Q4", "788,025.80")):
        assert f"2026-{quarter}: run " in output and f"closed · paid {paid} USD" in output
        assert (folder / "payroll" / f"payroll-2026-{quarter}.csv").exists()


def test_the_year_prints_the_adjustment_the_clawback_the_draw_and_the_balances(year: tuple[str, Path, str]) -> None:
    _, _, output = year
    assert "attainment_bonus (adjusts 2026-Q1)" in output and "270.00 USD" in output
    assert "D-5104" in output and "-11,200.00 USD" in output
    assert "-949.73" in output  # P011's draw still outstanding at year end


def test_a_closed_statement_shows_what_was_paid_and_what_is_carried_forward(year: tuple[str, Path, str]) -> None:
    db, _, _ = year
    result = runner.invoke(app, ["statements", "2026-Q4", "--payee", "P011", "--db", db])
    assert result.exit_code == 0, result.output
    assert "16,140.81" in result.output  # paid at the Q4 close
    assert "draw:ramp_draw -949.73" in result.output  # carried forward


def test_the_year_refuses_a_database_that_already_holds_data(year: tuple[str, Path, str]) -> None:
    db, _, _ = year
    result = runner.invoke(app, ["year", "--plans", str(REPO / "plans"), "--data", str(REPO / "fixtures" / "company"), "--db", db])
    assert result.exit_code == 1
    assert "the year needs an empty database" in result.output
