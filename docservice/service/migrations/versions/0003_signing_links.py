"""Signing links: one-time URLs for officials (token hash, expected IIN, expiry).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:16:01.507971
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("expected_iin", sa.String(length=12), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_signing_links_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_signing_links_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signing_links_token_hash")),
    )
    with op.batch_alter_table("signing_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signing_links_document_id"), ["document_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signing_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_links_document_id"))

    op.drop_table("signing_links")
