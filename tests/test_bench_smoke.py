"""The benchmark suite at a tiny size: correctness only, never timing.

The generator gives the same bytes for the same seed; the engine and the plain-Python
reference (bench/reference.py) agree on every line of the standard benchmark plan, every
quarter; and `bench/run.py`'s whole pipeline (generate, evaluate, compile, a quarter end to end
on SQLite through the service, the report) runs.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from compengine.core.calculation import calculate
from compengine.io.csv_data import load_dataset
from compengine.lang.loader import load_plans
from tests.support import REPO

BENCH = REPO / "bench"
PAYEES, DEALS = 30, 300


def bench_module(name: str) -> ModuleType:
    """bench/<name>.py (bench/ is not a package), imported once as `bench_<name>`."""
    if f"bench_{name}" in sys.modules:
        return sys.modules[f"bench_{name}"]
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # run.py imports its neighbours by name
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench") / "tiny"
    bench_module("generate").generate(folder, PAYEES, DEALS, seed=7)
    return folder


def test_the_generator_gives_the_same_bytes_for_the_same_seed(tiny: Path, tmp_path: Path) -> None:
    generate = bench_module("generate")
    generate.generate(tmp_path / "again", PAYEES, DEALS, seed=7)
    generate.generate(tmp_path / "other", PAYEES, DEALS, seed=8)
    files = sorted(p.name for p in tiny.glob("*.csv"))
    assert files == ["assignments.csv", "deals.csv", "exchange_rates.csv", "payees.csv", "quotas.csv", "reporting_lines.csv"]
    for name in files:
        assert (tmp_path / "again" / name).read_bytes() == (tiny / name).read_bytes(), name
    assert (tmp_path / "other" / "deals.csv").read_bytes() != (tiny / "deals.csv").read_bytes()


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_the_engine_and_the_reference_agree_on_every_line_of_the_standard_plan(tiny: Path, quarter: int) -> None:
    reference = bench_module("reference")
    expected = reference.calculate(reference.load(tiny), quarter).lines[f"2026-Q{quarter}"]
    loaded = load_plans([str(p) for p in sorted((BENCH / "plans").glob("*.comp"))])
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    result = calculate(loaded.plans, load_dataset(tiny), f"2026-Q{quarter}")
    found = {(s.payee_id, line.component.name): line.amount for s in result.statements if s.plan.id == "standard" for line in s.lines}
    assert len(expected) >= 4 * 10  # a dozen or so payees on the plan, four components each
    assert found == expected
    assert any(amount != 0 for (_, component), amount in found.items() if component == "override")
    assert {s.plan.id for s in result.statements} == {"standard", "simple", "complex"}


def test_the_benchmark_pipeline_runs_end_to_end_on_sqlite(tmp_path: Path) -> None:
    run = bench_module("run")
    results = tmp_path / "results"
    report = tmp_path / "RESULTS.md"
    arguments = ["--payees", str(PAYEES), "--deals", str(DEALS), "--runs", "1", "--db", "sqlite", "--cache", str(tmp_path / "cache")]
    arguments += ["--results-dir", str(results), "--report", str(report), "--quiet"]
    code = run.main(arguments)
    assert code == 0
    figures = json.loads((results / f"custom-{PAYEES}x{DEALS}.json").read_text(encoding="utf-8"))
    evaluation = figures["evaluation"]
    assert evaluation["standard_lines"] > 0 and evaluation["credit_lines"] > 0
    e2e = figures["e2e"]["sqlite"]
    assert "error" not in e2e
    assert e2e["lines"] >= evaluation["all_lines"] > 0  # every plan's lines stored (and checked against the reference)
    assert e2e["trace_bytes_per_line"] > 0
    assert set(e2e["stages_s"]) >= {"load facts", "publish plans", "open cycle", "calculate", "read statements"}
    assert figures["compile"]["big_plan_lines"] >= 1000
    workers = figures["workers"]
    assert workers["note"]
    if workers.get("available") and "identical" in workers:  # the engine evaluates with worker processes
        assert workers["identical"]
    text = report.read_text(encoding="utf-8")
    assert "| # | target | figure | met? |" in text
    assert "not measured yet" in text  # the API's row
