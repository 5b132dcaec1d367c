"""Confirm cards: nothing destructive before the asker's own click."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from jarvice_tools.client import JarviceClient
from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.settings import Caller, Credentials
from slack_bot.bot import SlackBot
from slack_bot.confirm import CANCEL_ACTION_ID, CONFIRM_ACTION_ID
from slack_bot.store import utcnow
from slack_bot.store.schema import pending_confirmations
from slack_bot.testing import FakeSlack, SlackRequests
from tests.slack.slack_helpers import (
    ALICE,
    BOB,
    BotFactory,
    dispatch,
    jarvice_paths,
    link,
    settle,
)

pytestmark = pytest.mark.anyio


async def _running_job(sandbox: SandboxServer) -> int:
    account = sandbox.account("alice")
    caller = Caller(credentials=Credentials(username="alice", apikey=account.apikey))
    async with JarviceClient(sandbox.url, caller=caller) as client:
        job = await client.batch(
            {
                "container": {"image": "library/ubuntu:jammy", "jobscript": "sleep 1"},
                "machine": {"type": "n3", "nodes": 2},
            }
        )
    sandbox.set_status(job.number, "PROCESSING STARTING")
    sandbox.clear_requests()
    return job.number


async def _card(
    bot: SlackBot, fake: FakeSlack, requests: SlackRequests, text: str
) -> tuple[str, dict[str, Any]]:
    """Ask for a confirm action as Alice; the card id and the card."""
    request = requests.command(text, user=ALICE)
    assert (await dispatch(bot, request)).status == 200
    card = (await fake.wait_async(lambda: fake.responses(request.response_name)))[0]
    buttons = next(b for b in card["blocks"] if b["type"] == "actions")["elements"]
    ids = {button["action_id"]: button["value"] for button in buttons}
    assert ids[CONFIRM_ACTION_ID] == ids[CANCEL_ACTION_ID]
    return ids[CONFIRM_ACTION_ID], card


async def _click(
    bot: SlackBot,
    fake: FakeSlack,
    requests: SlackRequests,
    action_id: str,
    card_id: str,
    user: str,
) -> dict[str, Any]:
    request = requests.click(action_id, card_id, user=user)
    assert (await dispatch(bot, request)).status == 200
    answers = await fake.wait_async(lambda: fake.responses(request.response_name))
    await settle()
    return dict(answers[0])


async def test_terminate_shows_a_card_and_sends_nothing_but_reads(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    number = await _running_job(sandbox)

    _, card = await _card(bot, fake_slack, requests, f"terminate {number}")

    shown = card["text"] + json.dumps(card["blocks"])
    assert f"Terminate job {number}" in shown
    assert "PROCESSING STARTING" in shown
    assert "n3 x 2" in shown
    assert "unsaved work is lost" in shown
    assert set(jarvice_paths(sandbox)) <= {"status", "jobs"}
    assert sandbox.job(number).status == "PROCESSING STARTING"


async def test_the_askers_click_terminates_once_and_a_second_click_does_nothing(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    number = await _running_job(sandbox)
    card_id, _ = await _card(bot, fake_slack, requests, f"terminate {number}")

    first = await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)
    second = await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)

    assert first["replace_original"] is True
    assert f"<@{ALICE}> confirmed terminate of job {number}" in first["text"]
    assert "second click does nothing" in second["text"]
    assert jarvice_paths(sandbox).count("terminate") == 1
    sent = next(r for r in sandbox.requests if r.endpoint == "terminate")
    assert sent.username == "alice"
    assert sandbox.job(number).status == "TERMINATED"
    clicks = [e for e in await bot.store.audit.recent() if e.kind == "click"]
    assert [e.outcome for e in clicks] == ["already-decided", "confirmed"]


async def test_a_killing_signal_needs_the_card_and_suspend_does_not(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    number = await _running_job(sandbox)

    card_id, card = await _card(bot, fake_slack, requests, f"signal {number} signal=9")
    assert "signal" not in jarvice_paths(sandbox)
    suspend = requests.command(f"signal {number}", user=ALICE)
    assert (await dispatch(bot, suspend)).status == 200
    await fake_slack.wait_async(lambda: fake_slack.responses(suspend.response_name))
    await settle()
    assert jarvice_paths(sandbox).count("signal") == 1
    await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)

    assert "SIGKILL" in card["text"] + json.dumps(card["blocks"])
    sent = [r.params.get("signal") for r in sandbox.requests if r.endpoint == "signal"]
    assert sent == ["20", "9"]


async def test_another_users_click_is_refused_and_nothing_is_sent(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    await link(bot, sandbox, BOB, "bob")
    number = await _running_job(sandbox)
    card_id, _ = await _card(bot, fake_slack, requests, f"terminate {number}")

    for action_id in (CONFIRM_ACTION_ID, CANCEL_ACTION_ID):
        answer = await _click(bot, fake_slack, requests, action_id, card_id, BOB)
        assert f"Only <@{ALICE}>" in answer["text"]
        assert not answer.get("replace_original")

    assert "terminate" not in jarvice_paths(sandbox)
    assert sandbox.job(number).status == "PROCESSING STARTING"
    mine = await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)
    assert "confirmed" in mine["text"]


async def test_cancel_sends_nothing_and_the_card_cannot_be_confirmed_after(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    number = await _running_job(sandbox)
    card_id, _ = await _card(bot, fake_slack, requests, f"shutdown {number}")

    cancel = await _click(bot, fake_slack, requests, CANCEL_ACTION_ID, card_id, ALICE)
    late = await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)

    assert f"shutdown of job {number} was not sent" in cancel["text"]
    assert "already confirmed or cancelled" in late["text"]
    assert "shutdown" not in jarvice_paths(sandbox)


async def test_an_expired_card_does_nothing(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    number = await _running_job(sandbox)
    card_id, _ = await _card(bot, fake_slack, requests, f"terminate {number}")
    async with bot.store.engine.begin() as connection:
        await connection.execute(
            sa.update(pending_confirmations).values(
                expires_at=utcnow() - dt.timedelta(seconds=1)
            )
        )

    answer = await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)

    assert "expired" in answer["text"]
    assert "terminate" not in jarvice_paths(sandbox)


async def test_a_user_who_relinked_as_someone_else_cannot_confirm(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    number = await _running_job(sandbox)
    card_id, _ = await _card(bot, fake_slack, requests, f"terminate {number}")
    await link(bot, sandbox, ALICE, "bob")

    answer = await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)

    assert "different JARVICE user" in answer["text"]
    assert "terminate" not in jarvice_paths(sandbox)


async def test_a_user_who_logged_out_is_told_to_log_in_again(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    alice_job: int,
) -> None:
    card_id, _ = await _card(bot, fake_slack, requests, f"terminate {alice_job}")
    await bot.store.links.remove(ALICE)

    answer = await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)

    assert "no longer linked to JARVICE" in answer["text"]
    assert "/jarvice login" in answer["text"]
    assert "different JARVICE user" not in answer["text"]
    assert "terminate" not in jarvice_paths(sandbox)


async def test_a_click_landing_on_another_replica_works_once(
    make_bot: BotFactory,
    database_url: str,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    first = await make_bot(database_url)
    second = await make_bot(database_url)
    await link(first, sandbox, ALICE, "alice")
    number = await _running_job(sandbox)
    card_id, _ = await _card(first, fake_slack, requests, f"terminate {number}")

    there = await _click(
        second, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE
    )
    back = await _click(first, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)

    assert "confirmed terminate" in there["text"]
    assert "second click does nothing" in back["text"]
    assert jarvice_paths(sandbox).count("terminate") == 1


async def test_build_asks_with_the_image_history(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")

    card_id, card = await _card(bot, fake_slack, requests, "build alice-myapp")

    assert "Build a new image for alice-myapp" in card["text"]
    assert jarvice_paths(sandbox) == ["history"]
    answer = await _click(bot, fake_slack, requests, CONFIRM_ACTION_ID, card_id, ALICE)
    assert "confirmed build of alice-myapp" in answer["text"]
    assert jarvice_paths(sandbox) == ["history", "build"]
