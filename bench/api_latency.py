"""Issue 6, target 6: API latency with a million stored lines, over loopback.

    python bench/api_latency.py [--lines 1000000] [--requests 500] [--db sqlite|postgresql]

"With a million stored lines, the API returns one payee's statement in <= 50 ms (p95) and one
line's explanation in <= 100 ms (p95), measured with a load generator over loopback."

1. a fresh database (a SQLite file in a scratch folder, or a fresh PostgreSQL database) holds
   one real run of the generated S company (bench/.cache, bench/generate.py): the three
   bench plans published, the data loaded, 2026-Q4 opened, calculated, approved and closed
   through the service (store.facts.load, store.plans.publish, service.cycles.PayoutCycles);
2. run_lines is brought up to --lines rows by copying that run in SQL: copies of its `runs`
   row (status 'approved', new ids) and INSERT .. SELECT of its lines, doubling each time.
   So the table holds N lines that are one real run of S repeated; the report says so;
3. a finance user and a payee user (a payee of the data) get tokens with the CLI
   (`compengine user add`, `compengine token create`);
4. `compengine serve --port P --db URL` runs as a subprocess (uvicorn on 127.0.0.1);
5. an httpx keep-alive client sends sequential requests after a warm-up: the newest run's
   statement of a random payee (finance), the payee's own statement (payee user), and the
   explanation of a random line of a random run (finance), and (not a target, for the worst
   case) the explanation of the line with the largest stored trace.  Client-side latency of each
   request; p50, p95, p99, max and requests/s; every answer is checked (200, right payee);
6. the figures go to bench/results/api.json (one entry per database, the other kept);
   `python bench/run.py --report-only` renders them as target 6 in bench/RESULTS.md (this
   command does it too).

The server is stopped at the end, also on error; the scratch database is deleted unless
`--keep` (then `--url URL` reuses it and skips building when it already holds the lines).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402  (bench/ is not a package)
import run as bench_run  # noqa: E402

PERIOD = "2026-Q4"
STATEMENT_TARGET_MS = 50.0
EXPLANATION_TARGET_MS = 100.0
Json = dict[str, Any]


def say(*text: object) -> None:
    print(*text, flush=True)


# ====================================================================== the database
def fresh_postgres(base_url: str) -> tuple[str, Callable[[], None]]:
    """A new, empty PostgreSQL database next to `base_url`'s; (its URL, how to drop it)."""
    from sqlalchemy import create_engine, text

    name = f"compengine_api_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base_url.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return url, drop


def stored_lines_count(url: str) -> int:
    from sqlalchemy import func, select

    from compengine.store.database import Database
    from compengine.store.schema import run_lines

    db = Database(url)
    try:
        with db.reading() as connection:
            return int(connection.execute(select(func.count()).select_from(run_lines)).scalar_one())
    finally:
        db.dispose()


def build(url: str, folder: Path, lines_wanted: int) -> Json:
    """One real closed run of the company in `folder`, then copies of it up to `lines_wanted`."""
    from sqlalchemy import func, select, text

    from compengine.service.cycles import PayoutCycles
    from compengine.store import facts, plans
    from compengine.store.database import Database
    from compengine.store.schema import run_lines, runs

    timings: Json = {}
    db = Database(url)
    try:
        began = time.perf_counter()
        facts.load(db, folder)
        for path in bench_run.PLAN_FILES:
            plans.publish(db, str(path), by="bench")
        cycles = PayoutCycles(db)
        cycles.open(PERIOD)
        summary = cycles.calculate(PERIOD)
        cycles.approve(PERIOD, summary.run_id)
        cycles.close(PERIOD)
        timings["real_run_s"] = time.perf_counter() - began
        original = summary.run_id
        say(f"  real run {original}: {summary.statements:,} statements, {summary.lines:,} lines ({timings['real_run_s']:.1f} s)")

        began = time.perf_counter()
        copies = max(0, math.ceil(lines_wanted / summary.lines) - 1)
        columns = [c.name for c in runs.columns if c.name not in ("id", "status")]
        line_columns = [c.name for c in run_lines.columns if c.name != "run_id"]
        with db.transaction() as connection:
            base = int(connection.execute(select(func.max(runs.c.id))).scalar_one())
            for number in range(1, copies + 1):  # run ids base+1 .. base+copies, contiguous
                connection.execute(
                    text(
                        f"INSERT INTO runs (id, status, {', '.join(columns)}) "
                        f"SELECT :id, 'approved', {', '.join(columns)} FROM runs WHERE id = :original"
                    ),
                    {"id": base + number, "original": original},
                )
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT setval(pg_get_serial_sequence('runs', 'id'), (SELECT max(id) FROM runs))"))
        # the copies' lines: the original's into base+1, then doubling: the f copies filled
        # (base+1 .. base+f) into the next f ids (run_id + f), one INSERT .. SELECT a round
        select_columns = ", ".join(line_columns)
        filled = 0
        while filled < copies:
            with db.transaction() as connection:
                if filled == 0:
                    source, take = f"SELECT {base + 1}, {select_columns} FROM run_lines WHERE run_id = {original}", 1
                else:
                    take = min(filled, copies - filled)
                    source = f"SELECT run_id + {filled}, {select_columns} FROM run_lines WHERE run_id BETWEEN {base + 1} AND {base + take}"
                connection.execute(text(f"INSERT INTO run_lines (run_id, {select_columns}) {source}"))
            filled += take
            say(f"  {filled + 1} runs' lines stored ({time.perf_counter() - began:.0f} s)")
        if db.dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE run_lines"))
                connection.execute(text("VACUUM ANALYZE runs"))
        else:
            with db.transaction() as connection:
                connection.execute(text("ANALYZE"))
        timings["copies_s"] = time.perf_counter() - began
        with db.reading() as connection:
            total = int(connection.execute(select(func.count()).select_from(run_lines)).scalar_one())
            per_run = connection.execute(
                select(run_lines.c.run_id, func.count()).group_by(run_lines.c.run_id).having(func.count() != summary.lines)
            ).all()
        if per_run:
            raise SystemExit(f"copying went wrong: runs with another number of lines than {summary.lines}: {per_run[:5]}")
        say(f"  {total:,} lines stored in {copies + 1} runs ({timings['copies_s']:.1f} s copying)")
        return {"real_run_id": original, "lines_per_run": summary.lines, "statements_per_run": summary.statements, **timings}
    finally:
        db.dispose()


def describe(url: str) -> Json:
    """What the database holds: lines, runs, the newest run, the payees and line ids of a run."""
    from sqlalchemy import distinct, func, select

    from compengine.store.database import Database
    from compengine.store.schema import run_lines, runs

    db = Database(url)
    try:
        with db.reading() as connection:
            total = int(connection.execute(select(func.count()).select_from(run_lines)).scalar_one())
            run_ids = [
                r for (r,) in connection.execute(select(runs.c.id).where(runs.c.status.in_(("approved", "closed"))).order_by(runs.c.id))
            ]
            newest = run_ids[-1]
            payees = sorted(p for (p,) in connection.execute(select(distinct(run_lines.c.payee_id)).where(run_lines.c.run_id == newest)))
            line_ids = [
                i for (i,) in connection.execute(select(run_lines.c.line_id).where(run_lines.c.run_id == newest).order_by(run_lines.c.seq))
            ]
            heaviest = connection.execute(
                select(run_lines.c.line_id).where(run_lines.c.run_id == newest).order_by(func.length(run_lines.c.trace).desc()).limit(1)
            ).scalar_one()
    finally:
        db.dispose()
    return {
        "heaviest_line": heaviest,
        "stored_lines": total,
        "run_ids": run_ids,
        "newest_run": newest,
        "payees": payees,
        "line_ids": line_ids,
    }


def cli(*arguments: str) -> str:
    command = shutil.which("compengine")
    prefix = [command] if command else [sys.executable, "-c", "from compengine.cli import app; app()"]
    done = subprocess.run([*prefix, *arguments], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"compengine {' '.join(arguments)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


# ====================================================================== the server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = shutil.which("compengine")
    prefix = [command] if command else [sys.executable, "-c", "from compengine.cli import app; app()"]
    handle = log.open("wb")
    server = subprocess.Popen(
        [*prefix, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", url],
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped whole at the end
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit("the server did not answer within 120 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# ====================================================================== the load generator
def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


def summarise(latencies_s: list[float], wall_s: float) -> Json:
    ms = sorted(x * 1000 for x in latencies_s)
    return {
        "requests": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": ms[-1],
        "mean_ms": sum(ms) / len(ms),
        "requests_per_s": len(ms) / wall_s,
    }


def hammer(client: httpx.Client, token: str, paths: list[str], check: Callable[[str, Json], None], warmup: int) -> Json:
    """Sequential GETs of `paths` (the first `warmup` not counted); latency of each."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    began = 0.0
    for index, path in enumerate(paths):
        if index == warmup:
            began = time.perf_counter()
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.text[:500]}")
        check(path, response.json())
        if index >= warmup:
            latencies.append(took)
    return summarise(latencies, time.perf_counter() - began)


def measure(port: int, tokens: dict[str, str], payee_id: str, facts: Json, requests: int, warmup: int, seed: int) -> Json:
    chooser = random.Random(seed)
    newest = facts["newest_run"]

    def statement_of(expected: str | None) -> Callable[[str, Json], None]:
        def check(path: str, body: Json) -> None:
            payees = {s["payee_id"] for s in body["statements"]}
            wanted = expected or path.rsplit("=", 1)[1]
            if payees != {wanted} or not body["statements"][0]["lines"]:
                raise SystemExit(f"GET {path}: statements of {sorted(payees)}, expected {wanted}'s")

        return check

    def explained(path: str, body: Json) -> None:
        if not body.get("explanation"):
            raise SystemExit(f"GET {path}: no explanation")

    total = requests + warmup
    by_finance = [f"/runs/{newest}/statements?payee_id={chooser.choice(facts['payees'])}" for _ in range(total)]
    by_payee = [f"/runs/{newest}/statements?payee_id={payee_id}"] * total
    explanations = [f"/runs/{chooser.choice(facts['run_ids'])}/explanations/{chooser.choice(facts['line_ids'])}" for _ in range(total)]
    out: Json = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        say(f"  statements as finance ({requests} requests, random payees, run {newest})...")
        out["statement_finance"] = hammer(client, tokens["finance"], by_finance, statement_of(None), warmup)
        say(f"  statements as the payee {payee_id} (their own)...")
        out["statement_payee"] = hammer(client, tokens["payee"], by_payee, statement_of(payee_id), warmup)
        say("  explanations as finance (random line of a random run)...")
        out["explanation_finance"] = hammer(client, tokens["finance"], explanations, explained, warmup)
        heaviest = [f"/runs/{newest}/explanations/{facts['heaviest_line']}"] * (max(requests // 5, 1) + warmup)
        say(f"  the explanation of the line with the largest trace ({facts['heaviest_line']}), {len(heaviest) - warmup} requests...")
        out["explanation_heaviest"] = hammer(client, tokens["finance"], heaviest, explained, warmup)
    return out


# ====================================================================== command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="compengine API latency with a million stored lines (issue 6, target 6)")
    parser.add_argument("--lines", type=int, default=1_000_000, help="run_lines rows to store (copies of one real run)")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per endpoint and role")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("COMPENGINE_BENCH_POSTGRES_URL", bench_run.DEFAULT_POSTGRES_URL))
    parser.add_argument("--url", help="a database built before by this command (with --keep): reused")
    parser.add_argument("--keep", action="store_true", help="keep the database made (its URL is printed)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--results", type=Path, default=bench_run.RESULTS_DIR / "api.json")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite bench/RESULTS.md")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    began = time.perf_counter()
    payees, deals = generate.SIZES["S"]
    folder, _ = bench_run.data_folder("S", payees, deals, args.seed, bench_run.CACHE)
    scratch = Path(tempfile.mkdtemp(prefix="compengine-api-bench-"))
    cleanups: list[Callable[[], None]] = []
    server: subprocess.Popen[bytes] | None = None
    try:
        built: Json = {}
        if args.url:
            url = args.url
        elif args.db == "sqlite":
            url = f"sqlite:///{scratch}/api.db"
        else:
            url, drop = fresh_postgres(args.postgres_url)
            if not args.keep:
                cleanups.append(drop)
        say(f"database: {url}")
        if not args.url or stored_lines_count(url) < args.lines:
            say(f"building: S company, {PERIOD} calculated and closed, then copies up to {args.lines:,} lines...")
            built = build(url, folder, args.lines)
        found = describe(url)
        say(f"  {found['stored_lines']:,} lines in {len(found['run_ids'])} runs; newest run {found['newest_run']}")

        payee_id = random.Random(args.seed).choice(found["payees"])
        suffix = uuid.uuid4().hex[:6]
        finance_name, payee_name = f"bench-finance-{suffix}", f"bench-payee-{suffix}"
        cli("user", "add", finance_name, "--role", "finance", "--db", url)
        cli("user", "add", payee_name, "--role", "payee", "--payee", payee_id, "--db", url)
        tokens = {"finance": cli("token", "create", finance_name, "--db", url), "payee": cli("token", "create", payee_name, "--db", url)}

        port = free_port()
        say(f"serving on 127.0.0.1:{port}...")
        server = start_server(url, port, scratch / "server.log")
        load_at_start = os.getloadavg()
        figures = measure(port, tokens, payee_id, found, args.requests, args.warmup, args.seed)
        stop_server(server)
        server = None
    finally:
        if server is not None:
            stop_server(server)
        for cleanup in cleanups:
            cleanup()
        if args.keep or args.url:
            say(f"kept: {url}")
        if not (args.keep and not args.url and args.db == "sqlite"):  # (else the database is in it)
            shutil.rmtree(scratch, ignore_errors=True)

    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    result: Json = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": kind,
        "stored_lines": found["stored_lines"],
        "runs": len(found["run_ids"]),
        "lines_per_run": found["stored_lines"] // len(found["run_ids"]),
        "data": f"one real closed run of S ({payees:,} payees, {deals:,} deals, {PERIOD}) repeated in SQL",
        "payees_in_run": len(found["payees"]),
        "payee_user": payee_id,
        "heaviest_line": found["heaviest_line"],
        "requests": args.requests,
        "warmup": args.warmup,
        "client": f"httpx {httpx.__version__}, one keep-alive connection, sequential requests over 127.0.0.1",
        "server": "compengine serve (uvicorn, one process)",
        "targets_ms": {"statement_p95": STATEMENT_TARGET_MS, "explanation_p95": EXPLANATION_TARGET_MS},
        **figures,
        "build": built,
        "machine": bench_run.machine(),
        "load_average_before": load_before,
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
        "source": bench_run.source_state(),
        "wall_s": time.perf_counter() - began,
    }
    # one entry per database: measuring SQLite and then PostgreSQL keeps both
    kept: Json = json.loads(args.results.read_text(encoding="utf-8")) if args.results.exists() else {}
    kept.setdefault("databases", {})[kind] = result
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")
    for name in ("statement_finance", "statement_payee", "explanation_finance", "explanation_heaviest"):
        f = result[name]
        say(
            f"{name:20} p50 {f['p50_ms']:6.1f} ms  p95 {f['p95_ms']:6.1f} ms  p99 {f['p99_ms']:6.1f} ms  "
            f"max {f['max_ms']:6.1f} ms  {f['requests_per_s']:.0f} req/s"
        )
    say(f"load average at the end: {', '.join(f'{x:.2f}' for x in result['load_average_at_end'])}; wrote {args.results}")
    if not args.no_report:
        bench_run.write_report(bench_run.RESULTS_DIR, bench_run.RESULTS_MD)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
