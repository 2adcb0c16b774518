"""Alembic's entry point: run by ``bot.store.database.upgrade`` on a connection it already holds."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `hamsa-bot db upgrade` (bot.store.database.upgrade)")

# SQLite can't alter most things in place: batch mode rebuilds the table instead.
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
