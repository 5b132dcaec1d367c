"""The poller lease: one replica at a time polls JARVICE and sends alerts.

A row in `alert_lease` names the holder and when its lease ends. The holder
renews it every third of its length; when the holder dies, another replica
takes it once it has expired, so takeover happens within one lease length
plus one renewal period. Every take-over increments `token`, and every
write the poller makes checks, inside its own transaction, that it still
holds the lease with that token (`fence`): a paused old leader that wakes
up cannot record anything after it was replaced.

Times are the replicas' own UTC clocks; replicas are expected to keep them
in step (NTP), to well under the lease length.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from slack_bot.alerts.tables import alert_lease
from slack_bot.store import insert_ignore, utcnow

__all__ = ["Lease", "LeaseLost", "holder_name"]

logger = logging.getLogger("slack_bot.alerts")

POLLER = "poller"


class LeaseLost(Exception):
    """This replica no longer holds the poller lease."""


def holder_name() -> str:
    """A name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """This replica's view of the poller lease."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        seconds: float,
        holder: str | None = None,
        name: str = POLLER,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self.seconds = seconds
        self.holder = holder or holder_name()
        self.name = name
        self._clock = clock
        self.token: int | None = None
        self.expires_at: dt.datetime | None = None

    def held(self, *, margin: float = 0.0) -> bool:
        """Whether this replica believes it holds the lease for `margin`
        more seconds (no database call)."""
        if self.token is None or self.expires_at is None:
            return False
        return self._clock() + dt.timedelta(seconds=margin) < self.expires_at

    async def acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew ours."""
        now = self._clock()
        expires = now + dt.timedelta(seconds=self.seconds)
        async with self._engine.begin() as connection:
            token = await self._renew(connection, now, expires)
            if token is None:
                token = await self._take(connection, now, expires)
        if token is None:
            if self.token is not None:
                logger.warning("%s lost the poller lease", self.holder)
            self.token = self.expires_at = None
            return False
        if token != self.token:
            logger.info("%s holds the poller lease (token %d)", self.holder, token)
        self.token, self.expires_at = token, expires
        return True

    async def _renew(
        self, connection: AsyncConnection, now: dt.datetime, expires: dt.datetime
    ) -> int | None:
        if self.token is None:
            return None
        table = alert_lease
        result = await connection.execute(
            sa.update(table)
            .where(
                table.c.name == self.name,
                table.c.holder == self.holder,
                table.c.token == self.token,
            )
            .values(expires_at=expires)
            .returning(table.c.token)
        )
        row = result.first()
        return int(row.token) if row else None

    async def _take(
        self, connection: AsyncConnection, now: dt.datetime, expires: dt.datetime
    ) -> int | None:
        table = alert_lease
        result = await connection.execute(
            sa.update(table)
            .where(table.c.name == self.name, table.c.expires_at < now)
            .values(
                holder=self.holder,
                token=table.c.token + 1,
                acquired_at=now,
                expires_at=expires,
            )
            .returning(table.c.token)
        )
        row = result.first()
        if row is not None:
            return int(row.token)
        first = {
            "name": self.name,
            "holder": self.holder,
            "token": 1,
            "acquired_at": now,
            "expires_at": expires,
        }
        if await insert_ignore(connection, table, first, key=("name",)):
            return 1
        return None

    async def fence(self, connection: AsyncConnection) -> None:
        """Inside a transaction: raise `LeaseLost` unless we still hold the
        lease. On PostgreSQL this also locks the lease row until commit, so no
        other replica can take over half-way through our transaction."""
        if self.token is None:
            raise LeaseLost(f"{self.holder} does not hold the poller lease")
        table = alert_lease
        result = await connection.execute(
            sa.update(table)
            .where(
                table.c.name == self.name,
                table.c.holder == self.holder,
                table.c.token == self.token,
                table.c.expires_at > self._clock(),
            )
            .values(token=table.c.token)
            .returning(table.c.token)
        )
        if result.first() is None:
            self.token = self.expires_at = None
            raise LeaseLost(f"{self.holder} lost the poller lease")

    async def release(self) -> None:
        """Give the lease up at once (a clean shutdown), so another replica
        need not wait for it to expire."""
        if self.token is None:
            return
        table = alert_lease
        async with self._engine.begin() as connection:
            await connection.execute(
                sa.update(table)
                .where(
                    table.c.name == self.name,
                    table.c.holder == self.holder,
                    table.c.token == self.token,
                )
                .values(expires_at=self._clock() - dt.timedelta(seconds=1))
            )
        logger.info("%s released the poller lease", self.holder)
        self.token = self.expires_at = None
