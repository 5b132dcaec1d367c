"""Pending confirmations: a confirm card shown, waiting for its asker's click.

They live in the store because the click may reach another replica than the
one that showed the card. `decide` is one conditional UPDATE, so of two
clicks (on one replica or two) exactly one wins.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from slack_bot.store.schema import pending_confirmations, utcnow

__all__ = ["Confirmations", "Decision", "PendingConfirmation", "Verdict"]

_table = pending_confirmations


class Verdict(StrEnum):
    """What became of a click on a confirm card."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    NOT_FOUND = "not-found"
    NOT_YOURS = "not-yours"
    EXPIRED = "expired"
    ALREADY_DECIDED = "already-decided"


@dataclass(frozen=True)
class PendingConfirmation:
    id: str
    slack_user_id: str
    slack_team_id: str | None
    channel_id: str | None
    jarvice_username: str
    action: str
    arguments: dict[str, Any]
    fingerprint: str
    summary: str
    state: str
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class Decision:
    """The verdict on a click, and the confirmation it was about (None when
    the id is unknown)."""

    verdict: Verdict
    pending: PendingConfirmation | None

    @property
    def won(self) -> bool:
        """True if this click confirmed or cancelled the card."""
        return self.verdict in (Verdict.CONFIRMED, Verdict.CANCELLED)


class Confirmations:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        *,
        slack_user_id: str,
        jarvice_username: str,
        action: str,
        arguments: dict[str, Any],
        fingerprint: str,
        summary: str,
        ttl: float,
        slack_team_id: str | None = None,
        channel_id: str | None = None,
    ) -> PendingConfirmation:
        """Record a card waiting for `slack_user_id`'s click; the id goes in
        the buttons' values. `arguments` must hold no secret."""
        now = utcnow()
        row = {
            "id": secrets.token_urlsafe(24),
            "slack_user_id": slack_user_id,
            "slack_team_id": slack_team_id,
            "channel_id": channel_id,
            "jarvice_username": jarvice_username,
            "action": action,
            "arguments": json.dumps(arguments, sort_keys=True),
            "fingerprint": fingerprint,
            "summary": summary,
            "state": "pending",
            "created_at": now,
            "expires_at": now + dt.timedelta(seconds=ttl),
            "decided_at": None,
        }
        async with self._engine.begin() as connection:
            await connection.execute(sa.insert(_table).values(**row))
        return _pending(row)

    async def get(self, confirmation_id: str) -> PendingConfirmation | None:
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(_table).where(_table.c.id == confirmation_id)
            )
            row = found.one_or_none()
        return _pending(row._asdict()) if row else None

    async def decide(
        self,
        confirmation_id: str,
        *,
        slack_user_id: str,
        confirm: bool,
        now: dt.datetime | None = None,
    ) -> Decision:
        """Confirm or cancel for `slack_user_id`. Only the asker, only while
        pending and unexpired, and only once, across all replicas."""
        now = now or utcnow()
        state = "confirmed" if confirm else "cancelled"
        async with self._engine.begin() as connection:
            result = await connection.execute(
                sa.update(_table)
                .where(
                    _table.c.id == confirmation_id,
                    _table.c.slack_user_id == slack_user_id,
                    _table.c.state == "pending",
                    _table.c.expires_at > now,
                )
                .values(state=state, decided_at=now)
                .returning(_table.c.id)
            )
            won = result.first() is not None
            found = await connection.execute(
                sa.select(_table).where(_table.c.id == confirmation_id)
            )
            row = found.one_or_none()
        if row is None:
            return Decision(Verdict.NOT_FOUND, None)
        pending = _pending(row._asdict())
        if won:
            return Decision(Verdict(state), pending)
        if pending.slack_user_id != slack_user_id:
            return Decision(Verdict.NOT_YOURS, pending)
        if pending.state != "pending":
            return Decision(Verdict.ALREADY_DECIDED, pending)
        return Decision(Verdict.EXPIRED, pending)

    async def purge(self, *, older_than: dt.timedelta) -> int:
        """Delete confirmations that expired more than `older_than` ago."""
        cutoff = utcnow() - older_than
        async with self._engine.begin() as connection:
            result = await connection.execute(
                sa.delete(_table)
                .where(_table.c.expires_at < cutoff)
                .returning(_table.c.id)
            )
            return len(result.all())


def _pending(row: dict[str, Any]) -> PendingConfirmation:
    values = dict(row)
    values["arguments"] = json.loads(values["arguments"])
    return PendingConfirmation(**values)
