"""The engine's output, fingerprinted: what an optimisation must leave exactly as it was.

    python bench/fingerprint.py > before.txt   # ... optimise ...
    python bench/fingerprint.py | diff before.txt -

For the example company (every quarter of FY2026) and a generated benchmark company (size S
by default, the year-end quarter), prints the result hash of `calculate()` and the hash of
every line's trace JSON.  Equal fingerprints mean equal statements, amounts, attributions
and traces, byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from compengine.core.calculation import calculate, hash_json  # noqa: E402
from compengine.core.trace import build_line_trace, trace_json  # noqa: E402
from compengine.io.csv_data import load_dataset  # noqa: E402
from compengine.lang.loader import load_plans  # noqa: E402


def fingerprint(plan_files: list[Path], data: Path, period: str) -> str:
    plans = load_plans([str(p) for p in plan_files]).plans
    result = calculate(plans, load_dataset(data), period)
    traces = hashlib.sha256()
    for statement in result.statements:
        for line in statement.lines:
            traces.update(hash_json(trace_json(build_line_trace(statement, line))).encode())
    return f"{period} result {result.result_sha256} traces {traces.hexdigest()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-data", type=Path, default=ROOT / "bench/.cache/1000x50000-seed2026", help="a generated company")
    parser.add_argument("--bench-period", default="2026-Q4")
    args = parser.parse_args()
    company = sorted((ROOT / "plans").glob("*.comp"))
    for quarter in ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"):
        started = time.perf_counter()
        print("company", fingerprint(company, ROOT / "fixtures/company", quarter), file=sys.stdout)
        print(f"  ({time.perf_counter() - started:.2f} s)", file=sys.stderr)
    if args.bench_data.is_dir():
        started = time.perf_counter()
        bench_plans = sorted((ROOT / "bench/plans").glob("*.comp"))
        print("bench", args.bench_data.name, fingerprint(bench_plans, args.bench_data, args.bench_period))
        print(f"  ({time.perf_counter() - started:.2f} s)", file=sys.stderr)
    else:
        print(f"(no benchmark data at {args.bench_data}: generate it with python bench/generate.py --size S)", file=sys.stderr)


if __name__ == "__main__":
    main()
