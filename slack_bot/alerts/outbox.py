"""The outbox: Slack calls that must happen, kept until Slack takes them.

A row is `pending` until a sender claims it (`sending`), then `sent` with
the message's channel and `ts`, or `failed` when Slack refuses it for good.
A row may wait for a parent row (a thread's first message, a summary) to be
sent first; it then goes into that message's thread. Every row has a unique
`key`, so the same message is never queued twice, and the key travels with
the message as Slack message metadata: a sender that finds a row left in
`sending` by a crash looks for it in the channel before sending again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from slack_bot.alerts.lease import Lease
from slack_bot.alerts.tables import alert_deliveries, alert_outbox, alert_threads
from slack_bot.store import insert_ignore, utcnow

__all__ = ["Dropped", "Kind", "Message", "Outbox", "State", "enqueue"]

METADATA_EVENT = "jarvice_alert"


class State(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Kind(StrEnum):
    FINAL = "final"
    DM = "dm"
    START = "start"
    UPDATE = "update"
    SUMMARY = "summary"
    NOTICE = "notice"


@dataclass(frozen=True)
class Dropped:
    """A ledger row whose message was given up: which job, and which
    subscription asked for the alert."""

    outbox_id: int
    job_number: int
    subscription_id: int | None


@dataclass(frozen=True)
class Message:
    """One outbox row, with what its parent row tells about its thread."""

    id: int
    key: str
    kind: Kind
    method: str
    channel: str
    job_number: int | None
    payload: dict[str, Any]
    parent_id: int | None
    thread_ts: str | None
    state: State
    attempts: int
    uncertain: bool
    created_at: dt.datetime
    parent_state: State | None = None
    parent_ts: str | None = None
    parent_channel: str | None = None

    @property
    def args(self) -> dict[str, Any]:
        """The Slack call's arguments, as queued."""
        return dict(self.payload.get("args", {}))

    @property
    def facts(self) -> dict[str, Any]:
        return dict(self.payload.get("facts", {}))

    @property
    def summarisable(self) -> bool:
        return (
            self.kind is Kind.FINAL
            and self.parent_id is None
            and self.thread_ts is None
            and self.attempts == 0
            and bool(self.payload.get("summarise"))
        )

    def target(self) -> tuple[str, str | None]:
        """The channel and thread to post to, once any parent was sent."""
        if self.parent_id is not None and self.parent_state is State.SENT:
            return self.parent_channel or self.channel, self.parent_ts
        return self.channel, self.thread_ts


async def enqueue(
    connection: AsyncConnection,
    *,
    key: str,
    kind: Kind,
    channel: str,
    args: dict[str, Any],
    job_number: int | None = None,
    parent_id: int | None = None,
    thread_ts: str | None = None,
    method: str = "chat.postMessage",
    facts: dict[str, Any] | None = None,
    summarise: bool = False,
    now: dt.datetime | None = None,
) -> int | None:
    """Queue a Slack call inside the caller's transaction; its id, or None
    when a row with this key was queued before."""
    moment = now or utcnow()
    payload = {"args": args, "facts": facts or {}, "summarise": summarise}
    row = {
        "key": key,
        "kind": kind.value,
        "method": method,
        "channel": channel,
        "job_number": job_number,
        "payload": json.dumps(payload, separators=(",", ":")),
        "parent_id": parent_id,
        "thread_ts": thread_ts,
        "state": State.PENDING.value,
        "attempts": 0,
        "uncertain": False,
        "next_attempt_at": moment,
        "created_at": moment,
    }
    if not await insert_ignore(connection, alert_outbox, row, key=("key",)):
        return None
    found = await connection.execute(
        sa.select(alert_outbox.c.id).where(alert_outbox.c.key == key)
    )
    return int(found.scalar_one())


_parent = alert_outbox.alias("parent")


class Outbox:
    """Reading and settling outbox rows (the sender's side)."""

    def __init__(
        self, engine: AsyncEngine, *, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self._engine = engine
        self.clock = clock

    async def due(
        self,
        now: dt.datetime,
        *,
        grace: float,
        skip: frozenset[str] = frozenset(),
        limit: int = 200,
    ) -> list[Message]:
        """Rows to act on now, oldest first: pending and due with any parent
        settled, and rows left `sending` longer than `grace` seconds; none
        for the channels in `skip`."""
        table = alert_outbox
        stale = now - dt.timedelta(seconds=grace)
        ready_parent = sa.or_(
            table.c.parent_id.is_(None),
            _parent.c.state.in_([State.SENT.value, State.FAILED.value]),
        )
        query = (
            sa.select(
                table,
                _parent.c.state.label("parent_state"),
                _parent.c.ts.label("parent_ts"),
                _parent.c.sent_channel.label("parent_channel"),
            )
            .select_from(table.outerjoin(_parent, table.c.parent_id == _parent.c.id))
            .where(
                sa.or_(
                    sa.and_(
                        table.c.state == State.PENDING.value,
                        table.c.next_attempt_at <= now,
                        ready_parent,
                    ),
                    sa.and_(
                        table.c.state == State.SENDING.value,
                        table.c.sending_since <= stale,
                    ),
                ),
                table.c.channel.not_in(sorted(skip)),
            )
            .order_by(table.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            found = await connection.execute(query)
            return [_message(row) for row in found]

    async def next_due(self) -> dt.datetime | None:
        """When the earliest pending row becomes due."""
        table = alert_outbox
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(sa.func.min(table.c.next_attempt_at)).where(
                    table.c.state == State.PENDING.value
                )
            )
            value = found.scalar_one_or_none()
        return value if isinstance(value, dt.datetime) else None

    async def depth(self) -> int:
        """How many rows wait to be delivered (pending or being sent)."""
        table = alert_outbox
        waiting = [State.PENDING.value, State.SENDING.value]
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(sa.func.count()).where(table.c.state.in_(waiting))
            )
            return int(found.scalar_one())

    async def claim(
        self, message: Message, lease: Lease, now: dt.datetime, *, grace: float
    ) -> bool:
        """Mark a row as being sent by us (fenced by the lease)."""
        table = alert_outbox
        stale = now - dt.timedelta(seconds=grace)
        async with self._engine.begin() as connection:
            await lease.fence(connection)
            result = await connection.execute(
                sa.update(table)
                .where(
                    table.c.id == message.id,
                    sa.or_(
                        table.c.state == State.PENDING.value,
                        sa.and_(
                            table.c.state == State.SENDING.value,
                            table.c.sending_since <= stale,
                        ),
                    ),
                )
                .values(
                    state=State.SENDING.value,
                    sending_since=now,
                    attempts=table.c.attempts + 1,
                )
                .returning(table.c.id)
            )
            return result.first() is not None

    async def sent(self, message: Message, *, channel: str, ts: str | None) -> None:
        """Slack took the message: record where it is."""
        now = self.clock()
        async with self._engine.begin() as connection:
            await connection.execute(
                sa.update(alert_outbox)
                .where(alert_outbox.c.id == message.id)
                .values(
                    state=State.SENT.value,
                    sent_at=now,
                    sent_channel=channel,
                    ts=ts,
                    uncertain=False,
                    last_error=None,
                )
            )
            await connection.execute(
                sa.update(alert_deliveries)
                .where(alert_deliveries.c.outbox_id == message.id)
                .values(state="delivered", delivered_at=now)
            )
            await connection.execute(
                sa.update(alert_threads)
                .where(alert_threads.c.outbox_id == message.id)
                .values(ts=ts)
            )

    async def retry(
        self,
        message: Message,
        *,
        at: dt.datetime,
        error: str,
        uncertain: bool,
    ) -> None:
        """Try again at `at`; `uncertain` if the message may have been posted.

        Only while the row is still ours: in `sending` under the claim that
        counted this attempt. A sender that stalled past the grace period
        cannot put back to `pending` a row another sender has since claimed
        or sent."""
        table = alert_outbox
        async with self._engine.begin() as connection:
            await connection.execute(
                sa.update(table)
                .where(
                    table.c.id == message.id,
                    table.c.state == State.SENDING.value,
                    table.c.attempts == message.attempts + 1,
                )
                .values(
                    state=State.PENDING.value,
                    next_attempt_at=at,
                    last_error=error[:500],
                    uncertain=uncertain or message.uncertain,
                )
            )

    async def fail(self, ids: Iterable[int], *, error: str) -> list[Dropped]:
        """Slack refused for good: stop trying these rows; the ledger rows
        (alerts owed to a subscription) that are given up with them."""
        ids = list(ids)
        if not ids:
            return []
        ledger = alert_deliveries
        async with self._engine.begin() as connection:
            await connection.execute(
                sa.update(alert_outbox)
                .where(
                    alert_outbox.c.id.in_(ids),
                    alert_outbox.c.state != State.SENT.value,
                )
                .values(state=State.FAILED.value, last_error=error[:500])
            )
            given_up = await connection.execute(
                sa.update(ledger)
                .where(ledger.c.outbox_id.in_(ids), ledger.c.state != "delivered")
                .values(state="failed")
                .returning(
                    ledger.c.outbox_id, ledger.c.job_number, ledger.c.subscription_id
                )
            )
            return [
                Dropped(int(row.outbox_id), int(row.job_number), row.subscription_id)
                for row in given_up
            ]

    async def unsent_in(self, channel: str) -> list[int]:
        """Rows for a channel that have not been sent."""
        table = alert_outbox
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(table.c.id).where(
                    table.c.channel == channel,
                    table.c.state.in_([State.PENDING.value, State.SENDING.value]),
                )
            )
            return [int(row.id) for row in found]

    async def prune(
        self, *, messages_before: dt.datetime, deliveries_before: dt.datetime
    ) -> int:
        """Forget settled messages and job threads older than
        `messages_before`, and ledger rows older than `deliveries_before`;
        the number of rows removed."""
        settled = [State.SENT.value, State.FAILED.value]
        async with self._engine.begin() as connection:
            removed = await connection.execute(
                sa.delete(alert_outbox).where(
                    alert_outbox.c.state.in_(settled),
                    alert_outbox.c.created_at < messages_before,
                )
            )
            threads = await connection.execute(
                sa.delete(alert_threads).where(
                    alert_threads.c.created_at < messages_before
                )
            )
            ledger = await connection.execute(
                sa.delete(alert_deliveries).where(
                    alert_deliveries.c.created_at < deliveries_before,
                    alert_deliveries.c.state != "queued",
                )
            )
        return int(removed.rowcount + threads.rowcount + ledger.rowcount)

    async def summarise(
        self,
        channel: str,
        members: Sequence[Message],
        args: dict[str, Any],
        lease: Lease,
    ) -> int | None:
        """Put `members` in the thread of a new summary row, atomically."""
        first = members[0]
        ids = [m.id for m in members]
        async with self._engine.begin() as connection:
            await lease.fence(connection)
            summary = await enqueue(
                connection,
                now=self.clock(),
                key=f"summary:{channel}:{first.id}",
                kind=Kind.SUMMARY,
                channel=channel,
                args=args,
            )
            if summary is None:
                return None
            table = alert_outbox
            await connection.execute(
                sa.update(table)
                .where(
                    table.c.id.in_(ids),
                    table.c.state == State.PENDING.value,
                    table.c.parent_id.is_(None),
                )
                .values(parent_id=summary)
            )
            return summary


def _message(row: Any) -> Message:
    parent_state = row.parent_state
    return Message(
        id=int(row.id),
        key=row.key,
        kind=Kind(row.kind),
        method=row.method,
        channel=row.channel,
        job_number=row.job_number,
        payload=json.loads(row.payload),
        parent_id=row.parent_id,
        thread_ts=row.thread_ts,
        state=State(row.state),
        attempts=int(row.attempts),
        uncertain=bool(row.uncertain),
        created_at=row.created_at,
        parent_state=State(parent_state) if parent_state else None,
        parent_ts=row.parent_ts,
        parent_channel=row.parent_channel,
    )
