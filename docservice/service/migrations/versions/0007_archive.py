"""The archive's Merkle log, its tree heads and the index of what each entry records.

The tables are ``docservice.archive.store``'s (their own MetaData); this migration creates
the very same columns and constraint names on SQLite and PostgreSQL.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_log_entry",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_archive_log_entry"),
    )
    op.create_table(
        "archive_log_node",
        sa.Column("node", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("node", name="pk_archive_log_node"),
    )
    op.create_table(
        "archive_tree_head",
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp_token", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("tree_size", "timestamp_ms", name="pk_archive_tree_head"),
    )
    lock = op.create_table(
        "archive_log_lock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("appends", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_archive_log_lock"),
    )
    op.bulk_insert(lock, [{"id": 1, "appends": 0}])
    op.create_table(
        "archive_artefact",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("case_ref", sa.String(length=200), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("iin_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("idx", name="pk_archive_artefact"),
    )
    for column in (
        "type",
        "sha256",
        "document_id",
        "case_ref",
        "client_id",
        "recorded_at",
        "iin_key",
    ):
        op.create_index(f"ix_archive_artefact_{column}", "archive_artefact", [column])


def downgrade() -> None:
    op.drop_table("archive_artefact")
    op.drop_table("archive_log_lock")
    op.drop_table("archive_tree_head")
    op.drop_table("archive_log_node")
    op.drop_table("archive_log_entry")
