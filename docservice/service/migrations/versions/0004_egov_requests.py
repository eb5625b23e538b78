"""eGov mobile / eGov Business QR and cross-signing requests.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "egov_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("xml_session_id", sa.String(length=64), nullable=True),
        sa.Column("xml_sha", sa.String(length=64), nullable=True),
        sa.Column("app", sa.String(length=20), nullable=False),
        sa.Column("sign_method", sa.String(length=20), nullable=False),
        sa.Column("auth_type", sa.String(length=10), nullable=False),
        sa.Column("auth_token", sa.String(length=64), nullable=True),
        sa.Column("expected_iin", sa.String(length=12), nullable=True),
        sa.Column("auth_iin", sa.String(length=12), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("signature_seq", sa.Integer(), nullable=True),
        sa.Column("timestamp", sa.String(length=20), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_egov_requests_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["signing_sessions.id"],
            name=op.f("fk_egov_requests_session_id_signing_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["xml_session_id"],
            ["signing_sessions.id"],
            name=op.f("fk_egov_requests_xml_session_id_signing_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_egov_requests")),
    )
    with op.batch_alter_table("egov_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_egov_requests_document_id"), ["document_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("egov_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_egov_requests_document_id"))
    op.drop_table("egov_requests")
