"""Delivery guarantees: Slack failures, removed channels, crashes at each step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from jarvice_tools import JarviceClient
from jarvice_tools.sandbox import SandboxServer
from slack_bot.alerts import AlertService
from slack_bot.alerts.outbox import Message
from slack_bot.alerts.preferences import ChannelSettings
from slack_bot.alerts.subscriptions import Scope
from slack_bot.testing import FakeSlack
from tests.alerts.conftest import FAST, ServiceFactory
from tests.alerts.support import (
    ChannelHistory,
    ManualClock,
    a_start_announced,
    drain,
)
from tests.watch.support import submit

pytestmark = pytest.mark.anyio

CHANNEL = "CTEAM"


class Crash(BaseException):
    """Stands for the process dying at this point (nothing after it runs)."""


async def watch_alice(service: AlertService, channel: str = CHANNEL) -> None:
    await service.subscriptions.add(
        channel_id=channel,
        slack_user_id="UALICE",
        jarvice_username="alice",
        scope=Scope.MINE,
        owner="alice",
    )


async def one_finished_job(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    channel: str = CHANNEL,
) -> int:
    """Subscribe, take the baseline, start a job and end it in the sandbox."""
    await watch_alice(service, channel)
    await service.poll_once()
    number = await submit(jarvice, sandbox, "alice", "sleep 100")
    await service.poll_once()
    sandbox.set_status(number, "COMPLETED WITH ERROR")
    return number


async def queued_alert(
    service: AlertService, sandbox: SandboxServer, jarvice: JarviceClient
) -> int:
    """A finished job whose alert the next poll has queued (not yet sent)."""
    number = await one_finished_job(service, sandbox, jarvice)
    await service.poll_once()
    return number


async def restart(
    make_service: ServiceFactory, clock: ManualClock, *, after: float
) -> AlertService:
    """A new process, started `after` seconds later, that takes the lease."""
    clock.advance(after)
    successor = make_service(holder="replica-after-restart")
    assert await successor.lease.acquire()
    successor.watcher.restore(await successor.ledger.load_state())
    return successor


def alerts_for(history: ChannelHistory, number: int) -> list[str]:
    return [t for t in history.texts(CHANNEL) if f"Job {number} " in t]


async def test_a_429_delays_the_alert_until_retry_after_and_never_drops_it(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
    clock: ManualClock,
) -> None:
    number = await queued_alert(service, sandbox, jarvice)
    fake_slack.fail("chat.postMessage", status=429, retry_after=3)

    await service.sender.send_due()
    assert alerts_for(history, number) == []
    clock.advance(2)
    await service.sender.send_due()
    assert len(fake_slack.calls("chat.postMessage")) == 1
    clock.advance(1.5)
    await drain(service)
    assert len(alerts_for(history, number)) == 1
    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [429, 200]
    assert fake_slack.calls("conversations.history") == []


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_is_retried_after_checking_the_channel(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
    clock: ManualClock,
    status: int,
) -> None:
    number = await queued_alert(service, sandbox, jarvice)
    fake_slack.fail("chat.postMessage", status=status, times=2)

    await service.sender.send_due()
    clock.advance(2)
    await service.sender.send_due()
    clock.advance(5)
    await drain(service)
    assert len(alerts_for(history, number)) == 1
    assert len(fake_slack.calls("chat.postMessage")) == 3
    assert len(fake_slack.calls("conversations.history")) == 2


def chatter(
    history: ChannelHistory,
    *,
    after: float,
    count: int = 250,
    thread_ts: str | None = None,
) -> None:
    """Messages from people, at `after` seconds and a little later."""
    for i in range(count):
        message = {"ts": f"{after + i / 1000:.6f}", "text": f"chat {i}"}
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        history.add(CHANNEL, message)


@pytest.mark.parametrize(
    ("said_since", "cursors"),
    [(0, [None]), (250, [None, "page:200"])],
    ids=["quiet channel", "busy channel: the copy is on the second page"],
)
async def test_an_answer_lost_after_posting_is_not_posted_twice(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
    clock: ManualClock,
    said_since: int,
    cursors: list[str | None],
) -> None:
    number = await queued_alert(service, sandbox, jarvice)
    history.lose_answers(1)

    await service.sender.send_due()
    [alert] = history.in_channel(CHANNEL)
    chatter(history, after=float(alert["ts"]) + 1, count=said_since)
    clock.advance(3)
    await drain(service)
    assert len(alerts_for(history, number)) == 1
    pages = fake_slack.calls("conversations.history")
    assert [c.body.get("cursor") for c in pages] == cursors


async def test_a_lost_answer_deep_in_a_busy_thread_is_found_on_a_later_page(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
    clock: ManualClock,
) -> None:
    await service.preferences.set_channel(
        CHANNEL, ChannelSettings(starts=True), by="UALICE"
    )
    await watch_alice(service)
    number = await a_start_announced(service, sandbox, jarvice)
    [root] = history.in_channel(CHANNEL)
    sandbox.set_status(number, "COMPLETED WITH ERROR")
    await service.poll_once()
    queued = service.clock().timestamp()
    chatter(history, after=queued - 4, thread_ts=root["ts"])

    history.lose_answers(1)
    await service.sender.send_due()
    clock.advance(3)
    await drain(service)
    keys = [
        m["metadata"]["event_payload"]["key"]
        for m in history.in_channel(CHANNEL)
        if m.get("thread_ts") == root["ts"] and "metadata" in m
    ]
    assert keys == [f"final:{number}:COMPLETED WITH ERROR:{CHANNEL}"]
    pages = fake_slack.calls("conversations.replies")
    assert [c.body.get("cursor") for c in pages] == [None, "page:200"]
    assert {c.body.get("oldest") for c in pages} == {f"{queued - 5:.6f}"}


async def test_a_replica_clock_ahead_of_slack_within_the_skew_still_finds_the_copy(
    make_service: ServiceFactory,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
    clock: ManualClock,
) -> None:
    clock.advance(20)
    service = make_service(settings=FAST.model_copy(update={"clock_skew": 30.0}))
    assert await service.lease.acquire()
    number = await queued_alert(service, sandbox, jarvice)
    history.lose_answers(1)
    await service.sender.send_due()
    clock.advance(3)
    await drain(service)
    assert len(alerts_for(history, number)) == 1


@pytest.mark.parametrize(
    "error", ["not_in_channel", "channel_not_found", "is_archived"]
)
async def test_a_channel_the_bot_left_is_turned_off_and_an_admin_told(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
    clock: ManualClock,
    error: str,
) -> None:
    await watch_alice(service, CHANNEL)
    number = await one_finished_job(service, sandbox, jarvice, "CGONE")
    await service.preferences.set_channel("CGONE", ChannelSettings(), by="UALICE")
    await service.poll_once()
    history.refuse("CGONE", error)
    await drain(service)

    assert await service.subscriptions.in_channel("CGONE") == []
    assert len(await service.subscriptions.in_channel(CHANNEL)) == 1
    for person in ("DUADMIN", "DUALICE"):
        [notice] = history.in_channel(person)
        assert "<#CGONE>" in notice["text"]
        assert f"`{error}`" in notice["text"]
        assert "turned off its 1 subscription" in notice["text"]
        assert f"alert for job {number} was not posted" in notice["text"]
    assert len(alerts_for(history, number)) == 1

    later = await submit(jarvice, sandbox, "alice", "sleep 100")
    await service.poll_once()
    sandbox.set_status(later, "COMPLETED")
    await service.poll_once()
    await drain(service)
    assert len(alerts_for(history, later)) == 1
    assert history.in_channel("CGONE") == []


async def test_a_channel_with_only_a_job_watch_tells_the_admin_and_the_watcher(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    number = await submit(jarvice, sandbox, "alice", "sleep 100")
    await service.job_submitted(
        channel_id="CPRIV",
        slack_user_id="UALICE",
        jarvice_username="alice",
        number=number,
    )
    await service.poll_once()
    sandbox.set_status(number, "COMPLETED WITH ERROR")
    await service.poll_once()
    history.refuse("CPRIV", "not_in_channel")
    await drain(service)

    assert history.in_channel("CPRIV") == []
    for person in ("DUADMIN", "DUALICE"):
        [notice] = history.in_channel(person)
        assert "<#CPRIV>" in notice["text"]
        assert f"alert for job {number} was not posted" in notice["text"]
        assert "turned off" not in notice["text"]


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 502, "body": "<html><h1>502 Bad Gateway</h1></html>"},
        {"status": 200, "error": "a_code_slack_added_later"},
    ],
    ids=["gateway page", "unknown code"],
)
async def test_a_failure_slack_does_not_call_permanent_is_retried_not_dropped(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
    clock: ManualClock,
    failure: dict[str, Any],
) -> None:
    number = await queued_alert(service, sandbox, jarvice)
    fake_slack.fail("chat.postMessage", **failure)

    await service.sender.send_due()
    assert alerts_for(history, number) == []
    clock.advance(3)
    await drain(service)
    assert len(alerts_for(history, number)) == 1
    assert len(fake_slack.calls("chat.postMessage")) == 2
    assert len(fake_slack.calls("conversations.history")) == 1


async def test_a_message_slack_refuses_for_good_is_not_retried(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    clock: ManualClock,
) -> None:
    await queued_alert(service, sandbox, jarvice)
    fake_slack.fail("chat.postMessage", error="invalid_blocks")
    await drain(service)
    clock.advance(3600)
    assert await service.lease.acquire()
    await drain(service)
    assert len(fake_slack.calls("chat.postMessage")) == 1


# Crashes: a new process over the same database must neither lose nor repeat.

Step = Callable[[AlertService, pytest.MonkeyPatch], Awaitable[None]]


async def crash_before_recording(service: AlertService, mp: pytest.MonkeyPatch) -> None:
    await service.watcher.poll()
    raise Crash


async def crash_while_recording(service: AlertService, mp: pytest.MonkeyPatch) -> None:
    async def die(*args: object) -> int:
        raise Crash

    mp.setattr("slack_bot.alerts.ledger._queue_direct", die)
    await service.poll_once()


async def crash_before_sending(service: AlertService, mp: pytest.MonkeyPatch) -> None:
    await service.poll_once()
    raise Crash


async def crash_after_claiming(service: AlertService, mp: pytest.MonkeyPatch) -> None:
    async def die(*args: object) -> dict[str, object]:
        raise Crash

    await service.poll_once()
    mp.setattr(service.sender, "_call", die)
    await service.sender.send_due()


async def crash_after_slack_took_it(
    service: AlertService, mp: pytest.MonkeyPatch
) -> None:
    async def die(*args: object, **kwargs: object) -> None:
        raise Crash

    await service.poll_once()
    mp.setattr(service.outbox, "sent", die)
    await service.sender.send_due()


async def crash_after_recording_sent(
    service: AlertService, mp: pytest.MonkeyPatch
) -> None:
    await service.poll_once()
    await drain(service)
    raise Crash


@pytest.mark.parametrize(
    "step",
    [
        crash_before_recording,
        crash_while_recording,
        crash_before_sending,
        crash_after_claiming,
        crash_after_slack_took_it,
        crash_after_recording_sent,
    ],
)
async def test_a_restart_at_any_step_neither_loses_nor_repeats_the_alert(
    service: AlertService,
    make_service: ServiceFactory,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
    clock: ManualClock,
    step: Step,
) -> None:
    number = await one_finished_job(service, sandbox, jarvice)
    with pytest.MonkeyPatch.context() as mp:
        try:
            await step(service, mp)
        except* Crash:
            pass
        else:
            raise AssertionError(f"{step.__name__} did not crash")

    successor = await restart(make_service, clock, after=FAST.sending_grace + 1)
    for _ in range(3):
        await successor.poll_once()
        await drain(successor)
    assert len(alerts_for(history, number)) == 1
    rows = await successor.outbox.due(clock(), grace=0)
    assert rows == []


async def test_the_dead_process_lease_blocks_a_successor_until_it_expires(
    service: AlertService, make_service: ServiceFactory, clock: ManualClock
) -> None:
    successor = make_service(holder="replica-2")
    assert not await successor.lease.acquire()
    clock.advance(FAST.lease_seconds + 0.1)
    assert await successor.lease.acquire()
    assert successor.lease.token == (service.lease.token or 0) + 1


async def test_a_replaced_leader_cannot_record_what_it_polled(
    service: AlertService,
    make_service: ServiceFactory,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
    clock: ManualClock,
) -> None:
    from slack_bot.alerts.lease import LeaseLost

    number = await one_finished_job(service, sandbox, jarvice)
    stale_cycle = await service.watcher.poll()
    previous = service.watcher.state
    successor = await restart(make_service, clock, after=FAST.lease_seconds + 1)
    await successor.poll_once()

    plan = await service.plan(stale_cycle)
    with pytest.raises(LeaseLost):
        await service.ledger.record(previous, stale_cycle, plan)
    await drain(successor)
    assert len(alerts_for(history, number)) == 1
    assert await successor.outbox.due(clock(), grace=0) == []


async def claim_and_stall(service: AlertService, clock: ManualClock) -> Message:
    """The leader claims the alert and starts its Slack call, which hangs."""
    grace = service.settings.sending_grace
    [row] = await service.outbox.due(clock(), grace=grace)
    assert await service.outbox.claim(row, service.lease, clock(), grace=grace)
    return row


async def test_a_stalled_leaders_message_is_taken_over_after_a_whole_attempt_once(
    service: AlertService,
    make_service: ServiceFactory,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
    clock: ManualClock,
) -> None:
    number = await queued_alert(service, sandbox, jarvice)
    stalled = await claim_and_stall(service, clock)

    longest_attempt = 3 * FAST.slack_timeout
    after = FAST.lease_seconds + longest_attempt - 1
    successor = await restart(make_service, clock, after=after)
    await successor.sender.send_due()
    assert alerts_for(history, number) == []
    clock.advance(FAST.clock_skew + 2)
    await drain(successor)
    assert len(alerts_for(history, number)) == 1

    await service.outbox.retry(
        stalled, at=clock(), error="ratelimited", uncertain=False
    )
    await drain(successor)
    assert len(alerts_for(history, number)) == 1
    assert await successor.outbox.due(clock(), grace=0) == []


async def test_the_service_survives_an_unexpected_failure_and_carries_on(
    make_service: ServiceFactory,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
) -> None:
    import anyio

    from slack_bot.alerts import AlertSettings

    settings = AlertSettings(poll_interval=0.05, lease_seconds=0.3, pace_seconds=0)
    service = make_service(settings=settings, real_time=True)
    await watch_alice(service)
    send_due = service.sender.send_due
    failures = [RuntimeError("a bug in a dependency")]

    async def flaky() -> float:
        if failures:
            raise failures.pop()
        return await send_due()

    service.sender.send_due = flaky  # type: ignore[method-assign]
    async with anyio.create_task_group() as group:
        group.start_soon(service.run)
        await fake_slack.wait_async(
            lambda: "alice" in service.watcher.state.known_owners
        )
        number = await submit(jarvice, sandbox, "alice", "sleep 100")
        await fake_slack.wait_async(lambda: number in service.watcher.state.jobs)
        sandbox.set_status(number, "COMPLETED")
        await fake_slack.wait_async(lambda: alerts_for(history, number))
        service.stop()
    assert failures == []
    assert len(alerts_for(history, number)) == 1


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels or None) or 0.0


async def test_deliveries_retries_and_polls_show_in_the_metrics(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
    clock: ManualClock,
) -> None:
    sent = metric("jarvice_alerts_sent_total", outcome="sent")
    retried = metric("jarvice_alerts_sent_total", outcome="retry")
    polls = metric("jarvice_poll_seconds_count")

    number = await queued_alert(service, sandbox, jarvice)
    fake_slack.fail("chat.postMessage", status=429, retry_after=3)
    await service.sender.send_due()

    assert metric("jarvice_poll_seconds_count") == polls + 3
    assert metric("jarvice_alerts_sent_total", outcome="retry") == retried + 1
    assert metric("jarvice_alert_outbox_depth") == 1
    clock.advance(4)
    await drain(service)
    assert len(alerts_for(history, number)) == 1
    assert metric("jarvice_alerts_sent_total", outcome="sent") == sent + 1
    assert metric("jarvice_alert_outbox_depth") == 0
