"""Libraries: definitions shared by plans (rates, tables, parameters), brought in with `use`.

A library file starts with `library <name>` and holds attributes, parameters, tables, curves,
decision tables and lets only (E017).  `use a, b from "path"` (relative to the plan) brings
in those definitions and every library definition they depend on; a misspelt name is E020,
an unreadable file E003, a plan file E017.  A plan's content hash covers the text of the
libraries it uses, and traces point at the library file a definition came from.
"""

from __future__ import annotations

import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from compengine.cli import app
from compengine.core.data import Deal
from compengine.core.plan import CompiledPlan, ParameterDef, TableDef
from compengine.core.trace import build_line_trace
from compengine.lang.loader import LoadResult, load_plans
from tests.support import HEADER, calc, dataset, deal, line_amounts, payee

LIBRARY = """library corporate_rates "Corporate rates"

parameter base_rate = 5% from 2026-01-01, 6% from 2026-07-01

table region_bonus: percent by deal.region
  "EMEA": 1%
  otherwise: 0%

deal attribute region: text, default "AMER"

let total_rate = base_rate + region_bonus

parameter spare_rate = 3%
"""

BOOKINGS = """
credit bookings from deals
  to owner
  amount deal.amount
  dated deal.close_date
"""


def plan_text(use: str, rate: str) -> str:
    return (
        HEADER
        + f"""
{use}
"""
        + BOOKINGS
        + f"""
component commission "Commission"
  per credit of bookings
  rate {rate}
"""
    )


USING_BOTH = plan_text('use base_rate, region_bonus from "shared/rates.comp"', "base_rate + region_bonus")
USING_LET = plan_text('use total_rate from "shared/rates.comp"', "total_rate")


def write(root: Path, plan: str, library: str = LIBRARY, plan_name: str = "ae.comp") -> Path:
    (root / "shared").mkdir(parents=True, exist_ok=True)
    (root / "shared" / "rates.comp").write_text(library, encoding="utf-8")
    path = root / plan_name
    path.write_text(plan, encoding="utf-8")
    return path


def only_plan(result: LoadResult) -> CompiledPlan:
    assert result.ok, [str(d.message) for d in result.diagnostics]
    [plan] = result.plans
    return plan


def deals() -> list[Deal]:
    return [
        deal("D1", "P1", 100_000, "2026-02-01", region="EMEA"),
        deal("D2", "P1", 100_000, "2026-02-02"),
        deal("D3", "P1", 100_000, "2026-08-01", region="EMEA"),
    ]


# ---------------------------------------------------------------------- using definitions
def test_a_plan_pays_with_a_table_and_a_parameter_from_a_library(tmp_path: Path) -> None:
    plan = only_plan(load_plans([str(write(tmp_path, USING_BOTH))]))
    data = dataset([payee("P1")], deals())
    # Q1: D1 in EMEA: 100,000 × (5% + 1%) = 6,000; D2 elsewhere: 100,000 × 5% = 5,000; line 11,000.00
    assert line_amounts(calc(plan, data, "2026-Q1"), "P1") == {"commission": Decimal("11000.00")}
    # Q3: the parameter is 6% from 2026-07-01: D3 in EMEA: 100,000 × (6% + 1%) = 7,000.00
    assert line_amounts(calc(plan, data, "2026-Q3"), "P1") == {"commission": Decimal("7000.00")}


def test_a_library_definitions_own_dependencies_come_along(tmp_path: Path) -> None:
    plan = only_plan(load_plans([str(write(tmp_path, USING_LET))]))
    # total_rate brings base_rate, region_bonus and the deal attribute region it reads, not spare_rate
    assert set(plan.definitions) == {"total_rate", "base_rate", "region_bonus"}
    assert set(plan.attributes) == {"deal.region"}
    # the same amounts as naming them one by one: 6,000 + 5,000
    assert line_amounts(calc(plan, dataset([payee("P1")], deals()), "2026-Q1"), "P1") == {"commission": Decimal("11000.00")}


def test_a_plan_may_use_the_same_library_definition_through_two_names(tmp_path: Path) -> None:
    text = plan_text('use total_rate, base_rate from "shared/rates.comp"', "total_rate")
    plan = only_plan(load_plans([str(write(tmp_path, text))]))
    assert set(plan.definitions) == {"total_rate", "base_rate", "region_bonus"}


# ---------------------------------------------------------------------- content hash
def test_the_content_hash_covers_the_library(tmp_path: Path) -> None:
    path = write(tmp_path, USING_BOTH)
    first = only_plan(load_plans([str(path)])).source_sha256
    assert only_plan(load_plans([str(path)])).source_sha256 == first, "same plan, same library: same hash"
    (tmp_path / "shared" / "rates.comp").write_text(LIBRARY.replace('"EMEA": 1%', '"EMEA": 2%'), encoding="utf-8")
    assert only_plan(load_plans([str(path)])).source_sha256 != first, "the library changed, so the plan's hash does"


def test_the_content_hash_does_not_depend_on_where_the_folder_is(tmp_path: Path) -> None:
    first = only_plan(load_plans([str(write(tmp_path / "a", USING_BOTH))])).source_sha256
    shutil.copytree(tmp_path / "a", tmp_path / "elsewhere" / "b")
    assert only_plan(load_plans([str(tmp_path / "elsewhere" / "b" / "ae.comp")])).source_sha256 == first


def test_a_plan_without_libraries_is_hashed_on_its_own_text(tmp_path: Path) -> None:
    text = plan_text("", "5%")
    path = tmp_path / "plain.comp"
    path.write_text(text, encoding="utf-8")
    assert only_plan(load_plans([str(path)])).source_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- errors
def test_a_name_the_library_does_not_have_is_e020_with_the_closest_name(tmp_path: Path) -> None:
    text = plan_text('use base_rate, regon_bonus from "shared/rates.comp"', "base_rate")
    [found] = load_plans([str(write(tmp_path, text))]).diagnostics
    assert found.code == "E020"
    assert found.message == "library shared/rates.comp has no `regon_bonus`"
    line = text.splitlines().index('use base_rate, regon_bonus from "shared/rates.comp"') + 1
    assert (found.span.line, found.span.column, found.span.end_column) == (line, 16, 27)
    assert found.hint == "did you mean `region_bonus`?"


def test_a_missing_library_file_is_e003_on_the_path(tmp_path: Path) -> None:
    text = plan_text('use base_rate from "shared/rate.comp"', "base_rate")
    e003, unknown = load_plans([str(write(tmp_path, text))]).diagnostics
    assert e003.code == "E003"
    assert e003.message == "cannot read the library shared/rate.comp: No such file or directory"
    assert e003.span.column == text.splitlines()[e003.span.line - 1].index('"shared/rate.comp"') + 1
    assert e003.hint == "check the path, relative to this file"
    # and, as nothing was brought in, the name it was to bring is unknown where it is used
    assert (unknown.code, unknown.message) == ("E020", "unknown name `base_rate`")


def test_using_a_plan_file_as_a_library_is_e017(tmp_path: Path) -> None:
    write(tmp_path, USING_BOTH)
    text = plan_text('use base_rate from "ae.comp"', "5%").replace("test_plan", "other_plan")
    (tmp_path / "other.comp").write_text(text, encoding="utf-8")
    result = load_plans([str(tmp_path / "other.comp")])
    e017 = [d for d in result.diagnostics if d.code == "E017"]
    assert [d.message for d in e017] == ["ae.comp is not a library"]
    assert e017[0].hint == 'a library file starts with `library <name> "<title>"`'


def test_a_library_holding_a_component_is_e017(tmp_path: Path) -> None:
    library = LIBRARY + '\ncomponent bonus "Bonus"\n  pays 100 USD\n'
    write(tmp_path, USING_BOTH, library)
    [found] = load_plans([str(tmp_path / "shared")]).diagnostics
    assert found.code == "E017"
    assert found.message == "a library can share attributes, parameters, tables, curves, decision tables and lets, not a component"
    assert found.span.line == library.splitlines().index('component bonus "Bonus"') + 1
    assert found.hint == "move this into the plans that need it"


def test_using_a_component_from_a_library_is_e017_at_the_use(tmp_path: Path) -> None:
    library = LIBRARY + '\ncomponent bonus "Bonus"\n  pays 100 USD\n'
    text = plan_text('use base_rate, bonus from "shared/rates.comp"', "base_rate")
    [found] = load_plans([str(write(tmp_path, text, library))]).diagnostics
    assert found.code == "E017"
    assert found.message == "`bonus` in shared/rates.comp is a component, which a library cannot share"


def test_a_library_holding_a_revision_is_e017(tmp_path: Path) -> None:
    library = LIBRARY + "\nrevision 2 effective 2026-07-01\n"
    write(tmp_path, USING_BOTH, library)
    found = load_plans([str(tmp_path / "shared")]).diagnostics
    assert [(d.code, d.message) for d in found] == [("E017", "a library holds shared definitions only, not a plan or its revisions")]


# ---------------------------------------------------------------------- check, traces
def test_checking_a_folder_with_a_library_does_not_call_its_definitions_unused(tmp_path: Path) -> None:
    write(tmp_path, USING_BOTH)
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "W100" not in result.output
    assert "checked 2 files: 0 errors, 0 warnings" in result.output


def test_traces_point_at_the_library_file(tmp_path: Path) -> None:
    path = write(tmp_path, USING_BOTH)
    plan = only_plan(load_plans([str(path)]))
    library_path = str(tmp_path / "shared" / "rates.comp")
    assert isinstance(plan.definitions["base_rate"], ParameterDef)
    assert isinstance(plan.definitions["region_bonus"], TableDef)
    assert plan.definitions["base_rate"].span.file == library_path
    statement = calc(plan, dataset([payee("P1")], deals()[:1]), "2026-Q1").statement("P1")
    trace = build_line_trace(statement, statement.lines[0])
    used = {n.label: n.source for n in trace.walk() if n.kind in ("parameter", "table")}
    assert set(used) == {"base_rate", "region_bonus"}
    base, table = used["base_rate"], used["region_bonus"]
    assert base is not None and (base.file, base.line) == (library_path, 3)
    assert table is not None and (table.file, table.line) == (library_path, 6)  # the "EMEA" row
    assert trace.source is not None and trace.source.file == str(path)
