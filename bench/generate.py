"""A synthetic company for the benchmark: seeded, deterministic, streamed to CSV.

    python bench/generate.py --size M --out /tmp/bench-M          # 10k payees, 500k deals
    python bench/generate.py --payees 50 --deals 1000 --out DIR    # any size

The data folder uses the formats of docs/data.md (payees, assignments, quotas, deals,
reporting lines, exchange rates) and is made for the three plans in bench/plans/:

* a 4-level hierarchy: sellers -> managers -> directors -> VPs (each director's organisation
  is one region, with one or two overlay specialists who report to the director);
* each manager's team of sellers is on one seller plan: ~70% of teams on `standard`, ~20% on
  `simple` and ~10% on `complex`; managers, directors and VPs are on `standard`, the
  specialists on `simple`;
* deals over fiscal year 2026, owned by sellers: ~10% split between two or three sellers of
  one team, multi-year terms, new logos, ~2% cancelled (`cancelled_on`), and about half of the
  `complex` sellers' deals in EUR (with monthly EUR->USD corporate rates);
* mid-year changes: sellers moving to another manager during the year, quota changes on
  1 July (`standard`) and inside a quarter (`complex`), `complex` sellers hired or leaving
  during the year and targets changed mid-quarter (prorated by that plan).

The same size and seed always give the same bytes.  Rows are written as they are made, so a
size M folder takes a few seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

#: (payees, deals) of each named size
SIZES: dict[str, tuple[int, int]] = {"S": (1_000, 50_000), "M": (10_000, 500_000), "L": (50_000, 5_000_000)}

#: Change this when the generated data changes, so cached folders are made again.
GENERATOR_VERSION = 1

YEAR_START = date(2026, 1, 1)
YEAR_END = date(2027, 1, 1)  # exclusive
BEFORE = "2025-01-01"  # reporting lines and assignments start before the year

PRODUCTS = (("platform", 40), ("integrations", 25), ("analytics", 20), ("security", 15))
TYPES = (("new", 50), ("expansion", 30), ("renewal", 20))
TERMS = ((12, 60), (24, 15), (36, 20), (48, 5))
SPLITS = (((50, 50), 40), ((60, 40), 30), ((70, 30), 20), ((40, 30, 30), 10))


@dataclass
class Person:
    id: str
    role: str  # rep, manager, director, vp, specialist
    region: str
    plan: str
    manager: str | None = None
    hire: date | None = None
    termination: date | None = None
    target: int = 0  # annual target incentive, whole dollars
    quota: int = 0  # annual bookings quota, whole dollars
    team: list[str] = field(default_factory=list)  # a manager's sellers


def _weighted(rng: random.Random, choices: tuple[tuple[object, int], ...]) -> object:
    pick = rng.randrange(sum(w for _, w in choices))
    for value, weight in choices:
        if pick < weight:
            return value
        pick -= weight
    raise AssertionError("unreachable")


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _day(rng: random.Random, start: date, end: date) -> date:
    """A day in [start, end)."""
    return start + timedelta(days=rng.randrange((end - start).days))


def organisation(rng: random.Random, payees: int) -> list[Person]:
    """Everyone, top down, with managers, regions, plans, hire and termination dates."""
    n_vp = max(1, round(payees / 2500))
    n_dir = max(2 * n_vp, round(payees / 250))
    n_mgr = max(2 * n_dir, round(payees / 10))
    people: list[Person] = []
    counter = 0

    def new(role: str, region: str, plan: str, manager: str | None) -> Person:
        nonlocal counter
        counter += 1
        person = Person(f"P{counter:06d}", role, region, plan, manager)
        person.hire = _day(rng, date(2015, 1, 1), date(2025, 12, 1))
        people.append(person)
        return person

    vps = [new("vp", "", "standard", None) for _ in range(n_vp)]
    directors = [new("director", f"R{i + 1:03d}", "standard", vps[i % n_vp].id) for i in range(n_dir)]
    managers = [new("manager", directors[i % n_dir].region, "standard", directors[i % n_dir].id) for i in range(n_mgr)]
    for director in directors:  # one or two overlay specialists per region
        for _ in range(1 + rng.randrange(2)):
            new("specialist", director.region, "simple", director.id)
    n_reps = payees - len(people)
    if n_reps < n_mgr:
        raise SystemExit(f"{payees} payees are too few for {n_mgr} teams")
    # each team is on one seller plan; at least one team of each
    n_complex, n_simple = max(1, round(n_mgr * 0.1)), max(1, round(n_mgr * 0.2))
    team_plans = ["complex"] * n_complex + ["simple"] * n_simple + ["standard"] * (n_mgr - n_complex - n_simple)
    rng.shuffle(team_plans)
    by_id = {p.id: p for p in people}
    for i in range(n_reps):
        manager = managers[i % n_mgr]
        rep = new("rep", manager.region, team_plans[i % n_mgr], manager.id)
        manager.team.append(rep.id)
        by_id[rep.id] = rep
    for person in people:
        person.target = {"vp": 150_000, "director": 100_000, "manager": 70_000, "specialist": 30_000}.get(
            person.role, rng.randrange(40, 151) * 1000
        )
        if person.plan == "complex" and person.role == "rep":
            roll = rng.random()
            if roll < 0.15:  # hired during the year: prorated, and drawn against for two quarters
                person.hire = _day(rng, date(2026, 1, 15), date(2026, 11, 1))
            elif roll < 0.20:  # leaves during the year (the last day worked)
                person.termination = _day(rng, date(2026, 3, 1), date(2026, 12, 1))
    return people


def generate(out: Path, payees: int, deals: int, seed: int = 2026) -> dict[str, object]:
    """Write the data folder; returns a summary (also written to `generated.json`)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    people = organisation(rng, payees)
    by_id = {p.id: p for p in people}
    reps = [p for p in people if p.role == "rep"]
    teams: dict[str, list[str]] = {p.id: p.team for p in people if p.role == "manager"}
    managers_by_plan: dict[str, list[str]] = {}
    for manager_id, team in teams.items():
        if team:
            managers_by_plan.setdefault(by_id[team[0]].plan, []).append(manager_id)

    # what a seller books in a year on average (acv of new and expansion business), so that
    # quotas sit where the tiers are crossed
    mean_amount = (200_000 + 15_000_000) / 2 / 100
    mean_acv = mean_amount * sum(w * 12 / t for t, w in TERMS) / sum(w for _, w in TERMS)
    booked = deals / len(reps) * 0.8 * mean_acv

    with open(out / "payees.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["payee_id", "name", "hire_date", "termination_date", "role", "region"])
        for p in people:
            hired = p.hire.isoformat() if p.hire else ""
            left = p.termination.isoformat() if p.termination else ""
            writer.writerow([p.id, f"{p.role.title()} {p.id[1:]}", hired, left, p.role, p.region])

    with open(out / "assignments.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["payee_id", "plan", "effective_from", "effective_until", "target_incentive", "currency"])
        for p in people:
            if p.plan == "complex" and rng.random() < 0.08:  # a new target from a day inside a quarter
                change = _day(rng, date(2026, 2, 1), date(2026, 12, 1))
                writer.writerow([p.id, p.plan, "2026-01-01", change.isoformat(), f"{p.target}.00", "USD"])
                writer.writerow([p.id, p.plan, change.isoformat(), "", f"{p.target + rng.randrange(5, 31) * 1000}.00", "USD"])
            else:
                writer.writerow([p.id, p.plan, BEFORE if p.plan != "complex" else "2026-01-01", "", f"{p.target}.00", "USD"])

    with open(out / "quotas.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["payee_id", "quota", "period", "amount", "currency", "effective_from"])
        for p in people:
            if p.role == "rep":
                p.quota = max(50, round(booked * rng.uniform(0.6, 1.4) / 1000)) * 1000
        for p in people:
            if p.plan == "simple":
                continue  # the simple plan reads no quota
            if p.role == "rep":
                own = p.quota
                team_quota = own
            else:
                team_quota = sum(by_id[r].quota for r in p.team) if p.role == "manager" else 1_000_000
                own, team_quota = max(team_quota, 1_000_000), max(team_quota, 1_000_000)
            writer.writerow([p.id, "bookings", "FY2026", f"{own}.00", "USD", ""])
            writer.writerow([p.id, "team_bookings", "FY2026", f"{team_quota}.00", "USD", ""])
            if p.role == "rep" and rng.random() < 0.05:  # the bookings quota changes from a day in the year
                when = date(2026, 7, 1) if p.plan == "standard" else _day(rng, date(2026, 2, 1), date(2026, 12, 1))
                changed = max(50, round(own * rng.uniform(0.8, 1.25) / 1000)) * 1000
                writer.writerow([p.id, "bookings", "FY2026", f"{changed}.00", "USD", when.isoformat()])

    moves = 0
    with open(out / "reporting_lines.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["payee_id", "manager_id", "effective_from", "effective_until"])
        for p in people:
            if p.manager is None:
                continue
            others = managers_by_plan.get(p.plan, []) if p.role == "rep" else []
            if p.role == "rep" and len(others) > 1 and rng.random() < 0.03:  # moves to another team during the year
                when = _day(rng, date(2026, 2, 1), date(2026, 12, 1))
                new_manager = rng.choice([m for m in others if m != p.manager])
                writer.writerow([p.id, p.manager, BEFORE, when.isoformat()])
                writer.writerow([p.id, new_manager, when.isoformat(), ""])
                moves += 1
            else:
                writer.writerow([p.id, p.manager, BEFORE, ""])

    with open(out / "exchange_rates.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["from_currency", "to_currency", "rate_type", "effective_from", "rate"])
        for month in range(0, 13):
            day = date(2025 + (11 + month) // 12, (11 + month) % 12 + 1, 1)
            writer.writerow(["EUR", "USD", "corporate", day.isoformat(), f"1.{rng.randrange(500, 1300):04d}"])

    counts = {"split": 0, "cancelled": 0, "eur": 0}
    with open(out / "deals.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        columns = ["deal_id", "owner", "type", "product", "amount", "currency", "close_date", "splits", "cancelled_on"]
        writer.writerow([*columns, "acv", "term_months", "new_logo", "region"])  # the file's columns, then the plans' attributes
        randrange, random_ = rng.randrange, rng.random
        n_reps = len(reps)
        year_days = (YEAR_END - YEAR_START).days
        for number in range(1, deals + 1):
            owner = reps[randrange(n_reps)]
            first = max(owner.hire or YEAR_START, YEAR_START)
            last = min(owner.termination + timedelta(days=1) if owner.termination else YEAR_END, YEAR_END)
            if first == YEAR_START and last == YEAR_END:
                closed = YEAR_START + timedelta(days=randrange(year_days))
            else:
                closed = first + timedelta(days=randrange(max(1, (last - first).days)))
            deal_type = _weighted(rng, TYPES)
            term = _weighted(rng, TERMS)
            assert isinstance(term, int)
            amount = randrange(200_000, 15_000_001)
            acv = amount * 12 // term
            splits = ""
            team = teams[owner.manager] if owner.manager else []
            if random_() < 0.10 and len(team) > 1:
                shares = _weighted(rng, SPLITS)
                assert isinstance(shares, tuple)
                partners = [owner.id, *rng.sample([r for r in team if r != owner.id], min(len(shares) - 1, len(team) - 1))]
                if len(partners) == len(shares):
                    splits = ";".join(f"{partner}:{share}%" for partner, share in zip(partners, shares, strict=True))
                    counts["split"] += 1
            cancelled = ""
            if random_() < 0.02:
                cancelled = (closed + timedelta(days=1 + randrange(240))).isoformat()
                counts["cancelled"] += 1
            currency = "USD"
            if owner.plan == "complex" and random_() < 0.5:
                currency = "EUR"
                counts["eur"] += 1
            new_logo = ""
            if deal_type == "new":
                new_logo = "true" if random_() < 0.3 else "false"
            writer.writerow(
                [
                    f"D{number:07d}",
                    owner.id,
                    deal_type,
                    _weighted(rng, PRODUCTS),
                    _cents(amount),
                    currency,
                    closed.isoformat(),
                    splits,
                    cancelled,
                    _cents(acv),
                    "" if term == 12 and random_() < 0.5 else term,  # an empty term is the default, 12
                    new_logo,
                    owner.region,
                ]
            )

    summary: dict[str, object] = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "payees": len(people),
        "deals": deals,
        "roles": {role: sum(1 for p in people if p.role == role) for role in ("vp", "director", "manager", "specialist", "rep")},
        "plans": {plan: sum(1 for p in people if p.plan == plan) for plan in ("standard", "simple", "complex")},
        "split_deals": counts["split"],
        "cancelled_deals": counts["cancelled"],
        "eur_deals": counts["eur"],
        "moves": moves,
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / "generated.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def ensure(out: Path, payees: int, deals: int, seed: int = 2026) -> dict[str, object]:
    """The data folder for these parameters, generated unless it is already there."""
    marker = out / "generated.json"
    if marker.exists():
        found = json.loads(marker.read_text(encoding="utf-8"))
        if (found.get("generator_version"), found.get("seed"), found.get("payees"), found.get("deals")) == (
            GENERATOR_VERSION,
            seed,
            payees,
            deals,
        ):
            return dict(found)
    return generate(out, payees, deals, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), help="a named size (S, M, L)")
    parser.add_argument("--payees", type=int, help="number of payees (instead of --size)")
    parser.add_argument("--deals", type=int, help="number of deals (instead of --size)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, required=True, help="the folder to write")
    args = parser.parse_args(argv)
    if args.size:
        payees, deals = SIZES[args.size]
    elif args.payees and args.deals:
        payees, deals = args.payees, args.deals
    else:
        parser.error("give --size, or --payees and --deals")
    summary = generate(args.out, payees, deals, args.seed)
    json.dump(summary, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
