"""The alert subcommands in the real Slack app, through signed requests, and
a job submitted from Slack announced in its channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from jarvice_tools import JarviceClient, RetryPolicy
from jarvice_tools.sandbox import SandboxServer
from slack_bot.alerts import AlertService
from slack_bot.alerts.commands import AlertCommands
from slack_bot.alerts.preferences import ChannelSettings, Notify
from slack_bot.alerts.subscriptions import Origin, Scope
from slack_bot.app import create_bot
from slack_bot.bot import SlackBot
from slack_bot.settings import SlackSettings
from slack_bot.store import Store
from slack_bot.testing import FakeSlack, SlackRequests
from tests.alerts.support import ChannelHistory, block_texts, drain
from tests.slack.slack_helpers import SECRET, dispatch, link, settle

pytestmark = pytest.mark.anyio

CHANNEL = "C0001"
ALICE, CAROL, NOBODY = "UALICE01", "UCAROL01", "UNOBODY1"


@pytest.fixture
async def bot(
    fake_slack: FakeSlack,
    sandbox: SandboxServer,
    encryption_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[SlackBot]:
    monkeypatch.setenv("ALERTS_PACE_SECONDS", "0")
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake_slack.api_url,
            "SLACK_ADMIN_USERS": "UADMIN01",
            "JARVICE_API_URL": sandbox.url,
            "JARVICE_TOOLS_ENCRYPTION_KEY": encryption_key,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'slack.sqlite3'}",
        }
    )
    store = await Store.open(settings.database_url, keys=settings.key_box())
    jarvice = JarviceClient(sandbox.url, timeout=10, retry=RetryPolicy(attempts=1))
    built = create_bot(
        settings, store=store, jarvice=jarvice, extensions=("slack_bot.alerts",)
    )
    await link(built, sandbox, ALICE, "alice")
    await link(built, sandbox, CAROL, "carol")
    sandbox.clear_requests()
    yield built
    await settle()
    await jarvice.aclose()
    await store.close()


@pytest.fixture
def requests(fake_slack: FakeSlack) -> SlackRequests:
    return SlackRequests(SECRET, responses=fake_slack, channel_id=CHANNEL)


def service_of(bot: SlackBot) -> AlertService:
    """The alert service the extension set up (behind its subcommands)."""
    subcommand = bot.router.get("subscribe")
    assert subcommand is not None
    commands = getattr(subcommand.handler, "__self__", None)
    assert isinstance(commands, AlertCommands)
    return commands.service


async def say(
    bot: SlackBot,
    fake: FakeSlack,
    requests: SlackRequests,
    text: str,
    user: str = ALICE,
) -> str:
    """Run `/jarvice <text>` and return the answer the user sees."""
    request = requests.command(text, user=user)
    response = await dispatch(bot, request)
    assert response.status == 200
    if response.body:
        return str(response.body)
    bodies: list[dict[str, Any]] = await fake.wait_async(
        lambda: fake.responses(request.response_name)
    )
    return str(bodies[0]["text"])


async def test_subscribe_defaults_to_my_jobs_and_lists_and_removes(
    bot: SlackBot, fake_slack: FakeSlack, requests: SlackRequests
) -> None:
    answer = await say(bot, fake_slack, requests, "subscribe")
    assert "Subscription #1" in answer
    assert "alice's jobs, when they end" in answer
    again = await say(bot, fake_slack, requests, "subscribe mine")
    assert "already has that alert (#1)" in again
    await say(bot, fake_slack, requests, "subscribe failures app=jarvice-batch")

    listing = await say(bot, fake_slack, requests, "subscriptions")
    assert "`#1` alice's jobs, when they end" in listing
    assert "`#2` alice's jobs, when they fail, app `jarvice-batch` only" in listing
    assert f"<@{ALICE}>" in listing

    assert "Removed #1" in await say(bot, fake_slack, requests, "unsubscribe 1")
    assert "no alert `#1`" in await say(bot, fake_slack, requests, "unsubscribe #1")
    assert "Removed #2" in await say(bot, fake_slack, requests, "unsubscribe all")
    assert "no job alerts" in await say(bot, fake_slack, requests, "subscriptions")


async def test_team_and_member_subscriptions_need_a_team_admin(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    refused = await say(bot, fake_slack, requests, "subscribe team")
    assert "Only a team admin" in refused
    assert "subscribe mine" in refused

    team = await say(bot, fake_slack, requests, "subscribe team", user=CAROL)
    assert "the jobs of carol's team" in team
    member = await say(bot, fake_slack, requests, "subscribe user=bob", user=CAROL)
    assert "bob's jobs, when they end" in member
    outsider = await say(bot, fake_slack, requests, "subscribe user=dave", user=CAROL)
    assert "`dave` is not a member of your JARVICE team" in outsider

    scopes = [s.scope for s in await service_of(bot).subscriptions.active()]
    assert scopes == [Scope.TEAM, Scope.USER]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("subscribe status=sometimes", "status"),
        ("subscribe loudly", "text"),
        ("subscribe colour=red", "colour"),
        ("watch", "number"),
        ("watch twelve", "number"),
        ("unsubscribe seven", "id"),
        ("alerts threads=maybe", "threads"),
        ("notify shout", "choice"),
    ],
)
async def test_bad_arguments_name_the_field_and_reach_nobody(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    text: str,
    field: str,
) -> None:
    answer = await say(bot, fake_slack, requests, text)
    assert field in answer
    assert sandbox.requests == []
    assert await service_of(bot).subscriptions.active() == []


async def test_an_unlinked_user_is_told_to_log_in_first(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    for text in ("subscribe", "watch 123001"):
        answer = await say(bot, fake_slack, requests, text, user=NOBODY)
        assert "/jarvice login" in answer
    assert sandbox.requests == []


async def test_watch_follows_a_live_job_and_refuses_an_ended_one(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    history: ChannelHistory,
) -> None:
    ended = next(j.number for j in sandbox.jobs_of("alice") if j.status == "COMPLETED")
    answer = await say(bot, fake_slack, requests, f"watch {ended}")
    assert f"Job {ended} has already ended" in answer

    submitted = await say(
        bot,
        fake_slack,
        requests,
        "batch container.image=library/ubuntu:jammy container.jobscript='sleep 30' "
        "machine.type=n0",
    )
    service = service_of(bot)
    [watch] = await service.subscriptions.active()
    number = watch.job_number
    assert number is not None
    assert f"{number}" in submitted
    assert (watch.origin, watch.channel_id) == (Origin.SUBMIT, CHANNEL)
    assert "already watches" in await say(bot, fake_slack, requests, f"watch {number}")

    assert await service.lease.acquire()
    await service.poll_once()
    sandbox.set_status(number, "COMPLETED WITH ERROR")
    await service.poll_once()
    await drain(service)
    [alert] = history.in_channel(CHANNEL)
    assert alert["text"].startswith(f":x: Job {number} COMPLETED WITH ERROR")
    assert "*Owner*\n<@UALICE01>" in block_texts(alert)
    assert await service.subscriptions.active() == []


async def test_channel_settings_and_notify_choice_are_kept(
    bot: SlackBot, fake_slack: FakeSlack, requests: SlackRequests
) -> None:
    shown = await say(bot, fake_slack, requests, "alerts")
    assert "threads=on" in shown
    assert "starts=off" in shown
    changed = await say(bot, fake_slack, requests, "alerts threads=off starts=on")
    assert "threads=off" in changed
    assert "starts=on" in changed
    service = service_of(bot)
    assert await service.preferences.channel(CHANNEL) == ChannelSettings(
        threads=False, starts=True
    )

    assert "`mention`" in await say(bot, fake_slack, requests, "notify")
    assert "direct message" in await say(bot, fake_slack, requests, "notify dm")
    assert await service.preferences.notify([ALICE]) == {ALICE: Notify.DM}


async def test_help_lists_the_alert_subcommands(
    bot: SlackBot, fake_slack: FakeSlack, requests: SlackRequests
) -> None:
    listing = await say(bot, fake_slack, requests, "help")
    for name in ("watch", "subscribe", "subscriptions", "unsubscribe", "notify"):
        assert name in listing
    page = await say(bot, fake_slack, requests, "help subscribe")
    assert "status=failures" in page
