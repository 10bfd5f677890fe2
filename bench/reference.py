"""The standard benchmark plan (bench/plans/standard.comp) written out by hand in plain Python.

No language, no engine: this module imports nothing from compengine.  It reads the CSV data
folder itself and computes, with `Decimal`, every line (payee and component) of the plan for
the quarters of fiscal year 2026 up to the one asked for.  The benchmark asserts that the
engine and this reference agree to the cent on every line before it reports any time, and
times the two on the same data in the same run.

What the plan says, and so what this module does (docs/language.md has the exact rules):

* bookings: every USD deal of type new or expansion credits its split partners (or its owner,
  100%) with the deal's `acv` × their share, on its close date;
* team bookings: the same credits, plus one for the manager of each partner on the close date
  (rolled up 1 level); a manager reached through several partners is credited once, with the
  shares added up (at most 100%);
* new_business, per credit of bookings in (close date, deal id) order: the running total for
  the year to date moves across marginal tiers at 50% and 100% of the full-year bookings
  quota (4%, 8%, 12%), × 1.2 for terms of 36 months or more; the line is capped so that the
  year's lines stay within 3 × the annual target incentive;
* new_logo_spiff: per credit of a new-logo deal with an acv of 50,000 or more,
  1,000 USD (1,500 from 1 July) × the credit's share;
* team_commission: marginal tiers on the period's team bookings at 75% and 100% of the
  period's team quota (0.5%, 1%, 1.5%); nothing for sellers (`role` rep);
* override: a rate by role (manager 5%, director 2%, VP 1%) × what the direct reports (on the
  period's last day) earned on this plan in the period;
* every line rounded half up to cents.

The data must fit what the plan can calculate without proration: every payee on the plan is
on it for the whole year and quotas change only on quarter boundaries.  Anything else raises
`Unsupported` rather than give a different answer quietly.
"""

from __future__ import annotations

import csv
import decimal
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

PLAN = "standard"
YEAR_START, YEAR_END = date(2026, 1, 1), date(2027, 1, 1)
QUARTERS = [(date(2026, 1, 1), date(2026, 4, 1)), (date(2026, 4, 1), date(2026, 7, 1)),
            (date(2026, 7, 1), date(2026, 10, 1)), (date(2026, 10, 1), date(2027, 1, 1))]  # fmt: skip
COMPONENTS = ("new_business", "new_logo_spiff", "team_commission", "override")

ZERO, ONE, CENT = Decimal(0), Decimal(1), Decimal("0.01")
NB_BANDS = ((ZERO, Decimal("0.5"), Decimal("0.04")), (Decimal("0.5"), ONE, Decimal("0.08")), (ONE, None, Decimal("0.12")))
TEAM_BANDS = ((ZERO, Decimal("0.75"), Decimal("0.005")), (Decimal("0.75"), ONE, Decimal("0.01")), (ONE, None, Decimal("0.015")))
MULTI_YEAR = Decimal("1.2")
CAP_TIMES = Decimal(3)
SPIFF_FLOOR = Decimal(50000)
SPIFF_H1, SPIFF_H2, SPIFF_CHANGE = Decimal(1000), Decimal(1500), date(2026, 7, 1)
OVERRIDE_RATE = {"manager": Decimal("0.05"), "director": Decimal("0.02"), "vp": Decimal("0.01")}
CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)


class Unsupported(Exception):
    """The data needs something this hand-written plan does not do (proration, say)."""


@dataclass
class Payee:
    id: str
    role: str
    target: Decimal  # annual target incentive
    bookings_quota: list[tuple[date | None, Decimal]] = field(default_factory=list)  # (effective_from, amount)
    team_quota: list[tuple[date | None, Decimal]] = field(default_factory=list)
    # (close date, deal id, credited amount, share, multi-year, new logo of 50,000 or more)
    bookings: list[tuple[date, str, Decimal, Decimal, bool, bool]] = field(default_factory=list)
    team: list[tuple[date, Decimal]] = field(default_factory=list)  # (close date, credited amount)


@dataclass
class Data:
    payees: dict[str, Payee]  # those on the standard plan
    managers: dict[str, list[tuple[date, date, str]]]  # payee -> [(from, until, manager)]
    deal_rows: list[tuple[str, list[tuple[str, Decimal]], Decimal, date, bool, bool]]  # credited deals


def _dec(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def _day(text: str) -> date:
    return date.fromisoformat(text.strip())


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    path = folder / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as file:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(file)]


def load(folder: str | Path) -> Data:
    """Read the data folder (the part of it the standard plan reads)."""
    folder = Path(folder)
    roles = {row["payee_id"]: (row.get("role") or "rep", row) for row in _rows(folder, "payees.csv")}
    payees: dict[str, Payee] = {}
    for row in _rows(folder, "assignments.csv"):
        if row["plan"] != PLAN:
            continue
        payee_id = row["payee_id"]
        role, person = roles[payee_id]
        start, until = _day(row["effective_from"]), row.get("effective_until", "")
        hired, left = person.get("hire_date", ""), person.get("termination_date", "")
        if (
            payee_id in payees
            or start > YEAR_START
            or (until and _day(until) < YEAR_END)
            or (hired and _day(hired) > YEAR_START)
            or (left and _day(left) < date(2026, 12, 31))
            or row["currency"] != "USD"
        ):
            raise Unsupported(f"payee {payee_id} is not on the plan for the whole year in dollars (proration is not written out here)")
        payees[payee_id] = Payee(payee_id, role, _dec(row["target_incentive"]))
    for row in _rows(folder, "quotas.csv"):
        payee = payees.get(row["payee_id"])
        if payee is None or row["period"] != "FY2026":
            continue
        since = _day(row["effective_from"]) if row.get("effective_from") else None
        if since is not None and since not in {start for start, _ in QUARTERS}:
            raise Unsupported(f"payee {payee.id}'s quota changes inside a quarter")
        figures = {"bookings": payee.bookings_quota, "team_bookings": payee.team_quota}.get(row["quota"])
        if figures is not None:
            figures.append((since, _dec(row["amount"])))
    managers: dict[str, list[tuple[date, date, str]]] = defaultdict(list)
    for row in _rows(folder, "reporting_lines.csv"):
        ends = _day(row["effective_until"]) if row.get("effective_until") else date.max
        managers[row["payee_id"]].append((_day(row["effective_from"]), ends, row["manager_id"]))
    deal_rows = []
    with (folder / "deals.csv").open(encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file):
            if row["type"] not in ("new", "expansion") or row["currency"] != "USD":
                continue
            closed = _day(row["close_date"])
            if not (YEAR_START <= closed < YEAR_END):
                continue
            if row["splits"]:
                partners = []
                for part in row["splits"].split(";"):
                    who, share = part.split(":")
                    partners.append((who.strip(), _dec(share.strip().rstrip("%")) / 100))
            else:
                partners = [(row["owner"], ONE)]
            term = row.get("term_months") or "12"
            multi_year = _dec(term) >= 36
            acv = _dec(row["acv"])
            spiff = row.get("new_logo", "").lower() in ("true", "yes", "1") and acv >= SPIFF_FLOOR
            deal_rows.append((row["deal_id"], partners, acv, closed, multi_year, spiff))
    return Data(payees, dict(managers), deal_rows)


def manager_of(data: Data, payee_id: str, day: date) -> str | None:
    for start, until, manager in data.managers.get(payee_id, ()):
        if start <= day < until:
            return manager
    return None


def credit(data: Data) -> None:
    """Give every payee on the plan their bookings and team bookings credits."""
    payees = data.payees
    for payee in payees.values():
        payee.bookings.clear()
        payee.team.clear()
    for deal_id, partners, acv, closed, multi_year, spiff in data.deal_rows:
        team: dict[str, Decimal] = {}
        for who, share in partners:
            partner = payees.get(who)
            if partner is not None:
                partner.bookings.append((closed, deal_id, acv * share, share, multi_year, spiff))
            team[who] = team.get(who, ZERO) + share
            manager = manager_of(data, who, closed)
            if manager is not None:
                team[manager] = team.get(manager, ZERO) + share
        for who, share in team.items():
            member = payees.get(who)
            if member is not None:
                member.team.append((closed, acv * min(share, ONE)))
    for payee in payees.values():
        payee.bookings.sort(key=lambda c: (c[0], c[1]))


def _in_effect(figures: list[tuple[date | None, Decimal]], day: date, what: str) -> Decimal:
    found = None
    for since, amount in sorted(figures, key=lambda f: f[0] or date.min):
        if since is None or since <= day:
            found = amount
    if found is None:
        raise Unsupported(f"no {what} quota in effect on {day}")
    return found


def _marginal(bands: tuple[tuple[Decimal, Decimal | None, Decimal], ...], scale: Decimal, start: Decimal, end: Decimal) -> Decimal:
    """What moving a total from `start` up to `end` earns across the bands (bounds × scale)."""
    earned = ZERO
    last = len(bands) - 1
    for i, (lower, upper, rate) in enumerate(bands):
        lo = start if i == 0 else max(start, lower * scale)
        hi = end if i == last or upper is None else min(end, upper * scale)
        if hi > lo:
            earned += (hi - lo) * rate
    return earned


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Result:
    lines: dict[str, dict[tuple[str, str], Decimal]]  # period label -> (payee, component) -> amount
    credit_lines: int  # credits evaluated, every quarter up to the one asked for


def calculate(data: Data, quarter: int) -> Result:
    """Every line of quarters 1..`quarter` of FY2026 (a quarter needs the earlier ones: the
    running total and the yearly cap carry over)."""
    with decimal.localcontext(CONTEXT):
        credit(data)
        payees = data.payees
        lines: dict[str, dict[tuple[str, str], Decimal]] = {}
        paid_new_business: dict[str, Decimal] = defaultdict(lambda: ZERO)
        position: dict[str, Decimal] = defaultdict(lambda: ZERO)
        cursor: dict[str, int] = defaultdict(int)
        full_year_quota: dict[str, Decimal] = {}
        for payee in payees.values():
            if payee.bookings:  # the same for every quarter: each quarter's figure, a quarter of the year each
                figures = [_in_effect(payee.bookings_quota, date.fromordinal(end.toordinal() - 1), "bookings") for _, end in QUARTERS]
                full_year_quota[payee.id] = sum((f / 4 for f in figures), ZERO)
        credit_lines = 0
        for index in range(quarter):
            start, end = QUARTERS[index]
            last_day = date.fromordinal(end.toordinal() - 1)
            label = f"2026-Q{index + 1}"
            found: dict[tuple[str, str], Decimal] = {}
            for payee in payees.values():
                pid = payee.id
                # new_business and new_logo_spiff, credit by credit
                earned = spiff_total = ZERO
                credits = payee.bookings
                i, pos = cursor[pid], position[pid]
                if i < len(credits) and credits[i][0] < end:
                    quota = full_year_quota[pid]
                    if quota <= 0:
                        raise Unsupported(f"payee {pid}'s bookings quota is not above 0")
                    while i < len(credits) and credits[i][0] < end:
                        closed, _, amount, share, multi_year, new_logo = credits[i]
                        payout = _marginal(NB_BANDS, quota, pos, pos + amount)
                        if multi_year:
                            payout = payout * MULTI_YEAR
                        earned += payout
                        pos += amount
                        if new_logo:
                            spiff_total += (SPIFF_H1 if closed < SPIFF_CHANGE else SPIFF_H2) * share
                        i += 1
                    credit_lines += i - cursor[pid]
                    cursor[pid], position[pid] = i, pos
                room = max(CAP_TIMES * payee.target - paid_new_business[pid], ZERO)
                if earned > room:
                    earned = room
                new_business = _round(earned)
                paid_new_business[pid] += new_business
                found[(pid, "new_business")] = new_business
                found[(pid, "new_logo_spiff")] = _round(spiff_total)
                # team_commission on the period's team bookings
                team_total = ZERO
                for closed, amount in payee.team:
                    if start <= closed < end:
                        team_total += amount
                        credit_lines += 1
                team_quota = _in_effect(payee.team_quota, last_day, "team_bookings") / 4
                if team_quota <= 0:
                    raise Unsupported(f"payee {pid}'s team quota is not above 0")
                team = _marginal(TEAM_BANDS, team_quota, ZERO, team_total)
                found[(pid, "team_commission")] = ZERO if payee.role == "rep" else _round(team)
            # overrides, reports first: each reads the direct reports' lines of the period
            reports: dict[str, list[str]] = defaultdict(list)
            for pid in payees:
                manager = manager_of(data, pid, last_day)
                if manager is not None and manager in payees:
                    reports[manager].append(pid)
            done: dict[str, Decimal] = {}

            def override(
                pid: str,
                seen: tuple[str, ...],
                found: dict[tuple[str, str], Decimal] = found,
                done: dict[str, Decimal] = done,
                reports: dict[str, list[str]] = reports,
            ) -> Decimal:
                if pid in done:
                    return done[pid]
                if pid in seen:
                    raise Unsupported(f"payee {pid} is their own report")
                earnings = ZERO
                for report in reports.get(pid, ()):
                    earnings += found[(report, "new_business")] + found[(report, "new_logo_spiff")]
                    earnings += found[(report, "team_commission")] + override(report, (*seen, pid))
                done[pid] = _round(OVERRIDE_RATE.get(payees[pid].role, ZERO) * earnings)
                return done[pid]

            for pid in payees:
                found[(pid, "override")] = override(pid, ())
            lines[label] = found
        return Result(lines, credit_lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import time

    parser = argparse.ArgumentParser(description="the standard plan, by hand")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--quarter", type=int, default=4)
    args = parser.parse_args(argv)
    data = load(args.folder)
    started = time.perf_counter()
    result = calculate(data, args.quarter)
    took = time.perf_counter() - started
    lines = result.lines[f"2026-Q{args.quarter}"]
    total = sum(lines.values(), ZERO)
    print(f"{len(lines)} lines, total {total}, {result.credit_lines} credit lines in {took:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
