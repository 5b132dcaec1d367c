"""Subscriptions: what each channel follows, and who is watched for it.

A subscription belongs to a channel and is polled with the credentials of
the Slack user who created it, so nobody sees jobs their own JARVICE account
could not see. `StoreUsers` turns the active subscriptions into the
watcher's `WatchedUser`s; `matches` decides which subscriptions hear of an
event.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jarvice_tools.settings import Caller
from jarvice_tools.watch import JobEvent, WatchedUser
from slack_bot.alerts.tables import alert_subscriptions
from slack_bot.store import Links, UnreadableSecret, utcnow

__all__ = [
    "Origin",
    "Scope",
    "StoreUsers",
    "Subscription",
    "Subscriptions",
    "matches",
]

logger = logging.getLogger("slack_bot.alerts")


class Scope(StrEnum):
    JOB = "job"
    MINE = "mine"
    USER = "user"
    TEAM = "team"


class Origin(StrEnum):
    COMMAND = "command"
    SUBMIT = "submit"


@dataclass(frozen=True)
class Subscription:
    id: int
    channel_id: str
    slack_user_id: str
    jarvice_username: str
    scope: Scope
    owner: str | None
    job_number: int | None
    failures_only: bool
    app: str | None
    origin: Origin
    active: bool
    ended_reason: str | None
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any) -> Subscription:
        values = row._asdict()
        values.pop("ended_at", None)
        values["scope"] = Scope(values["scope"])
        values["origin"] = Origin(values["origin"])
        return cls(**values)

    def watched_user(self, caller: Caller) -> WatchedUser:
        if self.scope is Scope.JOB and self.job_number is not None:
            return WatchedUser(caller, jobs=frozenset({self.job_number}))
        if self.scope is Scope.TEAM:
            return WatchedUser(caller, team=True)
        if self.scope is Scope.USER and self.owner != self.jarvice_username:
            return WatchedUser(caller, team=True, owners=frozenset({self.owner or ""}))
        return WatchedUser(caller)


def matches(subscription: Subscription, event: JobEvent) -> bool:
    """Whether a subscription hears of an event."""
    if not subscription.active:
        return False
    if subscription.jarvice_username not in event.watchers:
        return False
    if subscription.failures_only and event.status == "COMPLETED":
        return False
    if subscription.app and event.job.job_application != subscription.app:
        return False
    scope = subscription.scope
    if scope is Scope.JOB:
        return event.number == subscription.job_number
    if scope is Scope.MINE:
        return event.owner == subscription.jarvice_username
    if scope is Scope.USER:
        return event.owner == subscription.owner
    return True


class Subscriptions:
    """Read and change the subscriptions table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self,
        *,
        channel_id: str,
        slack_user_id: str,
        jarvice_username: str,
        scope: Scope,
        owner: str | None = None,
        job_number: int | None = None,
        failures_only: bool = False,
        app: str | None = None,
        origin: Origin = Origin.COMMAND,
    ) -> tuple[Subscription, bool]:
        """Add a subscription; an identical active one is returned instead
        (with False)."""
        wanted = {
            "channel_id": channel_id,
            "jarvice_username": jarvice_username,
            "scope": scope.value,
            "owner": owner,
            "job_number": job_number,
            "failures_only": failures_only,
            "app": app,
        }
        async with self._engine.begin() as connection:
            same = await self._find_same(connection, wanted)
            if same is not None:
                return same, False
            row = {
                **wanted,
                "slack_user_id": slack_user_id,
                "origin": origin.value,
                "active": True,
                "created_at": utcnow(),
            }
            result = await connection.execute(
                sa.insert(alert_subscriptions)
                .values(**row)
                .returning(*alert_subscriptions.c)
            )
            created = Subscription.from_row(result.one())
        logger.info(
            "subscription %d: %s in %s by %s",
            created.id,
            scope.value,
            channel_id,
            slack_user_id,
        )
        return created, True

    async def _find_same(
        self, connection: AsyncConnection, wanted: dict[str, Any]
    ) -> Subscription | None:
        table = alert_subscriptions
        conditions: list[sa.ColumnElement[bool]] = [table.c.active.is_(True)]
        for name, value in wanted.items():
            column = table.c[name]
            conditions.append(column.is_(None) if value is None else column == value)
        found = await connection.execute(sa.select(table).where(*conditions))
        row = found.first()
        return Subscription.from_row(row) if row else None

    async def in_channel(self, channel_id: str) -> list[Subscription]:
        """A channel's active subscriptions, oldest first."""
        table = alert_subscriptions
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(table)
                .where(table.c.channel_id == channel_id, table.c.active.is_(True))
                .order_by(table.c.id)
            )
            return [Subscription.from_row(row) for row in found]

    async def with_ids(self, ids: Iterable[int]) -> list[Subscription]:
        """Subscriptions by id, active or ended, oldest first."""
        wanted = sorted(set(ids))
        if not wanted:
            return []
        table = alert_subscriptions
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(table).where(table.c.id.in_(wanted)).order_by(table.c.id)
            )
            return [Subscription.from_row(row) for row in found]

    async def active(self) -> list[Subscription]:
        table = alert_subscriptions
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(table).where(table.c.active.is_(True)).order_by(table.c.id)
            )
            return [Subscription.from_row(row) for row in found]

    async def end(
        self, ids: Iterable[int], *, reason: str, channel_id: str | None = None
    ) -> list[int]:
        """End subscriptions (in one channel, if given); the ids ended."""
        async with self._engine.begin() as connection:
            return await end_subscriptions(
                connection, ids=ids, reason=reason, channel_id=channel_id
            )


async def end_subscriptions(
    connection: AsyncConnection,
    *,
    reason: str,
    ids: Iterable[int] | None = None,
    channel_id: str | None = None,
    job_numbers: Iterable[int] | None = None,
) -> list[int]:
    """End the matching active subscriptions inside a caller's transaction."""
    table = alert_subscriptions
    conditions: list[sa.ColumnElement[bool]] = [table.c.active.is_(True)]
    if ids is not None:
        conditions.append(table.c.id.in_(list(ids)))
    if channel_id is not None:
        conditions.append(table.c.channel_id == channel_id)
    if job_numbers is not None:
        conditions.append(table.c.scope == Scope.JOB.value)
        conditions.append(table.c.job_number.in_(list(job_numbers)))
    result = await connection.execute(
        sa.update(table)
        .where(*conditions)
        .values(active=False, ended_reason=reason, ended_at=utcnow())
        .returning(table.c.id)
    )
    return sorted(row.id for row in result)


class StoreUsers:
    """The watcher's `UserSource`: the creators of active subscriptions,
    with the credentials they linked (decrypted only here, in memory)."""

    def __init__(self, subscriptions: Subscriptions, links: Links) -> None:
        self.subscriptions = subscriptions
        self.links = links
        self.current: list[Subscription] = []
        self.callers: dict[str, Caller] = {}

    async def watched_users(self) -> Sequence[WatchedUser]:
        """Called by the watcher before each poll; also keeps, for the rest
        of the poll, the subscriptions and callers it found."""
        current = await self.subscriptions.active()
        by_slack_user: dict[str, Caller | None] = {}
        users: list[WatchedUser] = []
        callers: dict[str, Caller] = {}
        for subscription in current:
            slack_user = subscription.slack_user_id
            if slack_user not in by_slack_user:
                by_slack_user[slack_user] = await self._caller(slack_user)
            caller = by_slack_user[slack_user]
            if caller is None or caller.username != subscription.jarvice_username:
                continue
            callers.setdefault(caller.username, caller)
            users.append(subscription.watched_user(caller))
        self.current, self.callers = current, callers
        return users

    async def _caller(self, slack_user_id: str) -> Caller | None:
        try:
            credentials = await self.links.credentials(slack_user_id)
        except UnreadableSecret:
            logger.warning(
                "the API key of %s cannot be decrypted; their alerts pause",
                slack_user_id,
            )
            return None
        if credentials is None:
            return None
        return Caller(credentials=credentials)
