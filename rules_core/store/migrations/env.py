"""Alembic environment of the store. Migrations run programmatically (``rules_core.store.db``)
on a connection the caller opened inside its own transaction; there is no alembic.ini."""

from __future__ import annotations

from alembic import context

from rules_core.store.schema import store_registry

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=store_registry.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
