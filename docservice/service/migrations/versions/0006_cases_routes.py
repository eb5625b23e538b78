"""Cases, the organisations directory, routes and their events; document versions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sa.String(length=200), nullable=False),
        sa.Column("departure_region", sa.String(length=100), nullable=False),
        sa.Column("settlement_region", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_cases_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("client_id", "case_ref", name="uq_cases_client_ref"),
    )
    op.create_index(op.f("ix_cases_client_id"), "cases", ["client_id"])
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bin", sa.String(length=12), nullable=False),
        sa.Column("body", sa.String(length=50), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("bin", "body", "region", name="uq_organisations_role"),
    )
    op.create_index(op.f("ix_organisations_bin"), "organisations", ["bin"])
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("previous_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_documents_case_id_cases"), "cases", ["case_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_documents_previous_id_documents"), "documents", ["previous_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_documents_case_id"), ["case_id"])
    op.create_table(
        "routes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("definition", sa.String(length=50), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("step_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_routes_client_id_clients")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_routes_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_routes_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routes")),
        sa.UniqueConstraint("document_id", name=op.f("uq_routes_document_id")),
    )
    op.create_index(op.f("ix_routes_client_id"), "routes", ["client_id"])
    op.create_index(op.f("ix_routes_case_id"), "routes", ["case_id"])
    op.create_index(op.f("ix_routes_state"), "routes", ["state"])
    op.create_index(op.f("ix_routes_due_on"), "routes", ["due_on"])
    op.create_table(
        "route_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("to_step", sa.String(length=30), nullable=True),
        sa.Column("actor_iin", sa.String(length=12), nullable=True),
        sa.Column("actor_bin", sa.String(length=12), nullable=True),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("actor_roles", sa.String(length=200), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=True),
        sa.Column("signature_seq", sa.Integer(), nullable=True),
        sa.Column("cms_sha", sa.String(length=64), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["route_id"], ["routes.id"], name=op.f("fk_route_events_route_id_routes")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_route_events_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_events")),
    )
    op.create_index(op.f("ix_route_events_route_id"), "route_events", ["route_id"])
    op.create_index(op.f("ix_route_events_document_id"), "route_events", ["document_id"])


def downgrade() -> None:
    op.drop_table("route_events")
    op.drop_table("routes")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_case_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_documents_previous_id_documents"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_documents_case_id_cases"), type_="foreignkey")
        batch_op.drop_column("previous_id")
        batch_op.drop_column("version")
        batch_op.drop_column("case_id")
    op.drop_table("organisations")
    op.drop_table("cases")
