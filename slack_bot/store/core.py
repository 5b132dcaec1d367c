"""The `Store`: one SQL database for everything the Slack app keeps."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from slack_bot.store import migrate
from slack_bot.store.audit import AuditLog
from slack_bot.store.confirmations import Confirmations
from slack_bot.store.crypto import KeyBox
from slack_bot.store.links import Links
from slack_bot.store.replay import ReplayGuard
from slack_bot.store.urls import database_url, display_url

__all__ = ["UNREACHABLE", "Store", "StoreUnavailable", "unavailable"]

logger = logging.getLogger("slack_bot.store")


class StoreUnavailable(Exception):
    """The database could not be reached or migrated."""


UNREACHABLE = (sa.exc.SQLAlchemyError, OSError)
"""What a database that cannot be reached or migrated raises."""


class Store:
    """The app's SQL store: SQLite by default, PostgreSQL for replicas.

    Open it with `await Store.open(url, keys=KeyBox(...))`, which applies
    the migrations, and close it with `await store.close()` (or use
    `async with`). `links`, `confirmations`, `audit` and `replays` are the
    Slack app's tables; other packages use `engine` with their own tables
    (see `slack_bot.store.schema`).
    """

    def __init__(self, engine: AsyncEngine, *, keys: KeyBox | None = None) -> None:
        self.engine = engine
        self.links = Links(engine, keys)
        self.confirmations = Confirmations(engine)
        self.audit = AuditLog(engine)
        self.replays = ReplayGuard(engine)

    @classmethod
    async def open(
        cls,
        url: str | URL | None = None,
        *,
        keys: KeyBox | None = None,
        migrate_schema: bool = True,
        **engine_options: Any,
    ) -> Self:
        """Connect to `url` (a `DATABASE_URL` value; None: the default SQLite
        file) and, unless told not to, migrate to the newest schema."""
        target = url if isinstance(url, URL) else database_url(url)
        engine = create_engine(target, **engine_options)
        store = cls(engine, keys=keys)
        try:
            if migrate_schema:
                await migrate.upgrade(engine)
            else:
                async with engine.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))
        except UNREACHABLE as error:
            await engine.dispose()
            raise unavailable(target, error) from None
        logger.info("store open at %s", display_url(target))
        return store

    @property
    def dialect(self) -> str:
        """The dialect name: "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<Store {display_url(self.engine.url)}>"


def create_engine(url: URL, **options: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {"timeout": 30})
    else:
        options.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **options)
    if url.get_backend_name() == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def unavailable(target: URL, error: BaseException) -> StoreUnavailable:
    """The one readable sentence for `error`, naming the database (no
    password) and what to check."""
    return StoreUnavailable(
        f"The database at {display_url(target)} could not be opened "
        f"({type(error).__name__}: {_first_line(error)}). Check "
        "DATABASE_URL and that the server is running."
    )


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0][:200] if text.strip() else "no detail"
