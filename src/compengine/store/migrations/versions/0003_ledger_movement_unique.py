"""A ledger movement (one payment, one holdback, one clawback of one line) is posted once,
ever: the database refuses a second entry of the same movement on the same account, so
nothing can be paid twice whatever the code above it does.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.create_unique_constraint("uq_ledger_entries_movement", ["movement", "account"])


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint("uq_ledger_entries_movement", type_="unique")
