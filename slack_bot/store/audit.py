"""The audit log: every command and click, who, what, and how it ended.

Arguments are stored as the caller's code gives them; callers pass values
that hold no secret (the Slack app stores parsed parameters with secret
fields masked, and only the names of arguments it could not parse).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from slack_bot.store.schema import audit_log, utcnow

__all__ = ["AuditEntry", "AuditLog"]


@dataclass(frozen=True)
class AuditEntry:
    kind: str
    """command, click or view (a modal submission)."""
    slack_user_id: str
    action: str
    outcome: str
    arguments: str = ""
    jarvice_username: str | None = None
    slack_team_id: str | None = None
    channel_id: str | None = None
    detail: str | None = None
    at: dt.datetime = field(default_factory=utcnow)
    id: int | None = None


class AuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, entry: AuditEntry) -> None:
        values = {
            "at": entry.at,
            "kind": entry.kind,
            "slack_user_id": entry.slack_user_id,
            "slack_team_id": entry.slack_team_id,
            "channel_id": entry.channel_id,
            "jarvice_username": entry.jarvice_username,
            "action": entry.action,
            "arguments": entry.arguments,
            "outcome": entry.outcome,
            "detail": entry.detail,
        }
        async with self._engine.begin() as connection:
            await connection.execute(sa.insert(audit_log).values(**values))

    async def recent(
        self,
        *,
        limit: int = 20,
        slack_user_id: str | None = None,
        action: str | None = None,
        since: dt.datetime | None = None,
    ) -> list[AuditEntry]:
        """The newest entries first, optionally for one user or action."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if slack_user_id:
            query = query.where(audit_log.c.slack_user_id == slack_user_id)
        if action:
            query = query.where(audit_log.c.action == action)
        if since:
            query = query.where(audit_log.c.at >= since)
        async with self._engine.connect() as connection:
            found = await connection.execute(query)
            return [AuditEntry(**row._asdict()) for row in found]
