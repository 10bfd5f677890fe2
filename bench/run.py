"""The benchmark suite (issue 6): one command, every figure, checked before it is reported.

    python bench/run.py --size S                       # S fully, both databases, 3 runs
    python bench/run.py --size M --runs 1 --db sqlite  # M: evaluation and SQLite end to end
    python bench/run.py --size S --profile             # also profile evaluation (cProfile)

Steps, each measurement in its own process (so peak RSS figures do not mix):

1. generate the synthetic company (bench/generate.py), cached in bench/.cache/;
2. evaluation: the engine (standard plan, per-line traces built) and the plain-Python
   reference (bench/reference.py) on the same data in the same process, alternately, N runs;
   every line of the standard plan must agree to the cent, or nothing is reported (exit 1);
3. compile: the three benchmark plans, and a generated 1,000-line plan (check + compile);
4. end to end, per database: facts.load -> plans.publish -> PayoutCycles.open/calculate ->
   reading the statements, stage by stage, on a fresh database each run; the stored standard
   lines are checked against the reference too;
5. results go to bench/results/<size>.json and bench/RESULTS.md is written from every size's
   results found there.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import inspect
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402  (bench/ is not a package)

PLANS = BENCH / "plans"
PLAN_FILES = sorted(PLANS.glob("*.comp"))
CACHE = BENCH / ".cache"
RESULTS_DIR = BENCH / "results"
RESULTS_MD = BENCH / "RESULTS.md"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SIZE_ORDER = ("S", "M", "L")

Json = dict[str, Any]


# ====================================================================== helpers
def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class GcClock:
    """Seconds the cyclic garbage collector has run in this process (and full collections)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.full += info["generation"] == 2


class Stopwatch:
    """Cumulative time per stage name; `wrap` times every call of a function."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return function(*args, **kwargs)

        return timed


def compare_lines(reference: dict[tuple[str, str], Decimal], engine: dict[tuple[str, str], Decimal]) -> list[str]:
    """Every (payee, component) line where the two differ, as text."""
    problems = []
    for key in sorted(set(reference) | set(engine)):
        ref, eng = reference.get(key), engine.get(key)
        if ref is None or eng is None or ref != eng:
            problems.append(f"payee {key[0]} component {key[1]}: engine {eng}, reference {ref}")
    return problems


def standard_lines(statements: Any) -> dict[tuple[str, str], Decimal]:
    return {(s.payee_id, line.component.name): line.amount for s in statements if s.plan.id == "standard" for line in s.lines}


# ====================================================================== measurements (child processes)
def child_evaluate(folder: str, quarter: int, runs: int) -> Json:
    """The engine and the reference on the same data, alternately; lines compared."""
    import reference

    from compengine.core.calculation import calculate
    from compengine.core.trace import build_line_trace, trace_json
    from compengine.io.csv_data import load_dataset
    from compengine.lang.loader import load_plans

    label = f"2026-Q{quarter}"
    started = time.perf_counter()
    loaded = load_plans([str(p) for p in PLAN_FILES])
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    plans = loaded.plans
    standard = [p for p in plans if p.id == "standard"]
    dataset = load_dataset(folder)
    csv_load = time.perf_counter() - started
    data = reference.load(folder)

    collector = GcClock()

    def engine(which: list[Any]) -> tuple[Any, float, float, int]:
        collector.seconds = 0.0
        began = time.perf_counter()
        result = calculate(which, dataset, label)
        evaluated = time.perf_counter()
        lines = 0
        for statement in result.statements:
            for line in statement.lines:
                trace_json(build_line_trace(statement, line))
                lines += 1
        done = time.perf_counter()
        return result, evaluated - began, done - evaluated, lines

    out: Json = {"csv_and_plans_load_s": csv_load, "reference_s": [], "engine_s": [], "engine_calc_s": [], "engine_trace_s": []}
    out |= {"engine_all_s": [], "engine_all_trace_s": [], "engine_gc_s": [], "engine_all_gc_s": [], "mismatches": []}
    for run in range(runs):
        began = time.perf_counter()
        ref = reference.calculate(data, quarter)
        out["reference_s"].append(time.perf_counter() - began)
        expected = ref.lines[label]
        out["credit_lines"] = ref.credit_lines
        result, calc_s, trace_s, lines = engine(standard)
        out["engine_calc_s"].append(calc_s)
        out["engine_trace_s"].append(trace_s)
        out["engine_s"].append(calc_s + trace_s)
        out["engine_gc_s"].append(collector.seconds)
        out["standard_lines"] = lines
        if run == 0:
            out["mismatches"] += compare_lines(expected, standard_lines(result.statements))[:50]
        del result
        result, calc_s, trace_s, lines = engine(plans)
        out["engine_all_s"].append(calc_s + trace_s)
        out["engine_all_trace_s"].append(trace_s)
        out["engine_all_gc_s"].append(collector.seconds)
        out["all_lines"] = lines
        out["all_statements"] = len(result.statements)
        if run == 0:
            out["mismatches"] += [f"(all plans) {m}" for m in compare_lines(expected, standard_lines(result.statements))[:50]]
        del result
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def child_compile(runs: int) -> Json:
    """Check + compile time of a generated 1,000-line plan (cold: the first in this process,
    grammar loading included; warm: the median after it) and of the three benchmark plans."""
    from bigplan import thousand_line_plan

    from compengine.lang.diagnostics import has_errors
    from compengine.lang.loader import compile_source

    text = thousand_line_plan()
    times = []
    for _ in range(max(runs, 5)):
        began = time.perf_counter()
        source = compile_source("big.comp", text)
        times.append(time.perf_counter() - began)
        if has_errors(source.diagnostics) or source.plan is None:
            raise SystemExit(f"the 1,000-line plan does not check: {[d.message for d in source.diagnostics][:5]}")
    plan_times = []
    for _ in range(max(runs, 5)):
        began = time.perf_counter()
        for path in PLAN_FILES:
            compiled = compile_source(str(path), path.read_text(encoding="utf-8"))
            assert compiled.plan is not None, [d.message for d in compiled.diagnostics]
        plan_times.append(time.perf_counter() - began)
    return {
        "big_plan_lines": text.count("\n"),
        "big_plan_components": len(source.plan.components) if source.plan else 0,
        "big_plan_cold_s": times[0],
        "big_plan_warm_s": median(times[1:]),
        "bench_plans_s": median(plan_times),
        "peak_rss_mb": peak_rss_mb(),
    }


def child_e2e(folder: str, quarter: int, url: str, schema: str | None, progress: str, workers: int = 1) -> Json:
    """One quarter through the real service path on a fresh database, stage by stage.

    The calculate call is timed as a whole and, inside it, by wrapping the functions the
    service calls (reading facts, compiling published plans, typing attributes, crediting,
    building traces, writing the run); what is left is evaluation proper and sealing."""
    from sqlalchemy import func, select

    import compengine.core.calculation as calculation_module
    import compengine.service.cycles as cycles_module
    from compengine.core.crediting import Crediting
    from compengine.service.cycles import PayoutCycles
    from compengine.store import facts, plans
    from compengine.store.database import Database
    from compengine.store.runs import unpack_trace
    from compengine.store.schema import run_lines

    label = f"2026-Q{quarter}"
    watch = Stopwatch()
    collector = GcClock()
    out: Json = {"stages_s": watch.seconds}

    def save() -> None:
        out["peak_rss_mb"] = peak_rss_mb()
        out["peak_rss_worker_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest worker
        Path(progress).write_text(json.dumps(out), encoding="utf-8")

    with watch.stage("create database"):
        db = Database(url, schema=schema)
    with watch.stage("load facts"):
        report = facts.load(db, folder, fork=workers > 1)  # both cores: rows validated alongside
    out["fact_versions"] = report.total
    save()
    with watch.stage("publish plans"):
        for path in PLAN_FILES:
            plans.publish(db, str(path), by="bench")
    cycles = PayoutCycles(db, workers=workers) if workers > 1 else PayoutCycles(db)
    with watch.stage("open cycle"):
        cycles.open(label)
    save()
    inner = Stopwatch()
    # the service evaluates through core.batches.evaluate (traces built inside it, per
    # statement) or, before it existed, core.calculation.calculate (traces built after)
    traces_inside = hasattr(cycles_module, "evaluate")
    whole = "evaluate" if traces_inside else "calculate"
    for owner, name, stage in (
        (cycles_module, "as_known_at", "read facts"),
        (cycles_module, "published_at", "compile published plans"),
        (cycles_module, whole, "credit + evaluate"),
        (cycles_module, "build_line_trace", "build traces"),
        (cycles_module, "trace_json", "build traces"),
        (cycles_module, "write_run", "persist run + traces"),
        (calculation_module, "typed_attributes", "type attributes"),
        (Crediting, "credit", "credit"),
    ):  # timing wrappers around what the service calls (this process only; src/ is unchanged)
        if hasattr(owner, name):
            setattr(owner, name, inner.wrap(stage, getattr(owner, name)))
    collector.seconds, collector.full = 0.0, 0
    with watch.stage("calculate"):
        summary = cycles.calculate(label)
    out["calculate_gc_s"], out["calculate_gc_full_collections"] = collector.seconds, collector.full
    seconds = dict(inner.seconds)
    # crediting and typing attributes run inside calculate(): evaluation is what is left
    inside = seconds.get("credit", 0.0) + seconds.get("type attributes", 0.0)
    if traces_inside:
        inside += seconds.get("build traces", 0.0)
    seconds["evaluate"] = seconds.pop("credit + evaluate", 0.0) - inside
    out["workers"] = workers  # (with workers, crediting is in this process, evaluation and traces in theirs)
    order = ("read facts", "compile published plans", "type attributes", "credit", "evaluate", "build traces", "persist run + traces")
    parts = {name: seconds.get(name, 0.0) for name in order}
    parts["seal, hash, other"] = watch.seconds["calculate"] - sum(parts.values())
    out["calculate_parts_s"] = parts
    out["lines"] = summary.lines
    out["statements"] = summary.statements
    save()
    with watch.stage("read statements"):
        run_id, stored = cycles.lines(label)
    out["stored_standard"] = {f"{s.payee_id}|{s.component}": format(s.amount, "f") for s in stored if s.plan_id == "standard"}
    with db.reading() as connection:
        total, count = connection.execute(
            select(func.sum(func.length(run_lines.c.trace)), func.count()).where(run_lines.c.run_id == run_id)
        ).one()
        query = select(run_lines.c.trace).where(run_lines.c.run_id == run_id).limit(2000)
        sample = [unpack_trace(row.trace) for row in connection.execute(query)]
    out["trace_bytes_per_line"] = int(total) / int(count) if count else 0.0
    out["trace_json_bytes_per_line_sample"] = (
        sum(len(json.dumps(t, sort_keys=True, separators=(",", ":"))) for t in sample) / len(sample) if sample else 0.0
    )
    out["stored_lines"] = int(count)
    db.dispose()
    out["end_to_end_s"] = sum(v for k, v in watch.seconds.items() if k != "create database")
    out["done"] = True
    save()
    return out


def child_profile(folder: str, quarter: int, out_path: str, top: int) -> Json:
    """cProfile of evaluation (all three plans, traces built) on one quarter."""
    from compengine.core.calculation import calculate
    from compengine.core.trace import build_line_trace, trace_json
    from compengine.io.csv_data import load_dataset
    from compengine.lang.loader import load_plans

    plans = load_plans([str(p) for p in PLAN_FILES]).plans
    dataset = load_dataset(folder)
    collector = GcClock()

    def profiled(path: str) -> tuple[float, list[Json]]:
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        result = calculate(plans, dataset, f"2026-Q{quarter}")
        for statement in result.statements:
            for line in statement.lines:
                trace_json(build_line_trace(statement, line))
        profiler.disable()
        wall = time.perf_counter() - began
        profiler.dump_stats(path)
        raw: dict[Any, Any] = pstats.Stats(path).stats  # type: ignore[attr-defined]
        total = sum(own for (_, _, own, _, _) in raw.values())  # every function's own time: all the profiled time
        rows = []
        for (file, line, name), (_, calls, own, cumulative, _) in raw.items():
            where = f"{_short(file)}:{line}"
            rows.append(
                {
                    "function": name,
                    "where": where,
                    "calls": calls,
                    "own_pct": 100 * own / total,
                    "cumulative_pct": 100 * cumulative / total,
                    "what": _doc_of(file, line, name),
                }
            )
        return wall, rows

    wall, rows = profiled(out_path)
    gc_s, gc_full = collector.seconds, collector.full
    # the collector's pauses are charged to whatever function allocated at the time; a second
    # profile with it off shows where the interpreter's own work goes
    gc.disable()
    try:
        wall_off, rows_off = profiled(out_path.replace(".pstats", "-gc-off.pstats"))
    finally:
        gc.enable()
    mine = [r for r in rows if "compengine" in r["where"]]
    return {
        "wall_s": wall,
        "gc_s": gc_s,
        "gc_full_collections": gc_full,
        "wall_gc_off_s": wall_off,
        "by_cumulative": sorted(mine, key=lambda r: -r["cumulative_pct"])[:top],
        "by_own": sorted(rows, key=lambda r: -r["own_pct"])[:top],
        "by_own_gc_off": sorted(rows_off, key=lambda r: -r["own_pct"])[:top],
    }


def _short(file: str) -> str:
    if "compengine/" in file:
        return "src/compengine/" + file.split("compengine/", 1)[1]
    if file.startswith("~") or file.startswith("<"):
        return file
    return Path(file).name


def _doc_of(file: str, line: int, name: str) -> str:
    """The first sentence of the profiled function's docstring, if it has one."""
    if "compengine" not in file or name.startswith("<"):
        return ""
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    if line < 1 or "def " not in lines[line - 1]:
        return ""
    index = line - 1
    while index < len(lines) and not lines[index].rstrip().endswith(":"):  # the rest of the signature
        index += 1
    following = lines[index + 1].strip() if index + 1 < len(lines) else ""
    if not following.startswith('"""'):
        return ""
    return following.strip('"').split(". ")[0].rstrip(".")


def child_workers(folder: str, quarter: int, runs: int, workers: int) -> Json:
    """core.batches.evaluate (all three plans, each line traced and sealed as a run keeps it:
    the service's own conversion) with one worker and with `workers`, alternately; the results
    must be identical.  Typing the attributes (`plan_work`) runs in one process either way; it is
    timed on its own so the speed-up of what follows (crediting and evaluation, which the
    workers share) can be given."""
    from decimal import localcontext

    from compengine.core.batches import evaluate
    from compengine.core.calculation import plan_work
    from compengine.core.gcpause import paused_gc
    from compengine.core.money import DECIMAL_CONTEXT
    from compengine.io.csv_data import load_dataset
    from compengine.lang.loader import load_plans
    from compengine.service.cycles import _statement_rows as convert

    plans = load_plans([str(p) for p in PLAN_FILES]).plans
    dataset = load_dataset(folder)

    one: list[float] = []
    many: list[float] = []
    prepared: list[float] = []
    identical = True
    for _ in range(runs):
        began = time.perf_counter()
        with localcontext(DECIMAL_CONTEXT), paused_gc():
            book, _ = plan_work(plans, dataset, f"2026-Q{quarter}")
            book.close()
        prepared.append(time.perf_counter() - began)
        del book
        began = time.perf_counter()
        single = evaluate(plans, dataset, f"2026-Q{quarter}", convert, workers=1)
        one.append(time.perf_counter() - began)
        began = time.perf_counter()
        several = evaluate(plans, dataset, f"2026-Q{quarter}", convert, workers=workers)
        many.append(time.perf_counter() - began)
        identical = identical and single.parts == several.parts and single.notes == several.notes
        statements = len(single.parts)
        del single, several
    return {
        "workers": workers,
        "one_s": one,
        "many_s": many,
        "prepare_s": prepared,
        "speedups": [a / b for a, b in zip(one, many, strict=True)],
        "identical": identical,
        "statements": statements,
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


CHILDREN: dict[str, Callable[..., Json]] = {
    "evaluate": child_evaluate,
    "compile": child_compile,
    "e2e": child_e2e,
    "profile": child_profile,
    "workers": child_workers,
}


# ====================================================================== orchestration
def run_child(kind: str, arguments: Json, timeout: float | None = None) -> tuple[Json | None, str]:
    """Run one measurement in a fresh Python process; (its result, or None, and why not)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_path = handle.name
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--child-args", json.dumps(arguments)]
    command += ["--child-out", result_path]
    try:
        done = subprocess.run(command, timeout=timeout, capture_output=True, text=True, check=False)
    except subprocess.TimeoutExpired:
        return None, f"stopped after {timeout:.0f} s"
    finally:
        text = Path(result_path).read_text(encoding="utf-8") if Path(result_path).exists() else ""
        Path(result_path).unlink(missing_ok=True)
    if done.returncode != 0:
        return None, f"failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
    return json.loads(text), ""


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("give worker counts of 1 or more, separated by commas: 1,2")
    return counts


def e2e_key(kind: str, workers: int) -> str:
    """How an end-to-end measurement is filed: by database, and by worker count beyond one."""
    return kind if workers == 1 else f"{kind}, {workers} workers"


def all_end_to_end(args: argparse.Namespace, folder: Path, say: Callable[..., Any]) -> Json:
    found: Json = {}
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        for workers in args.e2e_workers:
            found[e2e_key(kind, workers)] = end_to_end(args, kind, folder, say, workers)
    return found


def data_folder(label: str, payees: int, deals: int, seed: int, cache: Path) -> tuple[Path, Json]:
    folder = cache / f"{payees}x{deals}-seed{seed}"
    summary = generate.ensure(folder, payees, deals, seed)
    return folder, summary


def check_stored(folder: Path, quarter: int, stored: dict[str, str]) -> list[str]:
    import reference

    expected = reference.calculate(reference.load(folder), quarter).lines[f"2026-Q{quarter}"]
    found = {tuple(key.split("|", 1)): Decimal(amount) for key, amount in stored.items()}
    return compare_lines(expected, found)  # type: ignore[arg-type]


def measure(args: argparse.Namespace) -> Json:
    """Every figure of one size; raises SystemExit (1) if engine and reference disagree."""
    payees, deals = (args.payees, args.deals) if args.payees else generate.SIZES[args.size]
    label = args.size if not args.payees else f"custom-{payees}x{deals}"

    def say(*text: object) -> None:
        if not args.quiet:
            print(*text, flush=True)

    began = time.perf_counter()
    folder, summary = data_folder(label, payees, deals, args.seed, args.cache)
    say(f"[{label}] data in {folder} ({summary['payees']} payees, {summary['deals']} deals)")
    figures: Json = {"size": label, "payees": payees, "deals": deals, "seed": args.seed, "quarter": args.quarter, "data": summary}
    figures["machine"] = machine()
    figures["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    figures["runs"] = args.runs
    figures["source"] = source_state()

    if args.e2e_only:  # the stored lines are still checked against the reference before anything is reported
        figures["e2e"] = all_end_to_end(args, folder, say)
        figures["bench_wall_s"] = time.perf_counter() - began
        figures["load_average_at_end"] = os.getloadavg()
        return figures

    # ---- evaluation (and the correctness gate: nothing is reported before it passes)
    say(f"[{label}] evaluation: engine and reference, {args.runs} run(s)...")
    evaluation, why = run_child("evaluate", {"folder": str(folder), "quarter": args.quarter, "runs": args.runs}, args.eval_timeout)
    if evaluation is None:
        raise SystemExit(f"evaluation {why}")
    if evaluation["mismatches"]:
        print(f"ENGINE AND REFERENCE DISAGREE on {len(evaluation['mismatches'])}+ lines of 2026-Q{args.quarter}:", file=sys.stderr)
        for problem in evaluation["mismatches"]:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(1)
    say(f"[{label}] engine and reference agree on all {evaluation['standard_lines']} standard lines")
    engine_s, reference_s = median(evaluation["engine_s"]), median(evaluation["reference_s"])
    ratios = [e / r for e, r in zip(evaluation["engine_s"], evaluation["reference_s"], strict=True)]
    figures["evaluation"] = {
        "credit_lines": evaluation["credit_lines"],
        "standard_lines": evaluation["standard_lines"],
        "engine_s": engine_s,
        "engine_calc_s": median(evaluation["engine_calc_s"]),
        "engine_trace_s": median(evaluation["engine_trace_s"]),
        "reference_s": reference_s,
        "ratio": median(ratios),
        "engine_credit_lines_per_s": evaluation["credit_lines"] / engine_s,
        "reference_credit_lines_per_s": evaluation["credit_lines"] / reference_s,
        "engine_all_plans_s": median(evaluation["engine_all_s"]),
        "engine_all_plans_trace_s": median(evaluation["engine_all_trace_s"]),
        "engine_gc_s": median(evaluation["engine_gc_s"]),
        "engine_all_plans_gc_s": median(evaluation["engine_all_gc_s"]),
        "all_lines": evaluation["all_lines"],
        "all_statements": evaluation["all_statements"],
        "csv_and_plans_load_s": evaluation["csv_and_plans_load_s"],
        "peak_rss_mb": evaluation["peak_rss_mb"],
        "raw": {k: evaluation[k] for k in ("engine_s", "reference_s", "engine_all_s")},
    }
    say(f"[{label}] engine {engine_s:.2f} s, reference {reference_s:.3f} s, ratio {median(ratios):.1f}x")

    # ---- workers
    figures["workers"] = workers_figure(args, folder, say)

    # ---- compile
    if not args.skip_compile:
        compiled, why = run_child("compile", {"runs": args.runs}, args.timeout)
        figures["compile"] = compiled if compiled is not None else {"error": why}
        say(f"[{label}] compile: {figures['compile']}")

    # ---- end to end
    figures["e2e"] = all_end_to_end(args, folder, say)

    if args.profile:
        figures["profile"] = profile(args, folder, label)
    figures["bench_wall_s"] = time.perf_counter() - began
    figures["load_average_at_end"] = os.getloadavg()
    return figures


def end_to_end(args: argparse.Namespace, kind: str, folder: Path, say: Callable[..., Any], workers: int = 1) -> Json:
    from compengine.store.database import drop_schema_for_tests, reset_schema_for_tests

    runs: list[Json] = []
    problem = ""
    for number in range(args.runs):
        say(f"[{e2e_key(kind, workers)}] end to end, run {number + 1}/{args.runs}...")
        with tempfile.TemporaryDirectory(prefix="compengine-bench-") as scratch:
            schema = None
            if kind == "sqlite":
                url = f"sqlite:///{scratch}/bench.db"
            else:
                url, schema = args.postgres_url, f"bench_{uuid.uuid4().hex[:10]}"
                try:
                    reset_schema_for_tests(url, schema)
                except Exception as error:  # no server: say so in the results
                    return {"error": f"PostgreSQL at {url} not reachable: {str(error).splitlines()[0]}"}
            progress = f"{scratch}/progress.json"
            try:
                arguments = {"folder": str(folder), "quarter": args.quarter, "url": url, "schema": schema, "progress": progress}
                arguments["workers"] = workers
                result, why = run_child("e2e", arguments, args.timeout)
                if result is None:
                    partial = json.loads(Path(progress).read_text(encoding="utf-8")) if Path(progress).exists() else {}
                    problem = f"{why}; stages finished before: {partial.get('stages_s', {})}"
                    say(f"[{kind}] {problem}")
                    return {"error": problem, "partial": partial}
            finally:
                if schema is not None:
                    drop_schema_for_tests(url, schema)
        mismatches = check_stored(folder, args.quarter, result.pop("stored_standard"))
        if mismatches:
            print(f"STORED LINES DISAGREE WITH THE REFERENCE ({kind}):", *mismatches[:50], sep="\n  ", file=sys.stderr)
            raise SystemExit(1)
        runs.append(result)
        say(f"[{e2e_key(kind, workers)}] {result['end_to_end_s']:.1f} s end to end, peak {result['peak_rss_mb']:.0f} MB")
    stages = {name: median([r["stages_s"][name] for r in runs]) for name in runs[0]["stages_s"]}
    parts = {name: median([r["calculate_parts_s"][name] for r in runs]) for name in runs[0]["calculate_parts_s"]}
    return {
        "end_to_end_s": median([r["end_to_end_s"] for r in runs]),
        "all_end_to_end_s": [r["end_to_end_s"] for r in runs],
        "stages_s": stages,
        "calculate_parts_s": parts,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "peak_rss_worker_mb": max(r.get("peak_rss_worker_mb", 0.0) for r in runs),
        "calculate_gc_s": median([r["calculate_gc_s"] for r in runs]),
        "calculate_gc_full_collections": runs[0]["calculate_gc_full_collections"],
        "trace_bytes_per_line": median([r["trace_bytes_per_line"] for r in runs]),
        "trace_json_bytes_per_line_sample": median([r["trace_json_bytes_per_line_sample"] for r in runs]),
        "lines": runs[0]["lines"],
        "workers": runs[0].get("workers", 1),
        "statements": runs[0]["statements"],
        "fact_versions": runs[0]["fact_versions"],
    }


def workers_figure(args: argparse.Namespace, folder: Path, say: Callable[..., Any]) -> Json:
    """Evaluation with `--workers` processes vs one, if the engine offers it (core.batches)."""
    try:
        from compengine.core import batches
    except ImportError:
        batches = None  # type: ignore[assignment]
    evaluate = getattr(batches, "evaluate", None)
    if evaluate is None or "workers" not in inspect.signature(evaluate).parameters:
        return {"available": False, "note": "not available: the engine has no parallel evaluation"}
    if args.workers < 2:
        return {"available": True, "note": "not measured (--workers 1)"}
    say(f"[workers] evaluation with 1 and {args.workers} worker processes, {args.runs} run(s)...")
    arguments = {"folder": str(folder), "quarter": args.quarter, "runs": args.runs, "workers": args.workers}
    found, why = run_child("workers", arguments, args.eval_timeout)
    if found is None:
        return {"available": True, "note": f"measurement {why}"}
    speedup = median(found["speedups"])
    found |= {"available": True, "speedup": speedup, "one_median_s": median(found["one_s"]), "many_median_s": median(found["many_s"])}
    found["note"] = (
        f"{speedup:.2f}× with {args.workers} workers ({found['one_median_s']:.2f} s → {found['many_median_s']:.2f} s), "
        f"results {'identical' if found['identical'] else '**DIFFERENT**'}"
    )
    if found.get("prepare_s"):
        prepare = median(found["prepare_s"])
        stage = (found["one_median_s"] - prepare) / max(found["many_median_s"] - prepare, 1e-9)
        found["stage_speedup"] = stage
        found["note"] += (
            f"; crediting and evaluation, after typing the attributes ({prepare:.2f} s, one process either way): {stage:.2f}× "
            f"({found['one_median_s'] - prepare:.2f} s → {found['many_median_s'] - prepare:.2f} s)"
        )
    say(f"[workers] {found['note']}")
    if not found["identical"]:
        print("EVALUATION WITH WORKERS GIVES DIFFERENT RESULTS FROM ONE PROCESS", file=sys.stderr)
        raise SystemExit(1)
    return found


def profile(args: argparse.Namespace, folder: Path, label: str) -> Json:
    out = args.results_dir / f"profile-{label}.pstats"
    out.parent.mkdir(parents=True, exist_ok=True)
    found, why = run_child("profile", {"folder": str(folder), "quarter": args.quarter, "out_path": str(out), "top": 25}, args.timeout)
    return found if found is not None else {"error": why}


# ====================================================================== machine and report
def source_state() -> Json:
    """The commit measured, and any files under src/ changed but not committed at the time."""

    def git(*command: str) -> str:
        try:
            return subprocess.run(["git", *command], cwd=BENCH.parent, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""

    dirty = [line[3:] for line in git("status", "--porcelain", "--", "src").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "src_uncommitted": dirty}


def machine() -> Json:
    cpu = ""
    try:
        for text in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for text in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if text.startswith("MemTotal"):
                memory = f"{int(text.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),  # 1, 5, 15 minutes: other work on the machine
    }


def _s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def write_report(results_dir: Path, out: Path) -> None:
    found: dict[str, Json] = {}
    for path in sorted(results_dir.glob("*.json")):
        if path.name.startswith("profile") or path.name == "api.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["size"]] = data
    order = sorted(found, key=lambda s: (SIZE_ORDER.index(s) if s in SIZE_ORDER else 9, s))
    m, large = found.get("M"), found.get("L")
    lines = ["# Benchmark results", "", "Written by `python bench/run.py` (see bench/README.md); do not edit by hand.", ""]
    lines += ["## Machine", ""]
    for size in order:
        mach = found[size]["machine"]
        lines.append(
            f"* {size} (measured {found[size]['measured_at']}, {found[size]['runs']} run(s), median): {mach['cpu']}, "
            f"{mach['nproc']} CPUs ({mach['usable_cpus']} usable), {mach['memory']} RAM, "
            f"{mach['implementation']} {mach['python']}, {mach['platform']}"
        )
        if "load_average" in mach:
            before = ", ".join(f"{x:.1f}" for x in mach["load_average"])
            after = ", ".join(f"{x:.1f}" for x in found[size].get("load_average_at_end", ()))
            lines.append(f"  load average (1, 5, 15 min) at the start: {before}; at the end: {after}")
        src = found[size].get("source")
        if src:
            dirty = f"; uncommitted changes in {', '.join(src['src_uncommitted'])}" if src["src_uncommitted"] else ""
            lines.append(f"  engine at commit {src['commit']}{dirty}")
    lines += ["", "A shared, noisy machine: figures move by ±20% from run to run.", ""]

    # ---- targets
    lines += ["## Targets", "", "| # | target | figure | met? |", "|---|---|---|---|"]
    for size in order:
        ev = found[size].get("evaluation")
        if ev is None:
            continue  # an --e2e-only size
        lines.append(
            f"| 1 | evaluation with trace ≤ 1.5× the plain-Python reference ({size}) | "
            f"{ev['ratio']:.1f}× ({_s(ev['engine_s'])} vs {_s(ev['reference_s'], 3)}) | {_met(ev['ratio'] <= 1.5)} |"
        )
    for kind, limit in (("sqlite", 45), ("postgresql", 60)):
        measured = {key: e for key, e in (m or {}).get("e2e", {}).items() if key.split(",")[0] == kind}
        done = {key: e for key, e in measured.items() if "error" not in e}
        if not measured:
            lines.append(f"| 2 | M: a quarter end to end on {kind} ≤ {limit} s | not measured | — |")
        elif not done:
            problem = next(iter(measured.values()))["error"].split(";")[0]
            lines.append(f"| 2 | M: a quarter end to end on {kind} ≤ {limit} s | {problem} | **no** |")
        else:
            each = "; ".join(f"{_s(e['end_to_end_s'], 1)} with {e.get('workers', 1)} worker(s)" for e in done.values())
            took = min(e["end_to_end_s"] for e in done.values())
            lines.append(f"| 2 | M: a quarter end to end on {kind} ≤ {limit} s | {each} | {_met(took <= limit)} |")
    m_peak = _peak(m)
    l_peak = _peak(large)
    lines.append(
        f"| 3 | peak RSS at M ≤ 2 GB | {f'{m_peak:.0f} MB' if m_peak else 'not measured'} | {_met(m_peak <= 2048 if m_peak else None)} |"
    )
    if l_peak and m_peak:
        lines.append(f"| 3 | peak RSS at L ≤ 1.5× M | {l_peak:.0f} MB ({l_peak / m_peak:.2f}× M) | {_met(l_peak <= 1.5 * m_peak)} |")
    else:
        lines.append("| 3 | peak RSS at L ≤ 1.5× M | not measured (L not run) | — |")
    for size in order:
        if "workers" not in found[size]:
            continue
        w = found[size]["workers"]
        ok = (w["speedup"] >= 1.6 and w["identical"]) if "speedup" in w else None  # the whole, typing included
        lines.append(f"| 4 | {w.get('workers', 2)} worker processes ≥ 1.6× one, identical results ({size}) | {w['note']} | {_met(ok)} |")
    compiled = next((found[s]["compile"] for s in reversed(order) if "big_plan_cold_s" in found[s].get("compile", {})), None)
    if compiled:
        lines.append(
            f"| 5 | a {compiled['big_plan_lines']}-line plan checks and compiles ≤ 1 s | "
            f"{_s(compiled['big_plan_cold_s'], 3)} cold (grammar loading included), {_s(compiled['big_plan_warm_s'], 3)} warm | "
            f"{_met(compiled['big_plan_cold_s'] <= 1)} |"
        )
    else:
        lines.append("| 5 | a 1,000-line plan checks and compiles ≤ 1 s | not measured | — |")
    api_path = results_dir / "api.json"
    api = json.loads(api_path.read_text(encoding="utf-8")).get("databases", {}) if api_path.exists() else {}
    if not api:
        lines.append("| 6 | API p95 | **not measured yet** (`python bench/api_latency.py`) | — |")
    for kind, a in sorted(api.items(), key=lambda item: item[0] != "sqlite"):
        where = f"{a['stored_lines']:,} lines stored, {kind}"
        for key, what, limit in (
            ("statement_finance", "one payee's statement (finance)", a["targets_ms"]["statement_p95"]),
            ("statement_payee", "one payee's statement (the payee)", a["targets_ms"]["statement_p95"]),
            ("explanation_finance", "one line's explanation (finance)", a["targets_ms"]["explanation_p95"]),
        ):
            f = a[key]
            lines.append(
                f"| 6 | API, {kind}: {what} ≤ {limit:.0f} ms p95 | {f['p95_ms']:.1f} ms (p50 {f['p50_ms']:.1f}, "
                f"p99 {f['p99_ms']:.1f}; {where}) | {_met(f['p95_ms'] <= limit)} |"
            )

    # ---- per size
    for size in order:
        lines += _size_section(found[size])
    for _, a in sorted(api.items(), key=lambda item: item[0] != "sqlite"):
        lines += _api_section(a)
    lines += _profile_section(results_dir, order, found)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _api_section(api: Json) -> list[str]:
    """Target 6 in detail: bench/api_latency.py's figures (bench/results/api.json)."""
    load = ", ".join(f"{x:.1f}" for x in api["load_average_at_start"])
    end = ", ".join(f"{x:.1f}" for x in api["load_average_at_end"])
    lines = [
        "",
        f"## API latency, {api['database']} (measured {api['measured_at']}, `python bench/api_latency.py --db {api['database']}`)",
        "",
    ]
    lines.append(
        f"The {api['database']} database holds {api['stored_lines']:,} run lines: {api['data']} "
        f"({api['runs']} runs of {api['lines_per_run']:,} lines; the copies are the same lines under new run ids). "
        f"Server: {api['server']} on the same machine; client: {api['client']}; "
        f"{api['warmup']} warm-up requests, then {api['requests']} measured per row.  "
        f"Load average (1, 5, 15 min) at the start: {load}; at the end: {end}."
    )
    src = api.get("source")
    if src:
        dirty = f"; uncommitted changes in {', '.join(src['src_uncommitted'])}" if src["src_uncommitted"] else ""
        lines.append(f"Engine at commit {src['commit']}{dirty}.")
    lines += ["", "| request | p50 | p95 | p99 | max | requests/s |", "|---|---|---|---|---|---|"]
    for key, what in (
        ("statement_finance", "`GET /runs/{newest}/statements?payee_id=` a random payee, as finance"),
        ("statement_payee", f"the same, as the payee user ({api['payee_user']}) for their own statement"),
        ("explanation_finance", "`GET /runs/{run}/explanations/{line}` a random line of a random run, as finance"),
        ("explanation_heaviest", f"the same for the line with the largest stored trace ({api.get('heaviest_line', '')}), as finance"),
    ):
        f = api.get(key)
        if f is None:
            continue
        lines.append(
            f"| {what} | {f['p50_ms']:.1f} ms | {f['p95_ms']:.1f} ms | {f['p99_ms']:.1f} ms | {f['max_ms']:.1f} ms | "
            f"{f['requests_per_s']:.0f} |"
        )
    lines += [
        "",
        "The last row is not a target: it is the worst case at S (the line whose stored trace is the largest), "
        "a line a random sample rarely hits.",
    ]
    return lines


def _peak(figures: Json | None) -> float | None:
    """Target 3's figure: the peak RSS of the cycle end to end (load, calculate, persist), the
    product's own path, in one process (with workers the memory is spread over processes
    that share pages, which RSS counts in each).  The evaluation measurement's process is not it: it holds the engine's
    and the reference's whole results side by side, to compare them, and reads CSV."""
    if not figures:
        return None
    one = [e for key, e in figures.get("e2e", {}).items() if "," not in key]  # one process: all of the memory is in it
    peaks = [e["peak_rss_mb"] for e in one if "peak_rss_mb" in e]
    return float(max(peaks)) if peaks else None


def _size_section(f: Json) -> list[str]:
    ev, data = f.get("evaluation"), f["data"]
    q = f"2026-Q{f['quarter']}"
    lines = ["", f"## Size {f['size']}: {f['payees']:,} payees, {f['deals']:,} deals ({q}; the quarter evaluates the year to date)", ""]
    lines.append(
        f"Data: payees by plan {', '.join(f'{k} {v:,}' for k, v in data['plans'].items())}; "
        f"{data['split_deals']:,} split deals, {data['cancelled_deals']:,} cancelled, "
        f"{data['eur_deals']:,} in EUR, {data['moves']} moves between teams."
    )
    lines += ["", "| figure | value |", "|---|---|"]
    if ev is None:  # an --e2e-only size
        rows = [("engine and reference agree on every standard-plan line", f"yes, every stored line of {q} (end to end only)")]
    else:
        rows = _evaluation_rows(ev, q)
    _more_rows(f, rows)
    lines += [f"| {a} | {b} |" for a, b in rows]
    return lines + _stages_table(f)


def _evaluation_rows(ev: Json, q: str) -> list[tuple[str, str]]:
    return [
        ("engine and reference agree on every standard-plan line", f"yes, {ev['standard_lines']:,} lines of {q} (and the stored run's)"),
        ("credit lines evaluated (standard plan, year to date)", f"{ev['credit_lines']:,}"),
        (
            "evaluation with trace, engine (standard plan)",
            f"{_s(ev['engine_s'])} = {_s(ev['engine_calc_s'])} calculate + {_s(ev['engine_trace_s'])} traces",
        ),
        ("evaluation, plain-Python reference (standard plan)", _s(ev["reference_s"], 3)),
        ("engine ÷ reference", f"{ev['ratio']:.1f}×"),
        ("throughput with trace, engine", f"{ev['engine_credit_lines_per_s']:,.0f} credit lines/s"),
        ("throughput, reference", f"{ev['reference_credit_lines_per_s']:,.0f} credit lines/s"),
        (
            "evaluation with trace, all three plans",
            f"{_s(ev['engine_all_plans_s'])} ({ev['all_statements']:,} statements, {ev['all_lines']:,} lines)",
        ),
        (
            "of which the cyclic garbage collector",
            f"{_s(ev.get('engine_gc_s'))} of the standard plan's, {_s(ev.get('engine_all_plans_gc_s'))} of all three plans'",
        ),
        ("peak RSS, evaluation process (engine and reference results held side by side)", f"{ev['peak_rss_mb']:.0f} MB"),
    ]


def _more_rows(f: Json, rows: list[tuple[str, str]]) -> None:
    if "compile" in f:
        c = f["compile"]
        if "error" in c:
            rows.append(("compile", c["error"]))
        else:
            rows.append(("compile the three benchmark plans", _s(c["bench_plans_s"], 3)))
            rows.append(
                (
                    f"check + compile a {c['big_plan_lines']}-line plan ({c['big_plan_components']} components)",
                    f"{_s(c['big_plan_cold_s'], 3)} cold, {_s(c['big_plan_warm_s'], 3)} warm",
                )
            )
    if "workers" in f:
        rows.append(("2 worker processes vs 1", f["workers"]["note"]))
    for kind, e2e in f["e2e"].items():
        if "error" in e2e:
            rows.append((f"end to end on {kind}", e2e["error"]))
            continue
        each = ", ".join(f"{x:.1f}" for x in e2e["all_end_to_end_s"])
        rows.append((f"end to end on {kind} (load → statements)", f"{_s(e2e['end_to_end_s'], 1)} (runs: {each})"))
        if e2e.get("workers", 1) > 1:
            rows.append((f"end to end on {kind}: worker processes", str(e2e["workers"])))
        if "calculate_gc_s" in e2e:
            gc_note = f"{_s(e2e['calculate_gc_s'], 1)} ({e2e['calculate_gc_full_collections']} full collections)"
            rows.append((f"cyclic garbage collector during calculate on {kind}", gc_note))
        peak = f"{e2e['peak_rss_mb']:.0f} MB"
        if e2e.get("workers", 1) > 1 and e2e.get("peak_rss_worker_mb"):
            peak += f" in the calculating process, {e2e['peak_rss_worker_mb']:.0f} MB in the largest worker"
        rows.append((f"peak RSS, end to end on {kind}", peak))
        rows.append(
            (
                f"trace stored per line on {kind}",
                f"{e2e['trace_bytes_per_line']:,.0f} bytes compressed (≈ {e2e['trace_json_bytes_per_line_sample']:,.0f} bytes of JSON)",
            )
        )


def _stages_table(f: Json) -> list[str]:
    lines: list[str] = []
    kinds = [k for k, e in f["e2e"].items() if "error" not in e]
    if kinds:
        lines += ["", "End to end, stage by stage (median seconds):", ""]
        lines += ["| stage | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
        for name in f["e2e"][kinds[0]]["stages_s"]:
            lines.append(f"| {name} | " + " | ".join(f"{f['e2e'][k]['stages_s'].get(name, 0):.2f}" for k in kinds) + " |")
            if name == "calculate":
                for part in f["e2e"][kinds[0]]["calculate_parts_s"]:
                    cells = " | ".join(f"{f['e2e'][k]['calculate_parts_s'].get(part, 0):.2f}" for k in kinds)
                    lines.append(f"| &nbsp;&nbsp;↳ {part} | {cells} |")
        lines.append("")
        lines.append("“create database” (migrations) is not counted in the end-to-end figure.")
    return lines


def _profile_section(results_dir: Path, order: list[str], found: dict[str, Json]) -> list[str]:
    lines = ["", "## Profile", ""]
    profiled = [s for s in order if "profile" in found[s] and "by_cumulative" in found[s]["profile"]]
    notes = results_dir / "profile-notes.md"
    written = ["", notes.read_text(encoding="utf-8").strip()] if notes.exists() else []
    if not profiled:
        return [*lines, "Not profiled yet: run with `--profile`.", *written]
    size = profiled[0]
    p = found[size]["profile"]
    lines.append(
        f"cProfile of evaluation with traces, all three plans, size {size}, 2026-Q{found[size]['quarter']} "
        f"({p['wall_s']:.1f} s under the profiler, of which {p.get('gc_s', 0):.1f} s in the cyclic garbage collector, "
        f"{p.get('gc_full_collections', 0)} full collections; {p.get('wall_gc_off_s', 0):.1f} s with the collector off); "
        "cumulative % of the profiled time (a manager's statement includes their reports' statements, evaluated on demand, "
        "so the chain calculate → statement → _evaluate → _component → ... → lines_below nests).  "
        f"The raw profiles are written to bench/results/profile-{size}*.pstats (not committed; `python -m pstats` reads them)."
    )
    lines += ["", "| # | function | where | cumulative % | own % | calls | what it does |", "|---|---|---|---|---|---|---|"]
    for i, r in enumerate(p["by_cumulative"], start=1):
        cells = f"{r['cumulative_pct']:.1f} | {r['own_pct']:.1f} | {r['calls']:,} | {r['what']}"
        lines.append(f"| {i} | `{r['function']}` | {r['where']} | {cells} |")
    for key, title in (
        ("by_own", "Most time spent in the function itself (own %, any module; collector pauses included):"),
        ("by_own_gc_off", "The same with the garbage collector off (the interpreter's own work):"),
    ):
        if key not in p:
            continue
        lines += ["", title, "", "| # | function | where | own % | calls |", "|---|---|---|---|---|"]
        for i, r in enumerate(p[key][:15], start=1):
            lines.append(f"| {i} | `{r['function']}` | {r['where']} | {r['own_pct']:.1f} | {r['calls']:,} |")
    return lines + written


# ====================================================================== command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="compengine benchmark suite (issue 6)")
    parser.add_argument("--size", choices=list(SIZE_ORDER), default="S")
    parser.add_argument("--payees", type=int, help="a custom size (with --deals) instead of --size")
    parser.add_argument("--deals", type=int)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement; the median is reported")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2, help="worker processes to compare with one (if the engine offers it)")
    parser.add_argument(
        "--e2e-workers",
        type=_counts,
        default=[1],
        help="worker processes of the end-to-end cycle, or several counts to measure each: 1,2 (default 1)",
    )
    parser.add_argument("--quarter", type=int, default=4, choices=(1, 2, 3, 4), help="the quarter of FY2026 to calculate")
    parser.add_argument("--postgres-url", default=os.environ.get("COMPENGINE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a measurement is stopped (and reported so)")
    parser.add_argument("--eval-timeout", type=float, default=3600, help="the same for the evaluation measurement (all its runs)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where generated data folders are kept")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--report", type=Path, default=RESULTS_MD, help="the Markdown report to write")
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument(
        "--e2e-only",
        action="store_true",
        help="only the end-to-end cycle (its stored lines still checked against the reference): for L, where the evaluation "
        "measurement alone takes most of an hour",
    )
    parser.add_argument("--profile", action="store_true", help="also profile evaluation with cProfile")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="only write the report from the results kept")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--child-args", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = CHILDREN[args.child](**json.loads(args.child_args))
        Path(args.child_out).write_text(json.dumps(result), encoding="utf-8")
        return 0
    if args.report_only:
        write_report(args.results_dir, args.report)
        return 0
    if bool(args.payees) != bool(args.deals):
        parser.error("give both --payees and --deals, or neither")
    figures = measure(args)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / f"{figures['size']}.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    write_report(args.results_dir, args.report)
    if not args.quiet:
        print(f"wrote {args.results_dir / (figures['size'] + '.json')} and {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
