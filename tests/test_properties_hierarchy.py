"""Properties of hierarchy crediting, overlays, duplicate control and team overrides.

Random small companies: up to four levels of management, some people changing manager on a
random day of the year, deals split between partners, territory overlays.  On any of them:

(a) `to deal splits` without rollup or overlay conserves credit: the partners' credited
    amounts add up exactly to the deal's amount;
(b) every credit follows the paths an independent model of the rules finds: with
    `duplicate credit counts once` a payee's credit for a deal is the deal × min(100%, sum of
    their paths' shares), so never more than the deal; with `counts per path` there is one
    credit per path and the credited total is the sum over the paths;
(c) the order of the data never changes a result (payees, assignments, deals and reporting
    lines shuffled give the same result_sha256), and a payee calculated alone gets the same
    statement as among everyone, managers with `earnings of reports` overrides included;
(d) every line's trace verifies, and lines add up to their statement's total;
(e) crediting only some payees (as a worker does) gives them exactly their credits among
    everyone's.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import find, given, settings
from hypothesis import strategies as st

from compengine.core.calculation import calculate, statement_json, typed_attributes
from compengine.core.crediting import Credit, Crediting
from compengine.core.data import Assignment, Dataset, Deal, ReportingLine
from compengine.core.fx import FxTable
from compengine.core.hierarchy import Hierarchy
from compengine.core.money import ONE, ZERO
from compengine.core.plan import CompiledPlan
from compengine.core.trace import build_line_trace, verify
from tests.support import HEADER, compile_text, d, deal, payee

YEAR_START = date(2026, 1, 1)
QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
TERRITORIES = ("", "EMEA", "AMER")
SPLIT_PATTERNS = (("100",), ("50", "50"), ("60", "40"), ("70", "30"), ("33.33", "33.33", "33.34"))
ROLLUPS: dict[str, int | None] = {"": 0, "rolled up 1 levels": 1, "rolled up 2 levels": 2, "rolled up to the top": None}
OVERLAY = 'payees where payee.territory == deal.territory and payee.territory != ""'


def plan_text(rollup: str, duplicates: str, overlay: bool) -> str:
    recipients = "deal splits" + (f", {OVERLAY}" if overlay else "")
    return (
        HEADER
        + f"""
payee attribute territory: text, default ""
deal attribute territory: text, default ""

credit team from deals
  to {recipients}
  {rollup}
  {duplicates}
  amount deal.amount
  dated deal.close_date

measure below = earnings of direct reports
measure deep_below = earnings of all reports from components commission

component commission "Commission"
  per credit of team
  rate 3%

component accelerator "Accelerator"
  per credit of team
  ordered by deal.close_date, deal.id
  marginal tiers on amount
    below 20,000 USD: 1%
    20,000 USD and above: 2%

component override "Override"
  pays 5% × below

component deep_override "Deep override"
  pays 1% × deep_below
"""
    )


PLANS: dict[tuple[str, str, bool], CompiledPlan] = {
    (rollup, duplicates, overlay): compile_text(plan_text(rollup, duplicates, overlay))
    for rollup in ROLLUPS
    for duplicates in ("", "duplicate credit counts once", "duplicate credit counts per path")
    for overlay in (False, True)
}


# ------------------------------------------------------------------ random companies
@st.composite
def companies(draw: st.DrawFn) -> Dataset:
    count = draw(st.integers(2, 8))
    ids = [f"P{i}" for i in range(count)]
    levels = [0]  # P0 is a root; each other person is a root or one level below someone, 4 levels at most
    for _ in ids[1:]:
        levels.append(draw(st.integers(0, min(3, max(levels) + 1))))
    lines: list[ReportingLine] = []
    for i, who in enumerate(ids):
        above = [ids[j] for j in range(count) if levels[j] == levels[i] - 1]
        if not above:
            continue
        manager = draw(st.sampled_from(above))
        if draw(st.booleans()):  # changes manager on a random day of the year
            change = YEAR_START + timedelta(days=draw(st.integers(1, 364)))
            lines.append(ReportingLine(who, manager, YEAR_START, change))
            lines.append(ReportingLine(who, draw(st.sampled_from(above)), change, None))
        else:
            lines.append(ReportingLine(who, manager, YEAR_START, None))
    payees = [payee(p, territory=draw(st.sampled_from(TERRITORIES))) for p in ids]
    deals: list[Deal] = []
    for k in range(draw(st.integers(0, 8))):
        pattern = draw(st.sampled_from(SPLIT_PATTERNS))
        partners = draw(st.permutations(ids))[: len(pattern)] if len(pattern) <= count else ids[:1]
        splits = dict(zip(partners, pattern, strict=False)) if len(partners) == len(pattern) and len(pattern) > 1 else None
        cents = draw(st.integers(-500_000, 5_000_000))
        closed = YEAR_START + timedelta(days=draw(st.integers(0, 364)))
        territory = draw(st.sampled_from(TERRITORIES))
        amount = str(Decimal(cents).scaleb(-2))
        deals.append(deal(f"X{k}", draw(st.sampled_from(ids)), amount, closed.isoformat(), splits=splits, territory=territory))
    assigned = [p for p in ids if draw(st.integers(0, 4)) > 0] or ids[:1]
    assignments = tuple(Assignment(p, "test_plan", YEAR_START, None, Decimal(100_000), "USD") for p in assigned)
    return Dataset({p.id: p for p in payees}, tuple(deals), assignments, (), reporting_lines=tuple(lines))


def credits_of(plan: CompiledPlan, data: Dataset) -> dict[str, list[Credit]]:
    deal_attrs, payee_attrs = typed_attributes(plan, data)
    crediting = Crediting(plan, data.payees, payee_attrs, Hierarchy(data.reporting_lines), FxTable(()))
    return crediting.credit(data.deals, deal_attrs)


def manager_on(data: Dataset, who: str, day: date) -> str | None:
    found = [line.manager_id for line in data.reporting_lines if line.payee_id == who and line.covers(day)]
    assert len(found) <= 1
    return found[0] if found else None


def model_paths(data: Dataset, overlay: bool, levels: int | None) -> dict[tuple[str, str], list[Decimal]]:
    """(payee, deal) -> the shares of every path by which the deal reaches the payee, written
    straight from the language reference, independently of the engine."""
    paths: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for current in data.deals:
        direct = [(s.payee_id, s.share) for s in current.splits] or [(current.owner, ONE)]
        territory = current.attributes.get("territory", "")
        if overlay and territory:
            direct += [(p.id, ONE) for p in data.payees.values() if p.attributes.get("territory", "") == territory]
        for who, share in direct:
            paths[(who, current.id)].append(share)
            climbed, here = 0, who
            while levels is None or climbed < levels:
                above = manager_on(data, here, current.close_date)
                if above is None:
                    break
                climbed += 1
                paths[(above, current.id)].append(share)
                here = above
    return paths


def by_payee_and_deal(credits: dict[str, list[Credit]]) -> dict[tuple[str, str], list[Credit]]:
    found: dict[tuple[str, str], list[Credit]] = defaultdict(list)
    for payee_id, listed in credits.items():
        for credit in listed:
            found[(payee_id, credit.deal.id)].append(credit)
    return found


# ------------------------------------------------------------------ (a) splits conserve credit
@settings(max_examples=200)
@given(data=companies())
def test_splits_without_rollup_or_overlay_conserve_each_deals_amount(data: Dataset) -> None:
    credits = credits_of(PLANS[("", "", False)], data)
    total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for listed in credits.values():
        for credit in listed:
            total[credit.deal.id] += credit.amount
    assert dict(total) == {x.id: x.amount for x in data.deals}


# ------------------------------------------------------------------ (b) duplicate control
@settings(max_examples=200)
@given(data=companies(), rollup=st.sampled_from(list(ROLLUPS)), overlay=st.booleans(), explicit=st.booleans())
def test_counted_once_a_payee_gets_one_credit_of_at_most_the_deal(data: Dataset, rollup: str, overlay: bool, explicit: bool) -> None:
    plan = PLANS[(rollup, "duplicate credit counts once" if explicit else "", overlay)]
    expected = model_paths(data, overlay, ROLLUPS[rollup])
    found = by_payee_and_deal(credits_of(plan, data))
    assert set(found) == set(expected)
    for (payee_id, deal_id), credits in found.items():
        (credit,) = credits
        share = min(sum(expected[(payee_id, deal_id)], ZERO), ONE)
        assert credit.share == share
        assert credit.amount == credit.deal.amount * share
        assert abs(credit.amount) <= abs(credit.deal.amount)
        assert [p.share for p in credit.paths] == expected[(payee_id, deal_id)]


@settings(max_examples=200)
@given(data=companies(), rollup=st.sampled_from(list(ROLLUPS)), overlay=st.booleans())
def test_counted_per_path_a_payee_gets_a_credit_per_path_adding_to_the_sum_over_paths(data: Dataset, rollup: str, overlay: bool) -> None:
    expected = model_paths(data, overlay, ROLLUPS[rollup])
    found = by_payee_and_deal(credits_of(PLANS[(rollup, "duplicate credit counts per path", overlay)], data))
    assert set(found) == set(expected)
    for key, credits in found.items():
        amount = credits[0].deal.amount
        assert sorted(c.share for c in credits) == sorted(expected[key])
        assert sum((c.amount for c in credits), ZERO) == amount * sum(expected[key], ZERO)
        assert len({c.id for c in credits}) == len(credits)


# ------------------------------------------------------------------ (c) order never matters
def _shuffled(data: Dataset, seed: int) -> Dataset:
    rng = random.Random(seed)
    people, assignments = list(data.payees.values()), list(data.assignments)
    deals, lines = list(data.deals), list(data.reporting_lines)
    for items in (people, assignments, deals, lines):
        rng.shuffle(items)
    return dataclasses.replace(
        data, payees={p.id: p for p in people}, assignments=tuple(assignments), deals=tuple(deals), reporting_lines=tuple(lines)
    )


@settings(max_examples=250)
@given(
    data=companies(),
    rollup=st.sampled_from(list(ROLLUPS)),
    duplicates=st.sampled_from(("", "duplicate credit counts per path")),
    overlay=st.booleans(),
    period=st.sampled_from(QUARTERS),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_order_of_the_data_and_of_the_payees_asked_for_never_changes_a_result(
    data: Dataset, rollup: str, duplicates: str, overlay: bool, period: str, seed: int
) -> None:
    plans = [PLANS[(rollup, duplicates, overlay)]]
    everyone = calculate(plans, data, period)
    assert calculate(plans, _shuffled(data, seed), period).result_sha256 == everyone.result_sha256
    for statement in everyone.statements:
        alone = calculate(plans, _shuffled(data, seed + 1), period, payees=[statement.payee_id])
        assert [statement_json(s) for s in alone.statements] == [statement_json(statement)]
    asked = [s.payee_id for s in everyone.statements]
    random.Random(seed).shuffle(asked)
    backwards = calculate(plans, data, period, payees=asked[::-1])
    assert backwards.result_sha256 == everyone.result_sha256


# ------------------------------------------------------------------ (d) traces verify, lines add up
@settings(max_examples=250)
@given(
    data=companies(),
    rollup=st.sampled_from(list(ROLLUPS)),
    duplicates=st.sampled_from(("", "duplicate credit counts per path")),
    overlay=st.booleans(),
    period=st.sampled_from(QUARTERS),
)
def test_every_line_trace_verifies_and_lines_add_up_to_the_total(
    data: Dataset, rollup: str, duplicates: str, overlay: bool, period: str
) -> None:
    result = calculate([PLANS[(rollup, duplicates, overlay)]], data, period)
    for statement in result.statements:
        assert sum((line.amount for line in statement.lines), ZERO) == statement.total
        for line in statement.lines:
            assert verify(build_line_trace(statement, line)) == [], (statement.payee_id, line.id)


def test_the_model_of_paths_follows_the_line_in_effect_on_each_deals_date() -> None:
    # P3 -> P2 -> P1 -> P0, but P2 reports to P0 from 2026-06-01: X1 (March) climbs through
    # P1, X2 (July) skips P1
    lines = (
        ReportingLine("P1", "P0", d("2026-01-01"), None),
        ReportingLine("P2", "P1", d("2026-01-01"), d("2026-06-01")),
        ReportingLine("P2", "P0", d("2026-06-01"), None),
        ReportingLine("P3", "P2", d("2026-01-01"), None),
    )
    deals = (deal("X1", "P3", "1000", "2026-03-01"), deal("X2", "P3", "1000", "2026-07-01"))
    data = Dataset({p: payee(p) for p in ("P0", "P1", "P2", "P3")}, deals, (), (), reporting_lines=lines)
    assert set(model_paths(data, False, None)) == {
        ("P3", "X1"),
        ("P2", "X1"),
        ("P1", "X1"),
        ("P0", "X1"),
        ("P3", "X2"),
        ("P2", "X2"),
        ("P0", "X2"),
    }
    assert set(model_paths(data, False, 1)) == {("P3", "X1"), ("P2", "X1"), ("P3", "X2"), ("P2", "X2")}


def _depth(data: Dataset, who: str, day: date) -> int:
    above = manager_on(data, who, day)
    return 0 if above is None else 1 + _depth(data, above, day)


def test_the_generator_makes_four_level_hierarchies_with_changes_of_manager() -> None:
    # a guard on the generator: the properties above do see deep hierarchies that change mid-year
    def deep_and_changing(data: Dataset) -> bool:
        changes = any(line.end is not None for line in data.reporting_lines)
        return changes and any(_depth(data, p, YEAR_START) == 3 for p in data.payees) and any(len(x.splits) > 1 for x in data.deals)

    found = find(companies(), deep_and_changing, settings=settings(max_examples=2_000, database=None))
    assert deep_and_changing(found)


# ------------------------------------------------------------------ (e) a worker's payees
@settings(max_examples=200)
@given(data=companies(), rollup=st.sampled_from(list(ROLLUPS)), overlay=st.booleans(), kept_seed=st.integers(0, 2**16))
def test_crediting_only_some_payees_gives_them_exactly_their_credits_among_everyones(
    data: Dataset, rollup: str, overlay: bool, kept_seed: int
) -> None:
    # (e) a worker credits its own payees, passing over the deals that cannot reach them
    plan = compile_text(plan_text(rollup, "duplicate credit counts once", overlay))
    deal_attrs, payee_attrs = typed_attributes(plan, data)
    kept = set(random.Random(kept_seed).sample(sorted(data.payees), k=kept_seed % (len(data.payees) + 1)))

    def crediting() -> Crediting:
        return Crediting(plan, data.payees, payee_attrs, Hierarchy(data.reporting_lines), FxTable(()))

    def seen(credits: dict[str, list[Credit]]) -> dict[str, list[tuple[str, Decimal, str]]]:
        return {payee_id: [(c.id, c.amount, c.role) for c in found] for payee_id, found in credits.items() if found}

    everyone = seen(crediting().credit(data.deals, deal_attrs))
    assert seen(crediting().credit(data.deals, deal_attrs, kept)) == {p: c for p, c in everyone.items() if p in kept}
