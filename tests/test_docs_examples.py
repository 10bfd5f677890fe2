"""The worked examples of docs/language.md, run as written.

Each example's plan text is read from the document: a fenced ```comp block preceded by an
HTML comment `<!-- example: NAME -->`.  The data and the amounts the document states live
here.  An example without a header gets the document's common header, which must be the
test suite's HEADER; so the document, the plans and the engine cannot drift apart.  The
library example is compiled as the file `shared/rates.comp` that the library-plan example
names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from decimal import Decimal
from pathlib import Path

import pytest

from compengine.core.calculation import CalculationResult, calculate
from compengine.core.data import Assignment, Dataset, Deal, ExchangeRate, InputValue, QuotaFigure, ReportingLine, RowRef
from compengine.core.errors import EvaluationError
from compengine.core.plan import CompiledPlan
from compengine.core.trace import build_line_trace, verify
from compengine.lang.diagnostics import has_errors
from compengine.lang.loader import PlanSource, compile_source
from compengine.report.explain import explain_line
from tests.payout_support import QUARTERS, close, statement_lines, with_facts
from tests.payout_support import line as paid_line
from tests.support import HEADER, REPO, calc, compile_text, d, dataset, deal, diagnostics, line_amounts, payee

LANGUAGE_MD = REPO / "docs" / "language.md"
_EXAMPLE = re.compile(r"<!-- example: ([a-z0-9-]+) -->\n```comp\n(.*?)```", re.DOTALL)


def _examples() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, text in _EXAMPLE.findall(LANGUAGE_MD.read_text(encoding="utf-8")):
        assert name not in found, f"example {name!r} appears twice in docs/language.md"
        found[name] = text
    return found


EXAMPLES = _examples()

#: Every example the document holds, each asserted by a test below.
COVERED = {
    "header",
    "marginal-aggregate",
    "retroactive-aggregate",
    "interpolated-aggregate",
    "marginal-incremental",
    "retroactive-incremental",
    "interpolated-incremental",
    "cap-per-year",
    "multiplier-and-cap-per-deal",
    "gate",
    "true-up",
    "true-up-never-negative",
    "curve",
    "statement-rounding",
    "decision-table-first",
    "decision-table-collect",
    "overlay-region",
    "overlay-accounts",
    "duplicate-credit",
    "rollup",
    "earnings-of-reports",
    "inputs",
    "labelled-rules",
    "proration",
    "revision",
    "currency-conversion",
    "library-rates",
    "library-plan",
    "payment-on-invoice",
    "recoverable-draw",
    "guarantee",
    "holdback",
    "clawback",
}

#: Examples that are not plans on their own: a library, and the plan that uses it (compiled
#: with the library at the paths the document gives them).
LIBRARY_PATH = "shared/rates.comp"
LIBRARY_PLAN_PATH = "plans/enterprise_ae.comp"


def plan_text(name: str) -> str:
    """The plan of one example: its own text if it has a header, else the common header + it."""
    assert name in COVERED, f"add {name!r} to COVERED"
    text = EXAMPLES[name]
    return text if text.startswith(("plan ", "library ")) else HEADER + "\n" + text


def source_of(name: str, path: str | None = None) -> PlanSource:
    """An example compiled as a file (every version of it), failing on any error; the
    library-plan example reads the library example as the file it names."""
    files = {LIBRARY_PATH: plan_text("library-rates")}
    source = compile_source(path or f"{name}.comp", plan_text(name), read=lambda wanted: files[wanted])
    if has_errors(source.diagnostics):
        rendered = "\n".join(problem.render(source.text_for(problem.span.file)) for problem in source.diagnostics)
        raise AssertionError(f"example {name} does not compile:\n{rendered}")
    return source


def calculated(plans: CompiledPlan | list[CompiledPlan] | str, data: Dataset, period: str, **kwargs: object) -> CalculationResult:
    """Calculate (plan text: every version of it), after checking that every line's trace re-adds."""
    if isinstance(plans, str):
        source = compile_source("plan.comp", plans)
        if has_errors(source.diagnostics):
            raise AssertionError("\n".join(problem.render(plans) for problem in source.diagnostics))
        plans = source.versions
    result = calculate(plans if isinstance(plans, list) else [plans], data, period, **kwargs)  # type: ignore[arg-type]
    _check_traces(result)
    return result


def totals_by_line(result: CalculationResult) -> dict[str, dict[str, Decimal]]:
    """Payee -> component -> line amount, for every statement of the result."""
    return {s.payee_id: {line.component.name: line.amount for line in s.lines} for s in result.statements}


def payouts(result: CalculationResult, payee_id: str, component: str) -> list[tuple[str, Decimal]]:
    """(deal, payout) of each credit paid on one line, in the order paid."""
    [line] = [line for line in result.statement(payee_id).lines if line.component.name == component]
    return [(credit.deal_id, credit.payout) for credit in line.credits]


def with_lines(data: Dataset, *rows: tuple[str, str, str, str | None]) -> Dataset:
    """`data` with reporting lines (payee, manager, from, until or None)."""
    lines = tuple(ReportingLine(p, m, d(start), d(end) if end else None) for p, m, start, end in rows)
    return dataclasses.replace(data, reporting_lines=lines)


def amounts(name: str, data: Dataset, period: str, payee_id: str = "P1") -> dict[str, Decimal]:
    """Line amounts of `payee_id`, after checking every line's trace re-adds."""
    result = calc(compile_text(plan_text(name), f"{name}.comp"), data, period)
    _check_traces(result)
    return line_amounts(result, payee_id)


def _check_traces(result: CalculationResult) -> None:
    for statement in result.statements:
        assert sum((line.amount for line in statement.lines), Decimal(0)) == statement.total
        for line in statement.lines:
            assert verify(build_line_trace(statement, line)) == []


def money(text: str) -> Decimal:
    return Decimal(text)


# ------------------------------------------------------------------ the document itself
def test_the_common_header_in_the_document_is_the_test_header() -> None:
    assert EXAMPLES["header"] == HEADER


def test_the_document_holds_exactly_the_examples_tested_here() -> None:
    assert set(EXAMPLES) == COVERED


def test_every_example_in_the_document_compiles() -> None:
    for name in EXAMPLES:
        if name == "library-rates":
            source_of(name, LIBRARY_PATH)
        elif name == "library-plan":
            source_of(name, LIBRARY_PLAN_PATH)
        elif name != "header":
            source_of(name)


# ------------------------------------------------------------------ tiers on a period aggregate
AGGREGATE_DEALS = [
    deal("D1", "P1", 70_000, "2026-01-20"),
    deal("D2", "P1", 50_000, "2026-03-05"),
    deal("D3", "P1", 100_000, "2026-05-15"),
]
ANNUAL_400K = {("P1", "bookings", "FY2026"): 400_000}


def aggregate_data() -> Dataset:
    return dataset([payee("P1")], AGGREGATE_DEALS, quotas=ANNUAL_400K)


@pytest.mark.parametrize(
    ("example", "period", "expected"),
    [
        # 50,000 × 2% + 50,000 × 5% + 20,000 × 8%
        ("marginal-aggregate", "2026-Q1", "5100.00"),
        # exactly 100%: 50,000 × 2% + 50,000 × 5%, nothing in band 3
        ("marginal-aggregate", "2026-Q2", "3500.00"),
        # 120% is in band 3: 120,000 × 8%
        ("retroactive-aggregate", "2026-Q1", "9600.00"),
        # exactly 100% belongs to the band above (half-open bands): 100,000 × 8%
        ("retroactive-aggregate", "2026-Q2", "8000.00"),
        # 6% + 4% × 20/50 = 7.6% of 120,000
        ("interpolated-aggregate", "2026-Q1", "9120.00"),
        # on the 100% point: 6% of 100,000
        ("interpolated-aggregate", "2026-Q2", "6000.00"),
    ],
)
def test_tiers_on_a_period_aggregate(example: str, period: str, expected: str) -> None:
    assert amounts(example, aggregate_data(), period) == {"commission": money(expected)}


def test_one_dollar_below_the_bound_a_retroactive_schedule_pays_the_lower_rate() -> None:
    data = dataset([payee("P1")], [deal("D1", "P1", 99_999, "2026-05-15")], quotas=ANNUAL_400K)
    assert amounts("retroactive-aggregate", data, "2026-Q2") == {"commission": money("4999.95")}


# ------------------------------------------------------------------ tiers incrementally per credit
INCREMENTAL_DEALS = [
    deal("D1", "P1", 120_000, "2026-02-10"),
    deal("D2", "P1", 150_000, "2026-03-02"),
    deal("D3", "P1", 160_000, "2026-05-15"),
]


def incremental_payouts(example: str, period: str) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """The line amounts and each deal's payout on the `new_business` line."""
    data = dataset([payee("P1")], INCREMENTAL_DEALS, quotas=ANNUAL_400K)
    result = calc(compile_text(plan_text(example), f"{example}.comp"), data, period)
    _check_traces(result)
    [line] = result.statement("P1").lines
    return line_amounts(result, "P1"), {payout.deal_id: payout.payout for payout in line.credits}


def test_marginal_per_credit_splits_a_deal_crossing_a_bound_across_two_rates() -> None:
    lines, by_deal = incremental_payouts("marginal-incremental", "2026-Q1")
    assert lines == {"new_business": money("13600.00")}
    assert by_deal == {"D1": money("4800"), "D2": money("8800")}


def test_marginal_per_credit_shows_both_slices_of_the_crossing_deal() -> None:
    data = dataset([payee("P1")], INCREMENTAL_DEALS, quotas=ANNUAL_400K)
    result = calc(compile_text(plan_text("marginal-incremental")), data, "2026-Q1")
    crossing = next(p for p in result.statement("P1").lines[0].credits if p.deal_id == "D2")
    # 80,000 × 4% up to 200,000 (50% of 400,000), then 70,000 × 8%
    assert [(t.quantity, t.rate, t.value) for t in crossing.reward.terms] == [
        (money("80000"), money("0.04"), money("3200")),
        (money("70000"), money("0.08"), money("5600")),
    ]
    assert [(a.deal_id, a.amount) for a in result.statement("P1").lines[0].attribution] == [
        ("D1", money("4800.00")),
        ("D2", money("8800.00")),
    ]


def test_marginal_per_credit_carries_the_running_total_into_the_next_quarter() -> None:
    # 270,000 → 430,000: 130,000 × 8% + 30,000 × 12%
    lines, by_deal = incremental_payouts("marginal-incremental", "2026-Q2")
    assert lines == {"new_business": money("14000.00")}
    assert by_deal == {"D3": money("14000")}


def test_retroactive_per_credit_pays_the_catch_up_on_the_crossing_deal() -> None:
    # D2: 270,000 × 8% − 120,000 × 4% = 21,600 − 4,800
    lines, by_deal = incremental_payouts("retroactive-incremental", "2026-Q1")
    assert lines == {"new_business": money("21600.00")}
    assert by_deal == {"D1": money("4800"), "D2": money("16800")}


def test_retroactive_per_credit_crossing_into_the_top_band() -> None:
    # D3: 430,000 × 12% − 270,000 × 8% = 51,600 − 21,600
    lines, by_deal = incremental_payouts("retroactive-incremental", "2026-Q2")
    assert lines == {"new_business": money("30000.00")}
    assert by_deal == {"D3": money("30000")}


def test_interpolated_per_credit() -> None:
    # D1: 120,000 × 3.2%; D2: 270,000 × 4.7% − 3,840
    lines, by_deal = incremental_payouts("interpolated-incremental", "2026-Q1")
    assert lines == {"new_business": money("12690.00")}
    assert by_deal == {"D1": money("3840"), "D2": money("8850")}
    # D3: 430,000 × 6.6% − 12,690
    lines, by_deal = incremental_payouts("interpolated-incremental", "2026-Q2")
    assert lines == {"new_business": money("15690.00")}
    assert by_deal == {"D3": money("15690")}


# ------------------------------------------------------------------ caps, gates, true-ups, curves
def test_cap_per_year() -> None:
    data = dataset(
        [payee("P1")],
        [deal("D1", "P1", 150_000, "2026-02-10"), deal("D2", "P1", 120_000, "2026-05-10"), deal("D3", "P1", 50_000, "2026-08-10")],
        target_incentive=100_000,
    )
    # cap 25% × 100,000 = 25,000 a year: 15,000; then 12,000 limited to the 10,000 left; then 0
    assert amounts("cap-per-year", data, "2026-Q1") == {"commission": money("15000.00")}
    assert amounts("cap-per-year", data, "2026-Q2") == {"commission": money("10000.00")}
    assert amounts("cap-per-year", data, "2026-Q3") == {"commission": money("0.00")}


def test_a_multiplier_applies_before_the_cap_per_deal() -> None:
    data = dataset([payee("P1")], [deal("D1", "P1", 100_000, "2026-02-01", term_months="36"), deal("D2", "P1", 40_000, "2026-03-01")])
    # D1: 5,000 × 1.5 = 7,500, capped at 4,000; D2: 2,000 (empty term: default 12)
    assert amounts("multiplier-and-cap-per-deal", data, "2026-Q1") == {"commission": money("6000.00")}


def meeting(deal_id: str, amount: int, close: str) -> Deal:
    return deal(deal_id, "P1", amount, close, type="meeting")


def test_gate() -> None:
    meetings = [
        meeting("M1", 20_000, "2026-01-15"),
        meeting("M2", 25_000, "2026-02-15"),
        meeting("M3", 15_000, "2026-03-15"),
        meeting("M4", 30_000, "2026-04-15"),
        meeting("M5", 10_000, "2026-05-15"),
        meeting("M6", 50_000, "2026-08-15"),
    ]
    quotas = {("P1", "pipeline", f"2026-Q{q}"): 100_000 for q in (1, 2, 3)}
    data = dataset([payee("P1")], meetings, quotas=quotas)
    assert amounts("gate", data, "2026-Q1") == {"meeting_bounty": money("450.00")}  # 60%: met
    assert amounts("gate", data, "2026-Q2") == {"meeting_bounty": money("0.00")}  # 40%: 300 → 0
    assert amounts("gate", data, "2026-Q3") == {"meeting_bounty": money("150.00")}  # exactly 50%: met


TRUE_UP_DEALS = [
    deal("D1", "P1", 150_000, "2026-02-10"),
    deal("D2", "P1", 300_000, "2026-05-10"),
    deal("D3", "P1", -100_000, "2026-08-10"),
    deal("D4", "P1", 100_000, "2026-11-10"),
]


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        # earned 7,500; 36,000; 17,500; 36,000 cumulatively, less what was paid before
        ("true-up", {"2026-Q1": "7500.00", "2026-Q2": "28500.00", "2026-Q3": "-18500.00", "2026-Q4": "18500.00"}),
        ("true-up-never-negative", {"2026-Q1": "7500.00", "2026-Q2": "28500.00", "2026-Q3": "0.00", "2026-Q4": "0.00"}),
    ],
)
def test_true_up(example: str, expected: dict[str, str]) -> None:
    data = dataset([payee("P1")], TRUE_UP_DEALS, quotas=ANNUAL_400K)
    for period, amount in expected.items():
        assert amounts(example, data, period) == {"commission": money(amount)}, period


def test_payout_curve() -> None:
    data = dataset(
        [payee("P1")],
        [deal("D1", "P1", 150_000, "2026-02-10"), deal("D2", "P1", 400_000, "2026-05-10"), deal("D3", "P1", 250_000, "2026-08-10")],
        target_incentive=100_000,
        quotas={("P1", "bookings", "FY2026"): 1_000_000},
    )
    assert amounts("curve", data, "2026-Q1") == {"bonus": money("15625.00")}  # 75% → 62.5% of 25,000
    assert amounts("curve", data, "2026-Q2") == {"bonus": money("37500.00")}  # 160% → 175%, capped at 150%
    assert amounts("curve", data, "2026-Q3") == {"bonus": money("25000.00")}  # 100% → 100%


def test_statement_rounding_is_cumulative_over_the_lines() -> None:
    data = dataset([payee("P1")])
    assert amounts("statement-rounding", data, "2026-Q1") == {"a": money("3.33"), "b": money("3.34"), "c": money("3.33")}
    per_component = plan_text("statement-rounding").replace("per statement", "per component")
    result = calc(per_component, data, "2026-Q1")
    assert result.statement("P1").total == money("9.99")


# ------------------------------------------------------------------ decision tables
def spiff_deals() -> list[Deal]:
    return [
        deal("D1", "P1", 150_000, "2026-01-10", segment="enterprise"),
        deal("D2", "P1", 40_000, "2026-01-20", segment="enterprise"),
        deal("D3", "P1", 60_000, "2026-02-10", segment="mid"),
        deal("D4", "P1", 10_000, "2026-03-10"),
        deal("D5", "P1", 100_000, "2026-03-11"),
    ]


def test_a_first_hit_decision_table_uses_the_first_matching_row() -> None:
    result = calculated(plan_text("decision-table-first"), dataset([payee("P1")], spiff_deals()), "2026-Q1")
    assert line_amounts(result, "P1") == {"spiff": money("1700.00")}
    # D1 matches rows 1 and 2 and takes row 1; D4 and D5 (empty segment: smb) match no row
    assert payouts(result, "P1", "spiff") == [
        ("D1", money("1000")),
        ("D2", money("500")),
        ("D3", money("200")),
        ("D4", money("0")),
        ("D5", money("0")),
    ]
    first = result.statement("P1").lines[0].credits[0]
    [decision] = [record for record in first.inputs if record.kind == "decision"]
    assert len(decision.detail["matched"]) == 2
    assert decision.detail["used"] == decision.detail["matched"][:1]
    assert decision.detail["inputs"] == (("deal.segment", "enterprise"), ("deal.amount", money("150000")))


def test_overlapping_rows_are_e092_unless_the_hit_policy_says_which_wins() -> None:
    unique = plan_text("decision-table-first").replace("  hit policy first\n", "")
    assert [p.code for p in diagnostics(unique)] == ["E092"]
    assert [p.code for p in diagnostics(unique.replace("hit policy first", "hit policy unique"))] == ["E092"]
    exclusive = unique.replace('row "enterprise", any: 500 USD', 'row "enterprise", below 100,000 USD: 500 USD')
    result = calculated(exclusive, dataset([payee("P1")], spiff_deals()), "2026-Q1")
    assert line_amounts(result, "P1") == {"spiff": money("1700.00")}


KICKER_DEALS = [
    deal("D1", "P1", 100_000, "2026-01-10", new_logo="true", multi_year="true"),
    deal("D2", "P1", 300_000, "2026-01-20", new_logo="true"),
    deal("D3", "P1", 50_000, "2026-02-10"),
]


def test_a_collect_sum_table_adds_the_outputs_of_every_matching_row() -> None:
    result = calculated(plan_text("decision-table-collect"), dataset([payee("P1")], KICKER_DEALS), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": money("28500.00")}
    # 6.5% of 100,000; 6.5% of 300,000; 5% of 50,000 (no row matches: the sum is 0)
    assert payouts(result, "P1", "commission") == [("D1", money("6500")), ("D2", money("19500")), ("D3", money("2500"))]


def test_collect_max_with_no_match_and_no_otherwise_stops_the_calculation() -> None:
    text = plan_text("decision-table-collect").replace("collect sum", "collect max")
    with pytest.raises(EvaluationError, match="no row of decision table kicker matches"):
        calculated(text, dataset([payee("P1")], KICKER_DEALS), "2026-Q1")
    # D1 and D2 alone: the largest kicker is 1%
    result = calculated(text, dataset([payee("P1")], KICKER_DEALS[:2]), "2026-Q1")
    assert payouts(result, "P1", "commission") == [("D1", money("6000")), ("D2", money("18000"))]


# ------------------------------------------------------------------ overlays
def region_data() -> Dataset:
    people = [
        payee("A1"),
        payee("S1", role="specialist", region="EMEA"),
        payee("S2", role="specialist", region="EMEA"),
        payee("S3", role="specialist"),
        payee("S4", role="specialist", region="AMER"),
    ]
    deals = [
        deal("D1", "A1", 100_000, "2026-02-01", region="EMEA"),
        deal("D2", "A1", 50_000, "2026-02-10", region="AMER"),
        deal("D3", "A1", 30_000, "2026-03-01"),
    ]
    return dataset(people, deals)


def test_an_overlay_credits_every_matching_payee_in_full_and_empty_equals_empty() -> None:
    result = calculated(plan_text("overlay-region"), region_data(), "2026-Q1")
    lines = {p: amounts["overlay_commission"] for p, amounts in totals_by_line(result).items()}
    # S3 (no region) is credited D3 (no region): "" == ""
    assert lines == {"A1": money("0.00"), "S1": money("2000.00"), "S2": money("2000.00"), "S3": money("600.00"), "S4": money("1000.00")}
    [credit] = result.statement("S1").lines[0].credits
    assert (credit.role, credit.share, credit.credited) == ("overlay", Decimal(1), money("100000"))


def test_a_non_empty_test_keeps_empty_attributes_from_matching() -> None:
    text = plan_text("overlay-region").replace("payee.region == deal.region\n", 'payee.region == deal.region and payee.region != ""\n')
    assert text != plan_text("overlay-region")
    result = calculated(text, region_data(), "2026-Q1")
    lines = {p: amounts["overlay_commission"] for p, amounts in totals_by_line(result).items()}
    assert lines == {"A1": money("0.00"), "S1": money("2000.00"), "S2": money("2000.00"), "S3": money("0.00"), "S4": money("1000.00")}


def accounts_data(*extra: str) -> Dataset:
    people = [
        payee("A1"),
        payee("K1", role="key_account", accounts="Acme; Globex"),
        payee("K2", role="key_account", accounts="Initech;Globex"),
    ] + [payee(p, role="key_account") for p in extra]
    deals = [
        deal("D1", "A1", 100_000, "2026-02-01", account="Acme"),
        deal("D2", "A1", 40_000, "2026-02-10", account="Globex"),
        deal("D3", "A1", 10_000, "2026-03-01", account="Umbrella"),
    ]
    return dataset(people, deals)


def test_an_overlay_on_a_list_attribute() -> None:
    result = calculated(plan_text("overlay-accounts"), accounts_data(), "2026-Q1")
    lines = {p: amounts["commission"] for p, amounts in totals_by_line(result).items()}
    # A1 owns all three (150,000); K1 covers Acme and Globex (140,000); K2 Globex (40,000)
    assert lines == {"A1": money("1500.00"), "K1": money("1400.00"), "K2": money("400.00")}


def test_an_empty_list_cell_is_the_empty_list() -> None:
    # K3 is a key-account manager whose accounts cell is empty: covers nothing, no error
    result = calculated(plan_text("overlay-accounts"), accounts_data("K3"), "2026-Q1")
    assert line_amounts(result, "K3") == {"commission": money("0.00")}
    assert line_amounts(result, "K1") == {"commission": money("1400.00")}


# ------------------------------------------------------------------ duplicate credit
def duplicate_data() -> Dataset:
    deals = [
        deal("D1", "A1", 100_000, "2026-02-01", splits={"A1": "60", "M1": "40"}),
        deal("D2", "A1", 50_000, "2026-03-01", region="EMEA"),
    ]
    return with_lines(dataset([payee("A1"), payee("M1", region="EMEA")], deals), ("A1", "M1", "2026-01-01", None))


def test_duplicate_credit_counts_once_by_default() -> None:
    result = calculated(plan_text("duplicate-credit"), duplicate_data(), "2026-Q1")
    assert totals_by_line(result) == {
        "A1": {"commission": money("5500.00"), "deal_spiff": money("200.00")},
        # D1: 40% + 60% = 100%, one credit capped at 4,000; D2: 100% + 100% counted as 100%
        "M1": {"commission": money("6500.00"), "deal_spiff": money("200.00")},
    }
    d1, d2 = result.statement("M1").lines[0].credits
    assert (d1.credit_id, d1.share, d1.credited, d1.payout) == ("team/D1/M1", Decimal(1), money("100000"), money("4000"))
    assert sorted(d1.paths) == [("rollup 1 via A1 (split)", Decimal("0.6")), ("split", Decimal("0.4"))]
    assert (d2.share, d2.credited) == (Decimal(1), money("50000"))
    assert sorted(path for path, _ in d2.paths) == ["overlay", "rollup 1 via A1 (owner)"]
    statement = result.statement("M1")
    trace = build_line_trace(statement, statement.lines[0])
    credit_nodes = [node for node in trace.walk() if node.kind == "credit" and "paths" in node.detail]
    assert [len(node.detail["paths"]) for node in credit_nodes] == [2, 2]
    text = explain_line(trace)
    assert "credited 100% (rollup 1 via A1 (split) 60% + split 40%)" in text
    assert "counted once" in text


def test_the_same_as_the_explicit_counts_once_clause() -> None:
    text = plan_text("duplicate-credit").replace("rolled up 1 level\n", "rolled up 1 level\n  duplicate credit counts once\n")
    explicit = calculated(text, duplicate_data(), "2026-Q1")
    default = calculated(plan_text("duplicate-credit"), duplicate_data(), "2026-Q1")
    assert totals_by_line(explicit) == totals_by_line(default)


def test_duplicate_credit_counted_per_path() -> None:
    text = plan_text("duplicate-credit").replace("rolled up 1 level\n", "rolled up 1 level\n  duplicate credit counts per path\n")
    result = calculated(text, duplicate_data(), "2026-Q1")
    assert totals_by_line(result) == {
        "A1": {"commission": money("5500.00"), "deal_spiff": money("200.00")},
        # D1 40,000 and 60,000, each under the cap; D2 50,000 twice; four SPIFFs
        "M1": {"commission": money("10000.00"), "deal_spiff": money("400.00")},
    }
    credits = result.statement("M1").lines[0].credits
    assert sorted((c.credit_id, c.credited) for c in credits) == [
        ("team/D1/M1/rollup 1 via A1 (split)", money("60000")),
        ("team/D1/M1/split", money("40000")),
        ("team/D2/M1/overlay", money("50000")),
        ("team/D2/M1/rollup 1 via A1 (owner)", money("50000")),
    ]


# ------------------------------------------------------------------ rollups and team measures
def rollup_data() -> Dataset:
    data = dataset(
        [payee(p) for p in ("R1", "M1", "M2", "V1", "C1")],
        [deal("D1", "R1", 100_000, "2026-01-20"), deal("D2", "R1", 50_000, "2026-03-10")],
    )
    return with_lines(
        data,
        ("R1", "M1", "2026-01-01", "2026-03-01"),
        ("R1", "M2", "2026-03-01", None),
        ("M1", "V1", "2026-01-01", None),
        ("M2", "V1", "2026-01-01", None),
        ("V1", "C1", "2026-01-01", None),
    )


def team_lines(text: str) -> dict[str, Decimal]:
    result = calculated(text, rollup_data(), "2026-Q1")
    return {p: amounts["team_commission"] for p, amounts in totals_by_line(result).items()}


def test_a_team_measure_over_a_rolled_up_rule() -> None:
    # D1 (R1 is M1's then) reaches M1 and V1; D2 (R1 is M2's then) reaches M2 and V1; C1 is 3 levels up
    assert team_lines(plan_text("rollup")) == {
        "R1": money("1500.00"),
        "M1": money("1000.00"),
        "M2": money("500.00"),
        "V1": money("1500.00"),
        "C1": money("0.00"),
    }
    result = calculated(plan_text("rollup"), rollup_data(), "2026-Q1")
    [record] = [r for r in result.statement("V1").lines[0].inputs if r.name == "team_total"]
    assert record.value == money("150000")


def test_rolled_up_to_the_top_and_one_level() -> None:
    top = team_lines(plan_text("rollup").replace("rolled up 2 levels", "rolled up to the top"))
    assert top["C1"] == money("1500.00")
    one = team_lines(plan_text("rollup").replace("rolled up 2 levels", "rolled up 1 level"))
    assert (one["M1"], one["M2"], one["V1"], one["C1"]) == (money("1000.00"), money("500.00"), money("0.00"), money("0.00"))


def test_a_rollup_credit_names_its_level_and_the_recipient_it_comes_from() -> None:
    per_credit = plan_text("rollup").replace("  on team_total\n", "  per credit of team_bookings\n")
    result = calculated(per_credit, rollup_data(), "2026-Q1")
    assert [c.role for c in result.statement("V1").lines[0].credits] == ["rollup 2 via R1 (owner)"] * 2
    assert [c.role for c in result.statement("M2").lines[0].credits] == ["rollup 1 via R1 (owner)"]


# ------------------------------------------------------------------ earnings of reports
def team_data() -> Dataset:
    data = dataset(
        [payee(p) for p in ("R1", "R2", "R3", "M1", "M2", "V1")],
        [
            deal("D1", "R1", 100_000, "2026-01-15"),
            deal("D2", "R2", 60_000, "2026-02-15"),
            deal("D3", "R3", 40_000, "2026-03-01"),
            deal("D4", "M1", 20_000, "2026-03-20"),
        ],
    )
    return with_lines(
        data,
        ("R1", "M1", "2026-01-01", None),
        ("R2", "M1", "2026-01-01", None),
        ("R3", "M1", "2026-01-01", "2026-03-15"),
        ("R3", "M2", "2026-03-15", None),
        ("M1", "V1", "2026-01-01", None),
        ("M2", "V1", "2026-01-01", None),
    )


def test_overrides_on_the_earnings_of_reports() -> None:
    result = calculated(plan_text("earnings-of-reports"), team_data(), "2026-Q1")
    zero = money("0.00")
    assert totals_by_line(result) == {
        "M1": {"commission": money("1000.00"), "override": money("800.00"), "org_bonus": money("160.00")},
        # R3 is M2's on 2026-03-31, so R3's 2,000 counts for M2, not M1
        "M2": {"commission": zero, "override": money("200.00"), "org_bonus": money("40.00")},
        "R1": {"commission": money("5000.00"), "override": zero, "org_bonus": zero},
        "R2": {"commission": money("3000.00"), "override": zero, "org_bonus": zero},
        "R3": {"commission": money("2000.00"), "override": zero, "org_bonus": zero},
        # direct: M1 1,000 + M2 0; all: 1,000 + 0 + 5,000 + 3,000 + 2,000 = 11,000
        "V1": {"commission": zero, "override": money("100.00"), "org_bonus": money("220.00")},
    }
    [record] = [r for r in result.statement("V1").lines[2].inputs if r.kind == "earnings"]
    assert [(payee_id, component, amount) for payee_id, _, component, amount in record.detail["lines"]] == [
        ("M1", "commission", money("1000.00")),
        ("M2", "commission", money("0.00")),
        ("R1", "commission", money("5000.00")),
        ("R2", "commission", money("3000.00")),
        ("R3", "commission", money("2000.00")),
    ]


def test_the_reports_are_calculated_first_whatever_payees_are_asked_for() -> None:
    result = calculated(plan_text("earnings-of-reports"), team_data(), "2026-Q1", payees=["V1"])
    assert [s.payee_id for s in result.statements] == ["V1"]
    assert line_amounts(result, "V1") == {"commission": money("0.00"), "override": money("100.00"), "org_bonus": money("220.00")}


# ------------------------------------------------------------------ inputs
def input_data() -> Dataset:
    values = (
        InputValue("P1", "mbo_score", "2026-Q1", "80%", RowRef("inputs.csv", 2)),
        InputValue("P1", "spot_award", "2026-Q1", "1,500", RowRef("inputs.csv", 3)),
        InputValue("P2", "spot_award", "2026-Q1", "0", RowRef("inputs.csv", 4)),
    )
    return dataclasses.replace(dataset([payee("P1"), payee("P2")]), inputs=values)


def test_inputs_supplied_per_payee_and_period() -> None:
    result = calculated(plan_text("inputs"), input_data(), "2026-Q1")
    # 25,000 × 20% × 80%; P2 has no mbo_score row: the default 0%
    assert totals_by_line(result) == {
        "P1": {"mbo_bonus": money("4000.00"), "spot": money("1500.00")},
        "P2": {"mbo_bonus": money("0.00"), "spot": money("0.00")},
    }
    [record] = [r for r in result.statement("P1").lines[0].inputs if r.kind == "input"]
    assert record.detail["source"] == "inputs.csv row 2"


def test_an_input_without_a_row_or_a_default_stops_the_calculation() -> None:
    with pytest.raises(EvaluationError, match="payee P1 has no 'spot_award' input for 2026-Q2"):
        calculated(plan_text("inputs"), input_data(), "2026-Q2")


def test_an_input_value_of_the_wrong_type_stops_the_calculation() -> None:
    data = dataclasses.replace(input_data(), inputs=(InputValue("P1", "mbo_score", "2026-Q1", "0.8", RowRef("inputs.csv", 2)),))
    text = plan_text("inputs").replace("input spot_award: money", "input spot_award: money, default 0 USD")
    with pytest.raises(EvaluationError, match=re.escape("inputs.csv row 2, field value: '0.8' is not a percentage")):
        calculated(text, data, "2026-Q1")


# ------------------------------------------------------------------ labelled rules
RULE_DEALS = [
    deal("D1", "P1", 100_000, "2026-01-10"),
    deal("D2", "P1", 100_000, "2026-01-20", strategic="true"),
    deal("D3", "P1", 100_000, "2026-02-10", partner_led="true"),
    deal("D4", "P1", 100_000, "2026-03-10", strategic="true", partner_led="true"),
]


def test_labelled_rules_with_exceptions() -> None:
    plan = compile_text(plan_text("labelled-rules"), "plan.comp")
    result = calculated(plan, dataset([payee("P1")], RULE_DEALS), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": money("22000.00")}
    assert payouts(result, "P1", "commission") == [
        ("D1", money("5000")),
        ("D2", money("8000")),
        ("D3", money("3000")),
        ("D4", money("6000")),
    ]
    d4 = result.statement("P1").lines[0].credits[3]
    [record] = [r for r in d4.inputs if r.kind == "rule"]
    assert record.detail["rule"] == "strategic_partner"
    assert [(name, applies, overridden) for name, _, applies, overridden in record.detail["considered"]] == [
        ("standard", True, True),
        ("strategic", True, True),
        ("partner", True, True),
        ("strategic_partner", True, False),
    ]


def test_two_rules_that_both_apply_without_precedence_stop_the_calculation() -> None:
    text = plan_text("labelled-rules")
    without = text[: text.index("rule strategic_partner")] + text[text.index("credit bookings") :]
    assert diagnostics(without) == []  # the conditions differ: only the data can tell
    message = (
        "rules `strategic` (plan.comp:13:1) and `partner` (plan.comp:15:1) both set commission_rate (deal D4, payee P1), "
        "and neither is an exception to the other"
    )
    with pytest.raises(EvaluationError, match=re.escape(message)):
        calculated(compile_text(without, "plan.comp"), dataset([payee("P1")], RULE_DEALS), "2026-Q1")
    # D1 to D3 alone are fine
    result = calculated(compile_text(without, "plan.comp"), dataset([payee("P1")], RULE_DEALS[:3]), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": money("16000.00")}


def test_rules_that_certainly_both_apply_are_e061() -> None:
    text = plan_text("labelled-rules")
    without = text[: text.index("rule strategic_partner")] + text[text.index("credit bookings") :]
    no_condition = without.replace("8% when deal.strategic\n", "8%\n")
    same_condition = without.replace("3% when deal.partner_led\n", "3% when deal.strategic\n")
    assert [p.code for p in diagnostics(no_condition) if p.code.startswith("E")] == ["E061"]
    assert [p.code for p in diagnostics(same_condition) if p.code.startswith("E")] == ["E061"]


# ------------------------------------------------------------------ mid-period changes and proration
def proration_data() -> Dataset:
    people = [
        dataclasses.replace(payee("H1"), hire_date=d("2026-02-15")),
        dataclasses.replace(payee("T1"), termination_date=d("2026-05-20")),
        payee("C1"),
    ]
    deals = [
        deal("X1", "H1", 10_000, "2026-02-01"),
        deal("X2", "H1", 60_000, "2026-03-01"),
        deal("X3", "T1", 60_000, "2026-05-10"),
        deal("X4", "T1", 20_000, "2026-06-10"),
        deal("X5", "C1", 120_000, "2026-03-20"),
    ]
    plan = "prorated_ae"
    assignments = (
        Assignment("H1", plan, d("2026-01-01"), None, money("100000"), "USD", RowRef("assignments.csv", 2)),
        Assignment("T1", plan, d("2026-01-01"), None, money("100000"), "USD", RowRef("assignments.csv", 3)),
        Assignment("C1", plan, d("2026-01-01"), d("2026-02-01"), money("80000"), "USD", RowRef("assignments.csv", 4)),
        Assignment("C1", plan, d("2026-02-01"), None, money("120000"), "USD", RowRef("assignments.csv", 5)),
    )
    quotas = (
        *(QuotaFigure(p, "bookings", "FY2026", money("400000"), "USD") for p in ("H1", "T1", "C1")),
        QuotaFigure("C1", "bookings", "FY2026", money("480000"), "USD", None, d("2026-02-15")),  # from 2026-02-15
    )
    return dataclasses.replace(dataset(people, deals, plan=plan), assignments=assignments, quotas=quotas)


def prorated(text: str, period: str, payee_id: str) -> dict[str, Decimal]:
    return line_amounts(calculated(text, proration_data(), period), payee_id)


def test_a_hire_mid_quarter_prorates_the_target_and_the_quota_and_drops_earlier_credits() -> None:
    # 45 of 90 days: target 12,500 (draw 5,000); quota 50,000; X1 (before the hire) left out;
    # X2 60,000: 50,000 × 5% + 10,000 × 10%
    assert prorated(plan_text("proration"), "2026-Q1", "H1") == {"draw": money("5000.00"), "commission": money("3500.00")}
    result = calculated(plan_text("proration"), proration_data(), "2026-Q1")
    assert result.statement("H1").coverage == "on the plan 45 of 90 days of 2026-Q1 (2026-02-15 to 2026-03-31)"
    assert [c.deal_id for c in result.statement("H1").lines[1].credits] == ["X2"]


def test_a_termination_date_is_the_last_day_worked() -> None:
    # 2026-04-01 to 2026-05-20: 50 of 91 days. Draw 40% × 25,000 × 50/91; quota 54,945.05…;
    # X3 60,000: 54,945.05… × 5% + 5,054.94… × 10% = 3,252.747…; X4 (after the last day) left out
    assert prorated(plan_text("proration"), "2026-Q2", "T1") == {"draw": money("5494.51"), "commission": money("3252.75")}


def test_assignment_and_quota_changes_split_by_days() -> None:
    # target (20,000 × 31 + 30,000 × 59) / 90 = 26,555.55…; quota (100,000 × 45 + 120,000 × 45) / 90
    assert prorated(plan_text("proration"), "2026-Q1", "C1") == {"draw": money("10622.22"), "commission": money("6500.00")}


def test_changes_within_a_period_use_the_period_end() -> None:
    text = plan_text("proration").replace("are split", "use the period end")
    assert text != plan_text("proration")
    assert prorated(text, "2026-Q1", "C1") == {"draw": money("12000.00"), "commission": money("6000.00")}
    assert prorated(text, "2026-Q1", "H1") == {"draw": money("5000.00"), "commission": money("3500.00")}
    assert prorated(text, "2026-Q2", "T1") == {"draw": money("5494.51"), "commission": money("3252.75")}


def test_proration_by_weekdays() -> None:
    text = plan_text("proration").replace("by calendar days", "by weekdays")
    assert text != plan_text("proration")
    # Q1: 64 weekdays, 22 in January: (20,000 × 22 + 30,000 × 42) / 64 = 26,562.50
    assert prorated(text, "2026-Q1", "C1")["draw"] == money("10625.00")
    # T1: 36 of Q2's 65 weekdays
    assert prorated(text, "2026-Q2", "T1")["draw"] == money("5538.46")
    # H1: from Sunday 2026-02-15, 32 of 64 weekdays: the same half as by calendar days
    assert prorated(text, "2026-Q1", "H1")["draw"] == money("5000.00")


def test_no_silent_default_for_partial_periods_or_changes() -> None:
    no_clauses = plan_text("proration").replace("  proration by calendar days\n  assignment changes within a period are split\n", "")
    assert no_clauses != plan_text("proration")
    only = {
        p: dataclasses.replace(proration_data(), assignments=tuple(a for a in proration_data().assignments if a.payee_id == p))
        for p in ("H1", "T1", "C1")
    }
    with pytest.raises(EvaluationError, match=re.escape("payee H1 is on plan prorated_ae for only part of 2026-Q1 (hired 2026-02-15)")):
        calculated(no_clauses, only["H1"], "2026-Q1")
    with pytest.raises(EvaluationError, match=re.escape("for only part of 2026-Q2 (last day 2026-05-20)")):
        calculated(no_clauses, only["T1"], "2026-Q2")
    with pytest.raises(EvaluationError, match="payee C1 has 2 assignments to plan prorated_ae during 2026-Q1"):
        calculated(no_clauses, only["C1"], "2026-Q1")
    assert [p.code for p in diagnostics(plan_text("proration").replace("  proration by calendar days\n", ""))] == ["E011"]


def test_measures_leave_out_credits_dated_off_the_plan() -> None:
    # the same plan, paid on a measure: H1's X1 (before the hire) and T1's X4 (after the last day) do not count
    text = plan_text("proration").replace(
        'component draw "Guaranteed draw"', 'measure period_bookings = sum of bookings\n\ncomponent draw "Guaranteed draw"'
    )
    text = text.replace("  pays 40% × target incentive for the period\n", "  pays 5% × period_bookings\n")
    assert text.count("period_bookings") == 2
    assert prorated(text, "2026-Q1", "H1")["draw"] == money("3000.00")  # 5% × 60,000
    assert prorated(text, "2026-Q2", "T1")["draw"] == money("3000.00")  # 5% × 60,000


def test_a_credit_dated_before_the_hire_counts_in_no_window_of_the_plan() -> None:
    # X1 (before H1's hire) is in neither Q1's year to date nor Q2's
    text = plan_text("proration").replace(
        'component draw "Guaranteed draw"',
        'measure ytd_bookings = sum of bookings for the year to date\n\ncomponent draw "Guaranteed draw"',
    )
    text = text.replace("  pays 40% × target incentive for the period\n", "  pays 1% × ytd_bookings\n")
    assert prorated(text, "2026-Q1", "H1")["draw"] == money("600.00")  # 1% × 60,000
    assert prorated(text, "2026-Q2", "H1")["draw"] == money("600.00")  # 1% × 60,000: X1 still left out


def test_a_quota_change_inside_a_period_needs_a_convention() -> None:
    no_clauses = plan_text("proration").replace("  proration by calendar days\n  assignment changes within a period are split\n", "")
    data = proration_data()
    data = dataclasses.replace(data, assignments=(Assignment("C1", "prorated_ae", d("2026-01-01"), None, money("100000"), "USD"),))
    message = "payee C1's 'bookings' quota changes inside 2026-Q1, and the plan declares no convention for changes within a period"
    with pytest.raises(EvaluationError, match=re.escape(message)):
        calculated(no_clauses, data, "2026-Q1")


# ------------------------------------------------------------------ revisions
def test_a_revision_applies_to_credits_dated_from_its_date() -> None:
    source = source_of("revision")
    assert [(v.version, v.in_force.start, v.in_force.end) for v in source.versions] == [
        (1, d("2026-01-01"), d("2026-02-15")),
        (2, d("2026-02-15"), d("2027-01-01")),
    ]
    data = dataset([payee("P1")], [deal("D1", "P1", 100_000, "2026-01-20"), deal("D2", "P1", 100_000, "2026-03-01")])
    result = calculated(source.versions, data, "2026-Q1")
    statement = result.statement("P1")
    assert statement.plan.version == 2
    assert result.to_json()["statements"][0]["plan_version"] == 2
    assert line_amounts(result, "P1") == {"commission": money("11000.00")}
    assert [(c.deal_id, c.payout, c.version) for c in statement.lines[0].credits] == [
        ("D1", money("5000"), 1),  # paid under version 1, in force on its credit date
        ("D2", money("6000"), None),  # the statement's own version
    ]
    assert "paid under plan version 1, in force on the credit date" in explain_line(build_line_trace(statement, statement.lines[0]))


@pytest.mark.parametrize(
    "marker", ["revision 1 effective 2026-02-15", "revision 2 effective 2026-01-01", "revision 2 effective 2027-01-01"]
)
def test_revisions_out_of_order_are_e016(marker: str) -> None:
    text = plan_text("revision").replace("revision 2 effective 2026-02-15", marker)
    assert [p.code for p in diagnostics(text)] == ["E016"]


# ------------------------------------------------------------------ currency conversion
def fx_data() -> Dataset:
    rates = (
        ExchangeRate("EUR", "USD", "corporate", d("2026-01-01"), money("1.08")),
        ExchangeRate("EUR", "USD", "corporate", d("2026-03-01"), money("1.10")),
        ExchangeRate("EUR", "USD", "budget", d("2026-01-01"), money("1.05")),
    )
    deals = [
        deal("D1", "P1", 50_000, "2026-02-10", currency="EUR"),
        deal("D2", "P1", 20_000, "2026-02-20"),
        deal("D3", "P1", "1000.05", "2026-03-05", currency="EUR"),
    ]
    return dataclasses.replace(dataset([payee("P1")], deals, plan="global_ae"), exchange_rates=rates)


def credited_amounts(result: CalculationResult) -> dict[str, Decimal]:
    return {c.deal_id: c.credited for c in result.statement("P1").lines[0].credits}


def test_currency_conversion_on_the_credit_date_rounded_per_conversion() -> None:
    result = calculated(plan_text("currency-conversion"), fx_data(), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": money("3755.00")}
    # D3: 1,000.05 × 1.10 = 1,100.055, rounded half up to 1,100.06
    assert credited_amounts(result) == {"D1": money("54000.00"), "D2": money("20000"), "D3": money("1100.06")}
    d1 = result.statement("P1").lines[0].credits[0]
    assert d1.fx == ("EUR", "USD", "corporate", "2026-02-10", money("1.08"))


def test_currency_conversion_at_the_period_end() -> None:
    text = plan_text("currency-conversion").replace("on the credit date", "at the period end")
    result = calculated(text, fx_data(), "2026-Q1")
    assert line_amounts(result, "P1") == {"commission": money("3805.00")}
    assert credited_amounts(result)["D1"] == money("55000.00")
    assert {c.fx[3] for c in result.statement("P1").lines[0].credits if c.fx} == {"2026-03-31"}


def test_currency_conversion_unrounded_and_by_another_rate_type() -> None:
    unrounded = calculated(plan_text("currency-conversion").replace("rounded half up to 2 places\n", "unrounded\n"), fx_data(), "2026-Q1")
    assert credited_amounts(unrounded)["D3"] == money("1100.055")
    assert line_amounts(unrounded, "P1") == {"commission": money("3755.00")}
    budget = calculated(plan_text("currency-conversion").replace('"corporate"', '"budget"'), fx_data(), "2026-Q1")
    assert line_amounts(budget, "P1") == {"commission": money("3677.50")}
    assert credited_amounts(budget) == {"D1": money("52500.00"), "D2": money("20000"), "D3": money("1050.05")}


def test_only_direct_rates_are_used() -> None:
    inverse = dataclasses.replace(fx_data(), exchange_rates=(ExchangeRate("USD", "EUR", "corporate", d("2026-01-01"), money("0.9")),))
    message = "there is no 'corporate' EUR→USD exchange rate in effect on 2026-02-10 (deal D1)"
    with pytest.raises(EvaluationError, match=re.escape(message)):
        calculated(plan_text("currency-conversion"), inverse, "2026-Q1")


def test_without_a_convert_clause_a_deal_in_another_currency_stops_the_calculation() -> None:
    text = plan_text("currency-conversion").replace(
        '  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places\n', ""
    )
    with pytest.raises(EvaluationError, match=r"deal D1 .* is in EUR but plan global_ae calculates in USD"):
        calculated(text, fx_data(), "2026-Q1")


def test_without_a_convert_clause_a_where_filter_can_leave_foreign_deals_out() -> None:
    text = plan_text("currency-conversion").replace(
        '  convert other currencies at "corporate" rates on the credit date, rounded half up to 2 places\n', ""
    )
    text = text.replace("  to owner\n", '  where deal.currency == "USD"\n  to owner\n')
    assert line_amounts(calculated(text, fx_data(), "2026-Q1"), "P1") == {"commission": money("1000.00")}


# ------------------------------------------------------------------ libraries
LIBRARY_DEALS = [
    deal("D1", "P1", 100_000, "2026-02-01", region="EMEA"),
    deal("D2", "P1", 100_000, "2026-08-01", region="AMER"),
    deal("D3", "P1", 100_000, "2026-03-01"),
]


def test_a_plan_using_a_library() -> None:
    source = source_of("library-plan", LIBRARY_PLAN_PATH)
    plan = source.plan
    assert plan is not None
    # the name asked for and everything it depends on; not unused_rate
    assert sorted(plan.definitions) == ["base_rate", "commission_rate", "region_uplift"]
    assert sorted(plan.attributes) == ["deal.region"]
    data = dataset([payee("P1")], LIBRARY_DEALS, plan="enterprise_ae")
    # Q1: D1 5% + 1% (EMEA); D3 5% (empty region: AMER). Q3: D2 at July's 6%
    assert line_amounts(calculated(plan, data, "2026-Q1"), "P1") == {"commission": money("11000.00")}
    assert line_amounts(calculated(plan, data, "2026-Q3"), "P1") == {"commission": money("6000.00")}
    statement = calculated(plan, data, "2026-Q1").statement("P1")
    files = {record.span.file for credit in statement.lines[0].credits for record in credit.inputs if record.span is not None}
    assert LIBRARY_PATH in files  # traces point at the library's own file


def test_the_content_hash_covers_the_libraries() -> None:
    plan_text_ = plan_text("library-plan")
    library = plan_text("library-rates")

    def hash_with(library_text: str) -> str:
        source = compile_source(LIBRARY_PLAN_PATH, plan_text_, read=lambda _: library_text)
        assert source.plan is not None
        return source.plan.source_sha256

    original = hash_with(library)
    expected = hashlib.sha256(plan_text_.encode("utf-8"))
    expected.update(b"\0" + b"../shared/rates.comp" + b"\0" + library.encode("utf-8"))
    assert original == expected.hexdigest()
    assert original != hashlib.sha256(plan_text_.encode("utf-8")).hexdigest()
    # even a change to a definition the plan does not use changes it
    assert hash_with(library.replace("unused_rate = 3%", "unused_rate = 4%")) != original


def test_what_a_library_cannot_hold_is_e017() -> None:
    library = plan_text("library-rates") + '\nquota q = "bookings" per period\n'
    assert "E017" in [p.code for p in compile_source(LIBRARY_PATH, library).diagnostics]
    not_a_library = compile_source(LIBRARY_PLAN_PATH, plan_text("library-plan"), read=lambda _: plan_text("proration"))
    assert "E017" in [p.code for p in not_a_library.diagnostics]


# ------------------------------------------------------------------ compengine doc
def test_the_plan_document_carries_the_hash_the_engine_records(tmp_path: Path) -> None:
    from compengine.report.plandoc import document_plan, render_markdown

    (tmp_path / "plans").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / LIBRARY_PATH).write_text(plan_text("library-rates"), encoding="utf-8")
    plan_path = tmp_path / LIBRARY_PLAN_PATH
    plan_path.write_text(plan_text("library-plan"), encoding="utf-8")
    outcome = document_plan(str(plan_path))
    assert outcome.document is not None
    compiled = compile_source(str(plan_path), plan_text("library-plan"))
    assert compiled.plan is not None
    assert outcome.document.source_sha256 == compiled.plan.source_sha256
    assert compiled.plan.source_sha256 in render_markdown(outcome.document)


# ------------------------------------------------------------------ pay policies and the ledger
def pay_plan(name: str, replace: tuple[str, str] | None = None) -> CompiledPlan:
    text = plan_text(name)
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return compile_text(text, f"{name}.comp")


def test_payment_when_the_invoice_is_paid() -> None:
    plan = pay_plan("payment-on-invoice")
    deals = [
        with_facts(deal("D1", "P1", 50_000, "2026-02-10"), invoice_paid="2026-03-20"),
        with_facts(deal("D2", "P1", 30_000, "2026-03-05"), invoice_paid="2026-04-25"),
    ]
    closes = close(plan, payee("P1"), ["2026-Q1", "2026-Q2"], deals)
    assert closes.kinds("2026-Q1", "earning") == [money("8000.00")]
    assert closes.kinds("2026-Q1", "deferral", "deferred") == [money("3000.00")]
    assert closes.paid("2026-Q1") == money("5000.00")
    assert closes.balance("deferred", upto="2026-Q1") == money("3000.00")
    assert closes.kinds("2026-Q2", "deferral_release") == [money("3000.00")]
    assert closes.paid("2026-Q2") == money("3000.00")
    assert closes.balance("deferred") == 0


DRAW_DEALS = [
    deal("D1", "P1", 20_000, "2026-02-01"),
    deal("D2", "P1", 10_000, "2026-05-01"),
    deal("D3", "P1", 80_000, "2026-08-01"),
    deal("D4", "P1", 60_000, "2026-11-01"),
]


def test_a_recoverable_draw_is_advanced_then_recovered_within_its_caps() -> None:
    closes = close(pay_plan("recoverable-draw"), payee("P1"), QUARTERS, DRAW_DEALS)
    # Q1: 2,000 earned, topped up 3,000; Q2: 4,000 short but at most 6,000 outstanding
    assert [closes.kinds(q, "draw") for q in QUARTERS[:2]] == [[money("3000.00")], [money("3000.00")]]
    # Q3, Q4: at most 50% of the period's earnings, and no more than is outstanding
    assert [closes.kinds(q, "draw_recovery") for q in QUARTERS[2:]] == [[money("-4000.00")], [money("-2000.00")]]
    assert [closes.paid(q) for q in QUARTERS] == [money("5000.00"), money("4000.00"), money("4000.00"), money("4000.00")]
    assert [closes.balance("draw:ramp", upto=q) for q in QUARTERS] == [money(-3000), money(-6000), money(-2000), 0]


@pytest.mark.parametrize(("outcome", "forgiven", "receivable"), [("forgiven", "2000.00", "0"), ("owed", "0", "-2000.00")])
def test_a_draw_balance_at_termination_is_forgiven_or_owed(outcome: str, forgiven: str, receivable: str) -> None:
    plan = pay_plan("recoverable-draw", ("at termination forgiven", f"at termination {outcome}"))
    leaver = dataclasses.replace(payee("P1"), termination_date=d("2026-08-15"))
    lines = {q: statement_lines(plan, payee("P1"), DRAW_DEALS, q) for q in QUARTERS[:3]}
    closes = close(plan, leaver, QUARTERS[:3], DRAW_DEALS, lines=lines)
    assert closes.kinds("2026-Q3", "draw_recovery") == [money("-4000.00")]
    assert sum(closes.kinds("2026-Q3", "forgiven", "draw:ramp"), Decimal(0)) == money(forgiven)
    assert closes.balance("draw:ramp") == 0
    assert closes.balance("receivable") == money(receivable)


def test_a_guarantee_tops_up_the_first_two_periods_and_is_never_recovered() -> None:
    plan = pay_plan("guarantee")
    hired = dataclasses.replace(payee("H1"), hire_date=d("2026-02-15"))
    earned = {"2026-Q1": "1500.00", "2026-Q2": "7000.00", "2026-Q3": "2000.00"}
    lines = {q: [paid_line(plan, q, "commission", amount)] for q, amount in earned.items()}
    closes = close(plan, hired, earned, lines=lines)
    assert [closes.kinds(q, "guarantee") for q in earned] == [[money("4500.00")], [], []]
    assert [closes.paid(q) for q in earned] == [money("6000.00"), money("7000.00"), money("2000.00")]
    assert all(e.kind not in ("draw", "draw_recovery") for e in closes.ledger)


HOLDBACK_DEALS = [
    deal("D1", "P1", 100_000, "2026-02-01"),
    deal("D2", "P1", 50_000, "2026-05-01"),
    deal("D3", "P1", "12345.70", "2026-08-01"),
    deal("D4", "P1", 30_000, "2026-11-01"),
]


def test_a_holdback_is_held_each_quarter_and_released_at_the_fiscal_year_end() -> None:
    closes = close(pay_plan("holdback"), payee("P1"), QUARTERS, HOLDBACK_DEALS)
    # 20% of the commission only; Q3: 20% × 1,234.57 = 246.914 → 246.91
    assert [closes.kinds(q, "holdback") for q in QUARTERS] == [[money(-2000)], [money(-1000)], [money("-246.91")], [money(-600)]]
    assert [closes.paid(q) for q in QUARTERS] == [money("8500.00"), money("4500.00"), money("1487.66"), money("6746.91")]
    assert closes.balance("held:year_end", upto="2026-Q3") == money("3246.91")
    assert sorted(closes.kinds("2026-Q4", "release")) == [money("246.91"), money(600), money(1000), money(2000)]
    assert closes.balance("held:year_end") == 0


def test_a_holdback_released_on_a_date() -> None:
    plan = pay_plan("holdback", ("released at the fiscal year end", "released on 2026-07-15"))
    closes = close(plan, payee("P1"), QUARTERS, HOLDBACK_DEALS)
    assert [closes.paid(q) for q in QUARTERS] == [money("8500.00"), money("4500.00"), money("4734.57"), money("3500.00")]


def test_a_holdback_released_after_90_days() -> None:
    plan = pay_plan("holdback", ("released at the fiscal year end", "released after 90 days"))
    closes = close(plan, payee("P1"), QUARTERS[:2], HOLDBACK_DEALS)
    assert closes.paid("2026-Q2") == money("6500.00")  # Q1's 2,000 is due on 2026-06-29


CLAWBACK_DEALS = [
    with_facts(deal("D1", "P1", 60_000, "2026-02-01"), cancelled="2026-04-02"),
    deal("D2", "P1", 30_000, "2026-05-01"),
    deal("D3", "P1", 20_000, "2026-08-01"),
]


def test_a_clawback_pro_rata_by_time_is_carried_as_a_receivable_and_recovered() -> None:
    closes = close(pay_plan("clawback"), payee("P1"), QUARTERS[:3], CLAWBACK_DEALS)
    [earning] = [e for e in closes.posted["2026-Q1"] if e.kind == "earning"]
    [clawback] = [e for e in closes.posted["2026-Q2"] if e.kind == "clawback"]
    assert clawback.amount == money("-4000.00")  # 6,000 × (180 − 60) / 180
    assert (clawback.reverses, clawback.deal_id, clawback.line_id) == (earning.movement, "D1", earning.line_id)
    assert closes.kinds("2026-Q2", "receivable", "receivable") == [money("-1000.00")]
    assert closes.kinds("2026-Q3", "recovery", "receivable") == [money("1000.00")]
    assert [closes.paid(q) for q in QUARTERS[:3]] == [money("6000.00"), 0, money("1000.00")]
    assert closes.balance("receivable") == 0


def test_a_clawback_in_full() -> None:
    closes = close(pay_plan("clawback", ("pro rata by time", "fully")), payee("P1"), QUARTERS[:3], CLAWBACK_DEALS)
    assert closes.kinds("2026-Q2", "clawback") == [money("-6000.00")]
    assert [closes.paid(q) for q in QUARTERS[:3]] == [money("6000.00"), 0, 0]
    assert closes.balance("receivable") == money("-1000.00")


def test_a_clawback_at_the_rate_originally_paid_follows_the_refund() -> None:
    refunded = [with_facts(CLAWBACK_DEALS[0], cancelled="2026-04-02", refunded="15000"), *CLAWBACK_DEALS[1:]]
    plan = pay_plan("clawback", ("pro rata by time", "at the rate originally paid"))
    closes = close(plan, payee("P1"), QUARTERS[:2], refunded)
    assert closes.kinds("2026-Q2", "clawback") == [money("-1500.00")]  # 6,000 × 15,000 / 60,000
    assert closes.paid("2026-Q2") == money("1500.00")


def test_a_deal_cancelled_after_the_window_is_not_clawed_back() -> None:
    late = [with_facts(CLAWBACK_DEALS[0], cancelled="2026-09-15"), *CLAWBACK_DEALS[1:]]  # 226 days after closing
    closes = close(pay_plan("clawback"), payee("P1"), QUARTERS[:3], late)
    assert all(e.kind != "clawback" for e in closes.ledger)
    assert [closes.paid(q) for q in QUARTERS[:3]] == [money("6000.00"), money("3000.00"), money("2000.00")]
