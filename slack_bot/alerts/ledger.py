"""Recording a poll: the watcher's state, the delivery ledger and the outbox,
in one transaction fenced by the poller lease.

For each finished job and each destination that should hear of it, a row is
claimed in `alert_deliveries` under the unique key (job, final state,
destination) before its message is queued. A destination that already has
the row (an earlier poll, another replica, a poll repeated after a crash)
gets nothing new. The watcher's new state is written in the same
transaction, so a crash before the commit leaves the old state and the next
poll finds the same events again; a crash after it finds them recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jarvice_tools.models.jobs import JobEntry
from jarvice_tools.summaries import BoundedText
from jarvice_tools.watch import (
    Cycle,
    Horizon,
    JobEvent,
    TrackedJob,
    WatchState,
)
from slack_bot.alerts import messages
from slack_bot.alerts.lease import Lease
from slack_bot.alerts.outbox import Kind, enqueue
from slack_bot.alerts.preferences import ChannelSettings, Notify
from slack_bot.alerts.subscriptions import end_subscriptions
from slack_bot.alerts.tables import (
    alert_deliveries,
    alert_outbox,
    alert_threads,
    alert_watch_jobs,
    alert_watch_owners,
)
from slack_bot.store import insert_ignore, utcnow

__all__ = ["Delivery", "Ledger", "Owner", "Plan"]

logger = logging.getLogger("slack_bot.alerts")


@dataclass(frozen=True)
class Owner:
    """How an alert names a job's owner."""

    name: str
    slack_user_id: str | None = None
    notify: Notify = Notify.NONE

    def shown(self) -> str:
        if self.slack_user_id and self.notify is Notify.MENTION:
            return f"<@{self.slack_user_id}>"
        return self.name


@dataclass(frozen=True)
class Delivery:
    """One event to tell one channel, by the first subscription that matched."""

    event: JobEvent
    channel_id: str
    subscription_id: int


@dataclass
class Plan:
    """What a poll should queue, worked out before the transaction."""

    finals: list[Delivery] = field(default_factory=list)
    starts: list[Delivery] = field(default_factory=list)
    settings: dict[str, ChannelSettings] = field(default_factory=dict)
    owners: dict[int, Owner] = field(default_factory=dict)
    outputs: dict[int, BoundedText | str] = field(default_factory=dict)
    ended_watches: list[int] = field(default_factory=list)
    """Job watches (subscription ids) that end with this poll."""
    now: dt.datetime = field(default_factory=utcnow)


class Ledger:
    """The poller's writes: state, deliveries and their messages."""

    def __init__(
        self,
        engine: AsyncEngine,
        lease: Lease,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self.lease = lease
        self.clock = clock

    async def load_state(self) -> WatchState:
        """The watcher state last recorded (by any replica)."""
        async with self._engine.connect() as connection:
            jobs = await connection.execute(sa.select(alert_watch_jobs))
            owners = list(await connection.execute(sa.select(alert_watch_owners)))
            tracked: dict[int, TrackedJob] = {}
            finished: dict[int, float] = {}
            for row in jobs:
                if row.finished_at is not None:
                    finished[int(row.job_number)] = float(row.finished_at)
                    continue
                tracked[int(row.job_number)] = TrackedJob(
                    number=int(row.job_number),
                    owner=row.owner,
                    status=row.status,
                    job=JobEntry.model_validate_json(row.job),
                    seen_by=row.seen_by,
                    explicit=bool(row.explicit),
                )
            return WatchState(
                jobs=tracked,
                known_owners=frozenset(row.username for row in owners),
                finished=finished,
                horizons={
                    row.username: Horizon(row.horizon_floor, row.horizon_latest)
                    for row in owners
                    if row.horizon_floor is not None and row.horizon_latest is not None
                },
            )

    async def undelivered(self, claims: Iterable[tuple[int, str, str]]) -> set[int]:
        """Of (job, final state, destination) claims, the jobs with one not
        yet made (whose alert is still to be queued somewhere)."""
        wanted = list(claims)
        if not wanted:
            return set()
        table = alert_deliveries
        async with self._engine.connect() as connection:
            found = await connection.execute(
                sa.select(
                    table.c.job_number, table.c.final_status, table.c.destination
                ).where(table.c.job_number.in_(sorted({n for n, _, _ in wanted})))
            )
            made = {(int(r.job_number), r.final_status, r.destination) for r in found}
        return {n for n, status, to in wanted if (n, status, to) not in made}

    async def record(self, previous: WatchState, cycle: Cycle, plan: Plan) -> int:
        """Write a poll's outcome; the number of new messages queued."""
        queued = 0
        plan.now = self.clock()
        async with self._engine.begin() as connection:
            await self.lease.fence(connection)
            await _save_state(connection, previous, cycle.state, plan.now)
            for delivery in plan.starts:
                queued += await _queue_start(connection, delivery, plan)
            for delivery in plan.finals:
                queued += await _queue_final(connection, delivery, plan)
            queued += await _queue_direct(connection, plan)
            if plan.ended_watches:
                await end_subscriptions(
                    connection, reason="job ended", ids=plan.ended_watches
                )
        if queued:
            logger.info("queued %d alert messages", queued)
        return queued


async def _save_state(
    connection: AsyncConnection,
    previous: WatchState,
    state: WatchState,
    now: dt.datetime,
) -> None:
    table = alert_watch_jobs
    gone = [n for n in previous.jobs if n not in state.jobs]
    gone += [n for n in previous.finished if n not in state.finished]
    if gone:
        await connection.execute(sa.delete(table).where(table.c.job_number.in_(gone)))
    rows = [
        _job_row(job)
        for number, job in state.jobs.items()
        if previous.jobs.get(number) != job
    ]
    for number, at in state.finished.items():
        if number not in previous.finished:
            rows.append(_finished_row(number, at, previous.jobs.get(number)))
    if rows:
        replaced = [row["job_number"] for row in rows]
        await connection.execute(
            sa.delete(table).where(table.c.job_number.in_(replaced))
        )
        await connection.execute(sa.insert(table), rows)
    await _save_owners(connection, previous, state, now)


async def _save_owners(
    connection: AsyncConnection,
    previous: WatchState,
    state: WatchState,
    now: dt.datetime,
) -> None:
    """Users seen for the first time, and horizons that moved."""
    table = alert_watch_owners
    moved = {
        name: horizon
        for name, horizon in state.horizons.items()
        if previous.horizons.get(name) != horizon
    }
    for username in sorted((state.known_owners - previous.known_owners) | set(moved)):
        await insert_ignore(
            connection,
            table,
            {"username": username, "first_seen_at": now},
            key=("username",),
        )
    for username, horizon in sorted(moved.items()):
        await connection.execute(
            sa.update(table)
            .where(table.c.username == username)
            .values(horizon_floor=horizon.floor, horizon_latest=horizon.latest)
        )


def _job_row(job: TrackedJob) -> dict[str, object]:
    return {
        "job_number": job.number,
        "owner": job.owner,
        "status": job.status,
        "seen_by": job.seen_by,
        "explicit": job.explicit,
        "job": job.job.model_dump_json(exclude_none=True),
        "finished_at": None,
    }


def _finished_row(number: int, at: float, job: TrackedJob | None) -> dict[str, object]:
    return {
        "job_number": number,
        "owner": job.owner if job else None,
        "status": job.status if job else "",
        "seen_by": job.seen_by if job else "",
        "explicit": bool(job and job.explicit),
        "job": "{}",
        "finished_at": at,
    }


async def _thread(
    connection: AsyncConnection, channel: str, number: int
) -> tuple[int | None, str | None, str | None] | None:
    """The thread of a job in a channel: (outbox id, ts, kind of its root)."""
    found = await connection.execute(
        sa.select(alert_threads.c.outbox_id, alert_threads.c.ts, alert_outbox.c.kind)
        .select_from(
            alert_threads.outerjoin(
                alert_outbox, alert_threads.c.outbox_id == alert_outbox.c.id
            )
        )
        .where(
            alert_threads.c.channel_id == channel,
            alert_threads.c.job_number == number,
        )
    )
    row = found.first()
    return (row.outbox_id, row.ts, row.kind) if row else None


async def _start_thread(
    connection: AsyncConnection,
    channel: str,
    number: int,
    outbox_id: int,
    now: dt.datetime,
) -> None:
    await insert_ignore(
        connection,
        alert_threads,
        {
            "channel_id": channel,
            "job_number": number,
            "outbox_id": outbox_id,
            "created_at": now,
        },
        key=("channel_id", "job_number"),
    )


async def _queue_start(
    connection: AsyncConnection, delivery: Delivery, plan: Plan
) -> int:
    event, channel = delivery.event, delivery.channel_id
    settings = plan.settings.get(channel, ChannelSettings())
    facts = messages.JobFacts.of(event.number, event.job)
    owner = plan.owners.get(event.number, Owner(event.owner or "unknown"))
    thread = (
        await _thread(connection, channel, event.number) if settings.threads else None
    )
    parent_id, thread_ts = (thread[0], thread[1]) if thread else (None, None)
    outbox_id = await enqueue(
        connection,
        now=plan.now,
        key=f"start:{event.number}:{channel}",
        kind=Kind.START,
        channel=channel,
        job_number=event.number,
        args=messages.started_notice(facts, owner=owner.shown()),
        parent_id=None if thread_ts else parent_id,
        thread_ts=thread_ts,
    )
    if outbox_id is None:
        return 0
    if settings.threads and thread is None:
        await _start_thread(connection, channel, event.number, outbox_id, plan.now)
    return 1


async def _queue_final(
    connection: AsyncConnection, delivery: Delivery, plan: Plan
) -> int:
    event, channel = delivery.event, delivery.channel_id
    claimed = await insert_ignore(
        connection,
        alert_deliveries,
        {
            "job_number": event.number,
            "final_status": event.status,
            "destination": channel,
            "subscription_id": delivery.subscription_id,
            "state": "queued",
            "created_at": plan.now,
        },
        key=("job_number", "final_status", "destination"),
    )
    if not claimed:
        return 0
    settings = plan.settings.get(channel, ChannelSettings())
    facts = messages.JobFacts.of(event.number, event.job)
    owner = plan.owners.get(event.number, Owner(event.owner or "unknown"))
    args = messages.final_alert(
        facts, owner=owner.shown(), output=plan.outputs.get(event.number)
    )
    thread = (
        await _thread(connection, channel, event.number) if settings.threads else None
    )
    parent_id = thread_ts = None
    if thread is not None:
        parent_id, thread_ts = (None, thread[1]) if thread[1] else (thread[0], None)
        args["reply_broadcast"] = settings.broadcast
    outbox_id = await enqueue(
        connection,
        now=plan.now,
        key=f"final:{event.number}:{event.status}:{channel}",
        kind=Kind.FINAL,
        channel=channel,
        job_number=event.number,
        args=args,
        parent_id=parent_id,
        thread_ts=thread_ts,
        facts=_facts(facts),
        summarise=settings.summarise and thread is None,
    )
    await _link_delivery(connection, event, channel, outbox_id)
    queued = 1
    if settings.threads and thread is None and outbox_id is not None:
        await _start_thread(connection, channel, event.number, outbox_id, plan.now)
    if thread is not None and thread[2] == Kind.START.value and thread[0] is not None:
        update = await enqueue(
            connection,
            now=plan.now,
            key=f"update:{event.number}:{channel}",
            kind=Kind.UPDATE,
            method="chat.update",
            channel=channel,
            job_number=event.number,
            args=messages.ended_update(facts, owner=owner.shown()),
            parent_id=thread[0],
        )
        queued += update is not None
    return queued


async def _queue_direct(connection: AsyncConnection, plan: Plan) -> int:
    """A direct message to owners who chose `dm`, once per job and state."""
    queued = 0
    done: set[int] = set()
    for delivery in plan.finals:
        event = delivery.event
        owner = plan.owners.get(event.number)
        if event.number in done or owner is None or owner.notify is not Notify.DM:
            continue
        if owner.slack_user_id is None:
            continue
        done.add(event.number)
        destination = f"dm:{owner.slack_user_id}"
        claimed = await insert_ignore(
            connection,
            alert_deliveries,
            {
                "job_number": event.number,
                "final_status": event.status,
                "destination": destination,
                "subscription_id": delivery.subscription_id,
                "state": "queued",
                "created_at": plan.now,
            },
            key=("job_number", "final_status", "destination"),
        )
        if not claimed:
            continue
        facts = messages.JobFacts.of(event.number, event.job)
        outbox_id = await enqueue(
            connection,
            now=plan.now,
            key=f"dm:{event.number}:{event.status}:{owner.slack_user_id}",
            kind=Kind.DM,
            channel=owner.slack_user_id,
            job_number=event.number,
            args=messages.final_alert(
                facts, owner=owner.name, output=plan.outputs.get(event.number)
            ),
        )
        await _link_delivery(connection, event, destination, outbox_id)
        queued += 1
    return queued


async def _link_delivery(
    connection: AsyncConnection,
    event: JobEvent,
    destination: str,
    outbox_id: int | None,
) -> None:
    table = alert_deliveries
    await connection.execute(
        sa.update(table)
        .where(
            table.c.job_number == event.number,
            table.c.final_status == event.status,
            table.c.destination == destination,
        )
        .values(outbox_id=outbox_id)
    )


def _facts(facts: messages.JobFacts) -> dict[str, object]:
    return {"number": facts.number, "status": facts.status, "name": facts.name}


def facts_from(payloads: Sequence[Mapping[str, object]]) -> list[messages.JobFacts]:
    """JobFacts for a summary, from the facts stored with each message."""
    found = []
    for item in payloads:
        number = item.get("number")
        if not isinstance(number, int):
            continue
        found.append(
            messages.JobFacts(
                number=number,
                status=str(item.get("status", "")),
                name=str(item.get("name", number)),
                app=None,
                machine=None,
                nodes=None,
                walltime=None,
                label=None,
            )
        )
    return found
