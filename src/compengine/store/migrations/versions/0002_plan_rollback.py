"""Publishing an earlier plan text again makes it the current version (a roll-back): a plan's
content is no longer unique per plan, and the newest version is looked up by plan and time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch:
        batch.drop_constraint("uq_plan_versions_content", type_="unique")
    op.create_index("ix_plan_versions_plan", "plan_versions", ["plan_id", "published_at"])


def downgrade() -> None:
    op.drop_index("ix_plan_versions_plan", table_name="plan_versions")
    with op.batch_alter_table("plan_versions") as batch:
        batch.create_unique_constraint("uq_plan_versions_content", ["plan_id", "source_sha256"])
