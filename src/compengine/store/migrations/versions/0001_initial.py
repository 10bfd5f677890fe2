"""The system of record: facts, published plans, runs and their lines, cycles, the ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loads",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("new_versions", sa.Integer(), nullable=False),
    )
    op.create_index("ix_loads_recorded_at", "loads", ["recorded_at"])
    op.create_table(
        "facts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), sa.ForeignKey("loads.id"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("source_file", sa.String(200), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("kind", "key", "version", name="uq_facts_version"),
    )
    op.create_index("ix_facts_recorded", "facts", ["recorded_at"])
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_path", sa.String(1000), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("libraries", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("plan_id", "source_sha256", name="uq_plan_versions_content"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("knowledge_time", sa.DateTime(), nullable=False),
        sa.Column("engine_version", sa.String(40), nullable=False),
        sa.Column("grammar_sha256", sa.String(64), nullable=False),
        sa.Column("decimal_context", sa.Text(), nullable=False),
        sa.Column("plans", sa.Text(), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("trace_sha256", sa.String(64), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("what_if", sa.Text(), nullable=True),
    )
    op.create_index("ix_runs_period", "runs", ["period"])
    op.create_table(
        "run_lines",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("line_id", sa.String(500), nullable=False),
        sa.Column("payee_id", sa.String(200), nullable=False),
        sa.Column("plan_id", sa.String(200), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("adjusts_period", sa.String(20), nullable=True),
        sa.Column("adjusts_run_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.String(60), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("attribution", sa.Text(), nullable=False),
        sa.Column("trace", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_run_lines_payee", "run_lines", ["run_id", "payee_id"])
    op.create_table(
        "cycles",
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("approved_run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("closed_run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("payee_id", sa.String(200), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("account", sa.String(40), nullable=False),
        sa.Column("amount", sa.String(60), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("movement", sa.String(500), nullable=False),
        sa.Column("plan_id", sa.String(200), nullable=True),
        sa.Column("component", sa.String(200), nullable=True),
        sa.Column("line_id", sa.String(500), nullable=True),
        sa.Column("deal_id", sa.String(200), nullable=True),
        sa.Column("reverses", sa.String(500), nullable=True),
        sa.Column("adjusts_period", sa.String(20), nullable=True),
        sa.Column("attribution", sa.Text(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_ledger_entries_payee_id", "ledger_entries", ["payee_id"])
    op.create_index("ix_ledger_entries_period", "ledger_entries", ["period"])


def downgrade() -> None:
    for table in ("ledger_entries", "cycles", "run_lines", "runs", "plan_versions", "facts", "loads"):
        op.drop_table(table)
