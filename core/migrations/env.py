"""Alembic environment: migrations run on a connection handed over by core.db.migrate."""

from alembic import context
from sqlmodel import SQLModel

import core.models  # noqa: F401  (registers every table on the metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `wellbeing-bot migrate`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
