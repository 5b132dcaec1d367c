"""The alert tables on SQLite and PostgreSQL: lease, ledger, outbox, state,
subscriptions, preferences, and two replicas sharing one database."""

from __future__ import annotations

import datetime as dt

import anyio
import pytest
import sqlalchemy as sa

from jarvice_tools import JarviceClient
from jarvice_tools.models.jobs import JobEntry
from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.watch import (
    CallCount,
    Cycle,
    EventKind,
    Horizon,
    JobEvent,
    TrackedJob,
    WatchState,
)
from slack_bot.alerts import AlertService, AlertSettings
from slack_bot.alerts.lease import Lease, LeaseLost
from slack_bot.alerts.ledger import Delivery, Plan
from slack_bot.alerts.outbox import Kind, Outbox, enqueue
from slack_bot.alerts.preferences import ChannelSettings, Notify, Preferences
from slack_bot.alerts.subscriptions import Scope, Subscriptions
from slack_bot.alerts.tables import alert_deliveries
from slack_bot.store import Store
from tests.alerts.conftest import ServiceFactory
from tests.alerts.support import ChannelHistory, ManualClock
from tests.watch.support import submit

pytestmark = pytest.mark.anyio


@pytest.fixture
def alerts_database_url(database_url: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return database_url


def lease(store: Store, clock: ManualClock, holder: str) -> Lease:
    return Lease(store.engine, seconds=10, holder=holder, clock=clock)


async def test_only_one_replica_takes_a_free_lease_even_racing(
    store: Store, clock: ManualClock
) -> None:
    contenders = [lease(store, clock, f"replica-{n}") for n in range(5)]
    won: list[bool] = []

    async def take(one: Lease) -> None:
        won.append(await one.acquire())

    async with anyio.create_task_group() as group:
        for one in contenders:
            group.start_soon(take, one)
    assert sorted(won) == [False] * 4 + [True]


async def test_the_holder_renews_and_an_expired_lease_changes_hands_fenced(
    store: Store, clock: ManualClock
) -> None:
    first, second = lease(store, clock, "first"), lease(store, clock, "second")
    assert await first.acquire()
    clock.advance(8)
    assert await first.acquire()
    clock.advance(8)
    assert not await second.acquire()
    clock.advance(3)
    assert await second.acquire()
    assert second.token == (first.token or 0) + 1

    async with store.engine.begin() as connection:
        with pytest.raises(LeaseLost):
            await first.fence(connection)
    assert not await first.acquire()
    async with store.engine.begin() as connection:
        await second.fence(connection)


async def test_a_released_lease_is_free_at_once(
    store: Store, clock: ManualClock
) -> None:
    first, second = lease(store, clock, "first"), lease(store, clock, "second")
    assert await first.acquire()
    await first.release()
    assert not first.held()
    assert await second.acquire()


async def test_the_ledger_claims_each_job_state_and_destination_once(
    store: Store,
) -> None:
    row = {
        "job_number": 7,
        "final_status": "COMPLETED",
        "destination": "C1",
        "state": "queued",
        "created_at": dt.datetime.now(dt.UTC),
    }
    results: list[bool] = []

    async def claim() -> None:
        from slack_bot.store import insert_ignore

        async with store.engine.begin() as connection:
            key = ("job_number", "final_status", "destination")
            results.append(
                await insert_ignore(connection, alert_deliveries, row, key=key)
            )

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(claim)
    assert sorted(results) == [False, False, False, True]
    async with store.engine.connect() as connection:
        count = await connection.scalar(
            sa.select(sa.func.count()).select_from(alert_deliveries)
        )
    assert count == 1


async def test_the_outbox_queues_a_key_once_and_waits_for_parents(
    store: Store, clock: ManualClock
) -> None:
    outbox = Outbox(store.engine, clock=clock)
    async with store.engine.begin() as connection:
        parent = await enqueue(
            connection, now=clock(), key="p", kind=Kind.START, channel="C1", args={}
        )
        again = await enqueue(
            connection, now=clock(), key="p", kind=Kind.START, channel="C1", args={}
        )
        child = await enqueue(
            connection,
            now=clock(),
            key="c",
            kind=Kind.FINAL,
            channel="C1",
            args={"text": "x"},
            parent_id=parent,
        )
    assert again is None
    assert [m.id for m in await outbox.due(clock(), grace=30)] == [parent]

    owner = lease(store, clock, "sender")
    assert await owner.acquire()
    [row] = await outbox.due(clock(), grace=30)
    assert await outbox.claim(row, owner, clock(), grace=30)
    assert not await outbox.claim(row, owner, clock(), grace=30)
    await outbox.sent(row, channel="C1", ts="111.000001")

    [ready] = await outbox.due(clock(), grace=30)
    assert ready.id == child
    assert ready.target() == ("C1", "111.000001")


async def test_subscriptions_are_not_duplicated_and_end_by_channel_or_job(
    store: Store,
) -> None:
    subscriptions = Subscriptions(store.engine)
    common = {"slack_user_id": "U1", "jarvice_username": "alice"}
    first, made = await subscriptions.add(
        channel_id="C1", scope=Scope.MINE, owner="alice", **common
    )
    same, made_again = await subscriptions.add(
        channel_id="C1", scope=Scope.MINE, owner="alice", **common
    )
    failures, _ = await subscriptions.add(
        channel_id="C1", scope=Scope.MINE, owner="alice", failures_only=True, **common
    )
    job, _ = await subscriptions.add(
        channel_id="C2", scope=Scope.JOB, job_number=42, **common
    )
    assert (made, made_again, same.id) == (True, False, first.id)
    assert [s.id for s in await subscriptions.in_channel("C1")] == [
        first.id,
        failures.id,
    ]
    assert await subscriptions.end([first.id], reason="test", channel_id="C2") == []
    assert await subscriptions.end([first.id, job.id], reason="test") == sorted(
        [first.id, job.id]
    )
    assert [s.id for s in await subscriptions.active()] == [failures.id]


async def test_preferences_default_and_persist(store: Store) -> None:
    preferences = Preferences(store.engine)
    assert await preferences.channel("C1") == ChannelSettings()
    await preferences.set_channel(
        "C1", ChannelSettings(threads=False, starts=True), by="U1"
    )
    await preferences.set_channel(
        "C1", ChannelSettings(threads=False, starts=True, broadcast=False), by="U1"
    )
    assert await preferences.channel("C1") == ChannelSettings(
        threads=False, starts=True, broadcast=False
    )
    assert await preferences.notify(["U1"]) == {"U1": Notify.MENTION}
    await preferences.set_notify("U1", Notify.DM)
    assert await preferences.notify(["U1", "U2"]) == {
        "U1": Notify.DM,
        "U2": Notify.MENTION,
    }


def _tracked(number: int, status: str) -> TrackedJob:
    job = JobEntry(job_number=number, job_name=f"job-{number}", job_status=status)
    return TrackedJob(number, "alice", status, job, "alice")


async def test_the_watcher_state_is_saved_as_changes_and_read_back(
    make_service: ServiceFactory, clock: ManualClock
) -> None:
    service = make_service()
    assert await service.lease.acquire()
    first = WatchState(
        jobs={1: _tracked(1, "SUBMITTED"), 2: _tracked(2, "PROCESSING STARTING")},
        known_owners=frozenset({"alice"}),
        horizons={"alice": Horizon(0, 0)},
    )
    second = WatchState(
        jobs={1: _tracked(1, "PROCESSING STARTING")},
        known_owners=frozenset({"alice", "bob"}),
        finished={2: 1000.0},
        horizons={"alice": Horizon(0, 2), "bob": Horizon(2, 2)},
    )
    event = JobEvent(
        EventKind.FINISHED, 2, "alice", "COMPLETED", "PROCESSING STARTING",
        _tracked(2, "COMPLETED").job, 1000.0, "alice", frozenset({"alice"}),
    )  # fmt: skip
    for previous, state, events in (
        (WatchState(), first, ()),
        (first, second, (event,)),
    ):
        cycle = Cycle(events, state, CallCount(), (), True, 0.0, 1, 1)
        plan = Plan(finals=[Delivery(event, "C1", 1)] if events else [])
        await service.ledger.record(previous, cycle, plan)
        assert await service.ledger.load_state() == state
    async with service.store.engine.connect() as connection:
        delivered = await connection.scalar(
            sa.select(sa.func.count()).select_from(alert_deliveries)
        )
    assert delivered == 1


async def test_two_replicas_on_one_database_alert_once_and_take_over(
    make_service: ServiceFactory,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    settings = AlertSettings(
        poll_interval=0.05, lease_seconds=0.6, pace_seconds=0.0, burst=0
    )
    replicas = [
        make_service(holder=f"replica-{n}", settings=settings, real_time=True)
        for n in (1, 2)
    ]
    await replicas[0].subscriptions.add(
        channel_id="CTEAM",
        slack_user_id="UALICE",
        jarvice_username="alice",
        scope=Scope.MINE,
        owner="alice",
    )

    def posted(number: int) -> int:
        return sum(f"Job {number} " in t for t in history.texts("CTEAM"))

    def leader() -> AlertService | None:
        holding = [r for r in replicas if r.lease.held()]
        return holding[0] if len(holding) == 1 else None

    async with anyio.create_task_group() as group:
        for replica in replicas:
            group.start_soon(replica.run)
        first = await history.fake.wait_async(leader)
        await history.fake.wait_async(
            lambda: "alice" in first.watcher.state.known_owners
        )
        *jobs, later = [
            await submit(jarvice, sandbox, "alice", "sleep 100") for _ in range(4)
        ]
        await history.fake.wait_async(
            lambda: all(n in first.watcher.state.jobs for n in [*jobs, later])
        )
        for number in jobs:
            sandbox.set_status(number, "COMPLETED")
        await history.fake.wait_async(lambda: all(posted(n) for n in jobs))

        first.lease.release = _never  # type: ignore[method-assign]
        first.stop()
        started = anyio.current_time()
        sandbox.set_status(later, "TERMINATED")
        await history.fake.wait_async(
            lambda: leader() not in (None, first), within=settings.lease_seconds * 3
        )
        took_over = anyio.current_time() - started
        await history.fake.wait_async(lambda: posted(later))
        for replica in replicas:
            replica.stop()

    assert [posted(n) for n in [*jobs, later]] == [1, 1, 1, 1]
    assert took_over <= settings.lease_seconds * 4 / 3 + 0.5


async def _never() -> None:
    """A lease release that never happens (the process died)."""


def test_alert_settings_are_checked_and_name_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from slack_bot.alerts import load_settings
    from slack_bot.settings import SettingsError

    monkeypatch.setenv("ALERTS_POLL_INTERVAL", "0")
    monkeypatch.setenv("ALERTS_BURST", "many")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    text = str(caught.value)
    assert "ALERTS_POLL_INTERVAL" in text
    assert "ALERTS_BURST" in text


async def test_old_settled_messages_and_deliveries_are_forgotten(
    store: Store, clock: ManualClock
) -> None:
    outbox = Outbox(store.engine, clock=clock)
    owner = lease(store, clock, "sender")
    old = clock() - dt.timedelta(days=8)
    async with store.engine.begin() as connection:
        ids = [
            await enqueue(
                connection, now=when, key=key, kind=Kind.FINAL, channel="C1", args={}
            )
            for key, when in (("old-sent", old), ("old-pending", old), ("new", clock()))
        ]
        for number, when in ((1, old - dt.timedelta(days=30)), (2, clock())):
            await connection.execute(
                sa.insert(alert_deliveries).values(
                    job_number=number,
                    final_status="COMPLETED",
                    destination="C1",
                    state="delivered",
                    created_at=when,
                )
            )
    assert await owner.acquire()
    [first, *_] = await outbox.due(clock(), grace=30)
    assert first.id == ids[0]
    assert await outbox.claim(first, owner, clock(), grace=30)
    await outbox.sent(first, channel="C1", ts="1.000001")

    removed = await outbox.prune(
        messages_before=clock() - dt.timedelta(days=7),
        deliveries_before=clock() - dt.timedelta(days=30),
    )
    assert removed == 2
    assert [m.id for m in await outbox.due(clock(), grace=30)] == ids[1:]
    async with store.engine.connect() as connection:
        left = await connection.scalars(sa.select(alert_deliveries.c.job_number))
        assert list(left) == [2]


async def test_a_channel_waiting_for_its_turn_does_not_hide_the_others(
    store: Store, clock: ManualClock
) -> None:
    outbox = Outbox(store.engine, clock=clock)
    async with store.engine.begin() as connection:
        for n in range(3):
            await enqueue(
                connection, now=clock(), key=f"a{n}", kind=Kind.FINAL, channel="CA",
                args={},
            )  # fmt: skip
        await enqueue(
            connection, now=clock(), key="b", kind=Kind.FINAL, channel="CB", args={}
        )
    assert [m.key for m in await outbox.due(clock(), grace=30, limit=2)] == [
        "a0",
        "a1",
    ]
    waiting = frozenset({"CA"})
    assert [m.key for m in await outbox.due(clock(), grace=30, skip=waiting)] == ["b"]
