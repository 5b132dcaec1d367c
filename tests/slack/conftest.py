"""Fixtures for the Slack app's tests: a bot on a fake Slack and the sandbox.

`make_bot()` builds the real app (Bolt AsyncApp, store, JARVICE client)
talking to the `fake_slack` Web API and the `sandbox` as JARVICE; requests
go through `app.async_dispatch` with real signatures (`requests`), or
through uvicorn in `tests/slack/test_slack_http.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from jarvice_tools.client import JarviceClient, RetryPolicy
from jarvice_tools.sandbox import SandboxServer
from slack_bot.app import create_bot
from slack_bot.bot import JobSubmitted, SlackBot
from slack_bot.settings import SlackSettings
from slack_bot.store import Store
from slack_bot.testing import FakeSlack, SlackRequests
from tests.slack.slack_helpers import (
    ADMIN,
    ALICE,
    SECRET,
    BotFactory,
    link,
    running_job,
    settle,
)


@pytest.fixture
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def slack_database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'slack.sqlite3'}"


@pytest.fixture
def settings(
    fake_slack: FakeSlack,
    sandbox: SandboxServer,
    encryption_key: str,
    slack_database: str,
) -> SlackSettings:
    return SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake_slack.api_url,
            "SLACK_ADMIN_USERS": ADMIN,
            "JARVICE_API_URL": sandbox.url,
            "JARVICE_TOOLS_ENCRYPTION_KEY": encryption_key,
            "DATABASE_URL": slack_database,
        }
    )


@pytest.fixture
def requests(fake_slack: FakeSlack) -> SlackRequests:
    return SlackRequests(SECRET, responses=fake_slack)


@pytest.fixture
async def make_bot(settings: SlackSettings) -> AsyncIterator[BotFactory]:
    """Builds bots (replicas) on the same database; all closed at the end."""
    opened: list[tuple[Store, JarviceClient]] = []

    async def build(database_url: str | None = None, **options: Any) -> SlackBot:
        store = await Store.open(
            database_url or settings.database_url, keys=settings.key_box()
        )
        jarvice = JarviceClient(
            settings.jarvice_api_url,
            timeout=10,
            retry=RetryPolicy(attempts=2, base=0.01, cap=0.05),
        )
        opened.append((store, jarvice))
        options.setdefault("extensions", ())
        return create_bot(settings, store=store, jarvice=jarvice, **options)

    yield build
    await settle()
    for store, jarvice in opened:
        await jarvice.aclose()
        await store.close()


@pytest.fixture
async def bot(make_bot: BotFactory) -> SlackBot:
    return await make_bot()


@pytest.fixture
async def alice(bot: SlackBot, sandbox: SandboxServer) -> str:
    """Alice (ALICE) linked to the sandbox's alice: her API key."""
    return await link(bot, sandbox, ALICE, "alice")


@pytest.fixture
def alice_job(alice: str, sandbox: SandboxServer) -> int:
    """Alice linked, with a running job: its number."""
    return running_job(sandbox, "alice")


@pytest.fixture
def submitted(bot: SlackBot) -> list[JobSubmitted]:
    """Job-submitted events the bot announced."""
    events: list[JobSubmitted] = []

    async def remember(event: JobSubmitted) -> None:
        events.append(event)

    bot.on_job_submitted(remember)
    return events
