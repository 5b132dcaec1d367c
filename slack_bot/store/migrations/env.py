"""Alembic's environment for the store: always run through `slack_bot.store`.

`slack_bot.store.migrate` hands over an open connection (in
`config.attributes["connection"]`); the `python -m slack_bot.store` command
does the same. Offline (SQL script) mode is not used.
"""

from __future__ import annotations

from alembic import context

from slack_bot.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations with `python -m slack_bot.store upgrade`, which "
        "connects to DATABASE_URL itself"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
