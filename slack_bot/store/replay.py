"""Refusing replayed Slack requests.

Slack signs each request with a timestamp, and a signature older than five
minutes is refused anyway. Within those five minutes a captured request
could be sent again (submitting a second job, say): the first sighting of a
signature claims it in the store, so a second one is refused on any
replica.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from slack_bot.store.schema import seen_requests, utcnow
from slack_bot.store.sql import insert_ignore

__all__ = ["REPLAY_WINDOW", "ReplayGuard"]

REPLAY_WINDOW = dt.timedelta(minutes=6)
"""How long a signature is remembered: Slack's five minutes, plus slack."""


class ReplayGuard:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._since_purge = 0

    async def first_sighting(self, timestamp: str, signature: str) -> bool:
        """True the first time this signed request is seen, False after."""
        digest = hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()
        now = utcnow()
        async with self._engine.begin() as connection:
            fresh = await insert_ignore(
                connection,
                seen_requests,
                {"digest": digest, "seen_at": now},
                key=("digest",),
            )
            self._since_purge += 1
            if self._since_purge >= 200:
                self._since_purge = 0
                await connection.execute(
                    sa.delete(seen_requests).where(
                        seen_requests.c.seen_at < now - REPLAY_WINDOW
                    )
                )
        return fresh
