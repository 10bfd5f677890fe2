"""`compengine doc`: the plan document a payee signs is generated from the plan source.

The expectations here are read from the plan files and their test files themselves (with
regular expressions over the text, not through the document module), so a document that
leaves out a band, a cap or an example fails whatever the plan says.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compengine.cli import app
from compengine.core.money import group_digits
from compengine.lang.loader import compile_source
from compengine.lang.parser import parse_plan
from compengine.plantest import TEST_SUFFIX, load_cases
from compengine.report.plandoc import PlanDocument, build_document, document_plan, document_source, render_html, render_markdown
from tests.support import HEADER, OWNER_BOOKINGS, PLANS_DIR

runner = CliRunner()
PLANS = sorted(PLANS_DIR.glob("*.comp"))
PLAN_IDS = [p.stem for p in PLANS]

BAND_BELOW = re.compile(r"^\s+below (?P<upper>[^:]+): (?P<rate>\S+)\s*$")
BAND_BETWEEN = re.compile(r"^\s+(?P<lower>[^:]+?) to (?P<upper>[^:]+): (?P<rate>\S+)\s*$")
BAND_ABOVE = re.compile(r"^\s+(?P<lower>[^:]+?) and above: (?P<rate>\S+)\s*$")
LIMIT = re.compile(r"^\s+(?P<kind>cap|floor) (?P<amount>.+) per (?P<scope>deal|period|year)\s*$")
GATE = re.compile(r"^\s+gate (?P<condition>.+)$")
MONEY_LITERAL = re.compile(r"^[\d,]+(\.\d+)? [A-Z]{3}$")


def plan_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def markdown_of(path: Path) -> str:
    outcome = document_plan(str(path))
    assert outcome.document is not None, outcome.diagnostics
    return render_markdown(outcome.document)


def header_value(text: str, pattern: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    assert match, pattern
    return match.group(1)


def day_before(iso: str) -> str:
    return (date.fromisoformat(iso) - timedelta(days=1)).isoformat()


def sections(markdown: str, level: int) -> dict[str, str]:
    """Markdown sections of one heading level, by heading text."""
    marker = "#" * level + " "
    found: dict[str, str] = {}
    current: str | None = None
    for line in markdown.splitlines():
        if line.startswith(marker):
            current = line[len(marker) :]
            found[current] = ""
        elif line.startswith("#" * (level - 1) + " ") and not line.startswith(marker):
            current = None
        elif current is not None:
            found[current] += line + "\n"
    return found


# ------------------------------------------------------------------ every plan in plans/


@pytest.mark.parametrize("path", PLANS, ids=PLAN_IDS)
def test_the_document_states_title_version_effective_dates_currency_and_rounding(path: Path) -> None:
    text = plan_text(path)
    markdown = markdown_of(path)
    title = header_value(text, r'^plan \w+ "([^"]+)"')
    effective = re.search(r"^\s+effective (\S+) until (\S+)", text, re.MULTILINE)
    assert effective
    start, until = effective.groups()
    version = header_value(text, r"^\s+version (\d+)")
    currency = header_value(text, r"^\s+currency (\w+)")
    calculated = header_value(text, r"^\s+calculated (\w+)")
    places = header_value(text, r"^\s+rounding half \w+ to (\d+) places")
    assert markdown.startswith(f"# {title}\n")
    assert f"- **Plan:** `{path.stem}`" in markdown
    assert f"- **Version:** {version}\n" in markdown
    assert f"from {start} through {day_before(until)} (the plan no longer applies from {until})" in markdown
    assert f"every amount in this plan is in {currency}" in markdown
    assert f"{calculated}: you receive a statement for each" in markdown
    assert f"amounts are rounded to {places} decimal places" in markdown


@pytest.mark.parametrize("path", PLANS, ids=PLAN_IDS)
def test_every_component_has_a_section_with_its_description_and_reference(path: Path) -> None:
    text = plan_text(path)
    markdown = markdown_of(path)
    components = re.findall(r'^component (\w+) "([^"]+)"', text, re.MULTILINE)
    assert components
    headings = list(sections(markdown, 3))
    for number, (name, description) in enumerate(components, start=1):
        assert f"{number}. {description}" in headings
        assert f"- **Statement line:** `{name}`" in markdown
    for cites in re.findall(r'^\s+cites "([^"]+)"', text, re.MULTILINE):
        assert f"- **Plan reference:** {cites}" in markdown


@pytest.mark.parametrize("path", PLANS, ids=PLAN_IDS)
def test_every_tier_band_is_a_table_row_with_its_rate(path: Path) -> None:
    markdown = markdown_of(path)
    rows = []
    for line in plan_text(path).splitlines():
        if match := BAND_BELOW.match(line):
            rows.append((f"below {match['upper']}", match["rate"]))
        elif match := BAND_BETWEEN.match(line):
            rows.append((f"{match['lower']} up to {match['upper']}", match["rate"]))
        elif match := BAND_ABOVE.match(line):
            rows.append((f"{match['lower']} and above", match["rate"]))
    bands = [line for line in markdown.splitlines() if re.match(r"^\| \d+ \| ", line)]
    assert len(bands) == len(rows)
    for number, (band, rate) in enumerate(rows, start=1):
        assert f"| {number} | {band} | {rate} |" in markdown
    if rows:
        assert "The bands are measured as attainment" in markdown or "The bands are amounts" in markdown


@pytest.mark.parametrize("path", PLANS, ids=PLAN_IDS)
def test_every_cap_floor_and_gate_is_stated(path: Path) -> None:
    markdown = markdown_of(path)
    lines = markdown.splitlines()
    scopes = {"deal": "deal", "period": "quarter", "year": "fiscal year"}
    limits = [m for line in plan_text(path).splitlines() if (m := LIMIT.match(line))]
    for limit in limits:
        label = f"- {limit['kind'].capitalize()} per {scopes[limit['scope']]}: "
        stated = [line for line in lines if line.startswith(label)]
        assert stated, label
        if MONEY_LITERAL.match(limit["amount"]):
            assert any(limit["amount"] in line for line in stated)
    assert sum(1 for line in lines if re.match(r"^- (Cap|Floor) per ", line)) == len(limits)
    gates = [m for line in plan_text(path).splitlines() if (m := GATE.match(line))]
    stated_gates = [line for line in lines if line.startswith("- Condition: this component pays only if ")]
    assert len(stated_gates) == len(gates)


def test_the_caps_and_gate_of_the_example_plans_in_words() -> None:
    assert (
        "- Cap per fiscal year: this component pays at most 3 × your target incentive for the full fiscal year over a fiscal year"
        in markdown_of(PLANS_DIR / "enterprise_ae.comp")
    )
    assert "- Cap per deal: at most 2,500 USD for each credited deal." in markdown_of(PLANS_DIR / "sdr.comp")
    assert (
        "- Condition: this component pays only if `pipeline_attainment` is at least 50% at the end of the quarter; "
        "otherwise it pays 0 for that quarter." in markdown_of(PLANS_DIR / "sdr.comp")
    )
    assert "- Cap per quarter: at most 60% × your target incentive for the quarter each quarter." in markdown_of(
        PLANS_DIR / "account_manager.comp"
    )


@pytest.mark.parametrize("path", PLANS, ids=PLAN_IDS)
def test_the_footer_carries_the_hash_the_engine_records(path: Path) -> None:
    text = plan_text(path)
    compiled = compile_source(str(path), text).plan
    assert compiled is not None
    outcome = document_plan(str(path))
    assert outcome.document is not None
    assert outcome.document.source_sha256 == compiled.source_sha256
    markdown = render_markdown(outcome.document)
    assert f"Plan content hash (SHA-256): `{compiled.source_sha256}`" in markdown
    assert compiled.source_sha256 in render_html(outcome.document)


@pytest.mark.parametrize("path", PLANS, ids=PLAN_IDS)
def test_every_test_case_is_a_worked_example_with_its_expected_amounts(path: Path) -> None:
    cases = load_cases(path.with_name(path.stem + TEST_SUFFIX))
    assert cases
    examples = sections(markdown_of(path), 3)
    for number, case in enumerate(cases, start=1):
        assert case.spec is not None
        body = examples[f"Example {number}: {case.name}"]
        assert f"**Period:** {case.spec.period}." in body
        for deal in case.spec.deals:
            assert f"| {deal.id} | {deal.owner} | {deal.type} | {group_digits(deal.amount)} | {deal.close_date} |" in body
        for payee_id, expected in case.spec.expect.items():
            row = next(line for line in body.splitlines() if line.startswith(f"| {payee_id} |") and "**" in line)
            if expected.total is not None:
                assert row.endswith(f"| **{group_digits(expected.total, 2)}** |")
            for amount in expected.lines.values():
                assert f"| {group_digits(amount, 2)} |" in row


def test_the_example_payouts_are_laid_out_per_payee_and_component() -> None:
    markdown = markdown_of(PLANS_DIR / "enterprise_ae.comp")
    assert "| Payee | New business commission | New-logo SPIFF | Total |" in markdown
    assert "| P2 | 4,000.00 | 500.00 | **4,500.00** |" in markdown
    assert "| D1 | P1 | new | 200,000 | 2026-03-31 | P1 50%, P2 50% | 200,000 | yes |" in markdown


# ------------------------------------------------------------------ generated, so it cannot drift


def test_changing_a_rate_in_the_plan_changes_the_document() -> None:
    path = PLANS_DIR / "enterprise_ae.comp"
    text = plan_text(path)
    changed = text.replace("    50% to 100%: 8%", "    50% to 100%: 9%")
    assert changed != text
    before = document_source(str(path), text).document
    after = document_source(str(path), changed).document
    assert before is not None and after is not None
    assert "| 2 | 50% up to 100% | 8% |" in render_markdown(before)
    assert "| 2 | 50% up to 100% | 9% |" in render_markdown(after)
    assert "8%" not in render_markdown(after).split("| Band |")[1].split("**Multipliers**")[0]
    compiled = compile_source(str(path), changed).plan
    assert compiled is not None
    assert after.source_sha256 == compiled.source_sha256 != before.source_sha256


def test_effective_dated_values_are_listed_with_their_date_ranges() -> None:
    channel = markdown_of(PLANS_DIR / "channel_manager.comp")
    assert "| “silver” | 6% | from 2026-01-01 through 2026-06-30 |" in channel
    assert "| “silver” | 7% | from 2026-07-01 on |" in channel
    assert "| *any other value* | 4% | always |" in channel
    assert "Promotion window: only deals credited from 2026-07-01 through 2026-09-30 are paid." in channel
    enterprise = markdown_of(PLANS_DIR / "enterprise_ae.comp")
    assert "| `new_logo_spiff` | 1,000 USD | from 2026-01-01 through 2026-06-30 |" in enterprise
    assert "| `new_logo_spiff` | 1,500 USD | from 2026-07-01 on |" in enterprise


def test_credit_rules_measures_quotas_and_curves_are_described_in_words() -> None:
    enterprise = markdown_of(PLANS_DIR / "enterprise_ae.comp")
    assert "counts when the deal type is “new” or “expansion”." in enterprise
    assert "Credited to: each split partner named on the deal, for their share of it" in enterprise
    assert "Amount credited: the deal's acv" in enterprise
    assert "Marginal tiers: each part of the amount is paid at the rate of the band that part falls in" in enterprise
    assert "- × 1.2 when the deal's term months is at least 36" in enterprise
    assert "your bookings quota for the full fiscal year" in enterprise
    manager = markdown_of(PLANS_DIR / "account_manager.comp")
    assert "Retroactive tiers: the whole amount is paid at the rate of the band it reaches" in manager
    assert "| 100% | 100% |" in manager and "| 150% | 175% |" in manager
    assert "| `expansion_bookings` | the total of your `expansion` credits dated in the quarter |" in manager
    assert "Q1 20%, Q2 25%, Q3 25%, Q4 30%" in manager
    assert "| `weighted_attainment` | 70% × `expansion_attainment` + 30% × `renewal_attainment` |" in manager


def test_a_plan_without_test_cases_says_it_has_no_examples(tmp_path: Path) -> None:
    path = tmp_path / "plain.comp"
    path.write_text(
        HEADER + OWNER_BOOKINGS + '\ncomponent commission "Commission"\n  per credit of bookings\n  rate 5%\n', encoding="utf-8"
    )
    markdown = markdown_of(path)
    assert "This plan has no test cases, so there are no worked examples." in markdown
    assert "it pays the credited amount × 5%." in markdown


# ------------------------------------------------------------------ HTML

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class TagBalance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"end tag for void element {tag}")
        elif not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def balanced(page: str) -> TagBalance:
    parser = TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []
    return parser


@pytest.mark.parametrize("path", PLANS, ids=PLAN_IDS)
def test_the_html_page_is_well_formed(path: Path) -> None:
    outcome = document_plan(str(path))
    assert outcome.document is not None
    page = render_html(outcome.document)
    assert page.startswith("<!DOCTYPE html>\n")
    parsed = balanced(page)
    assert {"html", "head", "style", "body", "h1", "h2", "h3", "table", "thead", "tbody", "footer"} <= set(parsed.tags)
    text = "".join(parsed.text)
    title = header_value(plan_text(path), r'^plan \w+ "([^"]+)"')
    assert title in text
    assert f"Plan content hash (SHA-256): {outcome.document.source_sha256}" in text


ESCAPING_PLAN = (
    HEADER.replace('"Test plan"', '"R&D <Sales> plan"')
    + """
credit bookings from deals
  where deal.product != "<b>R&D</b>"
  to owner
  amount deal.amount
  dated deal.close_date

component commission "Commission <b>bold</b> & co"
  cites "§1 <a>"
  per credit of bookings
  rate 5%
"""
)


def escaped_document() -> PlanDocument:
    outcome = document_source("escape.comp", ESCAPING_PLAN)
    assert outcome.document is not None, outcome.diagnostics
    return outcome.document


def test_html_escapes_plan_text() -> None:
    page = render_html(escaped_document())
    parsed = balanced(page)
    assert "<b>" not in page and "<a>" not in page and "<Sales>" not in page
    assert "Commission &lt;b&gt;bold&lt;/b&gt; &amp; co" in page
    assert "R&amp;D &lt;Sales&gt; plan" in page
    assert "“&lt;b&gt;R&amp;D&lt;/b&gt;”" in page
    text = "".join(parsed.text)
    assert "1. Commission <b>bold</b> & co" in text
    assert "the deal's product is not “<b>R&D</b>”" in text
    assert not set(parsed.tags) & {"b", "a"}


def test_markdown_escapes_plan_text() -> None:
    markdown = render_markdown(escaped_document())
    assert "# R&D \\<Sales\\> plan\n" in markdown
    assert "### 1. Commission \\<b\\>bold\\</b\\> & co\n" in markdown
    assert "<b>" not in markdown


# ------------------------------------------------------------------ the command


def test_the_command_prints_markdown_by_default() -> None:
    path = PLANS_DIR / "enterprise_ae.comp"
    result = runner.invoke(app, ["doc", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == markdown_of(path)


def test_the_command_writes_html_to_a_file(tmp_path: Path) -> None:
    path = PLANS_DIR / "sdr.comp"
    target = tmp_path / "sdr.html"
    result = runner.invoke(app, ["doc", str(path), "--format", "html", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    page = target.read_text(encoding="utf-8")
    outcome = document_plan(str(path))
    assert outcome.document is not None
    assert page == render_html(outcome.document)
    balanced(page)


def test_the_command_prints_html() -> None:
    result = runner.invoke(app, ["doc", str(PLANS_DIR / "channel_manager.comp"), "--format", "html"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    balanced(result.stdout)


def test_a_broken_plan_prints_its_diagnostics_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.comp"
    path.write_text(HEADER + OWNER_BOOKINGS + '\ncomponent commission "Commission"\n  per credit of bookings\n  rate comission_rate\n')
    result = runner.invoke(app, ["doc", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{path}:" in result.stderr and "error[E020]" in result.stderr
    assert "no document was written" in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_plan_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["doc", str(tmp_path / "nothere.comp")])
    assert result.exit_code == 1
    assert "cannot read the file" in result.stderr


# ------------------------------------------------------------------ constructs being added to the language


def test_new_constructs_are_rendered_generically_from_the_syntax_tree() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
input mbo_score: percent, default 0%

rule standard "Standard rate" sets rate_x to 5%
rule gold "Gold partners" sets rate_x to 8% when deal.product == "gold" exception to standard

decision table territory_rate: percent hit policy first given deal.product, deal.amount
  row "west", [0 USD, 100,000 USD): 3%
  row any, from 100,000 USD: 4%
  otherwise: 2%

component commission "Commission"
  per credit of bookings
  rate 5%

revision 2 effective 2026-07-01 "Raised rate"

component commission "Commission"
  per credit of bookings
  rate 6%
"""
    )
    parsed = parse_plan("new.comp", text)
    assert parsed.plan_file is not None, parsed.diagnostics
    document = build_document(parsed.plan_file)  # from the syntax tree alone
    markdown = render_markdown(document)
    assert "- **gold** (Gold partners): 8% when the deal's product is “gold”; an exception to `standard`." in markdown
    assert "The rows are checked from the top; the first row that matches gives the value." in markdown
    assert "| “west” | 0 USD up to 100,000 USD (not including) | 3% |" in markdown
    assert "| `mbo_score` | a percentage | 0% |" in markdown
    assert "## Changes from 2026-07-01" in markdown
    assert "it pays the credited amount × 6%." in markdown
    balanced(render_html(document))


def test_what_has_no_plain_wording_is_quoted_as_written_with_whitespace_and_comments_normalised() -> None:
    text = (
        HEADER + OWNER_BOOKINGS + '\ncomponent bonus "Bonus"\n  per credit of bookings\n  pays bonus_of(deal.amount,   # why\n    "a  b")\n'
    )
    parsed = parse_plan("quoted.comp", text)
    assert parsed.plan_file is not None, parsed.diagnostics
    markdown = render_markdown(build_document(parsed.plan_file))
    assert 'it pays `bonus_of(deal.amount, "a  b")`.' in markdown


def test_amounts_are_shown_as_the_plan_rounds_them() -> None:
    assert group_digits(Decimal("13600.00"), 2) in markdown_of(PLANS_DIR / "enterprise_ae.comp")


# ------------------------------------------------------------------ pay policies


def test_pay_policies_are_stated_in_words() -> None:
    text = (
        HEADER
        + "  payment when the invoice is paid\n"
        + OWNER_BOOKINGS
        + """
component commission "Commission"
  per credit of bookings
  rate 5%

draw ramp "New-hire draw"
  recoverable
  tops up to 5,000 USD per period
  for the first 2 periods on the plan
  recovers at most 50% of earnings per period
  outstanding at most 10,000 USD
  at termination owed

draw floor
  not recoverable
  tops up to 1,000 USD per period
  during 2026-01-01 until 2026-07-01

holdback year_end "Year-end holdback"
  holds 20% of commission
  released after 90 days

clawback cancellations "Cancellation clawback"
  for deals cancelled or refunded within 180 days of the close date
  reverses pro rata by time
"""
    )
    outcome = document_source("pay.comp", text)
    assert outcome.document is not None, outcome.diagnostics
    markdown = render_markdown(outcome.document)
    paid = sections(markdown, 2)["How your earnings are paid"]
    assert "**Payment:** when the invoice is paid — the part of each line earned on a deal is paid" in paid
    assert "- **Payment:** when the invoice is paid" in markdown  # in the plan summary too
    policies = sections(markdown, 3)
    draw = policies["Recoverable draw: New-hire draw"]
    assert "is less than 5,000 USD, the difference is advanced to you." in draw
    assert "It applies for your first 2 quarters on the plan" in draw
    assert "at most 50% of that quarter's earnings" in draw and "At most 10,000 USD may be outstanding" in draw
    assert "you still owe it" in draw
    guarantee = policies["Guarantee: Floor"]
    assert "the difference is paid to you, and never taken back." in guarantee
    assert "It applies in the quarters that start from 2026-01-01 through 2026-06-30." in guarantee
    holdback = policies["Holdback: Year-end holdback"]
    assert "20% of each positive statement line of `commission` is held back" in holdback
    assert "ending at least 90 days after the end of the quarter it was held in" in holdback
    clawback = policies["Clawback: Cancellation clawback"]
    assert "within 180 days of its close date, what it earned you is reversed in proportion to the part of the 180 days" in clawback
    balanced(render_html(outcome.document))


def test_the_example_plans_pay_policies_are_in_their_document() -> None:
    markdown = markdown_of(PLANS_DIR / "enterprise_ae.comp")
    assert "## How your earnings are paid" in markdown
    assert "### Recoverable draw: New-hire draw" in markdown
    assert "### Holdback: Year-end holdback" in markdown
    assert "### Clawback: Cancellation clawback" in markdown


def test_a_revision_that_changes_a_pay_policy_describes_it_from_its_date() -> None:
    text = (
        HEADER
        + OWNER_BOOKINGS
        + """
component commission "Commission"
  per credit of bookings
  rate 5%

holdback year_end "Year-end holdback"
  holds 20% of commission
  released at the fiscal year end

revision 2 effective 2026-07-01 "Smaller holdback"

holdback year_end "Year-end holdback"
  holds 10% of commission
  released at the fiscal year end
"""
    )
    outcome = document_source("revised.comp", text)
    assert outcome.document is not None, outcome.diagnostics
    changes = sections(render_markdown(outcome.document), 2)["Changes from 2026-07-01"]
    assert "### How your earnings are paid, from 2026-07-01" in changes
    assert "10% of each positive statement line of `commission` is held back" in changes
    versions = compile_source("revised.comp", text).versions
    assert [v.pay.holdbacks[0].rate if v.pay else None for v in versions] == [Decimal("0.2"), Decimal("0.1")]
