"""The API key never appears in a Slack message, a log line or a database
column in clear, whatever the user does (typing it into the login form's
username field included)."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from jarvice_tools.sandbox import SandboxServer
from slack_bot import forms
from slack_bot.bot import SlackBot
from slack_bot.confirm import CONFIRM_ACTION_ID
from slack_bot.forms import LOGIN_CALLBACK
from slack_bot.store.schema import metadata
from slack_bot.testing import FakeSlack, SlackRequests, typed
from tests.slack.slack_helpers import ADMIN, ALICE, dispatch, running_job, settle

pytestmark = pytest.mark.anyio


async def test_the_api_key_is_never_in_messages_logs_or_columns(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = sandbox.account("alice").apikey
    admin_key = sandbox.account("admin").apikey
    number = running_job(sandbox, "alice")

    acks: list[str] = []

    async def command(text: str, user: str = ALICE) -> None:
        acks.append((await dispatch(bot, requests.command(text, user=user))).body)
        await settle()

    async def login(user: str, name: str, apikey: str) -> None:
        response = await dispatch(
            bot,
            requests.submission(
                LOGIN_CALLBACK,
                {"username": typed(name), "apikey": typed(apikey)},
                user=user,
                private_metadata=json.dumps(
                    {"response_url": fake_slack.response_url()}
                ),
            ),
        )
        acks.append(response.body)
        await settle()

    await command(f"login alice {key}")
    await login(ALICE, key, "alice")
    monkeypatch.setattr(forms, "ANSWER_BUDGET", 0.05)
    sandbox.inject_fault("jobs", delay=1)
    await login(ALICE, key, "alice's key")
    monkeypatch.undo()
    await login(ALICE, "alice", key[:-1] + "0")
    await login(ALICE, "alice", key)
    await login(ADMIN, "admin", admin_key)
    await command(f"status {number}")
    await command(f"tail {number} lines=5")
    await command(f"status apikey={key}")
    await command(f"status {number} {key}")
    await command(key)
    await command(f"connect {number}")
    sandbox.inject_fault("jobs", status=500, body=f'{{"error": "bad key {key}"}}')
    await command("jobs")
    await command(f"terminate {number}")
    card = fake_slack.responses()[-1]
    card_id = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]
    await dispatch(bot, requests.click(CONFIRM_ACTION_ID, card_id["value"], user=ALICE))
    await settle()
    await command("billing timeperiod=last", user=ADMIN)
    await command("audit-log limit=100", user=ADMIN)
    await command("logout")

    assert len(acks) > 10
    for body in acks:
        assert key not in body
    assert len(fake_slack.calls()) > 10
    for call in fake_slack.calls():
        assert key not in call.raw.decode(errors="replace"), call.method
        assert key not in json.dumps(call.body), call.method
        assert admin_key not in call.raw.decode(errors="replace"), call.method

    assert len(caplog.records) > 10
    for record in caplog.records:
        if record.name.startswith("jarvice_tools.sandbox"):
            continue  # JARVICE's own log, not this app's
        assert key not in record.getMessage(), record.name
        assert admin_key not in record.getMessage(), record.name

    async with bot.store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = (await connection.execute(sa.select(table))).all()
            for row in rows:
                for value in row:
                    assert key not in str(value), table.name
                    assert admin_key not in str(value), table.name
    audited = await bot.store.audit.recent(limit=100)
    assert {"login", "status", "terminate", "billing"} <= {e.action for e in audited}
    logins = [(e.kind, e.arguments, e.outcome) for e in audited if e.action == "login"]
    assert sorted(logins) == [
        ("command", "(2 more words)", "form-opened"),
        ("view", "username=(unverified)", "refused"),
        ("view", "username=(unverified)", "refused"),
        ("view", "username=(unverified)", "refused"),
        ("view", "username=admin", "linked"),
        ("view", "username=alice", "linked"),
    ]
