"""`compengine check`: what a comp admin sees in the terminal, and what a tool reads as JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner, Result

from compengine.cli import app
from tests.support import HEADER, PLANS_DIR

runner = CliRunner()

#: `path:line:col: severity[CODE]: message`
DIAGNOSTIC_LINE = re.compile(
    r"^(?P<path>.+):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning)\[(?P<code>[EW]\d{3})\]: (?P<message>.+)$"
)
JSON_KEYS = {"file", "line", "column", "end_line", "end_column", "severity", "code", "message", "hint"}

# Three mistakes, each in a different declaration: a misspelt deal field (credit rule), money
# plus a percentage (let), and an unknown name (component).
THREE_MISTAKES = (
    HEADER
    + """
credit bookings from deals
  to owner
  amount deal.amont
  dated deal.close_date

let bonus = 100 USD + 5%

component commission "Commission"
  per credit of bookings
  rate comission_rate
  cap bonus per deal
"""
)

CLEAN = (
    HEADER
    + """
credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date

component commission "Commission"
  per credit of bookings
  rate 5%
"""
)


def check(*args: str) -> Result:
    return runner.invoke(app, ["check", *args])


def write(tmp_path: Path, text: str, name: str = "plan.comp") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def headlines(output: str) -> list[re.Match[str]]:
    return [m for line in output.splitlines() if (m := DIAGNOSTIC_LINE.match(line))]


def test_the_example_plans_check_clean() -> None:
    result = check(str(PLANS_DIR))
    assert result.exit_code == 0, result.output
    assert headlines(result.stdout) == []
    assert "0 errors" in result.stdout


def test_three_errors_in_different_declarations_are_all_reported_in_one_run(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_MISTAKES)
    result = check(str(path))
    assert result.exit_code == 1
    found = headlines(result.stdout)
    assert [(m["code"], int(m["line"])) for m in found] == [("E022", 11), ("E030", 14), ("E020", 18)]
    assert all(m["path"] == str(path) and m["severity"] == "error" for m in found)
    assert "3 errors" in result.stderr


def test_a_diagnostic_shows_the_source_line_a_caret_under_the_span_and_the_hint(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_MISTAKES)
    lines = check(str(path)).stdout.splitlines()
    first = lines.index(f"{path}:11:15: error[E022]: `deal.amont` is not a deal field")
    source, caret, hint = lines[first + 1 : first + 4]
    assert source == "   11 |   amount deal.amont"
    assert caret.index("|") == source.index("|")
    assert caret.index("^") == source.index("amont")
    assert caret.strip().endswith("^" * len("amont")) and caret.count("^") == len("amont")
    assert hint == "  hint: did you mean `amount`?"


def test_the_caret_keeps_tabs_so_it_lines_up_under_tab_indented_source(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN.replace("  rate 5%", "\trate comission_rate"))
    lines = check(str(path)).stdout.splitlines()
    source_at = next(i for i, line in enumerate(lines) if line.endswith("rate comission_rate"))
    source, caret = lines[source_at], lines[source_at + 1]
    assert caret.index("^") == source.index("comission_rate")
    assert caret.count("^") == len("comission_rate")


def test_json_output_is_a_list_of_diagnostics_with_exactly_the_documented_keys(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_MISTAKES)
    result = check(str(path), "--format", "json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert isinstance(payload, list) and len(payload) == 3
    assert all(set(item) == JSON_KEYS for item in payload)
    assert payload[0] == {
        "file": str(path),
        "line": 11,
        "column": 15,
        "end_line": 11,
        "end_column": 20,
        "severity": "error",
        "code": "E022",
        "message": "`deal.amont` is not a deal field",
        "hint": "did you mean `amount`?",
    }


def test_json_output_for_clean_plans_is_an_empty_list() -> None:
    result = check(str(PLANS_DIR), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_warnings_alone_exit_zero(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN + "\nlet spare_rate = 7%\n")
    result = check(str(path))
    assert result.exit_code == 0, result.output
    assert [(m["severity"], m["code"]) for m in headlines(result.stdout)] == [("warning", "W100")]
    assert "0 errors, 1 warning" in result.stdout


def test_a_missing_path_is_reported_plainly_without_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_plan.comp"
    result = check(str(missing))
    assert result.exit_code == 1
    assert f"there is no file or folder {missing}" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_binary_file_is_reported_plainly_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "plan.comp"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = check(str(path))
    assert result.exit_code == 1
    assert f"{path}:1:1: error[E003]: the file is binary, not plan text" in result.stdout
    assert "Traceback" not in result.output


def test_errors_in_several_files_are_all_reported(tmp_path: Path) -> None:
    write(tmp_path, THREE_MISTAKES, "a.comp")
    write(tmp_path, CLEAN.replace("quarterly", "quartely").replace("test_plan", "other_plan"), "b.comp")
    result = check(str(tmp_path))
    assert result.exit_code == 1
    assert {Path(m["path"]).name for m in headlines(result.stdout)} == {"a.comp", "b.comp"}
    assert "checked 2 files: 4 errors, 0 warnings" in result.stderr


def test_a_folder_without_plan_files_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no plan files (*.comp) were found in {tmp_path}" in result.output
