"""Per-channel alert settings and per-user notification choices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from slack_bot.alerts.tables import alert_channel_settings, alert_user_prefs
from slack_bot.store import upsert, utcnow

__all__ = ["ChannelSettings", "Notify", "Preferences"]


class Notify(StrEnum):
    """How the owner of a job hears of its alert."""

    MENTION = "mention"
    DM = "dm"
    NONE = "none"


@dataclass(frozen=True)
class ChannelSettings:
    """How a channel wants its alerts. The defaults suit most channels:
    threads on, final alerts in a thread also shown in the channel, no start
    notices, bursts summarised."""

    threads: bool = True
    broadcast: bool = True
    starts: bool = False
    summarise: bool = True

    def changed(self, **changes: Any) -> ChannelSettings:
        return replace(self, **changes)


class Preferences:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def channels(self, channel_ids: Iterable[str]) -> dict[str, ChannelSettings]:
        """Settings for each channel (defaults where none were saved)."""
        wanted = sorted(set(channel_ids))
        table = alert_channel_settings
        found: dict[str, ChannelSettings] = {c: ChannelSettings() for c in wanted}
        if not wanted:
            return found
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                sa.select(table).where(table.c.channel_id.in_(wanted))
            )
            for row in rows:
                found[row.channel_id] = ChannelSettings(
                    threads=row.threads,
                    broadcast=row.broadcast,
                    starts=row.starts,
                    summarise=row.summarise,
                )
        return found

    async def channel(self, channel_id: str) -> ChannelSettings:
        return (await self.channels([channel_id]))[channel_id]

    async def set_channel(
        self, channel_id: str, settings: ChannelSettings, *, by: str
    ) -> None:
        row = {
            "channel_id": channel_id,
            "threads": settings.threads,
            "broadcast": settings.broadcast,
            "starts": settings.starts,
            "summarise": settings.summarise,
            "updated_by": by,
            "updated_at": utcnow(),
        }
        async with self._engine.begin() as connection:
            await upsert(connection, alert_channel_settings, row, key=("channel_id",))

    async def notify(self, slack_user_ids: Iterable[str]) -> dict[str, Notify]:
        """Each user's choice (mention where none was saved)."""
        wanted = sorted(set(slack_user_ids))
        found = dict.fromkeys(wanted, Notify.MENTION)
        if not wanted:
            return found
        table = alert_user_prefs
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                sa.select(table).where(table.c.slack_user_id.in_(wanted))
            )
            for row in rows:
                found[row.slack_user_id] = Notify(row.notify)
        return found

    async def set_notify(self, slack_user_id: str, choice: Notify) -> None:
        row = {
            "slack_user_id": slack_user_id,
            "notify": choice.value,
            "updated_at": utcnow(),
        }
        async with self._engine.begin() as connection:
            await upsert(connection, alert_user_prefs, row, key=("slack_user_id",))
