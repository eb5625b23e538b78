"""Documents keep the input they were rendered from (a blob in the file store).

Why: a region's monthly Appendix 3 report is built from the month's activity
reports (``POST /v1/reports/a3``), which needs their input, not their PDF.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("input_sha", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("input_sha")
