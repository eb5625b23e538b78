"""The archive log's last append by id: an appender that finds its own id knows the tail.

``record`` reads the log's right edge (up to log2(n) stored subtree hashes) to hash its
new entries onto it. The lock row now names the last append by a random id and, moved by
the same update, the id that append found there; a process whose own last append is
still the last one extends the right edge it kept in memory instead of reading it back.
Existing rows start with NULL (nobody's): the first append after the upgrade reads.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("archive_log_lock", sa.Column("last_append", sa.BigInteger(), nullable=True))
    op.add_column("archive_log_lock", sa.Column("prior_append", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("archive_log_lock") as batch:
        batch.drop_column("prior_append")
        batch.drop_column("last_append")
