"""From sandbox transitions to messages at the fake Slack Web API."""

from __future__ import annotations

import itertools

import anyio
import pytest

from jarvice_tools import JarviceClient
from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.watch import Cycle
from slack_bot.alerts import AlertService
from slack_bot.alerts.preferences import ChannelSettings, Notify
from slack_bot.alerts.subscriptions import Origin, Scope, Subscription
from slack_bot.testing import FakeSlack
from tests.alerts.support import (
    ChannelHistory,
    a_start_announced,
    block_texts,
    buttons,
    drain,
)
from tests.watch.support import submit

pytestmark = pytest.mark.anyio

CHANNEL = "CTEAM"


async def subscribe(
    service: AlertService,
    username: str,
    scope: Scope = Scope.MINE,
    *,
    channel: str = CHANNEL,
    **options: object,
) -> None:
    slack_id = {"alice": "UALICE", "bob": "UBOB", "carol": "UCAROL"}[username]
    owner = options.pop("owner", username if scope is Scope.MINE else None)
    await service.subscriptions.add(
        channel_id=channel,
        slack_user_id=slack_id,
        jarvice_username=username,
        scope=scope,
        owner=owner,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "seen_running", [True, False], ids=["seen running", "ended between two polls"]
)
async def test_a_failed_job_becomes_one_complete_alert(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
    seen_running: bool,
) -> None:
    await subscribe(service, "alice")
    await service.poll_once()
    number = await submit(jarvice, sandbox, "alice", "echo step one; echo boom; false")
    if seen_running:
        await service.poll_once()
    sandbox.advance(30)
    for _ in range(service.settings.catch_up_every * 2):
        await service.poll_once()
        await drain(service)

    [alert] = history.in_channel(CHANNEL)
    name = sandbox.job(number).name
    assert alert["text"] == f":x: Job {number} COMPLETED WITH ERROR: {name}"
    shown = block_texts(alert)
    assert f":x: *Job {number} COMPLETED WITH ERROR*  `{name}`" in shown
    assert "*App*\njarvice-batch" in shown
    assert "*Machine*\nn0 x 1" in shown
    assert f"*Walltime*\n{sandbox.job(number).walltime}" in shown
    assert "*Owner*\n<@UALICE>" in shown
    assert "boom" in shown
    assert buttons(alert) == [
        (f"jarvice_run:output_{number}_lines=0", f"output {number} lines=0"),
        (f"jarvice_run:metrics_{number}", f"metrics {number}"),
    ]
    assert alert["metadata"]["event_payload"]["key"].startswith(f"final:{number}:")


async def test_completed_alerts_carry_no_output_and_cost_no_output_call(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await subscribe(service, "alice")
    await service.poll_once()
    number = await submit(jarvice, sandbox, "alice", "sleep 100")
    await service.poll_once()
    sandbox.set_status(number, "COMPLETED")
    sandbox.clear_requests()
    await service.poll_once()
    await drain(service)

    [alert] = history.in_channel(CHANNEL)
    assert alert["text"].startswith(f":white_check_mark: Job {number} COMPLETED")
    assert "Last lines of output" not in block_texts(alert)
    assert [r.endpoint for r in sandbox.requests] == ["jobs", "status"]


@pytest.mark.parametrize(
    ("forced", "emoji"),
    [
        ("COMPLETED", ":white_check_mark:"),
        ("COMPLETED WITH ERROR", ":x:"),
        ("TERMINATED", ":octagonal_sign:"),
        ("CANCELED", ":no_entry_sign:"),
    ],
)
async def test_each_final_status_is_announced_with_its_emoji(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
    forced: str,
    emoji: str,
) -> None:
    await subscribe(service, "alice")
    await service.poll_once()
    number = await submit(jarvice, sandbox, "alice", "sleep 100")
    await service.poll_once()
    sandbox.set_status(number, forced)
    await service.poll_once()
    await drain(service)
    assert history.texts(CHANNEL) == [
        f"{emoji} Job {number} {forced}: {sandbox.job(number).name}"
    ]


async def test_failures_only_and_app_filters_choose_what_a_channel_hears(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await subscribe(service, "alice", channel="CFAIL", failures_only=True)
    await subscribe(service, "alice", channel="CAPP", app="jarvice-ubuntu")
    await service.poll_once()
    good = await submit(jarvice, sandbox, "alice", "sleep 100")
    bad = await submit(jarvice, sandbox, "alice", "sleep 100")
    await service.poll_once()
    sandbox.set_status(good, "COMPLETED")
    sandbox.set_status(bad, "TERMINATED")
    await service.poll_once()
    await drain(service)

    assert [t.split(":")[1] for t in history.texts("CFAIL")] == ["octagonal_sign"]
    assert f"Job {bad} TERMINATED" in history.texts("CFAIL")[0]
    assert history.texts("CAPP") == []


async def test_one_channel_hears_once_even_with_overlapping_subscriptions(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await subscribe(service, "alice")
    await subscribe(service, "carol", Scope.TEAM)
    await subscribe(service, "carol", Scope.USER, owner="alice", channel="COTHER")
    await service.poll_once()
    number = await submit(jarvice, sandbox, "alice", "sleep 100")
    await service.poll_once()
    sandbox.set_status(number, "COMPLETED")
    await service.poll_once()
    await drain(service)

    assert len(history.in_channel(CHANNEL)) == 1
    assert len(history.in_channel("COTHER")) == 1


async def test_a_team_subscription_hears_every_member_and_nobody_else(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await subscribe(service, "carol", Scope.TEAM)
    await service.poll_once()
    alice_job = await submit(jarvice, sandbox, "alice", "sleep 100")
    dave_job = await submit(jarvice, sandbox, "dave", "sleep 100")
    bob_job = await submit(jarvice, sandbox, "bob", "sleep 100")
    await service.poll_once()
    for number in (alice_job, dave_job, bob_job):
        sandbox.set_status(number, "COMPLETED")
    await service.poll_once()
    await drain(service)

    texts = history.texts(CHANNEL)
    assert sorted(int(t.split()[2]) for t in texts) == [alice_job, bob_job]


async def test_a_watched_job_is_announced_once_then_the_watch_ends(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await service.poll_once()
    number = await submit(jarvice, sandbox, "bob", "hostname")
    await service.job_submitted(
        channel_id="CBOB",
        slack_user_id="UBOB",
        jarvice_username="bob",
        number=number,
    )
    sandbox.advance(60)
    await service.poll_once()
    await drain(service)
    assert history.texts("CBOB") == [
        f":white_check_mark: Job {number} COMPLETED: {sandbox.job(number).name}"
    ]
    remaining = await service.subscriptions.in_channel("CBOB")
    assert remaining == []
    ended = [
        s for s in await service.subscriptions.active() if s.origin is Origin.SUBMIT
    ]
    assert ended == []


async def test_a_watch_set_up_while_a_poll_runs_still_hears_the_end_once(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await subscribe(service, "alice")
    await service.poll_once()
    number = await submit(jarvice, sandbox, "alice", "sleep 100")
    await service.poll_once()
    real_poll = service.watcher.poll
    watches: list[Subscription] = []

    async def poll_while_someone_watches() -> Cycle:
        cycle = await real_poll()
        watch, _ = await service.subscriptions.add(
            channel_id="CWATCH",
            slack_user_id="UALICE",
            jarvice_username="alice",
            scope=Scope.JOB,
            job_number=number,
        )
        watches.append(watch)
        return cycle

    sandbox.set_status(number, "COMPLETED")
    monkeypatch.setattr(service.watcher, "poll", poll_while_someone_watches)
    await service.poll_once()
    monkeypatch.undo()
    for _ in range(2):
        await service.poll_once()
        await drain(service)

    name = sandbox.job(number).name
    assert history.texts("CWATCH") == [
        f":white_check_mark: Job {number} COMPLETED: {name}"
    ]
    assert len(history.texts(CHANNEL)) == 1
    [ended] = await service.subscriptions.with_ids([watches[0].id])
    assert (ended.active, ended.ended_reason) == (False, "job ended")


async def test_a_job_already_finished_when_first_seen_is_not_news(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    number = await submit(jarvice, sandbox, "alice", "hostname")
    sandbox.advance(60)
    await subscribe(service, "alice")
    for _ in range(service.settings.catch_up_every * 2):
        await service.poll_once()
        await drain(service)
    assert history.all() == []
    assert number not in service.watcher.state.jobs


async def test_owner_preferences_mention_dm_or_name_only(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await subscribe(service, "carol", Scope.TEAM)
    await service.preferences.set_notify("UBOB", Notify.DM)
    await service.preferences.set_notify("UCAROL", Notify.NONE)
    await service.poll_once()
    alice_job = await submit(jarvice, sandbox, "alice", "sleep 100")
    bob_job = await submit(jarvice, sandbox, "bob", "sleep 100")
    carol_job = await submit(jarvice, sandbox, "carol", "sleep 100")
    await service.poll_once()
    for number in (alice_job, bob_job, carol_job):
        sandbox.set_status(number, "COMPLETED")
    await service.poll_once()
    await drain(service)

    owners = {
        int(m["text"].split()[2]): block_texts(m).split("*Owner*\n")[1].split("\n")[0]
        for m in history.in_channel(CHANNEL)
        if "*Owner*" in block_texts(m)
    }
    assert owners == {alice_job: "<@UALICE>", bob_job: "bob", carol_job: "carol"}
    [direct] = history.in_channel("DUBOB")
    assert direct["text"].startswith(f":white_check_mark: Job {bob_job} COMPLETED")


async def test_starts_are_announced_and_the_final_alert_is_threaded_under_them(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
) -> None:
    await service.preferences.set_channel(
        CHANNEL, ChannelSettings(starts=True, broadcast=False), by="UALICE"
    )
    await subscribe(service, "alice")
    number = await a_start_announced(service, sandbox, jarvice)
    sandbox.set_status(number, "COMPLETED")
    await service.poll_once()
    await drain(service)

    start, final = history.in_channel(CHANNEL)
    first_post = fake_slack.calls("chat.postMessage")[0].body
    assert first_post["text"].startswith(f":arrow_forward: Job {number} started")
    assert final["thread_ts"] == start["ts"]
    assert "reply_broadcast" not in final or final["reply_broadcast"] is False
    assert "then ended COMPLETED" in block_texts(start)


async def test_without_threads_every_message_stands_alone(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await service.preferences.set_channel(
        CHANNEL, ChannelSettings(starts=True, threads=False), by="UALICE"
    )
    await subscribe(service, "alice")
    await service.poll_once()
    number = await submit(jarvice, sandbox, "alice", "sleep 100")
    sandbox.advance(6)
    await service.poll_once()
    sandbox.set_status(number, "COMPLETED")
    await service.poll_once()
    await drain(service)
    assert [("thread_ts" in m) for m in history.in_channel(CHANNEL)] == [False, False]


async def test_a_burst_becomes_one_summary_with_the_alerts_in_its_thread(
    service: AlertService,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await subscribe(service, "alice")
    await service.poll_once()
    jobs = [await submit(jarvice, sandbox, "alice", "sleep 100") for _ in range(4)]
    await service.poll_once()
    for number in jobs:
        sandbox.set_status(
            number, "COMPLETED WITH ERROR" if number % 2 else "COMPLETED"
        )
    await service.poll_once()
    await drain(service)

    summary, *replies = history.in_channel(CHANNEL)
    assert summary["text"] == "4 jobs finished; details in the thread."
    assert "*4 jobs finished*" in block_texts(summary)
    assert [m["thread_ts"] for m in replies] == [summary["ts"]] * 4
    assert sorted(int(m["text"].split()[2]) for m in replies) == jobs
    assert not any(m.get("reply_broadcast") for m in replies)


async def test_alerts_to_one_channel_are_paced(
    make_service: object,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
) -> None:
    from slack_bot.alerts import AlertSettings

    settings = AlertSettings(pace_seconds=0.2, burst=0)
    paced = make_service(settings=settings, real_time=True)  # type: ignore[operator]
    assert await paced.lease.acquire()
    await subscribe(paced, "alice")
    await paced.poll_once()
    jobs = [await submit(jarvice, sandbox, "alice", "sleep 100") for _ in range(3)]
    await paced.poll_once()
    for number in jobs:
        sandbox.set_status(number, "COMPLETED")
    await paced.poll_once()
    async with anyio.create_task_group() as group:
        group.start_soon(paced.sender.run)
        await fake_slack.wait_async(lambda: len(history.in_channel(CHANNEL)) == 3)
        paced.sender.stop()
    posts = fake_slack.calls("chat.postMessage")
    gaps = [b.at - a.at for a, b in itertools.pairwise(posts)]
    assert len(posts) == 3
    assert min(gaps) >= 0.19
