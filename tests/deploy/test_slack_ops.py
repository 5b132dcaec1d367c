"""The Slack app as the chart probes it, on the real HTTP server: while
JARVICE does not answer, /ready fails (the pod leaves the Service) and
/health does not (the pod is not restarted). The happy path is in
tests/slack/test_slack_http.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from jarvice_tools.sandbox import SandboxServer
from slack_bot.settings import SlackSettings
from slack_bot.testing import FakeSlack
from slack_bot.testing.server import ServedBot


@pytest.fixture
def served(
    fake_slack: FakeSlack, sandbox: SandboxServer, tmp_path: Path
) -> Iterator[ServedBot]:
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-deploy-test",
            "SLACK_SIGNING_SECRET": "deploy-test-secret",
            "SLACK_API_URL": fake_slack.api_url,
            "JARVICE_API_URL": sandbox.url,
            "JARVICE_TOOLS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'slack.sqlite3'}",
        }
    )
    with ServedBot(settings) as bot:
        yield bot


def test_ready_fails_while_jarvice_does_not_answer(
    served: ServedBot, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("ready", status=503, times=1)
    ready = httpx.get(f"{served.url}/ready", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"jarvice": False, "database": True}
    assert httpx.get(f"{served.url}/health", timeout=10).status_code == 200
