"""The real HTTP path: uvicorn, Bolt's ASGI adapter, signature checks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jarvice_tools.sandbox import SandboxServer
from slack_bot.confirm import CONFIRM_ACTION_ID
from slack_bot.forms import LOGIN_CALLBACK
from slack_bot.settings import SlackSettings
from slack_bot.testing import FakeSlack, SignedRequest, SlackRequests, typed
from slack_bot.testing.server import ServedBot
from tests.slack.slack_helpers import ALICE, running_job

EVENTS = "/slack/events"


@pytest.fixture
def served(settings: SlackSettings) -> Iterator[ServedBot]:
    with ServedBot(settings) as app:
        yield app


def _post(served: ServedBot, request: SignedRequest) -> httpx.Response:
    return httpx.post(
        f"{served.url}{EVENTS}",
        content=request.body,
        headers=request.headers,
        timeout=10,
    )


def _link_alice(
    served: ServedBot, sandbox: SandboxServer, requests: SlackRequests, fake: FakeSlack
) -> None:
    """Link Alice through the login form, over HTTP."""
    key = sandbox.account("alice").apikey
    opened = _post(served, requests.command("login", user=ALICE))
    assert opened.status_code == 200
    view = fake.wait_for(lambda: fake.calls("views.open"))[0].body["view"]
    metadata = (json.loads(view) if isinstance(view, str) else view)["private_metadata"]
    submitted = _post(
        served,
        requests.submission(
            LOGIN_CALLBACK,
            {"username": typed("alice"), "apikey": typed(key)},
            user=ALICE,
            private_metadata=metadata,
        ),
    )
    assert submitted.status_code == 200
    fake.wait_for(lambda: any("Linked" in r["text"] for r in fake.responses()))


def test_a_signed_command_is_acked_and_answered_over_http(
    served: ServedBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    _link_alice(served, sandbox, requests, fake_slack)
    request = requests.command("jobs completed", user=ALICE)

    response = _post(served, request)

    assert response.status_code == 200
    answer = fake_slack.wait_for(lambda: fake_slack.responses(request.response_name))
    assert "completed jobs" in answer[0]["text"]
    assert fake_slack.calls("auth.test")[0].authorization == "Bearer xoxb-test-token"


def test_a_click_goes_through_the_http_adapter(
    served: ServedBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    _link_alice(served, sandbox, requests, fake_slack)
    number = running_job(sandbox, "alice")
    ask = requests.command(f"terminate {number}", user=ALICE)
    _post(served, ask)
    card = fake_slack.wait_for(lambda: fake_slack.responses(ask.response_name))[0]
    card_id = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0][
        "value"
    ]

    click = requests.click(CONFIRM_ACTION_ID, card_id, user=ALICE)
    assert _post(served, click).status_code == 200

    answer = fake_slack.wait_for(lambda: fake_slack.responses(click.response_name))
    assert "confirmed terminate" in answer[0]["text"]


@pytest.mark.parametrize(
    "variant", ["unsigned", "wrong secret", "stale", "from the future"]
)
def test_badly_signed_requests_are_refused_and_nothing_runs(
    served: ServedBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    variant: str,
) -> None:
    now = int(time.time())
    request = {
        "unsigned": lambda: requests.command("jobs", user=ALICE, signed=False),
        "wrong secret": lambda: requests.command("jobs", user=ALICE, secret="nope"),
        "stale": lambda: requests.command("jobs", user=ALICE, timestamp=now - 400),
        "from the future": lambda: requests.command(
            "jobs", user=ALICE, timestamp=now + 400
        ),
    }[variant]()

    response = _post(served, request)

    assert response.status_code == 401
    assert fake_slack.calls() == []
    assert sandbox.requests == []


def test_a_replayed_request_is_refused(
    served: ServedBot, fake_slack: FakeSlack, requests: SlackRequests
) -> None:
    request = requests.command("help", user=ALICE)

    first = _post(served, request)
    again = _post(served, request)

    assert first.status_code == 200
    assert again.status_code == 401
    assert "replayed" in again.text


def test_a_body_changed_after_signing_is_refused(
    served: ServedBot, requests: SlackRequests
) -> None:
    request = requests.command("help", user=ALICE)
    tampered = SignedRequest(
        body=request.body.replace("help", "jobs"), headers=request.headers
    )
    assert _post(served, tampered).status_code == 401


def test_operations_routes_answer(served: ServedBot, sandbox: SandboxServer) -> None:
    assert httpx.get(f"{served.url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{served.url}/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"jarvice": True, "database": True}
    assert "jarvice_api_request" in httpx.get(f"{served.url}/metrics").text
    assert httpx.get(f"{served.url}/other").status_code == 404
    assert httpx.get(f"{served.url}/slack/events").status_code == 404


def test_the_key_typed_into_the_login_form_is_stored_encrypted(
    served: ServedBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    slack_database: str,
) -> None:
    _link_alice(served, sandbox, requests, fake_slack)
    key = sandbox.account("alice").apikey.encode()
    database = Path(slack_database.removeprefix("sqlite:///"))
    files = list(database.parent.glob(f"{database.name}*"))
    assert database in files
    for path in files:
        assert key not in path.read_bytes()
