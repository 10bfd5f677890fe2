"""The database tables (SQLAlchemy Core), created and evolved by the Alembic migrations.

Every money amount and rate is stored as decimal *text* (`decimal_str`), so values read back
exactly the same on SQLite and PostgreSQL.  Nothing is ever updated in place except the
status of a cycle and a run; facts, plan versions, run lines and ledger entries are only
inserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()


def attribution_text(parts: Iterable[tuple[str, Decimal]]) -> str:
    """How an `attribution` column holds a line's share by deal: `[[deal, "amount"], ...]`."""
    return json.dumps([[deal, format(amount, "f")] for deal, amount in parts])


def attribution_of(text: str) -> tuple[tuple[str, Decimal], ...]:
    """An `attribution` column read back (see `attribution_text`)."""
    return tuple((deal, Decimal(amount)) for deal, amount in json.loads(text))


#: One row per `compengine load`: when the facts became known, and from which files.
loads = Table(
    "loads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recorded_at", DateTime, nullable=False, index=True),
    Column("source", String(1000), nullable=False),
    Column("files", Text, nullable=False),  # JSON: file name -> sha256
    Column("new_versions", Integer, nullable=False),
)

#: Every version of every fact (payee, assignment, quota, deal, reporting line, exchange rate,
#: input).  A change is a new version; "as known at T" reads the latest version recorded by T.
facts = Table(
    "facts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(1000), nullable=False),
    Column("version", Integer, nullable=False),
    Column("load_id", Integer, ForeignKey("loads.id"), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("source_file", String(200), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("content", Text, nullable=False),  # canonical JSON of the row's cells
    Column("content_sha256", String(64), nullable=False),
    Column("retraction", Text, nullable=True),  # set on a version that withdraws its fact: why
    UniqueConstraint("kind", "key", "version", name="uq_facts_version"),
    Index("ix_facts_recorded", "recorded_at"),
)

#: Published plan files: the source exactly as checked, with the libraries it uses.
plan_versions = Table(
    "plan_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source_path", String(1000), nullable=False),
    Column("source_text", Text, nullable=False),
    Column("libraries", Text, nullable=False),  # JSON: path -> text
    Column("source_sha256", String(64), nullable=False),
    Column("published_by", String(200), nullable=False),
    Column("published_at", DateTime, nullable=False),
    # not unique on content: publishing an earlier text again (a roll-back) is a new version
    Index("ix_plan_versions_plan", "plan_id", "published_at"),
)

#: Calculation runs; a run and its lines are written in one transaction and never change
#: afterwards (only `status` moves: draft → approved → closed, or superseded).
runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("period", String(20), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("knowledge_time", DateTime, nullable=False),
    Column("engine_version", String(40), nullable=False),
    Column("grammar_sha256", String(64), nullable=False),
    Column("decimal_context", Text, nullable=False),  # JSON
    Column("plans", Text, nullable=False),  # JSON: [{id, version, sha256, published}]
    Column("input_sha256", String(64), nullable=False),
    Column("result_sha256", String(64), nullable=False),
    Column("trace_sha256", String(64), nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("what_if", Text, nullable=True),  # JSON overlay of a what-if run (disputes)
)

#: Statement lines of a run, with their compressed trace; adjustments for closed periods too.
run_lines = Table(
    "run_lines",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("line_id", String(500), nullable=False),
    Column("payee_id", String(200), nullable=False),
    Column("plan_id", String(200), nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("component", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # earning | adjustment
    Column("adjusts_period", String(20), nullable=True),
    Column("adjusts_run_id", Integer, nullable=True),
    Column("amount", String(60), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("attribution", Text, nullable=False),  # JSON: [[deal or "-", amount]]
    Column("trace", LargeBinary, nullable=False),  # zlib-compressed canonical JSON
    Index("ix_run_lines_payee", "run_id", "payee_id"),
    Index("uq_run_lines_line", "run_id", "line_id", unique=True),
)

#: One payout cycle per period label: open → calculated → approved → closed.
cycles = Table(
    "cycles",
    metadata,
    Column("period", String(20), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("approved_run_id", Integer, ForeignKey("runs.id"), nullable=True),
    Column("closed_run_id", Integer, ForeignKey("runs.id"), nullable=True),
    Column("closed_at", DateTime, nullable=True),
)

#: The payout ledger: every money movement of every payee, append-only.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payee_id", String(200), nullable=False, index=True),
    Column("period", String(20), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("account", String(40), nullable=False),
    Column("amount", String(60), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("movement", String(500), nullable=False),
    Column("plan_id", String(200), nullable=True),
    Column("component", String(200), nullable=True),
    Column("line_id", String(500), nullable=True),
    Column("deal_id", String(200), nullable=True),
    Column("reverses", String(500), nullable=True),
    Column("adjusts_period", String(20), nullable=True),
    Column("attribution", Text, nullable=False),  # JSON
    Column("memo", Text, nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("posted_at", DateTime, nullable=False),
    # a movement (one payment, one holdback, one clawback of one line) is posted once, ever:
    # the database itself refuses to pay anything twice
    UniqueConstraint("movement", "account", name="uq_ledger_entries_movement"),
)

#: People who use the service, with their role; a payee or manager user is tied to a payee id.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),  # admin | finance | arbitrator | payee | manager
    Column("payee_id", String(200), nullable=True),  # the payee a payee or manager user is
    Column("created_at", DateTime, nullable=False),
)

#: Bearer API tokens; only a hash of each token is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

#: Every write through the service: who, when, what, and the request it came in.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("request_id", String(100), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("status", Integer, nullable=False),
    Column("detail", Text, nullable=False),  # JSON: what was created or changed
)

#: The response of each POST that carried an Idempotency-Key, replayed on a retry.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

#: A payee's dispute of one statement line of a run; never changed after it is opened.
disputes = Table(
    "disputes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("line_id", String(500), nullable=False),
    Column("payee_id", String(200), nullable=False, index=True),
    Column("period", String(20), nullable=False),
    Column("opened_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("opened_at", DateTime, nullable=False),
    Column("claim", Text, nullable=False),
    Column("claimed_facts", Text, nullable=True),  # JSON: the facts the payee believes are right
)

#: Everything that happens to a dispute, in order, append-only: replays and what-ifs with
#: their hashes, comments, the ruling (at most one per dispute, which the database keeps so).
dispute_events = Table(
    "dispute_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dispute_id", Integer, ForeignKey("disputes.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # replay | what_if | ruling | comment
    Column("actor", Integer, ForeignKey("users.id"), nullable=True),
    Column("at", DateTime, nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("payload_sha256", String(64), nullable=False),
    Index(
        "uq_dispute_events_one_ruling",
        "dispute_id",
        unique=True,
        sqlite_where=text("kind = 'ruling'"),
        postgresql_where=text("kind = 'ruling'"),
    ),
)

#: An amount an upheld ruling owes a payee, paid as a line of the next open period's run
#: (one per dispute; whether it is paid is read from the ledger, so this row never changes).
ruling_adjustments = Table(
    "ruling_adjustments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dispute_id", Integer, ForeignKey("disputes.id"), nullable=False, unique=True),
    Column("ruling_event_id", Integer, ForeignKey("dispute_events.id"), nullable=False),
    Column("what_if_event_id", Integer, ForeignKey("dispute_events.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),  # the disputed run
    Column("line_id", String(500), nullable=False),  # the disputed line
    Column("payee_id", String(200), nullable=False),
    Column("plan_id", String(200), nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("component", String(200), nullable=False),
    Column("adjusts_period", String(20), nullable=False),
    Column("amount", String(60), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("attribution", Text, nullable=False),  # JSON: [[deal or "-", amount]], adding up to amount
    Column("created_at", DateTime, nullable=False, index=True),
)
