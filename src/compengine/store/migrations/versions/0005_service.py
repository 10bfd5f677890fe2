"""The service: users and their API tokens, the audit log of every write, idempotency keys,
and disputes with their append-only history and the adjustments upheld rulings owe.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("payee_id", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("line_id", sa.String(500), nullable=False),
        sa.Column("payee_id", sa.String(200), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("opened_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.Column("claimed_facts", sa.Text(), nullable=True),
    )
    op.create_index("ix_disputes_payee_id", "disputes", ["payee_id"])
    op.create_table(
        "dispute_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.Integer(), sa.ForeignKey("disputes.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_dispute_events_dispute_id", "dispute_events", ["dispute_id"])
    op.create_index(  # a dispute is ruled once: the database refuses a second ruling
        "uq_dispute_events_one_ruling",
        "dispute_events",
        ["dispute_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'ruling'"),
        postgresql_where=sa.text("kind = 'ruling'"),
    )
    op.create_table(
        "ruling_adjustments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.Integer(), sa.ForeignKey("disputes.id"), nullable=False, unique=True),
        sa.Column("ruling_event_id", sa.Integer(), sa.ForeignKey("dispute_events.id"), nullable=False),
        sa.Column("what_if_event_id", sa.Integer(), sa.ForeignKey("dispute_events.id"), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("line_id", sa.String(500), nullable=False),
        sa.Column("payee_id", sa.String(200), nullable=False),
        sa.Column("plan_id", sa.String(200), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(200), nullable=False),
        sa.Column("adjusts_period", sa.String(20), nullable=False),
        sa.Column("amount", sa.String(60), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("attribution", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_ruling_adjustments_created_at", "ruling_adjustments", ["created_at"])


def downgrade() -> None:
    for table in ("ruling_adjustments", "dispute_events", "disputes", "idempotency_keys", "audit_log", "api_tokens", "users"):
        op.drop_table(table)
