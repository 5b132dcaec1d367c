"""Applying the store's Alembic migrations, at start-up or by hand.

`upgrade(engine)` brings a database to the newest revision inside one
transaction. On PostgreSQL it first takes an advisory lock, so replicas
starting together apply each migration once; the others wait and then find
nothing to do.
"""

from __future__ import annotations

import logging
from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

logger = logging.getLogger("slack_bot.store")

MIGRATION_LOCK = 7_420_551_001
"""PostgreSQL advisory lock key held while migrating."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the store's migrations (no .ini file)."""
    config = Config()
    location = resources.files("slack_bot.store") / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision a database is at (None if never migrated)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def upgrade(engine: AsyncEngine, target: str = "head") -> str | None:
    """Migrate to `target` (default: the newest); returns the new revision."""
    async with engine.begin() as connection:
        before = await connection.run_sync(_current)
        if engine.dialect.name == "postgresql":
            await connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        await connection.run_sync(_upgrade, target)
        after = await connection.run_sync(_current)
    if after != before:
        logger.info("database migrated from %s to %s", before or "empty", after)
    return after


async def downgrade(engine: AsyncEngine, target: str) -> str | None:
    """Migrate down to `target` ("base" removes every table)."""
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, target)
        return await connection.run_sync(_current)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, target: str) -> None:
    command.upgrade(alembic_config(connection), target)


def _downgrade(connection: Connection, target: str) -> None:
    command.downgrade(alembic_config(connection), target)
