"""Read a data folder of CSV files into a validated `Dataset`.

The folder holds payees.csv, assignments.csv, quotas.csv and deals.csv (docs/data.md gives
every column).  Every row is checked and every problem is reported with its file, row and
field; if there is any problem, no dataset is returned at all, so nothing is ever computed
from half-valid input.  Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from compengine.core.data import (
    Assignment,
    Dataset,
    Deal,
    ExchangeRate,
    InputValue,
    Payee,
    QuotaFigure,
    ReportingLine,
    RowRef,
    SplitShare,
)
from compengine.core.errors import DataError, DataIssue
from compengine.core.gcpause import paused_gc
from compengine.core.money import HUNDRED, ZERO, decimal_str, is_currency_code, parse_decimal

PAYEE_COLUMNS = ("payee_id", "name", "hire_date", "termination_date")
ASSIGNMENT_COLUMNS = ("payee_id", "plan", "effective_from", "effective_until", "target_incentive", "currency")
QUOTA_COLUMNS = ("payee_id", "quota", "period", "amount", "currency", "effective_from")
DEAL_COLUMNS = (
    "deal_id", "owner", "type", "product", "amount", "currency", "close_date", "splits",
    "cancelled_on", "refunded_amount", "invoice_paid_on",
)  # fmt: skip
_DEAL_COLUMN_SET = frozenset(DEAL_COLUMNS)
REPORTING_COLUMNS = ("payee_id", "manager_id", "effective_from", "effective_until")
RATE_COLUMNS = ("from_currency", "to_currency", "rate_type", "effective_from", "rate")
INPUT_COLUMNS = ("payee_id", "input", "period", "value")
#: Columns a file may leave out, by file.
OPTIONAL_COLUMNS = {
    "payees.csv": {"termination_date"},
    "assignments.csv": {"effective_until"},
    "quotas.csv": {"effective_from"},
    "deals.csv": {"splits", "cancelled_on", "refunded_amount", "invoice_paid_on"},
    "reporting_lines.csv": {"effective_until"},
    "retractions.csv": {"reason"},
}
_QUOTA_PERIOD = re.compile(r"FY\d{4}|\d{4}-Q[1-4]|\d{4}-M(0[1-9]|1[0-2])")
_SPLIT = re.compile(r"\s*([^:;]+?)\s*:\s*(\d+(?:\.\d+)?)\s*%\s*")


@dataclass(slots=True)
class _Row:
    file: str
    number: int
    cells: dict[str, str]
    issues: list[DataIssue]

    def ref(self) -> RowRef:
        return RowRef(self.file, self.number)

    def problem(self, field: str | None, reason: str) -> None:
        self.issues.append(DataIssue(self.file, self.number, field, reason))

    def text(self, field: str, required: bool = True) -> str:
        value = self.cells.get(field, "").strip()
        if required and not value:
            self.problem(field, "is empty")
        return value

    def parsed(self, field: str, parse: Callable[[str], Any], required: bool = True) -> Any:
        raw = self.text(field, required)
        if not raw:
            return None
        try:
            return parse(raw)
        except ValueError as error:
            self.problem(field, str(error))
            return None

    def day(self, field: str, required: bool = True) -> date | None:
        return self.parsed(field, _parse_date, required)  # type: ignore[no-any-return]

    def amount(self, field: str) -> Decimal | None:
        return self.parsed(field, parse_decimal)  # type: ignore[no-any-return]

    def currency(self, field: str = "currency") -> str | None:
        return self.parsed(field, _parse_currency)  # type: ignore[no-any-return]


def _parse_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a date (write it as YYYY-MM-DD)") from None


def _parse_currency(raw: str) -> str:
    if not is_currency_code(raw):
        raise ValueError(f"{raw!r} is not a currency code (write it like USD)")
    return raw


FILES = {
    "payees.csv": PAYEE_COLUMNS,
    "assignments.csv": ASSIGNMENT_COLUMNS,
    "quotas.csv": QUOTA_COLUMNS,
    "deals.csv": DEAL_COLUMNS,
    "reporting_lines.csv": REPORTING_COLUMNS,
    "exchange_rates.csv": RATE_COLUMNS,
    "inputs.csv": INPUT_COLUMNS,
}
#: Files a company without hierarchies, foreign currencies or MBOs can leave out.
OPTIONAL_FILES = {"reporting_lines.csv", "exchange_rates.csv", "inputs.csv"}
_EXTRA_COLUMNS_ALLOWED = {"payees.csv", "deals.csv"}


def load_dataset(folder: str | Path) -> Dataset:
    """Read and validate a data folder; raises `DataError` listing every problem."""
    return load_folder(folder).dataset


@dataclass(frozen=True)
class LoadedFolder:
    """A validated data folder: the dataset, and every row's cells as the file gave them
    (file name -> [(row number, cells)]), which is what the database keeps as facts."""

    dataset: Dataset
    rows: dict[str, list[tuple[int, dict[str, str]]]]


def load_folder(folder: str | Path) -> LoadedFolder:
    """Read and validate a data folder; raises `DataError` listing every problem."""
    root = Path(folder)
    issues: list[DataIssue] = []
    hashes: dict[str, str] = {}
    if not root.is_dir():
        raise DataError([DataIssue(str(root), None, None, "is not a folder of data files")])
    tables = {
        name: _read(root, name, columns, issues, hashes, extra_allowed=name in _EXTRA_COLUMNS_ALLOWED) for name, columns in FILES.items()
    }
    dataset = _build(tables, issues, hashes)
    return LoadedFolder(dataset, {name: [(row.number, row.cells) for row in rows] for name, rows in tables.items()})


RETRACTIONS = "retractions.csv"
RETRACTION_COLUMNS = ("file", "key", "reason")


class PresentFiles(NamedTuple):
    rows: dict[str, list[tuple[int, dict[str, str]]]]  # file (deals.csv) -> [(row number, cells)]
    hashes: dict[str, str]  # file as given (deals.csv or deals.json) -> sha256
    names: dict[str, str]  # file (deals.csv) -> as given (deals.json), to name rows in messages


def read_present_files(folder: str | Path) -> PresentFiles:
    """The data files a folder has (any subset, and `retractions.csv`; each as CSV or JSON),
    as rows; raises `DataError` for an unreadable file or a bad header.  Row contents are
    validated later, with the facts already known."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError([DataIssue(str(root), None, None, "is not a folder of data files")])
    issues: list[DataIssue] = []
    hashes: dict[str, str] = {}
    present = {name: columns for name, columns in {**FILES, RETRACTIONS: RETRACTION_COLUMNS}.items() if _present(root, name)}
    if not present:
        raise DataError([DataIssue(str(root), None, None, f"has none of the data files ({', '.join([*FILES, RETRACTIONS])}, or .json)")])
    rows = {
        name: [(row.number, row.cells) for row in _read(root, name, columns, issues, hashes, name in _EXTRA_COLUMNS_ALLOWED)]
        for name, columns in present.items()
    }
    if issues:
        raise DataError(issues)
    names = {name: (name if (root / name).exists() else Path(name).with_suffix(".json").name) for name in present}
    return PresentFiles(rows, hashes, names)


def dataset_from_rows(tables: Mapping[str, Iterable[tuple[int, dict[str, str]]]], names: Mapping[str, str] | None = None) -> Dataset:
    """Validate stored rows (file name -> [(row number in its file, cells)]) exactly as CSV
    rows are validated, reporting each by its file (as `names` calls it) and row.  Each file's
    rows are read once, in order, as they come: they may be made as they are read."""
    issues: list[DataIssue] = []
    shown = names or {}

    def rows_of(name: str) -> Iterator[_Row]:
        file = shown.get(name, name)
        return (_Row(file, number, cells, issues) for number, cells in tables.get(name, ()))

    return _build({name: rows_of(name) for name in FILES}, issues, {})


def dataset_from_records(tables: dict[str, list[dict[str, str]]], source: str) -> Dataset:
    """Validate in-memory rows (as plan tests give them) exactly as CSV rows are validated.

    `tables` maps a file name such as "deals.csv" to its rows; rows are reported as
    `<source> <file> row N`, counting the first record as row 2 like a spreadsheet.
    """
    issues: list[DataIssue] = []
    rows = {
        name: [_Row(f"{source} {name}", number, cells, issues) for number, cells in enumerate(tables.get(name, []), start=2)]
        for name in FILES
    }
    return _build(rows, issues, {})


def _build(tables: Mapping[str, Iterable[_Row]], issues: list[DataIssue], hashes: dict[str, str]) -> Dataset:
    with paused_gc():  # a few objects per row, all kept, no cycles (see core/gcpause)
        payees = _payees(tables["payees.csv"], issues)
        assignments = _assignments(tables["assignments.csv"], payees, issues)
        quotas = _quotas(tables["quotas.csv"], payees, issues)
        deals = _deals(tables["deals.csv"], payees, issues)
        lines = _reporting_lines(tables["reporting_lines.csv"], payees, issues)
        rates = _exchange_rates(tables["exchange_rates.csv"], issues)
        inputs = _inputs(tables["inputs.csv"], payees, issues)
    if issues:
        raise DataError(issues)
    return Dataset(payees, tuple(deals), tuple(assignments), tuple(quotas), hashes, tuple(lines), tuple(rates), tuple(inputs))


def _read(
    root: Path,
    name: str,
    columns: tuple[str, ...],
    issues: list[DataIssue],
    hashes: dict[str, str],
    extra_allowed: bool = False,
) -> list[_Row]:
    path = root / name
    json_path = path.with_suffix(".json")
    if json_path.exists():
        if path.exists():
            issues.append(DataIssue(name, None, None, f"{root} has both {name} and {json_path.name}; keep one of them"))
            return []
        return _read_json(json_path, name, columns, issues, hashes, extra_allowed)
    if name in OPTIONAL_FILES and not path.exists():
        return []
    try:
        raw = path.read_bytes()
    except OSError:
        issues.append(DataIssue(name, None, None, f"the file is missing from {root}"))
        return []
    hashes[name] = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        issues.append(DataIssue(name, None, None, "the file is not UTF-8 text"))
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        issues.append(DataIssue(name, None, None, "the file is empty; it needs at least a header row"))
        return []
    header = [h.strip() for h in header]
    missing = [c for c in columns if c not in header and c not in OPTIONAL_COLUMNS.get(name, ())]
    for column in missing:
        issues.append(DataIssue(name, 1, column, "the column is missing from the header"))
    if not extra_allowed:
        for column in header:
            if column not in columns:
                issues.append(DataIssue(name, 1, column, f"unexpected column; the columns are {', '.join(columns)}"))
    duplicates = {c for c in header if header.count(c) > 1}
    for column in sorted(duplicates):
        issues.append(DataIssue(name, 1, column, "the column appears twice"))
    if missing or duplicates:
        return []
    return list(_rows(name, header, reader, issues))


def _read_json(
    path: Path, name: str, columns: tuple[str, ...], issues: list[DataIssue], hashes: dict[str, str], extra_allowed: bool
) -> list[_Row]:
    """A data file as JSON (`deals.json` for `deals.csv`): an array of objects, one per row,
    with the file's columns as keys.  Numbers are read from their exact digits (never through
    a binary float); true/false are read as the words, null as an empty cell.  Row numbers
    count the objects from 1."""
    display = path.name
    try:
        raw = path.read_bytes()
        hashes[display] = hashlib.sha256(raw).hexdigest()
        data = json.loads(raw.decode("utf-8-sig"), parse_float=str, parse_int=str)
    except OSError:
        issues.append(DataIssue(display, None, None, "the file cannot be read"))
        return []
    except UnicodeDecodeError:
        issues.append(DataIssue(display, None, None, "the file is not UTF-8 text"))
        return []
    except json.JSONDecodeError as error:
        issues.append(DataIssue(display, error.lineno, None, f"is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"))
        return []
    if not isinstance(data, list):
        issues.append(DataIssue(display, None, None, f"must be a JSON array of objects, one per row of {name}"))
        return []
    rows: list[_Row] = []
    required = [c for c in columns if c not in OPTIONAL_COLUMNS.get(name, ())]
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            issues.append(DataIssue(display, number, None, "must be an object of column names and values"))
            continue
        cells: dict[str, str] = {}
        before = len(issues)
        for column, value in item.items():
            if isinstance(value, bool):
                cells[column] = "true" if value else "false"
            elif value is None:
                cells[column] = ""
            elif isinstance(value, str):
                cells[column] = value
            else:
                issues.append(DataIssue(display, number, column, "must be a text, a number, true, false or null"))
            if column not in columns and not extra_allowed:
                issues.append(DataIssue(display, number, column, f"unexpected column; the columns are {', '.join(columns)}"))
        for column in required:
            if column not in item:
                issues.append(DataIssue(display, number, column, "is missing"))
        if len(issues) == before:  # a malformed object is not read further: one message per problem
            rows.append(_Row(display, number, cells, issues))
    return rows


def _rows(name: str, header: list[str], reader: Iterator[list[str]], issues: list[DataIssue]) -> Iterator[_Row]:
    for number, cells in enumerate(reader, start=2):
        if not "".join(cells).strip():  # a blank line
            continue
        if len(cells) != len(header):
            issues.append(DataIssue(name, number, None, f"has {len(cells)} cells but the header has {len(header)} columns"))
            continue
        yield _Row(name, number, dict(zip(header, cells, strict=True)), issues)


def _payees(rows: Iterable[_Row], issues: list[DataIssue]) -> dict[str, Payee]:
    payees: dict[str, Payee] = {}
    for row in rows:
        payee_id = row.text("payee_id")
        name = row.text("name")
        hire = row.day("hire_date", required=False)
        termination = row.day("termination_date", required=False)
        if hire and termination and termination <= hire:
            row.problem("termination_date", f"{termination} is not after the hire date {hire}")
        if payee_id in payees:
            row.problem("payee_id", f"payee {payee_id} appears twice (also {payees[payee_id].ref})")
            continue
        attributes = {k: v for k, v in row.cells.items() if k not in PAYEE_COLUMNS}
        if payee_id:
            payees[payee_id] = Payee(payee_id, name, hire, termination, attributes, row.ref())
    return payees


def _known_payee(row: _Row, field: str, payees: dict[str, Payee]) -> str:
    payee_id = row.text(field)
    if payee_id and payee_id not in payees:
        row.problem(field, f"there is no payee {payee_id!r} in payees.csv")
    return payee_id


def _assignments(rows: Iterable[_Row], payees: dict[str, Payee], issues: list[DataIssue]) -> list[Assignment]:
    found = []
    for row in rows:
        payee_id = _known_payee(row, "payee_id", payees)
        plan = row.text("plan")
        start = row.day("effective_from")
        end = row.day("effective_until", required=False)
        target = row.amount("target_incentive")
        currency = row.currency()
        if start and end and end <= start:
            row.problem("effective_until", f"{end} is not after {start}; `effective_until` is the first day no longer on the plan")
        if target is not None and target < 0:
            row.problem("target_incentive", "is negative")
        if payee_id and plan and start and target is not None and currency:
            found.append(Assignment(payee_id, plan, start, end, target, currency, row.ref()))
    _check_overlaps(found, issues)
    return found


def _check_overlaps(assignments: list[Assignment], issues: list[DataIssue]) -> None:
    by_key: dict[tuple[str, str], list[Assignment]] = {}
    for assignment in assignments:
        by_key.setdefault((assignment.payee_id, assignment.plan_id), []).append(assignment)
    for (payee_id, plan), group in by_key.items():
        group.sort(key=lambda a: a.start)
        for previous, current in itertools.pairwise(group):
            if previous.end is None or previous.end > current.start:
                ref = current.ref
                issues.append(
                    DataIssue(
                        ref.file if ref else "assignments.csv",
                        ref.row if ref else None,
                        "effective_from",
                        f"payee {payee_id} is already on plan {plan} then ({previous.ref})",
                    )
                )


def _quotas(rows: Iterable[_Row], payees: dict[str, Payee], issues: list[DataIssue]) -> list[QuotaFigure]:
    found: dict[tuple[str, str, str, date | None], QuotaFigure] = {}
    for row in rows:
        payee_id = _known_payee(row, "payee_id", payees)
        name = row.text("quota")
        period = row.text("period")
        if period and not _QUOTA_PERIOD.fullmatch(period):
            row.problem(
                "period", f"{period!r} is not a period; write FY2026 for a year, 2026-Q1 for a quarter or 2026-M03 for a fiscal month"
            )
        amount = row.amount("amount")
        if amount is not None and amount < 0:
            row.problem("amount", "a quota cannot be negative")
        currency = row.currency()
        since = row.day("effective_from", required=False)
        key = (payee_id, name, period, since)
        if key in found:
            when = f" from {since}" if since else ""
            row.problem("period", f"payee {payee_id} already has a {name!r} quota for {period}{when} ({found[key].ref})")
            continue
        if payee_id and name and period and amount is not None and currency:
            found[key] = QuotaFigure(payee_id, name, period, amount, currency, row.ref(), since)
    return list(found.values())


def _deals(rows: Iterable[_Row], payees: dict[str, Payee], issues: list[DataIssue]) -> list[Deal]:
    deals: dict[str, Deal] = {}
    for row in rows:
        deal = _plain_deal(row, payees)
        if deal is None or deal.id in deals:
            deal = _deal(row, payees, deals)
        if deal is not None:
            deals[deal.id] = deal
    return list(deals.values())


def _deal(row: _Row, payees: dict[str, Payee], deals: dict[str, Deal]) -> Deal | None:
    """The deal of a row read cell by cell, every problem noted on the row; None if it has one
    that leaves no deal (`deals`: those read so far, to refuse the same id twice)."""
    deal_id = row.text("deal_id")
    owner = _known_payee(row, "owner", payees)
    kind = row.text("type")
    product = row.text("product", required=False)
    amount = row.amount("amount")
    currency = row.currency()
    closed = row.day("close_date")
    splits = _splits(row, payees)
    cancelled, refunded, invoice_paid = _after_booking(row, amount, closed)
    if deal_id in deals:
        row.problem("deal_id", f"deal {deal_id} appears twice (also {deals[deal_id].ref})")
        return None
    attributes = {k: v for k, v in row.cells.items() if k not in _DEAL_COLUMN_SET}
    if deal_id and owner and kind and amount is not None and currency and closed and splits is not None:
        ref = row.ref()
        return Deal(deal_id, owner, kind, product, amount, currency, closed, splits, attributes, ref, cancelled, refunded, invoice_paid)
    return None


#: The optional deal cells `_plain_deal` needs empty (splits are checked apart).
_AFTER_BOOKING_COLUMNS = ("cancelled_on", "refunded_amount", "invoice_paid_on")


def _plain_deal(row: _Row, payees: dict[str, Payee]) -> Deal | None:
    """The deal of a row written the usual way (every required cell filled in and valid, no
    split, nothing after the booking), or None for `_deals` to read the row with `_deal`.

    Most rows are like this; reading them without the per-cell bookkeeping takes a fifth off
    the time a load and a calculation spend validating deals.  It gives exactly the `Deal`
    `_deal` gives, and leaves every message to it.
    """
    cells = row.cells
    get = cells.get
    deal_id = get("deal_id", "").strip()
    owner = get("owner", "").strip()
    kind = get("type", "").strip()
    currency = get("currency", "").strip()
    if not (deal_id and kind and owner in payees and is_currency_code(currency)) or get("splits", "").strip():
        return None
    for column in _AFTER_BOOKING_COLUMNS:
        if get(column, "").strip():
            return None
    try:
        amount = parse_decimal(get("amount", ""))
        closed = date.fromisoformat(get("close_date", "").strip())
    except ValueError:
        return None
    attributes = {k: v for k, v in cells.items() if k not in _DEAL_COLUMN_SET}
    product = get("product", "").strip()
    return Deal(deal_id, owner, kind, product, amount, currency, closed, (), attributes, RowRef(row.file, row.number))


def _after_booking(row: _Row, amount: Decimal | None, closed: date | None) -> tuple[date | None, Decimal | None, date | None]:
    """The optional cancellation, refund and invoice-payment columns of a deal."""
    cancelled = row.day("cancelled_on", required=False)
    refunded = row.parsed("refunded_amount", parse_decimal, required=False)
    invoice_paid = row.day("invoice_paid_on", required=False)
    if cancelled and closed and cancelled < closed:
        row.problem("cancelled_on", f"{cancelled} is before the deal closed on {closed}")
    if refunded is not None:
        if cancelled is None and not row.text("cancelled_on", required=False):
            row.problem("refunded_amount", "a refund needs its date in cancelled_on")
        if amount is not None and not ZERO <= refunded <= amount:
            row.problem("refunded_amount", f"{decimal_str(refunded)} is not between 0 and the deal amount {decimal_str(amount)}")
    return cancelled, refunded, invoice_paid


def _splits(row: _Row, payees: dict[str, Payee]) -> tuple[SplitShare, ...] | None:
    raw = row.text("splits", required=False)
    if not raw:
        return ()
    shares: list[SplitShare] = []
    for part in raw.split(";"):
        match = _SPLIT.fullmatch(part)
        if not match:
            row.problem("splits", f"{part.strip()!r} is not a split; write partners as P001:60%;P002:40%")
            return None
        payee_id, percent = match.group(1), Decimal(match.group(2))
        if payee_id not in payees:
            row.problem("splits", f"there is no payee {payee_id!r} in payees.csv")
            return None
        if any(s.payee_id == payee_id for s in shares):
            row.problem("splits", f"payee {payee_id} is listed twice")
            return None
        if percent <= 0:
            row.problem("splits", f"{payee_id}'s share must be above 0%")
            return None
        shares.append(SplitShare(payee_id, percent / HUNDRED))
    total = sum((s.share for s in shares), Decimal(0)) * HUNDRED
    if total != HUNDRED:
        row.problem("splits", f"the shares add up to {total.normalize():f}%, not 100%")
        return None
    return tuple(shares)


def _reporting_lines(rows: Iterable[_Row], payees: dict[str, Payee], issues: list[DataIssue]) -> list[ReportingLine]:
    found: list[ReportingLine] = []
    for row in rows:
        payee_id = _known_payee(row, "payee_id", payees)
        manager_id = _known_payee(row, "manager_id", payees)
        start = row.day("effective_from")
        end = row.day("effective_until", required=False)
        if payee_id and payee_id == manager_id:
            row.problem("manager_id", f"payee {payee_id} cannot report to themselves")
            continue
        if start and end and end <= start:
            row.problem("effective_until", f"{end} is not after {start}")
            continue
        if payee_id and manager_id and start:
            found.append(ReportingLine(payee_id, manager_id, start, end, row.ref()))
    by_payee: dict[str, list[ReportingLine]] = {}
    for line in found:
        by_payee.setdefault(line.payee_id, []).append(line)
    for payee_id, lines in by_payee.items():
        lines.sort(key=lambda line: line.start)
        for previous, current in itertools.pairwise(lines):
            if previous.end is None or previous.end > current.start:
                ref = current.ref
                issues.append(
                    DataIssue(
                        ref.file if ref else "reporting_lines.csv",
                        ref.row if ref else None,
                        "effective_from",
                        f"payee {payee_id} already reports to {previous.manager_id} then ({previous.ref})",
                    )
                )
    return found


def _exchange_rates(rows: Iterable[_Row], issues: list[DataIssue]) -> list[ExchangeRate]:
    found: dict[tuple[str, str, str, date], ExchangeRate] = {}
    for row in rows:
        source = row.currency("from_currency")
        target = row.currency("to_currency")
        rate_type = row.text("rate_type")
        start = row.day("effective_from")
        rate = row.amount("rate")
        if rate is not None and rate <= 0:
            row.problem("rate", "an exchange rate must be above 0")
            continue
        if source and source == target:
            row.problem("to_currency", "a rate converts between two different currencies")
            continue
        if not (source and target and rate_type and start and rate is not None):
            continue
        key = (source, target, rate_type, start)
        if key in found:
            row.problem("effective_from", f"there is already a {rate_type} {source}→{target} rate from {start} ({found[key].ref})")
            continue
        found[key] = ExchangeRate(source, target, rate_type, start, rate, row.ref())
    return list(found.values())


def _inputs(rows: Iterable[_Row], payees: dict[str, Payee], issues: list[DataIssue]) -> list[InputValue]:
    found: dict[tuple[str, str, str], InputValue] = {}
    for row in rows:
        payee_id = _known_payee(row, "payee_id", payees)
        name = row.text("input")
        period = row.text("period")
        if period and not _QUOTA_PERIOD.fullmatch(period):
            row.problem(
                "period", f"{period!r} is not a period; write 2026-Q1 for a quarter, 2026-M03 for a fiscal month or FY2026 for a year"
            )
        value = row.text("value")
        key = (payee_id, name, period)
        if key in found:
            row.problem("period", f"payee {payee_id} already has a {name!r} input for {period} ({found[key].ref})")
            continue
        if payee_id and name and period and value:
            found[key] = InputValue(payee_id, name, period, value, row.ref())
    return list(found.values())


def _present(root: Path, name: str) -> bool:
    """Whether the folder has the data file, as CSV or as JSON."""
    return (root / name).exists() or (root / name).with_suffix(".json").exists()
