import importlib
import pkgutil

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import slack_bot
from slack_bot.store import Store, current_revision, head_revision, metadata
from slack_bot.store.migrate import downgrade

pytestmark = pytest.mark.anyio


def _load_every_tables_module() -> None:
    """Import each `tables` module under slack_bot, so that every table any
    package defines is on the shared metadata."""
    for module in pkgutil.walk_packages(slack_bot.__path__, "slack_bot."):
        if module.name.rsplit(".", 1)[-1] == "tables":
            importlib.import_module(module.name)


async def test_opening_migrates_an_empty_database_to_the_newest_revision(
    store: Store,
) -> None:
    assert await current_revision(store.engine) == head_revision()


async def test_the_migrated_schema_matches_the_table_definitions(
    store: Store,
) -> None:
    _load_every_tables_module()

    def differences(connection: sa.Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with store.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_reopening_a_migrated_database_changes_nothing(
    store: Store, database_url: str
) -> None:
    async with await Store.open(database_url) as again:
        assert await current_revision(again.engine) == head_revision()


async def test_every_migration_can_be_undone(store: Store) -> None:
    assert await downgrade(store.engine, "base") is None

    def tables(connection: sa.Connection) -> set[str]:
        return set(sa.inspect(connection).get_table_names())

    async with store.engine.connect() as connection:
        assert await connection.run_sync(tables) <= {"alembic_version"}
