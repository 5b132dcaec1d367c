"""Slack user -> JARVICE user links, with the API key encrypted at rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from jarvice_tools.settings import Credentials
from slack_bot.store.crypto import KeyBox
from slack_bot.store.schema import slack_links, utcnow
from slack_bot.store.sql import upsert

__all__ = ["Link", "Links"]


@dataclass(frozen=True)
class Link:
    """Who a Slack user is on JARVICE (the key stays in the store)."""

    slack_user_id: str
    slack_team_id: str | None
    jarvice_username: str
    linked_at: dt.datetime
    updated_at: dt.datetime


class Links:
    """Read and change user links. Keys are sealed before they are written
    and opened only by `credentials()`."""

    def __init__(self, engine: AsyncEngine, keys: KeyBox | None) -> None:
        self._engine = engine
        self._keys = keys

    async def save(
        self,
        slack_user_id: str,
        credentials: Credentials,
        *,
        slack_team_id: str | None = None,
    ) -> Link:
        """Link (or re-link) a Slack user to JARVICE credentials."""
        now = utcnow()
        row = {
            "slack_user_id": slack_user_id,
            "slack_team_id": slack_team_id,
            "jarvice_username": credentials.username,
            "apikey_encrypted": self._box().seal(credentials.apikey),
            "linked_at": now,
            "updated_at": now,
        }
        async with self._engine.begin() as connection:
            await upsert(
                connection,
                slack_links,
                row,
                key=("slack_user_id",),
                keep=("linked_at",),
            )
            found = await connection.execute(
                sa.select(*_PUBLIC).where(slack_links.c.slack_user_id == slack_user_id)
            )
            return Link(**found.one()._asdict())

    async def get(self, slack_user_id: str) -> Link | None:
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(*_PUBLIC).where(slack_links.c.slack_user_id == slack_user_id)
            )
            row = found.one_or_none()
        return Link(**row._asdict()) if row else None

    async def credentials(self, slack_user_id: str) -> Credentials | None:
        """The decrypted JARVICE credentials of a linked user, else None."""
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(
                    slack_links.c.jarvice_username, slack_links.c.apikey_encrypted
                ).where(slack_links.c.slack_user_id == slack_user_id)
            )
            row = found.one_or_none()
        if row is None:
            return None
        return Credentials(
            username=row.jarvice_username,
            apikey=self._box().open(row.apikey_encrypted),
        )

    async def remove(self, slack_user_id: str) -> bool:
        """Unlink; True if there was a link."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                sa.delete(slack_links)
                .where(slack_links.c.slack_user_id == slack_user_id)
                .returning(slack_links.c.slack_user_id)
            )
            return result.first() is not None

    async def all(self) -> list[Link]:
        """Every link, by Slack user id."""
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(*_PUBLIC).order_by(slack_links.c.slack_user_id)
            )
            return [Link(**row._asdict()) for row in found]

    async def for_jarvice_user(self, username: str) -> list[Link]:
        """The Slack users linked to one JARVICE user (usually one)."""
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(*_PUBLIC)
                .where(slack_links.c.jarvice_username == username)
                .order_by(slack_links.c.slack_user_id)
            )
            return [Link(**row._asdict()) for row in found]

    def _box(self) -> KeyBox:
        if self._keys is None:
            raise RuntimeError(
                "this store was opened without an encryption key, so it cannot "
                "read or write API keys (set JARVICE_TOOLS_ENCRYPTION_KEY)"
            )
        return self._keys


_PUBLIC = (
    slack_links.c.slack_user_id,
    slack_links.c.slack_team_id,
    slack_links.c.jarvice_username,
    slack_links.c.linked_at,
    slack_links.c.updated_at,
)
