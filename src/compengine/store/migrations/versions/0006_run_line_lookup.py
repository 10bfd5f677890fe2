"""One line of a run is found by its id without reading the run's other lines (a statement
line's trace or explanation asked for over the API, with a million lines stored); a line id
is unique within its run, which the database now keeps.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_run_lines_line", "run_lines", ["run_id", "line_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_run_lines_line", table_name="run_lines")
