"""The archive log's size in its lock row: an append learns where it goes from the lock.

``record`` moves ``archive_log_lock.size`` in the update that takes the log's lock and
reads it back, instead of a ``max(idx)`` query per append. Existing logs are backfilled
from their entries (the index the old code would have appended at next).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "archive_log_lock",
        sa.Column("size", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(
        "UPDATE archive_log_lock SET size = "
        "(SELECT COALESCE(MAX(idx) + 1, 0) FROM archive_log_entry)"
    )


def downgrade() -> None:
    with op.batch_alter_table("archive_log_lock") as batch:
        batch.drop_column("size")
