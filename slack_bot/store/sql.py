"""Small SQL helpers that work the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["insert_ignore", "upsert"]


def _insert(connection: AsyncConnection, table: sa.Table) -> Any:
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the store does not support {name}")


async def upsert(
    connection: AsyncConnection,
    table: sa.Table,
    row: Mapping[str, Any],
    *,
    key: Iterable[str],
    keep: Iterable[str] = (),
) -> None:
    """Insert `row`, or update the existing row with the same `key` columns
    (leaving the `keep` columns as they were)."""
    key = tuple(key)
    unchanged = set(key) | set(keep)
    statement = _insert(connection, table).values(**row)
    updates = {name: statement.excluded[name] for name in row if name not in unchanged}
    await connection.execute(
        statement.on_conflict_do_update(index_elements=key, set_=updates)
    )


async def insert_ignore(
    connection: AsyncConnection,
    table: sa.Table,
    row: Mapping[str, Any],
    *,
    key: Iterable[str],
) -> bool:
    """Insert `row` unless a row with the same `key` exists; True if inserted.

    This is the claim primitive: of several replicas inserting the same key,
    exactly one gets True.
    """
    key = tuple(key)
    statement = (
        _insert(connection, table)
        .values(**row)
        .on_conflict_do_nothing(index_elements=key)
        .returning(*(table.c[name] for name in key))
    )
    result = await connection.execute(statement)
    return result.first() is not None
