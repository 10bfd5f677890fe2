"""The worked examples of docs/language.md, run as written.

Each example's plan text is read from the document: a fenced ```comp block preceded by an
HTML comment `<!-- example: NAME -->`.  The data and the amounts the document states live
here.  An example without a header gets the document's common header, which must be the
test suite's HEADER; so the document, the plans and the engine cannot drift apart.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from compengine.core.calculation import CalculationResult
from compengine.core.data import Dataset, Deal
from compengine.core.trace import build_line_trace, verify
from tests.support import HEADER, REPO, calc, compile_text, dataset, deal, line_amounts, payee

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
}


def plan_text(name: str) -> str:
    """The plan of one example: its own text if it has a header, else the common header + it."""
    assert name in COVERED, f"add {name!r} to COVERED"
    text = EXAMPLES[name]
    return text if text.startswith("plan ") else HEADER + "\n" + text


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
    for name, text in EXAMPLES.items():
        if name != "header":
            compile_text(text if text.startswith("plan ") else HEADER + "\n" + text, f"{name}.comp")


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
