"""Alembic environment: the engine comes from the caller (``db.alembic_config``)."""

from __future__ import annotations

from alembic import context

from docservice.archive import store as archive_store
from docservice.service.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through `docservice db upgrade`")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=[Base.metadata, archive_store.metadata],
        render_as_batch=engine.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
